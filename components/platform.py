"""The top-level component: builds the core and every tier the stack switches on, and wires them."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import StackContext
from components.core import Core, CoreArgs
from components.flink_app import flink_application_code
from components.ingest import Ingest, IngestArgs
from components.stream import Streaming, StreamingArgs
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
            self.ingest = Ingest("ingest", IngestArgs(settings=settings.ingest, context=self.context), opts=child)
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

        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Input[str]]:
        """What the stack exports: the handles an operator or a CI job needs."""
        outputs: dict[str, pulumi.Input[str]] = {
            "kms_key_arn": self.core.key_arn,
            "ops_topic_arn": self.core.ops_topic_arn,
        }
        if self.ingest is not None:
            outputs["events_stream_name"] = self.ingest.events_stream.name
        if self.streaming is not None:
            outputs["alerts_stream_name"] = self.streaming.alerts_stream.name
            outputs["realtime_table_name"] = self.streaming.results_table.name
            outputs["business_alerts_topic_arn"] = self.streaming.business_topic.arn
        return outputs
