"""QuickSight's two data sources: the warehouse (privately, with the Redshift-managed secret) and the lake.

**Warehouse.** A Redshift data source through the tier's VPC connection, TLS on, with credentials from
the secret Redshift manages for the warehouse's admin (`credentials.secret_arn`): no password is an
input anywhere. QuickSight reads the secret with the account's Secrets Manager role (created when an
administrator turns on Secrets Manager access in QuickSight, once per account); the program adds to that
role an inline policy for exactly this secret and the platform key, through Secrets Manager. Nobody is
granted the data source in QuickSight: the datasets that read it are defined here, and no person can
write SQL against it.

**Lake.** An Athena data source with a role of its own (`parameters.athena.role_arn`, which overrides
the account-wide QuickSight role for this source) in a workgroup of its own, `<prefix>-analytics-bi`:
encrypted results under `results/bi/` of the lake's results bucket, the lake's scan cap, settings
enforced. Why not the platform's op workgroup or bizUser's: within a workgroup whoever may use it can
list and fetch every execution's results (see `components/lake/analytics.py`), so QuickSight's queries,
which read every business line before row-level security filters them, would be readable there by
people granted fewer lines. In its own workgroup, only admin (and QuickSight) can read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child
from components.shared.iam import kms_via, policy_json, role_with_policy

from .network import QUICKSIGHT

# The lake's workgroups run Athena engine v3 (components.lake.catalog.ATHENA_ENGINE); tiers do not import each other.
ATHENA_ENGINE: Final = "Athena engine version 3"
RESULTS_PREFIX: Final = "results/bi/"
EVENTS_PREFIX: Final = "events/"


@dataclass(frozen=True)
class WarehouseSource:
    """The warehouse as QuickSight connects to it (from the warehouse tier)."""

    host: pulumi.Input[str]
    port: int
    database: str
    admin_secret_arn: pulumi.Input[str]
    cluster_identifier: pulumi.Input[str] | None  # provisioned only


@dataclass(frozen=True)
class LakeSource:
    """The lake as Athena reads it (from the lake tier)."""

    bucket_arn: pulumi.Input[str]
    results_bucket_name: pulumi.Input[str]
    results_bucket_arn: pulumi.Input[str]
    glue_database_name: pulumi.Input[str]
    bytes_scanned_cutoff: int


def warehouse_data_source(
    parent: pulumi.Resource,
    context: StackContext,
    warehouse: WarehouseSource,
    vpc_connection: aws.quicksight.VpcConnection,
    secrets_role: str,
) -> aws.quicksight.DataSource:
    grant = aws.iam.RolePolicy(
        "bi-secret-read",
        role=secrets_role,
        name=context.name("bi-warehouse-secret"),
        policy=policy_json(
            [
                {
                    "Sid": "ReadTheWarehouseSecret",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    "Resource": warehouse.admin_secret_arn,
                },
                {
                    "Sid": "DecryptItThroughSecretsManager",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": context.kms_key_arn,
                    "Condition": {"StringEquals": {"kms:ViaService": kms_via(context, "secretsmanager")}},
                },
            ]
        ),
        opts=child(parent),
    )
    redshift: dict[str, Any] = {"database": warehouse.database, "host": warehouse.host, "port": warehouse.port}
    if warehouse.cluster_identifier is not None:
        redshift["cluster_id"] = warehouse.cluster_identifier
    name = context.name("bi-warehouse")
    return aws.quicksight.DataSource(
        "bi-warehouse-source",
        data_source_id=name,
        name=f"{name} (Redshift)",
        type="REDSHIFT",
        parameters=aws.quicksight.DataSourceParametersArgs(
            redshift=aws.quicksight.DataSourceParametersRedshiftArgs(**redshift)
        ),
        credentials=aws.quicksight.DataSourceCredentialsArgs(secret_arn=warehouse.admin_secret_arn),
        vpc_connection_properties=aws.quicksight.DataSourceVpcConnectionPropertiesArgs(
            vpc_connection_arn=vpc_connection.arn
        ),
        ssl_properties=aws.quicksight.DataSourceSslPropertiesArgs(disable_ssl=False),
        opts=child(parent, depends_on=[grant]),
    )


def bi_workgroup(parent: pulumi.Resource, context: StackContext, lake: LakeSource) -> aws.athena.Workgroup:
    return aws.athena.Workgroup(
        "bi-athena-workgroup",
        name=context.name("analytics-bi"),
        description=f"{context.prefix}: QuickSight's queries of the event lake; settings override clients",
        configuration=aws.athena.WorkgroupConfigurationArgs(
            enforce_workgroup_configuration=True,
            publish_cloudwatch_metrics_enabled=True,
            bytes_scanned_cutoff_per_query=lake.bytes_scanned_cutoff,
            engine_version=aws.athena.WorkgroupConfigurationEngineVersionArgs(selected_engine_version=ATHENA_ENGINE),
            result_configuration=aws.athena.WorkgroupConfigurationResultConfigurationArgs(
                output_location=pulumi.Output.concat("s3://", lake.results_bucket_name, "/", RESULTS_PREFIX),
                encryption_configuration=aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                    encryption_option="SSE_KMS", kms_key_arn=context.kms_key_arn
                ),
            ),
        ),
        opts=child(parent),
    )


def lake_data_source(
    parent: pulumi.Resource, context: StackContext, lake: LakeSource, workgroup: aws.athena.Workgroup
) -> aws.quicksight.DataSource:
    role, grants = role_with_policy(
        parent,
        context,
        "bi-athena",
        QUICKSIGHT,
        athena_statements(context, lake, workgroup.arn),
        "QuickSight queries the event lake through Athena in the BI workgroup",
    )
    name = context.name("bi-lake")
    return aws.quicksight.DataSource(
        "bi-lake-source",
        data_source_id=name,
        name=f"{name} (Athena)",
        type="ATHENA",
        parameters=aws.quicksight.DataSourceParametersArgs(
            athena=aws.quicksight.DataSourceParametersAthenaArgs(work_group=workgroup.name, role_arn=role.arn)
        ),
        opts=child(parent, depends_on=[grants]),
    )


def athena_statements(
    context: StackContext, lake: LakeSource, workgroup_arn: pulumi.Input[str]
) -> list[dict[str, Any]]:
    """Queries in the BI workgroup only: the lake's raw events and catalog read, results under results/bi/."""
    results = lake.results_bucket_arn
    glue = [
        context.arn("glue", "catalog"),
        pulumi.Output.concat(context.arn("glue", "database/"), lake.glue_database_name),
        pulumi.Output.concat(context.arn("glue", "table/"), lake.glue_database_name, "/*"),
    ]
    return [
        {
            "Sid": "QueryInTheBiWorkgroup",
            "Effect": "Allow",
            "Action": ["athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
                       "athena:GetQueryResults", "athena:GetQueryResultsStream", "athena:GetWorkGroup"],
            "Resource": workgroup_arn,
        },
        {
            "Sid": "BrowseTheCatalogThroughAthena",
            "Effect": "Allow",
            "Action": ["athena:GetDataCatalog", "athena:ListDatabases", "athena:GetDatabase",
                       "athena:ListTableMetadata", "athena:GetTableMetadata"],
            "Resource": context.arn("athena", "datacatalog/AwsDataCatalog"),
        },
        {
            "Sid": "ReadTheLakeCatalog",
            "Effect": "Allow",
            "Action": ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
                       "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"],
            "Resource": glue,
        },
        {
            "Sid": "ReadRawEvents",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": pulumi.Output.concat(lake.bucket_arn, "/", EVENTS_PREFIX, "*"),
        },
        {
            "Sid": "ListRawEvents",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": lake.bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{EVENTS_PREFIX}*"]}},
        },
        {
            "Sid": "LocateTheBuckets",
            "Effect": "Allow",
            "Action": "s3:GetBucketLocation",
            "Resource": [lake.bucket_arn, results],
        },
        {
            "Sid": "WriteAndReadOwnResults",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            "Resource": pulumi.Output.concat(results, "/", RESULTS_PREFIX, "*"),
        },
        {
            "Sid": "ListOwnResults",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": results,
            "Condition": {"StringLike": {"s3:prefix": [f"{RESULTS_PREFIX}*"]}},
        },
        {
            "Sid": "UseThePlatformKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": context.kms_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": kms_via(context, "s3")}},
        },
    ]  # fmt: skip
