"""The BI tier: QuickSight dashboards on the warehouse and the lake, defined in the repository.

    warehouse VPC ── QuickSight VPC connection ── Redshift data source (managed secret, TLS)
                                                      └── datasets on dwm_user_biz_daily, dws_biz_retention
    lake ── Athena workgroup <prefix>-analytics-bi ── Athena data source (own role)
                                                      └── dataset on sql/bi/lake_events_daily.sql
    every dataset: row-level security by bizId (rules from the stack's line groups), SPICE or direct query
    dashboard <prefix>-user-behaviour: the specification in sql/bi, rendered by definition.py
    QuickSight groups and users from uba:bi.people (readers, authors, line groups)

Split by concern: `network` (VPC connection), `sources` (data sources, the BI workgroup), `people`
(users, groups, RLS rules), `datasets`, `definition` (the dashboard definition, pure) and `dashboard`.

Before anything else the tier looks up `uba:bi.quicksight.admin` in QuickSight: an account without a
QuickSight subscription (or with the admin elsewhere) fails the preview with what to do, instead of
failing half-way through `pulumi up` (README, "BI: before the first `pulumi up`").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pulumi
import pulumi_aws as aws

from components.shared.alarms import AlarmSpec, metric_alarms
from components.shared.context import StackContext
from components.shared.dashboard import Widget
from settings.bi import BiSettings, QuickSightAccountSettings
from sql.bi import dashboard as dashboard_spec

from .datasets import refresh_schedule, rules_dataset, spec_dataset
from .network import WarehouseNetwork, vpc_connection
from .people import group_names, people, rule_rows
from .sources import LakeSource, WarehouseSource, bi_workgroup, lake_data_source, warehouse_data_source

ADMIN_ROLES: Final = ("ADMIN", "ADMIN_PRO")
PREREQUISITES: Final = 'README, "BI: before the first `pulumi up`"'


@dataclass(frozen=True)
class BiArgs:
    settings: BiSettings
    context: StackContext
    tags: Mapping[str, str]
    """The platform's tags, for the Cloud Control provider the dashboard is deployed with."""
    warehouse: WarehouseSource
    network: WarehouseNetwork
    lake: LakeSource
    conversion_actions: tuple[str, str]
    """The warehouse's conversion (from, to), as its refresh computes it."""


UserLookup = Callable[..., Any]


def check_subscription(
    account: QuickSightAccountSettings, region: str, lookup: UserLookup = aws.quicksight.get_quicksight_user
) -> None:
    """Look the QuickSight admin up: proof that the account is subscribed, in this identity region and namespace."""
    identity_region = account.identity_region or region
    where = f"namespace {account.namespace!r}, identity region {identity_region}"
    try:
        admin = lookup(user_name=account.admin, namespace=account.namespace, region=identity_region)
    except Exception as error:  # the invoke's failure is AWS's message: keep it, say what it means for us
        raise pulumi.RunError(
            f"uba:bi: cannot find the QuickSight admin {account.admin!r} ({where}): {error}. Either the account has "
            f"no QuickSight subscription (an administrator subscribes once per account, Enterprise edition), or "
            f"uba:bi.quicksight names another admin, namespace or identity region; run "
            f"`.venv/bin/python -m tools.bi check <stack>` and see {PREREQUISITES}, or set `uba:bi.enabled: false`."
        ) from None
    if admin.user_role not in ADMIN_ROLES:
        raise pulumi.RunError(
            f"uba:bi.quicksight.admin: {account.admin!r} is a QuickSight {admin.user_role}, not an ADMIN ({where}); "
            f"name the account's QuickSight administrator ({PREREQUISITES})."
        )


