"""The ops dashboard: one CloudWatch dashboard per stack, every tier's health and every alarm.

Tiers create alarms through `components.base.metric_alarm`, which records each one in
the stack's `StackContext.alarms`; this component is built last and puts all of them
in one alarm-status widget, so an alarm cannot exist without being on the dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import StackContext, child

# A metric line as CloudWatch dashboards take it: namespace, metric, then dimension pairs.
MetricLine = list[Any]


@dataclass(frozen=True)
class DashboardTargets:
    """Names of what the dashboard watches; a tier that is switched off leaves its fields empty."""

    api_name: str | None = None
    api_stage: str | None = None
    ingest_function: str | None = None
    events_stream: pulumi.Input[str] | None = None
    alerts_stream: pulumi.Input[str] | None = None
    flink_application: pulumi.Input[str] | None = None
    sink_function: pulumi.Input[str] | None = None
    dead_letter_queue: pulumi.Input[str] | None = None
    delivery_stream: pulumi.Input[str] | None = None
    athena_workgroup: pulumi.Input[str] | None = None
    warehouse_workgroup: pulumi.Input[str] | None = None
    warehouse_cluster: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class ObservabilityArgs:
    context: StackContext
    targets: DashboardTargets


@dataclass(frozen=True)
class Widget:
    title: str
    metrics: Sequence[MetricLine]
    stat: str = "Sum"
    period: int = 300


def _lambda(function: Any, title: str) -> Widget:
    dims = ["FunctionName", function]
    return Widget(title, [["AWS/Lambda", metric, *dims] for metric in ("Invocations", "Errors", "Throttles")])


def _widgets(t: DashboardTargets) -> list[Widget]:
    widgets: list[Widget] = []
    if t.api_name and t.api_stage:
        api = ["ApiName", t.api_name, "Stage", t.api_stage]
        widgets.append(
            Widget(
                "Ingest requests and errors", [["AWS/ApiGateway", m, *api] for m in ("Count", "4XXError", "5XXError")]
            )
        )
        widgets.append(
            Widget(
                "Ingest latency (p99, ms)",
                [["AWS/ApiGateway", "Latency", *api], ["AWS/ApiGateway", "IntegrationLatency", *api]],
                "p99",
            )
        )
    if t.ingest_function:
        widgets.append(_lambda(t.ingest_function, "Ingest Lambda"))
    for label, stream in (("events", t.events_stream), ("alerts", t.alerts_stream)):
        if stream is not None:
            dims = ["StreamName", stream]
            widgets.append(
                Widget(
                    f"Stream {label}: records in and throttling",
                    [
                        ["AWS/Kinesis", "IncomingRecords", *dims],
                        ["AWS/Kinesis", "WriteProvisionedThroughputExceeded", *dims],
                        ["AWS/Kinesis", "ReadProvisionedThroughputExceeded", *dims],
                    ],
                )
            )
            widgets.append(
                Widget(
                    f"Stream {label}: iterator age (max, ms)",
                    [["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", *dims]],
                    "Maximum",
                )
            )
    if t.flink_application is not None:
        dims = ["Application", t.flink_application]
        widgets.append(
            Widget(
                "Flink: uptime, downtime and restarts",
                [["AWS/KinesisAnalytics", m, *dims] for m in ("uptime", "downtime", "fullRestarts")],
                "Maximum",
            )
        )
        widgets.append(
            Widget(
                "Flink: checkpoints and records behind",
                [
                    ["AWS/KinesisAnalytics", m, *dims]
                    for m in ("lastCheckpointDuration", "numberOfFailedCheckpoints", "millisBehindLatest")
                ],
                "Maximum",
            )
        )
    if t.sink_function is not None:
        widgets.append(_lambda(t.sink_function, "Alert sink Lambda"))
        widgets.append(
            Widget(
                "Alert sink iterator age (max, ms)",
                [["AWS/Lambda", "IteratorAge", "FunctionName", t.sink_function]],
                "Maximum",
            )
        )
    if t.dead_letter_queue is not None:
        widgets.append(
            Widget(
                "Alert sink dead-letter queue depth",
                [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", t.dead_letter_queue]],
                "Maximum",
            )
        )
    if t.delivery_stream is not None:
        dims = ["DeliveryStreamName", t.delivery_stream]
        widgets.append(
            Widget("Firehose: freshness (max, s)", [["AWS/Firehose", "DeliveryToS3.DataFreshness", *dims]], "Maximum")
        )
        widgets.append(
            Widget(
                "Firehose: delivered and failed conversions",
                [
                    ["AWS/Firehose", m, *dims]
                    for m in ("DeliveryToS3.Records", "SucceedConversion.Records", "FailedConversion.Records")
                ],
            )
        )
    if t.athena_workgroup is not None:
        widgets.append(
            Widget("Athena: bytes scanned", [["AWS/Athena", "ProcessedBytes", "WorkGroup", t.athena_workgroup]])
        )
    if t.warehouse_workgroup is not None:
        widgets.append(
            Widget(
                "Warehouse: compute capacity (RPU)",
                [["AWS/Redshift-Serverless", "ComputeCapacity", "Workgroup", t.warehouse_workgroup]],
                "Maximum",
            )
        )
    if t.warehouse_cluster is not None:
        dims = ["ClusterIdentifier", t.warehouse_cluster]
        widgets.append(
            Widget(
                "Warehouse: CPU and connections",
                [["AWS/Redshift", "CPUUtilization", *dims], ["AWS/Redshift", "DatabaseConnections", *dims]],
                "Maximum",
            )
        )
    return widgets


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
                    "region": region,
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

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:observability:Observability", name, None, opts)
        context = args.context
        self.dashboard = aws.cloudwatch.Dashboard(
            "ops-dashboard",
            dashboard_name=context.name("ops"),
            dashboard_body=dashboard_body(
                context.region, _widgets(args.targets), [alarm.arn for alarm in context.alarms]
            ),
            opts=child(self),
        )
        self.register_outputs({"dashboard_name": self.dashboard.dashboard_name})
