"""The lake tier on the real dev and prod stacks: buckets, Firehose, Glue, Athena, roles, alarms."""

from __future__ import annotations

import importlib
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pulumi_aws as aws
import pytest
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from components.lake.schema import (
    glue_columns,
    json_key_mappings,
    schema_mismatches,
)
from components.shared.buckets import SecureBucketArgs
from lambdas.events import IngestEnvelope, StoredColumn, UserEvent, stored_columns, stored_record
from settings import LakeSettings, SettingsError, load_settings
from sql.athena import load_query, query_names, render_for_athena
from sql.lake import event_partition
from tests.support.harness import ProgramError, Resource, StackRun, run_stack
from tests.support.tokens import LAKE, LIVE, PLATFORM, STREAMING, type_token
from tools.engine.mocks import ACCOUNT_ID, load_stack_config, run_isolated
from tools.local import REGION

# The `jq` wheel embeds libjq: the partition query runs here on the same language Firehose runs.
jq: Any = importlib.import_module("jq")

STACKS = ["dev", "prod"]
BUCKET = type_token(aws.s3.Bucket)
FIREHOSE = type_token(aws.kinesis.FirehoseDeliveryStream)
TABLE = type_token(aws.glue.CatalogTable)
WORKGROUP = type_token(aws.athena.Workgroup)
ALARM = type_token(aws.cloudwatch.MetricAlarm)


def lake_settings(stack: str) -> LakeSettings:
    return LakeSettings.model_validate(load_stack_config(stack)["uba:lake"])


def bucket(run: StackRun, purpose: str) -> Resource:
    return run.one(BUCKET, f"{purpose}-bucket")


def under(run: StackRun, parent: Resource, type_suffix: str) -> Resource:
    found = [r for r in run.children(parent) if r.type.endswith(type_suffix)]
    assert len(found) == 1, f"{parent.name}: expected one {type_suffix}, found {[r.type for r in found]}"
    return found[0]


def lifecycle_rules(run: StackRun, purpose: str) -> dict[str, dict[str, Any]]:
    config = under(run, bucket(run, purpose), ":BucketLifecycleConfiguration")
    return {rule["id"]: rule for rule in config.inputs["rules"]}


def key_arn(run: StackRun) -> str:
    return str(run.one(type_token(aws.kms.Key), "platform-key").state["arn"])


def firehose(run: StackRun) -> dict[str, Any]:
    return dict(run.one(FIREHOSE, "events-to-lake").inputs)


# --- buckets ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_lake_and_results_are_sse_kms_with_the_platform_key_and_the_log_bucket_sse_s3(stack: str) -> None:
    run = run_stack(stack)
    for purpose in ("lake", "athena-results"):
        rule = under(run, bucket(run, purpose), ":BucketServerSideEncryptionConfiguration").inputs["rules"][0]
        assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn(run)}
        assert rule["bucketKeyEnabled"] is True
    # S3 server access log delivery cannot write to an SSE-KMS bucket.
    log_rule = under(run, bucket(run, "lake-access-logs"), ":BucketServerSideEncryptionConfiguration").inputs["rules"]
    assert log_rule == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]


@pytest.mark.parametrize("stack", STACKS)
def test_every_lake_bucket_is_private_tls_only_and_named_for_the_stack(stack: str) -> None:
    run = run_stack(stack)
    for purpose in ("lake", "athena-results", "lake-access-logs"):
        resource = bucket(run, purpose)
        assert resource.inputs["bucket"] == f"uba-{stack}-{purpose}-{ACCOUNT_ID}"
        block = under(run, resource, ":BucketPublicAccessBlock").inputs
        assert [
            block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        ] == [True] * 4
        statements = run.policy(under(run, resource, ":BucketPolicy"))["Statement"]
        deny = next(s for s in statements if s["Sid"] == "DenyInsecureTransport")
        arn = resource.state["arn"]
        assert deny == {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }


def test_lake_and_results_log_to_the_log_bucket_which_admits_only_s3_log_delivery_per_source() -> None:
    run = run_stack("prod")
    logs = bucket(run, "lake-access-logs")
    assert not [r for r in run.children(logs) if r.type.endswith(":BucketLogging")], "the log bucket must not log"
    for purpose in ("lake", "athena-results"):
        logging = under(run, bucket(run, purpose), ":BucketLogging").inputs
        assert (logging["targetBucket"], logging["targetPrefix"]) == (logs.state["bucket"], f"{purpose}/")
    allows = [s for s in run.policy(under(run, logs, ":BucketPolicy"))["Statement"] if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{logs.state['arn']}/{purpose}/*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": bucket(run, purpose).state["arn"]},
                "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
            },
        }
        for sid, purpose in (
            ("S3ServerAccessLogsFromLake", "lake"),
            ("S3ServerAccessLogsFromAthenaResults", "athena-results"),
        )
    ]
    # No other bucket of the lake lets any principal in.
    for purpose in ("lake", "athena-results"):
        statements = run.policy(under(run, bucket(run, purpose), ":BucketPolicy"))["Statement"]
        assert [s["Effect"] for s in statements] == ["Deny"]


def test_secure_bucket_refuses_sse_s3_except_for_an_access_log_bucket_and_logs_into_kms() -> None:
    context: Any = object()  # never reached: the arguments are refused first
    with pytest.raises(ValueError, match="sse-s3 is only for access-log buckets"):
        SecureBucketArgs(context=context, purpose="lake", encryption="sse-s3")
    with pytest.raises(ValueError, match="only to an SSE-S3"):
        SecureBucketArgs(context=context, purpose="logs", access_logs_from=("lake",))


def test_dev_expires_raw_events_and_prod_keeps_them_forever() -> None:
    dev, prod = lake_settings("dev").lifecycle, lake_settings("prod").lifecycle
    assert dev.expire_after_days is not None and prod.expire_after_days is None
    for stack, lifecycle in (("dev", dev), ("prod", prod)):
        raw = lifecycle_rules(run_stack(stack), "lake")["raw-events"]
        assert raw["filter"] == {"prefix": "events/"} and raw["status"] == "Enabled"
        assert raw["transitions"] == [
            {"days": lifecycle.infrequent_access_after_days, "storageClass": "STANDARD_IA"},
            {"days": lifecycle.glacier_after_days, "storageClass": "GLACIER_IR"},
        ]
        if lifecycle.expire_after_days is None:
            assert raw.get("expiration") is None
        else:
            assert raw["expiration"] == {"days": lifecycle.expire_after_days}


@pytest.mark.parametrize("stack", STACKS)
def test_errors_results_and_access_logs_expire_after_the_stacks_days(stack: str) -> None:
    run, lifecycle = run_stack(stack), lake_settings(stack).lifecycle
    errors = lifecycle_rules(run, "lake")["delivery-errors"]
    assert errors["filter"] == {"prefix": "errors/"}
    assert errors["expiration"] == {"days": lifecycle.errors_expire_after_days}
    results = lifecycle_rules(run, "athena-results")["query-results"]
    assert results["filter"] == {"prefix": ""}
    assert results["expiration"] == {"days": lifecycle.athena_results_expire_after_days}
    logs = lifecycle_rules(run, "lake-access-logs")["access-logs"]
    assert logs["expiration"] == {"days": lifecycle.access_logs_expire_after_days}
    for purpose in ("lake", "athena-results", "lake-access-logs"):
        abort = lifecycle_rules(run, purpose)["abort-incomplete-multipart-uploads"]
        assert abort["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}


def test_prod_versions_lake_and_results_and_expires_old_versions_dev_does_not() -> None:
    prod, dev = run_stack("prod"), run_stack("dev")
    days = lake_settings("prod").lifecycle.noncurrent_versions_expire_after_days
    for purpose in ("lake", "athena-results"):
        versioning = under(prod, bucket(prod, purpose), ":BucketVersioning").inputs
        assert versioning["versioningConfiguration"] == {"status": "Enabled"}
        for rule_id, rule in lifecycle_rules(prod, purpose).items():
            if rule_id != "abort-incomplete-multipart-uploads":
                assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": days}, rule_id
        assert not [r for r in dev.children(bucket(dev, purpose)) if r.type.endswith(":BucketVersioning")]
        assert all(r.get("noncurrentVersionExpiration") is None for r in lifecycle_rules(dev, purpose).values())


def test_prod_protects_the_lake_its_logs_and_catalog_but_never_the_scratch_results() -> None:
    prod, dev = run_stack("prod"), run_stack("dev")
    kept = [bucket(prod, "lake"), bucket(prod, "lake-access-logs"), prod.one(TABLE, "events-table")]
    kept.append(prod.one(type_token(aws.glue.CatalogDatabase)))
    assert all(r.protect and r.retain_on_delete for r in kept)
    results = bucket(prod, "athena-results")
    assert not results.protect and results.inputs["forceDestroy"] is True
    assert not any(r.protect for r in dev.resources)


# --- Firehose --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_firehose_reads_the_events_stream_and_buffers_as_the_stack_says(stack: str) -> None:
    run, settings = run_stack(stack), lake_settings(stack)
    stream = firehose(run)
    role_arn = run.one(type_token(aws.iam.Role), "lake-firehose").state["arn"]
    assert stream["name"] == f"uba-{stack}-events-to-lake" and stream["destination"] == "extended_s3"
    assert stream["kinesisSourceConfiguration"] == {
        "kinesisStreamArn": run.one(type_token(aws.kinesis.Stream), "events-stream").state["arn"],
        "roleArn": role_arn,
    }
    s3 = stream["extendedS3Configuration"]
    assert s3["bucketArn"] == bucket(run, "lake").state["arn"] and s3["roleArn"] == role_arn
    assert (s3["bufferingSize"], s3["bufferingInterval"]) == (
        settings.firehose.buffer_mb,
        settings.firehose.buffer_seconds,
    )
    assert s3["bufferingSize"] >= 64  # Parquet conversion and dynamic partitioning refuse less
    assert s3["kmsKeyArn"] == key_arn(run)
    # Records rest in the KMS-encrypted source stream; Firehose SSE is for Direct PUT only.
    assert "serverSideEncryption" not in stream


def test_firehose_partitions_by_event_time_and_sends_failures_to_errors() -> None:
    s3 = firehose(run_stack("dev"))["extendedS3Configuration"]
    assert s3["dynamicPartitioningConfiguration"] == {"enabled": True}
    assert s3["prefix"] == (
        "events/year=!{partitionKeyFromQuery:year}/month=!{partitionKeyFromQuery:month}/"
        "day=!{partitionKeyFromQuery:day}/hour=!{partitionKeyFromQuery:hour}/"
    )
    assert s3["errorOutputPrefix"].startswith("errors/!{firehose:error-output-type}/")
    (processor,) = s3["processingConfiguration"]["processors"]
    assert processor["type"] == "MetadataExtraction"
    parameters = {p["parameterName"]: p["parameterValue"] for p in processor["parameters"]}
    assert parameters["JsonParsingEngine"] == "JQ-1.6"
    assert set(parameters) == {"MetadataExtractionQuery", "JsonParsingEngine"}


def _deployed_partition(s3: dict[str, Any], record: dict[str, Any]) -> str:
    """The S3 prefix Firehose would compute: run the deployed JQ, fill the deployed prefix."""
    processor = s3["processingConfiguration"]["processors"][0]
    query = next(
        p["parameterValue"] for p in processor["parameters"] if p["parameterName"] == "MetadataExtractionQuery"
    )
    keys = jq.compile(query).input_value(record).first()
    return re.sub(r"!\{partitionKeyFromQuery:(\w+)\}", lambda m: str(keys[m.group(1)]), s3["prefix"])


@pytest.mark.parametrize(
    "created_at",
    [
        datetime(2026, 1, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))),  # New Year locally, still 2025 in UTC
        datetime(2026, 3, 31, 22, 15, tzinfo=timezone(timedelta(hours=-5))),  # next UTC day and month
        datetime(2026, 7, 4, 9, 5, 59, 999000, tzinfo=UTC),
    ],
)
def test_deployed_partition_query_files_an_event_under_its_utc_hour_like_the_local_lake(created_at: datetime) -> None:
    run = run_stack("dev")
    event = UserEvent(eventId="e-1", action="viewDoc", userId="u-1", objectId="o-1", bizId="b-1", createdAt=created_at)
    record = stored_record(event, IngestEnvelope(receivedAt=datetime(2026, 7, 4, tzinfo=UTC)))
    prefix = _deployed_partition(firehose(run)["extendedS3Configuration"], record)
    assert prefix == event_partition(created_at)
    # Athena finds the same place through the table's projection template.
    template = run.one(TABLE, "events-table").inputs["parameters"]["storage.location.template"]
    keys = dict(re.findall(r"(\w+)=([^/]+)", prefix))
    assert (
        re.sub(r"\$\{(\w+)\}", lambda m: keys[m.group(1)], template)
        == f"s3://{bucket(run, 'lake').state['bucket']}/{prefix}"
    )


@pytest.mark.parametrize("created_at", [None, "2026-03-01T20:15:00+08:00", "2026-02-30T00:00:00Z", 1772367300])
def test_a_record_without_a_stream_timestamp_fails_the_partition_query_and_so_goes_to_errors(created_at: Any) -> None:
    s3 = firehose(run_stack("dev"))["extendedS3Configuration"]
    # A failed query fails Firehose's partitioning, which writes the record under the error prefix
    # (rather than filing `+08:00` under the wrong UTC hour, or a day that does not exist).
    record = {"eventId": "e-1", "action": "viewDoc", "createdAt": created_at}
    with pytest.raises(ValueError, match=r"createdAt: not a stream timestamp \(UTC as YYYY-MM-DDTHH:MM:SS"):
        _deployed_partition(s3, record)


def test_firehose_converts_json_to_parquet_against_the_glue_table() -> None:
    run = run_stack("prod")
    conversion = firehose(run)["extendedS3Configuration"]["dataFormatConversionConfiguration"]
    assert conversion["enabled"] is True
    openx = conversion["inputFormatConfiguration"]["deserializer"]["openXJsonSerDe"]
    assert openx["caseInsensitive"] is False  # camelCase keys are matched exactly, through the map
    assert conversion["outputFormatConfiguration"]["serializer"] == {"parquetSerDe": {"compression": "SNAPPY"}}
    table = run.one(TABLE, "events-table")
    assert conversion["schemaConfiguration"] == {
        "databaseName": table.inputs["databaseName"],
        "tableName": "events",
        "roleArn": run.one(type_token(aws.iam.Role), "lake-firehose").state["arn"],
        "region": REGION,
        "catalogId": ACCOUNT_ID,
        "versionId": "LATEST",
    }


@pytest.mark.parametrize("stack", STACKS)
def test_firehose_logs_errors_to_an_encrypted_log_group_with_the_stacks_retention(stack: str) -> None:
    run = run_stack(stack)
    group = run.one(type_token(aws.cloudwatch.LogGroup), "lake-firehose-logs")
    assert group.inputs["name"] == f"/aws/kinesisfirehose/uba-{stack}-events-to-lake"
    assert group.inputs["kmsKeyId"] == key_arn(run)
    retention = load_stack_config(stack)["uba:platform"]["log_retention_days"]
    assert group.inputs["retentionInDays"] == retention
    log_stream = under(run, group, ":LogStream")
    options = firehose(run)["extendedS3Configuration"]["cloudwatchLoggingOptions"]
    assert options == {
        "enabled": True,
        "logGroupName": group.inputs["name"],
        "logStreamName": log_stream.inputs["name"],
    }


# --- the contract, the table and the conversion agree ---------------------------------------------------


def _glue_type(json_schema: dict[str, Any]) -> str:
    """Glue type of a field from its JSON schema: an independent reading of the contract."""
    variants = [v for v in json_schema.get("anyOf", [json_schema]) if v.get("type") != "null"]
    (variant,) = variants
    if variant.get("format") == "date-time":
        return "timestamp"
    return {"string": "string", "integer": "int"}[variant["type"]]


def contract_expectation() -> dict[str, str]:
    return {
        key: _glue_type(prop)
        for model in (UserEvent, IngestEnvelope)
        for key, prop in model.model_json_schema()["properties"].items()
    }


def deployed_schema(run: StackRun) -> tuple[list[dict[str, str]], dict[str, str]]:
    columns = [
        {"name": c["name"], "type": c["type"]}
        for c in run.one(TABLE, "events-table").inputs["storageDescriptor"]["columns"]
    ]
    conversion = firehose(run)["extendedS3Configuration"]["dataFormatConversionConfiguration"]
    return columns, conversion["inputFormatConfiguration"]["deserializer"]["openXJsonSerDe"]["columnToJsonKeyMappings"]


@pytest.mark.parametrize("stack", STACKS)
def test_glue_columns_and_firehose_key_mappings_match_every_contract_field(stack: str) -> None:
    columns, mappings = deployed_schema(run_stack(stack))
    assert schema_mismatches(contract_expectation(), columns, mappings) == []
    assert len(columns) == len(contract_expectation()) == len(UserEvent.model_fields) + len(IngestEnvelope.model_fields)


def test_a_field_added_to_the_contract_only_is_reported_and_derivation_carries_it_everywhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    columns, mappings = deployed_schema(run_stack("dev"))
    grown = {**contract_expectation(), "sessionId": "string"}
    # The deployed table and conversion lack the new field: the check names it.
    assert schema_mismatches(grown, columns, mappings) == ["contract field 'sessionId' is not mapped to any column"]
    # A column typed differently, or one the contract never had, is reported too.
    wrong_type = [{**c, "type": "int"} if c["name"] == "action" else c for c in columns]
    assert schema_mismatches(contract_expectation(), wrong_type, mappings) == [
        "column 'action' is int in Glue, the contract says string"
    ]
    stale = {**mappings, "legacy": "legacyKey"}
    assert schema_mismatches(contract_expectation(), [*columns, {"name": "legacy", "type": "string"}], stale) == [
        "column 'legacy' is filled from 'legacyKey', which the contract does not define"
    ]
    # The builders take their columns from the contract, so the same field reaches both.
    extra = StoredColumn("sessionId", "session_id", "string", 64, False, "Client session.")
    monkeypatch.setattr("components.lake.schema.stored_columns", lambda: [*stored_columns(), extra])
    derived_columns = [{"name": c.name, "type": c.type} for c in glue_columns()]
    assert schema_mismatches(grown, derived_columns, json_key_mappings()) == []


# --- Glue and Athena -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_events_table_is_parquet_over_the_events_prefix_with_projected_hour_partitions(stack: str) -> None:
    run = run_stack(stack)
    table = run.one(TABLE, "events-table")
    database = run.one(type_token(aws.glue.CatalogDatabase))
    lake = bucket(run, "lake").state["bucket"]
    assert database.inputs["name"] == f"uba_{stack}_lake" and table.inputs["databaseName"] == database.inputs["name"]
    assert table.inputs["name"] == "events" and table.inputs["tableType"] == "EXTERNAL_TABLE"
    storage = table.inputs["storageDescriptor"]
    assert storage["location"] == f"s3://{lake}/events/"
    assert storage["serDeInfo"]["serializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert storage["inputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert storage["outputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    assert [(k["name"], k["type"]) for k in table.inputs["partitionKeys"]] == [
        ("year", "string"),
        ("month", "string"),
        ("day", "string"),
        ("hour", "string"),
    ]
    parameters = table.inputs["parameters"]
    assert parameters["projection.enabled"] == "true" and parameters["classification"] == "parquet"
    assert parameters["projection.year.type"] == "integer"
    first, last = (int(y) for y in parameters["projection.year.range"].split(","))
    assert first <= datetime.now(UTC).year < last
    for key, bounds in (("month", "1,12"), ("day", "1,31"), ("hour", "0,23")):
        assert (parameters[f"projection.{key}.type"], parameters[f"projection.{key}.range"]) == ("integer", bounds)
        assert parameters[f"projection.{key}.digits"] == "2"  # `month=01`, as Firehose's slices write it
    assert parameters["storage.location.template"] == (
        f"s3://{lake}/events/year=${{year}}/month=${{month}}/day=${{day}}/hour=${{hour}}/"
    )


# Resource name -> (workgroup name suffix, results prefix): op keeps the lake's original workgroup and URN.
PERSONA_WORKGROUPS = {
    "athena-workgroup": ("analytics", "results/op/"),
    "athena-workgroup-dev": ("analytics-dev", "results/dev/"),
    "athena-workgroup-bizuser": ("analytics-bizuser", "results/bizuser/"),
}


def lake_workgroups(run: StackRun) -> list[Resource]:
    """The lake tier's workgroups (the BI tier has one of its own, for QuickSight)."""
    lake = {r.urn for r in run.children(run.component(LAKE), recursive=True)}
    return [w for w in run.of_type(WORKGROUP) if w.urn in lake]


@pytest.mark.parametrize("stack", STACKS)
def test_each_persona_workgroup_enforces_its_own_encrypted_results_prefix_and_the_stacks_scan_limit(
    stack: str,
) -> None:
    """One prefix per workgroup: the access tier can then keep one group's results from another."""
    run = run_stack(stack)
    results = bucket(run, "athena-results").state["bucket"]
    assert {w.name for w in lake_workgroups(run)} == set(PERSONA_WORKGROUPS)
    locations = set()
    for resource_name, (name, prefix) in PERSONA_WORKGROUPS.items():
        workgroup = run.one(WORKGROUP, resource_name)
        assert workgroup.inputs["name"] == f"uba-{stack}-{name}"
        config = workgroup.inputs["configuration"]
        assert config["enforceWorkgroupConfiguration"] is True  # a client cannot pick another location
        assert config["publishCloudwatchMetricsEnabled"] is True
        assert config["bytesScannedCutoffPerQuery"] == lake_settings(stack).athena_bytes_scanned_cutoff
        assert config["engineVersion"] == {"selectedEngineVersion": "Athena engine version 3"}
        assert config["resultConfiguration"] == {
            "outputLocation": f"s3://{results}/{prefix}",
            "encryptionConfiguration": {"encryptionOption": "SSE_KMS", "kmsKeyArn": key_arn(run)},
        }
        locations.add(config["resultConfiguration"]["outputLocation"])
    assert len(locations) == len(PERSONA_WORKGROUPS)  # no two workgroups share a location


def test_the_op_workgroup_keeps_the_urn_and_name_of_the_lakes_original_workgroup() -> None:
    """Deployed stacks keep their query history: the workgroup is updated in place, not replaced."""
    run = run_stack("prod")
    workgroup = run.one(WORKGROUP, "athena-workgroup")
    # The URN the deployed stacks hold (baseline synth of main): the same, so nothing is replaced.
    assert workgroup.urn == "urn:pulumi:prod::uba::uba:lake:Lake$aws:athena/workgroup:Workgroup::athena-workgroup"
    assert workgroup.inputs["name"] == "uba-prod-analytics"
    statements = [r for r in run.of_type(type_token(aws.athena.PreparedStatement)) if r.parent == workgroup.urn]
    assert sorted(r.name for r in statements) == [f"athena-query-{name}" for name in query_names()]


def test_prod_lets_a_query_scan_more_than_dev() -> None:
    dev, prod = (
        run_stack(s).one(WORKGROUP, "athena-workgroup-bizuser").inputs["configuration"]["bytesScannedCutoffPerQuery"]
        for s in STACKS
    )
    assert dev < prod


# --- the Firehose role -----------------------------------------------------------------------------------


def test_firehose_role_is_trusted_by_firehose_of_this_account_only() -> None:
    run = run_stack("dev")
    trust = run.policy(run.one(type_token(aws.iam.Role), "lake-firehose"), "assumeRolePolicy")
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "firehose.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": ACCOUNT_ID}},
        }
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_firehose_role_grants_exactly_what_delivery_needs(stack: str) -> None:
    run = run_stack(stack)
    role = run.one(type_token(aws.iam.Role), "lake-firehose")
    (policy,) = run.children(role)
    stream_arn = run.one(type_token(aws.kinesis.Stream), "events-stream").state["arn"]
    lake = bucket(run, "lake").state["arn"]
    prefixes = [f"{lake}/events/*", f"{lake}/errors/*"]
    key = key_arn(run)
    table = run.one(TABLE, "events-table")
    database = run.one(type_token(aws.glue.CatalogDatabase))
    log_group = run.one(type_token(aws.cloudwatch.LogGroup), "lake-firehose-logs").state["arn"]
    assert run.policy(policy)["Statement"] == [
        {
            "Sid": "ReadEventsStream",
            "Effect": "Allow",
            "Action": [
                "kinesis:DescribeStream",
                "kinesis:GetShardIterator",
                "kinesis:GetRecords",
                "kinesis:ListShards",
            ],
            "Resource": stream_arn,
        },
        {
            "Sid": "DecryptEventsStream",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key,
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": f"kinesis.{REGION}.amazonaws.com",
                    "kms:EncryptionContext:aws:kinesis:arn": stream_arn,
                }
            },
        },
        {
            "Sid": "LocateLakeBucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            "Resource": lake,
        },
        {
            "Sid": "WriteEventsAndErrors",
            "Effect": "Allow",
            "Action": ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            "Resource": prefixes,
        },
        {
            "Sid": "EncryptLakeObjects",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"},
                "ArnLike": {"kms:EncryptionContext:aws:s3:arn": [lake, *prefixes]},
            },
        },
        {
            "Sid": "ReadEventsSchema",
            "Effect": "Allow",
            "Action": ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
            "Resource": [
                f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:catalog",
                database.state["arn"],
                table.state["arn"],
            ],
        },
        {
            "Sid": "WriteDeliveryErrorLog",
            "Effect": "Allow",
            "Action": "logs:PutLogEvents",
            "Resource": f"{log_group}:log-stream:DestinationDelivery",
        },
    ]
    assert table.state["arn"] == f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:table/uba_{stack}_lake/events"
    # Firehose checks the role's access when it is created: the policy must exist first.
    assert policy.urn in run.one(FIREHOSE, "events-to-lake").depends_on


# --- alarms ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_alarms_watch_delivery_freshness_and_failed_conversions_and_page_ops(stack: str) -> None:
    run = run_stack(stack)
    stream_name = run.one(FIREHOSE, "events-to-lake").state["name"]
    ops = run.one(type_token(aws.sns.Topic), "ops-topic").state["arn"]
    freshness = run.one(ALARM, "lake-delivery-freshness").inputs
    failed = run.one(ALARM, "lake-failed-conversions").inputs
    for alarm in (freshness, failed):
        assert alarm["namespace"] == "AWS/Firehose"
        assert alarm["dimensions"] == {"DeliveryStreamName": stream_name}
        assert alarm["alarmActions"] == [ops] and alarm["okActions"] == [ops]
        assert alarm["comparisonOperator"] == "GreaterThanThreshold"
    assert (freshness["metricName"], freshness["statistic"]) == ("DeliveryToS3.DataFreshness", "Maximum")
    assert freshness["threshold"] == lake_settings(stack).alarms.freshness_seconds
    assert (failed["metricName"], failed["statistic"], failed["threshold"]) == ("FailedConversion.Records", "Sum", 0)


# --- wiring, outputs and switching the tier off ---------------------------------------------------------


def test_outputs_name_the_lake_bucket_workgroup_and_database() -> None:
    run = run_stack("dev")
    assert run.outputs["lake_bucket_name"] == bucket(run, "lake").state["bucket"]
    assert run.outputs["athena_workgroup_name"] == run.one(WORKGROUP, "athena-workgroup").state["name"]
    assert run.outputs["athena_workgroup_name"] == "uba-dev-analytics"
    assert run.outputs["athena_workgroup_dev_name"] == "uba-dev-analytics-dev"
    assert run.outputs["athena_workgroup_bizuser_name"] == "uba-dev-analytics-bizuser"
    assert run.outputs["glue_database_name"] == "uba_dev_lake"
    lake = run.one(LAKE)
    assert lake.parent == run.one(PLATFORM).urn
    # Every lake resource lives under the Lake component (the streaming tier keeps its own code bucket, the
    # live tier the dashboard's page and its access logs).
    inside = {r.urn for r in run.children(lake, recursive=True)}
    others = {r.urn for tier in (STREAMING, LIVE) for r in run.children(run.one(tier), recursive=True)}
    for lake_type in (FIREHOSE, TABLE, WORKGROUP, BUCKET):
        assert {r.urn for r in run.of_type(lake_type)} - others <= inside


def _switched_off(lake: bool, warehouse: bool) -> dict[str, Any]:
    config = load_stack_config("dev")
    return {
        "uba:lake": {**config["uba:lake"], "enabled": lake},
        "uba:warehouse": {**config["uba:warehouse"], "enabled": warehouse},
    }


def test_a_stack_without_the_lake_builds_none_of_it() -> None:
    run = run_stack("dev", overrides=_switched_off(lake=False, warehouse=False))
    assert not run.of_type(LAKE)
    for lake_type in (FIREHOSE, TABLE, WORKGROUP):
        assert not run.of_type(lake_type), lake_type
    leftovers = [r.name for r in [*run.of_type(BUCKET), *run.of_type(ALARM)] if r.name.startswith(("lake", "athena"))]
    assert leftovers == []
    assert not {"lake_bucket_name", "athena_workgroup_name", "glue_database_name"} & set(run.outputs)
    assert run.outputs["events_stream_name"] == "uba-dev-events"


def test_the_lake_cannot_be_switched_off_under_a_warehouse() -> None:
    with pytest.raises(ProgramError, match=re.escape("warehouse.enabled: needs the lake tier")):
        run_isolated("dev", overrides=_switched_off(lake=False, warehouse=True))


# --- lake settings the resources rely on -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        # Dynamic partitioning has no zero buffering: Firehose would refuse the stream.
        ({"firehose": {"buffer_mb": 64, "buffer_seconds": 0}}, "lake.firehose.buffer_seconds: must be >= 60, got 0"),
        # Staged buffering can hold a record 1.5 x the interval: 450 s at 300 s, so 450 would always alarm.
        (
            {"firehose": {"buffer_mb": 64, "buffer_seconds": 300}, "alarms": {"freshness_seconds": 450}},
            "lake.alarms.freshness_seconds: must be more than 1.5 x firehose.buffer_seconds (300), got 450",
        ),
    ],
)
def test_lake_settings_refuse_buffering_firehose_or_the_alarm_cannot_live_with(
    change: dict[str, Any], problem: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(stack_config_with_lake("dev", change), "dev")
    assert problem in caught.value.problems


def test_a_freshness_threshold_just_above_staged_buffering_is_accepted() -> None:
    change = {"firehose": {"buffer_mb": 64, "buffer_seconds": 300}, "alarms": {"freshness_seconds": 451}}
    assert load_settings(stack_config_with_lake("dev", change), "dev").lake.alarms.freshness_seconds == 451


def stack_config_with_lake(stack: str, change: dict[str, Any]) -> dict[str, Any]:
    """The stack file's config as `load_settings` takes it, with some lake keys replaced."""
    config = load_stack_config(stack)
    raw: dict[str, Any] = {"region": config["aws:region"]}
    raw.update({key.split(":", 1)[1]: value for key, value in config.items() if key.startswith("uba:")})
    raw["lake"] = {**raw["lake"], **change}
    return raw


# --- the analyses as prepared statements -----------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_analysis_is_a_prepared_statement_in_each_workgroup_with_positional_parameters(stack: str) -> None:
    run = run_stack(stack)
    all_statements = run.of_type(type_token(aws.athena.PreparedStatement))
    assert len(all_statements) == len(query_names()) * len(PERSONA_WORKGROUPS)
    for workgroup in lake_workgroups(run):
        in_workgroup = [r for r in all_statements if r.parent == workgroup.urn]
        assert sorted(r.inputs["name"] for r in in_workgroup) == query_names()
        assert {r.inputs["workgroup"] for r in in_workgroup} == {workgroup.state["name"]}
    statements = {r.inputs["name"]: r for r in all_statements if r.parent == run.one(WORKGROUP, "athena-workgroup").urn}
    for name, statement in statements.items():
        text, order = render_for_athena(name)
        assert statement.inputs["queryStatement"] == text
        # Athena takes `?` only: as many as the values a caller passes, and no named parameter left.
        tokens = Dialect.get_or_raise("trino").tokenize(text)
        assert sum(t.token_type == TokenType.PLACEHOLDER for t in tokens) == len(order) >= 1
        assert not [t for t in tokens if t.token_type == TokenType.COLON]
        description = statement.inputs["description"]
        assert len(description) <= 1024
        assert description.startswith(load_query(name).description)
        assert f"Run in database uba_{stack}_lake: EXECUTE {name} USING {', '.join(order)}" in description


def test_spectrum_reads_the_same_files_through_an_unpartitioned_table() -> None:
    """Spectrum ignores partition projection; its table must cover the same files and columns."""
    run = run_stack("prod")
    events = run.one(type_token(aws.glue.CatalogTable), "events-table").inputs
    spectrum = run.one(type_token(aws.glue.CatalogTable), "events-spectrum-table").inputs
    assert spectrum["name"] == "events_spectrum" and spectrum["databaseName"] == events["databaseName"]
    assert "partitionKeys" not in spectrum or not spectrum["partitionKeys"]
    assert spectrum["storageDescriptor"] == events["storageDescriptor"]
    assert "projection.enabled" not in spectrum["parameters"]


# --- the partition registrar: what lets the refresh bound its read -------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_new_events_object_reaches_the_registrar_which_may_only_add_partitions_to_its_table(
    stack: str,
) -> None:
    run = run_stack(stack)
    lake_bucket = bucket(run, "lake")
    table = run.one(TABLE, "events-by-arrival-table").inputs
    events = run.one(TABLE, "events-table").inputs
    # Partitioned by arrival hour then event hour, without projection: Spectrum prunes registered partitions.
    assert [k["name"] for k in table["partitionKeys"]] == ["arrival_hour", "year", "month", "day", "hour"]
    assert table["storageDescriptor"] == events["storageDescriptor"] and "projection.enabled" not in table["parameters"]

    function = run.one(type_token(aws.lambda_.Function), "lake-partitions-function")
    assert function.inputs["handler"] == "lambdas.partitions.handler"
    variables = function.inputs["environment"]["variables"]
    assert (variables["GLUE_DATABASE"], variables["GLUE_TABLE"]) == (f"uba_{stack}_lake", "events_by_arrival")
    notification = run.one(type_token(aws.s3.BucketNotification), "lake-notifications")
    assert notification.inputs["bucket"] == lake_bucket.inputs["bucket"]
    assert notification.inputs["lambdaFunctions"] == [
        {"lambdaFunctionArn": function.state["arn"], "events": ["s3:ObjectCreated:*"], "filterPrefix": "events/"}
    ]
    permission = run.one(type_token(aws.lambda_.Permission), "lake-invokes-partitions")
    assert permission.urn in notification.depends_on  # S3 checks the destination when the configuration is saved
    assert permission.inputs["principal"] == "s3.amazonaws.com"
    assert permission.inputs["sourceArn"] == lake_bucket.state["arn"]
    assert permission.inputs["sourceAccount"] == ACCOUNT_ID

    role = run.one(type_token(aws.iam.Role), "lake-partitions-role")
    grants = [s for s in run.policy(run.one(type_token(aws.iam.RolePolicy), "lake-partitions-role-policy"))["Statement"]
              if s["Sid"] not in ("WriteOwnLogs", "SendTraces")]  # fmt: skip
    glue = f"arn:aws:glue:{REGION}:{ACCOUNT_ID}"
    assert grants == [{
        "Sid": "RegisterArrivalPartitions", "Effect": "Allow",
        "Action": ["glue:GetTable", "glue:BatchCreatePartition"],
        "Resource": [f"{glue}:catalog", f"{glue}:database/uba_{stack}_lake",
                     f"{glue}:table/uba_{stack}_lake/events_by_arrival"],
    }]  # fmt: skip
    assert run.policy(role, "assumeRolePolicy")["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    alarm = run.one(ALARM, "lake-partitions-errors").inputs
    assert (alarm["namespace"], alarm["metricName"], alarm["threshold"]) == ("AWS/Lambda", "Errors", 0)
    assert alarm["dimensions"] == {"FunctionName": f"uba-{stack}-lake-partitions"}
