"""The cdc tier, and what the lake, Flink and the warehouse build from its changes, on the real program.

The stack files name no source database, so they build nothing of it; the variant `cdc_on()`
(dev and prod with a PostgreSQL source) and `cdc_on_mysql_without_endpoints()` are what a team
adds to a stack file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pulumi_aws as aws
import pyarrow.parquet as pq
import pytest

from components.cdc.mappings import selected_tables
from lambdas.change_records import METADATA_NAMES
from settings import load_settings
from sql.changes import CHANGES_PREFIX, change_tables
from sql.redshift import APPLY_CALL
from streaming.properties import PROPERTY_GROUP_ID, parse_settings
from tests.support.config import (
    CDC_TABLES,
    EXAMPLE_SECRET_ARN,
    cdc_on,
    cdc_on_mysql_without_endpoints,
    cdc_section,
    raw_config,
)
from tests.support.harness import StackRun, run_stack
from tests.support.tokens import CDC, LAKE, STREAMING, WAREHOUSE, type_token
from tools.engine.mocks import ACCOUNT_ID, stack_settings
from tools.engine.policy import evaluate, stack_policy_config
from tools.local import REGION
from tools.local.changes import deliver_changes
from tools.local.dms import DmsWriter

ENDPOINT = type_token(aws.dms.Endpoint)
REPLICATION = type_token(aws.dms.ReplicationConfig)
ROLE = type_token(aws.iam.Role)
TABLE = type_token(aws.glue.CatalogTable)
DB_SG = "sg-0a1b2c3d4e5f60718"


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def cdc(stack: str = "dev") -> StackRun:
    return run_stack(stack, overrides=cdc_on())


def statements(run: StackRun, role_name: str) -> dict[str, dict[str, Any]]:
    role = run.one(ROLE, role_name)
    policies = [r for r in run.children(role) if r.type == type_token(aws.iam.RolePolicy)]
    (policy,) = policies
    return {s["Sid"]: s for s in run.policy(policy)["Statement"]}


def trust(run: StackRun, role_name: str) -> list[dict[str, Any]]:
    return list(run.policy(run.one(ROLE, role_name), "assumeRolePolicy")["Statement"])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_stack_that_names_no_database_builds_nothing_of_cdc(stack: str) -> None:
    run = run_stack(stack)
    assert not stack_settings(stack).cdc.enabled
    assert not run.of_type(CDC) and not run.of_type(REPLICATION) and not run.of_type(ENDPOINT)
    assert not [r for r in run.resources if r.name.startswith(("changes", "change-processor", "flink-changes"))]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_stack_with_cdc_on_carries_the_tier_with_no_mandatory_policy_violation(stack: str) -> None:
    run = cdc(stack)
    assert run.component(CDC).parent == run.component("uba:platform:Platform").urn
    mandatory = [v for v in evaluate(run.snapshot, stack_policy_config(stack)) if v.enforcement == "mandatory"]
    assert mandatory == []


def test_dms_replicates_the_listed_tables_full_load_then_changes_in_the_stacks_subnets_with_the_platform_key() -> None:
    run = cdc()
    config = run.one(REPLICATION, "cdc-replication").inputs
    assert config["replicationType"] == "full-load-and-cdc" and config["startReplication"] is True
    assert config["replicationConfigIdentifier"] == config["resourceIdentifier"] == "uba-dev-cdc"
    mappings = json.loads(config["tableMappings"])
    assert selected_tables(mappings) == ["public.documents", "public.business_lines"]
    objects = [r for r in mappings["rules"] if r["rule-type"] == "object-mapping"]
    assert [r["mapping-parameters"]["partition-key-type"] for r in objects] == ["primary-key"] * 2
    settings = json.loads(config["replicationSettings"])
    assert settings["BeforeImageSettings"] == {"EnableBeforeImage": True, "FieldName": "before-image",
                                               "ColumnFilter": "pk-only"}  # fmt: skip
    compute = config["computeConfig"]
    key = run.one(type_token(aws.kms.Key), "platform-key").state["arn"]
    assert compute["kmsKeyId"] == key
    assert compute["vpcSecurityGroupIds"] == [run.one(type_token(aws.ec2.SecurityGroup), "cdc-dms-sg").state["id"]]
    assert compute["replicationSubnetGroupId"] == "uba-dev-cdc"
    assert (compute["minCapacityUnits"], compute["maxCapacityUnits"], compute["multiAz"]) == (1, 4, False)
    subnets = run.one(type_token(aws.dms.ReplicationSubnetGroup), "cdc-subnet-group").inputs["subnetIds"]
    assert subnets == ["subnet-0a1b2c3d", "subnet-1a2b3c4d"]
    # DMS writes its logs where the tier created them first: encrypted, with the stack's retention.
    logs = run.one(type_token(aws.cloudwatch.LogGroup), "cdc-replication-logs").inputs
    assert logs["name"] == "dms-serverless-replication-uba-dev-cdc" and logs["kmsKeyId"] == key


def test_the_source_endpoint_names_the_secret_never_a_password_and_requires_tls() -> None:
    run = cdc()
    source = run.one(ENDPOINT, "cdc-source-endpoint").inputs
    assert source["secretsManagerArn"] == EXAMPLE_SECRET_ARN
    assert source["secretsManagerAccessRoleArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/uba-dev-cdc-source-secret"
    assert not {"password", "username", "serverName"} & set(source)
    assert (source["engineName"], source["endpointType"], source["databaseName"]) == ("postgres", "source", "app")
    assert source["sslMode"] == "require" and source["postgresSettings"]["heartbeatEnable"] is True
    # Only DMS's regional principal reads the secret, and only that secret.
    assert trust(run, "cdc-source-secret") == [
        {"Effect": "Allow", "Principal": {"Service": f"dms.{REGION}.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert statements(run, "cdc-source-secret") == {
        "ReadTheDatabaseSecret": {"Sid": "ReadTheDatabaseSecret", "Effect": "Allow",
                                  "Action": "secretsmanager:GetSecretValue", "Resource": EXAMPLE_SECRET_ARN}
    }  # fmt: skip


def test_the_target_writes_every_change_with_the_metadata_the_consumers_read() -> None:
    run = cdc()
    target = run.one(ENDPOINT, "cdc-target-endpoint").inputs
    stream = run.one(type_token(aws.kinesis.Stream), "changes-stream")
    assert target["engineName"] == "kinesis"
    assert target["kinesisSettings"] == {
        "streamArn": stream.state["arn"],
        "serviceAccessRoleArn": run.one(ROLE, "cdc-changes-writer").state["arn"],
        "messageFormat": "json-unformatted",
        "includeTransactionDetails": True,
        "includePartitionValue": True,
        "partitionIncludeSchemaTable": True,
        "includeControlDetails": True,
        "includeTableAlterOperations": True,
        "includeNullAndEmpty": True,
        "useLargeIntegerValue": True,
    }
    assert stream.inputs["encryptionType"] == "KMS" and stream.inputs["name"] == "uba-dev-changes"
    grants = statements(run, "cdc-changes-writer")
    assert grants["WriteChanges"]["Resource"] == stream.state["arn"]
    assert grants["WriteChanges"]["Action"] == ["kinesis:DescribeStream", "kinesis:PutRecord", "kinesis:PutRecords"]
    assert grants["EncryptChangesThroughKinesis"]["Condition"]["StringEquals"] == {
        "kms:ViaService": f"kinesis.{REGION}.amazonaws.com",
        "kms:EncryptionContext:aws:kinesis:arn": stream.state["arn"],
    }


def rules(run: StackRun, kind: type) -> list[dict[str, Any]]:
    return [dict(r.inputs) for r in run.of_type(type_token(kind))]


def test_dms_reaches_the_database_port_and_https_endpoints_and_nothing_else() -> None:
    run = cdc()
    dms = run.one(type_token(aws.ec2.SecurityGroup), "cdc-dms-sg").state["id"]
    endpoints = run.one(type_token(aws.ec2.SecurityGroup), "cdc-endpoints-sg").state["id"]
    egress = [r for r in rules(run, aws.vpc.SecurityGroupEgressRule) if r["securityGroupId"] == dms]
    assert sorted((r["fromPort"], r["toPort"], r.get("referencedSecurityGroupId")) for r in egress) == [
        (443, 443, endpoints), (5432, 5432, DB_SG)
    ]  # fmt: skip
    ingress = {r["securityGroupId"]: r for r in rules(run, aws.vpc.SecurityGroupIngressRule)
               if r["securityGroupId"] in (DB_SG, dms, endpoints)}  # fmt: skip
    assert set(ingress) == {DB_SG, endpoints}  # nothing may open a connection to DMS
    assert (ingress[DB_SG]["fromPort"], ingress[DB_SG]["referencedSecurityGroupId"]) == (5432, dms)
    services = {r.inputs["serviceName"] for r in run.of_type(type_token(aws.ec2.VpcEndpoint))
                if r.name.startswith("cdc-")}  # fmt: skip
    assert services == {f"com.amazonaws.{REGION}.kinesis-streams", f"com.amazonaws.{REGION}.secretsmanager"}


def test_a_mysql_source_in_a_vpc_with_its_own_endpoints_and_the_account_roles_owned_here() -> None:
    run = run_stack("dev", overrides=cdc_on_mysql_without_endpoints())
    source = run.one(ENDPOINT, "cdc-source-endpoint").inputs
    assert source["engineName"] == "aurora" and "postgresSettings" not in source
    assert not [r for r in run.of_type(type_token(aws.ec2.VpcEndpoint)) if r.name.startswith("cdc-")]
    dms = run.one(type_token(aws.ec2.SecurityGroup), "cdc-dms-sg").state["id"]
    egress = [r for r in rules(run, aws.vpc.SecurityGroupEgressRule) if r["securityGroupId"] == dms]
    assert sorted((r["fromPort"], r.get("cidrIpv4"), r.get("referencedSecurityGroupId")) for r in egress) == [
        (443, "0.0.0.0/0", None), (3306, None, DB_SG)
    ]  # fmt: skip
    for name, policy in (("dms-vpc-role", "AmazonDMSVPCManagementRole"),
                         ("dms-cloudwatch-logs-role", "AmazonDMSCloudWatchLogsRole")):  # fmt: skip
        role = run.one(ROLE, name)
        assert role.inputs["name"] == name and role.retain_on_delete
        (attachment,) = run.children(role)
        assert attachment.inputs["policyArn"].endswith(f"service-role/{policy}") and attachment.retain_on_delete
    # DMS looks the roles up when it creates the subnet group and starts the replication: they come first.
    replication = run.one(REPLICATION, "cdc-replication")
    assert any(urn.endswith("::dms-vpc-role-policy") for urn in replication.depends_on)


def test_alarms_watch_failures_latency_and_the_changes_streams_readers_and_join_the_dashboard() -> None:
    run = cdc()
    alarms = {r.name: r.inputs for r in run.children(run.component(CDC)) if r.type.endswith(":MetricAlarm")}
    assert set(alarms) == {"cdc-replication-failed", "cdc-latencysource", "cdc-latencytarget",
                           "cdc-changes-iterator-age"}  # fmt: skip
    assert alarms["cdc-latencysource"]["dimensions"] == {"ReplicationConfigId": f"{ACCOUNT_ID}:uba-dev-cdc"}
    rule = run.one(type_token(aws.cloudwatch.EventRule), "cdc-replication-failed").inputs
    assert json.loads(rule["eventPattern"]) == {
        "source": ["aws.dms"], "resources": [arn("dms", "replication-config:uba-dev-cdc")],
        "detail": {"category": ["Failure"]},
    }  # fmt: skip
    dashboard = json.loads(run.one(type_token(aws.cloudwatch.Dashboard)).inputs["dashboardBody"])
    shown = set(dashboard["widgets"][0]["properties"]["alarms"])
    assert {arn("cloudwatch", f"alarm:uba-dev-{name}") for name in alarms} <= shown
    assert run.outputs["changes_stream_name"] == "uba-dev-changes"


# --- the lake's part ---------------------------------------------------------------------------------------


def test_firehose_turns_the_changes_stream_into_parquet_per_table_and_day_through_the_processor() -> None:
    run = cdc()
    firehose = run.one(type_token(aws.kinesis.FirehoseDeliveryStream), "changes-to-lake").inputs
    assert firehose["kinesisSourceConfiguration"]["kinesisStreamArn"] == arn("kinesis", "stream/uba-dev-changes")
    s3 = firehose["extendedS3Configuration"]
    assert s3["prefix"] == ("changes/!{partitionKeyFromLambda:schema}/!{partitionKeyFromLambda:table}/"
                            "day=!{partitionKeyFromLambda:day}/")  # fmt: skip
    assert s3["errorOutputPrefix"].startswith("errors/changes/")
    (processor,) = s3["processingConfiguration"]["processors"]
    parameters = {p["parameterName"]: p["parameterValue"] for p in processor["parameters"]}
    function = run.one(type_token(aws.lambda_.Function), "change-processor-function")
    assert parameters["LambdaArn"] == function.state["arn"]
    assert function.inputs["handler"] == "lambdas.changes.handler"
    tables = json.loads(function.inputs["environment"]["variables"]["CHANGE_TABLES"])
    assert tables == {t["table"]: {"key": t["primary_key"], "columns": t["columns"]} for t in CDC_TABLES}
    conversion = s3["dataFormatConversionConfiguration"]["schemaConfiguration"]
    assert conversion["tableName"] == "changes_conversion_schema"
    grants = statements(run, "changes-firehose")
    assert grants["InvokeTheChangeProcessor"]["Resource"] == [function.state["arn"], f"{function.state['arn']}:*"]
    assert grants["WriteChangesAndErrors"]["Resource"] == [
        f"arn:aws:s3:::uba-dev-lake-{ACCOUNT_ID}/changes/*", f"arn:aws:s3:::uba-dev-lake-{ACCOUNT_ID}/errors/changes/*"
    ]  # fmt: skip


def test_the_glue_tables_describe_the_parquet_the_processor_and_firehose_write(tmp_path: Path) -> None:
    run = cdc()
    glue = {r.inputs["name"]: r.inputs for r in run.of_type(TABLE)}
    tables = change_tables(load_settings(raw_config("dev") | {"cdc": cdc_section()}, "dev").cdc.tables)
    w = DmsWriter({t.qualified: list(t.spec.key) for t in tables})
    at = datetime(2026, 1, 1, tzinfo=UTC)
    deliver_changes(tmp_path, tables, [
        w.load("public.documents", {"id": "d", "title": "t", "category": "c", "biz_id": "b", "pages": 1,
                                    "published": True, "updated_at": "2026-01-01 00:00:00"}, at),
        w.load("public.business_lines", {"id": "b", "name": "n", "region": "r"}, at),
    ], "part.parquet")  # fmt: skip
    written = pq.read_schema(next((tmp_path / "changes/public/documents/day=2026-01-01").glob("*.parquet")))
    conversion = [(c["name"], c["type"]) for c in glue["changes_conversion_schema"]["storageDescriptor"]["columns"]]
    assert [f.name for f in written] == [name for name, _ in conversion]  # Firehose writes the conversion schema
    for table in tables:
        for name in (table.glue_table, table.spectrum_table):
            columns = [(c["name"], c["type"]) for c in glue[name]["storageDescriptor"]["columns"]]
            assert columns == table.lake_columns() and set(dict(columns)) <= set(dict(conversion))
            assert glue[name]["storageDescriptor"]["location"] == f"s3://uba-dev-lake-{ACCOUNT_ID}/{table.prefix}"
        projected = glue[table.glue_table]
        assert [k["name"] for k in projected["partitionKeys"]] == ["day"] and "partitionKeys" not in glue[
            table.spectrum_table
        ]
        template = projected["parameters"]["storage.location.template"]
        assert template == f"s3://uba-dev-lake-{ACCOUNT_ID}/{table.prefix}day=${{day}}/"
        assert (tmp_path / table.prefix).is_dir()  # the local Firehose wrote where the template points
    assert set(METADATA_NAMES) <= {c for c, _ in conversion}


def test_change_history_ages_like_raw_events_but_never_expires() -> None:
    run = cdc("prod")
    lake = run.one(type_token(aws.s3.Bucket), "lake-bucket")
    (config,) = [r for r in run.children(lake) if r.type.endswith(":BucketLifecycleConfiguration")]
    rule = next(r for r in config.inputs["rules"] if r["id"] == "entity-changes")
    assert rule["filter"]["prefix"] == CHANGES_PREFIX
    assert "expiration" not in rule and [t["storageClass"] for t in rule["transitions"]] == [
        "STANDARD_IA",
        "GLACIER_IR",
    ]


# --- Flink's part ------------------------------------------------------------------------------------------


def test_flink_reads_the_changes_through_its_own_consumer_and_knows_which_table_each_event_field_names() -> None:
    run = cdc()
    consumer = run.one(type_token(aws.kinesis.StreamConsumer), "flink-changes-consumer")
    assert consumer.inputs["streamArn"] == arn("kinesis", "stream/uba-dev-changes")
    assert consumer.parent == run.component(STREAMING).urn
    application = run.one(type_token(aws.kinesisanalyticsv2.Application), "flink-app")
    assert consumer.urn in application.depends_on
    properties = application.inputs["applicationConfiguration"]["environmentProperties"]["propertyGroups"]
    groups = {g["propertyGroupId"]: g["propertyMap"] for g in properties}
    job = parse_settings(groups[PROPERTY_GROUP_ID])
    assert job.require_changes() == (arn("kinesis", "stream/uba-dev-changes"), consumer.inputs["name"])
    assert [(e.field, e.table, e.key, e.label) for e in job.enrichment] == [
        ("objectId", "public.documents", "id", "title"), ("bizId", "public.business_lines", "id", "name")
    ]  # fmt: skip
    assert job.enrichment_ttl_seconds == 7 * 86_400
    grants = {s["Sid"]: s for s in run.policy(run.children(run.one(ROLE, "flink-role"))[0])["Statement"]}
    assert grants["ReadChangesThroughTheConsumer"]["Resource"] == consumer.state["arn"]
    assert grants["FindChangeShards"]["Resource"] == arn("kinesis", "stream/uba-dev-changes")


# --- the warehouse's part ----------------------------------------------------------------------------------


def test_the_warehouse_keeps_entity_models_reads_changes_and_applies_them_in_each_refresh() -> None:
    run = cdc()
    sql = [r.inputs["sql"] for r in run.of_type(type_token(aws.redshiftdata.Statement))]
    assert any(s.startswith("CREATE OR REPLACE VIEW dim_object AS") for s in sql)
    assert any(s.startswith("CREATE OR REPLACE VIEW dws_daily_biz_activity AS") for s in sql)
    assert any(s.startswith("CREATE OR REPLACE PROCEDURE uba_apply_changes()") for s in sql)
    grants = [s for s in sql if s.startswith("GRANT")]
    assert any("cdc_object_state" in s and "etl_changes_state" in s for s in grants)
    assert any(s.startswith("GRANT EXECUTE ON PROCEDURE uba_apply_changes()") for s in grants)
    schedule = run.one(type_token(aws.scheduler.Schedule), "warehouse-refresh-schedule").inputs
    assert APPLY_CALL in json.loads(schedule["target"]["input"])["Sqls"]
    reads = {s["Sid"]: s for s in run.policy(run.children(run.one(ROLE, "warehouse-spectrum"))[0])["Statement"]}
    bucket = f"arn:aws:s3:::uba-dev-lake-{ACCOUNT_ID}"
    assert reads["ReadRawEvents"]["Resource"] == [f"{bucket}/events/*", f"{bucket}/changes/*"]
    assert reads["ListRawEvents"]["Condition"] == {"StringLike": {"s3:prefix": ["events/*", "changes/*"]}}
    assert run.component(WAREHOUSE) and run.component(LAKE)


def test_the_change_processors_tracing_finding_names_its_setting_and_the_setting_clears_it() -> None:
    def tracing_findings(run: StackRun) -> list[str]:
        return [v.message for v in evaluate(run.snapshot, stack_policy_config("dev"))
                if v.policy == "xray-tracing" and v.urn.endswith("::change-processor-function")]  # fmt: skip

    (message,) = tracing_findings(cdc())
    assert "set `uba:cdc.processor_tracing: true` in the stack file" in message
    traced = {"uba:cdc": {**cdc_section(), "processor_tracing": True}}
    assert tracing_findings(run_stack("dev", overrides=traced)) == []
