"""The warehouse tier: Redshift in a private network, reading the lake through Spectrum.

Redshift Serverless by default (namespace + workgroup + a daily RPU-hour usage limit), or a
provisioned cluster when the stack says `mode: provisioned`. Either way the data is encrypted with
the platform key, nothing is publicly accessible, enhanced VPC routing keeps COPY/Spectrum traffic in
the VPC, connections, user changes and every query are logged to encrypted log groups with the
stack's retention, TLS is required, the admin password lives only in a Secrets Manager secret that
Redshift manages (encrypted with the platform key; no password is an input), snapshots are kept for
the stack's days, and the data-holding resource is protected where the stack protects data.

Redshift assumes one role (COPY, Spectrum) that reads only the lake's raw-events prefix and this
stack's Glue database. The network is in `network.py`; the deploy-time SQL, the refresh
schedule, snapshots and alarms in `schedule.py`.

Usage-limit decision: breach action `deactivate`. The limit is a cost guard, so once a day's
RPU-hours are spent the workgroup refuses queries until the next day; the refresh that then fails
raises the refresh alarm, which is how operators learn the limit was hit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.shared.changes import ChangesFeed
from components.shared.context import StackContext, child, stateful
from components.shared.dashboard import Widget
from components.shared.iam import kms_via, policy_json, role_with_policy
from components.shared.logs import log_group
from components.warehouse.network import REDSHIFT_PORT, EndpointPolicies, WarehouseNetwork, build_network
from components.warehouse.schedule import (
    DataApiTarget,
    RefreshAlarms,
    alarm_on_refresh_trouble,
    deploy_sql,
    refresh_db_user,
    refresh_role,
    run_at_deploy,
    schedule_daily_snapshots,
    schedule_refresh,
)
from settings import ProvisionedSettings, ServerlessSettings, WarehouseSettings
from sql.changes import CHANGES_PREFIX
from sql.lake import EVENTS_PREFIX

AUDIT_LOGS = ("connectionlog", "userlog", "useractivitylog")
# Both Redshift kinds: user activity is logged only with this switch on (besides the export), and
# every connection must use TLS.
DATABASE_PARAMETERS = {"enable_user_activity_logging": "true", "require_ssl": "true"}
USAGE_LIMIT_BREACH_ACTION = "deactivate"
# Every configuration parameter a new Serverless workgroup reports, at AWS's default. The provider
# reads all of them back, so declaring a subset is a permanent diff whose update AWS refuses ("You
# didn't specify any changes to the configuration parameters"): terraform-provider-aws #33692/#33916,
# pulumi-aws #4405 ("passing all the default config parameters will not cause this issue"); the set
# and values as harvested from a fresh workgroup (go-to-k/cdk-real-drift #1441). Ours override two.
SERVERLESS_DEFAULT_PARAMETERS = {
    "auto_mv": "true",
    "datestyle": "ISO, MDY",
    "enable_case_sensitive_identifier": "false",
    "enable_user_activity_logging": "true",
    "max_query_execution_time": "14400",
    "query_group": "default",
    "require_ssl": "true",
    "search_path": "$user, public",
    "use_fips_ssl": "false",
}
WORKGROUP_PARAMETERS = {**SERVERLESS_DEFAULT_PARAMETERS, **DATABASE_PARAMETERS}


@dataclass(frozen=True)
class WarehouseArgs:
    settings: WarehouseSettings
    context: StackContext
    lake_bucket_arn: pulumi.Input[str]
    """The lake bucket (from the lake tier)."""
    glue_database_name: pulumi.Input[str]
    """The stack's Glue database holding the `events` table (from the lake tier)."""
    changes: ChangesFeed | None = None
    """Replicated tables (the CDC tier): `dim_<entity>` models kept from their changes in the lake."""


@dataclass(frozen=True)
class _Redshift:
    target: DataApiTarget
    endpoint: pulumi.Output[str]
    ready: Sequence[pulumi.Resource]  # what must exist before SQL can run


