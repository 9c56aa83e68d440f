"""The edge tier under mocks, per stack: distribution, beacons, real-time logs, the edge-log Lambda, us-east-1."""

from __future__ import annotations

import json

import pulumi_aws as aws
import pytest

from components.edge.distribution import CACHING_DISABLED_POLICY_ID
from lambdas.edge_logs import DOCUMENTED_FIELDS, REQUIRED_FIELDS
from tests.support.harness import StackRun, run_stack
from tests.support.tokens import type_token
from tools.engine.mocks import load_stack_config

DISTRIBUTION = type_token(aws.cloudfront.Distribution)
LOG_CONFIG = type_token(aws.cloudfront.RealtimeLogConfig)
ALARM = type_token(aws.cloudwatch.MetricAlarm)
PROVIDER = "pulumi:providers:aws"


def distribution(stack: str) -> dict:
    return run_stack(stack).one(DISTRIBUTION, "edge-distribution").inputs


def behaviors(stack: str) -> dict[str, dict]:
    inputs = distribution(stack)
    return {"*": inputs["defaultCacheBehavior"], **{b["pathPattern"]: b for b in inputs["orderedCacheBehaviors"]}}


def us_east_1_provider(run: StackRun) -> str:
    (provider,) = [r for r in run.of_type(PROVIDER) if r.inputs.get("region") == "us-east-1"]
    return provider.urn


def on(resource, provider_urn: str) -> bool:
    """Whether the resource is managed through this provider (a reference is `<urn>::<id>`)."""
    return (resource.provider or "").startswith(provider_urn)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_events_go_to_the_ingest_stage_over_https_and_nothing_is_cached(stack: str) -> None:
    run = run_stack(stack)
    api = run.one(type_token(aws.apigateway.RestApi)).state["id"]
    (origin,) = distribution(stack)["origins"]
    assert origin["domainName"] == f"{api}.execute-api.eu-west-1.amazonaws.com" and origin["originPath"] == "/v1"
    assert origin["customOriginConfig"]["originProtocolPolicy"] == "https-only"
    assert origin["customOriginConfig"]["originSslProtocols"] == ["TLSv1.2"]
    function_arn = run.one(type_token(aws.cloudfront.Function)).state["arn"]
    for path, behavior in behaviors(stack).items():
        assert behavior["viewerProtocolPolicy"] == "https-only", path
        assert behavior["cachePolicyId"] == CACHING_DISABLED_POLICY_ID, path
        assert behavior["functionAssociations"] == [{"eventType": "viewer-request", "functionArn": function_arn}]
        assert "POST" in behavior["allowedMethods"], path
    policy = run.one(type_token(aws.cloudfront.OriginRequestPolicy)).inputs
    assert policy["headersConfig"]["headers"]["items"] == ["content-type", "user-agent", "x-api-key"]
    assert behaviors(stack)["/events"]["originRequestPolicyId"] == run.one(
        type_token(aws.cloudfront.OriginRequestPolicy)).state["id"]  # fmt: skip


@pytest.mark.parametrize(("stack", "sampled"), [("dev", 100), ("prod", 10)])
def test_every_beacon_is_logged_and_the_rest_sampled_with_the_fields_the_parser_reads(stack: str, sampled: int) -> None:
    run = run_stack(stack)
    beacons, requests = run.one(LOG_CONFIG, "edge-beacon-logs"), run.one(LOG_CONFIG, "edge-request-logs")
    assert (beacons.inputs["samplingRate"], requests.inputs["samplingRate"]) == (100, sampled)
    stream = run.one(type_token(aws.kinesis.Stream), "edge-logs-stream")
    function = run.one(type_token(aws.lambda_.Function), "edge-logs-function")
    configured = function.inputs["environment"]["variables"]["EDGE_LOG_FIELDS"].split(",")
    for config in (beacons, requests):
        assert config.inputs["fields"] == list(REQUIRED_FIELDS) == configured
        assert config.inputs["fields"] == sorted(configured, key=DOCUMENTED_FIELDS.index)  # CloudFront's own order
        assert config.inputs["endpoint"]["kinesisStreamConfig"]["streamArn"] == stream.state["arn"]
    by_path = behaviors(stack)
    assert by_path["/collect"]["realtimeLogConfigArn"] == beacons.state["arn"]
    assert by_path["/events"]["realtimeLogConfigArn"] == by_path["*"]["realtimeLogConfigArn"] == requests.state["arn"]
    assert stream.inputs["encryptionType"] == "KMS" and stream.inputs["name"] == f"uba-{stack}-edge-logs"


