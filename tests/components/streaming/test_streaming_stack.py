"""The streaming tier under mocks, from the real stack files: Flink, alerts stream, sink, table, topic, alarms."""

from __future__ import annotations

import hashlib
import json
import re
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.platform import PlatformArgs
from components.streaming import flink_code_archive
from settings import SettingsError, load_settings
from streaming.fetch_connector import FETCH_COMMAND, ConnectorError
from streaming.package import (
    APP_JARFILE,
    APP_PYTHON_ENTRY,
    application_files,
    verified_application_files,
    verify_connector_jar,
)
from streaming.properties import PROPERTY_GROUP_ID, RUN_OPTIONS_GROUP_ID, parse_settings
from tests.support.config import raw_config
from tests.support.flink import REPO
from tests.support.harness import Resource, StackRun, run_stack
from tests.support.tokens import SECURE_BUCKET, STREAMING, type_token
from tools.engine.mocks import ACCOUNT_ID, PROJECT_DIR
from tools.local import REGION

POWERTOOLS_LAYER_ACCOUNT = "017000801446"  # where AWS publishes the Powertools layers
STREAMING_OFF = {"uba:streaming": {"enabled": False}, "uba:live": {"enabled": False}}  # live reads streaming's table


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def key_arn(run: StackRun) -> str:
    return str(run.one(type_token(aws.kms.Key), "platform-key").state["arn"])


def ops_topic_arn(stack: str) -> str:
    return arn("sns", f"uba-{stack}-ops")


def statements(run: StackRun, role_name: str) -> dict[str, dict[str, Any]]:
    role = run.one(type_token(aws.iam.Role), role_name)
    (policy,) = run.children(role)
    return {s["Sid"]: s for s in run.policy(policy)["Statement"]}


def trust(run: StackRun, role_name: str) -> list[dict[str, Any]]:
    return list(run.policy(run.one(type_token(aws.iam.Role), role_name), "assumeRolePolicy")["Statement"])


# --- the alerts stream, the table, the topic ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "mode", "shards", "retention_hours"),
    [("dev", "ON_DEMAND", None, 24), ("prod", "PROVISIONED", 1, 48)],
)
def test_alerts_stream_follows_the_stack_and_is_encrypted(stack: str, mode: str, shards: int | None,
                                                          retention_hours: int) -> None:  # fmt: skip
    run = run_stack(stack)
    stream = run.one(type_token(aws.kinesis.Stream), "alerts-stream")
    assert stream.inputs["name"] == f"uba-{stack}-alerts"
    assert stream.inputs["streamModeDetails"] == {"streamMode": mode}
    assert stream.inputs.get("shardCount") == shards
    assert stream.inputs["retentionPeriod"] == retention_hours
    assert stream.inputs["encryptionType"] == "KMS" and stream.inputs["kmsKeyId"] == key_arn(run)
    assert stream.protect is (stack == "prod")
    assert stream.parent == run.component(STREAMING).urn


@pytest.mark.parametrize(("stack", "pitr"), [("dev", False), ("prod", True)])
def test_realtime_table_has_the_sinks_schema_ttl_and_the_platform_key(stack: str, pitr: bool) -> None:
    run = run_stack(stack)
    table = run.one(type_token(aws.dynamodb.Table), "realtime-results")
    inputs = table.inputs
    assert inputs["name"] == f"uba-{stack}-realtime-results"
    assert inputs["billingMode"] == "PAY_PER_REQUEST"
    assert (inputs["hashKey"], inputs["rangeKey"]) == ("pk", "sk")
    assert sorted((a["name"], a["type"]) for a in inputs["attributes"]) == [("alertType", "S"), ("pk", "S"),
                                                                            ("sk", "S")]  # fmt: skip
    (index,) = inputs["globalSecondaryIndexes"]
    assert index["name"] == "byType" and index["projectionType"] == "ALL"
    assert [(k["attributeName"], k["keyType"]) for k in index["keySchemas"]] == [("alertType", "HASH"),
                                                                                  ("sk", "RANGE")]  # fmt: skip
    assert inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    assert inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": key_arn(run)}
    assert inputs["pointInTimeRecovery"] == {"enabled": pitr}
    assert inputs["deletionProtectionEnabled"] is pitr  # prod protects its data; dev does both or neither
    assert table.protect is (stack == "prod") and table.retain_on_delete is (stack == "prod")


