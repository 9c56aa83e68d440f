"""What the change-data-capture tier hands the tiers that read database changes (the lake, Flink, the warehouse).

Tiers never import each other: `Platform` passes this typed output from the CDC tier to the
others, each of which builds its own part from it (the lake its Firehose and Glue tables, the
streaming tier its entity views, the warehouse its `dim_<entity>` models).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi_aws as aws

from sql.changes import ChangeTable


@dataclass(frozen=True)
class ChangesFeed:
    stream: aws.kinesis.Stream
    """The KMS-encrypted Kinesis `changes` stream DMS writes every change to."""
    tables: Sequence[ChangeTable]
    """The replicated tables, with their columns and keys (the stack's `uba:cdc.tables`)."""
    processor_config: str
    """The change processor's table list (`CHANGE_TABLES`)."""
    enrichment_ttl_seconds: int
    """How long the Flink job keeps an entity neither changed nor named by an event."""
    processor_tracing: bool = False
    """X-Ray tracing of the change processor Lambda."""

    def table_for(self, event_column: str) -> ChangeTable | None:
        """The replicated table an event column (`object_id`, `biz_id`) names a row of, if any."""
        return next((t for t in self.tables if t.event_column == event_column), None)