def test_cloudfront_writes_the_logs_with_a_role_that_may_do_exactly_that() -> None:
    run = run_stack("dev")
    role = run.one(type_token(aws.iam.Role), "edge-log-writer")
    (trust,) = run.policy(role, "assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"Service": "cloudfront.amazonaws.com"} and "Condition" not in trust
    statements = run.policy(run.one(type_token(aws.iam.RolePolicy), "edge-log-writer-policy"))["Statement"]
    stream = run.one(type_token(aws.kinesis.Stream), "edge-logs-stream").state["arn"]
    key = run.one(type_token(aws.kms.Key), "platform-key").state["arn"]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        (["kinesis:DescribeStreamSummary", "kinesis:DescribeStream", "kinesis:PutRecord", "kinesis:PutRecords"],
         stream),
        ("kms:GenerateDataKey", key),
    ]  # fmt: skip


def test_the_edge_log_lambda_writes_events_and_dead_letters_and_reports_partial_failures() -> None:
    run = run_stack("prod")
    function = run.one(type_token(aws.lambda_.Function), "edge-logs-function").inputs
    env = function["environment"]["variables"]
    events = run.one(type_token(aws.kinesis.Stream), "events-stream").state
    invalid = run.one(type_token(aws.sqs.Queue), "edge-invalid-events").state
    assert (env["EVENTS_STREAM_NAME"], env["INVALID_EVENTS_QUEUE_URL"], env["EDGE_BEACON_PATH"]) == (
        events["name"], invalid["url"], "/collect")  # fmt: skip
    assert function["handler"] == "lambdas.edge_logs.handler" and function["tracingConfig"]["mode"] == "Active"
    statements = {s["Sid"]: s for s in run.policy(run.one(type_token(aws.iam.RolePolicy), "edge-logs-role-policy"))[
        "Statement"]}  # fmt: skip
    assert statements["PutEvents"]["Resource"] == events["arn"]
    failed = run.one(type_token(aws.sqs.Queue), "edge-logs-failed-batches").state
    assert statements["RecordInvalidEventsAndFailedBatches"]["Resource"] == [invalid["arn"], failed["arn"]]
    mapping = run.one(type_token(aws.lambda_.EventSourceMapping), "edge-logs-mapping").inputs
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"] and mapping["bisectBatchOnFunctionError"]
    assert mapping["destinationConfig"]["onFailure"]["destinationArn"] == failed["arn"]
    assert (mapping["batchSize"], mapping["maximumBatchingWindowInSeconds"]) == (1000, 1)


def test_prod_serves_its_domain_with_tls_1_2_from_a_us_east_1_certificate_behind_waf() -> None:
    run = run_stack("prod")
    inputs = distribution("prod")
    east = us_east_1_provider(run)
    certificate = run.one(type_token(aws.acm.Certificate))
    assert on(certificate, east) and ":acm:us-east-1:" in certificate.state["arn"]
    validation = run.one(type_token(aws.acm.CertificateValidation))
    assert inputs["aliases"] == ["collect.example.com"]
    assert inputs["viewerCertificate"] == {
        "acmCertificateArn": validation.state["certificateArn"],
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    }
    records = {r.name: r.inputs for r in run.of_type(type_token(aws.route53.Record))}
    edge_domain = run.one(DISTRIBUTION, "edge-distribution").state["domainName"]
    assert records["edge-alias-a"]["aliases"][0]["name"] == edge_domain
    assert records["edge-certificate-validation"]["zoneId"] == "Z0EXAMPLE1234567890AB"
    acl = run.one(type_token(aws.wafv2.WebAcl))
    assert on(acl, east) and acl.inputs["scope"] == "CLOUDFRONT"
    assert ":wafv2:us-east-1:" in acl.state["arn"] and inputs["webAclId"] == acl.state["arn"]
    rules = acl.inputs["rules"]
    assert rules[0]["statement"]["rateBasedStatement"] == {"limit": 3000, "aggregateKeyType": "IP",
                                                           "evaluationWindowSec": 300}  # fmt: skip
    assert [r["name"] for r in rules[1:]] == ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                                              "AWSManagedRulesAmazonIpReputationList"]  # fmt: skip
    assert run.outputs["edge_events_url"] == "https://collect.example.com/events"


