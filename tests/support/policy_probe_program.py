"""A Pulumi program of deliberately good and bad resources, for the policy tests (run under the mock engine).

Every rule meets at least one `good-*`/platform-built resource that must pass and one
`bad-*` resource that must fail. `tests/test_policies.py` copies this file into a
scratch project as `__main__.py` and runs it with `tools.engine.mocks.run_isolated`.
"""

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.edge.distribution import CACHING_DISABLED_POLICY_ID, DistributionArgs, build_distribution
from components.shared.buckets import SecureBucket, SecureBucketArgs
from components.shared.context import StackContext
from components.shared.iam import role
from components.shared.logs import log_group
from settings.edge import EdgeSettings
from tools.local import ACCOUNT_ID as ACCOUNT
from tools.local import REGION

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
ALL_AUDIT_LOGS = ["connectionlog", "userlog", "useractivitylog"]

tagged = aws.Provider(
    "tagged",
    region=REGION,
    default_tags=aws.ProviderDefaultTagsArgs(
        tags={"Project": "uba", "Environment": "test", "Owner": "probe", "CostCenter": "CC-0000"}
    ),
)
plain = pulumi.ResourceOptions(provider=tagged)
kept = pulumi.ResourceOptions(provider=tagged, protect=True)
components = pulumi.ResourceOptions(providers={"aws": tagged})
context = StackContext(
    prefix="uba-test",
    region=REGION,
    account_id=pulumi.Output.from_input(ACCOUNT),
    protect_stateful=True,
    log_retention_days=14,
    kms_key_arn=pulumi.Output.from_input(KEY),
    ops_topic_arn=pulumi.Output.from_input(f"arn:aws:sns:{REGION}:{ACCOUNT}:uba-test-ops"),
)


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(principal: Any) -> str:
    return policy({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


EVERYTHING = {"Effect": "Allow", "Action": "*", "Resource": "*"}

# --- S3 ------------------------------------------------------------------------------------------------------
# S3 delivers server access logs only to an SSE-S3 bucket: AES256 is right here, and only here.
access_logs = aws.s3.Bucket("good-access-logs-bucket", bucket="uba-test-access-logs", opts=kept)
aws.s3.BucketServerSideEncryptionConfiguration(
    "good-access-logs-encryption",
    bucket=access_logs.id,
    rules=[
        aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256"
            )
        )
    ],
    opts=plain,
)
aws.s3.BucketPublicAccessBlock(
    "good-access-logs-public-access", bucket=access_logs.id, block_public_acls=True, block_public_policy=True,
    ignore_public_acls=True, restrict_public_buckets=True, opts=plain,
)  # fmt: skip
aws.s3.BucketPolicy(
    "good-access-logs-policy",
    bucket=access_logs.id,
    policy=access_logs.arn.apply(
        lambda arn: policy(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        )
    ),
    opts=plain,
)
aws.s3.BucketVersioning(
    "good-access-logs-versioning",
    bucket=access_logs.id,
    versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
    opts=plain,
)
SecureBucket(
    "kept", SecureBucketArgs(context=context, purpose="kept", versioning=True, access_log_bucket=access_logs),
    opts=components,
)  # fmt: skip
SecureBucket("scratch", SecureBucketArgs(context=context, purpose="scratch", keep_data=False), opts=components)
aws.s3.Bucket("bad-bare-bucket", bucket="uba-test-bare", opts=kept)
weak = aws.s3.Bucket("bad-weak-bucket", bucket="uba-test-weak", opts=kept)
aws.s3.BucketServerSideEncryptionConfiguration(
    "bad-weak-encryption",
    bucket=weak.id,
    rules=[
        aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256"
            )
        )
    ],
    opts=plain,
)
aws.s3.BucketPublicAccessBlock(
    "bad-weak-public-access",
    bucket=weak.id,
    block_public_acls=True,
    block_public_policy=True,
    ignore_public_acls=True,
    restrict_public_buckets=False,
    opts=plain,
)
aws.s3.BucketPolicy(
    "bad-weak-policy",
    bucket=weak.id,
    policy=policy({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "s3:GetObject", "Resource": "*"}),
    opts=plain,
)
aws.s3.BucketVersioning(
    "bad-weak-versioning",
    bucket=weak.id,
    versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Suspended"),
    opts=plain,
)

# --- streams, queues, topics, tables, logs, keys ------------------------------------------------------------
good_stream = aws.kinesis.Stream("good-stream", shard_count=1, encryption_type="KMS", kms_key_id=KEY, opts=kept)
bad_stream = aws.kinesis.Stream("bad-stream", shard_count=1, encryption_type="NONE", opts=plain)
good_queue = aws.sqs.Queue("good-queue", kms_master_key_id=KEY, opts=plain)
aws.sqs.Queue("bad-queue", sqs_managed_sse_enabled=True, opts=plain)
aws.sns.Topic("good-topic", kms_master_key_id=KEY, opts=plain)
aws.sns.Topic("bad-topic", opts=plain)
# No provider: the engine's default provider sets no default tags, and the topic sets none either.
aws.sns.Topic("bad-untagged-topic", kms_master_key_id=KEY)
aws.sns.Topic(
    "good-self-tagged-topic",
    kms_master_key_id=KEY,
    tags={"Project": "uba", "Environment": "test", "Owner": "probe", "CostCenter": "CC-0000"},
)
aws.sns.Topic("bad-blank-owner-topic", kms_master_key_id=KEY, tags={"Owner": ""}, opts=plain)
key_attribute = [aws.dynamodb.TableAttributeArgs(name="pk", type="S")]
aws.dynamodb.Table(
    "good-table",
    billing_mode="PAY_PER_REQUEST",
    hash_key="pk",
    attributes=key_attribute,
    server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True, kms_key_arn=KEY),
    point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
    opts=kept,
)
aws.dynamodb.Table(
    "bad-table",
    billing_mode="PAY_PER_REQUEST",
    hash_key="pk",
    attributes=key_attribute,
    server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
    opts=kept,
)
log_group(pulumi.ComponentResource("uba:test:Logs", "logs", None, components), context, "good-logs", "/uba/good")
aws.cloudwatch.LogGroup("bad-logs", name="/uba/bad", opts=plain)
aws.cloudwatch.LogGroup("bad-short-logs", name="/uba/short", retention_in_days=3, kms_key_id=KEY, opts=plain)
aws.kms.Key("good-key", enable_key_rotation=True, deletion_window_in_days=30, opts=kept)
aws.kms.Key("bad-key", enable_key_rotation=False, deletion_window_in_days=7, opts=plain)
aws.kms.Key("good-signing-key", customer_master_key_spec="RSA_2048", key_usage="SIGN_VERIFY", opts=kept)