class Bi(pulumi.ComponentResource):
    """QuickSight on the warehouse and the lake, with row-level security by business line."""

    vpc_connection: aws.quicksight.VpcConnection
    warehouse_source: aws.quicksight.DataSource
    lake_source: aws.quicksight.DataSource
    workgroup: aws.athena.Workgroup
    rules: aws.quicksight.DataSet
    datasets: dict[str, aws.quicksight.DataSet]
    dashboard_id: pulumi.Output[str]
    dashboard_arn: pulumi.Output[str]
    alarms: list[aws.cloudwatch.MetricAlarm]

    def __init__(self, name: str, args: BiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:bi:Bi", name, None, opts)
        settings, context = args.settings, args.context
        check_subscription(settings.quicksight, context.region)
        self._settings = settings
        self._identity_region = settings.quicksight.identity_region or context.region
        lines = [line.biz_id for line in settings.business_lines]
        names = group_names(context.prefix, lines)
        self.people = people(self, context, settings, names)

        self.vpc_connection = vpc_connection(self, context, args.network)
        self.warehouse_source = warehouse_data_source(
            self, context, args.warehouse, self.vpc_connection, settings.quicksight.secrets_role
        )
        self.workgroup = bi_workgroup(self, context, args.lake)
        self.lake_source = lake_data_source(self, context, args.lake, self.workgroup)
        sources = {"warehouse": self.warehouse_source, "lake": self.lake_source}

        self.rules = rules_dataset(self, context, settings, self.warehouse_source, rule_rows(names))
        spec = dashboard_spec(*args.conversion_actions)
        authors = self.people.arn(names.authors)
        self.datasets = {
            dataset.key: spec_dataset(self, context, settings, dataset, sources, self.rules, authors)
            for dataset in spec.datasets
        }
        if settings.import_mode == "spice":
            for key, dataset in {"row-permissions": self.rules, **self.datasets}.items():
                refresh_schedule(dataset, context, settings, key.replace("_", "-"))

        # Imported here: the Cloud Control SDK's QuickSight types take seconds to load, and only
        # stacks with BI on need them.
        from .dashboard import deploy_dashboard

        dashboard = deploy_dashboard(
            self,
            context,
            spec,
            {key: dataset.arn for key, dataset in self.datasets.items()},
            lines,
            [self.people.arn(names.readers), authors],
            args.tags,
        )
        self.dashboard_id = dashboard.dashboard_id
        self.dashboard_arn = dashboard.arn
        self.alarms = metric_alarms(self, context, self._alarm_specs()) if settings.import_mode == "spice" else []
        self.register_outputs(
            {
                "dashboard_id": self.dashboard_id,
                "dashboard_arn": self.dashboard_arn,
                "workgroup": self.workgroup.name,
                "datasets": {key: dataset.data_set_id for key, dataset in self.datasets.items()},
            }
        )

    def _alarm_specs(self) -> Sequence[AlarmSpec]:
        """A failed SPICE refresh leaves the dashboard showing stale numbers without a word: alarm on it."""
        return [
            AlarmSpec(f"bi-ingestion-failed-{key.replace('_', '-')}",
                      f"A SPICE refresh of the BI dataset {key} failed; the dashboard shows the last good import "
                      f"(QuickSight console: the dataset's refresh history names the error)",
                      "AWS/QuickSight", "IngestionErrorCount", {"DatasetId": dataset.data_set_id}, "Sum",
                      period=3600, threshold=1, comparison="GreaterThanOrEqualToThreshold")
            for key, dataset in {"row-permissions": self.rules, **self.datasets}.items()
        ]  # fmt: skip

    # --- the tier contract -------------------------------------------------------------------------------

    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        return {
            "bi_dashboard_id": self.dashboard_id,
            "bi_dashboard_arn": self.dashboard_arn,
            "athena_workgroup_bi_name": self.workgroup.name,
        }

    def dashboard_widgets(self) -> Sequence[Widget]:
        dashboard = ["DashboardId", self.dashboard_id]
        widgets = [
            Widget("BI: dashboard views", [["AWS/QuickSight", "DashboardViewCount", *dashboard]]),
            Widget("BI: dashboard load time (ms)", [["AWS/QuickSight", "DashboardViewLoadTime", *dashboard]],
                   "Average"),
            Widget("BI: Athena bytes scanned", [["AWS/Athena", "ProcessedBytes", "WorkGroup", self.workgroup.name]]),
        ]  # fmt: skip
        if self._settings.import_mode == "spice":
            widgets.append(
                Widget("BI: SPICE refresh errors",
                       [["AWS/QuickSight", "IngestionErrorCount", "DatasetId", dataset.data_set_id]
                        for dataset in [self.rules, *self.datasets.values()]])
            )  # fmt: skip
        return widgets

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        account = self._settings.quicksight
        return {
            "bi_dashboard_arn": self.dashboard_arn,
            "bi_namespace": account.namespace,
            "bi_identity_region": self._identity_region,
            "bi_athena_workgroup_arn": self.workgroup.arn,
        }