class Warehouse(pulumi.ComponentResource):
    """Typed handles for other tiers (access, observability) and the stack outputs."""

    vpc_id: pulumi.Output[str]
    subnet_ids: list[pulumi.Output[str]]
    security_group_id: pulumi.Output[str]
    spectrum_role: aws.iam.Role
    _spectrum_grants: aws.iam.RolePolicy  # CREATE EXTERNAL SCHEMA reads Glue as the role: grants first
    spectrum_role_arn: pulumi.Output[str]
    name: pulumi.Output[str]  # the workgroup name, or the cluster identifier
    workgroup_name: pulumi.Output[str] | None  # Serverless only (dashboard: AWS/Redshift-Serverless Workgroup)
    cluster_identifier: pulumi.Output[str] | None  # provisioned only (dashboard: AWS/Redshift ClusterIdentifier)
    endpoint: pulumi.Output[str]  # host:port
    database_name: str
    admin_secret_arn: pulumi.Output[str]  # Redshift-managed admin credentials
    data_api_arn: pulumi.Output[str]  # the workgroup or cluster ARN, the resource of redshift-data actions
    refresh_schedule: aws.scheduler.Schedule
    schedule_group_name: pulumi.Output[str]
    alarms: RefreshAlarms

    def __init__(self, name: str, args: WarehouseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:warehouse:Warehouse", name, None, opts)
        settings, context = args.settings, args.context
        s3_reads, catalog_reads = lake_read_statements(args)
        network = build_network(
            self,
            context,
            settings.network,
            settings.required_subnets,
            EndpointPolicies(s3=s3_reads, glue=catalog_reads),
        )
        self.vpc_id, self.subnet_ids = network.vpc_id, network.subnet_ids
        self.security_group_id = network.security_group_id
        # Redshift documents no aws:SourceAccount on its AssumeRole; the role is usable only by a
        # namespace or cluster it is associated with (which needs iam:PassRole).
        self.spectrum_role, self._spectrum_grants = role_with_policy(
            self,
            context,
            "warehouse-spectrum",
            "redshift.amazonaws.com",
            [*s3_reads, *catalog_reads, _decrypt_lake(context)],
            "Redshift reads the lake's raw events and their Glue catalog (Spectrum, COPY)",
            trust_policy=spectrum_trust_policy(settings.mode),
        )
        self.spectrum_role_arn = self.spectrum_role.arn
        self.database_name = settings.database_name

        if settings.mode == "serverless":
            assert settings.serverless is not None  # settings guarantee it
            namespace, redshift = self._serverless(context, settings, settings.serverless, network)
        else:
            assert settings.provisioned is not None
            namespace, redshift = None, self._provisioned(context, settings, settings.provisioned, network)
        target = redshift.target
        self.name, self.endpoint, self.data_api_arn = target.name, redshift.endpoint, target.arn
        self.admin_secret_arn = target.admin_secret_arn
        self.workgroup_name, self.cluster_identifier = target.workgroup_name, target.cluster_identifier

        group = aws.scheduler.ScheduleGroup("warehouse-schedules", name=context.name("warehouse"), opts=child(self))
        self.schedule_group_name = group.name
        refresher = refresh_role(self, context, target)
        entities = tuple(args.changes.tables) if args.changes is not None else ()
        statements = deploy_sql(
            args.glue_database_name, self.spectrum_role_arn, refresh_db_user(context), settings.database_name, entities
        )
        schema_ready = run_at_deploy(self, target, statements, after=redshift.ready)
        self.refresh_schedule = schedule_refresh(
            self, context, settings.refresh, target, group, refresher, schema_ready, entities
        )
        self.alarms = alarm_on_refresh_trouble(self, context, group)
        if namespace is not None:
            schedule_daily_snapshots(self, context, namespace, settings.snapshot_retention_days, group)

        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "database_name": self.database_name,
                "spectrum_role_arn": self.spectrum_role_arn,
                "security_group_id": self.security_group_id,
                "vpc_id": self.vpc_id,
            }
        )

    # --- the tier contract -------------------------------------------------------------------------------

    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        return {"warehouse_endpoint": self.endpoint, "warehouse_database": self.database_name}

    def dashboard_widgets(self) -> Sequence[Widget]:
        if self.workgroup_name is not None:
            return [
                Widget("Warehouse: compute capacity (RPU)",
                       [["AWS/Redshift-Serverless", "ComputeCapacity", "Workgroup", self.workgroup_name]], "Maximum")
            ]  # fmt: skip
        cluster = ["ClusterIdentifier", self.cluster_identifier]
        return [
            Widget("Warehouse: CPU and connections",
                   [["AWS/Redshift", "CPUUtilization", *cluster], ["AWS/Redshift", "DatabaseConnections", *cluster]],
                   "Maximum")
        ]  # fmt: skip

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        return {
            "warehouse_mode": "serverless" if self.workgroup_name is not None else "provisioned",
            "warehouse_arn": self.data_api_arn,
            "warehouse_name": self.name,
            "warehouse_database": self.database_name,
        }

    def _audit_log_groups(self, context: StackContext, prefix: str) -> list[aws.cloudwatch.LogGroup]:
        """Created before Redshift exports to them, so they are encrypted and expire (Redshift's own never do)."""
        return [log_group(self, context, f"warehouse-audit-{log}", f"{prefix}/{log}") for log in AUDIT_LOGS]

    def _serverless(
        self,
        context: StackContext,
        settings: WarehouseSettings,
        capacity: ServerlessSettings,
        network: WarehouseNetwork,
    ) -> tuple[aws.redshiftserverless.Namespace, _Redshift]:
        name = context.name("warehouse")
        logs = self._audit_log_groups(context, f"/aws/redshift/{name}")
        namespace = aws.redshiftserverless.Namespace(
            "warehouse-namespace",
            namespace_name=name,
            db_name=settings.database_name,
            admin_username=settings.admin_username,
            manage_admin_password=True,
            admin_password_secret_kms_key_id=context.kms_key_arn,
            kms_key_id=context.kms_key_arn,
            iam_roles=[self.spectrum_role.arn],
            default_iam_role_arn=self.spectrum_role.arn,
            log_exports=list(AUDIT_LOGS),
            opts=stateful(self, context.protect_stateful, depends_on=logs),
        )
        workgroup = aws.redshiftserverless.Workgroup(
            "warehouse-workgroup",
            workgroup_name=name,
            namespace_name=namespace.namespace_name,
            base_capacity=capacity.base_capacity_rpu,
            max_capacity=capacity.max_capacity_rpu,
            publicly_accessible=False,
            enhanced_vpc_routing=True,
            subnet_ids=network.subnet_ids,
            security_group_ids=[network.security_group_id],
            port=REDSHIFT_PORT,
            config_parameters=[
                aws.redshiftserverless.WorkgroupConfigParameterArgs(parameter_key=key, parameter_value=value)
                for key, value in WORKGROUP_PARAMETERS.items()
            ],
            opts=child(self),
        )
        aws.redshiftserverless.UsageLimit(
            "warehouse-usage-limit",
            resource_arn=workgroup.arn,
            usage_type="serverless-compute",
            amount=capacity.usage_limit_rpu_hours,
            period="daily",
            breach_action=USAGE_LIMIT_BREACH_ACTION,
            opts=child(workgroup),
        )
        target = DataApiTarget(
            parameter="WorkgroupName",
            name=workgroup.workgroup_name,
            arn=workgroup.arn,
            database=settings.database_name,
            admin_secret_arn=namespace.admin_password_secret_arn,
            credentials_action="redshift-serverless:GetCredentials",
            credentials_arn=workgroup.arn,
        )
        endpoint = workgroup.endpoints.apply(lambda endpoints: f"{endpoints[0].address}:{endpoints[0].port}")
        ready = [workgroup, self._spectrum_grants, *network.spectrum_paths]
        return namespace, _Redshift(target=target, endpoint=endpoint, ready=ready)

    def _provisioned(
        self, context: StackContext, settings: WarehouseSettings, size: ProvisionedSettings, network: WarehouseNetwork
    ) -> _Redshift:
        name = context.name("warehouse")
        logs = self._audit_log_groups(context, f"/aws/redshift/cluster/{name}")
        subnet_group = aws.redshift.SubnetGroup(
            "warehouse-subnet-group",
            name=name,
            description=f"{name}: private subnets in distinct AZs",
            subnet_ids=network.subnet_ids,
            opts=child(self),
        )
        parameters = aws.redshift.ParameterGroup(
            "warehouse-parameters",
            name=name,
            family="redshift-2.0",
            description=f"{name}: TLS required, user activity logged",
            parameters=[
                aws.redshift.ParameterGroupParameterArgs(name=k, value=v) for k, v in DATABASE_PARAMETERS.items()
            ],
            opts=child(self),
        )
        protect = context.protect_stateful
        cluster = aws.redshift.Cluster(
            "warehouse-cluster",
            cluster_identifier=name,
            database_name=settings.database_name,
            master_username=settings.admin_username,
            manage_master_password=True,
            master_password_secret_kms_key_id=context.kms_key_arn,
            node_type=size.node_type,
            cluster_type="multi-node" if size.number_of_nodes > 1 else "single-node",
            number_of_nodes=size.number_of_nodes,
            cluster_subnet_group_name=subnet_group.name,
            cluster_parameter_group_name=parameters.name,
            vpc_security_group_ids=[network.security_group_id],
            publicly_accessible=False,
            encrypted="true",
            kms_key_id=context.kms_key_arn,
            enhanced_vpc_routing=True,
            automated_snapshot_retention_period=settings.snapshot_retention_days,
            availability_zone_relocation_enabled=True,
            iam_roles=[self.spectrum_role.arn],
            default_iam_role_arn=self.spectrum_role.arn,
            port=REDSHIFT_PORT,
            # A protected stack keeps a final snapshot if the cluster is ever deleted on purpose.
            skip_final_snapshot=not protect,
            final_snapshot_identifier=f"{name}-final" if protect else None,
            opts=stateful(self, protect),
        )
        audit = aws.redshift.Logging(
            "warehouse-audit-logging",
            cluster_identifier=cluster.cluster_identifier,
            log_destination_type="cloudwatch",
            log_exports=list(AUDIT_LOGS),
            opts=child(cluster, depends_on=logs),
        )
        target = DataApiTarget(
            parameter="ClusterIdentifier",
            name=cluster.cluster_identifier,
            arn=cluster.arn,
            database=settings.database_name,
            admin_secret_arn=cluster.master_password_secret_arn,
            credentials_action="redshift:GetClusterCredentialsWithIAM",
            credentials_arn=context.arn("redshift", f"dbname:{name}/{settings.database_name}"),
        )
        ready = [cluster, audit, self._spectrum_grants, *network.spectrum_paths]
        return _Redshift(target=target, endpoint=cluster.endpoint, ready=ready)