@pytest.mark.parametrize(("stack", "email"), [("dev", "uba-dev-business@example.com"),
                                              ("prod", "business-alerts@example.com")])  # fmt: skip
def test_business_topic_is_encrypted_tls_only_and_mails_the_stacks_subscribers(stack: str, email: str) -> None:
    run = run_stack(stack)
    topic = run.one(type_token(aws.sns.Topic), "business-alerts-topic")
    assert topic.state["arn"] == arn("sns", f"uba-{stack}-business-alerts")
    assert topic.inputs["kmsMasterKeyId"] == key_arn(run)
    policy = run.policy(run.one(type_token(aws.sns.TopicPolicy), "business-alerts-topic-policy"))
    assert policy["Statement"] == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": [topic.state["arn"]],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    subscriptions = [s for s in run.children(topic) if s.type == type_token(aws.sns.TopicSubscription)]
    assert [(s.inputs["protocol"], s.inputs["endpoint"], s.inputs["topic"]) for s in subscriptions] == [
        ("email", email, topic.state["arn"])
    ]


def test_dead_letter_queue_is_encrypted_kept_for_the_longest_time_and_tls_only() -> None:
    run = run_stack("prod")
    queue = run.one(type_token(aws.sqs.Queue), "alert-sink-dlq")
    assert queue.inputs["name"] == "uba-prod-alert-sink-dlq"
    assert queue.inputs["kmsMasterKeyId"] == key_arn(run)
    assert queue.inputs["messageRetentionSeconds"] == 14 * 24 * 3600
    (policy,) = run.children(queue)
    assert run.policy(policy)["Statement"] == [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": [queue.state["arn"]],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]


# --- the alert sink ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "batch", "retries", "age"), [("dev", 100, 3, 3600), ("prod", 200, 5, 21600)]
)  # fmt: skip
def test_alerts_reach_the_sink_with_partial_failures_bounded_retries_and_a_dead_letter_queue(
    stack: str, batch: int, retries: int, age: int
) -> None:
    run = run_stack(stack)
    mapping = run.one(type_token(aws.lambda_.EventSourceMapping), "alert-sink-mapping").inputs
    assert mapping["eventSourceArn"] == arn("kinesis", f"stream/uba-{stack}-alerts")
    assert mapping["functionName"] == arn("lambda", f"function:uba-{stack}-alert-sink")
    assert mapping["startingPosition"] == "TRIM_HORIZON"
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["bisectBatchOnFunctionError"] is True
    assert (mapping["batchSize"], mapping["maximumRetryAttempts"], mapping["maximumRecordAgeInSeconds"]) == (
        batch,
        retries,
        age,
    )
    assert mapping["destinationConfig"] == {"onFailure": {"destinationArn": arn("sqs", f"uba-{stack}-alert-sink-dlq")}}


def test_mapping_waits_for_the_roles_grants_which_lambda_checks_at_creation() -> None:
    run = run_stack("dev")
    role_policy = run.children(run.one(type_token(aws.iam.Role), "alert-sink-role"))[0]
    mapping = run.one(type_token(aws.lambda_.EventSourceMapping), "alert-sink-mapping")
    assert role_policy.type == type_token(aws.iam.RolePolicy) and role_policy.urn in mapping.depends_on


@pytest.mark.parametrize(("stack", "memory", "tracing", "ttl_days"), [("dev", 256, "PassThrough", 3),
                                                                       ("prod", 512, "Active", 30)])  # fmt: skip
