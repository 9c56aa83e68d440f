"""The lake tier: events stream -> Firehose -> Parquet in S3 -> Glue catalog -> Athena.

    Kinesis `events` ──Firehose (JQ partition keys, Parquet against Glue)──▶ s3://<lake>/events/year=…/hour=…/
                                                            failures ──▶ s3://<lake>/errors/<type>/…
    Glue `<prefix>_lake.events` (columns from the event contract, partition projection)
    Glue `events_by_arrival`, its partitions registered by a Lambda on every new object (Spectrum)
    Athena workgroups, one per querying persona (op `<prefix>-analytics`, `<prefix>-analytics-dev`,
        `-bizuser`): enforced results location `results/<persona>/`, SSE-KMS, scan limit, and
        every `sql/athena/<name>.sql` as prepared statement `<name>` in each

Split by concern: `storage` (buckets and lifecycle), `catalog` (Glue), `analytics` (the Athena workgroups),
`delivery` (Firehose, its role, logs and alarms), `partitions` (the partition registrar),
`schema` (the contract-derived columns, pure functions); the layout itself is `sql.lake`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.lake.analytics import persona_workgroups
from components.lake.catalog import arrival_table, events_table, glue_database, spectrum_table
from components.lake.changes import ChangesInLake, ChangesTargets, changes_delivery
from components.lake.delivery import DeliveryTargets, events_delivery
from components.lake.partitions import partition_registrar
from components.lake.storage import lake_buckets
from components.shared.buckets import SecureBucket
from components.shared.changes import ChangesFeed
from components.shared.context import StackContext
from components.shared.dashboard import Widget
from components.shared.functions import PythonFunction
from lambdas.changes import METRICS_NAMESPACE
from settings import LakeSettings, Persona


@dataclass(frozen=True)
class LakeArgs:
    settings: LakeSettings
    context: StackContext
    events_stream: aws.kinesis.Stream
    powertools_version: str
    changes: ChangesFeed | None = None
    """Replicated tables' changes (from the CDC tier): delivered to `changes/` and catalogued per table."""


