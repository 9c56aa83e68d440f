"""The ingest tier under mocks: endpoint, Lambda, events stream and alarms, per stack."""

from __future__ import annotations

import copy
import json

import pulumi_aws as aws
import pytest

from tests.support.harness import StackRun, run_stack
from tests.support.tokens import type_token
from tools.engine.mocks import ACCOUNT_ID, available_stacks
from tools.local import REGION


def function_policy(run: StackRun) -> list[dict]:
    role_policy = run.one(type_token(aws.iam.RolePolicy), "ingest-role-policy")
    return run.policy(role_policy)["Statement"]


def test_events_stream_capacity_and_retention_follow_the_stack_files() -> None:
    dev = run_stack("dev").one(type_token(aws.kinesis.Stream), "events-stream")
    prod = run_stack("prod").one(type_token(aws.kinesis.Stream), "events-stream")
    assert dev.inputs["streamModeDetails"] == {"streamMode": "ON_DEMAND"} and "shardCount" not in dev.inputs
    assert dev.inputs["retentionPeriod"] == 24
    assert prod.inputs["streamModeDetails"] == {"streamMode": "PROVISIONED"} and prod.inputs["shardCount"] == 4
    assert prod.inputs["retentionPeriod"] == 168
    for stream, stack in ((dev, "dev"), (prod, "prod")):
        assert stream.inputs["name"] == f"uba-{stack}-events"
        assert stream.inputs["encryptionType"] == "KMS"
        assert stream.inputs["kmsKeyId"] == run_stack(stack).one(type_token(aws.kms.Key), "platform-key").state["arn"]
    assert prod.protect and not dev.protect


@pytest.mark.parametrize(
    ("stack", "rate", "burst", "quota"), [("dev", 50, 100, 200000), ("prod", 2000, 4000, 50000000)]
)
def test_throttling_and_quota_follow_the_stack_files(stack: str, rate: int, burst: int, quota: int) -> None:
    run = run_stack(stack)
    settings = run.one(type_token(aws.apigateway.MethodSettings)).inputs
    assert settings["methodPath"] == "*/*"
    assert settings["settings"]["throttlingRateLimit"] == rate and settings["settings"]["throttlingBurstLimit"] == burst
    assert settings["settings"]["dataTraceEnabled"] is False
    plan = run.one(type_token(aws.apigateway.UsagePlan)).inputs
    assert plan["throttleSettings"] == {"rateLimit": rate, "burstLimit": burst}
    assert plan["quotaSettings"] == {"limit": quota, "period": "DAY"}
    method = run.one(type_token(aws.apigateway.Method), "post-events").inputs
    assert method["httpMethod"] == "POST" and method["apiKeyRequired"] is True and method["authorization"] == "NONE"
    key = run.one(type_token(aws.apigateway.UsagePlanKey)).inputs
    assert key["keyType"] == "API_KEY"


def test_iam_authorisation_is_a_setting_and_drops_the_api_key() -> None:
    dev = run_stack("dev")
    ingest = json.loads(json.dumps(_config("dev", "uba:ingest")))
    ingest["api"]["authorization"] = "iam"
    run = run_stack("dev", overrides={"uba:ingest": ingest})
    method = run.one(type_token(aws.apigateway.Method), "post-events").inputs
    assert method["authorization"] == "AWS_IAM" and method["apiKeyRequired"] is False
    assert not run.of_type(type_token(aws.apigateway.ApiKey)) and not run.of_type(type_token(aws.apigateway.UsagePlan))
    # A changed API definition cuts a new deployment.
    trigger = run.one(type_token(aws.apigateway.Deployment)).inputs["triggers"]["redeployment"]
    assert trigger != dev.one(type_token(aws.apigateway.Deployment)).inputs["triggers"]["redeployment"]


def test_tracing_is_switchable_per_stack() -> None:
    for stack, traced in (("dev", False), ("prod", True)):
        run = run_stack(stack)
        assert run.one(type_token(aws.apigateway.Stage)).inputs["xrayTracingEnabled"] is traced
        function = run.one(type_token(aws.lambda_.Function), "ingest-function").inputs
        assert function["tracingConfig"] == {"mode": "Active" if traced else "PassThrough"}
        assert function["environment"]["variables"]["POWERTOOLS_TRACE_DISABLED"] == str(not traced).lower()
        sids = {s["Sid"] for s in function_policy(run)}
        assert ("SendTraces" in sids) is traced


