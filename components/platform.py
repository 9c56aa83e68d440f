"""The top-level component: builds the core and every tier the stack switches on, in data-path order.

Each tier receives its slice of settings, the shared `StackContext` and the typed
outputs of the tiers it reads from; what it exports, shows on the dashboard and is
granted on, it declares itself (`components.shared.tier.Tier`). This file only wires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pulumi
import pulumi_aws as aws

from components.access import Access, AccessArgs, AccessTargets
from components.bi import Bi, BiArgs, LakeSource, WarehouseNetwork, WarehouseSource
from components.cdc import Cdc, CdcArgs
from components.core import Core, CoreArgs
from components.cost import Cost, CostArgs, ops_topic_publishers
from components.edge import Edge, EdgeArgs
from components.ingest import Ingest, IngestArgs
from components.lake import Lake, LakeArgs
from components.live import Live, LiveArgs
from components.observability import Observability, ObservabilityArgs
from components.search import Search, SearchArgs, SearchVpc
from components.shared.context import StackContext
from components.shared.dashboard import Widget
from components.shared.tier import Tier, merge_declarations
from components.streaming import Streaming, StreamingArgs
from components.warehouse import Warehouse, WarehouseArgs
from components.warehouse.network import REDSHIFT_PORT
from settings import PERSONAS, Settings


@dataclass(frozen=True)
class PlatformArgs:
    settings: Settings
    flink_code: pulumi.Archive | None = None
    """The packaged Flink application (`components.streaming.flink_code_archive`); required with streaming on."""
    jwt_layer: Path | None = None
    """The built JWT layer of the live tier's WebSocket authorizer (`layers.build`); required with live on."""

    def __post_init__(self) -> None:
        if self.settings.streaming.enabled and self.flink_code is None:
            raise ValueError(
                "streaming is on, but PlatformArgs.flink_code is empty: pass the packaged Flink application"
            )
        if self.settings.live.enabled and self.jwt_layer is None:
            raise ValueError("live is on, but PlatformArgs.jwt_layer is empty: pass the built JWT layer")


class Platform(pulumi.ComponentResource):
    """One environment of the analytics platform."""

    context: StackContext
    core: Core
    ingest: Ingest | None = None
    edge: Edge | None = None
    cdc: Cdc | None = None
    streaming: Streaming | None = None
    lake: Lake | None = None
    warehouse: Warehouse | None = None
    bi: Bi | None = None
    observability: Observability | None = None
    cost: Cost | None = None
    access: Access | None = None
    search: Search | None = None
    live: Live | None = None

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:platform:Platform", name, None, opts)
        settings = args.settings
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self.tiers: dict[str, Tier] = {}

        publishers = ops_topic_publishers(settings.cost)  # the services the cost tier makes publish to the ops topic
        self.core = self._tier(Core, "core", CoreArgs(settings.platform, settings.region, account_id, publishers))
        self.context = context = StackContext(
            prefix=settings.platform.prefix,
            region=settings.region,
            account_id=account_id,
            protect_stateful=settings.platform.protect_stateful,
            log_retention_days=settings.platform.log_retention_days,
            kms_key_arn=self.core.key_arn,
            ops_topic_arn=self.core.ops_topic_arn,
        )
        powertools = settings.platform.powertools_version

        # One line of wiring per tier, in data-path order. Settings refuse a tier whose upstream
        # tier is off, so `_upstream` always finds it.
        if settings.ingest.enabled:
            self.ingest = self._tier(Ingest, "ingest", IngestArgs(settings.ingest, context, powertools))
        if settings.edge.enabled:
            ingest, platform = _upstream(self.ingest, "ingest"), settings.platform
            self.edge = self._tier(Edge, "edge", EdgeArgs(
                settings.edge, context, powertools, ingest.events_stream, ingest.api.id, ingest.stage_name,
                platform.tags, platform.ops_alarm_emails, platform.kms_deletion_window_days,
            ))  # fmt: skip
        if settings.cdc.enabled:
            self.cdc = self._tier(Cdc, "cdc", CdcArgs(settings.cdc, context))
        # The database's changes, for the tiers that read them (None without CDC).
        changes = self.cdc.changes if self.cdc is not None else None
        if settings.streaming.enabled:
            events = _upstream(self.ingest, "ingest").events_stream
            flink_code = _given(args.flink_code)
            search_feed = settings.search.feed.stream if settings.search.enabled else None
            self.streaming = self._tier(
                Streaming,
                "streaming",
                StreamingArgs(
                    settings.streaming,
                    context,
                    powertools,
                    events,
                    flink_code,
                    changes=changes,
                    search_feed=search_feed,
                ),
            )
        if settings.lake.enabled:
            events = _upstream(self.ingest, "ingest").events_stream
            self.lake = self._tier(Lake, "lake", LakeArgs(settings.lake, context, events, powertools, changes))
        if settings.warehouse.enabled:
            lake = _upstream(self.lake, "lake")
            self.warehouse = self._tier(
                Warehouse,
                "warehouse",
                WarehouseArgs(settings.warehouse, context, lake.lake_bucket.arn, lake.glue_database.name, changes),
            )
        if settings.search.enabled:
            self.search = self._tier(Search, "search", _search_args(settings, context, self.streaming, self.warehouse))
        if settings.live.enabled:
            streaming = _upstream(self.streaming, "streaming")
            self.live = self._tier(Live, "live", LiveArgs(
                settings.live, context, powertools, settings.access.staff, streaming.results_table,
                streaming.results_index_name, _given(args.jwt_layer), settings.platform.kms_deletion_window_days,
                self.edge.edge.web_acl.arn if self.edge and self.edge.edge.web_acl else None,
            ))  # fmt: skip
        if settings.bi.enabled:
            self.bi = self._tier(Bi, "bi", _bi_args(settings, context, _upstream(self.warehouse, "warehouse"),
                                                    _upstream(self.lake, "lake")))  # fmt: skip
        # After every tier with alarms and widgets: the dashboard shows all of them.
        if settings.observability.dashboard:
            widgets = self._widgets()
            self.observability = self._tier(Observability, "observability", ObservabilityArgs(context, widgets))
        if settings.cost.enabled:
            self.cost = self._tier(Cost, "cost", CostArgs(settings.cost, context, settings.platform.tags))
        # Last of all: the staff groups are granted on whatever the tiers above created.
        if settings.access.enabled:
            self.access = self._tier(Access, "access", AccessArgs(settings.access, context, self._access_targets()))
        self.register_outputs(self.outputs())

    def _tier(self, component: Callable[[str, _A, pulumi.ResourceOptions], _T], name: str, args: _A) -> _T:
        """Build one tier as a child of the platform, and remember it for the merged declarations."""
        tier = component(name, args, pulumi.ResourceOptions(parent=self))
        self.tiers[name] = tier
        return tier

    def _widgets(self) -> list[Widget]:
        return [widget for tier in self.tiers.values() for widget in tier.dashboard_widgets()]

    def _access_targets(self) -> AccessTargets[pulumi.Input[str]]:
        """The resources the staff groups are granted on; a switched-off tier contributes none."""
        # Any: the declared values fill the single-valued fields; the access tier adds the catalogues itself.
        declared: dict[str, Any] = merge_declarations(
            ((key, tier.access_targets()) for key, tier in self.tiers.items()), "access target"
        )
        return AccessTargets[pulumi.Input[str]](prefix=self.context.prefix, region=self.context.region, **declared)

    def outputs(self) -> Mapping[str, pulumi.Input[str]]:
        """What the stack exports: every tier's `stack_outputs()`."""
        return merge_declarations(((key, tier.stack_outputs()) for key, tier in self.tiers.items()), "stack output")


