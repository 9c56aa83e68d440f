"""The ops dashboard and the alarm catalogue: every alarm is wired right and shown."""

from __future__ import annotations

import json

import pulumi_aws as aws
import pytest

from tests.support.harness import StackRun, run_stack
from tests.support.tokens import type_token

# What CloudWatch needs to find each namespace's metrics for one resource. API Gateway names a REST API's
# metrics by ApiName, an HTTP or WebSocket API's by ApiId (API Gateway Developer Guide, "metrics").
REQUIRED_DIMENSIONS: dict[str, set[str]] = {
    "AWS/ApiGateway": {"Stage"},
    "AWS/Lambda": {"FunctionName"},
    "AWS/Kinesis": {"StreamName"},
    "AWS/KinesisAnalytics": {"Application"},
    "AWS/SQS": {"QueueName"},
    "AWS/Firehose": {"DeliveryStreamName"},
    "AWS/Athena": {"WorkGroup"},
    "AWS/Redshift-Serverless": {"Workgroup"},
    "AWS/Redshift": {"ClusterIdentifier"},
    "AWS/Events": {"RuleName"},
    "AWS/Scheduler": {"ScheduleGroup"},
    "AWS/States": {"StateMachineArn"},
    "AWS/CloudFront": {"Region"},  # CloudFront's metrics are global: Region=Global, in us-east-1
    # QuickSight reports per dashboard (DashboardId) and per SPICE dataset (DatasetId): one of them, always.
    "AWS/QuickSight": set(),
}
# Where each namespace's metrics are: CloudFront publishes to us-east-1 only, everything else is the stack's region.
METRICS_REGION = {"AWS/CloudFront": "us-east-1"}
# The platform's own metrics (Powertools, one namespace per stack) name the function's service.
CUSTOM_DIMENSIONS = {"service"}
# Namespaces whose metrics each carry one of several identifying dimensions.
# API Gateway names a REST API's metrics by ApiName, an HTTP or WebSocket API's by ApiId.
ONE_OF_DIMENSIONS: dict[str, set[str]] = {
    "AWS/QuickSight": {"DashboardId", "DatasetId"},
    "AWS/ApiGateway": {"ApiName", "ApiId"},
}


def physical_names(run: StackRun) -> set[str]:
    """Every name a resource is known by in AWS (what a dimension value must match)."""
    names: set[str] = {"Global"}  # the Region of every CloudFront metric
    for resource in run.custom():
        for key in (
            "name",
            "stageName",
            "workgroupName",
            "clusterIdentifier",
            "dashboardName",
            "bucket",
            "groupName",
            "dataSetId",
            "dashboardId",
        ):
            value = resource.state.get(key)
            if isinstance(value, str):
                names.add(value)
        if resource.type == "aws:apigatewayv2/api:Api":
            names.add(str(resource.state["id"]))  # HTTP and WebSocket APIs are dimensioned by id
        if resource.type == type_token(aws.cloudfront.Distribution):
            names.add(resource.state["id"])
        service = ((resource.inputs.get("environment") or {}).get("variables") or {}).get("POWERTOOLS_SERVICE_NAME")
        if isinstance(service, str):
            names.add(service)
    return names


def region_of(arn: str) -> str:
    return arn.split(":")[3]


def dashboard(run: StackRun) -> dict:
    return json.loads(run.one(type_token(aws.cloudwatch.Dashboard)).inputs["dashboardBody"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_alarm_has_its_metric_dimensions_pointing_at_real_resources_and_notifies_ops(stack: str) -> None:
    run = run_stack(stack)
    # The ops topic, or in us-east-1 (CloudFront's metrics) the edge's relay topic the same people subscribe to.
    ops = {region_of(t.state["arn"]): t.state["arn"] for t in run.of_type(type_token(aws.sns.Topic))
           if t.name in ("ops-topic", "edge-alarms-topic")}  # fmt: skip
    names = physical_names(run)
    alarms = run.of_type(type_token(aws.cloudwatch.MetricAlarm))
    assert len(alarms) >= 4
    for alarm in alarms:
        inputs = alarm.inputs
        region = region_of(alarm.state["arn"])
        assert region == METRICS_REGION.get(inputs.get("namespace", ""), "eu-west-1"), alarm.name
        assert inputs["alarmActions"] == [ops[region]], alarm.name
        assert inputs["okActions"] == [ops[region]], alarm.name
        if "metricQueries" in inputs:  # metric math: check each metric it reads
            metrics = [q["metric"] for q in inputs["metricQueries"] if "metric" in q]
        else:
            metrics = [{"namespace": inputs["namespace"], "metricName": inputs["metricName"],
                        "dimensions": inputs.get("dimensions", {})}]  # fmt: skip
        for metric in metrics:
            required = REQUIRED_DIMENSIONS.get(metric["namespace"], CUSTOM_DIMENSIONS)
            assert required <= set(metric["dimensions"]), f"{alarm.name}: {metric['dimensions']} lacks {required}"
            assert set(metric["dimensions"]) & ONE_OF_DIMENSIONS.get(metric["namespace"], set(metric["dimensions"]))
            for key, value in metric["dimensions"].items():
                assert value in names, f"{alarm.name}: dimension {key}={value} names no resource of the stack"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_alarm_is_on_the_ops_dashboard(stack: str) -> None:
    run = run_stack(stack)
    board = dashboard(run)
    alarm_widget = next(w for w in board["widgets"] if w["type"] == "alarm")
    assert sorted(alarm_widget["properties"]["alarms"]) == sorted(
        a.state["arn"] for a in run.of_type(type_token(aws.cloudwatch.MetricAlarm))
    )
    assert run.one(type_token(aws.cloudwatch.Dashboard)).inputs["dashboardName"] == f"uba-{stack}-ops"


def test_dashboard_metric_widgets_watch_the_real_resources() -> None:
    run = run_stack("prod")
    names = physical_names(run)
    metric_widgets = [w for w in dashboard(run)["widgets"] if w["type"] == "metric"]
    titles = {w["properties"]["title"] for w in metric_widgets}
    assert {"Ingest requests and errors", "Ingest Lambda", "Stream events: records in and throttling"} <= titles
    for widget in metric_widgets:
        namespaces = {line[0] for line in widget["properties"]["metrics"]}
        assert {METRICS_REGION.get(n, "eu-west-1") for n in namespaces} == {widget["properties"]["region"]}
        for line in widget["properties"]["metrics"]:
            namespace, _metric, *dimensions = line
            pairs = dict(zip(dimensions[::2], dimensions[1::2], strict=True))
            assert REQUIRED_DIMENSIONS.get(namespace, CUSTOM_DIMENSIONS) <= set(pairs), line
            assert set(pairs) & ONE_OF_DIMENSIONS.get(namespace, set(pairs)), line
            assert all(value in names for value in pairs.values()), line


def test_dashboard_can_be_switched_off() -> None:
    run = run_stack("dev", overrides={"uba:observability": {"dashboard": False}})
    assert not run.of_type(type_token(aws.cloudwatch.Dashboard))
    assert "ops_dashboard_name" not in run.outputs
