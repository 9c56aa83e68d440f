"""The IAM actions Pulumi needs to create, read, update and delete each resource type the program creates.

One entry per pulumi-aws type token (and the one pulumi-aws-native type, the BI dashboard) (`TYPES`) and
per data source the program calls (`INVOKES`).
`tools.deploy.policy` turns the entries a stack needs into the deploying identity's policy, with
every `{placeholder}` in a resource pattern filled from that stack (see `Scope`).

Adding a resource type (the test `tests/tools/test_deploy_policy.py` names any type a synth creates
that is missing here):

    "aws:sqs/queue:Queue": TypeActions(
        Grant(QUEUES,
              create=sqs("CreateQueue", "TagQueue"), read=sqs("GetQueueAttributes", "ListQueueTags"),
              update=sqs("SetQueueAttributes", "TagQueue", "UntagQueue"), delete=sqs("DeleteQueue")),
    ),

- The actions are the API calls the provider (terraform-provider-aws, bridged by pulumi-aws) makes in
  each phase, named as the Service Authorization Reference names them: `read` is what `pulumi
  refresh` and every update's read-back call; `create` includes the tagging of the default tags.
- A `Grant`'s patterns say where its actions apply. Name-scoped where the physical name carries the
  stack's prefix; account-and-region-scoped (`.../key/*`) where AWS names the resource with a
  generated id; `ANY` (`"*"`) only for actions AWS authorises on no resource at all. The tests check
  each action exists, and that each scoped action applies to one of its patterns' resource types.
- `passes_role_to`: the service principals this type hands one of the stack's roles to (iam:PassRole).
- `key_used_via`: the services that use the platform KMS key with the deployer's credentials while
  this type is created or read (e.g. Lambda encrypting environment variables).
- Never grant data reads for convenience: no `s3:Get*`, `dynamodb:Get*` or `secretsmanager:Get*`
  wildcards, which would reach the data the platform holds. Read actions are the configuration reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Phase = Literal["create", "read", "update", "delete"]
PHASES: tuple[Phase, ...] = ("create", "read", "update", "delete")
Condition = Mapping[str, Mapping[str, Any]]

ANY = "*"


@dataclass(frozen=True)
class Grant:
    """Actions on a set of resource patterns (and under an optional condition), by lifecycle phase."""

    on: tuple[str, ...]
    create: tuple[str, ...] = ()
    read: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    condition: Condition | None = None

    def actions(self, phases: tuple[Phase, ...] = PHASES) -> tuple[str, ...]:
        return tuple(dict.fromkeys(action for phase in phases for action in getattr(self, phase)))


@dataclass(frozen=True)
class TypeActions:
    """What deploying one resource type needs."""

    grants: tuple[Grant, ...]
    passes_role_to: tuple[str, ...] = ()
    key_used_via: tuple[str, ...] = ()

    def __init__(
        self, *grants: Grant, passes_role_to: tuple[str, ...] = (), key_used_via: tuple[str, ...] = ()
    ) -> None:
        object.__setattr__(self, "grants", grants)
        object.__setattr__(self, "passes_role_to", passes_role_to)
        object.__setattr__(self, "key_used_via", key_used_via)


@dataclass(frozen=True)
class InvokeActions:
    """What one data source (`aws.get_*`) the program calls needs; invokes only read."""

    on: tuple[str, ...]
    actions: tuple[str, ...]
    notes: str = field(default="", compare=False)


def _service(prefix: str) -> Callable[..., tuple[str, ...]]:
    """`kinesis("CreateStream", "DeleteStream")` -> `("kinesis:CreateStream", "kinesis:DeleteStream")`."""

    def actions(*names: str) -> tuple[str, ...]:
        return tuple(f"{prefix}:{name}" for name in names)

    return actions


acm = _service("acm")
aoss = _service("aoss")
apigateway = _service("apigateway")
athena = _service("athena")
budgets = _service("budgets")
ce = _service("ce")
cloudfront = _service("cloudfront")
cloudwatch = _service("cloudwatch")
dms = _service("dms")
cognito_idp = _service("cognito-idp")
dynamodb = _service("dynamodb")
ec2 = _service("ec2")
es = _service("es")
events = _service("events")
firehose = _service("firehose")
glue = _service("glue")
iam = _service("iam")
kinesis = _service("kinesis")
kinesisanalytics = _service("kinesisanalytics")
kms = _service("kms")
lambda_ = _service("lambda")
logs = _service("logs")
redshift = _service("redshift")
redshift_data = _service("redshift-data")
quicksight = _service("quicksight")
cloudformation = _service("cloudformation")
redshift_serverless = _service("redshift-serverless")
route53 = _service("route53")
s3 = _service("s3")
scheduler = _service("scheduler")
secretsmanager = _service("secretsmanager")
sns = _service("sns")
sqs = _service("sqs")
ssm = _service("ssm")
sts = _service("sts")
wafv2 = _service("wafv2")


def _arn(service: str, resource: str, region: bool = True, account: bool = True) -> str:
    return f"arn:{{partition}}:{service}:{'{region}' if region else ''}:{'{account}' if account else ''}:{resource}"


# CloudFront's certificates, web ACLs and metrics live in us-east-1 whatever the stack's region (the edge
# tier's second provider): the types it creates there are granted there too.
US_EAST_1 = "us-east-1"


def _us_east_1(service: str, resource: str) -> str:
    return f"arn:{{partition}}:{service}:{US_EAST_1}:{{account}}:{resource}"


# --- where actions apply: resource patterns, filled per stack by tools.deploy.policy.Scope ---------------
# Placeholders: {partition} {region} {account} {prefix} (e.g. uba-dev) {glue_prefix} (uba_dev)
# {iam_path} (/uba/dev/).

REST_APIS = (
    "arn:{partition}:apigateway:{region}::/restapis",
    "arn:{partition}:apigateway:{region}::/restapis/*",
    "arn:{partition}:apigateway:{region}::/tags/*",
)
USAGE_PLANS = (
    "arn:{partition}:apigateway:{region}::/usageplans",
    "arn:{partition}:apigateway:{region}::/usageplans/*",
    "arn:{partition}:apigateway:{region}::/tags/*",
)
API_KEYS = (
    "arn:{partition}:apigateway:{region}::/apikeys",
    "arn:{partition}:apigateway:{region}::/apikeys/*",
    "arn:{partition}:apigateway:{region}::/tags/*",
)
APIGATEWAY_ACCOUNT = ("arn:{partition}:apigateway:{region}::/account",)
# HTTP and WebSocket APIs (API Gateway v2) live under /apis, named by generated ids.
HTTP_APIS = (
    "arn:{partition}:apigateway:{region}::/apis",
    "arn:{partition}:apigateway:{region}::/apis/*",
    "arn:{partition}:apigateway:{region}::/tags/*",
)
# CloudFront is global: no region in its ARNs; distributions and policies are named by generated ids.
ORIGIN_ACCESS_CONTROLS = (_arn("cloudfront", "origin-access-control/*", region=False),)
LOG_DELIVERY_SOURCES = (_us_east_1("logs", "delivery-source:{prefix}-*"),)
LOG_DELIVERY_DESTINATIONS = (_us_east_1("logs", "delivery-destination:{prefix}-*"),)
LOG_DELIVERIES = (_us_east_1("logs", "delivery:*"),)  # named by generated ids
USER_POOLS = (_arn("cognito-idp", "userpool/*"),)  # named by generated ids
LAYERS = (_arn("lambda", "layer:{prefix}-*"),)
LAYER_VERSIONS = (_arn("lambda", "layer:{prefix}-*:*"),)
ATHENA_WORKGROUPS = (_arn("athena", "workgroup/{prefix}-*"),)
ALARMS = (_arn("cloudwatch", "alarm:{prefix}-*"), _us_east_1("cloudwatch", "alarm:{prefix}-*"))
# Budgets and Cost Explorer are global: their ARNs carry no region. Anomaly monitors and subscriptions are
# named by generated ids.
BUDGETS = (_arn("budgets", "budget/{prefix}-*", region=False),)
ANOMALY_MONITORS = (_arn("ce", "anomalymonitor/*", region=False),)
ANOMALY_SUBSCRIPTIONS = (_arn("ce", "anomalysubscription/*", region=False),)
DASHBOARDS = (_arn("cloudwatch", "dashboard/{prefix}-*", region=False),)
EVENT_RULES = (_arn("events", "rule/{prefix}-*"),)
# Every log group the stack names carries the prefix after a service path; API Gateway names the
# execution-log group after the API's generated id, DMS Serverless a replication's after its resource identifier.
LOG_GROUPS = (
    _arn("logs", "log-group:/aws/*/{prefix}-*"),
    _arn("logs", "log-group:API-Gateway-Execution-Logs_*"),
    _arn("logs", "log-group:dms-serverless-replication-{prefix}-*"),
)
DYNAMODB_TABLES = (_arn("dynamodb", "table/{prefix}-*"),)
DMS_ENDPOINTS = (_arn("dms", "endpoint:*"),)  # named by generated ids
DMS_REPLICATION_CONFIGS = (_arn("dms", "replication-config:{prefix}-*"),)  # the resource identifier the tier sets
DMS_SUBNET_GROUPS = (_arn("dms", "subgrp:{prefix}-*"),)
EC2 = (_arn("ec2", "*"),)  # VPC pieces are named by generated ids: scoped to the account and region
# AWS-managed prefix lists (the S3 gateway's, which a warehouse egress rule names) belong to account `aws`.
AWS_PREFIX_LISTS = ("arn:{partition}:ec2:{region}:aws:prefix-list/*",)
GLUE_DATABASES = (_arn("glue", "catalog"), _arn("glue", "database/{glue_prefix}_*"))
GLUE_TABLES = (*GLUE_DATABASES, _arn("glue", "table/{glue_prefix}_*/*"))
# Deleting a database deletes its tables and functions.
GLUE_DATABASE_CONTENTS = (*GLUE_TABLES, _arn("glue", "userDefinedFunction/{glue_prefix}_*/*"))
ROLES = (_arn("iam", "role/{prefix}-*", region=False),)
# The two roles DMS looks for by these fixed names, one per account, created only by a stack whose
# `uba:cdc.manage_dms_account_roles` is on and kept when it is destroyed (README, "Database changes").
DMS_ACCOUNT_ROLES = (
    _arn("iam", "role/dms-vpc-role", region=False),
    _arn("iam", "role/dms-cloudwatch-logs-role", region=False),
)
# DMS Serverless creates its service-linked role the first time a replication config exists in the account.
DMS_SERVERLESS_SERVICE_LINKED_ROLE = (
    _arn("iam", "role/aws-service-role/dms.amazonaws.com/AWSServiceRoleForDMSServerless", region=False),
)
MANAGED_POLICIES = (_arn("iam", "policy{iam_path}*", region=False),)
GROUPS = (_arn("iam", "group{iam_path}*", region=False),)
# Staff user names are people's names, not prefixed; the roster changes without a new policy.
USERS = (_arn("iam", "user/*", region=False),)
REDSHIFT_SERVICE_LINKED_ROLE = (
    _arn("iam", "role/aws-service-role/redshift.amazonaws.com/AWSServiceRoleForRedshift", region=False),
)
STREAMS = (_arn("kinesis", "stream/{prefix}-*"),)
STREAM_CONSUMERS = (*STREAMS, _arn("kinesis", "stream/{prefix}-*/consumer/*"))
DELIVERY_STREAMS = (_arn("firehose", "deliverystream/{prefix}-*"),)
FLINK_APPLICATIONS = (_arn("kinesisanalytics", "application/{prefix}-*"),)
KMS_KEYS = (_arn("kms", "key/*"), _us_east_1("kms", "key/*"))  # keys are named by generated ids
KMS_ALIASES = (_arn("kms", "alias/{prefix}"), _arn("kms", "alias/{prefix}-*"), *KMS_KEYS)
FUNCTIONS = (_arn("lambda", "function:{prefix}-*"),)
SEARCH_COLLECTIONS = (_arn("aoss", "collection/*"),)  # collections are named by generated ids
SEARCH_DOMAINS = (_arn("es", "domain/{prefix}-*"),)
EVENT_SOURCE_MAPPINGS = (_arn("lambda", "event-source-mapping:*"),)
# Powertools for AWS Lambda publishes its layer from this account (README: the `powertools_version` setting).
POWERTOOLS_LAYERS = ("arn:{partition}:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-*",)
REDSHIFT_CLUSTERS = (_arn("redshift", "cluster:{prefix}-*"), _arn("redshift", "snapshot:{prefix}-*/*"))
REDSHIFT_SUBNET_GROUPS = (_arn("redshift", "subnetgroup:{prefix}-*"),)
REDSHIFT_PARAMETER_GROUPS = (_arn("redshift", "parametergroup:{prefix}-*"),)
REDSHIFT_NAMESPACES = (_arn("redshift-serverless", "namespace/*"),)  # named by generated ids
REDSHIFT_WORKGROUPS = (_arn("redshift-serverless", "workgroup/*"),)
# Redshift names the admin secret it manages `redshift!<cluster or namespace>-<user>`.
REDSHIFT_ADMIN_SECRETS = (_arn("secretsmanager", "secret:redshift!{prefix}-*"),)
BUCKETS = ("arn:{partition}:s3:::{prefix}-*",)
# Objects the deployer writes or empties: the Flink code, and the buckets destroyed with their contents
# (`force_destroy`: the Athena results and the Flink artifacts). Never the lake's objects.
FLINK_CODE_OBJECTS = ("arn:{partition}:s3:::{prefix}-flink-artifacts-*/*",)
FORCE_DESTROYED_BUCKETS = (
    "arn:{partition}:s3:::{prefix}-athena-results-*",
    "arn:{partition}:s3:::{prefix}-flink-artifacts-*",
    "arn:{partition}:s3:::{prefix}-live-site-*",
)
# The dashboard page's files, written at every deployment (components/live/site.py).
SITE_OBJECTS = ("arn:{partition}:s3:::{prefix}-live-site-*/*",)
FORCE_DESTROYED_OBJECTS = tuple(f"{bucket}/*" for bucket in FORCE_DESTROYED_BUCKETS)
SCHEDULE_GROUPS = (_arn("scheduler", "schedule-group/{prefix}-*"),)
SCHEDULES = (_arn("scheduler", "schedule/{prefix}-*/*"),)
TOPICS = (_arn("sns", "{prefix}-*"), _us_east_1("sns", "{prefix}-*"))
# CloudFront is global: no region in its ARNs. Distributions and policies are named by generated ids.
DISTRIBUTIONS = (_arn("cloudfront", "distribution/*", region=False),)
CLOUDFRONT_FUNCTIONS = (_arn("cloudfront", "function/{prefix}-*", region=False),)
REALTIME_LOG_CONFIGS = (_arn("cloudfront", "realtime-log-config/{prefix}-*", region=False),)
ORIGIN_REQUEST_POLICIES = (_arn("cloudfront", "origin-request-policy/*", region=False),)
RESPONSE_HEADERS_POLICIES = (_arn("cloudfront", "response-headers-policy/*", region=False),)
WEB_ACLS = (_us_east_1("wafv2", "global/webacl/{prefix}-*/*"),)
MANAGED_RULE_GROUPS = (_us_east_1("wafv2", "global/managedruleset/*/*"),)
CERTIFICATES = (_us_east_1("acm", "certificate/*"),)  # named by generated ids
HOSTED_ZONES = ("arn:{partition}:route53:::hostedzone/*",)  # the stack file names the zone of its domain
ROUTE53_CHANGES = ("arn:{partition}:route53:::change/*",)
QUEUES = (_arn("sqs", "{prefix}-*"),)
# Public parameters have no account in their ARN; `*` matches the empty field.
# QuickSight (the BI tier). Users and groups live in the account's identity region, which may be another than
# the stack's; users are people's IAM user names (not prefixed), like the staff's IAM users.
QS_DATA_SOURCES = (_arn("quicksight", "datasource/{prefix}-*"),)
QS_DATA_SETS = (_arn("quicksight", "dataset/{prefix}-*"),)
QS_REFRESH_SCHEDULES = (_arn("quicksight", "dataset/{prefix}-*/refresh-schedule/{prefix}-*"),)
QS_VPC_CONNECTIONS = (_arn("quicksight", "vpcConnection/{prefix}-*"),)
QS_DASHBOARDS = (_arn("quicksight", "dashboard/{prefix}-*"),)
QS_GROUPS = ("arn:{partition}:quicksight:*:{account}:group/*/{prefix}-*",)
QS_USERS = ("arn:{partition}:quicksight:*:{account}:user/*",)
# The account's role QuickSight reads Secrets Manager with (`uba:bi.quicksight.secrets_role`, this name by
# default; QuickSight creates it under service-role/): the BI tier puts one inline policy on it. A stack
# naming another role there needs the same grant on that role.
QUICKSIGHT_SECRETS_ROLE = (
    _arn("iam", "role/aws-quicksight-secretsmanager-role-v0", region=False),
    _arn("iam", "role/service-role/aws-quicksight-secretsmanager-role-v0", region=False),
)
POWERTOOLS_PARAMETERS = ("arn:{partition}:ssm:{region}:*:parameter/aws/service/powertools/*",)

# The AWS-managed and stack policies the program attaches (iam:PolicyARN bounds what may be attached).
ATTACHABLE_TO_ROLES = (
    "arn:{partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
    "arn:{partition}:iam::aws:policy/service-role/AmazonDMSVPCManagementRole",
    "arn:{partition}:iam::aws:policy/service-role/AmazonDMSCloudWatchLogsRole",
)
ATTACHABLE_TO_GROUPS = ("arn:{partition}:iam::aws:policy/AdministratorAccess", *MANAGED_POLICIES)


def _rest_api_child() -> TypeActions:
    """API Gateway authorises by HTTP verb on the resource path; every child of a REST API lives under it."""
    return TypeActions(
        Grant(
            REST_APIS,
            create=apigateway("POST", "PUT", "PATCH", "GET"),
            read=apigateway("GET"),
            update=apigateway("PUT", "PATCH", "POST"),
            delete=apigateway("DELETE"),
        )
    )


def _http_api_part() -> TypeActions:
    """API Gateway v2 authorises by HTTP verb on the resource path; routes, integrations and stages live under /apis."""
    return TypeActions(
        Grant(
            HTTP_APIS,
            create=apigateway("POST", "GET", "PATCH", "PUT"),
            read=apigateway("GET"),
            update=apigateway("PATCH", "PUT", "POST", "DELETE"),
            delete=apigateway("DELETE"),
        )
    )


def _user_pool_part(create: tuple[str, ...], read: tuple[str, ...], update: tuple[str, ...],
                    delete: tuple[str, ...]) -> TypeActions:  # fmt: skip
    """A part of a user pool (client, domain, group, user...): every Cognito action on it authorises on the pool."""
    return TypeActions(Grant(USER_POOLS, create=create, read=read, update=update, delete=delete))


def _bucket_setting(put: str, get: str, delete: str | None = None) -> TypeActions:
    """An S3 bucket sub-resource: one Put and one Get action; most are deleted by putting an empty value."""
    return TypeActions(
        Grant(BUCKETS, create=s3(put), read=s3(get), update=s3(put), delete=s3(delete or put)),
    )


def _security_group_rule(direction: Literal["Ingress", "Egress"]) -> TypeActions:
    return TypeActions(
        Grant(
            EC2,
            create=ec2(f"AuthorizeSecurityGroup{direction}", "CreateTags"),
            update=ec2("ModifySecurityGroupRules", "CreateTags", "DeleteTags"),
            delete=ec2(f"RevokeSecurityGroup{direction}"),
        ),
        Grant(AWS_PREFIX_LISTS, update=ec2("ModifySecurityGroupRules")),
        Grant((ANY,), read=ec2("DescribeSecurityGroupRules")),
    )


_REDSHIFT_MANAGED_ADMIN_SECRET = (
    # Redshift creates and rotates the admin secret with the caller's permissions (manage_admin_password).
    Grant(
        REDSHIFT_ADMIN_SECRETS,
        create=secretsmanager("CreateSecret", "TagResource", "RotateSecret", "DescribeSecret"),
        read=secretsmanager("DescribeSecret"),
        update=secretsmanager("UpdateSecret", "RotateSecret", "TagResource"),
        delete=secretsmanager("DeleteSecret"),
    ),
    Grant((ANY,), create=secretsmanager("GetRandomPassword")),
    # Redshift creates its service-linked role the first time a cluster or namespace exists in the account.
    Grant(
        REDSHIFT_SERVICE_LINKED_ROLE,
        create=iam("CreateServiceLinkedRole"),
        condition={"StringEquals": {"iam:AWSServiceName": "redshift.amazonaws.com"}},
    ),
)
# What Redshift Serverless checks of the network with the caller's permissions.
_REDSHIFT_SERVERLESS_NETWORK_CHECKS = ec2(
    "DescribeSecurityGroups",
    "DescribeSubnets",
    "DescribeAddresses",
    "DescribeInternetGateways",
    "DescribeAccountAttributes",
    "DescribeAvailabilityZones",
)


TYPES: dict[str, TypeActions] = {
    # --- API Gateway (REST) ---------------------------------------------------------------------------
    "aws:apigateway/restApi:RestApi": TypeActions(
        Grant(
            REST_APIS,
            create=apigateway("POST", "PUT", "GET"),
            read=apigateway("GET"),
            update=apigateway("PATCH", "PUT", "DELETE"),
            delete=apigateway("DELETE"),
        )
    ),
    "aws:apigateway/resource:Resource": _rest_api_child(),
    "aws:apigateway/method:Method": _rest_api_child(),
    "aws:apigateway/integration:Integration": _rest_api_child(),
    "aws:apigateway/deployment:Deployment": _rest_api_child(),
    "aws:apigateway/stage:Stage": _rest_api_child(),
    "aws:apigateway/methodSettings:MethodSettings": _rest_api_child(),
    # The account's CloudWatch role: set, read back, and (owner only, README) left in place on delete.
    "aws:apigateway/account:Account": TypeActions(
        Grant(
            APIGATEWAY_ACCOUNT,
            create=apigateway("PATCH", "GET"),
            read=apigateway("GET"),
            update=apigateway("PATCH"),
            delete=apigateway("PATCH"),
        ),
        passes_role_to=("apigateway.amazonaws.com",),
    ),
    "aws:apigateway/usagePlan:UsagePlan": TypeActions(
        Grant(
            USAGE_PLANS,
            create=apigateway("POST", "PATCH", "GET", "PUT"),
            read=apigateway("GET"),
            update=apigateway("PATCH", "PUT", "DELETE"),
            delete=apigateway("PATCH", "DELETE"),
        ),
        Grant(REST_APIS, create=apigateway("GET"), read=apigateway("GET")),  # the stages a plan names
    ),
    "aws:apigateway/apiKey:ApiKey": TypeActions(
        Grant(
            API_KEYS,
            create=apigateway("POST", "PUT", "GET"),
            read=apigateway("GET"),
            update=apigateway("PATCH", "PUT", "DELETE"),
            delete=apigateway("DELETE"),
        ),
    ),
    "aws:apigateway/usagePlanKey:UsagePlanKey": TypeActions(
        Grant(USAGE_PLANS, create=apigateway("POST", "GET"), read=apigateway("GET"), delete=apigateway("DELETE")),
    ),
    # --- API Gateway v2 (HTTP and WebSocket APIs: the live tier) -------------------------------------------
    "aws:apigatewayv2/api:Api": _http_api_part(),
    "aws:apigatewayv2/route:Route": _http_api_part(),
    "aws:apigatewayv2/integration:Integration": _http_api_part(),
    "aws:apigatewayv2/authorizer:Authorizer": _http_api_part(),
    "aws:apigatewayv2/stage:Stage": _http_api_part(),
    # --- Cognito user pools (the live dashboard's sign-in) ---------------------------------------------------
    "aws:cognito/userPool:UserPool": TypeActions(
        Grant((ANY,), create=cognito_idp("CreateUserPool")),
        Grant(
            USER_POOLS,
            create=cognito_idp("DescribeUserPool", "SetUserPoolMfaConfig", "GetUserPoolMfaConfig", "TagResource"),
            read=cognito_idp("DescribeUserPool", "GetUserPoolMfaConfig", "ListTagsForResource"),
            update=cognito_idp("UpdateUserPool", "SetUserPoolMfaConfig", "TagResource", "UntagResource"),
            delete=cognito_idp("DeleteUserPool"),
        ),
    ),
    "aws:cognito/userPoolClient:UserPoolClient": _user_pool_part(
        create=cognito_idp("CreateUserPoolClient", "DescribeUserPoolClient"),
        read=cognito_idp("DescribeUserPoolClient"),
        update=cognito_idp("UpdateUserPoolClient"),
        delete=cognito_idp("DeleteUserPoolClient"),
    ),
    "aws:cognito/userPoolDomain:UserPoolDomain": TypeActions(
        Grant(
            USER_POOLS,
            create=cognito_idp("CreateUserPoolDomain"),
            update=cognito_idp("UpdateUserPoolDomain"),
            delete=cognito_idp("DeleteUserPoolDomain"),
        ),
        # AWS authorises reading a domain on no resource (the Service Authorization Reference names none).
        Grant(
            (ANY,),
            create=cognito_idp("DescribeUserPoolDomain"),
            read=cognito_idp("DescribeUserPoolDomain"),
            delete=cognito_idp("DescribeUserPoolDomain"),
        ),
    ),
    "aws:cognito/resourceServer:ResourceServer": _user_pool_part(
        create=cognito_idp("CreateResourceServer", "DescribeResourceServer"),
        read=cognito_idp("DescribeResourceServer"),
        update=cognito_idp("UpdateResourceServer"),
        delete=cognito_idp("DeleteResourceServer"),
    ),
    "aws:cognito/userGroup:UserGroup": _user_pool_part(
        create=cognito_idp("CreateGroup", "GetGroup"),
        read=cognito_idp("GetGroup"),
        update=cognito_idp("UpdateGroup"),
        delete=cognito_idp("DeleteGroup"),
    ),
    # The staff list's invitations: the deployer creates and updates users, never reads their tokens.
    "aws:cognito/user:User": _user_pool_part(
        create=cognito_idp("AdminCreateUser", "AdminGetUser"),
        read=cognito_idp("AdminGetUser"),
        update=cognito_idp("AdminUpdateUserAttributes", "AdminEnableUser", "AdminDisableUser"),
        delete=cognito_idp("AdminDeleteUser"),
    ),
    "aws:cognito/userInGroup:UserInGroup": _user_pool_part(
        create=cognito_idp("AdminAddUserToGroup", "AdminListGroupsForUser"),
        read=cognito_idp("AdminListGroupsForUser"),
        update=(),
        delete=cognito_idp("AdminRemoveUserFromGroup"),
    ),
    # --- Athena ---------------------------------------------------------------------------------------
    "aws:athena/workgroup:Workgroup": TypeActions(
        Grant(
            ATHENA_WORKGROUPS,
            create=athena("CreateWorkGroup", "TagResource", "GetWorkGroup"),
            read=athena("GetWorkGroup", "ListTagsForResource"),
            update=athena("UpdateWorkGroup", "TagResource", "UntagResource"),
            delete=athena("DeleteWorkGroup"),
        )
    ),
    "aws:athena/preparedStatement:PreparedStatement": TypeActions(
        Grant(
            ATHENA_WORKGROUPS,
            create=athena("CreatePreparedStatement"),
            read=athena("GetPreparedStatement"),
            update=athena("UpdatePreparedStatement"),
            delete=athena("DeletePreparedStatement"),
        )
    ),
    # --- CloudWatch: alarms, dashboards, logs, EventBridge rules ---------------------------------------------
    "aws:cloudwatch/metricAlarm:MetricAlarm": TypeActions(
        Grant(
            ALARMS,
            create=cloudwatch("PutMetricAlarm", "TagResource", "DescribeAlarms"),
            read=cloudwatch("DescribeAlarms", "ListTagsForResource"),
            update=cloudwatch("PutMetricAlarm", "TagResource", "UntagResource"),
            delete=cloudwatch("DeleteAlarms"),
        )
    ),
    "aws:budgets/budget:Budget": TypeActions(
        # CreateBudget, its notifications and subscribers are all ModifyBudget; the Describe* calls ViewBudget.
        Grant(
            BUDGETS,
            create=budgets("ModifyBudget", "TagResource", "ViewBudget", "ListTagsForResource"),
            read=budgets("ViewBudget", "ListTagsForResource"),
            update=budgets("ModifyBudget", "TagResource", "UntagResource"),
            delete=budgets("ModifyBudget"),
        ),
    ),
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": TypeActions(
        Grant((ANY,), create=ce("CreateAnomalyMonitor")),  # AWS authorises creation on no resource
        Grant(
            ANOMALY_MONITORS,
            create=ce("TagResource", "GetAnomalyMonitors", "ListTagsForResource"),
            read=ce("GetAnomalyMonitors", "ListTagsForResource"),
            update=ce("UpdateAnomalyMonitor", "TagResource", "UntagResource"),
            delete=ce("DeleteAnomalyMonitor"),
        ),
    ),
    "aws:costexplorer/anomalySubscription:AnomalySubscription": TypeActions(
        Grant((ANY,), create=ce("CreateAnomalySubscription")),
        Grant(
            ANOMALY_SUBSCRIPTIONS,
            create=ce("TagResource", "GetAnomalySubscriptions", "ListTagsForResource"),
            read=ce("GetAnomalySubscriptions", "ListTagsForResource"),
            update=ce("UpdateAnomalySubscription", "TagResource", "UntagResource"),
            delete=ce("DeleteAnomalySubscription"),
        ),
    ),
    "aws:costexplorer/costAllocationTag:CostAllocationTag": TypeActions(
        # Account-wide settings with no resource type; the stack retains them, so its delete never runs.
        Grant(
            (ANY,),
            create=ce("UpdateCostAllocationTagsStatus", "ListCostAllocationTags"),
            read=ce("ListCostAllocationTags"),
            update=ce("UpdateCostAllocationTagsStatus"),
            delete=ce("UpdateCostAllocationTagsStatus"),
        ),
    ),
    "aws:cloudwatch/dashboard:Dashboard": TypeActions(
        Grant(
            DASHBOARDS,
            create=cloudwatch("PutDashboard"),
            read=cloudwatch("GetDashboard"),
            update=cloudwatch("PutDashboard"),
            delete=cloudwatch("DeleteDashboards"),
        ),
    ),
    "aws:cloudwatch/eventRule:EventRule": TypeActions(
        Grant(
            EVENT_RULES,
            create=events("PutRule", "TagResource", "DescribeRule"),
            read=events("DescribeRule", "ListTagsForResource"),
            update=events("PutRule", "EnableRule", "DisableRule", "TagResource", "UntagResource"),
            delete=events("DeleteRule", "ListTargetsByRule"),
        )
    ),
    "aws:cloudwatch/eventTarget:EventTarget": TypeActions(
        Grant(
            EVENT_RULES,
            create=events("PutTargets", "ListTargetsByRule"),
            read=events("ListTargetsByRule"),
            update=events("PutTargets"),
            delete=events("RemoveTargets"),
        ),
    ),
    # CloudFront standard logging (v2) of the live dashboard: CloudWatch Logs deliveries in us-east-1.
    "aws:cloudwatch/logDeliverySource:LogDeliverySource": TypeActions(
        Grant(
            LOG_DELIVERY_SOURCES,
            create=logs("PutDeliverySource", "GetDeliverySource", "TagResource"),
            read=logs("GetDeliverySource", "ListTagsForResource"),
            update=logs("PutDeliverySource", "TagResource", "UntagResource"),
            delete=logs("GetDeliverySource"),
        ),
        # The Service Authorization Reference authorises DeleteDeliverySource on delivery destinations.
        Grant(LOG_DELIVERY_DESTINATIONS, delete=logs("DeleteDeliverySource")),
        # CloudFront lets CloudWatch Logs deliver a distribution's logs with the caller's permission.
        Grant(
            DISTRIBUTIONS,
            create=cloudfront("AllowVendedLogDeliveryForResource"),
            update=cloudfront("AllowVendedLogDeliveryForResource"),
        ),
    ),
    "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination": TypeActions(
        Grant(
            LOG_DELIVERY_DESTINATIONS,
            create=logs("PutDeliveryDestination", "GetDeliveryDestination", "TagResource"),
            read=logs("GetDeliveryDestination", "ListTagsForResource"),
            update=logs("PutDeliveryDestination", "TagResource", "UntagResource"),
            delete=logs("DeleteDeliveryDestination", "GetDeliveryDestination"),
        ),
    ),
    "aws:cloudwatch/logDelivery:LogDelivery": TypeActions(
        Grant(
            (*LOG_DELIVERY_SOURCES, *LOG_DELIVERY_DESTINATIONS, *LOG_DELIVERIES),
            create=logs("CreateDelivery", "GetDelivery", "TagResource"),
            read=logs("GetDelivery", "ListTagsForResource"),
            update=logs("UpdateDeliveryConfiguration", "TagResource", "UntagResource"),
            delete=logs("DeleteDelivery", "GetDelivery"),
        ),
        # Creating a delivery to S3 reads the bucket's policy (and would add the statements it lacks).
        Grant(BUCKETS, create=s3("GetBucketPolicy")),
    ),
    "aws:cloudwatch/logGroup:LogGroup": TypeActions(
        Grant(
            LOG_GROUPS,
            create=logs("CreateLogGroup", "PutRetentionPolicy", "TagResource"),
            read=logs("ListTagsForResource"),
            update=logs(
                "PutRetentionPolicy",
                "DeleteRetentionPolicy",
                "AssociateKmsKey",
                "DisassociateKmsKey",
                "TagResource",
                "UntagResource",
            ),
            delete=logs("DeleteLogGroup"),
        ),
        Grant((ANY,), create=logs("DescribeLogGroups"), read=logs("DescribeLogGroups")),
    ),
    "aws:cloudwatch/logStream:LogStream": TypeActions(
        Grant(
            LOG_GROUPS,
            create=logs("CreateLogStream", "DescribeLogStreams"),
            read=logs("DescribeLogStreams"),
            delete=logs("DeleteLogStream"),
        ),
    ),
    # CloudWatch Logs resource policies belong to the account and region, not to a log group.
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": TypeActions(
        Grant(
            (ANY,),
            create=logs("PutResourcePolicy", "DescribeResourcePolicies"),
            read=logs("DescribeResourcePolicies"),
            update=logs("PutResourcePolicy"),
            delete=logs("DeleteResourcePolicy"),
        ),
    ),
    # --- DMS: change data capture (the `cdc` tier) ------------------------------------------------------
    "aws:dms/endpoint:Endpoint": TypeActions(
        Grant(
            DMS_ENDPOINTS,
            create=dms("CreateEndpoint", "AddTagsToResource", "ListTagsForResource"),
            read=dms("ListTagsForResource"),
            update=dms("ModifyEndpoint", "AddTagsToResource", "RemoveTagsFromResource"),
            delete=dms("DeleteEndpoint"),
        ),
        Grant((ANY,), create=dms("DescribeEndpoints"), read=dms("DescribeEndpoints"), delete=dms("DescribeEndpoints")),
        # The Kinesis target's service access role and the source's Secrets Manager access role.
        passes_role_to=("dms.amazonaws.com",),
        key_used_via=("dms",),  # connection details encrypted with the platform key
    ),
    "aws:dms/replicationConfig:ReplicationConfig": TypeActions(
        # AWS authorises creating a config on the endpoints it names.
        Grant(DMS_ENDPOINTS, create=dms("CreateReplicationConfig")),
        Grant(
            DMS_REPLICATION_CONFIGS,
            create=dms("AddTagsToResource", "ListTagsForResource", "StartReplication"),
            read=dms("ListTagsForResource"),
            update=dms(
                "ModifyReplicationConfig",
                "StartReplication",
                "StopReplication",
                "AddTagsToResource",
                "RemoveTagsFromResource",
            ),
            delete=dms("StopReplication", "DeleteReplicationConfig"),
        ),
        Grant(
            (ANY,),
            create=dms("DescribeReplicationConfigs", "DescribeReplications"),
            read=dms("DescribeReplicationConfigs", "DescribeReplications"),
            update=dms("DescribeReplicationConfigs", "DescribeReplications"),
            delete=dms("DescribeReplicationConfigs", "DescribeReplications"),
        ),
        Grant(
            DMS_SERVERLESS_SERVICE_LINKED_ROLE,
            create=iam("CreateServiceLinkedRole"),
            condition={"StringEquals": {"iam:AWSServiceName": "dms.amazonaws.com"}},
        ),
        key_used_via=("dms",),  # the replication's storage encrypted with the platform key
    ),
    "aws:dms/replicationSubnetGroup:ReplicationSubnetGroup": TypeActions(
        Grant(
            DMS_SUBNET_GROUPS,
            create=dms("CreateReplicationSubnetGroup", "AddTagsToResource", "ListTagsForResource"),
            read=dms("ListTagsForResource"),
            update=dms("ModifyReplicationSubnetGroup", "AddTagsToResource", "RemoveTagsFromResource"),
            delete=dms("DeleteReplicationSubnetGroup"),
        ),
        Grant(
            (ANY,),
            create=dms("DescribeReplicationSubnetGroups"),
            read=dms("DescribeReplicationSubnetGroups"),
            update=dms("DescribeReplicationSubnetGroups"),
        ),
    ),
    # --- DynamoDB ---------------------------------------------------------------------------------------
    "aws:dynamodb/table:Table": TypeActions(
        Grant(
            DYNAMODB_TABLES,
            create=dynamodb(
                "CreateTable", "DescribeTable", "UpdateTimeToLive", "UpdateContinuousBackups", "TagResource"
            ),
            read=dynamodb("DescribeTable", "DescribeTimeToLive", "DescribeContinuousBackups", "ListTagsOfResource"),
            update=dynamodb(
                "UpdateTable", "UpdateTimeToLive", "UpdateContinuousBackups", "TagResource", "UntagResource"
            ),
            delete=dynamodb("DeleteTable"),
        ),
        key_used_via=("dynamodb",),
    ),
    # --- EC2: the warehouse's private network -------------------------------------------------------------
    "aws:ec2/vpc:Vpc": TypeActions(
        Grant(
            EC2,
            create=ec2("CreateVpc", "CreateTags", "ModifyVpcAttribute", "DescribeVpcAttribute"),
            read=ec2("DescribeVpcAttribute"),
            update=ec2("ModifyVpcAttribute", "CreateTags", "DeleteTags"),
            delete=ec2("DeleteVpc"),
        ),
        # The provider reads the VPC's main route table, default network ACL and default security group.
        Grant(
            (ANY,),
            create=ec2("DescribeVpcs"),
            read=ec2("DescribeVpcs", "DescribeRouteTables", "DescribeNetworkAcls", "DescribeSecurityGroups"),
        ),
    ),
    "aws:ec2/subnet:Subnet": TypeActions(
        Grant(
            EC2,
            create=ec2("CreateSubnet", "CreateTags", "ModifySubnetAttribute"),
            update=ec2("ModifySubnetAttribute", "CreateTags", "DeleteTags"),
            delete=ec2("DeleteSubnet"),
        ),
        Grant(
            (ANY,), create=ec2("DescribeSubnets"), read=ec2("DescribeSubnets"), delete=ec2("DescribeNetworkInterfaces")
        ),
    ),
    "aws:ec2/routeTable:RouteTable": TypeActions(
        Grant(
            EC2,
            create=ec2("CreateRouteTable", "CreateTags"),
            update=ec2("CreateRoute", "DeleteRoute", "ReplaceRoute", "CreateTags", "DeleteTags"),
            delete=ec2("DeleteRouteTable"),
        ),
        Grant((ANY,), create=ec2("DescribeRouteTables"), read=ec2("DescribeRouteTables")),
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": TypeActions(
        Grant(
            EC2,
            create=ec2("AssociateRouteTable"),
            update=ec2("ReplaceRouteTableAssociation"),
            delete=ec2("DisassociateRouteTable"),
        ),
        Grant((ANY,), read=ec2("DescribeRouteTables")),
    ),
    "aws:ec2/securityGroup:SecurityGroup": TypeActions(
        Grant(
            EC2,
            # Without inline rules, the provider removes the allow-all egress rule AWS adds to a new group.
            create=ec2("CreateSecurityGroup", "CreateTags", "RevokeSecurityGroupEgress"),
            update=ec2("CreateTags", "DeleteTags"),
            delete=ec2("DeleteSecurityGroup"),
        ),
        Grant(
            (ANY,),
            create=ec2("DescribeSecurityGroups"),
            read=ec2("DescribeSecurityGroups"),
            delete=ec2("DescribeNetworkInterfaces"),
        ),
    ),
    # The VPC's default group: its rules are removed, the group itself stays with the VPC.
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": TypeActions(
        Grant(
            EC2,
            create=ec2("RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateTags"),
            update=ec2("RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateTags", "DeleteTags"),
        ),
        Grant((ANY,), create=ec2("DescribeSecurityGroups"), read=ec2("DescribeSecurityGroups")),
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": TypeActions(
        Grant(
            EC2,
            create=ec2("CreateVpcEndpoint", "CreateTags"),
            update=ec2("ModifyVpcEndpoint", "CreateTags", "DeleteTags"),
            delete=ec2("DeleteVpcEndpoints"),
        ),
        Grant(
            (ANY,),
            create=ec2("DescribeVpcEndpoints", "DescribePrefixLists"),
            read=ec2("DescribeVpcEndpoints", "DescribePrefixLists", "DescribeVpcEndpointServices"),
            delete=ec2("DescribeVpcEndpoints"),
        ),
        # An interface endpoint with private DNS associates the VPC with the service's private hosted zone.
        Grant(("arn:{partition}:route53:::hostedzone/*",), create=route53("AssociateVPCWithHostedZone")),
    ),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _security_group_rule("Ingress"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _security_group_rule("Egress"),
    # --- Glue Data Catalog ----------------------------------------------------------------------------------
    "aws:glue/catalogDatabase:CatalogDatabase": TypeActions(
        Grant(
            GLUE_DATABASES,
            create=glue("CreateDatabase", "TagResource", "GetDatabase"),
            read=glue("GetDatabase", "GetTags"),
            update=glue("UpdateDatabase", "TagResource", "UntagResource"),
        ),
        Grant(GLUE_DATABASE_CONTENTS, delete=glue("DeleteDatabase")),
    ),
    "aws:glue/catalogTable:CatalogTable": TypeActions(
        Grant(
            GLUE_TABLES,
            create=glue("CreateTable", "GetTable"),
            read=glue("GetTable", "GetPartitionIndexes"),
            update=glue("UpdateTable"),
            delete=glue("DeleteTable"),
        ),
    ),
    # --- IAM: the service roles, the staff groups and their policies, staff users -------------------------------
    "aws:iam/role:Role": TypeActions(
        Grant(
            (*ROLES, *DMS_ACCOUNT_ROLES),
            create=iam("CreateRole", "TagRole", "GetRole"),
            read=iam("GetRole", "ListRolePolicies", "GetRolePolicy", "ListAttachedRolePolicies"),
            update=iam("UpdateRole", "UpdateRoleDescription", "UpdateAssumeRolePolicy", "TagRole", "UntagRole"),
            delete=iam("DeleteRole", "ListInstanceProfilesForRole", "ListRolePolicies", "ListAttachedRolePolicies"),
        )
    ),
    "aws:iam/rolePolicy:RolePolicy": TypeActions(
        Grant(
            ROLES,
            create=iam("PutRolePolicy"),
            read=iam("GetRolePolicy"),
            update=iam("PutRolePolicy"),
            delete=iam("DeleteRolePolicy"),
        ),
        Grant(
            QUICKSIGHT_SECRETS_ROLE,
            create=iam("PutRolePolicy"),
            read=iam("GetRolePolicy"),
            update=iam("PutRolePolicy"),
            delete=iam("DeleteRolePolicy"),
        ),
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": TypeActions(
        Grant(
            (*ROLES, *DMS_ACCOUNT_ROLES),
            create=iam("AttachRolePolicy"),
            delete=iam("DetachRolePolicy"),
            condition={"ArnLike": {"iam:PolicyARN": list(ATTACHABLE_TO_ROLES)}},
        ),
        Grant(ROLES, create=iam("ListAttachedRolePolicies"), read=iam("ListAttachedRolePolicies")),
    ),
    "aws:iam/policy:Policy": TypeActions(
        Grant(
            MANAGED_POLICIES,
            create=iam("CreatePolicy", "TagPolicy", "GetPolicy", "GetPolicyVersion"),
            read=iam("GetPolicy", "GetPolicyVersion", "ListPolicyVersions", "ListPolicyTags"),
            update=iam(
                "CreatePolicyVersion",
                "DeletePolicyVersion",
                "SetDefaultPolicyVersion",
                "TagPolicy",
                "UntagPolicy",
                "ListPolicyVersions",
            ),
            delete=iam("DeletePolicy", "DeletePolicyVersion", "ListPolicyVersions"),
        )
    ),
    "aws:iam/group:Group": TypeActions(
        Grant(
            GROUPS,
            create=iam("CreateGroup", "GetGroup"),
            read=iam("GetGroup"),
            update=iam("UpdateGroup"),
            delete=iam("DeleteGroup"),
        ),
    ),
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": TypeActions(
        Grant(
            GROUPS,
            create=iam("AttachGroupPolicy"),
            delete=iam("DetachGroupPolicy"),
            condition={"ArnLike": {"iam:PolicyARN": list(ATTACHABLE_TO_GROUPS)}},
        ),
        Grant(GROUPS, create=iam("ListAttachedGroupPolicies"), read=iam("ListAttachedGroupPolicies")),
    ),
    "aws:iam/user:User": TypeActions(
        Grant(
            USERS,
            create=iam("CreateUser", "TagUser", "GetUser"),
            read=iam("GetUser", "ListUserTags"),
            update=iam("UpdateUser", "TagUser", "UntagUser"),
            # A user leaves every group before it can be deleted.
            delete=iam("DeleteUser", "ListGroupsForUser"),
        ),
        Grant(GROUPS, delete=iam("RemoveUserFromGroup")),
    ),
    "aws:iam/userGroupMembership:UserGroupMembership": TypeActions(
        Grant(
            GROUPS,
            create=iam("AddUserToGroup"),
            update=iam("AddUserToGroup", "RemoveUserFromGroup"),
            delete=iam("RemoveUserFromGroup"),
        ),
        Grant(USERS, create=iam("ListGroupsForUser"), read=iam("ListGroupsForUser")),
    ),
    # --- Kinesis Data Streams, Firehose, Managed Service for Apache Flink ------------------------------------------
    "aws:kinesis/stream:Stream": TypeActions(
        Grant(
            STREAMS,
            create=kinesis(
                "CreateStream",
                "DescribeStreamSummary",
                "AddTagsToStream",
                "TagResource",
                "IncreaseStreamRetentionPeriod",
            ),
            # Both tagging APIs: the provider moved from the stream-only ones to the resource ones.
            read=kinesis("DescribeStreamSummary", "ListTagsForStream", "ListTagsForResource"),
            update=kinesis(
                "IncreaseStreamRetentionPeriod",
                "DecreaseStreamRetentionPeriod",
                "AddTagsToStream",
                "RemoveTagsFromStream",
                "TagResource",
                "UntagResource",
            ),
            delete=kinesis("DeleteStream"),
        ),
        # Encryption is authorised on the stream and on the key together.
        Grant(
            (*STREAMS, *KMS_KEYS),
            create=kinesis("StartStreamEncryption"),
            update=kinesis("StartStreamEncryption", "StopStreamEncryption"),
        ),
        # Capacity and monitoring changes have no resource-level permissions.
        Grant(
            (ANY,),
            update=kinesis(
                "UpdateShardCount", "UpdateStreamMode", "EnableEnhancedMonitoring", "DisableEnhancedMonitoring"
            ),
        ),
        key_used_via=("kinesis",),
    ),
    "aws:kinesis/streamConsumer:StreamConsumer": TypeActions(
        Grant(
            STREAM_CONSUMERS,
            create=kinesis("RegisterStreamConsumer", "DescribeStreamConsumer", "TagResource"),
            read=kinesis("DescribeStreamConsumer", "ListTagsForResource"),
            update=kinesis("TagResource", "UntagResource"),
            delete=kinesis("DeregisterStreamConsumer", "DescribeStreamConsumer"),
        )
    ),
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": TypeActions(
        Grant(
            DELIVERY_STREAMS,
            create=firehose("CreateDeliveryStream", "DescribeDeliveryStream", "TagDeliveryStream"),
            read=firehose("DescribeDeliveryStream", "ListTagsForDeliveryStream"),
            update=firehose("UpdateDestination", "TagDeliveryStream", "UntagDeliveryStream"),
            delete=firehose("DeleteDeliveryStream", "DescribeDeliveryStream"),
        ),
        passes_role_to=("firehose.amazonaws.com",),
    ),
    "aws:kinesisanalyticsv2/application:Application": TypeActions(
        Grant(
            FLINK_APPLICATIONS,
            create=kinesisanalytics("DescribeApplication", "StartApplication", "TagResource"),
            read=kinesisanalytics("DescribeApplication", "ListTagsForResource"),
            update=kinesisanalytics(
                "UpdateApplication",
                "StartApplication",
                "StopApplication",
                "AddApplicationCloudWatchLoggingOption",
                "DeleteApplicationCloudWatchLoggingOption",
                "TagResource",
                "UntagResource",
            ),
            delete=kinesisanalytics("DeleteApplication", "StopApplication", "DescribeApplication"),
        ),
        Grant((ANY,), create=kinesisanalytics("CreateApplication")),  # no resource-level permissions
        passes_role_to=("kinesisanalytics.amazonaws.com",),
    ),
    # --- KMS ---------------------------------------------------------------------------------------------
    "aws:kms/key:Key": TypeActions(
        Grant((ANY,), create=kms("CreateKey")),
        Grant(
            KMS_KEYS,
            create=kms("TagResource", "EnableKeyRotation", "DescribeKey", "GetKeyPolicy", "PutKeyPolicy"),
            read=kms("DescribeKey", "GetKeyPolicy", "GetKeyRotationStatus", "ListResourceTags"),
            update=kms(
                "PutKeyPolicy",
                "EnableKeyRotation",
                "DisableKeyRotation",
                "UpdateKeyDescription",
                "EnableKey",
                "DisableKey",
                "TagResource",
                "UntagResource",
            ),
            delete=kms("ScheduleKeyDeletion"),
        ),
    ),
    "aws:kms/alias:Alias": TypeActions(
        Grant(KMS_ALIASES, create=kms("CreateAlias"), update=kms("UpdateAlias"), delete=kms("DeleteAlias")),
        Grant((ANY,), create=kms("ListAliases"), read=kms("ListAliases")),
    ),
    # --- Lambda ------------------------------------------------------------------------------------------
    "aws:lambda/function:Function": TypeActions(
        Grant(
            FUNCTIONS,
            create=lambda_("CreateFunction", "GetFunction", "TagResource", "PutFunctionConcurrency"),
            read=lambda_("GetFunction", "GetFunctionCodeSigningConfig", "ListVersionsByFunction", "ListTags"),
            update=lambda_(
                "UpdateFunctionCode",
                "UpdateFunctionConfiguration",
                "PutFunctionConcurrency",
                "DeleteFunctionConcurrency",
                "TagResource",
                "UntagResource",
            ),
            delete=lambda_("DeleteFunction"),
        ),
        # A layer published in another account needs the caller's permission to read that layer version.
        Grant(
            (*POWERTOOLS_LAYERS, *LAYER_VERSIONS), create=lambda_("GetLayerVersion"), update=lambda_("GetLayerVersion")
        ),
        passes_role_to=("lambda.amazonaws.com",),
        key_used_via=("lambda",),  # environment variables encrypted with the platform key
    ),
    "aws:lambda/eventSourceMapping:EventSourceMapping": TypeActions(
        Grant((ANY,), create=lambda_("CreateEventSourceMapping")),
        Grant(
            EVENT_SOURCE_MAPPINGS,
            create=lambda_("GetEventSourceMapping", "TagResource"),
            read=lambda_("GetEventSourceMapping", "ListTags"),
            update=lambda_("UpdateEventSourceMapping", "TagResource", "UntagResource"),
            delete=lambda_("DeleteEventSourceMapping", "GetEventSourceMapping"),
        ),
    ),
    "aws:lambda/layerVersion:LayerVersion": TypeActions(
        Grant(LAYERS, create=lambda_("PublishLayerVersion")),
        Grant(
            LAYER_VERSIONS,
            create=lambda_("GetLayerVersion"),
            read=lambda_("GetLayerVersion"),
            delete=lambda_("DeleteLayerVersion"),
        ),
    ),
    "aws:lambda/permission:Permission": TypeActions(
        Grant(
            FUNCTIONS,
            create=lambda_("AddPermission", "GetPolicy"),
            read=lambda_("GetPolicy"),
            delete=lambda_("RemovePermission"),
        ),
    ),
    # --- Redshift (provisioned) -----------------------------------------------------------------------------
    "aws:redshift/cluster:Cluster": TypeActions(
        Grant(
            REDSHIFT_CLUSTERS,
            create=redshift("CreateCluster", "CreateTags", "DescribeClusters"),
            read=redshift("DescribeClusters", "DescribeLoggingStatus"),
            update=redshift("ModifyCluster", "ModifyClusterIamRoles", "CreateTags", "DeleteTags", "RebootCluster"),
            delete=redshift("DeleteCluster", "DescribeClusters"),
        ),
        *_REDSHIFT_MANAGED_ADMIN_SECRET,
        passes_role_to=("redshift.amazonaws.com",),
        key_used_via=("redshift", "secretsmanager"),
    ),
    "aws:redshift/subnetGroup:SubnetGroup": TypeActions(
        Grant(
            REDSHIFT_SUBNET_GROUPS,
            create=redshift("CreateClusterSubnetGroup", "CreateTags"),
            update=redshift("ModifyClusterSubnetGroup", "CreateTags", "DeleteTags"),
            delete=redshift("DeleteClusterSubnetGroup"),
        ),
        Grant(
            (ANY,),
            create=(*redshift("DescribeClusterSubnetGroups"), *ec2("DescribeSubnets")),
            read=redshift("DescribeClusterSubnetGroups"),
            update=ec2("DescribeSubnets"),
        ),
    ),
    "aws:redshift/parameterGroup:ParameterGroup": TypeActions(
        Grant(
            REDSHIFT_PARAMETER_GROUPS,
            create=redshift("CreateClusterParameterGroup", "ModifyClusterParameterGroup", "CreateTags"),
            read=redshift("DescribeClusterParameters"),
            update=redshift("ModifyClusterParameterGroup", "ResetClusterParameterGroup", "CreateTags", "DeleteTags"),
            delete=redshift("DeleteClusterParameterGroup"),
        ),
        Grant(
            (ANY,), create=redshift("DescribeClusterParameterGroups"), read=redshift("DescribeClusterParameterGroups")
        ),
    ),
    "aws:redshift/logging:Logging": TypeActions(
        Grant(
            REDSHIFT_CLUSTERS,
            create=redshift("EnableLogging"),
            read=redshift("DescribeLoggingStatus"),
            update=redshift("EnableLogging", "DisableLogging"),
            delete=redshift("DisableLogging"),
        ),
    ),
    # --- Redshift Serverless, and deploy-time SQL through the Data API -------------------------------------
    "aws:redshiftserverless/namespace:Namespace": TypeActions(
        Grant(
            REDSHIFT_NAMESPACES,
            create=redshift_serverless("CreateNamespace", "GetNamespace", "TagResource"),
            read=redshift_serverless("GetNamespace", "ListTagsForResource"),
            update=redshift_serverless("UpdateNamespace", "TagResource", "UntagResource"),
            delete=redshift_serverless("DeleteNamespace", "GetNamespace"),
        ),
        *_REDSHIFT_MANAGED_ADMIN_SECRET,
        passes_role_to=("redshift.amazonaws.com", "redshift-serverless.amazonaws.com"),
        key_used_via=("redshift-serverless", "secretsmanager"),
    ),
    "aws:redshiftserverless/workgroup:Workgroup": TypeActions(
        Grant(
            REDSHIFT_WORKGROUPS,
            create=redshift_serverless("CreateWorkgroup", "GetWorkgroup", "TagResource"),
            read=redshift_serverless("GetWorkgroup", "ListTagsForResource"),
            update=redshift_serverless("UpdateWorkgroup", "TagResource", "UntagResource"),
            delete=redshift_serverless("DeleteWorkgroup", "GetWorkgroup"),
        ),
        Grant(EC2, create=ec2("DescribeVpcAttribute"), update=ec2("DescribeVpcAttribute")),
        Grant((ANY,), create=_REDSHIFT_SERVERLESS_NETWORK_CHECKS, update=_REDSHIFT_SERVERLESS_NETWORK_CHECKS),
        *_REDSHIFT_MANAGED_ADMIN_SECRET[2:],  # the service-linked role
    ),
    # Usage limits have no resource-level permissions.
    "aws:redshiftserverless/usageLimit:UsageLimit": TypeActions(
        Grant(
            (ANY,),
            create=redshift_serverless("CreateUsageLimit", "GetUsageLimit"),
            read=redshift_serverless("GetUsageLimit"),
            update=redshift_serverless("UpdateUsageLimit"),
            delete=redshift_serverless("DeleteUsageLimit"),
        ),
    ),
    # Runs once at create as the admin, whose password only Redshift's secret holds (README, "Warehouse").
    "aws:redshiftdata/statement:Statement": TypeActions(
        Grant((*REDSHIFT_WORKGROUPS, REDSHIFT_CLUSTERS[0]), create=redshift_data("ExecuteStatement")),
        Grant((ANY,), create=redshift_data("DescribeStatement"), read=redshift_data("DescribeStatement")),
        Grant(REDSHIFT_ADMIN_SECRETS, create=secretsmanager("GetSecretValue")),
        key_used_via=("secretsmanager",),
    ),
    # --- QuickSight (the BI tier) ------------------------------------------------------------------------------
    "aws:quicksight/vpcConnection:VpcConnection": TypeActions(
        Grant(
            QS_VPC_CONNECTIONS,
            create=quicksight("DescribeVPCConnection", "TagResource"),
            read=quicksight("DescribeVPCConnection", "ListTagsForResource"),
            update=quicksight("UpdateVPCConnection", "TagResource", "UntagResource"),
            delete=quicksight("DeleteVPCConnection", "DescribeVPCConnection"),
        ),
        Grant((ANY,), create=quicksight("CreateVPCConnection")),
        passes_role_to=("quicksight.amazonaws.com",),
    ),
    "aws:quicksight/dataSource:DataSource": TypeActions(
        Grant(
            QS_DATA_SOURCES,
            create=quicksight("DescribeDataSource", "TagResource"),
            read=quicksight("DescribeDataSource", "DescribeDataSourcePermissions", "ListTagsForResource"),
            update=quicksight("UpdateDataSource", "UpdateDataSourcePermissions", "TagResource", "UntagResource"),
            delete=quicksight("DeleteDataSource"),
        ),
        Grant((ANY,), create=quicksight("CreateDataSource")),
        # QuickSight checks the caller's own access to a data source's secret when it is created or updated.
        Grant(REDSHIFT_ADMIN_SECRETS, create=secretsmanager("GetSecretValue"), update=secretsmanager("GetSecretValue")),
        passes_role_to=("quicksight.amazonaws.com",),
        key_used_via=("secretsmanager",),
    ),
    "aws:quicksight/dataSet:DataSet": TypeActions(
        Grant(
            QS_DATA_SETS,
            create=quicksight("DescribeDataSet", "TagResource", "PassDataSet"),
            read=quicksight(
                "DescribeDataSet",
                "DescribeDataSetPermissions",
                "DescribeDataSetRefreshProperties",
                "ListTagsForResource",
            ),
            update=quicksight(
                "UpdateDataSet", "UpdateDataSetPermissions", "TagResource", "UntagResource", "PassDataSet"
            ),
            delete=quicksight("DeleteDataSet"),
        ),
        # A dataset names its data source (CreateDataSet authorises on it) and its row-level security rules.
        Grant(
            QS_DATA_SOURCES,
            create=quicksight("CreateDataSet", "PassDataSource"),
            update=quicksight("UpdateDataSet", "PassDataSource"),
        ),
    ),
    "aws:quicksight/refreshSchedule:RefreshSchedule": TypeActions(
        Grant(
            QS_REFRESH_SCHEDULES,
            create=quicksight("CreateRefreshSchedule", "DescribeRefreshSchedule"),
            read=quicksight("DescribeRefreshSchedule"),
            update=quicksight("UpdateRefreshSchedule"),
            delete=quicksight("DeleteRefreshSchedule"),
        )
    ),
    "aws:quicksight/group:Group": TypeActions(
        Grant(
            QS_GROUPS,
            create=quicksight("CreateGroup", "DescribeGroup"),
            read=quicksight("DescribeGroup"),
            update=quicksight("UpdateGroup"),
            delete=quicksight("DeleteGroup"),
        )
    ),
    "aws:quicksight/groupMembership:GroupMembership": TypeActions(
        Grant(
            QS_GROUPS,
            create=quicksight("CreateGroupMembership", "DescribeGroupMembership"),
            read=quicksight("DescribeGroupMembership"),
            delete=quicksight("DeleteGroupMembership"),
        )
    ),
    "aws:quicksight/user:User": TypeActions(
        Grant(
            QS_USERS,
            create=quicksight("RegisterUser", "DescribeUser"),
            read=quicksight("DescribeUser"),
            update=quicksight("UpdateUser"),
            delete=quicksight("DeleteUser"),
        )
    ),
    # The dashboard comes through the Cloud Control provider (pulumi-aws-native): Cloud Control's calls on
    # no resource, then QuickSight's with the deployer's credentials.
    "aws-native:quicksight:Dashboard": TypeActions(
        Grant(
            QS_DASHBOARDS,
            create=quicksight(
                "CreateDashboard",
                "DescribeDashboard",
                "DescribeDashboardPermissions",
                "TagResource",
                "ListTagsForResource",
            ),
            read=quicksight(
                "DescribeDashboard", "DescribeDashboardPermissions", "ListDashboardVersions", "ListTagsForResource"
            ),
            update=quicksight(
                "UpdateDashboard",
                "UpdateDashboardPermissions",
                "UpdateDashboardPublishedVersion",
                "ListDashboardVersions",
                "TagResource",
                "UntagResource",
            ),
            delete=quicksight("DeleteDashboard"),
        ),
        Grant(QS_DATA_SETS, create=quicksight("PassDataSet"), update=quicksight("PassDataSet")),
        Grant(
            (ANY,),
            create=cloudformation("CreateResource", "GetResourceRequestStatus"),
            read=cloudformation("GetResource"),
            update=cloudformation("UpdateResource", "GetResourceRequestStatus"),
            delete=cloudformation("DeleteResource", "GetResourceRequestStatus"),
        ),
    ),
    # --- S3: buckets and their settings, the Flink code object ------------------------------------------------
    "aws:s3/bucket:Bucket": TypeActions(
        Grant(
            BUCKETS,
            create=s3("CreateBucket", "PutBucketTagging", "ListBucket"),
            # The provider reads back every bucket-level setting the bucket resource still reports.
            read=s3(
                "ListBucket",
                "GetBucketTagging",
                "GetBucketAcl",
                "GetBucketCORS",
                "GetBucketWebsite",
                "GetBucketVersioning",
                "GetAccelerateConfiguration",
                "GetBucketRequestPayment",
                "GetBucketLogging",
                "GetLifecycleConfiguration",
                "GetReplicationConfiguration",
                "GetEncryptionConfiguration",
                "GetBucketObjectLockConfiguration",
                "GetBucketPolicy",
                "GetBucketOwnershipControls",
            ),
            update=s3("PutBucketTagging"),
            delete=s3("DeleteBucket"),
        ),
        # force_destroy empties the bucket first, every version of every object.
        Grant(FORCE_DESTROYED_BUCKETS, delete=s3("ListBucketVersions")),
        Grant(FORCE_DESTROYED_OBJECTS, delete=s3("DeleteObject", "DeleteObjectVersion")),
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_setting(
        "PutLifecycleConfiguration", "GetLifecycleConfiguration"
    ),
    "aws:s3/bucketLogging:BucketLogging": _bucket_setting("PutBucketLogging", "GetBucketLogging"),
    "aws:s3/bucketNotification:BucketNotification": _bucket_setting("PutBucketNotification", "GetBucketNotification"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _bucket_setting(
        "PutBucketOwnershipControls", "GetBucketOwnershipControls"
    ),
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_setting("PutBucketPolicy", "GetBucketPolicy", "DeleteBucketPolicy"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_setting(
        "PutBucketPublicAccessBlock", "GetBucketPublicAccessBlock"
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _bucket_setting(
        "PutEncryptionConfiguration", "GetEncryptionConfiguration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_setting("PutBucketVersioning", "GetBucketVersioning"),
    "aws:s3/bucketObjectv2:BucketObjectv2": TypeActions(
        Grant(
            (*FLINK_CODE_OBJECTS, *SITE_OBJECTS),
            create=s3("PutObject", "PutObjectTagging", "GetObject"),
            read=s3("GetObject", "GetObjectTagging"),
            update=s3("PutObject", "PutObjectTagging", "DeleteObjectTagging"),
            # In a versioned bucket every version of the key goes.
            delete=s3("DeleteObject", "DeleteObjectVersion"),
        ),
        Grant(BUCKETS, delete=s3("ListBucketVersions")),
        key_used_via=("s3",),  # SSE-KMS with the platform key
    ),
    # --- EventBridge Scheduler -------------------------------------------------------------------------------
    "aws:scheduler/scheduleGroup:ScheduleGroup": TypeActions(
        Grant(
            SCHEDULE_GROUPS,
            create=scheduler("CreateScheduleGroup", "GetScheduleGroup", "TagResource"),
            read=scheduler("GetScheduleGroup", "ListTagsForResource"),
            update=scheduler("TagResource", "UntagResource"),
            delete=scheduler("DeleteScheduleGroup", "GetScheduleGroup"),
        )
    ),
    "aws:scheduler/schedule:Schedule": TypeActions(
        Grant(
            SCHEDULES,
            create=scheduler("CreateSchedule", "GetSchedule"),
            read=scheduler("GetSchedule"),
            update=scheduler("UpdateSchedule"),
            delete=scheduler("DeleteSchedule"),
        ),
        passes_role_to=("scheduler.amazonaws.com",),
        key_used_via=("scheduler",),  # the target's input is encrypted with the platform key
    ),
    # --- SNS and SQS ------------------------------------------------------------------------------------------
    "aws:acm/certificate:Certificate": TypeActions(
        Grant((ANY,), create=acm("RequestCertificate")),
        Grant(
            CERTIFICATES,
            create=acm("AddTagsToCertificate", "DescribeCertificate"),
            read=acm("DescribeCertificate", "ListTagsForCertificate"),
            update=acm("AddTagsToCertificate", "RemoveTagsFromCertificate"),
            delete=acm("DeleteCertificate"),
        ),
    ),
    # Waits until ACM has issued the certificate; nothing to delete.
    "aws:acm/certificateValidation:CertificateValidation": TypeActions(
        Grant(CERTIFICATES, create=acm("DescribeCertificate"), read=acm("DescribeCertificate")),
    ),
    "aws:cloudfront/distribution:Distribution": TypeActions(
        Grant((ANY,), create=cloudfront("CreateDistribution")),
        Grant(
            DISTRIBUTIONS,
            create=cloudfront("TagResource", "GetDistribution"),
            read=cloudfront("GetDistribution", "GetDistributionConfig", "ListTagsForResource"),
            update=cloudfront(
                "UpdateDistribution", "GetDistribution", "GetDistributionConfig", "TagResource", "UntagResource"
            ),
            # A distribution is disabled (an update) and deployed before it can be deleted.
            delete=cloudfront("UpdateDistribution", "GetDistribution", "DeleteDistribution"),
        ),
        # Associating the web ACL: CloudFront reads it with the caller's permissions.
        Grant(WEB_ACLS, create=wafv2("GetWebACL"), update=wafv2("GetWebACL")),
        # The live dashboard's distribution names its origin access control and response headers policy.
        Grant(ORIGIN_ACCESS_CONTROLS, create=cloudfront("GetOriginAccessControl")),
        Grant(RESPONSE_HEADERS_POLICIES, create=cloudfront("GetResponseHeadersPolicy")),
    ),
    "aws:cloudfront/originAccessControl:OriginAccessControl": TypeActions(
        Grant((ANY,), create=cloudfront("CreateOriginAccessControl")),
        Grant(
            ORIGIN_ACCESS_CONTROLS,
            create=cloudfront("GetOriginAccessControl"),
            read=cloudfront("GetOriginAccessControl"),
            update=cloudfront("UpdateOriginAccessControl"),
            delete=cloudfront("DeleteOriginAccessControl", "GetOriginAccessControl"),
        ),
    ),
    "aws:cloudfront/function:Function": TypeActions(
        Grant((ANY,), create=cloudfront("CreateFunction")),
        Grant(
            CLOUDFRONT_FUNCTIONS,
            create=cloudfront("PublishFunction", "DescribeFunction", "GetFunction", "TagResource"),
            read=cloudfront("DescribeFunction", "GetFunction"),
            update=cloudfront("UpdateFunction", "PublishFunction", "DescribeFunction"),
            delete=cloudfront("DeleteFunction", "DescribeFunction"),
        ),
    ),
    "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": TypeActions(
        Grant((ANY,), create=cloudfront("CreateOriginRequestPolicy")),
        Grant(
            ORIGIN_REQUEST_POLICIES,
            create=cloudfront("GetOriginRequestPolicy"),
            read=cloudfront("GetOriginRequestPolicy"),
            update=cloudfront("UpdateOriginRequestPolicy"),
            delete=cloudfront("DeleteOriginRequestPolicy"),
        ),
    ),
    "aws:cloudfront/realtimeLogConfig:RealtimeLogConfig": TypeActions(
        Grant((ANY,), create=cloudfront("CreateRealtimeLogConfig")),
        Grant(
            REALTIME_LOG_CONFIGS,
            create=cloudfront("GetRealtimeLogConfig"),
            read=cloudfront("GetRealtimeLogConfig"),
            update=cloudfront("UpdateRealtimeLogConfig"),
            delete=cloudfront("DeleteRealtimeLogConfig"),
        ),
        passes_role_to=("cloudfront.amazonaws.com",),
    ),
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": TypeActions(
        Grant((ANY,), create=cloudfront("CreateResponseHeadersPolicy")),
        Grant(
            RESPONSE_HEADERS_POLICIES,
            create=cloudfront("GetResponseHeadersPolicy"),
            read=cloudfront("GetResponseHeadersPolicy"),
            update=cloudfront("UpdateResponseHeadersPolicy"),
            delete=cloudfront("DeleteResponseHeadersPolicy", "GetResponseHeadersPolicy"),
        ),
    ),
    "aws:route53/record:Record": TypeActions(
        Grant(
            HOSTED_ZONES,
            create=route53("ChangeResourceRecordSets", "ListResourceRecordSets", "GetHostedZone"),
            read=route53("ListResourceRecordSets", "GetHostedZone"),
            update=route53("ChangeResourceRecordSets", "ListResourceRecordSets"),
            delete=route53("ChangeResourceRecordSets", "ListResourceRecordSets"),
        ),
        Grant(ROUTE53_CHANGES, create=route53("GetChange"), update=route53("GetChange"), delete=route53("GetChange")),
    ),
    "aws:wafv2/webAcl:WebAcl": TypeActions(
        Grant(
            WEB_ACLS,
            create=wafv2("CreateWebACL", "GetWebACL", "TagResource", "ListTagsForResource"),
            read=wafv2("GetWebACL", "ListTagsForResource"),
            update=wafv2("UpdateWebACL", "GetWebACL", "TagResource", "UntagResource"),
            delete=wafv2("DeleteWebACL", "GetWebACL"),
        ),
        # A rule that references an AWS managed rule group is checked against the group.
        Grant(MANAGED_RULE_GROUPS, create=wafv2("CreateWebACL"), update=wafv2("UpdateWebACL")),
    ),
    "aws:sns/topic:Topic": TypeActions(
        Grant(
            TOPICS,
            create=sns("CreateTopic", "SetTopicAttributes", "GetTopicAttributes", "TagResource"),
            read=sns("GetTopicAttributes", "ListTagsForResource"),
            update=sns("SetTopicAttributes", "TagResource", "UntagResource"),
            delete=sns("DeleteTopic"),
        )
    ),
    "aws:sns/topicPolicy:TopicPolicy": TypeActions(
        Grant(
            TOPICS,
            create=sns("SetTopicAttributes", "GetTopicAttributes"),
            read=sns("GetTopicAttributes"),
            update=sns("SetTopicAttributes"),
            delete=sns("SetTopicAttributes"),
        ),
    ),
    "aws:sns/topicSubscription:TopicSubscription": TypeActions(
        # A subscription's ARN extends its topic's (`<topic ARN>:<id>`), so the topic pattern covers it.
        Grant(
            TOPICS,
            create=sns("Subscribe", "GetSubscriptionAttributes", "SetSubscriptionAttributes"),
            read=sns("GetSubscriptionAttributes", "ListSubscriptionsByTopic"),
            update=sns("SetSubscriptionAttributes"),
            delete=sns("Unsubscribe"),
        ),
    ),
    "aws:sqs/queue:Queue": TypeActions(
        Grant(
            QUEUES,
            create=sqs("CreateQueue", "TagQueue", "GetQueueAttributes", "GetQueueUrl"),
            read=sqs("GetQueueAttributes", "GetQueueUrl", "ListQueueTags"),
            update=sqs("SetQueueAttributes", "TagQueue", "UntagQueue"),
            delete=sqs("DeleteQueue"),
        )
    ),
    "aws:sqs/queuePolicy:QueuePolicy": TypeActions(
        Grant(
            QUEUES,
            create=sqs("SetQueueAttributes", "GetQueueAttributes"),
            read=sqs("GetQueueAttributes"),
            update=sqs("SetQueueAttributes"),
            delete=sqs("SetQueueAttributes"),
        ),
    ),
    # --- OpenSearch (the search tier) ------------------------------------------------------------------------
    # OpenSearch Serverless authorises its policy and VPC-endpoint actions on no resource; the collection
    # actions on the collection (named by a generated id).
    "aws:opensearch/serverlessCollection:ServerlessCollection": TypeActions(
        Grant(
            SEARCH_COLLECTIONS,
            create=aoss("TagResource"),
            read=aoss("ListTagsForResource"),
            update=aoss("UpdateCollection", "TagResource", "UntagResource"),
            delete=aoss("DeleteCollection"),
        ),
        Grant(
            (ANY,),
            create=aoss("CreateCollection", "BatchGetCollection"),
            read=aoss("BatchGetCollection"),
            delete=aoss("BatchGetCollection"),
        ),
        key_used_via=("aoss",),  # the collection is encrypted with the platform key
    ),
    "aws:opensearch/serverlessSecurityPolicy:ServerlessSecurityPolicy": TypeActions(
        Grant(
            (ANY,),
            create=aoss("CreateSecurityPolicy", "GetSecurityPolicy"),
            read=aoss("GetSecurityPolicy"),
            update=aoss("UpdateSecurityPolicy"),
            delete=aoss("DeleteSecurityPolicy"),
        ),
    ),
    "aws:opensearch/serverlessAccessPolicy:ServerlessAccessPolicy": TypeActions(
        Grant(
            (ANY,),
            create=aoss("CreateAccessPolicy", "GetAccessPolicy"),
            read=aoss("GetAccessPolicy"),
            update=aoss("UpdateAccessPolicy"),
            delete=aoss("DeleteAccessPolicy"),
        ),
    ),
    "aws:opensearch/serverlessLifecyclePolicy:ServerlessLifecyclePolicy": TypeActions(
        Grant(
            (ANY,),
            create=aoss("CreateLifecyclePolicy", "BatchGetLifecyclePolicy"),
            read=aoss("BatchGetLifecyclePolicy"),
            update=aoss("UpdateLifecyclePolicy"),
            delete=aoss("DeleteLifecyclePolicy"),
        ),
    ),
    "aws:opensearch/serverlessVpcEndpoint:ServerlessVpcEndpoint": TypeActions(
        Grant(
            (ANY,),
            create=aoss("CreateVpcEndpoint", "BatchGetVpcEndpoint"),
            read=aoss("BatchGetVpcEndpoint"),
            update=aoss("UpdateVpcEndpoint"),
            delete=aoss("DeleteVpcEndpoint", "BatchGetVpcEndpoint"),
        ),
        # OpenSearch Serverless creates the interface endpoint with the caller's credentials.
        Grant(
            EC2,
            create=ec2("CreateVpcEndpoint", "CreateTags"),
            update=ec2("ModifyVpcEndpoint"),
            delete=ec2("DeleteVpcEndpoints"),
        ),
        Grant(
            (ANY,),
            create=ec2("DescribeVpcEndpoints", "DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups"),
            read=ec2("DescribeVpcEndpoints"),
            delete=ec2("DescribeVpcEndpoints"),
        ),
    ),
    "aws:opensearch/domain:Domain": TypeActions(
        Grant(
            SEARCH_DOMAINS,
            create=es("CreateDomain", "DescribeDomain", "DescribeDomainConfig", "AddTags"),
            read=es("DescribeDomain", "DescribeDomainConfig", "ListTags"),
            update=es("UpdateDomainConfig", "AddTags", "RemoveTags", "DescribeDomainChangeProgress"),
            delete=es("DeleteDomain", "DescribeDomain"),
        ),
        # A VPC domain: the service checks the subnets and security groups with the caller's credentials.
        Grant((ANY,), create=ec2("DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups")),
        passes_role_to=("es.amazonaws.com",),  # the search-admin function's role, named as the master user
        key_used_via=("es",),  # encryption at rest with the platform key
    ),
    "aws:lambda/invocation:Invocation": TypeActions(
        # The search tier's setup runs at deploy time, as the deploying identity invoking the function.
        # The provider reads nothing back; GetFunction is what a refresh of the function itself calls.
        Grant(
            FUNCTIONS, create=lambda_("InvokeFunction"), read=lambda_("GetFunction"), update=lambda_("InvokeFunction")
        ),
    ),
}

# The data sources the program calls (`aws.get_*`), by invoke token. Run on every preview and update.
INVOKES: dict[str, InvokeActions] = {
    "aws:index/getCallerIdentity:getCallerIdentity": InvokeActions((ANY,), sts("GetCallerIdentity")),
    "aws:index/getAvailabilityZones:getAvailabilityZones": InvokeActions((ANY,), ec2("DescribeAvailabilityZones")),
    "aws:ec2/getPrefixList:getPrefixList": InvokeActions((ANY,), ec2("DescribePrefixLists")),
    "aws:ec2/getVpc:getVpc": InvokeActions((ANY,), ec2("DescribeVpcs")),
    # The Powertools layer's ARN, published by AWS as a public parameter.
    "aws:ssm/getParameter:getParameter": InvokeActions(POWERTOOLS_PARAMETERS, ssm("GetParameter")),
    # The BI tier looks its QuickSight admin up: proof that the account is subscribed.
    "aws:quicksight/getQuicksightUser:getQuicksightUser": InvokeActions(QS_USERS, quicksight("DescribeUser")),
}

# The provider checks its credentials when it starts (`skip_credentials_validation` is off).
PROVIDER = InvokeActions((ANY,), sts("GetCallerIdentity"))

# What a service does with the platform key on the deployer's behalf, for the types that name it in
# `key_used_via`: always through that service (kms:ViaService), never a direct use of the key.
KEY_USE_ACTIONS: dict[Phase, tuple[str, ...]] = {
    "create": kms("Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey"),
    "read": kms("Decrypt", "DescribeKey"),
    "update": kms("Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey"),
    "delete": (),
}
# Grants a service makes on the key for the resource it creates (kms:GrantIsForAWSResource).
KEY_GRANT_ACTIONS: dict[Phase, tuple[str, ...]] = {
    "create": kms("CreateGrant"),
    "read": (),
    "update": kms("CreateGrant"),
    "delete": (),
}