# --- warehouse ----------------------------------------------------------------------------------------------
aws.redshiftserverless.Namespace(
    "good-namespace", namespace_name="uba-test-good", kms_key_id=KEY, log_exports=ALL_AUDIT_LOGS, opts=kept
)
aws.redshiftserverless.Namespace("bad-namespace", namespace_name="uba-test-bad", log_exports=["userlog"], opts=kept)
aws.redshiftserverless.Workgroup(
    "good-workgroup", namespace_name="uba-test-good", workgroup_name="uba-test-good", publicly_accessible=False,
    opts=plain,
)  # fmt: skip
aws.redshiftserverless.Workgroup(
    "bad-workgroup", namespace_name="uba-test-bad", workgroup_name="uba-test-public", publicly_accessible=True,
    opts=plain,
)  # fmt: skip
good_cluster = aws.redshift.Cluster(
    "good-cluster", cluster_identifier="uba-test-good", node_type="ra3.xlplus", manage_master_password=True,
    master_username="uba_admin", encrypted="true", kms_key_id=KEY, publicly_accessible=False, opts=kept,
)  # fmt: skip
aws.redshift.Logging(
    "good-cluster-logging", cluster_identifier=good_cluster.cluster_identifier, log_destination_type="cloudwatch",
    log_exports=ALL_AUDIT_LOGS, opts=plain,
)  # fmt: skip
aws.redshift.Cluster(
    "bad-cluster", cluster_identifier="uba-test-bad", node_type="ra3.xlplus", manage_master_password=True,
    master_username="uba_admin", encrypted="false", publicly_accessible=True, opts=kept,
)  # fmt: skip


def athena(name: str, **configuration: Any) -> None:
    aws.athena.Workgroup(
        name, name=f"uba-test-{name}", configuration=aws.athena.WorkgroupConfigurationArgs(**configuration), opts=plain
    )


def results(option: str, key: str | None = None) -> aws.athena.WorkgroupConfigurationResultConfigurationArgs:
    return aws.athena.WorkgroupConfigurationResultConfigurationArgs(
        output_location="s3://uba-test-results/",
        encryption_configuration=aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
            encryption_option=option, kms_key_arn=key
        ),
    )


athena("good-athena", enforce_workgroup_configuration=True, bytes_scanned_cutoff_per_query=1073741824,
       result_configuration=results("SSE_KMS", KEY))  # fmt: skip
athena("bad-athena", enforce_workgroup_configuration=False, result_configuration=results("SSE_S3"))
athena(
    "bad-big-scan-athena", bytes_scanned_cutoff_per_query=1099511627776, result_configuration=results("CSE_KMS", KEY)
)

# --- stream consumers and Flink -----------------------------------------------------------------------------
aws.lambda_.EventSourceMapping(
    "good-mapping", event_source_arn=good_stream.arn, function_name="uba-test-sink", starting_position="LATEST",
    bisect_batch_on_function_error=True, maximum_retry_attempts=3, maximum_record_age_in_seconds=3600,
    destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
        on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(destination_arn=good_queue.arn)
    ),
    opts=plain,
)  # fmt: skip
aws.lambda_.EventSourceMapping(
    "bad-mapping", event_source_arn=bad_stream.arn, function_name="uba-test-sink", starting_position="LATEST",
    maximum_retry_attempts=-1, opts=plain,
)  # fmt: skip
aws.lambda_.EventSourceMapping("good-queue-mapping", event_source_arn=good_queue.arn, function_name="f", opts=plain)
flink_role = role(
    pulumi.ComponentResource("uba:test:Flink", "flink", None, components), context, "flink-role",
    "kinesisanalytics.amazonaws.com", [{"Effect": "Allow", "Action": "kinesis:GetRecords", "Resource": KEY}],
    "probe Flink role",
)  # fmt: skip
for name, snapshots in (("good-flink", True), ("bad-flink", False)):
    aws.kinesisanalyticsv2.Application(
        name, runtime_environment="FLINK-1_20", service_execution_role=flink_role.arn,
        application_configuration=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationArgs(
            application_code_configuration=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationApplicationCodeConfigurationArgs(
                code_content_type="ZIPFILE"
            ),
            application_snapshot_configuration=aws.kinesisanalyticsv2.ApplicationApplicationConfigurationApplicationSnapshotConfigurationArgs(
                snapshots_enabled=snapshots
            )
        ),
        opts=plain,
    )  # fmt: skip