def test_sink_function_runs_the_handler_with_powertools_and_its_configuration(
    stack: str, memory: int, tracing: str, ttl_days: int
) -> None:
    run = run_stack(stack)
    function = run.one(type_token(aws.lambda_.Function), "alert-sink-function").inputs
    assert function["name"] == f"uba-{stack}-alert-sink"
    assert (function["runtime"], function["architectures"], function["handler"]) == (
        "python3.12",
        ["arm64"],
        "lambdas.alerts.handler",
    )
    assert function["role"] == f"arn:aws:iam::{ACCOUNT_ID}:role/uba-{stack}-alert-sink-role"
    (layer,) = function["layers"]
    # Resolved from /aws/service/powertools/python/arm64/python3.12/3.37.0, the stack's powertools_version.
    assert re.fullmatch(
        rf"arn:aws:lambda:{REGION}:{POWERTOOLS_LAYER_ACCOUNT}:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:\d+",
        layer,
    )
    assert function["memorySize"] == memory and function["timeout"] == 60
    assert function["kmsKeyArn"] == key_arn(run)
    assert function["tracingConfig"] == {"mode": tracing}
    expected_env = {
        "ALERTS_TABLE_NAME": f"uba-{stack}-realtime-results",
        "ALERTS_TOPIC_ARN": arn("sns", f"uba-{stack}-business-alerts"),
        "ALERTS_TTL_DAYS": str(ttl_days),
        "ALERTS_SUBJECT_PREFIX": f"[uba-{stack}]",
        "POWERTOOLS_SERVICE_NAME": "alert-sink",
        "POWERTOOLS_METRICS_NAMESPACE": f"uba-{stack}",
        "POWERTOOLS_TRACE_DISABLED": "true" if tracing == "PassThrough" else "false",
    }
    assert function["environment"]["variables"] == expected_env
    assert function["loggingConfig"] == {"logFormat": "JSON", "logGroup": f"/aws/lambda/uba-{stack}-alert-sink"}
    logs = run.one(type_token(aws.cloudwatch.LogGroup), "alert-sink-logs").inputs
    assert logs["name"] == f"/aws/lambda/uba-{stack}-alert-sink"
    assert logs["kmsKeyId"] == key_arn(run) and logs["retentionInDays"] == {"dev": 14, "prod": 365}[stack]


def test_sink_code_carries_the_handler_module_and_the_event_contract_it_imports() -> None:
    code = run_stack("dev").one(type_token(aws.lambda_.Function), "alert-sink-function").inputs["code"]
    modules = sorted(p.name for p in (PROJECT_DIR / "lambdas").glob("*.py"))
    assert {"alerts.py", "events.py", "__init__.py"} <= set(modules)
    files = {name: PROJECT_DIR / "lambdas" / name.removeprefix("lambdas/") for name in code["assetArchive"]}
    assert code == {
        "assetArchive": {
            f"lambdas/{m}": {"fileAsset": f"lambdas/{m}", "sha256": _sha256(files[f"lambdas/{m}"])} for m in modules
        }
    }


def _sink_grants(stack: str, tracing: bool) -> dict[str, dict[str, Any]]:
    key = key_arn(run_stack(stack))
    grants: dict[str, dict[str, Any]] = {
        "StoreAlerts": {"Action": ["dynamodb:UpdateItem"],
                        "Resource": arn("dynamodb", f"table/uba-{stack}-realtime-results")},
        "AnnounceAlerts": {"Action": ["sns:Publish"], "Resource": arn("sns", f"uba-{stack}-business-alerts")},
        "ReadAlertsStream": {
            "Action": ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
                       "kinesis:GetShardIterator", "kinesis:ListShards"],
            "Resource": arn("kinesis", f"stream/uba-{stack}-alerts"),
        },
        "RecordFailedBatches": {"Action": ["sqs:SendMessage"], "Resource": arn("sqs", f"uba-{stack}-alert-sink-dlq")},
        "UseThePlatformKeyThroughItsServices": {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": key,
            "Condition": {"StringEquals": {"kms:ViaService": [f"{s}.{REGION}.amazonaws.com"
                                                             for s in ("kinesis", "dynamodb", "sns", "sqs")]}},
        },
        "WriteOwnLogs": {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": arn("logs", f"log-group:/aws/lambda/uba-{stack}-alert-sink:*"),
        },
    }  # fmt: skip
    if tracing:
        grants["SendTraces"] = {"Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"}
    return {sid: {"Sid": sid, "Effect": "Allow", **grant} for sid, grant in grants.items()}


