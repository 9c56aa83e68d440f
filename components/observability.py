"""The ops dashboard: one CloudWatch dashboard per stack, every tier's health and every alarm.

Tiers create alarms through `components.shared.alarms`, which records each one in the
stack's `StackContext.alarms`; this component is built after every tier that has alarms
and puts all of them in one alarm-status widget, so an alarm cannot exist without being
on the dashboard. The metric widgets are what each tier declares in `dashboard_widgets()`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.shared.arns import PARTITION
from components.shared.context import StackContext, child
from components.shared.dashboard import Widget


@dataclass(frozen=True)
class ObservabilityArgs:
    context: StackContext
    widgets: Sequence[Widget]  # every tier's `dashboard_widgets()`, in data-path order


def dashboard_body(
    region: str, widgets: Sequence[Widget], alarm_arns: Sequence[pulumi.Input[str]]
) -> pulumi.Output[str]:
    """The dashboard JSON: the alarm catalogue first, then two metric widgets a row."""
    laid_out: list[dict[str, Any]] = [
        {
            "type": "alarm",
            "x": 0,
            "y": 0,
            "width": 24,
            "height": 4,
            "properties": {
                "title": "Every platform alarm",
                "alarms": list(alarm_arns),
                "sortBy": "stateUpdatedTimestamp",
            },
        }
    ]
    for index, widget in enumerate(widgets):
        laid_out.append(
            {
                "type": "metric",
                "x": 12 * (index % 2),
                "y": 4 + 6 * (index // 2),
                "width": 12,
                "height": 6,
                "properties": {
                    "title": widget.title,
                    "region": widget.region or region,
                    "metrics": [list(line) for line in widget.metrics],
                    "stat": widget.stat,
                    "period": widget.period,
                    "view": "timeSeries",
                },
            }
        )
    return pulumi.Output.json_dumps({"widgets": laid_out})


class Observability(pulumi.ComponentResource):
    dashboard: aws.cloudwatch.Dashboard
    dashboard_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:observability:Observability", name, None, opts)
        context = args.context
        self.dashboard = aws.cloudwatch.Dashboard(
            "ops-dashboard",
            dashboard_name=context.name("ops"),
            dashboard_body=dashboard_body(context.region, args.widgets, [alarm.arn for alarm in context.alarms]),
            opts=child(self),
        )
        self.dashboard_arn = pulumi.Output.concat(
            f"arn:{PARTITION}:cloudwatch::", context.account_id, ":dashboard/", self.dashboard.dashboard_name
        )
        self.register_outputs({"dashboard_name": self.dashboard.dashboard_name})

    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        return {"ops_dashboard_name": self.dashboard.dashboard_name}

    def dashboard_widgets(self) -> Sequence[Widget]:
        return []

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        return {"dashboard_arn": self.dashboard_arn}