def test_stage_writes_json_access_logs_to_an_encrypted_log_group() -> None:
    run = run_stack("prod")
    stage = run.one(type_token(aws.apigateway.Stage)).inputs
    logs = run.one(type_token(aws.cloudwatch.LogGroup), "api-access-logs")
    assert stage["stageName"] == "v1"
    assert stage["accessLogSettings"]["destinationArn"] == logs.state["arn"]
    fields = json.loads(stage["accessLogSettings"]["format"])
    assert fields["requestId"] == "$context.requestId" and fields["status"] == "$context.status"
    assert logs.inputs["kmsKeyId"] == run.one(type_token(aws.kms.Key), "platform-key").state["arn"]
    assert logs.inputs["retentionInDays"] == 365
    assert (
        run.one(type_token(aws.apigateway.Account)).inputs["cloudwatchRoleArn"]
        == (run.one(type_token(aws.iam.Role), "apigateway-logging-role").state["arn"])
    )


@pytest.mark.parametrize(("stack", "retention"), [("dev", 14), ("prod", 365)])
def test_execution_logs_go_to_an_encrypted_expiring_group_made_before_the_stage(stack: str, retention: int) -> None:
    """API Gateway would otherwise create `API-Gateway-Execution-Logs_<api-id>/<stage>` itself, plain and forever."""
    run = run_stack(stack)
    api_id = run.one(type_token(aws.apigateway.RestApi)).state["id"]
    logs = run.one(type_token(aws.cloudwatch.LogGroup), "api-execution-logs")
    assert logs.inputs["name"] == f"API-Gateway-Execution-Logs_{api_id}/v1"
    assert logs.inputs["kmsKeyId"] == run.one(type_token(aws.kms.Key), "platform-key").state["arn"]
    assert logs.inputs["retentionInDays"] == retention
    stage = run.one(type_token(aws.apigateway.Stage))
    assert logs.urn in stage.depends_on
    assert run.one(type_token(aws.apigateway.MethodSettings)).inputs["settings"]["loggingLevel"] == "ERROR"


ACCOUNT_WIDE_LOGGING = [
    (type_token(aws.iam.Role), "apigateway-logging-role"),
    (type_token(aws.iam.RolePolicyAttachment), "apigateway-logging-role-policy"),
    (type_token(aws.apigateway.Account), "apigateway-account"),
]


def test_a_stack_that_does_not_say_it_owns_the_account_logging_role_leaves_it_alone() -> None:
    ingest = copy.deepcopy(_config("dev", "uba:ingest"))
    del ingest["api"]["manage_account_logging_role"]
    run = run_stack("dev", overrides={"uba:ingest": ingest})
    for resource_type, _ in ACCOUNT_WIDE_LOGGING:
        assert not [r.name for r in run.of_type(resource_type) if r.name.startswith("apigateway-")], resource_type
    stage = run.one(type_token(aws.apigateway.Stage))
    assert stage.inputs["accessLogSettings"]["destinationArn"]  # still logged, through the owner's role


def test_the_owner_keeps_role_and_setting_when_destroyed_and_its_stage_waits_for_them() -> None:
    """Deleting `aws.apigateway.Account` resets the account's role (provider v6): the owner must never delete it."""
    run = run_stack("prod")
    owned = [run.one(resource_type, name) for resource_type, name in ACCOUNT_WIDE_LOGGING]
    assert all(r.retain_on_delete for r in owned), [r.name for r in owned if not r.retain_on_delete]
    account = owned[-1]
    assert account.urn in run.one(type_token(aws.apigateway.Stage)).depends_on


def test_prod_owns_the_account_logging_role_and_every_stack_file_says_whether_it_does() -> None:
    """Explicit in each file, so the default (off) never silently deletes a deployed stack's role and setting."""
    stated = {stack: _config(stack, "uba:ingest")["api"].get("manage_account_logging_role") for stack in
              available_stacks()}  # fmt: skip
    assert stated["prod"] is True
    assert all(isinstance(value, bool) for value in stated.values()), stated