@pytest.mark.parametrize(("stack", "tracing"), [("dev", False), ("prod", True)])
def test_sink_role_grants_exactly_what_the_handler_and_its_mapping_use(stack: str, tracing: bool) -> None:
    run = run_stack(stack)
    assert statements(run, "alert-sink-role") == _sink_grants(stack, tracing)
    assert trust(run, "alert-sink-role") == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]


# --- the Flink application ---------------------------------------------------------------------------------


def flink_configuration(run: StackRun) -> dict[str, Any]:
    return dict(run.one(type_token(aws.kinesisanalyticsv2.Application), "flink-app").inputs)


@pytest.mark.parametrize(
    ("stack", "parallelism", "autoscaling", "snapshots", "restore"),
    [("dev", 1, False, False, "SKIP_RESTORE_FROM_SNAPSHOT"), ("prod", 4, True, True, "RESTORE_FROM_LATEST_SNAPSHOT")],
)
def test_flink_application_runs_the_packaged_job_with_the_stacks_capacity(
    stack: str, parallelism: int, autoscaling: bool, snapshots: bool, restore: str
) -> None:
    run = run_stack(stack)
    app = flink_configuration(run)
    assert app["name"] == f"uba-{stack}-anomaly-detection"
    assert app["runtimeEnvironment"] == "FLINK-1_20" and app["startApplication"] is True
    assert app["serviceExecutionRole"] == f"arn:aws:iam::{ACCOUNT_ID}:role/uba-{stack}-flink-role"
    configuration = app["applicationConfiguration"]
    code_object = run.one(type_token(aws.s3.BucketObjectv2), "flink-app-code")
    assert configuration["applicationCodeConfiguration"] == {
        "codeContentType": "ZIPFILE",
        "codeContent": {
            "s3ContentLocation": {
                "bucketArn": f"arn:aws:s3:::uba-{stack}-flink-artifacts-{ACCOUNT_ID}",
                "fileKey": code_object.inputs["key"],
                # Pinned to the uploaded version: new code is a new version, so the application updates.
                "objectVersion": code_object.state["versionId"],
            }
        },
    }
    flink = configuration["flinkApplicationConfiguration"]
    assert flink["checkpointConfiguration"] == {
        "configurationType": "CUSTOM",
        "checkpointingEnabled": True,
        "checkpointInterval": 60000,
        "minPauseBetweenCheckpoints": 5000,
    }
    assert flink["parallelismConfiguration"] == {
        "configurationType": "CUSTOM",
        "parallelism": parallelism,
        "parallelismPerKpu": 1,
        "autoScalingEnabled": autoscaling,
    }
    assert flink["monitoringConfiguration"] == {"configurationType": "CUSTOM", "logLevel": "INFO",
                                                "metricsLevel": "APPLICATION"}  # fmt: skip
    assert configuration["applicationSnapshotConfiguration"] == {"snapshotsEnabled": snapshots}
    assert configuration["runConfiguration"]["applicationRestoreConfiguration"] == {"applicationRestoreType": restore}
    log_stream = run.one(type_token(aws.cloudwatch.LogStream), "flink-log-stream")
    assert app["cloudwatchLoggingOptions"] == {"logStreamArn": log_stream.state["arn"]}
    assert log_stream.inputs["logGroupName"] == f"/aws/kinesis-analytics/uba-{stack}-anomaly-detection"
    logs = run.one(type_token(aws.cloudwatch.LogGroup), "flink-logs").inputs
    assert logs["kmsKeyId"] == key_arn(run) and logs["retentionInDays"] == {"dev": 14, "prod": 365}[stack]
    role_policy = run.children(run.one(type_token(aws.iam.Role), "flink-role"))[0]
    assert role_policy.urn in run.one(type_token(aws.kinesisanalyticsv2.Application)).depends_on