def test_dev_uses_the_cloudfront_name_without_waf() -> None:
    run = run_stack("dev")
    inputs = distribution("dev")
    assert inputs["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    assert "webAclId" not in inputs and not run.of_type(type_token(aws.wafv2.WebAcl))
    edge_domain = run.one(DISTRIBUTION, "edge-distribution").state["domainName"]
    assert run.outputs["edge_beacon_url"] == f"https://{edge_domain}/collect"
    cors = run.one(type_token(aws.cloudfront.ResponseHeadersPolicy), "edge-events-cors").inputs["corsConfig"]
    assert cors["accessControlAllowOrigins"]["items"] == ["http://localhost:8080"]
    assert cors["accessControlExposeHeaders"]["items"] == ["Retry-After"]
    assert '"allowedOrigins":["http://localhost:8080"]' in run.one(
        type_token(aws.cloudfront.Function)).inputs["code"]  # fmt: skip


def test_alarms_on_cloudfront_metrics_live_in_us_east_1_and_reach_the_ops_emails_there() -> None:
    run = run_stack("prod")
    east = us_east_1_provider(run)
    topic = run.one(type_token(aws.sns.Topic), "edge-alarms-topic")
    key = run.one(type_token(aws.kms.Key), "edge-alarms-key")
    assert on(topic, east) and on(key, east) and key.protect
    assert ":sns:us-east-1:" in topic.state["arn"] and topic.inputs["kmsMasterKeyId"] == key.state["arn"]
    subscriptions = [s.inputs["endpoint"] for s in run.of_type(type_token(aws.sns.TopicSubscription))
                     if s.inputs["topic"] == topic.state["arn"]]  # fmt: skip
    assert subscriptions == ["uba-oncall@example.com"]
    ops = run.one(type_token(aws.sns.Topic), "ops-topic").state["arn"]
    alarms = {a.name: a for a in run.of_type(ALARM) if a.name.startswith("edge-")}
    for name in ("edge-distribution-5xx-rate", "edge-function-errors"):
        assert on(alarms[name], east) and alarms[name].inputs["alarmActions"] == [topic.state["arn"]]
        assert alarms[name].inputs["dimensions"]["Region"] == "Global"
    assert alarms["edge-distribution-5xx-rate"].inputs["threshold"] == 0.5
    for name in ("edge-logs-iterator-age", "edge-logs-errors", "edge-events-dead-lettered", "edge-logs-failed-batches"):
        assert alarms[name].inputs["alarmActions"] == [ops], name
    dashboard = json.loads(run.one(type_token(aws.cloudwatch.Dashboard)).inputs["dashboardBody"])
    shown = {w["properties"]["title"]: w["properties"] for w in dashboard["widgets"]}
    assert shown["Edge error rates (%)"]["region"] == "us-east-1"
    assert shown["Edge log lines: what they became"]["region"] == "eu-west-1"
    assert {a.state["arn"] for a in alarms.values()} <= set(shown["Every platform alarm"]["alarms"])


def test_switched_off_the_tier_creates_nothing() -> None:
    edge = {**load_stack_config("dev")["uba:edge"], "enabled": False}
    run = run_stack("dev", overrides={"uba:edge": edge})
    # The live tier's dashboard has a distribution of its own; nothing of the edge's is left.
    outside_live = [r for r in run.resources if "uba:live:Live" not in r.urn]
    assert not [r for r in outside_live if r.type.startswith("aws:cloudfront") or "edge" in r.name]
    assert not [key for key in run.outputs if key.startswith("edge_")]
