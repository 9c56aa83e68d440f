"""The change-data-capture tier: DMS Serverless from a source database into the Kinesis `changes` stream."""

from components.cdc.tier import Cdc, CdcArgs

__all__ = ["Cdc", "CdcArgs"]