@pytest.mark.parametrize(("stack", "watermark"), [("dev", 5), ("prod", 10)])
def test_flink_runtime_properties_carry_the_streams_and_detection_settings_the_job_parses(
    stack: str, watermark: int
) -> None:
    groups = {
        g["propertyGroupId"]: g["propertyMap"]
        for g in flink_configuration(run_stack(stack))["applicationConfiguration"]["environmentProperties"][
            "propertyGroups"
        ]
    }
    assert set(groups) == {PROPERTY_GROUP_ID, RUN_OPTIONS_GROUP_ID}
    assert groups[RUN_OPTIONS_GROUP_ID] == {"python": APP_PYTHON_ENTRY, "jarfile": APP_JARFILE}
    job = parse_settings(groups[PROPERTY_GROUP_ID])  # what the job itself will make of them
    assert job.events_stream_arn == arn("kinesis", f"stream/uba-{stack}-events")
    assert job.alerts_stream_arn == arn("kinesis", f"stream/uba-{stack}-alerts")
    assert job.aws_region == REGION
    assert (job.watermark_seconds, job.window_seconds, job.warn_threshold) == (watermark, 60, 10)
    assert job.error_markers == ("[PANIC]", "[panic]", "[ERROR]", "[error]")
    assert job.warn_markers == ("WARNNING", "warnning", "WARNING", "warning")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_flink_reads_events_through_its_own_fan_out_consumer_that_lives_with_the_application(stack: str) -> None:
    """Issue 19: 5.0.0's polling source spins on idle shards; the job reads by enhanced fan-out instead."""
    run = run_stack(stack)
    consumer = run.one(type_token(aws.kinesis.StreamConsumer), "flink-events-consumer")
    application = run.one(type_token(aws.kinesisanalyticsv2.Application), "flink-app")
    assert consumer.inputs["name"] == f"uba-{stack}-anomaly-detection"  # one per stack, named after the app
    assert consumer.inputs["streamArn"] == arn("kinesis", f"stream/uba-{stack}-events")
    assert consumer.parent == run.component(STREAMING).urn
    # Created before the application (the job fails fast on a missing consumer), so destroyed after it.
    assert consumer.urn in application.depends_on
    groups = {
        g["propertyGroupId"]: g["propertyMap"]
        for g in application.inputs["applicationConfiguration"]["environmentProperties"]["propertyGroups"]
    }
    assert parse_settings(groups[PROPERTY_GROUP_ID]).require_consumer() == consumer.inputs["name"]


@pytest.mark.parametrize(("stack", "allow"), [("dev", False), ("prod", True)])
def test_a_changed_query_restores_what_still_maps_and_drops_the_rest_instead_of_restart_looping(
    stack: str, allow: bool
) -> None:
    """Issue 19: restoring a snapshot into a changed SQL plan without allow_non_restored_state fails for ever."""
    configuration = flink_configuration(run_stack(stack))["applicationConfiguration"]
    snapshots = configuration["applicationSnapshotConfiguration"]["snapshotsEnabled"]
    assert snapshots is allow
    # Sent every time: AWS resets it to false on an update that omits it.
    assert configuration["runConfiguration"]["flinkRunConfiguration"] == {"allowNonRestoredState": allow}


def test_the_code_object_waits_for_versioning_so_the_application_pins_a_real_version() -> None:
    """Issue 19: uploaded before versioning was on, the first object had no version id to pin."""
    run = run_stack("dev")
    versioning = run.one(type_token(aws.s3.BucketVersioning), "flink-artifacts-versioning")
    code = run.one(type_token(aws.s3.BucketObjectv2), "flink-app-code")
    assert versioning.urn in code.depends_on


def test_flink_code_is_uploaded_to_a_private_versioned_encrypted_bucket_in_the_packages_layout() -> None:
    run = run_stack("prod")
    bucket_component = run.one(SECURE_BUCKET, "flink-artifacts")
    bucket = run.one(type_token(aws.s3.Bucket), "flink-artifacts-bucket")
    under = {r.type.split(":")[-1]: r for r in run.children(bucket)}
    assert {"BucketServerSideEncryptionConfiguration", "BucketPublicAccessBlock", "BucketPolicy",
            "BucketVersioning", "BucketOwnershipControls"} <= set(under)  # fmt: skip
    assert under["BucketVersioning"].inputs["versioningConfiguration"] == {"status": "Enabled"}
    rules = {r["id"]: r for r in under["BucketLifecycleConfiguration"].inputs["rules"]}
    assert rules["expire-old-code"]["noncurrentVersionExpiration"] == {"noncurrentDays": 30}
    assert not bucket.protect, "the code is rebuilt from the repository; it is not data to protect"
    code = run.one(type_token(aws.s3.BucketObjectv2), "flink-app-code")
    assert code.parent == bucket_component.urn
    assert code.inputs["bucket"] == f"uba-prod-flink-artifacts-{ACCOUNT_ID}"
    assert (code.inputs["serverSideEncryption"], code.inputs["kmsKeyId"]) == ("aws:kms", key_arn(run))
    entries = code.inputs["source"]["assetArchive"]
    expected = application_files(PROJECT_DIR / APP_JARFILE)
    assert {name: e["fileAsset"] for name, e in entries.items()} == {
        name: str(path.relative_to(PROJECT_DIR)) for name, path in expected.items()
    }
    assert APP_PYTHON_ENTRY in entries and APP_JARFILE in entries  # where the run options point