class Lake(pulumi.ComponentResource):
    """Raw events as partitioned Parquet, queryable by Athena; the warehouse reads the same files."""

    lake_bucket: SecureBucket
    results_bucket: SecureBucket
    log_bucket: SecureBucket
    glue_database: aws.glue.CatalogDatabase
    events_table: aws.glue.CatalogTable
    spectrum_table: aws.glue.CatalogTable
    arrival_table: aws.glue.CatalogTable
    partition_registrar: PythonFunction
    workgroups: dict[Persona, aws.athena.Workgroup]  # op, dev, bizUser
    prepared_statements: dict[Persona, dict[str, aws.athena.PreparedStatement]]
    delivery_stream: aws.kinesis.FirehoseDeliveryStream
    firehose_role: aws.iam.Role
    alarms: list[aws.cloudwatch.MetricAlarm]
    changes: ChangesInLake | None = None  # with CDC on

    def __init__(self, name: str, args: LakeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:lake:Lake", name, None, opts)
        settings, context = args.settings, args.context

        buckets = lake_buckets(self, context, settings, keeps_changes=args.changes is not None)
        self.lake_bucket, self.results_bucket, self.log_bucket = buckets.lake, buckets.results, buckets.logs

        self.glue_database = glue_database(self, context)
        self.events_table = events_table(self, context, self.glue_database, self.lake_bucket.name)
        self.spectrum_table = spectrum_table(self, context, self.glue_database, self.lake_bucket.name)
        self.arrival_table = arrival_table(self, context, self.glue_database, self.lake_bucket.name)
        registrar = partition_registrar(
            self, context, args.powertools_version, self.lake_bucket, self.glue_database, self.arrival_table
        )
        self.partition_registrar = registrar.function
        self.workgroups, self.prepared_statements = persona_workgroups(
            self, context, self.results_bucket.name, settings.athena_bytes_scanned_cutoff
        )

        delivery = events_delivery(
            self,
            context,
            settings,
            DeliveryTargets(
                events_stream=args.events_stream,
                lake_bucket_arn=self.lake_bucket.arn,
                database=self.glue_database,
                table=self.events_table,
            ),
        )
        self.delivery_stream = delivery.stream
        self.firehose_role = delivery.role
        self.alarms = [*delivery.alarms, *registrar.alarms]
        if args.changes is not None:
            self.changes = changes_delivery(
                self,
                context,
                settings,
                ChangesTargets(args.changes, self.lake_bucket.arn, self.lake_bucket.name, self.glue_database),
                args.powertools_version,
            )
            self.alarms += self.changes.alarms

        self.register_outputs(
            {
                "lake_bucket": self.lake_bucket.name,
                "results_bucket": self.results_bucket.name,
                "log_bucket": self.log_bucket.name,
                "glue_database": self.glue_database.name,
                "events_table": self.events_table.name,
                "workgroups": {persona: workgroup.name for persona, workgroup in self.workgroups.items()},
                "delivery_stream": self.delivery_stream.name,
            }
        )

    # --- the tier contract -------------------------------------------------------------------------------

    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        return {
            "lake_bucket_name": self.lake_bucket.name,
            "athena_workgroup_name": self.workgroups["op"].name,  # the name it has always had
            "athena_workgroup_dev_name": self.workgroups["dev"].name,
            "athena_workgroup_bizuser_name": self.workgroups["bizUser"].name,
            "glue_database_name": self.glue_database.name,
        }

    def dashboard_widgets(self) -> Sequence[Widget]:
        delivery = ["DeliveryStreamName", self.delivery_stream.name]
        return [*self._event_widgets(delivery), *self._change_widgets()]

    def _change_widgets(self) -> list[Widget]:
        if self.changes is None:
            return []
        delivery = ["DeliveryStreamName", self.changes.delivery_stream.name]
        return [
            Widget("Firehose changes: freshness (max, s)",
                   [["AWS/Firehose", "DeliveryToS3.DataFreshness", *delivery]], "Maximum"),
            Widget("Firehose changes: delivered, refused and unconverted",
                   [["AWS/Firehose", m, *delivery] for m in ("DeliveryToS3.Records", "FailedConversion.Records")]
                   + [[METRICS_NAMESPACE, m, "FunctionName", self.changes.processor.function_name]
                      for m in ("RecordsRejected", "UnmappedColumns")]),
        ]  # fmt: skip

    def _event_widgets(self, delivery: list[Any]) -> list[Widget]:
        return [
            Widget("Firehose: freshness (max, s)", [["AWS/Firehose", "DeliveryToS3.DataFreshness", *delivery]],
                   "Maximum"),
            Widget("Firehose: delivered and failed conversions",
                   [["AWS/Firehose", m, *delivery]
                    for m in ("DeliveryToS3.Records", "SucceedConversion.Records", "FailedConversion.Records")]),
            Widget("Athena: bytes scanned",
                   [["AWS/Athena", "ProcessedBytes", "WorkGroup", workgroup.name]
                    for workgroup in self.workgroups.values()]),
        ]  # fmt: skip

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        return {
            "lake_bucket_arn": self.lake_bucket.arn,
            "results_bucket_arn": self.results_bucket.arn,
            "log_bucket_arn": self.log_bucket.arn,
            "glue_database_name": self.glue_database.name,
            "athena_workgroup_arn": self.workgroups["op"].arn,
            "athena_dev_workgroup_arn": self.workgroups["dev"].arn,
            "athena_bizuser_workgroup_arn": self.workgroups["bizUser"].arn,
            "delivery_stream_arn": self.delivery_stream.arn,
            **self._change_targets(),
        }

    def _change_targets(self) -> dict[str, pulumi.Input[str]]:
        if self.changes is None:
            return {}
        return {
            "changes_delivery_stream_arn": self.changes.delivery_stream.arn,
            "change_processor_arn": self.changes.processor.arn,
        }
