"""The staff groups' IAM policy documents, as pure functions of the stack's resource ARNs.

`AccessTargets` names every resource a group may be granted on. The program fills it
with Outputs (`AccessTargets[pulumi.Input[str]]`) and resolves it before rendering;
tests and `tools.access` use plain strings (`AccessTargets[str]`). A tier that is
switched off leaves its fields None, and every statement that would name one of its
resources simply drops out, so a switched-off tier contributes no grants.

Every Allow names this stack's own resources by exact ARN. Alarms and log groups, which are
many, come from the stack's catalogues (`StackContext.alarms`, `.log_groups`), never from a
`<prefix>-*` pattern: a prefix may extend another's (`uba-prod`, `uba-prod-eu`), and a pattern
would reach the other stack's alarms and logs.
`Resource: "*"` appears only for the few read and list actions AWS authorises on no
narrower resource (`ACCOUNT_WIDE_ACTIONS`, checked against
parliament's IAM database by the tests). Only the admin group holds a real wildcard.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Generic, Literal, TypeVar

from components.shared.arns import PARTITION, service_endpoints
from settings import PERSONAS, DevAccess, Persona

V = TypeVar("V")
Statement = dict[str, Any]

ADMINISTRATOR_ACCESS_ARN = f"arn:{PARTITION}:iam::aws:policy/AdministratorAccess"
# What the AWS-managed AdministratorAccess policy says; `tools.access` evaluates it as this.
ADMINISTRATOR_ACCESS_DOCUMENT: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
# IAM's limit for a customer-managed policy, counted without whitespace.
MANAGED_POLICY_MAX_CHARS = 6144

# Read and list actions AWS authorises only on "*" (no resource-level permissions): the only
# actions a non-admin group is granted on "*". Each is account-wide by AWS's design.
ACCOUNT_WIDE_ACTIONS = frozenset(
    {
        "cloudwatch:GetMetricData",  # metric reads have no resource type
        "cloudwatch:GetMetricStatistics",
        "cloudwatch:ListMetrics",
        "cloudwatch:ListDashboards",
        "logs:DescribeLogGroups",
        "athena:ListWorkGroups",
        "redshift-data:DescribeStatement",  # AWS returns only statements the caller ran
        "redshift-data:GetStatementResult",
        "redshift-data:ListStatements",
        "redshift:DescribeClusters",
        "iam:GetAccountPasswordPolicy",  # self-service sign-in and MFA set-up
        "iam:ListVirtualMFADevices",
        "dms:DescribeReplications",  # DMS Serverless: describing replications has no resource type
        "dms:DescribeReplicationConfigs",
    }
)

# The self-service actions a console user needs before signing in with MFA (AWS's documented set,
# plus changing the initial password).
MFA_SELF_SERVICE_ACTIONS = (
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "iam:ChangePassword",
    "iam:GetAccountPasswordPolicy",
    "sts:GetSessionToken",
)

# Managing identities and policies: denied to op whatever else it is granted. The MFA self-service
# actions are deliberately absent so op users can still enrol their own device.
IAM_ADMINISTRATION_ACTIONS = (
    "iam:CreateUser", "iam:DeleteUser", "iam:UpdateUser", "iam:TagUser", "iam:UntagUser",
    "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:DeleteLoginProfile",
    "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey",
    "iam:CreateGroup", "iam:DeleteGroup", "iam:UpdateGroup", "iam:AddUserToGroup", "iam:RemoveUserFromGroup",
    "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:PassRole",
    "iam:CreatePolicy", "iam:DeletePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AttachUserPolicy", "iam:DetachUserPolicy", "iam:PutUserPolicy", "iam:DeleteUserPolicy",
    "iam:AttachGroupPolicy", "iam:DetachGroupPolicy", "iam:PutGroupPolicy", "iam:DeleteGroupPolicy",
    "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
    "iam:PutUserPermissionsBoundary", "iam:DeleteUserPermissionsBoundary",
    "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
    "iam:CreateServiceLinkedRole", "iam:CreateSAMLProvider", "iam:CreateOpenIDConnectProvider",
)  # fmt: skip

KEY_DESTRUCTION_ACTIONS = ("kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:DisableKeyRotation", "kms:PutKeyPolicy")
# An expiry rule or a deleted bucket deletes objects just as surely as DeleteObject does.
LAKE_DELETION_ACTIONS = ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutLifecycleConfiguration",
                         "s3:DeleteBucket")  # fmt: skip

# Running other code as a function's or the Flink application's role: the code itself, and what
# loads code or redirects what it does (layers, environment, logging) through the configuration.
# Only the CI deployment role (outside every group) and admin ship code; `dev` builders ship Lambda
# code in non-production stacks (`dev_access: builder`), and inherit the functions' roles there.
FUNCTION_CODE_ACTIONS = (
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:DeleteFunctionCodeSigningConfig",
    "lambda:PutFunctionCodeSigningConfig",
)
FLINK_CODE_ACTIONS = ("kinesisanalytics:UpdateApplication", "kinesisanalytics:AddApplicationInput",
                      "kinesisanalytics:AddApplicationOutput", "kinesisanalytics:DeleteApplicationOutput",
                      "kinesisanalytics:AddApplicationInputProcessingConfiguration",
                      "kinesisanalytics:AddApplicationCloudWatchLoggingOption",
                      "kinesisanalytics:DeleteApplicationCloudWatchLoggingOption")  # fmt: skip
# Changes that weaken a guardrail and that the service offers no condition key to tell apart from
# harmless tuning (the Service Authorization Reference lists none for these actions; checked against
# parliament's copy of it): denied to op whole. Their settings live in the stack file, so a change
# to them is a reviewed `pulumi up` by the CI deployment role.
DELIVERY_GUARDRAIL_ACTIONS = (
    "firehose:UpdateDestination",
    "firehose:StopDeliveryStreamEncryption",
    "firehose:DeleteDeliveryStream",
)  # logging, prefixes (errors/), encryption
WORKGROUP_GUARDRAIL_ACTIONS = ("athena:UpdateWorkGroup", "athena:DeleteWorkGroup")  # scan cap, enforcement
# What DMS replicates, where to and how (tables, network, key): the stack file's, shipped through CI.
REPLICATION_GUARDRAIL_ACTIONS = ("dms:ModifyReplicationConfig", "dms:DeleteReplicationConfig")
TABLE_GUARDRAIL_ACTIONS = (
    "dynamodb:UpdateTable",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:DeleteTable",
)  # the CMK (SSESpecification) and point-in-time recovery
SERVERLESS_GUARDRAIL_ACTIONS = (
    "redshift-serverless:UpdateWorkgroup",
    "redshift-serverless:UpdateNamespace",
    "redshift-serverless:DeleteWorkgroup",
)  # require_ssl, activity logging
CLUSTER_GUARDRAIL_ACTIONS = (
    "redshift:ModifyCluster",
    "redshift:DisableLogging",
    "redshift:DeleteCluster",
)  # parameter group (require_ssl), audit logging
# Sign-in and the dashboard page: who may sign in and how (MFA, threat protection, the app client's flows and
# callbacks) is stack configuration; the page's files and headers are code that runs with viewers' tokens.
SIGN_IN_GUARDRAIL_ACTIONS = (
    "cognito-idp:UpdateUserPool", "cognito-idp:DeleteUserPool", "cognito-idp:SetUserPoolMfaConfig",
    "cognito-idp:SetRiskConfiguration", "cognito-idp:CreateUserPoolClient", "cognito-idp:UpdateUserPoolClient",
    "cognito-idp:DeleteUserPoolClient", "cognito-idp:CreateUserPoolDomain", "cognito-idp:UpdateUserPoolDomain",
    "cognito-idp:DeleteUserPoolDomain", "cognito-idp:UpdateResourceServer", "cognito-idp:DeleteResourceServer",
    "cognito-idp:AdminCreateUser", "cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminSetUserPassword",
    "cognito-idp:CreateGroup", "cognito-idp:UpdateGroup",
)  # fmt: skip
PAGE_GUARDRAIL_ACTIONS = (
    "cloudfront:UpdateDistribution",
    "cloudfront:DeleteDistribution",
    "cloudfront:UpdateResponseHeadersPolicy",
    "cloudfront:DeleteResponseHeadersPolicy",
)
PAGE_SHIPPING_ACTIONS = ("s3:PutObject", "s3:DeleteObject", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy")
# What op does to a viewer in an incident: look them up, sign them out everywhere, lock or unlock them.
VIEWER_INCIDENT_ACTIONS = (
    "cognito-idp:AdminGetUser", "cognito-idp:ListUsers", "cognito-idp:ListUsersInGroup",
    "cognito-idp:AdminListGroupsForUser", "cognito-idp:AdminUserGlobalSignOut", "cognito-idp:AdminDisableUser",
    "cognito-idp:AdminEnableUser",
)  # fmt: skip
# API Gateway does have keys for the stage's access logging (Service Authorization Reference, Amazon API
# Gateway Management: apigateway:Request/AccessLoggingDestination and .../AccessLoggingFormat on PATCH).
ACCESS_LOG_DESTINATION_KEY = "apigateway:Request/AccessLoggingDestination"
ACCESS_LOG_FORMAT_KEY = "apigateway:Request/AccessLoggingFormat"

# The search store's own guardrails: its deletion, and (a domain) its configuration, which holds the
# encryption, the fine-grained access control and the access policy. A collection's security lives in
# policies op is never granted to change (aoss:*Policy actions are not in any op statement).
SEARCH_COLLECTION_GUARDRAIL_ACTIONS = ("aoss:DeleteCollection", "aoss:UpdateCollection")
SEARCH_DOMAIN_GUARDRAIL_ACTIONS = ("es:DeleteDomain", "es:UpdateDomainConfig", "es:DeleteElasticsearchDomain",
                                   "es:UpdateElasticsearchDomainConfig")  # fmt: skip

ATHENA = "athena.amazonaws.com"
# The personas that query the lake, each in its own Athena workgroup (admin may use any).
QUERYING_PERSONAS: tuple[Persona, ...] = ("op", "dev", "bizUser")


@dataclass(frozen=True)
class AccessTargets(Generic[V]):
    """ARNs and names of this stack's resources; None where the tier that owns it is switched off."""

    prefix: str
    region: str
    account_id: V
    kms_key_arn: V
    ops_topic_arn: V
    dashboard_arn: V | None = None  # the ops dashboard (observability)
    # ingest
    events_stream_arn: V | None = None
    ingest_function_arn: V | None = None
    api_id: V | None = None
    api_stage: V | None = None
    api_key_id: V | None = None  # the test client's key (API-key authorisation only)
    api_access_log_group_arn: V | None = None  # where the stage writes its access logs
    # edge
    edge_logs_stream_arn: V | None = None  # CloudFront's real-time logs
    edge_function_arn: V | None = None  # the edge-log Lambda
    edge_invalid_events_queue_arn: V | None = None  # what could not become an event, with the reason
    edge_failed_batches_queue_arn: V | None = None  # the edge-log mapping's on-failure destination
    edge_distribution_arn: V | None = None
    # streaming
    alerts_stream_arn: V | None = None
    results_table_arn: V | None = None  # the realtime results table
    business_topic_arn: V | None = None
    dead_letter_queue_arn: V | None = None
    sink_function_arn: V | None = None
    flink_application_arn: V | None = None
    # lake
    lake_bucket_arn: V | None = None
    results_bucket_arn: V | None = None  # Athena query results
    log_bucket_arn: V | None = None  # S3 access logs
    glue_database_name: V | None = None
    athena_workgroup_arn: V | None = None  # op's workgroup (the lake's original one)
    athena_dev_workgroup_arn: V | None = None
    athena_bizuser_workgroup_arn: V | None = None
    delivery_stream_arn: V | None = None
    changes_delivery_stream_arn: V | None = None  # replicated tables' changes into the lake (cdc on)
    change_processor_arn: V | None = None  # the Lambda Firehose turns changes into lake rows with
    # cdc
    changes_stream_arn: V | None = None
    replication_config_arn: V | None = None  # the DMS Serverless replication
    # warehouse
    warehouse_mode: V | None = None  # "serverless" or "provisioned"
    warehouse_arn: V | None = None  # the serverless workgroup or the cluster
    warehouse_name: V | None = None  # the workgroup name or the cluster identifier
    warehouse_database: V | None = None
    # search
    search_feed_stream_arn: V | None = None  # written by the Flink job (the streaming tier owns it)
    search_collection_arn: V | None = None  # OpenSearch Serverless (mode serverless)
    search_domain_arn: V | None = None  # OpenSearch Service (mode domain)
    search_delivery_stream_arn: V | None = None
    search_dead_letter_bucket_arn: V | None = None
    search_admin_function_arn: V | None = None  # a domain's master user: its code is admin's alone
    bizuser_search_arn: V | None = None  # the collection or domain again, only with `search.bizuser_search`
    # live
    live_api_id: V | None = None  # the realtime HTTP API
    live_push_api_id: V | None = None  # the WebSocket API
    live_api_function_arn: V | None = None
    live_authorizer_function_arn: V | None = None
    live_connections_function_arn: V | None = None
    live_push_function_arn: V | None = None
    live_connections_table_arn: V | None = None
    live_dead_letter_queue_arn: V | None = None
    user_pool_arn: V | None = None
    site_bucket_arn: V | None = None  # the dashboard page's files
    site_distribution_arn: V | None = None
    site_headers_policy_arn: V | None = None  # the page's Content-Security-Policy and other headers
    site_key_arn: V | None = None  # encrypts the page's files; CloudFront may decrypt
    # bi
    bi_dashboard_arn: V | None = None  # the QuickSight dashboard
    bi_namespace: V | None = None  # the QuickSight namespace its users live in
    bi_identity_region: V | None = None  # the account's QuickSight identity region (users' ARNs)
    bi_athena_workgroup_arn: V | None = None  # QuickSight's own workgroup (no staff group queries in it)
    # cost
    budget_arn: V | None = None  # the stack's AWS Budgets budget
    # every tier: each alarm and log group of the stack, by exact ARN
    alarm_arns: tuple[V, ...] = ()
    log_group_arns: tuple[V, ...] = ()


