"""CloudWatch alarms, written by each tier as a table of `AlarmSpec`s and created one way.

Every alarm notifies the stack's ops topic when it fires and when it recovers, and joins
the stack's alarm catalogue (`StackContext.alarms`), which the ops dashboard shows whole:
an alarm cannot exist without being on the dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child

Comparison = Literal["GreaterThanThreshold", "GreaterThanOrEqualToThreshold"]
Statistic = Literal["Sum", "Average", "Maximum", "Minimum", "SampleCount"]
# Percentiles are CloudWatch's extended statistics (`p95`): latency is judged by its tail, not its mean.
Percentile = Literal["p90", "p95", "p99"]
MissingData = Literal["notBreaching", "breaching", "ignore", "missing"]


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: what it watches, when it fires, and what it tells the operator."""

    name: str  # logical name; the physical name is `<prefix>-<name>`
    description: str
    namespace: str
    metric: str
    dimensions: Mapping[str, pulumi.Input[str]]
    statistic: Statistic | Percentile
    period: int
    threshold: float
    comparison: Comparison
    evaluation_periods: int = 1
    # Most metrics are only reported when something happens: no data means nothing is wrong.
    missing_data: MissingData = "notBreaching"


def metric_alarm(parent: pulumi.Resource, context: StackContext, spec: AlarmSpec) -> aws.cloudwatch.MetricAlarm:
    """The alarm of `spec`, notifying the ops topic, recorded in the stack's alarm catalogue."""
    alarm = aws.cloudwatch.MetricAlarm(
        spec.name,
        name=context.name(spec.name),
        alarm_description=spec.description,
        alarm_actions=[context.ops_topic_arn],
        ok_actions=[context.ops_topic_arn],
        treat_missing_data=spec.missing_data,
        namespace=spec.namespace,
        metric_name=spec.metric,
        dimensions=spec.dimensions,
        statistic=None if spec.statistic.startswith("p") else spec.statistic,
        extended_statistic=spec.statistic if spec.statistic.startswith("p") else None,
        period=spec.period,
        evaluation_periods=spec.evaluation_periods,
        threshold=spec.threshold,
        comparison_operator=spec.comparison,
        opts=child(parent),
    )
    context.alarms.append(alarm)
    return alarm


def metric_alarms(
    parent: pulumi.Resource, context: StackContext, specs: Sequence[AlarmSpec]
) -> list[aws.cloudwatch.MetricAlarm]:
    """Every alarm of a tier's table, in table order (the dashboard lists them in creation order)."""
    return [metric_alarm(parent, context, spec) for spec in specs]
