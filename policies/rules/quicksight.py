"""QuickSight reaches databases privately and with managed credentials, over TLS; every dataset is under
row-level security; nobody is made a QuickSight admin and nothing is shared with everyone."""

from __future__ import annotations

from typing import Any, Final

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import MANDATORY, UNKNOWN, as_list, for_types, is_set, label_of, lookup, plain, truthy

DATA_SOURCE: Final = "aws:quicksight/dataSource:DataSource"
DATA_SET: Final = "aws:quicksight/dataSet:DataSet"
USER: Final = "aws:quicksight/user:User"
DASHBOARD: Final = "aws:quicksight/dashboard:Dashboard"
NATIVE_DASHBOARD: Final = "aws-native:quicksight:Dashboard"
ANALYSIS: Final = "aws:quicksight/analysis:Analysis"
TEMPLATE: Final = "aws:quicksight/template:Template"

# Data source types whose engine runs in a network of its own (a host or cluster QuickSight connects to),
# as opposed to AWS services QuickSight calls by API (Athena, S3, IoT Analytics) or SaaS sources.
DATABASE_TYPES: Final = frozenset(
    {"AURORA", "AURORA_POSTGRESQL", "MARIADB", "MYSQL", "ORACLE", "POSTGRESQL", "PRESTO", "REDSHIFT", "SPARK",
     "SQLSERVER", "TERADATA", "STARBURST", "TRINO"}
)  # fmt: skip
ADMIN_ROLES: Final = frozenset({"ADMIN", "ADMIN_PRO"})


@for_types(DATA_SOURCE)
def check_private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    kind = lookup(args.props, "type")
    if kind not in DATABASE_TYPES:
        return
    if is_set(lookup(args.props, "vpcConnectionProperties", "vpcConnectionArn")):
        return
    report(
        f"QuickSight data source {label_of(args)} ({kind}) reaches its database without a VPC connection, so the "
        f"database must be reachable from QuickSight's public addresses: set vpc_connection_properties="
        f"DataSourceVpcConnectionPropertiesArgs(vpc_connection_arn=<an aws.quicksight.VpcConnection in the "
        f"database's subnets>) and keep the database private (components/bi/network.py).",
        None,
    )


@for_types(DATA_SOURCE)
def check_no_password(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_set(lookup(args.props, "credentials", "credentialPair")):
        return
    report(
        f"QuickSight data source {label_of(args)} takes a user name and password as inputs, which land in the "
        f"Pulumi state and the stack's config: set credentials=DataSourceCredentialsArgs(secret_arn=<the "
        f"Redshift-managed secret>) instead of credential_pair.",
        None,
    )


@for_types(DATA_SOURCE)
def check_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not truthy(lookup(args.props, "sslProperties", "disableSsl")):
        return
    report(
        f"QuickSight data source {label_of(args)} turns TLS off (ssl_properties.disable_ssl=True), so credentials "
        f"and rows cross the network in clear: set ssl_properties=DataSourceSslPropertiesArgs(disable_ssl=False).",
        None,
    )


@for_types(DATA_SET)
def check_row_level_security(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if lookup(args.props, "useAs") == "RLS_RULES":
        return  # the rules themselves: readable by nobody, filtered by nothing
    security = lookup(args.props, "rowLevelPermissionDataSet")
    if security is UNKNOWN or (
        is_set(lookup(security, "arn")) and lookup(security, "status") in (None, "ENABLED", UNKNOWN)
    ):
        return
    found = "is disabled" if is_set(security) else "has none"
    report(
        f"QuickSight dataset {label_of(args)} {found} row-level security, so every reader of a dashboard on it sees "
        f"every business line: set row_level_permission_data_set with the stack's rules dataset (use_as="
        f"'RLS_RULES'), permission_policy='GRANT_ACCESS' and status='ENABLED' (components/bi/datasets.py).",
        None,
    )


@for_types(USER)
def check_no_admin(args: ResourceValidationArgs, report: ReportViolation) -> None:
    role = lookup(args.props, "userRole")
    if role not in ADMIN_ROLES:
        return
    report(
        f"QuickSight user {label_of(args)} is registered as {role}: QuickSight administrators manage the whole "
        f"account (every user, dataset and subscription setting), and no program grants that: register readers "
        f"and authors only (user_role='READER' or 'AUTHOR'; `uba:bi.people[].role`).",
        None,
    )


def _public_principals(permissions: Any) -> list[str]:
    return [
        str(principal)
        for permission in as_list(plain(permissions))
        if isinstance(permission, dict)
        for principal in as_list(permission.get("principal"))
        if isinstance(principal, str) and (principal == "*" or principal.endswith(":*"))
    ]


@for_types(DATA_SOURCE, DATA_SET, DASHBOARD, NATIVE_DASHBOARD, ANALYSIS, TEMPLATE)
def check_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    public = _public_principals(lookup(args.props, "permissions"))
    link = lookup(args.props, "linkSharingConfiguration", "permissions")
    public += [f"link sharing to {principal}" for principal in _public_principals(link)]
    if not public:
        return
    report(
        f"QuickSight {args.resource_type} {label_of(args)} is shared with everyone ({', '.join(public)}): grant the "
        f"stack's QuickSight groups by ARN (components/bi/people.py), never '*'.",
        None,
    )


POLICIES: Final = [
    ResourceValidationPolicy(
        name="quicksight-data-source-private",
        description="QuickSight reaches database data sources (Redshift, RDS engines, ...) through a VPC connection.",
        enforcement_level=MANDATORY,
        validate=check_private,
    ),
    ResourceValidationPolicy(
        name="quicksight-data-source-no-password",
        description="QuickSight data sources take credentials from Secrets Manager, never a password input.",
        enforcement_level=MANDATORY,
        validate=check_no_password,
    ),
    ResourceValidationPolicy(
        name="quicksight-data-source-tls",
        description="QuickSight data sources keep TLS on.",
        enforcement_level=MANDATORY,
        validate=check_tls,
    ),
    ResourceValidationPolicy(
        name="quicksight-dataset-row-level-security",
        description="Every QuickSight dataset but the rules themselves is under enabled row-level security.",
        enforcement_level=MANDATORY,
        validate=check_row_level_security,
    ),
    ResourceValidationPolicy(
        name="quicksight-no-admin",
        description="No QuickSight user is registered as ADMIN or ADMIN_PRO.",
        enforcement_level=MANDATORY,
        validate=check_no_admin,
    ),
    ResourceValidationPolicy(
        name="quicksight-not-public",
        description="No QuickSight data source, dataset, analysis, template or dashboard is shared with '*'.",
        enforcement_level=MANDATORY,
        validate=check_not_public,
    ),
]