_T = TypeVar("_T", bound=Tier)
_A = TypeVar("_A")
_Upstream = TypeVar("_Upstream")


def _upstream(tier: _Upstream | None, name: str) -> _Upstream:
    assert tier is not None, f"settings refuse a tier that reads the {name} tier while it is switched off"
    return tier


def _search_args(
    settings: Settings, context: StackContext, streaming: Streaming | None, warehouse: Warehouse | None
) -> SearchArgs:
    """The search tier reads the streaming tier's feed stream and, in the VPC, the warehouse's network."""
    feed = _upstream(streaming, "streaming").search_feed_stream
    assert feed is not None, "the streaming tier creates the search feed stream when search is on"
    vpc = None
    if settings.search.in_vpc:
        network = _upstream(warehouse, "warehouse")
        vpc = SearchVpc(network.vpc_id, network.subnet_ids)
    staff = settings.access.staff if settings.access.enabled else []
    by_group = {persona: [m.user for m in staff if persona in m.groups] for persona in PERSONAS}
    return SearchArgs(settings.search, context, settings.platform.powertools_version, feed, vpc, by_group)


def _bi_args(settings: Settings, context: StackContext, warehouse: Warehouse, lake: Lake) -> BiArgs:
    """What QuickSight reads: the warehouse (privately) and the lake, as those tiers built them."""
    refresh = settings.warehouse.refresh
    return BiArgs(
        settings=settings.bi,
        context=context,
        tags=settings.platform.tags,
        warehouse=WarehouseSource(
            host=warehouse.endpoint.apply(lambda endpoint: endpoint.rsplit(":", 1)[0]),
            port=REDSHIFT_PORT,
            database=warehouse.database_name,
            admin_secret_arn=warehouse.admin_secret_arn,
            cluster_identifier=warehouse.cluster_identifier,
        ),
        network=WarehouseNetwork(
            vpc_id=warehouse.vpc_id,
            subnet_ids=warehouse.subnet_ids,
            security_group_id=warehouse.security_group_id,
            port=REDSHIFT_PORT,
        ),
        lake=LakeSource(
            bucket_arn=lake.lake_bucket.arn,
            results_bucket_name=lake.results_bucket.name,
            results_bucket_arn=lake.results_bucket.arn,
            glue_database_name=lake.glue_database.name,
            bytes_scanned_cutoff=settings.lake.athena_bytes_scanned_cutoff,
        ),
        conversion_actions=(refresh.conversion_from_action, refresh.conversion_to_action),
    )


_Given = TypeVar("_Given")


def _given(built: _Given | None) -> _Given:
    assert built is not None, "PlatformArgs refuses a tier without its built artifact"
    return built
