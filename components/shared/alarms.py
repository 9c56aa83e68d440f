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

Comparison = Literal["GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold"]
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


@dataclass(frozen=True)
class ElsewhereAlarms:
    """Where alarms on another region's metrics live: CloudWatch alarms only on metrics of their own
    region (CloudFront's are in us-east-1) and notify only topics of that region."""

    provider: pulumi.ProviderResource  # an AWS provider for that region
    topic_arn: pulumi.Input[str]  # a topic there that reaches the same people as the ops topic


def metric_alarm(
    parent: pulumi.Resource, context: StackContext, spec: AlarmSpec, elsewhere: ElsewhereAlarms | None = None
) -> aws.cloudwatch.MetricAlarm:
    """The alarm of `spec`, notifying the ops topic, recorded in the stack's alarm catalogue."""
    topic = context.ops_topic_arn if elsewhere is None else elsewhere.topic_arn
    alarm = aws.cloudwatch.MetricAlarm(
        spec.name,
        name=context.name(spec.name),
        alarm_description=spec.description,
        alarm_actions=[topic],
        ok_actions=[topic],
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
        opts=child(parent) if elsewhere is None else child(parent, provider=elsewhere.provider),
    )
    context.alarms.append(alarm)
    return alarm


def metric_alarms(
    parent: pulumi.Resource, context: StackContext, specs: Sequence[AlarmSpec], elsewhere: ElsewhereAlarms | None = None
) -> list[aws.cloudwatch.MetricAlarm]:
    """Every alarm of a tier's table, in table order (the dashboard lists them in creation order)."""
    return [metric_alarm(parent, context, spec, elsewhere) for spec in specs]
