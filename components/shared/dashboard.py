"""Metric widgets of the ops dashboard, declared by each tier about its own resources.

A tier's `dashboard_widgets()` returns `Widget`s; the observability tier lays them out in
tier order after the catalogue of every alarm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

# A metric line as CloudWatch dashboards take it: namespace, metric, then dimension pairs.
MetricLine = list[Any]


@dataclass(frozen=True)
class Widget:
    title: str
    metrics: Sequence[MetricLine]
    stat: str = "Sum"
    period: int = 300
    region: str | None = None  # where the metrics are, when not the stack's region (CloudFront: us-east-1)


def lambda_widget(function_name: pulumi.Input[str], title: str) -> Widget:
    """Invocations, errors and throttles of one function."""
    dimensions = ["FunctionName", function_name]
    return Widget(title, [["AWS/Lambda", metric, *dimensions] for metric in ("Invocations", "Errors", "Throttles")])


def stream_widgets(label: str, stream_name: pulumi.Input[str]) -> list[Widget]:
    """Records in, throttling and iterator age of one Kinesis stream."""
    dimensions = ["StreamName", stream_name]
    return [
        Widget(
            f"Stream {label}: records in and throttling",
            [
                ["AWS/Kinesis", "IncomingRecords", *dimensions],
                ["AWS/Kinesis", "WriteProvisionedThroughputExceeded", *dimensions],
                ["AWS/Kinesis", "ReadProvisionedThroughputExceeded", *dimensions],
            ],
        ),
        Widget(
            f"Stream {label}: iterator age (max, ms)",
            [["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", *dimensions]],
            "Maximum",
        ),
    ]
