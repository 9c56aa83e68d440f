"""The top-level component: builds the core and every tier the stack switches on, and wires them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.access import Access, AccessArgs
from components.access_policies import AccessTargets
from components.base import PARTITION, StackContext
from components.core import Core, CoreArgs
from components.flink_app import flink_application_code
from components.ingest import Ingest, IngestArgs
from components.lake import Lake, LakeArgs
from components.observability import DashboardTargets, Observability, ObservabilityArgs
from components.stream import Streaming, StreamingArgs
from components.warehouse import Warehouse, WarehouseArgs
from settings import Settings


@dataclass(frozen=True)
class PlatformArgs:
    settings: Settings


class Platform(pulumi.ComponentResource):
    """One environment of the analytics platform.

    Tiers are built in data-path order; each receives its slice of settings, the
    shared `StackContext`, and the typed outputs of the tiers it reads from.
    """

    context: StackContext
    core: Core
    ingest: Ingest | None = None
    streaming: Streaming | None = None
    lake: Lake | None = None
    warehouse: Warehouse | None = None
    observability: Observability | None = None
    access: Access | None = None

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:platform:Platform", name, None, opts)
        settings = args.settings
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id

        self.core = Core(
            "core",
            CoreArgs(settings=settings.platform, region=settings.region, account_id=account_id),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.context = StackContext(
            prefix=settings.platform.prefix,
            region=settings.region,
            account_id=account_id,
            protect_stateful=settings.platform.protect_stateful,
            log_retention_days=settings.platform.log_retention_days,
            kms_key_arn=self.core.key_arn,
            ops_topic_arn=self.core.ops_topic_arn,
        )

        child = pulumi.ResourceOptions(parent=self)
        if settings.ingest.enabled:
            self.ingest = Ingest(
                "ingest",
                IngestArgs(
                    settings=settings.ingest,
                    context=self.context,
                    powertools_version=settings.platform.powertools_version,
                ),
                opts=child,
            )
        if settings.streaming.enabled:
            assert self.ingest is not None  # settings refuse streaming without ingest
            self.streaming = Streaming(
                "streaming",
                StreamingArgs(
                    settings=settings.streaming,
                    context=self.context,
                    powertools_version=settings.platform.powertools_version,
                    events_stream=self.ingest.events_stream,
                    flink_code=flink_application_code(),
                ),
                opts=child,
            )
        if settings.lake.enabled:
            # Settings refuse a lake without ingest, so the events stream exists here.
            assert self.ingest is not None
            self.lake = Lake(
                "lake",
                LakeArgs(settings=settings.lake, context=self.context, events_stream=self.ingest.events_stream),
                opts=child,
            )

        if settings.warehouse.enabled:
            # Settings refuse a warehouse without the lake it reads through Spectrum.
            assert self.lake is not None
            self.warehouse = Warehouse(
                "warehouse",
                WarehouseArgs(
                    settings=settings.warehouse,
                    context=self.context,
                    lake_bucket_arn=self.lake.lake_bucket.arn,
                    glue_database_name=self.lake.glue_database.name,
                ),
                opts=child,
            )

        # Last: the dashboard shows every alarm the tiers above created.
        if settings.observability.dashboard:
            self.observability = Observability(
                "observability", ObservabilityArgs(context=self.context, targets=self._dashboard_targets()), opts=child
            )
        # Last of all: the staff groups are granted on whatever the tiers above created.
        if settings.access.enabled:
            self.access = Access(
                "access",
                AccessArgs(settings=settings.access, context=self.context, targets=self._access_targets()),
                opts=child,
            )

        self.register_outputs(self.outputs())

    def _dashboard_targets(self) -> DashboardTargets:
        targets: dict[str, pulumi.Input[str] | None] = {}
        if self.ingest is not None:
            targets |= {
                "api_name": self.ingest.api_name,
                "api_stage": self.ingest.stage_name,
                "ingest_function": self.ingest.function.name,
                "events_stream": self.ingest.events_stream.name,
            }
        if self.streaming is not None:
            targets |= {
                "alerts_stream": self.streaming.alerts_stream.name,
                "flink_application": self.streaming.application.name,
                "sink_function": self.streaming.sink_function.name,
                "dead_letter_queue": self.streaming.dead_letter_queue.name,
            }
        if self.lake is not None:
            targets |= {"delivery_stream": self.lake.delivery_stream.name, "athena_workgroup": self.lake.workgroup.name}
        if self.warehouse is not None:
            targets |= {
                "warehouse_workgroup": self.warehouse.workgroup_name,
                "warehouse_cluster": self.warehouse.cluster_identifier,
            }
        return DashboardTargets(**targets)  # type: ignore[arg-type]

    def _access_targets(self) -> AccessTargets[pulumi.Input[str]]:
        """The resources the staff groups are granted on; a switched-off tier leaves its fields empty."""
        targets: dict[str, Any] = {
            "account_id": self.context.account_id,
            "kms_key_arn": self.core.key_arn,
            "ops_topic_arn": self.core.ops_topic_arn,
        }
        if self.observability is not None:
            dashboard = self.observability.dashboard
            targets["dashboard_arn"] = pulumi.Output.concat(
                f"arn:{PARTITION}:cloudwatch::", self.context.account_id, ":dashboard/", dashboard.dashboard_name
            )
        if self.ingest is not None:
            targets.update(
                events_stream_arn=self.ingest.events_stream.arn,
                ingest_function_arn=self.ingest.function.function.arn,
                api_id=self.ingest.api.id,
                api_stage=self.ingest.stage.stage_name,
                api_key_id=self.ingest.api_key.id if self.ingest.api_key is not None else None,
            )
        if self.streaming is not None:
            targets.update(
                alerts_stream_arn=self.streaming.alerts_stream.arn,
                results_table_arn=self.streaming.results_table.arn,
                business_topic_arn=self.streaming.business_topic.arn,
                dead_letter_queue_arn=self.streaming.dead_letter_queue.arn,
                sink_function_arn=self.streaming.sink_function.arn,
                flink_application_arn=self.streaming.application.arn,
            )
        if self.lake is not None:
            targets.update(
                lake_bucket_arn=self.lake.lake_bucket.arn,
                results_bucket_arn=self.lake.results_bucket.arn,
                log_bucket_arn=self.lake.log_bucket.arn,
                glue_database_name=self.lake.glue_database.name,
                athena_workgroup_arn=self.lake.workgroup.arn,
                delivery_stream_arn=self.lake.delivery_stream.arn,
            )
        if self.warehouse is not None:
            targets.update(
                warehouse_mode="serverless" if self.warehouse.workgroup_name is not None else "provisioned",
                warehouse_arn=self.warehouse.data_api_arn,
                warehouse_name=self.warehouse.name,
                warehouse_database=self.warehouse.database_name,
            )
        return AccessTargets[pulumi.Input[str]](prefix=self.context.prefix, region=self.context.region, **targets)

    def outputs(self) -> dict[str, pulumi.Input[str]]:
        """What the stack exports: the handles an operator or a CI job needs."""
        outputs: dict[str, pulumi.Input[str]] = {
            "kms_key_arn": self.core.key_arn,
            "ops_topic_arn": self.core.ops_topic_arn,
        }
        if self.observability is not None:
            outputs["ops_dashboard_name"] = self.observability.dashboard.dashboard_name
        if self.ingest is not None:
            outputs["events_stream_name"] = self.ingest.events_stream.name
            outputs["ingest_endpoint_url"] = self.ingest.endpoint_url
            if self.ingest.api_key is not None:
                outputs["ingest_api_key_id"] = self.ingest.api_key.id
        if self.streaming is not None:
            outputs["alerts_stream_name"] = self.streaming.alerts_stream.name
            outputs["realtime_table_name"] = self.streaming.results_table.name
            outputs["business_alerts_topic_arn"] = self.streaming.business_topic.arn
        if self.lake is not None:
            outputs["lake_bucket_name"] = self.lake.lake_bucket.name
            outputs["athena_workgroup_name"] = self.lake.workgroup.name
            outputs["glue_database_name"] = self.lake.glue_database.name
        if self.warehouse is not None:
            outputs["warehouse_endpoint"] = self.warehouse.endpoint
            outputs["warehouse_database"] = self.warehouse.database_name
        if self.access is not None:
            for persona, group in self.access.groups.items():
                outputs[f"group_{persona.lower()}"] = group.name
        return outputs