# --- API Gateway --------------------------------------------------------------------------------------------
api = aws.apigateway.RestApi("probe-api", name="uba-test-api", opts=plain)
deployment = aws.apigateway.Deployment("probe-deployment", rest_api=api.id, opts=plain)
stage_logs = aws.apigateway.StageAccessLogSettingsArgs(destination_arn=KEY, format='{"requestId":"$context.requestId"}')
good_stage = aws.apigateway.Stage(
    "good-stage", rest_api=api.id, deployment=deployment.id, stage_name="good", access_log_settings=stage_logs,
    xray_tracing_enabled=True, opts=plain,
)  # fmt: skip
aws.apigateway.MethodSettings(
    "good-stage-settings", rest_api=api.id, stage_name=good_stage.stage_name, method_path="*/*",
    settings=aws.apigateway.MethodSettingsSettingsArgs(throttling_rate_limit=50, throttling_burst_limit=100),
    opts=plain,
)  # fmt: skip
planned_stage = aws.apigateway.Stage(
    "good-planned-stage", rest_api=api.id, deployment=deployment.id, stage_name="planned",
    access_log_settings=stage_logs, xray_tracing_enabled=True, opts=plain,
)  # fmt: skip
aws.apigateway.UsagePlan(
    "good-plan", api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=api.id, stage=planned_stage.stage_name)],
    throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(rate_limit=10, burst_limit=20), opts=plain,
)  # fmt: skip
bad_stage = aws.apigateway.Stage("bad-stage", rest_api=api.id, deployment=deployment.id, stage_name="bad", opts=plain)
# Throttling off (-1) for the whole stage is no throttling.
aws.apigateway.MethodSettings(
    "bad-stage-settings", rest_api=api.id, stage_name=bad_stage.stage_name, method_path="*/*",
    settings=aws.apigateway.MethodSettingsSettingsArgs(throttling_rate_limit=-1, throttling_burst_limit=-1),
    opts=plain,
)  # fmt: skip

