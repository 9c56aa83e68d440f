"""Kinesis data streams, built the same way by every tier that owns one (events, alerts)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, stateful
from settings import StreamSettings


def kinesis_stream(
    parent: pulumi.Resource, context: StackContext, logical_name: str, settings: StreamSettings
) -> aws.kinesis.Stream:
    """A KMS-encrypted stream, on-demand or provisioned as the stack says, protected where data is kept."""
    provisioned = settings.mode == "provisioned"
    return aws.kinesis.Stream(
        logical_name,
        name=context.name(logical_name.removesuffix("-stream")),
        stream_mode_details=aws.kinesis.StreamStreamModeDetailsArgs(
            stream_mode="PROVISIONED" if provisioned else "ON_DEMAND"
        ),
        shard_count=settings.shard_count if provisioned else None,
        retention_period=settings.retention_hours,
        encryption_type="KMS",
        kms_key_id=context.kms_key_arn,
        # Shard-level metrics let alarms and the dashboard see hot shards, not only the average.
        shard_level_metrics=["IncomingRecords", "WriteProvisionedThroughputExceeded", "IteratorAgeMilliseconds"]
        if provisioned
        else None,
        opts=stateful(parent, context.protect_stateful),
    )