def test_flink_role_grants_exactly_what_the_job_and_the_service_use() -> None:
    run = run_stack("dev")
    app_logs = arn("logs", "log-group:/aws/kinesis-analytics/uba-dev-anomaly-detection")
    expected: dict[str, dict[str, Any]] = {
        # Enhanced fan-out only: the shards of the stream, then the records through the consumer.
        "FindEventShards": {
            "Action": ["kinesis:DescribeStreamSummary", "kinesis:ListShards"],
            "Resource": arn("kinesis", "stream/uba-dev-events"),
        },
        "ReadEventsThroughTheConsumer": {
            "Action": ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
            "Resource": run.one(type_token(aws.kinesis.StreamConsumer), "flink-events-consumer").state["arn"],
        },
        "WriteAlerts": {"Action": ["kinesis:PutRecords"], "Resource": arn("kinesis", "stream/uba-dev-alerts")},
        "ReadApplicationCode": {
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"arn:aws:s3:::uba-dev-flink-artifacts-{ACCOUNT_ID}/flink/anomaly-detection.zip",
        },
        "UseThePlatformKeyThroughItsServices": {
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": key_arn(run),
            "Condition": {"StringEquals": {"kms:ViaService": [f"kinesis.{REGION}.amazonaws.com",
                                                             f"s3.{REGION}.amazonaws.com"]}},
        },
        "FindLogGroup": {"Action": ["logs:DescribeLogGroups"], "Resource": arn("logs", "log-group:*")},
        "FindLogStream": {"Action": ["logs:DescribeLogStreams"], "Resource": f"{app_logs}:log-stream:*"},
        "WriteLogs": {"Action": ["logs:PutLogEvents"], "Resource": f"{app_logs}:log-stream:application"},
    }  # fmt: skip
    assert statements(run, "flink-role") == {
        sid: {"Sid": sid, "Effect": "Allow", **grant} for sid, grant in expected.items()
    }
    assert trust(run, "flink-role") == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "kinesisanalytics.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
        }
    ]


# --- packaging the Flink application -----------------------------------------------------------------------


@pytest.fixture
def stand_in_jar(tmp_path: Path) -> Path:
    jar = tmp_path / "connector.jar"
    jar.write_bytes(b"PK\x03\x04 stands in for the Kinesis connector")
    return jar


@pytest.fixture(scope="module")
def entry_point() -> dict[str, Any]:
    """`__main__.py`'s functions, loaded without running the program (not as `__main__`)."""
    return runpy.run_path(str(REPO / "__main__.py"), run_name="entry_point_under_test")


def test_packaging_without_the_jar_stops_the_program_with_the_command_to_run(
    tmp_path: Path, entry_point: dict[str, Any]
) -> None:
    with pytest.raises(pulumi.RunError) as caught:
        entry_point["built_flink_application"](tmp_path / "missing.jar")
    message = str(caught.value)
    assert "cannot package the Flink application" in message and f"run `{FETCH_COMMAND}`" in message


def test_a_jar_that_is_not_the_pinned_artifact_is_refused(stand_in_jar: Path, entry_point: dict[str, Any]) -> None:
    with pytest.raises(pulumi.RunError, match=re.escape(f"not the pinned {'0' * 64}; run `{FETCH_COMMAND} --force`")):
        entry_point["built_flink_application"](stand_in_jar, expected_sha256="0" * 64)
    with pytest.raises(ConnectorError, match="SHA-256"):
        verify_connector_jar(stand_in_jar, expected_sha256="f" * 64)


