"""The lake tier: the events stream through Firehose into Parquet in S3, catalogued by Glue, queried by Athena."""

from components.lake.tier import Lake, LakeArgs

__all__ = ["Lake", "LakeArgs"]