LIST_FIELDS = ("alarm_arns", "log_group_arns")
VALUE_FIELDS = tuple(f.name for f in fields(AccessTargets) if f.name not in ("prefix", "region", *LIST_FIELDS))


@dataclass(frozen=True)
class PolicySpec:
    """One customer-managed policy: a concern, the groups it is attached to, and its statements."""

    key: str  # the policy is named `<prefix>-<key>`
    description: str
    personas: tuple[Persona, ...]
    statements: list[Statement]

    def document(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": self.statements}


# --- small builders --------------------------------------------------------------------------------------


def _present(values: Iterable[str | None]) -> list[str]:
    return [value for value in values if value is not None]


def _statement(
    effect: Literal["Allow", "Deny"],
    sid: str,
    actions: Sequence[str],
    resources: Iterable[str | None],
    condition: Mapping[str, Any] | None = None,
) -> Statement | None:
    """A statement over the resources that exist, or None when none does (the tier is off)."""
    present = _present(resources)
    if not present:
        return None
    statement: Statement = {"Sid": sid, "Effect": effect, "Action": list(actions), "Resource": present}
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def allow(
    sid: str, actions: Sequence[str], resources: Iterable[str | None], condition: Mapping[str, Any] | None = None
) -> Statement | None:
    return _statement("Allow", sid, actions, resources, condition)


def deny(
    sid: str, actions: Sequence[str], resources: Iterable[str | None], condition: Mapping[str, Any] | None = None
) -> Statement | None:
    return _statement("Deny", sid, actions, resources, condition)


def statements(*candidates: Statement | None) -> list[Statement]:
    return [candidate for candidate in candidates if candidate is not None]


def _under(arn: str | None, suffix: str) -> str | None:
    return None if arn is None else f"{arn}{suffix}"


def _via(t: AccessTargets[str], *services: str) -> dict[str, Any]:
    """Use of the platform key only through these services on the caller's behalf, never directly."""
    return {"StringEquals": {"kms:ViaService": service_endpoints(t.region, *services)}}


def _called_via_athena() -> dict[str, Any]:
    """Only when Athena makes the call for the caller (the object is read by a query, not downloaded)."""
    return {"ForAnyValue:StringEquals": {"aws:CalledVia": [ATHENA]}}


# --- ARNs derived from the targets -----------------------------------------------------------------------


def iam_path(prefix: str) -> str:
    """IAM path of the stack's groups and policies: `uba-prod` -> `/uba/prod/`."""
    return "/" + prefix.replace("-", "/") + "/"


def group_name(prefix: str, persona: Persona) -> str:
    return f"{prefix}-{persona.lower()}"


def log_group_arns(t: AccessTargets[str]) -> list[str]:
    """The stack's own log groups by exact ARN, and API Gateway's execution logs of its stage, with streams."""
    groups = list(t.log_group_arns)
    if t.api_id is not None and t.api_stage is not None:
        execution_logs = f"arn:{PARTITION}:logs:{t.region}:{t.account_id}:log-group:API-Gateway-Execution-Logs_"
        execution_logs += f"{t.api_id}/{t.api_stage}"
        if execution_logs not in groups:
            groups.append(execution_logs)
    return [arn for group in groups for arn in (group, f"{group}:log-stream:*")]


def alarm_arns(t: AccessTargets[str]) -> list[str]:
    return list(t.alarm_arns)


def dashboard_arns(t: AccessTargets[str]) -> list[str]:
    return _present([t.dashboard_arn])


def events_route_arn(t: AccessTargets[str]) -> str | None:
    if t.api_id is None or t.api_stage is None:
        return None
    return f"arn:{PARTITION}:execute-api:{t.region}:{t.account_id}:{t.api_id}/{t.api_stage}/POST/events"


def rest_api_arns(t: AccessTargets[str]) -> list[str]:
    if t.api_id is None:
        return []
    api = f"arn:{PARTITION}:apigateway:{t.region}::/restapis/{t.api_id}"
    return [api, f"{api}/*"]


def stage_arn(t: AccessTargets[str]) -> str | None:
    if t.api_id is None or t.api_stage is None:
        return None
    return f"arn:{PARTITION}:apigateway:{t.region}::/restapis/{t.api_id}/stages/{t.api_stage}"


def api_key_arn(t: AccessTargets[str]) -> str | None:
    return None if t.api_key_id is None else f"arn:{PARTITION}:apigateway:{t.region}::/apikeys/{t.api_key_id}"


def glue_arns(t: AccessTargets[str]) -> list[str]:
    """Glue authorises a table read on the catalog, the database and the table together."""
    if t.glue_database_name is None:
        return []
    base = f"arn:{PARTITION}:glue:{t.region}:{t.account_id}"
    database = t.glue_database_name
    return [f"{base}:catalog", f"{base}:database/{database}", f"{base}:table/{database}/*"]


def athena_catalog_arn(t: AccessTargets[str]) -> str | None:
    """Athena's view of the Glue catalog; Glue's own grants above decide which databases show."""
    if t.athena_workgroup_arn is None:
        return None
    return f"arn:{PARTITION}:athena:{t.region}:{t.account_id}:datacatalog/AwsDataCatalog"


def table_arns(t: AccessTargets[str]) -> list[str]:
    return _present([t.results_table_arn, _under(t.results_table_arn, "/index/*")])


def streams(t: AccessTargets[str]) -> list[str]:
    return _present(
        [
            t.events_stream_arn,
            t.edge_logs_stream_arn,
            t.alerts_stream_arn,
            t.changes_stream_arn,
            t.search_feed_stream_arn,
        ]
    )


def pipeline_functions(t: AccessTargets[str]) -> list[str]:
    """The functions on the data's way: ingest, the edge's log reader, the alert sink, the change processor."""
    return _present([t.ingest_function_arn, t.edge_function_arn, t.sink_function_arn, t.change_processor_arn])


def delivery_streams(t: AccessTargets[str]) -> list[str]:
    return _present([t.delivery_stream_arn, t.changes_delivery_stream_arn])


def live_functions(t: AccessTargets[str]) -> list[str]:
    """The live dashboard's functions: its API, the WebSocket authorizer and connections, the pusher."""
    return _present([t.live_api_function_arn, t.live_authorizer_function_arn, t.live_connections_function_arn,
                     t.live_push_function_arn])  # fmt: skip


def functions(t: AccessTargets[str]) -> list[str]:
    return [*pipeline_functions(t), *live_functions(t)]


def dead_letter_queues(t: AccessTargets[str]) -> list[str]:
    """Where the platform keeps what it could not process: the alert sink's, the edge's and the pusher's queues."""
    return _present([t.dead_letter_queue_arn, t.edge_invalid_events_queue_arn, t.edge_failed_batches_queue_arn,
                     t.live_dead_letter_queue_arn])  # fmt: skip


def http_api_arns(t: AccessTargets[str]) -> list[str]:
    """The live tier's HTTP and WebSocket APIs as API Gateway's management API names them (v2: /apis/...)."""
    apis = [
        f"arn:{PARTITION}:apigateway:{t.region}::/apis/{api}" for api in _present([t.live_api_id, t.live_push_api_id])
    ]
    return [arn for api in apis for arn in (api, f"{api}/*")]


def push_connections_arn(t: AccessTargets[str], method: str) -> str | None:
    """`execute-api:ManageConnections` on the WebSocket stage's connections, for one HTTP method."""
    if t.live_push_api_id is None:
        return None
    return f"arn:{PARTITION}:execute-api:{t.region}:{t.account_id}:{t.live_push_api_id}/live/{method}/@connections/*"


def collection_dashboards_arn(t: AccessTargets[str]) -> str | None:
    """OpenSearch Serverless Dashboards, which `aoss:DashboardsAccessAll` authorises (one per account and region)."""
    if t.search_collection_arn is None:
        return None
    return f"arn:{PARTITION}:aoss:{t.region}:{t.account_id}:dashboards/default"


def search_read(t: AccessTargets[str], collection: str | None, domain: str | None) -> list[Statement]:
    """Search the log index: the IAM half of it (the collection's data access policy, or the domain's
    role mappings, name the staff for the other half)."""
    return statements(
        allow("SearchTheCollection", ["aoss:APIAccessAll"], [collection]),
        allow("SearchInCollectionDashboards", ["aoss:DashboardsAccessAll"],
              [collection_dashboards_arn(t) if collection else None]),
        allow("SearchTheDomain", ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"], [_under(domain, "/*")]),
    )  # fmt: skip


def warehouse_credentials_arn(t: AccessTargets[str]) -> str | None:
    """What temporary database credentials are issued on: the workgroup, or the cluster's database."""
    if t.warehouse_mode == "provisioned" and t.warehouse_name and t.warehouse_database:
        return f"arn:{PARTITION}:redshift:{t.region}:{t.account_id}:dbname:{t.warehouse_name}/{t.warehouse_database}"
    return t.warehouse_arn


# --- concerns --------------------------------------------------------------------------------------------


# What "observe" reads of a function and a bucket; the search tier's own are in its observers' policy.
FUNCTION_CONFIGURATION_ACTIONS = ["lambda:GetFunction", "lambda:GetFunctionConfiguration",
                                  "lambda:GetFunctionConcurrency"]  # fmt: skip
BUCKET_CONFIGURATION_ACTIONS = ["s3:GetBucketLocation", "s3:GetLifecycleConfiguration", "s3:GetBucketVersioning",
                                "s3:GetEncryptionConfiguration"]  # fmt: skip


def observe(t: AccessTargets[str]) -> list[Statement]:
    """Logs, metrics, alarms, dashboards and the configuration of every platform resource: read only."""
    account_wide = ["cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics",
                    "cloudwatch:ListDashboards", "logs:DescribeLogGroups"]  # fmt: skip
    if t.warehouse_mode == "provisioned":
        account_wide.append("redshift:DescribeClusters")
    buckets = _present([t.lake_bucket_arn, t.results_bucket_arn, t.log_bucket_arn, t.site_bucket_arn])
    return statements(
        allow("ReadMetricsAccountWide", account_wide, ["*"]),
        allow("ReadDashboards", ["cloudwatch:GetDashboard"], dashboard_arns(t)),
        allow("ReadKeyConfiguration", ["kms:DescribeKey", "kms:GetKeyRotationStatus"], [t.kms_key_arn]),
        allow("ReadTopicConfiguration", ["sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"],
              [t.ops_topic_arn, t.business_topic_arn]),
        allow("ReadStreamConfiguration", ["kinesis:DescribeStreamSummary", "kinesis:ListShards"], streams(t)),
        allow("ReadFunctionConfiguration", FUNCTION_CONFIGURATION_ACTIONS, pipeline_functions(t)),
        allow("ReadApiConfiguration", ["apigateway:GET"], rest_api_arns(t)),
        allow("ReadFlinkConfiguration", ["kinesisanalytics:DescribeApplication",
                                         "kinesisanalytics:ListApplicationSnapshots"], [t.flink_application_arn]),
        allow("ReadTableConfiguration", ["dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive",
                                         "dynamodb:DescribeContinuousBackups"], [t.results_table_arn]),
        allow("ReadQueueConfiguration", ["sqs:GetQueueAttributes"], dead_letter_queues(t)),
        allow("ReadDeliveryConfiguration", ["firehose:DescribeDeliveryStream"], delivery_streams(t)),
        allow("ReadReplications", ["dms:DescribeReplications", "dms:DescribeReplicationConfigs"],
              ["*"] if t.replication_config_arn else []),
        allow("ReadReplicationTableStatistics", ["dms:DescribeReplicationTableStatistics"],
              [t.replication_config_arn]),
        allow("ReadBucketConfiguration", BUCKET_CONFIGURATION_ACTIONS, buckets),
        allow("ReadWarehouseConfiguration", ["redshift-serverless:GetWorkgroup"],
              [t.warehouse_arn if t.warehouse_mode == "serverless" else None]),
        allow("ReadBudget", ["budgets:ViewBudget"], [t.budget_arn]),
    )  # fmt: skip


def observe_search(t: AccessTargets[str]) -> list[Statement]:
    """The search tier's configuration, read only: beside "observe" rather than in it, which IAM's
    6,144-character limit on a managed policy leaves no room for in a stack with every tier."""
    return statements(
        allow("ReadSearchFunctionConfiguration", FUNCTION_CONFIGURATION_ACTIONS, [t.search_admin_function_arn]),
        allow("ReadSearchDomainConfiguration", ["es:DescribeDomain", "es:DescribeDomainConfig"],
              [t.search_domain_arn]),
        allow("ReadSearchDeliveryConfiguration", ["firehose:DescribeDeliveryStream"], [t.search_delivery_stream_arn]),
        allow("ReadSearchBucketConfiguration", BUCKET_CONFIGURATION_ACTIONS, [t.search_dead_letter_bucket_arn]),
    )  # fmt: skip


def observe_alarms(t: AccessTargets[str]) -> list[Statement]:
    """The stack's alarms and their history, by exact ARN: a policy of its own, since every tier adds alarms
    and their ARNs alone fill half of what IAM allows a managed policy (6,144 characters)."""
    return statements(
        allow("ReadAlarms", ["cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmHistory"], alarm_arns(t)),
    )


def observe_web(t: AccessTargets[str]) -> list[Statement]:
    """What browsers reach, read only: distributions, the HTTP and WebSocket APIs and the dashboard's functions,
    connections and key, sign-in (a policy of its own: `observe` would outgrow IAM's 6,144 characters)."""
    return statements(
        allow("ReadDistributionConfiguration", ["cloudfront:GetDistribution", "cloudfront:GetDistributionConfig"],
              [t.edge_distribution_arn, t.site_distribution_arn]),
        allow("ReadHttpApiConfiguration", ["apigateway:GET"], http_api_arns(t)),
        allow("ReadDashboardFunctionConfiguration", FUNCTION_CONFIGURATION_ACTIONS,
              live_functions(t)),
        allow("ReadConnectionsTableConfiguration", ["dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive",
                                                    "dynamodb:DescribeContinuousBackups"],
              [t.live_connections_table_arn]),
        allow("ReadSiteKeyConfiguration", ["kms:DescribeKey", "kms:GetKeyRotationStatus"], [t.site_key_arn]),
        # Not DescribeUserPoolClient: it returns a client's secret (parliament: CREDENTIALS_EXPOSURE).
        allow("ReadSignInConfiguration", ["cognito-idp:DescribeUserPool", "cognito-idp:ListUserPoolClients",
                                          "cognito-idp:ListGroups", "cognito-idp:GetUserPoolMfaConfig"],
              [t.user_pool_arn]),
    )  # fmt: skip


def observe_logs(t: AccessTargets[str]) -> list[Statement]:
    """The stack's own log groups, by exact name (a policy of its own: the names are many)."""
    return statements(
        allow("ReadPlatformLogs", ["logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents",
                                   "logs:StartQuery", "logs:GetQueryResults", "logs:GetLogGroupFields"],
              log_group_arns(t)),
    )  # fmt: skip


def athena_workgroup_arns(t: AccessTargets[str]) -> dict[Persona, str | None]:
    """Each querying persona's own Athena workgroup (admin may use any, through AdministratorAccess)."""
    return {"op": t.athena_workgroup_arn, "dev": t.athena_dev_workgroup_arn, "bizUser": t.athena_bizuser_workgroup_arn}


def results_prefix(persona: Persona) -> str:
    """Where the persona's workgroup writes its results (`components.lake.analytics` sets the location)."""
    return f"results/{persona.lower()}/"


def analyse(t: AccessTargets[str]) -> list[Statement]:
    """What every querying persona shares: this stack's catalog through Athena, the lake only through queries.

    The lake's `events/` objects are readable only when Athena reads them for a query. Which
    workgroup a group runs in, and whose results it reads, is `analyse_in_own_workgroup`.
    """
    if t.athena_workgroup_arn is None:
        return []
    lake, results = t.lake_bucket_arn, t.results_bucket_arn
    return statements(
        allow("ListWorkgroups", ["athena:ListWorkGroups"], ["*"]),
        allow("BrowseTheCatalogThroughAthena", ["athena:GetDataCatalog", "athena:ListDatabases", "athena:GetDatabase",
                                                "athena:ListTableMetadata", "athena:GetTableMetadata"],
              [athena_catalog_arn(t)]),
        allow("ReadTheLakeCatalog", ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition",
                                     "glue:GetPartitions", "glue:BatchGetPartition"], glue_arns(t)),
        allow("ListLakeEventsThroughAthena", ["s3:ListBucket", "s3:GetBucketLocation"], [lake],
              condition=_called_via_athena()),
        allow("ReadLakeEventsThroughAthena", ["s3:GetObject"],
              [_under(lake, "/events/*"), _under(lake, "/changes/*") if t.changes_delivery_stream_arn else None],
              condition=_called_via_athena()),
        allow("LocateTheResultsBucket", ["s3:GetBucketLocation"], [results]),
        allow("UseTheKeyThroughS3", ["kms:Decrypt", "kms:GenerateDataKey"], [t.kms_key_arn],
              condition=_via(t, "s3")),
    )  # fmt: skip


def analyse_in_own_workgroup(t: AccessTargets[str], persona: Persona) -> list[Statement]:
    """Queries, executions and prepared analyses in the persona's own workgroup, and results under its prefix.

    Athena authorises every execution action on the workgroup alone, and GetQueryResults also needs
    the caller's s3:GetObject on the result object (Athena API Reference, GetQueryResults), so the
    workgroup and the prefix together keep one group's results from another: no group may list,
    fetch or download another's. Within a group results stay shared (see the README).
    """
    workgroup = athena_workgroup_arns(t)[persona]
    results = t.results_bucket_arn
    if workgroup is None or results is None:
        return []
    prefix = results_prefix(persona)
    return statements(
        allow("RunQueriesInTheOwnWorkgroup",
              ["athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
               "athena:GetQueryResults", "athena:GetQueryRuntimeStatistics", "athena:BatchGetQueryExecution",
               "athena:ListQueryExecutions", "athena:GetWorkGroup", "athena:ListPreparedStatements",
               "athena:GetPreparedStatement"],
              [workgroup]),
        allow("WriteOwnQueryResultsThroughAthena", ["s3:PutObject", "s3:AbortMultipartUpload",
                                                    "s3:ListMultipartUploadParts"], [f"{results}/{prefix}*"],
              condition=_called_via_athena()),
        allow("ListOwnQueryResults", ["s3:ListBucket"], [results],
              condition={"StringLike": {"s3:prefix": [f"{prefix}*"]}}),
        allow("DownloadOwnQueryResults", ["s3:GetObject"], [f"{results}/{prefix}*"]),
    )  # fmt: skip


def query_warehouse(t: AccessTargets[str]) -> list[Statement]:
    """Connect to the warehouse with temporary IAM credentials, or run SQL through the Data API.

    What a connection may read or write inside Redshift is decided by database grants.
    """
    if t.warehouse_arn is None:
        return []
    credentials_action = (
        "redshift:GetClusterCredentialsWithIAM" if t.warehouse_mode == "provisioned"
        else "redshift-serverless:GetCredentials"
    )  # fmt: skip
    return statements(
        allow("ConnectToTheWarehouse", [credentials_action], [warehouse_credentials_arn(t)]),
        allow("QueryTheWarehouseThroughTheDataApi", ["redshift-data:ExecuteStatement"], [t.warehouse_arn]),
        allow("ReadOwnDataApiStatements", ["redshift-data:DescribeStatement", "redshift-data:GetStatementResult",
                                           "redshift-data:ListStatements"], ["*"]),
    )  # fmt: skip


def realtime_read(t: AccessTargets[str]) -> list[Statement]:
    return statements(
        allow("ReadRealtimeResults", ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                                      "dynamodb:Scan", "dynamodb:DescribeTable"], table_arns(t)),
        allow("UseTheKeyThroughDynamoDb", ["kms:Decrypt"], [t.kms_key_arn if t.results_table_arn else None],
              condition=_via(t, "dynamodb")),
    )  # fmt: skip


def dashboards_read(t: AccessTargets[str]) -> list[Statement]:
    return statements(
        allow("ReadDashboards", ["cloudwatch:GetDashboard"], dashboard_arns(t)),
        allow("ReadDashboardMetrics", ["cloudwatch:GetMetricData", "cloudwatch:ListDashboards"],
              ["*"] if t.dashboard_arn else []),
    )  # fmt: skip


def op_data(t: AccessTargets[str]) -> list[Statement]:
    """Op reads every piece of data the platform holds, directly."""
    buckets = _present([t.lake_bucket_arn, t.log_bucket_arn, t.search_dead_letter_bucket_arn])
    services = ["s3", "kinesis", "dynamodb", "sqs"]
    stores = _present(
        [*streams(t), *buckets, t.results_table_arn, *dead_letter_queues(t), t.live_connections_table_arn]
    )
    return statements(
        allow("ReadStreams", ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary",
                              "kinesis:ListShards"], streams(t)),
        allow("ListLakeAndAccessLogs", ["s3:ListBucket", "s3:GetBucketLocation"], buckets),
        allow("ReadLakeAndAccessLogs", ["s3:GetObject", "s3:GetObjectVersion"],
              [_under(bucket, "/*") for bucket in buckets]),
        allow("ReadRealtimeResults", ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                                      "dynamodb:Scan"], table_arns(t)),
        allow("InspectDeadLetters", ["sqs:ReceiveMessage", "sqs:GetQueueAttributes"], dead_letter_queues(t)),
        allow("SeeWhoIsConnected", ["dynamodb:GetItem", "dynamodb:Scan"], [t.live_connections_table_arn]),
        allow("UseTheKeyToReadPlatformData", ["kms:Decrypt"], [t.kms_key_arn if stores else None],
              condition=_via(t, *services)),
        *query_warehouse(t),
    )  # fmt: skip


def op_operate(t: AccessTargets[str]) -> list[Statement]:
    """Op starts, stops, throttles and snapshots the running platform, and manages its alarms and dashboards.

    What op tunes is what it needs in an incident: the API's throttling, a function's concurrency
    (zero stops it), the Flink application's run state, a provisioned cluster's pause. Everything
    else (code, memory, buffering, scan caps, capacity) is in the stack file and ships through CI.
    """
    return statements(
        allow("ManageAlarms", ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:EnableAlarmActions",
                               "cloudwatch:DisableAlarmActions", "cloudwatch:SetAlarmState"], alarm_arns(t)),
        allow("ManageDashboards", ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"], dashboard_arns(t)),
        allow("ThrottleFunctions", ["lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency"],
              functions(t)),
        allow("RunTheFlinkApplication", ["kinesisanalytics:StartApplication", "kinesisanalytics:StopApplication",
                                         "kinesisanalytics:CreateApplicationSnapshot",
                                         "kinesisanalytics:CreateApplicationPresignedUrl"],
              [t.flink_application_arn]),
        # PATCH on the stage also reaches its access logging: op_guardrails denies any PATCH that would
        # leave the stage without its own access logs.
        allow("TuneApiThrottling", ["apigateway:PATCH"], [stage_arn(t)]),
        allow("SubscribeToPlatformTopics", ["sns:Subscribe"], [t.ops_topic_arn, t.business_topic_arn]),
        allow("PauseAndResumeCluster", ["redshift:PauseCluster", "redshift:ResumeCluster"],
              [t.warehouse_arn if t.warehouse_mode == "provisioned" else None]),
        allow("RunTheReplication", ["dms:StartReplication", "dms:StopReplication", "dms:ReloadReplicationTables"],
              [t.replication_config_arn]),
        allow("HandleViewersInAnIncident", VIEWER_INCIDENT_ACTIONS, [t.user_pool_arn]),
        allow("DisconnectPages", ["execute-api:ManageConnections"],
              [push_connections_arn(t, "GET"), push_connections_arn(t, "DELETE")]),
    )  # fmt: skip


def _access_logs_kept(t: AccessTargets[str]) -> list[Statement]:
    """A stage PATCH must leave access logging on, to the stack's own log group, in some format.

    `StringNotEquals` also matches when the key is absent (logging removed), as IAM evaluates it.
    """
    stage = stage_arn(t) if t.api_access_log_group_arn else None
    return statements(
        deny("DenyRedirectingOrRemovingApiAccessLogs", ["apigateway:PATCH"], [stage],
             condition={"StringNotEquals": {ACCESS_LOG_DESTINATION_KEY: t.api_access_log_group_arn}}),
        deny("DenyRemovingTheApiAccessLogFormat", ["apigateway:PATCH"], [stage],
             condition={"Null": {ACCESS_LOG_FORMAT_KEY: "true"}}),
    )  # fmt: skip


def op_guardrails(t: AccessTargets[str]) -> list[Statement]:
    """What op must never do, as explicit denies that no other policy or group can override."""
    lake = t.lake_bucket_arn
    serverless = t.warehouse_arn if t.warehouse_mode == "serverless" else None
    cluster = t.warehouse_arn if t.warehouse_mode == "provisioned" else None
    return statements(
        deny("DenyIdentityAndPolicyManagement", IAM_ADMINISTRATION_ACTIONS, ["*"]),
        deny("DenyDisablingOrDeletingTheKeys", KEY_DESTRUCTION_ACTIONS, [t.kms_key_arn, t.site_key_arn]),
        deny("DenyDeletingLakeObjects", LAKE_DELETION_ACTIONS, [lake, _under(lake, "/*")]),
        deny("DenyShippingFunctionCode", FUNCTION_CODE_ACTIONS, [*functions(t), t.search_admin_function_arn]),
        deny("DenyShippingFlinkCode", FLINK_CODE_ACTIONS, [t.flink_application_arn]),
        deny("DenyChangingDelivery", DELIVERY_GUARDRAIL_ACTIONS, [*delivery_streams(t), t.search_delivery_stream_arn]),
        deny("DenyChangingTheReplication", REPLICATION_GUARDRAIL_ACTIONS, [t.replication_config_arn]),
        deny(
            "DenyChangingTheWorkgroup",
            WORKGROUP_GUARDRAIL_ACTIONS,
            [*athena_workgroup_arns(t).values(), t.bi_athena_workgroup_arn],
        ),
        deny("DenyChangingTheRealtimeTable", TABLE_GUARDRAIL_ACTIONS, [t.results_table_arn]),
        deny("DenyChangingTheServerlessWarehouse", SERVERLESS_GUARDRAIL_ACTIONS, [serverless]),
        deny("DenyChangingTheCluster", CLUSTER_GUARDRAIL_ACTIONS, [cluster]),
        *_access_logs_kept(t),
    )


# The search and dashboard tiers' guardrails are policies of their own: with every tier on, one policy
# of all of op's denies outgrows IAM's 6,144 characters.
def op_guardrails_search(t: AccessTargets[str]) -> list[Statement]:
    """The search collection or domain and the documents it refused: op never changes or deletes them."""
    return statements(
        deny("DenyChangingTheSearchCollection", SEARCH_COLLECTION_GUARDRAIL_ACTIONS, [t.search_collection_arn]),
        deny("DenyChangingTheSearchDomain", SEARCH_DOMAIN_GUARDRAIL_ACTIONS, [t.search_domain_arn]),
        deny(
            "DenyDeletingSearchDeadLetters",
            LAKE_DELETION_ACTIONS,
            [t.search_dead_letter_bucket_arn, _under(t.search_dead_letter_bucket_arn, "/*")],
        ),
    )


def op_guardrails_web(t: AccessTargets[str]) -> list[Statement]:
    """The dashboard's sign-in, distribution and page change only through the stack file, never by op's hand."""
    return statements(
        deny("DenyChangingSignIn", SIGN_IN_GUARDRAIL_ACTIONS, [t.user_pool_arn]),
        deny(
            "DenyChangingTheDashboardDistribution",
            PAGE_GUARDRAIL_ACTIONS,
            [t.site_distribution_arn, t.site_headers_policy_arn],
        ),
        deny(
            "DenyShippingTheDashboardPage", PAGE_SHIPPING_ACTIONS, [t.site_bucket_arn, _under(t.site_bucket_arn, "/*")]
        ),
    )


def dev_build(t: AccessTargets[str]) -> list[Statement]:
    """A builder sends test events, reads the streams, ships Lambda code and works with dev data."""
    lake = t.lake_bucket_arn
    return statements(
        allow("SendTestEventsThroughTheApi", ["execute-api:Invoke"], [events_route_arn(t)]),
        allow("ReadTheTestClientApiKey", ["apigateway:GET"], [api_key_arn(t)]),
        allow("SendTestEventsToTheStream", ["kinesis:PutRecord", "kinesis:PutRecords"], [t.events_stream_arn]),
        # Log lines as CloudFront writes them, to try the edge-log Lambda on (tools.local.edge_logs makes them).
        allow("SendTestLogLinesToTheEdgeStream", ["kinesis:PutRecord", "kinesis:PutRecords"],
              [t.edge_logs_stream_arn]),
        allow("ReadInvalidEdgeEvents", ["sqs:ReceiveMessage", "sqs:GetQueueAttributes"],
              [t.edge_invalid_events_queue_arn]),
        allow("ReadStreams", ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary",
                              "kinesis:ListShards"], streams(t)),
        allow("UpdateFunctionCode", ["lambda:UpdateFunctionCode"], functions(t)),
        allow("ListTheDevLake", ["s3:ListBucket", "s3:GetBucketLocation"], [lake]),
        allow("ReadAndWriteTheDevLake", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
              [_under(lake, "/*")]),
        allow("ReadAndWriteTheRealtimeTable", ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query",
                                               "dynamodb:Scan", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                               "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"], table_arns(t)),
        allow("UseTheKeyForDevData", ["kms:Decrypt", "kms:GenerateDataKey"],
              [t.kms_key_arn if streams(t) or lake or t.results_table_arn else None],
              condition=_via(t, "kinesis", "s3", "dynamodb", *(["sqs"] if t.edge_invalid_events_queue_arn else []))),
    )  # fmt: skip


def quicksight_user_arn(t: AccessTargets[str], user: str) -> str | None:
    """A QuickSight user of the stack's namespace (IAM users register under their IAM user name)."""
    if t.bi_identity_region is None or t.bi_namespace is None:
        return None
    return f"arn:{PARTITION}:quicksight:{t.bi_identity_region}:{t.account_id}:user/{t.bi_namespace}/{user}"


def open_bi_dashboard(t: AccessTargets[str]) -> list[Statement]:
    """Business users open the QuickSight dashboard, in the console or through an embed URL of their own.

    What they then see is QuickSight's business: the dashboard's permissions (the BI readers and
    authors groups) and the datasets' row-level security by business line. No QuickSight
    administration, user or group action is granted to any staff group.
    """
    return statements(
        allow("OpenTheBiDashboard", ["quicksight:DescribeDashboard", "quicksight:ListDashboardVersions"],
              [t.bi_dashboard_arn]),
        allow("EmbedTheBiDashboardAsOneself", ["quicksight:GenerateEmbedUrlForRegisteredUser"],
              [quicksight_user_arn(t, "${aws:username}") if t.bi_dashboard_arn else None]),
    )  # fmt: skip


def require_mfa(t: AccessTargets[str]) -> list[Statement]:
    """Console users set up their own MFA device, and can do nothing else until they sign in with it.

    Created users sit at the root path; `user/*/<name>` also covers people whose IAM user has a path.
    """
    iam = f"arn:{PARTITION}:iam::{t.account_id}"
    own_user = [f"{iam}:user/${{aws:username}}", f"{iam}:user/*/${{aws:username}}"]
    deny_without_mfa: Statement = {
        "Sid": "DenyAllExceptMfaSetUpWithoutMfa",
        "Effect": "Deny",
        "NotAction": list(MFA_SELF_SERVICE_ACTIONS),
        "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    }
    return statements(
        allow("ViewAccountSignInSettings", ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"], ["*"]),
        # Any device name, as AWS's own example: a new device is unassigned until EnableMFADevice, which only
        # attaches to the caller's own user.
        allow("CreateVirtualMfaDevice", ["iam:CreateVirtualMFADevice"], [f"{iam}:mfa/*"]),
        allow("ManageOwnMfaAndPassword", ["iam:EnableMFADevice", "iam:ResyncMFADevice", "iam:DeactivateMFADevice",
                                          "iam:ListMFADevices", "iam:GetUser", "iam:ChangePassword"], own_user),
        deny_without_mfa,
    )  # fmt: skip


# --- the policies each stack creates ---------------------------------------------------------------------


def group_policies(t: AccessTargets[str], dev_access: DevAccess, mfa: bool) -> list[PolicySpec]:
    """Every customer-managed policy of the stack's groups, by concern, with the groups it attaches to.

    Policies whose statements are all dropped (their tiers are off) are left out. Admin gets
    AWS's AdministratorAccess besides (attached by the component).
    """
    observers: tuple[Persona, ...] = ("op", "dev")
    specs = [
        # A policy's description cannot change in place (IAM replaces the policy): these stay as first written.
        PolicySpec("observe", "Read logs, metrics, alarms, dashboards and configuration", observers, observe(t)),
        PolicySpec("observe-logs", "Read the stack's own log groups", observers, observe_logs(t)),
        PolicySpec("observe-alarms", "Read the stack's alarms and their history", observers, observe_alarms(t)),
        PolicySpec("observe-web", "Read the configuration of distributions, HTTP APIs and sign-in", observers,
                   observe_web(t)),
        # "analyse" now holds what the three share; each group's workgroup and results are its own policy.
        PolicySpec("analyse", "Athena queries in the platform workgroup and their results",
                   ("op", "dev", "bizUser"), analyse(t)),
        *(PolicySpec(f"analyse-{persona.lower()}", f"Athena in the {persona} workgroup and {persona}'s results only",
                     (persona,), analyse_in_own_workgroup(t, persona)) for persona in QUERYING_PERSONAS),
        PolicySpec("op-data", "Read every data store of the platform directly", ("op",), op_data(t)),
        PolicySpec("op-operate", "Start, stop, update and tune the platform; manage alarms and dashboards",
                   ("op",), op_operate(t)),
        PolicySpec("op-guardrails", "Never manage IAM, destroy the key or delete lake objects", ("op",),
                   op_guardrails(t)),
        PolicySpec("op-guardrails-search", "Never change the search store or delete its refused documents", ("op",),
                   op_guardrails_search(t)),
        PolicySpec("op-guardrails-web", "Never change the dashboard's sign-in, distribution or page by hand", ("op",),
                   op_guardrails_web(t)),
        PolicySpec("bizuser", "Realtime results, dashboards and warehouse connections for analysts",
                   ("bizUser",), [*realtime_read(t), *dashboards_read(t), *query_warehouse(t)]),
        PolicySpec("search", "Search the log index and read the search tier's configuration", observers,
                   [*search_read(t, t.search_collection_arn, t.search_domain_arn), *observe_search(t)]),
        PolicySpec("bizuser-search", "Search the log index, as the stack's search.bizuser_search allows",
                   ("bizUser",), search_read(t, *_bizuser_search(t))),
        PolicySpec("bizuser-bi", "Open the QuickSight dashboard", ("bizUser",), open_bi_dashboard(t)),
    ]  # fmt: skip
    if dev_access == "builder":
        specs.append(PolicySpec("dev-build", "Send test events, ship Lambda code, read and write dev data",
                                ("dev",), dev_build(t)))  # fmt: skip
    if mfa:
        specs.append(PolicySpec("require-mfa", "Deny everything but MFA set-up until signed in with MFA",
                                PERSONAS, require_mfa(t)))  # fmt: skip
    return [spec for spec in specs if spec.statements]


def _bizuser_search(t: AccessTargets[str]) -> tuple[str | None, str | None]:
    """The store bizUser may search, as (collection, domain); none unless `search.bizuser_search`."""
    if t.bizuser_search_arn is None:
        return None, None
    return (t.bizuser_search_arn, None) if t.search_collection_arn else (None, t.bizuser_search_arn)


def render(document: Mapping[str, Any]) -> str:
    """A policy document as the JSON IAM stores (stable, compact)."""
    return json.dumps(document, separators=(",", ":"))


def placeholder_targets(targets: AccessTargets[Any]) -> AccessTargets[str]:
    """Targets with every present value replaced by a stand-in: which policies exist depends only on
    which resources exist, so the program can decide its resources before the ARNs resolve."""
    values: dict[str, Any] = {"prefix": targets.prefix, "region": targets.region}
    for name in VALUE_FIELDS:
        value = getattr(targets, name)
        values[name] = None if value is None else (value if isinstance(value, str) else f"<{name}>")
    for name in LIST_FIELDS:
        values[name] = tuple(f"<{name}[{i}]>" for i, _ in enumerate(getattr(targets, name)))
    return AccessTargets[str](**values)