def test_a_verified_jar_is_packaged_at_the_path_the_run_options_name(stand_in_jar: Path) -> None:
    digest = hashlib.sha256(stand_in_jar.read_bytes()).hexdigest()
    assert verify_connector_jar(stand_in_jar, expected_sha256=digest.upper()) == stand_in_jar
    archive = flink_code_archive(verified_application_files(stand_in_jar, expected_sha256=digest), REPO)
    assert isinstance(archive, pulumi.AssetArchive)
    paths = {name: asset.path for name, asset in archive.assets.items() if isinstance(asset, pulumi.FileAsset)}
    assert paths[APP_JARFILE] == str(stand_in_jar)
    assert paths[APP_PYTHON_ENTRY] == APP_PYTHON_ENTRY  # project files by relative path
    assert set(paths) == set(application_files(stand_in_jar))


def test_streaming_without_a_packaged_application_is_refused_before_anything_is_built() -> None:
    """The program deploys what it is given; streaming on with nothing to deploy is a wiring error."""
    settings = load_settings(raw_config("dev"), "dev")
    with pytest.raises(ValueError, match=r"PlatformArgs\.flink_code is empty"):
        PlatformArgs(settings=settings)


# --- alarms ------------------------------------------------------------------------------------------------


def alarm(run: StackRun, name: str) -> Resource:
    return run.one(type_token(aws.cloudwatch.MetricAlarm), name)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_dashboard_plots_a_lag_that_is_reported_at_the_applications_metrics_level(stack: str) -> None:
    """Issue 19: millisBehindLatest exists only per shard (PARALLELISM level); at APPLICATION the line stayed empty."""
    run = run_stack(stack)
    app = flink_configuration(run)
    level = app["applicationConfiguration"]["flinkApplicationConfiguration"]["monitoringConfiguration"]
    assert level["metricsLevel"] == "APPLICATION"
    board = json.loads(run.one(type_token(aws.cloudwatch.Dashboard)).inputs["dashboardBody"])
    lines = [line for w in board["widgets"] if w["type"] == "metric" for line in w["properties"]["metrics"]]
    assert not [line for line in lines if line[0] == "AWS/KinesisAnalytics" and line[1] == "millisBehindLatest"]
    consumer = run.one(type_token(aws.kinesis.StreamConsumer), "flink-events-consumer").inputs["name"]
    assert ["AWS/Kinesis", "SubscribeToShardEvent.MillisBehindLatest", "StreamName", f"uba-{stack}-events",
            "ConsumerName", consumer] in lines  # fmt: skip