def spectrum_trust_services(mode: str) -> list[str]:
    """Who assumes the Spectrum role. Redshift Serverless needs both its own principal and Redshift's
    (Redshift Management Guide, "Amazon Redshift Serverless: IAM roles"/permissions for Redshift
    Serverless); a provisioned cluster assumes it as `redshift.amazonaws.com` only."""
    if mode == "serverless":
        return ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]
    return ["redshift.amazonaws.com"]


def spectrum_trust_policy(mode: str) -> pulumi.Output[str]:
    services = spectrum_trust_services(mode)
    principal = services[0] if len(services) == 1 else services
    return policy_json([{"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}])


def lake_read_statements(args: WarehouseArgs) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What Redshift may read of the lake: the raw events (and replicated tables' changes), and its Glue database."""
    bucket = args.lake_bucket_arn
    # The raw events, and with CDC on the replicated tables' changes: the only objects Redshift may read.
    prefixes = [EVENTS_PREFIX, *([CHANGES_PREFIX] if args.changes is not None else [])]
    s3: list[dict[str, Any]] = [
        {
            "Sid": "ReadRawEvents",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [pulumi.Output.concat(bucket, "/", prefix, "*") for prefix in prefixes]
            if len(prefixes) > 1
            else pulumi.Output.concat(bucket, "/", EVENTS_PREFIX, "*"),
        },
        {
            "Sid": "ListRawEvents",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
            "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}},
        },
        {
            # Spectrum looks up the bucket's region before reading (documented Spectrum minimum).
            "Sid": "LocateLakeBucket",
            "Effect": "Allow",
            "Action": "s3:GetBucketLocation",
            "Resource": bucket,
        },
    ]
    context = args.context
    catalog: list[dict[str, Any]] = [
        {
            "Sid": "ReadLakeCatalog",
            "Effect": "Allow",
            "Action": [
                "glue:GetDatabase",
                "glue:GetTable",
                "glue:GetTables",
                "glue:GetPartition",
                "glue:GetPartitions",
                "glue:BatchGetPartition",
            ],
            "Resource": [
                context.arn("glue", "catalog"),
                pulumi.Output.concat(context.arn("glue", "database/"), args.glue_database_name),
                pulumi.Output.concat(context.arn("glue", "table/"), args.glue_database_name, "/*"),
            ],
        }
    ]
    return s3, catalog


def _decrypt_lake(context: StackContext) -> dict[str, Any]:
    """Lake objects (and the catalog, if encrypted) use the platform key; only S3 and Glue may use it for us."""
    return {
        "Sid": "DecryptLakeThroughS3AndGlue",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": context.kms_key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": kms_via(context, "s3", "glue")}},
    }