# --- IAM ----------------------------------------------------------------------------------------------------
admin = aws.iam.Group("admin-group", name="uba-test-admin", opts=plain)
dev = aws.iam.Group("dev-group", name="uba-test-dev", opts=plain)
aws.iam.GroupPolicy("good-admin-everything", group=admin.name, policy=policy(EVERYTHING), opts=plain)
aws.iam.GroupPolicy("bad-dev-everything", group=dev.name, policy=policy(EVERYTHING), opts=plain)
aws.iam.GroupPolicy(
    "good-dev-reads", group=dev.name,
    policy=policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::uba-test-kept/*"}),
    opts=plain,
)  # fmt: skip
administrator = "arn:aws:iam::aws:policy/AdministratorAccess"
aws.iam.GroupPolicyAttachment("good-admin-administrator", group=admin.name, policy_arn=administrator, opts=plain)
aws.iam.GroupPolicyAttachment("bad-dev-administrator", group=dev.name, policy_arn=administrator, opts=plain)
break_glass = aws.iam.Policy("good-admin-managed", policy=policy(EVERYTHING), opts=plain)
aws.iam.GroupPolicyAttachment("good-admin-managed-attachment", group=admin.name, policy_arn=break_glass.arn, opts=plain)
aws.iam.Policy("bad-unattached-managed", policy=policy(EVERYTHING), opts=plain)
all_but_iam = aws.iam.Policy(
    "bad-not-action-managed", policy=policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), opts=plain
)
service_role = role(
    pulumi.ComponentResource("uba:test:Service", "service", None, components), context, "good-service-role",
    "lambda.amazonaws.com", [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": KEY}],
    "probe service role",
)  # fmt: skip
aws.iam.RolePolicyAttachment("bad-role-not-action", role=service_role.name, policy_arn=all_but_iam.arn, opts=plain)
aws.iam.RolePolicy("bad-role-everything", role=service_role.name, policy=policy(EVERYTHING), opts=plain)
aws.iam.Role(
    "bad-two-services-role", assume_role_policy=trust({"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]}),
    opts=plain,
)  # fmt: skip
aws.iam.Role(
    "bad-account-trust-role", assume_role_policy=trust({"Service": "lambda.amazonaws.com", "AWS": ACCOUNT}), opts=plain
)
aws.iam.Role("bad-anyone-role", assume_role_policy=trust("*"), opts=plain)
user = aws.iam.User("probe-user", name="dana.dev", opts=plain)
aws.iam.UserPolicy(
    "bad-user-policy", user=user.name,
    policy=policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::uba-test-kept/*"}),
    opts=plain,
)  # fmt: skip
aws.iam.UserPolicyAttachment(
    "bad-user-attachment", user=user.name, policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess", opts=plain
)
aws.iam.PolicyAttachment(
    "bad-users-attachment", users=[user.name], groups=[dev.name], policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess",
    opts=plain,
)  # fmt: skip
aws.iam.PolicyAttachment(
    "good-groups-attachment", groups=[dev.name], policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess", opts=plain
)

# --- EC2 descriptions ---------------------------------------------------------------------------------------
# EC2 accepts a-zA-Z0-9, space and ._-:/()#,@[]+=&;{}!$* (no `&` in a rule naming a group or prefix list).
vpc = aws.ec2.Vpc("probe-vpc", cidr_block="10.9.0.0/16", opts=plain)
good_group = aws.ec2.SecurityGroup(
    "good-described-sg", vpc_id=vpc.id, description="uba-test: Redshift on 5439 (clients) & nothing else",
    ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=["10.0.0.0/8"],
                                              description="HTTPS from 10.0.0.0/8 & peers")],
    opts=plain,
)  # fmt: skip
aws.vpc.SecurityGroupEgressRule(
    "good-described-egress", security_group_id=good_group.id, ip_protocol="tcp", from_port=443, to_port=443,
    cidr_ipv4="10.9.0.0/16", description="HTTPS to the interface endpoints of the VPC", opts=plain,
)  # fmt: skip
aws.vpc.SecurityGroupEgressRule(
    "bad-apostrophe-egress", security_group_id=good_group.id, ip_protocol="tcp", from_port=443, to_port=443,
    cidr_ipv4="10.9.0.0/16", description="HTTPS to the VPC's interface endpoints", opts=plain,
)  # fmt: skip
aws.vpc.SecurityGroupIngressRule(
    "bad-ampersand-ingress", security_group_id=good_group.id, ip_protocol="tcp", from_port=5439, to_port=5439,
    referenced_security_group_id=good_group.id, description="Redshift from BI & ETL", opts=plain,
)  # fmt: skip
aws.ec2.SecurityGroup(
    "bad-described-sg", vpc_id=vpc.id, description="Redshift — clients only",
    egress=[aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=["10.0.0.0/8"],
                                            description="x" * 256)],
    opts=plain,
)  # fmt: skip
aws.ec2.SecurityGroupRule(
    "bad-described-rule", type="ingress", security_group_id=good_group.id, protocol="tcp", from_port=22, to_port=22,
    cidr_blocks=["10.0.0.0/8"], description="SSH for \"ops\"", opts=plain,
)  # fmt: skip
# --- security groups: the internet admitted in pieces (security-group-no-internet-ingress) ---------------
halves_group = aws.ec2.SecurityGroup("probe-halves-sg", description="probe: halves", vpc_id="vpc-0probe", opts=plain)
for rule_name, half in (("bad-low-half-ingress", "0.0.0.0/1"), ("bad-high-half-ingress", "128.0.0.0/1")):
    aws.vpc.SecurityGroupIngressRule(
        rule_name, security_group_id=halves_group.id, ip_protocol="tcp", from_port=5439, to_port=5439,
        cidr_ipv4=half, opts=plain,
    )  # fmt: skip
aws.ec2.SecurityGroup(
    "bad-inline-public-sg", description="probe: every public block but the private ones", vpc_id="vpc-0probe",
    ingress=[aws.ec2.SecurityGroupIngressArgs(
        protocol="tcp", from_port=5439, to_port=5439,
        cidr_blocks=["0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3", "64.0.0.0/2",
                     "128.0.0.0/1"],
    )],
    opts=plain,
)  # fmt: skip
clients_group = aws.ec2.SecurityGroup("good-clients-sg", description="probe: clients", vpc_id="vpc-0probe", opts=plain)
for rule_name, cidr in (("good-office-ingress", "203.0.113.0/24"), ("good-vpn-ingress", "0.0.0.0/1")):
    aws.vpc.SecurityGroupIngressRule(
        rule_name, security_group_id=clients_group.id, ip_protocol="tcp", from_port=5439, to_port=5439,
        cidr_ipv4=cidr, opts=plain,
    )  # fmt: skip
# --- QuickSight (quicksight-*) ---------------------------------------------------------------------------
QS = f"arn:aws:quicksight:{REGION}:{ACCOUNT}"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:redshift!uba-test-admin-AbCdEf"
redshift_parameters = aws.quicksight.DataSourceParametersArgs(
    redshift=aws.quicksight.DataSourceParametersRedshiftArgs(database="analytics", host="wh.example", port=5439)
)
aws.quicksight.DataSource(
    "good-warehouse-source", data_source_id="good-warehouse", name="good", type="REDSHIFT",
    parameters=redshift_parameters, credentials=aws.quicksight.DataSourceCredentialsArgs(secret_arn=SECRET),
    vpc_connection_properties=aws.quicksight.DataSourceVpcConnectionPropertiesArgs(
        vpc_connection_arn=f"{QS}:vpcConnection/uba-test-bi"),
    ssl_properties=aws.quicksight.DataSourceSslPropertiesArgs(disable_ssl=False), opts=plain,
)  # fmt: skip
aws.quicksight.DataSource(
    "bad-public-password-source", data_source_id="bad-warehouse", name="bad", type="REDSHIFT",
    parameters=redshift_parameters,
    credentials=aws.quicksight.DataSourceCredentialsArgs(
        credential_pair=aws.quicksight.DataSourceCredentialsCredentialPairArgs(username="admin", password="hunter2")),
    ssl_properties=aws.quicksight.DataSourceSslPropertiesArgs(disable_ssl=True),
    permissions=[aws.quicksight.DataSourcePermissionArgs(principal="*", actions=["quicksight:DescribeDataSource"])],
    opts=plain,
)  # fmt: skip
aws.quicksight.DataSource(
    "good-athena-source", data_source_id="good-athena", name="athena", type="ATHENA",
    parameters=aws.quicksight.DataSourceParametersArgs(
        athena=aws.quicksight.DataSourceParametersAthenaArgs(work_group="uba-test-analytics-bi")),
    opts=plain,
)  # fmt: skip
probe_table = aws.quicksight.DataSetPhysicalTableMapArgs(
    physical_table_map_id="t",
    relational_table=aws.quicksight.DataSetPhysicalTableMapRelationalTableArgs(
        data_source_arn=f"{QS}:datasource/good-warehouse", name="dwm_user_biz_daily",
        input_columns=[aws.quicksight.DataSetPhysicalTableMapRelationalTableInputColumnArgs(name="biz_id",
                                                                                           type="STRING")]),
)  # fmt: skip
aws.quicksight.DataSet(
    "good-rules-dataset", data_set_id="good-rules", name="rules", import_mode="DIRECT_QUERY", use_as="RLS_RULES",
    physical_table_maps=[probe_table], opts=plain,
)  # fmt: skip
aws.quicksight.DataSet(
    "good-secured-dataset", data_set_id="good-secured", name="secured", import_mode="SPICE",
    physical_table_maps=[probe_table],
    row_level_permission_data_set=aws.quicksight.DataSetRowLevelPermissionDataSetArgs(
        arn=f"{QS}:dataset/good-rules", permission_policy="GRANT_ACCESS", status="ENABLED"),
    opts=plain,
)  # fmt: skip
aws.quicksight.DataSet(
    "bad-open-dataset", data_set_id="bad-open", name="open", import_mode="SPICE", physical_table_maps=[probe_table],
    opts=plain,
)  # fmt: skip
aws.quicksight.DataSet(
    "bad-disabled-rls-dataset", data_set_id="bad-disabled", name="disabled", import_mode="SPICE",
    physical_table_maps=[probe_table],
    row_level_permission_data_set=aws.quicksight.DataSetRowLevelPermissionDataSetArgs(
        arn=f"{QS}:dataset/good-rules", permission_policy="GRANT_ACCESS", status="DISABLED"),
    opts=plain,
)  # fmt: skip
aws.quicksight.User(
    "good-reader", email="reader@example.com", identity_type="IAM", user_role="READER",
    iam_arn=f"arn:aws:iam::{ACCOUNT}:user/reader", opts=plain,
)  # fmt: skip
aws.quicksight.User(
    "bad-admin", email="admin@example.com", identity_type="IAM", user_role="ADMIN",
    iam_arn=f"arn:aws:iam::{ACCOUNT}:user/admin", opts=plain,
)  # fmt: skip
# --- DMS (dms-not-public, dms-kms, dms-credentials-by-reference) -------------------------------------------
DMS_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:probe-db-AbCdEf"
DMS_ROLE = f"arn:aws:iam::{ACCOUNT}:role/probe-dms"
aws.dms.ReplicationInstance(
    "bad-public-instance", replication_instance_id="probe-public", replication_instance_class="dms.t3.micro",
    opts=plain,
)  # fmt: skip
aws.dms.ReplicationInstance(
    "good-private-instance", replication_instance_id="probe-private", replication_instance_class="dms.t3.micro",
    publicly_accessible=False, kms_key_arn=KEY, opts=plain,
)  # fmt: skip
good_source = aws.dms.Endpoint(
    "good-source-endpoint", endpoint_id="probe-source", endpoint_type="source", engine_name="postgres",
    database_name="app", secrets_manager_arn=DMS_SECRET, secrets_manager_access_role_arn=DMS_ROLE, ssl_mode="require",
    kms_key_arn=KEY, opts=plain,
)  # fmt: skip
aws.dms.Endpoint(
    "bad-password-endpoint", endpoint_id="probe-password", endpoint_type="source", engine_name="mysql",
    server_name="db.example.internal", port=3306, username="dms", password="hunter2", ssl_mode="require",
    kms_key_arn=KEY, opts=plain,
)  # fmt: skip
aws.dms.Endpoint(
    "bad-plaintext-endpoint", endpoint_id="probe-plaintext", endpoint_type="source", engine_name="postgres",
    database_name="app", secrets_manager_arn=DMS_SECRET, secrets_manager_access_role_arn=DMS_ROLE, kms_key_arn=KEY,
    opts=plain,
)  # fmt: skip
good_target = aws.dms.Endpoint(
    "good-kinesis-endpoint", endpoint_id="probe-kinesis", endpoint_type="target", engine_name="kinesis",
    kms_key_arn=KEY,
    kinesis_settings=aws.dms.EndpointKinesisSettingsArgs(stream_arn=good_stream.arn, service_access_role_arn=DMS_ROLE),
    opts=plain,
)  # fmt: skip
aws.dms.ReplicationConfig(
    "good-replication", replication_config_identifier="probe-good", replication_type="cdc",
    source_endpoint_arn=good_source.endpoint_arn, target_endpoint_arn=good_target.endpoint_arn, table_mappings="{}",
    compute_config=aws.dms.ReplicationConfigComputeConfigArgs(
        replication_subnet_group_id="probe", vpc_security_group_ids=["sg-0probe"], kms_key_id=KEY),
    opts=plain,
)  # fmt: skip
aws.dms.ReplicationConfig(
    "bad-open-replication", replication_config_identifier="probe-bad", replication_type="cdc",
    source_endpoint_arn=good_source.endpoint_arn, target_endpoint_arn=good_target.endpoint_arn, table_mappings="{}",
    compute_config=aws.dms.ReplicationConfigComputeConfigArgs(replication_subnet_group_id="probe"),
    opts=plain,
)  # fmt: skip

# --- CloudFront (cloudfront-*) -------------------------------------------------------------------------------
edge_settings = EdgeSettings.model_validate(
    {
        "realtime_logs": {"stream": {"mode": "on_demand"}},
        "domain": {"name": "collect.example.com", "hosted_zone_id": "Z0EXAMPLE1234567890AB"},
        "waf": {"enabled": True},
    }
)
edge_component = pulumi.ComponentResource("uba:test:Edge", "edge", None, components)
build_distribution(
    edge_component,
    DistributionArgs(edge_settings, context, tagged, good_stream, "abc123", "v1"),
)
_plain_behavior: dict[str, Any] = {
    "target_origin_id": "web",
    "viewer_protocol_policy": "allow-all",
    "allowed_methods": ["GET", "HEAD"],
    "cached_methods": ["GET", "HEAD"],
    "cache_policy_id": CACHING_DISABLED_POLICY_ID,
}
aws.cloudfront.Distribution(
    "bad-plain-distribution", enabled=True,
    origins=[aws.cloudfront.DistributionOriginArgs(
        origin_id="web", domain_name="origin.example.com",
        custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
            http_port=80, https_port=443, origin_protocol_policy="http-only", origin_ssl_protocols=["TLSv1"]),
    )],
    default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(**_plain_behavior),
    viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
        acm_certificate_arn=f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        ssl_support_method="sni-only", minimum_protocol_version="TLSv1_2016"),
    restrictions=aws.cloudfront.DistributionRestrictionsArgs(
        geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
    opts=plain,
)  # fmt: skip
aws.cloudfront.Distribution(
    "bad-default-cert-distribution", enabled=True,
    origins=[aws.cloudfront.DistributionOriginArgs(
        origin_id="web", domain_name="origin.example.com",
        custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
            http_port=80, https_port=443, origin_protocol_policy="https-only", origin_ssl_protocols=["TLSv1.2"]),
    )],
    default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
        **{**_plain_behavior, "viewer_protocol_policy": "redirect-to-https"},
        realtime_log_config_arn=f"arn:aws:cloudfront::{ACCOUNT}:realtime-log-config/probe"),
    viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True),
    restrictions=aws.cloudfront.DistributionRestrictionsArgs(
        geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
    opts=plain,
)  # fmt: skip

# --- user pools, distributions and API Gateway v2 (what people reach from a browser) -------------------------
strong = aws.cognito.UserPoolPasswordPolicyArgs(
    minimum_length=12, require_lowercase=True, require_uppercase=True, require_numbers=True, require_symbols=True
)
good_pool = aws.cognito.UserPool(
    "good-pool", password_policy=strong, mfa_configuration="ON",
    software_token_mfa_configuration=aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True),
    admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(allow_admin_create_user_only=True),
    opts=kept,
)  # fmt: skip
aws.cognito.UserPool(
    "bad-pool", mfa_configuration="OPTIONAL",
    password_policy=aws.cognito.UserPoolPasswordPolicyArgs(minimum_length=8, require_symbols=False),
    admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(allow_admin_create_user_only=False),
    opts=kept,
)  # fmt: skip
aws.cognito.UserPoolClient(
    "good-client", user_pool_id=good_pool.id, allowed_oauth_flows=["code"], allowed_oauth_flows_user_pool_client=True,
    explicit_auth_flows=["ALLOW_REFRESH_TOKEN_AUTH"], prevent_user_existence_errors="ENABLED", opts=plain,
)  # fmt: skip
aws.cognito.UserPoolClient(
    "bad-client", user_pool_id=good_pool.id, allowed_oauth_flows=["implicit"],
    explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH"], prevent_user_existence_errors="LEGACY",
    enable_token_revocation=False, opts=plain,
)  # fmt: skip

strict_headers = aws.cloudfront.ResponseHeadersPolicy(
    "good-headers",
    security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
        content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
            content_security_policy="default-src 'none'; script-src 'self'", override=True
        ),
        strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
            access_control_max_age_sec=63072000, override=True
        ),
        content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
            override=True
        ),
        frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
            frame_option="DENY", override=True
        ),
    ),
    opts=plain,
)
aws.cloudfront.ResponseHeadersPolicy(
    "bad-headers",
    security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
        content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
            content_security_policy="default-src 'self'; script-src 'self' 'unsafe-inline'", override=True
        ),
        strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
            access_control_max_age_sec=3600, override=True
        ),
    ),
    opts=plain,
)
no_geo = aws.cloudfront.DistributionRestrictionsArgs(
    geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")
)


def distribution(name: str, protocol: str, headers: Any, access_control: Any, tls: str, good: bool) -> None:
    """A page's distribution over S3; a good one is logged and behind a web ACL, as the probe's config asks."""
    certificate = aws.cloudfront.DistributionViewerCertificateArgs(
        acm_certificate_arn=f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        ssl_support_method="sni-only", minimum_protocol_version=tls,
    )  # fmt: skip
    aws.cloudfront.Distribution(
        name, enabled=True, restrictions=no_geo, viewer_certificate=certificate,
        logging_config=aws.cloudfront.DistributionLoggingConfigArgs(bucket="uba-test-logs.s3.amazonaws.com")
        if good else None,
        web_acl_id=f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/probe/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
        if good else None,
        origins=[aws.cloudfront.DistributionOriginArgs(
            origin_id="site", domain_name="uba-test-site.s3.eu-west-1.amazonaws.com",
            origin_access_control_id=access_control,
        )],
        default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
            target_origin_id="site", viewer_protocol_policy=protocol, allowed_methods=["GET", "HEAD"],
            cached_methods=["GET", "HEAD"], response_headers_policy_id=headers,
            cache_policy_id="658327ea-f89d-4fab-a63d-7e88639e58f6",
        ),
        opts=plain,
    )  # fmt: skip


oac = aws.cloudfront.OriginAccessControl(
    "good-oac", origin_access_control_origin_type="s3", signing_behavior="always", signing_protocol="sigv4", opts=plain
)
distribution("good-distribution", "redirect-to-https", strict_headers.id, oac.id, "TLSv1.2_2021", good=True)
distribution("good-https-only-distribution", "https-only", strict_headers.id, oac.id, "TLSv1.2_2021", good=True)
distribution("bad-distribution", "allow-all", None, None, "TLSv1", good=False)

http_api = aws.apigatewayv2.Api("probe-http-api", protocol_type="HTTP", opts=plain)
good_jwt = aws.apigatewayv2.Authorizer(
    "good-jwt-authorizer", api_id=http_api.id, authorizer_type="JWT",
    identity_sources=["$request.header.Authorization"],
    jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(
        issuer=f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_AbCdEfGhI", audiences=["client"]
    ),
    opts=plain,
)  # fmt: skip
aws.apigatewayv2.Authorizer(
    "bad-jwt-authorizer", api_id=http_api.id, authorizer_type="JWT",
    identity_sources=["$request.header.Authorization"],
    jwt_configuration=aws.apigatewayv2.AuthorizerJwtConfigurationArgs(
        issuer=f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_AbCdEfGhI"
    ),
    opts=plain,
)  # fmt: skip
aws.apigatewayv2.Route("good-route", api_id=http_api.id, route_key="GET /alerts", authorization_type="JWT",
                       authorizer_id=good_jwt.id, opts=plain)  # fmt: skip
aws.apigatewayv2.Route("good-preflight-route", api_id=http_api.id, route_key="OPTIONS /{proxy+}", opts=plain)
aws.apigatewayv2.Route("bad-open-route", api_id=http_api.id, route_key="GET /alerts/open", opts=plain)
ws_api = aws.apigatewayv2.Api("probe-ws-api", protocol_type="WEBSOCKET", route_selection_expression="$request.body.a",
                              opts=plain)  # fmt: skip
aws.apigatewayv2.Route("good-disconnect-route", api_id=ws_api.id, route_key="$disconnect", opts=plain)
aws.apigatewayv2.Route("bad-connect-route", api_id=ws_api.id, route_key="$connect", authorization_type="NONE",
                       opts=plain)  # fmt: skip
aws.apigatewayv2.Stage(
    "good-v2-stage", api_id=http_api.id, name="$default", auto_deploy=True,
    access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
        destination_arn=KEY, format='{"r":"$context.requestId"}'
    ),
    default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
        throttling_rate_limit=10, throttling_burst_limit=20
    ),
    opts=plain,
)  # fmt: skip
aws.apigatewayv2.Stage("bad-v2-stage", api_id=ws_api.id, name="live", opts=plain)
# --- notifications: who may publish to a topic (sns-topic-publishers-allowed, budget-notifies) -------------
notify_key = aws.kms.Key(
    "probe-notify-key", enable_key_rotation=True, deletion_window_in_days=30,
    policy=policy(
        {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "Notifiers", "Effect": "Allow",
         "Principal": {"Service": ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}},
    ),
    opts=kept,
)  # fmt: skip


def notified_topic(name: str, key: pulumi.Input[str], *publishers: str) -> aws.sns.Topic:
    """A topic whose policy lets `publishers` publish (none: no topic policy at all)."""
    topic = aws.sns.Topic(name, kms_master_key_id=key, opts=plain)
    if publishers:
        aws.sns.TopicPolicy(
            f"{name}-policy", arn=topic.arn,
            policy=topic.arn.apply(lambda arn: policy({
                "Effect": "Allow", "Principal": {"Service": list(publishers)}, "Action": "SNS:Publish", "Resource": arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            })),
            opts=plain,
        )  # fmt: skip
    return topic


open_topic = notified_topic("good-notified-topic", notify_key.arn, "cloudwatch.amazonaws.com", "budgets.amazonaws.com")
closed_topic = notified_topic("probe-closed-topic", notify_key.arn, "cloudwatch.amazonaws.com")
managed_key_topic = notified_topic("probe-managed-key-topic", "alias/aws/sns", "budgets.amazonaws.com")
unpolicied_topic = notified_topic("probe-unpolicied-topic", notify_key.arn)


def alarm(name: str, topic: aws.sns.Topic) -> None:
    aws.cloudwatch.MetricAlarm(
        name, comparison_operator="GreaterThanThreshold", evaluation_periods=1, metric_name="Errors",
        namespace="AWS/Lambda", period=300, statistic="Sum", threshold=1, alarm_actions=[topic.arn], opts=plain,
    )  # fmt: skip


def budget(name: str, topic: aws.sns.Topic | None) -> None:
    notifications = [] if topic is None else [aws.budgets.BudgetNotificationArgs(
        notification_type="FORECASTED", comparison_operator="GREATER_THAN", threshold=100,
        threshold_type="PERCENTAGE", subscriber_sns_topic_arns=[topic.arn],
    )]  # fmt: skip
    aws.budgets.Budget(
        name, budget_type="COST", time_unit="MONTHLY", limit_amount="100", limit_unit="USD",
        notifications=notifications, opts=plain,
    )  # fmt: skip


alarm("good-alarm", open_topic)
budget("good-budget", open_topic)
budget("bad-budget-closed-topic", closed_topic)  # the topic policy admits CloudWatch only
budget("bad-silent-budget", None)  # notifies nobody
alarm("bad-alarm-managed-key", managed_key_topic)  # neither the topic policy nor alias/aws/sns admits CloudWatch
anomaly_monitor = aws.costexplorer.AnomalyMonitor(
    "probe-anomaly-monitor", name="uba-test-cost", monitor_type="DIMENSIONAL", monitor_dimension="SERVICE", opts=plain
)
aws.costexplorer.AnomalySubscription(
    "bad-anomaly-subscription", name="uba-test-anomalies", frequency="IMMEDIATE",
    monitor_arn_lists=[anomaly_monitor.arn],
    subscribers=[aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="SNS", address=unpolicied_topic.arn)],
    opts=plain,
)  # fmt: skip
# --- OpenSearch (opensearch-*, firehose-opensearch-failures-kept) -------------------------------------------
search_rules = [{"ResourceType": "collection", "Resource": ["collection/good-search"]}]
good_keys = aws.opensearch.ServerlessSecurityPolicy(
    "good-search-keys", name="good-search-keys", type="encryption",
    policy=json.dumps({"Rules": search_rules, "AWSOwnedKey": False, "KmsARN": KEY}), opts=plain,
)  # fmt: skip
aws.opensearch.ServerlessCollection(
    "good-collection", name="good-search", type="TIMESERIES",
    opts=pulumi.ResourceOptions(provider=tagged, protect=True, depends_on=[good_keys]),
)  # fmt: skip
aws.opensearch.ServerlessSecurityPolicy(
    "bad-owned-keys", name="bad-search-keys", type="encryption",
    policy=json.dumps({"Rules": [{"ResourceType": "collection", "Resource": ["collection/bad-search"]}],
                       "AWSOwnedKey": True}),
    opts=plain,
)  # fmt: skip
aws.opensearch.ServerlessCollection("bad-collection", name="bad-search", type="TIMESERIES", opts=kept)
aws.opensearch.ServerlessSecurityPolicy(
    "good-search-network", name="good-search-network", type="network",
    policy=json.dumps([{"Rules": search_rules, "AllowFromPublic": False, "SourceVPCEs": ["vpce-0probe"]}]), opts=plain,
)  # fmt: skip
aws.opensearch.ServerlessSecurityPolicy(
    "bad-public-network", name="bad-public-network", type="network",
    policy=json.dumps([{"Rules": search_rules, "AllowFromPublic": True}]), opts=plain,
)  # fmt: skip
aws.opensearch.ServerlessAccessPolicy(
    "good-data-access", name="good-data-access", type="data",
    policy=json.dumps([{"Rules": [{"ResourceType": "index", "Resource": ["index/good-search/uba-search*"],
                                   "Permission": ["aoss:ReadDocument"]}],
                        "Principal": [f"arn:aws:iam::{ACCOUNT}:role/reader"]}]),
    opts=plain,
)  # fmt: skip
aws.opensearch.ServerlessAccessPolicy(
    "bad-data-access", name="bad-data-access", type="data",
    policy=json.dumps([{"Rules": [{"ResourceType": "index", "Resource": ["index/*/*"], "Permission": ["aoss:*"]}],
                        "Principal": ["*"]}]),
    opts=plain,
)  # fmt: skip
aws.opensearch.Domain(
    "good-domain", domain_name="good-search",
    encrypt_at_rest=aws.opensearch.DomainEncryptAtRestArgs(enabled=True, kms_key_id=KEY),
    node_to_node_encryption=aws.opensearch.DomainNodeToNodeEncryptionArgs(enabled=True),
    domain_endpoint_options=aws.opensearch.DomainDomainEndpointOptionsArgs(
        enforce_https=True, tls_security_policy="Policy-Min-TLS-1-2-PFS-2023-10"),
    advanced_security_options=aws.opensearch.DomainAdvancedSecurityOptionsArgs(
        enabled=True, internal_user_database_enabled=False,
        master_user_options=aws.opensearch.DomainAdvancedSecurityOptionsMasterUserOptionsArgs(
            master_user_arn=f"arn:aws:iam::{ACCOUNT}:role/search-admin")),
    vpc_options=aws.opensearch.DomainVpcOptionsArgs(subnet_ids=["subnet-0probe"]),
    opts=kept,
)  # fmt: skip
aws.opensearch.Domain(
    "bad-domain", domain_name="bad-search",
    encrypt_at_rest=aws.opensearch.DomainEncryptAtRestArgs(enabled=False),
    domain_endpoint_options=aws.opensearch.DomainDomainEndpointOptionsArgs(enforce_https=False),
    opts=kept,
)  # fmt: skip
_search_backup: dict[str, Any] = {
    "bucket_arn": "arn:aws:s3:::probe-search-failures",
    "role_arn": f"arn:aws:iam::{ACCOUNT}:role/fh",
}
aws.kinesis.FirehoseDeliveryStream(
    "good-search-firehose", name="good-search-firehose", destination="opensearchserverless",
    opensearchserverless_configuration=aws.kinesis.FirehoseDeliveryStreamOpensearchserverlessConfigurationArgs(
        collection_endpoint="https://probe.eu-west-1.aoss.amazonaws.com", index_name="uba-search",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/fh",
        s3_configuration=aws.kinesis.FirehoseDeliveryStreamOpensearchserverlessConfigurationS3ConfigurationArgs(
            **_search_backup, kms_key_arn=KEY),
        cloudwatch_logging_options=aws.kinesis.FirehoseDeliveryStreamOpensearchserverlessConfigurationCloudwatchLoggingOptionsArgs(
            enabled=True, log_group_name="/aws/kinesisfirehose/probe", log_stream_name="DestinationDelivery")),
    opts=plain,
)  # fmt: skip
aws.kinesis.FirehoseDeliveryStream(
    "bad-search-firehose", name="bad-search-firehose", destination="opensearchserverless",
    opensearchserverless_configuration=aws.kinesis.FirehoseDeliveryStreamOpensearchserverlessConfigurationArgs(
        collection_endpoint="https://probe.eu-west-1.aoss.amazonaws.com", index_name="uba-search",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/fh",
        s3_configuration=aws.kinesis.FirehoseDeliveryStreamOpensearchserverlessConfigurationS3ConfigurationArgs(
            **_search_backup)),
    opts=plain,
)  # fmt: skip