@pytest.mark.parametrize(("stack", "iterator_age"), [("dev", 60000), ("prod", 120000)])
def test_alarms_watch_the_real_resources_and_notify_ops(stack: str, iterator_age: int) -> None:
    run = run_stack(stack)
    application = {"Application": f"uba-{stack}-anomaly-detection"}
    function = {"FunctionName": f"uba-{stack}-alert-sink"}
    expected = {
        "flink-downtime": ("AWS/KinesisAnalytics", "downtime", application, 0, "GreaterThanThreshold"),
        "flink-failed-checkpoints": ("AWS/KinesisAnalytics", "numberOfFailedCheckpoints", application, 0,
                                     "GreaterThanThreshold"),
        "alert-sink-iterator-age": ("AWS/Lambda", "IteratorAge", function, iterator_age, "GreaterThanThreshold"),
        "alert-sink-errors": ("AWS/Lambda", "Errors", function, 1, "GreaterThanOrEqualToThreshold"),
        "alert-sink-dead-letters": ("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                    {"QueueName": f"uba-{stack}-alert-sink-dlq"}, 0, "GreaterThanThreshold"),
    }  # fmt: skip
    streaming = run.component(STREAMING)
    alarms = [r for r in run.children(streaming) if r.type == type_token(aws.cloudwatch.MetricAlarm)]
    assert sorted(a.name for a in alarms) == sorted(expected)
    for name, (namespace, metric, dimensions, threshold, comparison) in expected.items():
        inputs = alarm(run, name).inputs
        assert inputs["name"] == f"uba-{stack}-{name}"
        assert (inputs["namespace"], inputs["metricName"], inputs["dimensions"]) == (namespace, metric, dimensions)
        assert (inputs["threshold"], inputs["comparisonOperator"]) == (threshold, comparison), name
        assert inputs["alarmActions"] == inputs["okActions"] == [ops_topic_arn(stack)]
    # The resources the dimensions name are the ones the tier created.
    assert run.one(type_token(aws.kinesisanalyticsv2.Application)).inputs["name"] == application["Application"]
    assert run.one(type_token(aws.lambda_.Function), "alert-sink-function").inputs["name"] == function["FunctionName"]
    # A stopped application reports nothing; silence must not look healthy.
    assert alarm(run, "flink-downtime").inputs["treatMissingData"] == "breaching"
    assert alarm(run, "alert-sink-dead-letters").inputs["treatMissingData"] == "notBreaching"


# --- outputs and switching the tier off --------------------------------------------------------------------


def test_stack_exports_the_streaming_handles() -> None:
    outputs = run_stack("prod").outputs
    assert outputs["alerts_stream_name"] == "uba-prod-alerts"
    assert outputs["realtime_table_name"] == "uba-prod-realtime-results"
    assert outputs["business_alerts_topic_arn"] == arn("sns", "uba-prod-business-alerts")


def test_with_streaming_off_the_rest_of_the_platform_still_deploys() -> None:
    run = run_stack("dev", overrides=STREAMING_OFF)
    assert not [r for r in run.resources if r.type.startswith("uba:streaming:")]

    def outside_the_edge(token: str) -> list:  # the edge tier has its own stream, queues, mapping and topic
        return [r for r in run.of_type(token) if "uba:edge:Edge$" not in r.urn]

    for token in (type_token(aws.kinesisanalyticsv2.Application), type_token(aws.lambda_.EventSourceMapping),
                  type_token(aws.dynamodb.Table), type_token(aws.sqs.Queue)):  # fmt: skip
        assert outside_the_edge(token) == [], token
    assert [s.inputs["name"] for s in outside_the_edge(type_token(aws.kinesis.Stream))] == ["uba-dev-events"]
    assert [t.name for t in outside_the_edge(type_token(aws.sns.Topic))] == ["ops-topic"]
    assert set(run.outputs) >= {"kms_key_arn", "ops_topic_arn", "events_stream_name"}
    assert not {"alerts_stream_name", "realtime_table_name", "business_alerts_topic_arn"} & set(run.outputs)


# --- settings the tier relies on ---------------------------------------------------------------------------


def _streaming_raw(**sink: Any) -> dict[str, Any]:
    return {"alerts_stream": {"mode": "on_demand", "retention_hours": 72}, "sink": sink}


def test_results_must_outlive_the_alerts_that_can_still_be_redelivered() -> None:
    raw = raw_config("dev")
    raw["streaming"] = _streaming_raw(results_ttl_days=3)
    with pytest.raises(SettingsError) as caught:
        load_settings(raw, "dev")
    assert caught.value.problems == [
        "streaming.sink.results_ttl_days: must outlast the alerts stream's retention (72 hours), got 3 days"
    ]
    raw["streaming"] = _streaming_raw(results_ttl_days=4)
    assert load_settings(raw, "dev").streaming.sink.results_ttl_days == 4


def test_the_property_map_is_plain_strings_as_managed_flink_requires() -> None:
    app = flink_configuration(run_stack("dev"))
    for group in app["applicationConfiguration"]["environmentProperties"]["propertyGroups"]:
        assert all(isinstance(v, str) for v in group["propertyMap"].values()), group["propertyGroupId"]
    groups = app["applicationConfiguration"]["environmentProperties"]["propertyGroups"]
    uba = next(g["propertyMap"] for g in groups if g["propertyGroupId"] == PROPERTY_GROUP_ID)
    assert json.loads(uba["error.markers"]) == ["[PANIC]", "[panic]", "[ERROR]", "[error]"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
