"""The change-data-capture tier: a product database's tables, full load plus every change, into Kinesis `changes`.

    source database (RDS/Aurora MySQL or PostgreSQL, credentials in Secrets Manager)
        ──DMS Serverless (full load + CDC, private subnets, platform key)──▶ Kinesis `changes` (KMS)
            ├─▶ Firehose ─▶ lake changes/<schema>/<table>/day=…/ (the lake tier builds it)
            ├─▶ Flink: versioned entity tables, alerts enriched as of the event's time (the streaming tier)
            └─▶ warehouse dim_<entity> from the lake (the warehouse tier)

This tier owns the stream, DMS and its network (`network.py`, `replication.py`, the table
mappings in `mappings.py`), its alarms and the tier contract; it hands the other tiers a
`ChangesFeed` through `Platform`. Alarms: a DMS failure event for this replication (EventBridge,
category Failure), the replication's latency behind the source, and the age of the oldest unread
`changes` record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.cdc.network import dms_network
from components.cdc.replication import Replication, account_roles, build_replication, metric_dimension
from components.shared.alarms import AlarmSpec, metric_alarms
from components.shared.changes import ChangesFeed
from components.shared.context import StackContext, child
from components.shared.dashboard import Widget, stream_widgets
from components.shared.kinesis import kinesis_stream
from settings import CdcSettings
from sql.changes import change_tables

LATENCY_METRICS = ("CDCLatencySource", "CDCLatencyTarget")


@dataclass(frozen=True)
class CdcArgs:
    settings: CdcSettings
    context: StackContext


class Cdc(pulumi.ComponentResource):
    """DMS replication of the stack's source database into the `changes` stream."""

    changes_stream: aws.kinesis.Stream
    replication: Replication
    security_group: aws.ec2.SecurityGroup
    failure_rule: aws.cloudwatch.EventRule
    alarms: list[aws.cloudwatch.MetricAlarm]
    changes: ChangesFeed

    def __init__(self, name: str, args: CdcArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:cdc:Cdc", name, None, opts)
        settings, context = args.settings, args.context
        self.changes_stream = kinesis_stream(self, context, "changes-stream", settings.changes_stream)
        network = dms_network(self, context, settings)
        self.security_group = network.security_group
        roles = account_roles(self, settings)
        self.replication = build_replication(self, context, settings, self.changes_stream, network, roles)
        self.failure_rule = aws.cloudwatch.EventRule(
            "cdc-replication-failed",
            name=context.name("cdc-replication-failed"),
            description="DMS reported a failure of the stack's replication",
            event_pattern=pulumi.Output.json_dumps(
                {"source": ["aws.dms"], "resources": [self.replication.arn], "detail": {"category": ["Failure"]}}
            ),
            opts=child(self),
        )
        self._dimension = metric_dimension(context)
        self.alarms = metric_alarms(self, context, self._alarm_specs(settings))
        self.changes = ChangesFeed(
            stream=self.changes_stream,
            tables=tuple(change_tables(settings.tables)),
            processor_config=settings.processor_config(),
            enrichment_ttl_seconds=settings.enrichment_ttl_days * 86_400,
            processor_tracing=settings.processor_tracing,
        )
        self.register_outputs(
            {
                "changes_stream_name": self.changes_stream.name,
                "replication_config_arn": self.replication.arn,
                "dms_security_group_id": self.security_group.id,
            }
        )

    def _alarm_specs(self, settings: CdcSettings) -> list[AlarmSpec]:
        alarms = settings.alarms
        on_replication = {"ReplicationConfigId": self._dimension}
        return [
            AlarmSpec("cdc-replication-failed",
                      "DMS reported a failure of the replication (see `aws dms describe-replications` and its log "
                      "group dms-serverless-replication-*)",
                      "AWS/Events", "TriggeredRules", {"RuleName": self.failure_rule.name}, "Sum", period=300,
                      threshold=1, comparison="GreaterThanOrEqualToThreshold"),
            *(AlarmSpec(f"cdc-{metric.lower().removeprefix('cdc')}",
                        f"DMS lags more than {alarms.latency_seconds} s behind the source ({metric})",
                        "AWS/DMS", metric, on_replication, "Maximum", period=60, evaluation_periods=5,
                        threshold=alarms.latency_seconds, comparison="GreaterThanThreshold")
              for metric in LATENCY_METRICS),
            AlarmSpec("cdc-changes-iterator-age",
                      f"A reader of the changes stream is more than {alarms.iterator_age_ms} ms behind",
                      "AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", {"StreamName": self.changes_stream.name},
                      "Maximum", period=60, evaluation_periods=5, threshold=alarms.iterator_age_ms,
                      comparison="GreaterThanThreshold"),
        ]  # fmt: skip

    # --- the tier contract -------------------------------------------------------------------------------

    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        return {"changes_stream_name": self.changes_stream.name, "cdc_replication_arn": self.replication.arn}

    def dashboard_widgets(self) -> Sequence[Widget]:
        on_replication = ["ReplicationConfigId", self._dimension]
        return [
            Widget("DMS: latency behind the source (s)",
                   [["AWS/DMS", metric, *on_replication] for metric in LATENCY_METRICS], "Maximum"),
            Widget("DMS: changes in and rows loaded",
                   [["AWS/DMS", metric, *on_replication]
                    for metric in ("CDCIncomingChanges", "FullLoadThroughputRowsTarget")]),
            *stream_widgets("changes", self.changes_stream.name),
        ]  # fmt: skip

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        return {"changes_stream_arn": self.changes_stream.arn, "replication_config_arn": self.replication.arn}