def test_ingest_lambda_runs_python_312_on_arm64_with_the_pinned_powertools_layer() -> None:
    run = run_stack("prod")
    function = run.one(type_token(aws.lambda_.Function), "ingest-function").inputs
    assert function["runtime"] == "python3.12" and function["architectures"] == ["arm64"]
    assert function["handler"] == "lambdas.ingest.handler"
    assert function["layers"] == [
        f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:47"
    ]
    assert (
        function["memorySize"] == 1024 and function["timeout"] == 25 and function["reservedConcurrentExecutions"] == 200
    )
    variables = function["environment"]["variables"]
    assert variables["EVENTS_STREAM_NAME"] == "uba-prod-events"
    assert function["loggingConfig"] == {"logFormat": "JSON", "logGroup": "/aws/lambda/uba-prod-ingest"}
    assert (
        "reservedConcurrentExecutions"
        not in run_stack("dev").one(type_token(aws.lambda_.Function), "ingest-function").inputs
    )


def test_ingest_lambda_may_put_records_to_its_stream_and_nothing_else() -> None:
    run = run_stack("dev")
    stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/uba-dev-events"
    key_arn = run.one(type_token(aws.kms.Key), "platform-key").state["arn"]
    log_group_arn = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/lambda/uba-dev-ingest"
    assert function_policy(run) == [
        {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group_arn}:*"},
        {"Sid": "PutEvents", "Effect": "Allow", "Action": "kinesis:PutRecords", "Resource": stream_arn},
        {"Sid": "EncryptEvents", "Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": key_arn},
    ]  # fmt: skip
    trust = run.policy(run.one(type_token(aws.iam.Role), "ingest-role"), "assumeRolePolicy")["Statement"]
    assert trust == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]  # fmt: skip
    permission = run.one(type_token(aws.lambda_.Permission), "api-invokes-ingest").inputs
    api_id = run.one(type_token(aws.apigateway.RestApi)).state["id"]
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["sourceArn"] == f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api_id}/*/POST/events"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_alarms_watch_the_real_resources_and_notify_ops(stack: str) -> None:
    run = run_stack(stack)
    ops = run.one(type_token(aws.sns.Topic), "ops-topic").state["arn"]
    alarms = {a.name: a.inputs for a in run.of_type(type_token(aws.cloudwatch.MetricAlarm))}
    expected = {
        "ingest-api-5xx-rate": ("AWS/ApiGateway", "5XXError", {"ApiName": f"uba-{stack}-ingest", "Stage": "v1"}),
        "ingest-lambda-errors": ("AWS/Lambda", "Errors", {"FunctionName": f"uba-{stack}-ingest"}),
        "ingest-lambda-throttles": ("AWS/Lambda", "Throttles", {"FunctionName": f"uba-{stack}-ingest"}),
        "events-stream-write-throttled": (
            "AWS/Kinesis", "WriteProvisionedThroughputExceeded", {"StreamName": f"uba-{stack}-events"}),
    }  # fmt: skip
    for name, (namespace, metric, dimensions) in expected.items():
        alarm = alarms[name]
        assert (alarm["namespace"], alarm["metricName"], alarm["dimensions"]) == (namespace, metric, dimensions)
        assert alarm["alarmActions"] == [ops] and alarm["okActions"] == [ops]
    assert alarms["ingest-api-5xx-rate"]["threshold"] == (0.01 if stack == "dev" else 0.005)


def test_outputs_give_the_endpoint_and_the_key_id() -> None:
    run = run_stack("dev")
    api_id = run.one(type_token(aws.apigateway.RestApi)).state["id"]
    assert run.outputs["ingest_endpoint_url"] == f"https://{api_id}.execute-api.{REGION}.amazonaws.com/v1/events"
    assert run.outputs["ingest_api_key_id"] == run.one(type_token(aws.apigateway.ApiKey)).state["id"]


def _config(stack: str, key: str) -> dict:
    from tools.engine.mocks import load_stack_config

    return load_stack_config(stack)[key]
