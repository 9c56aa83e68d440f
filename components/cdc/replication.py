"""DMS Serverless: the source endpoint (credentials by secret reference), the Kinesis target, and the replication.

The source endpoint names only the Secrets Manager secret (`username`, `password`, `host`, `port`)
and a role DMS assumes to read it (trusted by DMS's regional principal, `dms.<region>.amazonaws.com`,
as the DMS User Guide's "Using secrets to access AWS Database Migration Service endpoints" says);
no password is ever an input. TLS is required (`ssl_mode`).

The target endpoint writes every change to the `changes` stream as one-line JSON with what the
consumers need (AWS DMS User Guide, "Using Amazon Kinesis Data Streams as a target"): transaction
details (commit time, transaction and position), the partition value, control details and
table-alter operations, NULL columns, and 18-digit integers as integers. Its role may describe
the one stream, put records on it and encrypt them with the platform key through Kinesis only.

The replication (`aws.dms.ReplicationConfig`, full load then ongoing changes) runs in the stack's
subnets with DMS's security group, encrypted with the platform key; its resource identifier is set,
so its ARN, its CloudWatch dimension (`ReplicationConfigId` = `<account>:<identifier>`) and the log
group it writes (`dms-serverless-replication-<identifier>`, created here first, encrypted, with the
stack's retention) are all known before it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.cdc.mappings import as_json, replication_settings, table_mappings
from components.cdc.network import DmsNetwork
from components.shared.context import StackContext, child
from components.shared.iam import assume_role_policy, kms_via, role_with_policy
from components.shared.logs import log_group
from settings import CdcSettings
from settings.cdc import DMS_ENGINE_NAMES

DMS = "dms.amazonaws.com"
KINESIS_WRITE = ["kinesis:DescribeStream", "kinesis:PutRecord", "kinesis:PutRecords"]
# The two roles DMS looks up by these exact names, once per account (DMS User Guide, "Creating the IAM
# roles to use with the AWS CLI and AWS DMS API"), each with the AWS-managed policy documented for it.
ACCOUNT_ROLES = {
    "dms-vpc-role": "arn:aws:iam::aws:policy/service-role/AmazonDMSVPCManagementRole",
    "dms-cloudwatch-logs-role": "arn:aws:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole",
}


@dataclass(frozen=True)
class Replication:
    config: aws.dms.ReplicationConfig
    arn: pulumi.Output[str]
    identifier: str  # the resource identifier: the ARN's last part
    source_endpoint: aws.dms.Endpoint
    target_endpoint: aws.dms.Endpoint
    log_group: aws.cloudwatch.LogGroup


def replication_identifier(context: StackContext) -> str:
    return context.name("cdc")


def metric_dimension(context: StackContext) -> pulumi.Output[str]:
    """The `ReplicationConfigId` DMS Serverless reports its metrics under: `<account>:<resource identifier>`."""
    return context.account_id.apply(lambda account: f"{account}:{replication_identifier(context)}")


def account_roles(parent: pulumi.Resource, settings: CdcSettings) -> list[pulumi.Resource]:
    """DMS's account-wide roles, when this stack owns them; kept on destroy (other stacks' DMS needs them)."""
    if not settings.manage_dms_account_roles:
        return []
    created: list[pulumi.Resource] = []
    for name, policy in ACCOUNT_ROLES.items():
        role = aws.iam.Role(
            name,
            name=name,
            description="DMS's account-wide role (owned by one stack, retained when it is destroyed)",
            assume_role_policy=assume_role_policy(DMS),
            opts=child(parent, retain_on_delete=True),
        )
        created.append(
            aws.iam.RolePolicyAttachment(
                f"{name}-policy", role=role.name, policy_arn=policy, opts=child(role, retain_on_delete=True)
            )
        )
    return created


def _secret_statements(settings: CdcSettings) -> list[dict[str, Any]]:
    source = settings.source
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadTheDatabaseSecret",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": source.secret_arn,
        }
    ]
    if source.secret_kms_key_arn is not None:
        statements.append(
            {
                "Sid": "DecryptTheDatabaseSecret",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": source.secret_kms_key_arn,
            }
        )
    return statements


def _stream_statements(context: StackContext, stream: aws.kinesis.Stream) -> list[dict[str, Any]]:
    return [
        {"Sid": "WriteChanges", "Effect": "Allow", "Action": KINESIS_WRITE, "Resource": stream.arn},
        {
            "Sid": "EncryptChangesThroughKinesis",
            "Effect": "Allow",
            "Action": "kms:GenerateDataKey",
            "Resource": context.kms_key_arn,
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": kms_via(context, "kinesis"),
                    "kms:EncryptionContext:aws:kinesis:arn": stream.arn,
                }
            },
        },
    ]


def source_endpoint(
    parent: pulumi.Resource,
    context: StackContext,
    settings: CdcSettings,
    secret_role: aws.iam.Role,
    after: list[pulumi.Resource],
) -> aws.dms.Endpoint:
    source = settings.source
    engine_settings: dict[str, Any] = {}
    if source.is_postgres:
        # A heartbeat keeps an idle replication slot from holding on to WAL (the storage-full failure mode).
        engine_settings["postgres_settings"] = aws.dms.EndpointPostgresSettingsArgs(
            heartbeat_enable=True, heartbeat_frequency=5
        )
    return aws.dms.Endpoint(
        "cdc-source-endpoint",
        endpoint_id=context.name("cdc-source"),
        endpoint_type="source",
        engine_name=DMS_ENGINE_NAMES[source.engine],
        database_name=source.database,
        secrets_manager_arn=source.secret_arn,
        secrets_manager_access_role_arn=secret_role.arn,
        ssl_mode=source.ssl_mode,
        kms_key_arn=context.kms_key_arn,
        opts=child(parent, depends_on=after),
        **engine_settings,
    )


def target_endpoint(
    parent: pulumi.Resource,
    context: StackContext,
    stream: aws.kinesis.Stream,
    role: aws.iam.Role,
    after: list[pulumi.Resource],
) -> aws.dms.Endpoint:
    return aws.dms.Endpoint(
        "cdc-target-endpoint",
        endpoint_id=context.name("cdc-changes"),
        endpoint_type="target",
        engine_name="kinesis",
        kms_key_arn=context.kms_key_arn,
        kinesis_settings=aws.dms.EndpointKinesisSettingsArgs(
            stream_arn=stream.arn,
            service_access_role_arn=role.arn,
            message_format="json-unformatted",
            include_transaction_details=True,
            include_partition_value=True,
            partition_include_schema_table=True,
            include_control_details=True,
            include_table_alter_operations=True,
            include_null_and_empty=True,
            use_large_integer_value=True,
        ),
        opts=child(parent, depends_on=after),
    )


def build_replication(
    parent: pulumi.Resource,
    context: StackContext,
    settings: CdcSettings,
    stream: aws.kinesis.Stream,
    network: DmsNetwork,
    account: list[pulumi.Resource],
) -> Replication:
    identifier = replication_identifier(context)
    secret_role, secret_policy = role_with_policy(
        parent,
        context,
        "cdc-source-secret",
        f"dms.{context.region}.amazonaws.com",
        _secret_statements(settings),
        "DMS reads the source database's credentials from its Secrets Manager secret",
    )
    stream_role, stream_policy = role_with_policy(
        parent,
        context,
        "cdc-changes-writer",
        DMS,
        _stream_statements(context, stream),
        "DMS writes the source database's changes to the changes stream",
    )
    source = source_endpoint(parent, context, settings, secret_role, after=[secret_policy])
    target = target_endpoint(parent, context, stream, stream_role, after=[stream_policy])
    logs = log_group(parent, context, "cdc-replication-logs", f"dms-serverless-replication-{identifier}")
    replication = settings.replication
    config = aws.dms.ReplicationConfig(
        "cdc-replication",
        replication_config_identifier=identifier,
        resource_identifier=identifier,
        replication_type="full-load-and-cdc",
        source_endpoint_arn=source.endpoint_arn,
        target_endpoint_arn=target.endpoint_arn,
        table_mappings=as_json(table_mappings(settings.tables)),
        replication_settings=as_json(replication_settings()),
        start_replication=replication.start,
        compute_config=aws.dms.ReplicationConfigComputeConfigArgs(
            replication_subnet_group_id=network.subnet_group.replication_subnet_group_id,
            vpc_security_group_ids=[network.security_group.id],
            kms_key_id=context.kms_key_arn,
            min_capacity_units=replication.min_capacity_units,
            max_capacity_units=replication.max_capacity_units,
            multi_az=replication.multi_az,
        ),
        # DMS checks the roles' grants and the network paths when it starts the replication.
        opts=child(parent, depends_on=[secret_policy, stream_policy, logs, *network.ready, *account]),
    )
    return Replication(
        config=config,
        arn=config.arn,
        identifier=identifier,
        source_endpoint=source,
        target_endpoint=target,
        log_group=logs,
    )
