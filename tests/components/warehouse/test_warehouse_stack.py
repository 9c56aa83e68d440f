"""The warehouse tier under mocks, from the real stack files: Redshift, its network, roles and schedule.

The Platform builds the warehouse after the lake and hands it the lake bucket's ARN and the
Glue database's name.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, cast

import pulumi
import pulumi_aws as aws
import pytest

from components.warehouse import schedule
from components.warehouse.schedule import STATEMENT_READ_BACK, DataApiTarget, deploy_sql
from settings import Settings, load_settings
from sql.redshift import (
    DeployParameters,
    RefreshParameters,
    deploy_statements,
    refresh_statements,
    stage_procedure,
    table_names,
)
from tests.support.config import config_with, problems_for, raw_config
from tests.support.harness import Resource, StackRun, run_stack
from tests.support.tokens import WAREHOUSE, type_token
from tools.engine.mocks import ACCOUNT_ID, accepts_tags, load_stack_config
from tools.local import REGION

AUDIT_LOGS = ["connectionlog", "userlog", "useractivitylog"]
ALLOWED_PASSWORD_KEYS = {
    "manageAdminPassword",
    "adminPasswordSecretKmsKeyId",
    "manageMasterPassword",
    "masterPasswordSecretKmsKeyId",
    # The live tier's user pool: the rules its users' passwords follow, never a password.
    "passwordPolicy",
    "temporaryPasswordValidityDays",
}


def warehouse_stack(stack: str, overrides: Mapping[str, Any] | None = None) -> StackRun:
    return run_stack(stack, overrides)


def settings_of(stack: str) -> Settings:
    return load_settings(raw_config(stack), stack)


def provisioned(stack: str, nodes: int) -> dict[str, Any]:
    """The stack's warehouse config switched to a provisioned cluster."""
    config = copy.deepcopy(load_stack_config(stack)["uba:warehouse"])
    config.pop("serverless")
    config.update(mode="provisioned", provisioned={"node_type": "ra3.xlplus", "number_of_nodes": nodes})
    return {"uba:warehouse": config}


EXISTING_SUBNETS = ["subnet-0a1", "subnet-0b2", "subnet-0c3"]
EXISTING_VPC = {
    "uba:warehouse": {
        **load_stack_config("dev")["uba:warehouse"],
        "network": {
            "existing_vpc_id": "vpc-0abc123",
            "existing_subnet_ids": EXISTING_SUBNETS,
            "allowed_security_group_ids": ["sg-0b1", "sg-0b2"],
        },
    }
}


@pytest.fixture(scope="module")
def dev() -> StackRun:
    return warehouse_stack("dev")


@pytest.fixture(scope="module")
def prod() -> StackRun:
    return warehouse_stack("prod")


@pytest.fixture(scope="module")
def cluster() -> StackRun:
    """Prod (protected data) with a two-node cluster instead of Serverless."""
    return warehouse_stack("prod", provisioned("prod", nodes=2))


def key_arn(run: StackRun) -> str:
    return str(run.one(type_token(aws.kms.Key), "platform-key").state["arn"])


def ops_topic_arn(run: StackRun) -> str:
    return str(run.one(type_token(aws.sns.Topic), "ops-topic").state["arn"])


def statements_by_sid(run: StackRun, role: Resource) -> dict[str, dict[str, Any]]:
    policy = run.policy(next(r for r in run.children(role) if r.type == type_token(aws.iam.RolePolicy)))
    return {s["Sid"]: s for s in policy["Statement"]}


def in_order(run: StackRun, type_token: str) -> list[Resource]:
    """Resources of a type by logical name (`warehouse-subnet-0`, `-1`, ...): registration order is async."""
    return sorted(run.of_type(type_token), key=lambda resource: resource.name)


SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret property value


def unsecret(value: Any) -> Any:
    return value["value"] if isinstance(value, Mapping) and SECRET_SIGNATURE in value else value


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key path, value) in a nested input, so a test can look at all of them."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield f"{path}.{key}", item
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


# --- Redshift Serverless from the stack files ---------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_serverless_capacity_and_daily_usage_limit_come_from_the_stack_file(stack: str) -> None:
    run = warehouse_stack(stack)
    capacity = settings_of(stack).warehouse.serverless
    assert capacity is not None
    workgroup = run.one(type_token(aws.redshiftserverless.Workgroup))
    assert workgroup.inputs["workgroupName"] == f"uba-{stack}-warehouse"
    assert workgroup.inputs["baseCapacity"] == capacity.base_capacity_rpu
    assert workgroup.inputs["maxCapacity"] == capacity.max_capacity_rpu
    limit = run.one(type_token(aws.redshiftserverless.UsageLimit))
    assert limit.inputs == {
        "resourceArn": workgroup.state["arn"],
        "usageType": "serverless-compute",
        "amount": capacity.usage_limit_rpu_hours,
        "period": "daily",
        "breachAction": "deactivate",
    }
    assert not run.of_type(type_token(aws.redshift.Cluster))


def test_prod_gets_more_capacity_and_a_larger_budget_than_dev(dev: StackRun, prod: StackRun) -> None:
    def capacity(run: StackRun) -> tuple[float, float, float]:
        workgroup = run.one(type_token(aws.redshiftserverless.Workgroup)).inputs
        limit = run.one(type_token(aws.redshiftserverless.UsageLimit)).inputs
        return workgroup["baseCapacity"], workgroup["maxCapacity"], limit["amount"]

    assert all(p > d for p, d in zip(capacity(prod), capacity(dev), strict=True))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_namespace_is_encrypted_private_audited_and_keeps_no_password(stack: str) -> None:
    run = warehouse_stack(stack)
    namespace = run.one(type_token(aws.redshiftserverless.Namespace))
    spectrum = run.one(type_token(aws.iam.Role), "warehouse-spectrum").state["arn"]
    assert namespace.inputs["namespaceName"] == f"uba-{stack}-warehouse"
    assert namespace.inputs["kmsKeyId"] == key_arn(run)
    assert namespace.inputs["manageAdminPassword"] is True
    assert namespace.inputs["adminPasswordSecretKmsKeyId"] == key_arn(run)
    # The provider marks the admin user name secret, so it reaches the engine wrapped.
    assert unsecret(namespace.inputs["adminUsername"]) == "uba_admin" and namespace.inputs["dbName"] == "analytics"
    assert namespace.inputs["logExports"] == AUDIT_LOGS
    assert namespace.inputs["iamRoles"] == [spectrum] and namespace.inputs["defaultIamRoleArn"] == spectrum
    workgroup = run.one(type_token(aws.redshiftserverless.Workgroup)).inputs
    assert workgroup["publiclyAccessible"] is False and workgroup["enhancedVpcRouting"] is True
    # User activity is logged only with the parameter on; every client must use TLS.
    parameters = {p["parameterKey"]: p["parameterValue"] for p in workgroup["configParameters"]}
    assert len(parameters) == len(workgroup["configParameters"])
    assert parameters["enable_user_activity_logging"] == "true" and parameters["require_ssl"] == "true"


# What a freshly created Serverless workgroup reports in ConfigParameters (harvested from AWS in
# go-to-k/cdk-real-drift #1441; pulumi-aws #4405). Written out here, not imported, so the test states AWS.
AWS_REPORTED_WORKGROUP_PARAMETERS = {
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


def _provider_parameter_keys() -> set[str]:
    """The keys pulumi-aws documents for a workgroup's config parameter (the provider validates against them)."""
    doc = aws.redshiftserverless.WorkgroupConfigParameterArgs.__init__.__doc__ or ""
    return set(re.findall(r"`([a-z_]+)`", doc.split("parameter_key:", 1)[1].split(":param", 1)[0]))


def test_the_workgroup_declares_every_parameter_aws_reports_so_a_refresh_sees_no_diff(dev: StackRun) -> None:
    # A subset is a permanent diff, and the update it plans fails with "You didn't specify any changes
    # to the configuration parameters" (terraform-provider-aws #33692, #33916; pulumi-aws #4405).
    declared = {p["parameterKey"]: p["parameterValue"]
                for p in dev.one(type_token(aws.redshiftserverless.Workgroup)).inputs["configParameters"]}  # fmt: skip
    assert declared.keys() == AWS_REPORTED_WORKGROUP_PARAMETERS.keys()
    assert declared.keys() <= _provider_parameter_keys()
    # Only our two overrides differ from AWS's defaults (both happen to be the defaults today).
    changed = {key for key, value in declared.items() if AWS_REPORTED_WORKGROUP_PARAMETERS[key] != value}
    assert changed <= {"enable_user_activity_logging", "require_ssl"}


@pytest.mark.parametrize("overrides", [None, provisioned("dev", nodes=1)], ids=["serverless", "cluster"])
def test_no_password_is_an_input_anywhere(overrides: dict[str, Any] | None) -> None:
    run = warehouse_stack("dev", overrides)
    for resource in run.custom():
        for path, _ in walk(resource.inputs):
            key = path.rsplit(".", 1)[-1]
            if "password" in key.lower():
                assert key in ALLOWED_PASSWORD_KEYS, f"{resource.urn} has password input {path}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_audit_logs_go_to_encrypted_log_groups_with_the_stack_retention(stack: str) -> None:
    run = warehouse_stack(stack)
    namespace = run.one(type_token(aws.redshiftserverless.Namespace))
    for log in AUDIT_LOGS:
        group = run.one(type_token(aws.cloudwatch.LogGroup), f"warehouse-audit-{log}")
        # Redshift Serverless exports to /aws/redshift/<namespace>/<log>; created first, it is ours.
        assert group.inputs["name"] == f"/aws/redshift/uba-{stack}-warehouse/{log}"
        assert group.inputs["kmsKeyId"] == key_arn(run)
        assert group.inputs["retentionInDays"] == settings_of(stack).platform.log_retention_days
        assert group.urn in namespace.depends_on


def test_namespace_holds_the_data_so_it_is_protected_in_prod_only(dev: StackRun, prod: StackRun) -> None:
    prod_namespace = prod.one(type_token(aws.redshiftserverless.Namespace))
    assert prod_namespace.protect and prod_namespace.retain_on_delete
    assert not dev.one(type_token(aws.redshiftserverless.Namespace)).protect
    assert not prod.one(type_token(aws.redshiftserverless.Workgroup)).protect  # compute only; no data


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_serverless_keeps_a_daily_snapshot_for_the_stack_retention(stack: str) -> None:
    run = warehouse_stack(stack)
    schedule = run.one(type_token(aws.scheduler.Schedule), "warehouse-snapshot-schedule")
    target = schedule.inputs["target"]
    assert target["arn"] == "arn:aws:scheduler:::aws-sdk:redshiftserverless:createSnapshot"
    assert json.loads(target["input"]) == {
        "namespaceName": f"uba-{stack}-warehouse",
        "snapshotName": f"uba-{stack}-daily-<aws.scheduler.execution-id>",
        "retentionPeriod": settings_of(stack).warehouse.snapshot_retention_days,
    }
    assert schedule.inputs["scheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule.inputs["kmsKeyArn"] == key_arn(run)
    snapshots = run.one(type_token(aws.iam.Role), "warehouse-snapshots")
    assert target["roleArn"] == snapshots.state["arn"]
    namespace = run.one(type_token(aws.redshiftserverless.Namespace))
    assert statements_by_sid(run, snapshots) == {
        "SnapshotThisNamespace": {
            "Sid": "SnapshotThisNamespace",
            "Effect": "Allow",
            "Action": "redshift-serverless:CreateSnapshot",
            "Resource": [namespace.state["arn"], f"arn:aws:redshift-serverless:{REGION}:{ACCOUNT_ID}:snapshot/*"],
        },
        "DecryptSchedulePayload": {
            "Sid": "DecryptSchedulePayload",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn(run),
        },
    }


def test_outputs_name_the_endpoint_database_role_and_network(dev: StackRun) -> None:
    outputs = dev.outputs
    assert outputs["warehouse_endpoint"] == (
        f"uba-dev-warehouse.{ACCOUNT_ID}.{REGION}.redshift-serverless.amazonaws.com:5439"
    )
    assert outputs["warehouse_database"] == "analytics"
    assert dev.one(type_token(aws.redshiftserverless.Workgroup)).inputs["workgroupName"] == "uba-dev-warehouse"
    assert not dev.of_type(type_token(aws.redshift.Cluster))
    spectrum = dev.one(type_token(aws.iam.Role), "warehouse-spectrum")
    assert spectrum.state["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/uba-dev-warehouse-spectrum"


# --- the provisioned cluster option -------------------------------------------------------------------


def test_cluster_is_encrypted_private_audited_and_password_managed(cluster: StackRun) -> None:
    resource = cluster.one(type_token(aws.redshift.Cluster))
    inputs = resource.inputs
    spectrum = cluster.one(type_token(aws.iam.Role), "warehouse-spectrum").state["arn"]
    expected = {
        "clusterIdentifier": "uba-prod-warehouse",
        "nodeType": "ra3.xlplus",
        "clusterType": "multi-node",
        "numberOfNodes": 2,
        "encrypted": "true",
        "kmsKeyId": key_arn(cluster),
        "publiclyAccessible": False,
        "enhancedVpcRouting": True,
        "manageMasterPassword": True,
        "masterPasswordSecretKmsKeyId": key_arn(cluster),
        "automatedSnapshotRetentionPeriod": settings_of("prod").warehouse.snapshot_retention_days,
        "availabilityZoneRelocationEnabled": True,
        "iamRoles": [spectrum],
        "defaultIamRoleArn": spectrum,
        "port": 5439,
        "skipFinalSnapshot": False,
        "finalSnapshotIdentifier": "uba-prod-warehouse-final",
    }
    assert {key: inputs.get(key) for key in expected} == expected
    assert resource.protect and resource.retain_on_delete
    assert "masterPassword" not in inputs
    assert cluster.outputs["warehouse_endpoint"].startswith("uba-prod-warehouse.")
    assert not cluster.of_type(type_token(aws.redshiftserverless.Workgroup))
    parameters = cluster.one(type_token(aws.redshift.ParameterGroup)).inputs
    assert inputs["clusterParameterGroupName"] == parameters["name"]
    assert {(p["name"], p["value"]) for p in parameters["parameters"]} == {
        ("enable_user_activity_logging", "true"),
        ("require_ssl", "true"),
    }
    logging = cluster.one(type_token(aws.redshift.Logging)).inputs
    assert logging == {"clusterIdentifier": "uba-prod-warehouse", "logDestinationType": "cloudwatch",
                       "logExports": AUDIT_LOGS}  # fmt: skip
    for log in AUDIT_LOGS:
        group = cluster.one(type_token(aws.cloudwatch.LogGroup), f"warehouse-audit-{log}").inputs
        assert group["name"] == f"/aws/redshift/cluster/uba-prod-warehouse/{log}"
        assert group["kmsKeyId"] == key_arn(cluster)
    assert not cluster.of_type(type_token(aws.redshiftserverless.Namespace))
    # Automated snapshots replace the Serverless snapshot schedule.
    assert [s.name for s in cluster.of_type(type_token(aws.scheduler.Schedule))] == ["warehouse-refresh-schedule"]


def test_dev_cluster_is_single_node_unprotected_and_skips_the_final_snapshot() -> None:
    run = warehouse_stack("dev", provisioned("dev", nodes=1))
    resource = run.one(type_token(aws.redshift.Cluster))
    assert resource.inputs["clusterType"] == "single-node" and resource.inputs["numberOfNodes"] == 1
    assert resource.inputs["skipFinalSnapshot"] is True and "finalSnapshotIdentifier" not in resource.inputs
    assert not resource.protect


def test_cluster_subnet_group_spans_two_private_subnets_in_distinct_zones(cluster: StackRun) -> None:
    group = cluster.one(type_token(aws.redshift.SubnetGroup))
    subnets = in_order(cluster, type_token(aws.ec2.Subnet))
    assert len(subnets) == settings_of("prod").warehouse.model_copy(update={"mode": "provisioned"}).required_subnets
    assert group.inputs["subnetIds"] == [s.state["id"] for s in subnets]
    assert len({s.inputs["availabilityZone"] for s in subnets}) == 2
    assert cluster.one(type_token(aws.redshift.Cluster)).inputs["clusterSubnetGroupName"] == group.inputs["name"]


def test_cluster_refresh_signs_in_with_iam_to_this_database_only(cluster: StackRun) -> None:
    resource = cluster.one(type_token(aws.redshift.Cluster))
    statements = statements_by_sid(cluster, cluster.one(type_token(aws.iam.Role), "warehouse-refresh"))
    assert statements["SubmitTheRefresh"]["Resource"] == resource.state["arn"]
    assert statements["SignInAsTheRefreshUser"] == {
        "Sid": "SignInAsTheRefreshUser",
        "Effect": "Allow",
        "Action": "redshift:GetClusterCredentialsWithIAM",
        "Resource": f"arn:aws:redshift:{REGION}:{ACCOUNT_ID}:dbname:uba-prod-warehouse/analytics",
    }
    request = json.loads(cluster.one(type_token(aws.scheduler.Schedule), "warehouse-refresh-schedule")
                         .inputs["target"]["input"])  # fmt: skip
    assert request["ClusterIdentifier"] == "uba-prod-warehouse" and "WorkgroupName" not in request
    for statement in in_order(cluster, type_token(aws.redshiftdata.Statement)):
        assert statement.inputs["clusterIdentifier"] == "uba-prod-warehouse"
        assert statement.inputs["secretArn"] == resource.state["masterPasswordSecretArn"]


# --- the network --------------------------------------------------------------------------------------


@pytest.mark.parametrize("overrides", [None, provisioned("dev", nodes=1)], ids=["serverless", "cluster"])
def test_network_has_no_way_to_the_internet(overrides: dict[str, Any] | None) -> None:
    run = warehouse_stack("dev", overrides)
    types = {r.type for r in run.resources}
    for forbidden in ("internetGateway", "natGateway", "eip", "egressOnlyInternetGateway", "ec2/route:Route"):
        assert not any(forbidden in t for t in types), forbidden
    routes = run.one(type_token(aws.ec2.RouteTable))
    assert not routes.inputs.get("routes")
    subnets = in_order(run, type_token(aws.ec2.Subnet))
    associations = run.of_type(type_token(aws.ec2.RouteTableAssociation))
    assert sorted(a.inputs["subnetId"] for a in associations) == sorted(s.state["id"] for s in subnets)
    assert all(a.inputs["routeTableId"] == routes.state["id"] for a in associations)
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_subnets_are_carved_from_the_vpc_cidr_one_per_zone(stack: str) -> None:
    run = warehouse_stack(stack)
    network = settings_of(stack).warehouse.network
    vpc = run.one(type_token(aws.ec2.Vpc))
    assert vpc.inputs["cidrBlock"] == network.vpc_cidr
    assert vpc.inputs["enableDnsSupport"] is True and vpc.inputs["enableDnsHostnames"] is True
    subnets = in_order(run, type_token(aws.ec2.Subnet))
    blocks = [ipaddress.IPv4Network(s.inputs["cidrBlock"]) for s in subnets]
    assert len(subnets) == 3 and all(b.subnet_of(ipaddress.IPv4Network(network.vpc_cidr)) for b in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
    assert [s.inputs["availabilityZone"] for s in subnets] == [f"{REGION}{z}" for z in "abc"]
    workgroup = run.one(type_token(aws.redshiftserverless.Workgroup))
    assert workgroup.inputs["subnetIds"] == [s.state["id"] for s in subnets]


def test_only_configured_clients_reach_port_5439_and_egress_is_https_to_s3_and_glue(dev: StackRun) -> None:
    group = dev.one(type_token(aws.ec2.SecurityGroup), "warehouse-sg")
    assert "ingress" not in group.inputs and "egress" not in group.inputs  # no inline rules, no default egress
    ingress = [r.inputs for r in in_order(dev, type_token(aws.vpc.SecurityGroupIngressRule))
               if r.inputs["securityGroupId"] == group.state["id"]]  # fmt: skip
    allowed = settings_of("dev").warehouse.network.allowed_cidrs
    assert [(r["ipProtocol"], r["fromPort"], r["toPort"], r.get("cidrIpv4")) for r in ingress] == [
        ("tcp", 5439, 5439, cidr) for cidr in allowed
    ]
    endpoints_group = dev.one(type_token(aws.ec2.SecurityGroup), "warehouse-endpoints-sg")
    egress = {r.name: r.inputs for r in dev.of_type(type_token(aws.vpc.SecurityGroupEgressRule))}
    assert set(egress) == {"warehouse-egress-s3", "warehouse-egress-glue"}
    assert all(r["securityGroupId"] == group.state["id"] for r in egress.values())
    assert all((r["ipProtocol"], r["fromPort"], r["toPort"]) == ("tcp", 443, 443) for r in egress.values())
    assert egress["warehouse-egress-s3"]["prefixListId"].startswith("pl-")
    assert egress["warehouse-egress-glue"]["referencedSecurityGroupId"] == endpoints_group.state["id"]
    endpoint_ingress = dev.one(type_token(aws.vpc.SecurityGroupIngressRule),
                               "warehouse-endpoints-from-warehouse").inputs  # fmt: skip
    assert endpoint_ingress["referencedSecurityGroupId"] == group.state["id"] and endpoint_ingress["fromPort"] == 443
    assert dev.one(type_token(aws.ec2.DefaultSecurityGroup)).inputs == {
        "vpcId": dev.one(type_token(aws.ec2.Vpc)).state["id"]
    }  # no rules: the default group admits nothing


@pytest.mark.parametrize("overrides", [None, provisioned("prod", 2), EXISTING_VPC], ids=["created", "cluster", "vpc"])
def test_nothing_is_open_to_the_whole_internet(overrides: dict[str, Any] | None) -> None:
    run = warehouse_stack("prod" if overrides is not EXISTING_VPC else "dev", overrides)
    for resource in run.custom():
        for path, value in walk(resource.inputs):
            assert value not in ("0.0.0.0/0", "::/0"), f"{resource.urn} opens {path} to everyone"


def test_spectrum_reaches_s3_and_glue_through_endpoints_that_allow_only_the_lake(dev: StackRun) -> None:
    routes = dev.one(type_token(aws.ec2.RouteTable))
    s3 = dev.one(type_token(aws.ec2.VpcEndpoint), "warehouse-s3-endpoint").inputs
    assert s3["serviceName"] == f"com.amazonaws.{REGION}.s3" and s3["vpcEndpointType"] == "Gateway"
    assert s3["routeTableIds"] == [routes.state["id"]]
    lake = f"arn:aws:s3:::uba-dev-lake-{ACCOUNT_ID}"
    s3_policy = json.loads(s3["policy"])["Statement"]
    assert {(s["Action"], s["Resource"]) for s in s3_policy} == {
        ("s3:GetObject", f"{lake}/events/*"),
        ("s3:ListBucket", lake),
        ("s3:GetBucketLocation", lake),
    }
    assert all(s["Principal"] == "*" and s["Effect"] == "Allow" for s in s3_policy)
    glue = dev.one(type_token(aws.ec2.VpcEndpoint), "warehouse-glue-endpoint").inputs
    assert glue["serviceName"] == f"com.amazonaws.{REGION}.glue" and glue["vpcEndpointType"] == "Interface"
    assert glue["privateDnsEnabled"] is True
    assert glue["subnetIds"] == [s.state["id"] for s in in_order(dev, type_token(aws.ec2.Subnet))]
    assert glue["securityGroupIds"] == [dev.one(type_token(aws.ec2.SecurityGroup), "warehouse-endpoints-sg")
                                        .state["id"]]  # fmt: skip
    (glue_statement,) = json.loads(glue["policy"])["Statement"]
    assert glue_statement["Resource"][1:] == [
        f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:database/uba_dev_lake",
        f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:table/uba_dev_lake/*",
    ]


def test_an_existing_vpc_gets_only_the_security_group() -> None:
    run = warehouse_stack("dev", EXISTING_VPC)
    for kind in ("vpc:Vpc", "subnet:Subnet", "routeTable:RouteTable", "vpcEndpoint:VpcEndpoint"):
        assert not run.of_type(f"aws:ec2/{kind}"), kind
    group = run.one(type_token(aws.ec2.SecurityGroup), "warehouse-sg")
    assert group.inputs["vpcId"] == "vpc-0abc123"
    workgroup = run.one(type_token(aws.redshiftserverless.Workgroup)).inputs
    assert workgroup["subnetIds"] == EXISTING_SUBNETS and workgroup["securityGroupIds"] == [group.state["id"]]
    ingress = [r.inputs["referencedSecurityGroupId"]
               for r in in_order(run, type_token(aws.vpc.SecurityGroupIngressRule))]  # fmt: skip
    assert ingress == ["sg-0b1", "sg-0b2"]
    egress = {r.name: r.inputs for r in run.of_type(type_token(aws.vpc.SecurityGroupEgressRule))}
    assert egress["warehouse-egress-vpc"]["cidrIpv4"] == "10.99.0.0/16"  # the VPC's own CIDR (mock lookup)
    assert egress["warehouse-egress-s3"]["prefixListId"].startswith("pl-")
    assert not run.of_type(type_token(aws.ec2.Vpc))  # the existing VPC is used, not a new one


# --- roles: exact grants ------------------------------------------------------------------------------


def test_spectrum_role_is_trusted_by_the_redshift_that_assumes_it(dev: StackRun, cluster: StackRun) -> None:
    # Serverless assumes the role as redshift-serverless.amazonaws.com too (Redshift Management Guide,
    # permissions for Redshift Serverless): trusting redshift.amazonaws.com alone breaks CREATE EXTERNAL SCHEMA.
    serverless = dev.one(type_token(aws.iam.Role), "warehouse-spectrum")
    assert dev.policy(serverless, "assumeRolePolicy")["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"]},
         "Action": "sts:AssumeRole"}
    ]  # fmt: skip
    provisioned = cluster.one(type_token(aws.iam.Role), "warehouse-spectrum")
    assert cluster.policy(provisioned, "assumeRolePolicy")["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "redshift.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]


def test_spectrum_role_reads_only_the_raw_events(dev: StackRun) -> None:
    role = dev.one(type_token(aws.iam.Role), "warehouse-spectrum")
    lake = f"arn:aws:s3:::uba-dev-lake-{ACCOUNT_ID}"
    assert statements_by_sid(dev, role) == {
        "ReadRawEvents": {"Sid": "ReadRawEvents", "Effect": "Allow", "Action": "s3:GetObject",
                          "Resource": f"{lake}/events/*"},
        "ListRawEvents": {"Sid": "ListRawEvents", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": lake,
                          "Condition": {"StringLike": {"s3:prefix": ["events/*"]}}},
        "LocateLakeBucket": {"Sid": "LocateLakeBucket", "Effect": "Allow", "Action": "s3:GetBucketLocation",
                             "Resource": lake},
        "ReadLakeCatalog": {
            "Sid": "ReadLakeCatalog",
            "Effect": "Allow",
            "Action": ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition",
                       "glue:GetPartitions", "glue:BatchGetPartition"],
            "Resource": [
                f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:catalog",
                f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:database/uba_dev_lake",
                f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:table/uba_dev_lake/*",
            ],
        },
        "DecryptLakeThroughS3AndGlue": {
            "Sid": "DecryptLakeThroughS3AndGlue",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn(dev),
            "Condition": {"StringEquals": {"kms:ViaService": [f"s3.{REGION}.amazonaws.com",
                                                               f"glue.{REGION}.amazonaws.com"]}},
        },
    }  # fmt: skip


def test_refresh_role_submits_to_this_workgroup_and_signs_in_as_itself(dev: StackRun) -> None:
    role = dev.one(type_token(aws.iam.Role), "warehouse-refresh")
    assert role.inputs["name"] == "uba-dev-warehouse-refresh"
    assert dev.policy(role, "assumeRolePolicy")["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
        }
    ]
    workgroup = dev.one(type_token(aws.redshiftserverless.Workgroup)).state["arn"]
    assert statements_by_sid(dev, role) == {
        "SubmitTheRefresh": {"Sid": "SubmitTheRefresh", "Effect": "Allow",
                             "Action": "redshift-data:BatchExecuteStatement", "Resource": workgroup},
        "SignInAsTheRefreshUser": {"Sid": "SignInAsTheRefreshUser", "Effect": "Allow",
                                   "Action": "redshift-serverless:GetCredentials", "Resource": workgroup},
        "DecryptSchedulePayload": {"Sid": "DecryptSchedulePayload", "Effect": "Allow", "Action": "kms:Decrypt",
                                   "Resource": key_arn(dev)},
    }  # fmt: skip


# --- deploy-time SQL and the schedule -----------------------------------------------------------------


def statement_chain(run: StackRun) -> list[Resource]:
    """The deploy-time statements in the order they run: each waits for the one before."""
    statements = {r.urn: r for r in run.of_type(type_token(aws.redshiftdata.Statement))}
    waits_for = {urn: [d for d in r.depends_on if d in statements] for urn, r in statements.items()}
    (first,) = [urn for urn, before in waits_for.items() if not before]
    chain = [first]
    while nexts := [urn for urn, before in waits_for.items() if before == [chain[-1]]]:
        (following,) = nexts
        chain.append(following)
    assert len(chain) == len(statements), "the statements do not form one chain"
    return [statements[urn] for urn in chain]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_ddl_runs_at_deploy_in_file_order_as_the_admin_then_grants_the_refresh_user(stack: str) -> None:
    run = warehouse_stack(stack)
    statements = statement_chain(run)
    namespace = run.one(type_token(aws.redshiftserverless.Namespace))
    spectrum = run.one(type_token(aws.iam.Role), "warehouse-spectrum").state["arn"]
    ddl = deploy_statements(DeployParameters(glue_database=f"uba_{stack}_lake", spectrum_role_arn=spectrum))
    user = f'"IAMR:uba-{stack}-warehouse-refresh"'
    sqls = [s.inputs["sql"] for s in statements]
    assert sqls[: len(ddl)] == ddl
    # The refresh's lake read, as the procedure its step 2 calls, once the tables exist.
    assert sqls[len(ddl)] == stage_procedure()
    assert sqls[len(ddl) + 1].startswith("CREATE OR REPLACE PROCEDURE uba_create_user_once(user_name VARCHAR)")
    assert sqls[len(ddl) + 2 :] == [
        f"CALL uba_create_user_once('IAMR:uba-{stack}-warehouse-refresh')",
        f"GRANT USAGE ON SCHEMA ods TO {user}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {', '.join(table_names())} TO {user}",
        f"GRANT TEMP ON DATABASE analytics TO {user}",
        f"GRANT EXECUTE ON PROCEDURE uba_stage_lake_events() TO {user}",
    ]
    for statement in statements:
        assert statement.inputs["workgroupName"] == f"uba-{stack}-warehouse"
        assert statement.inputs["database"] == "analytics"
        assert statement.inputs["secretArn"] == namespace.state["adminPasswordSecretArn"]
    workgroup = run.one(type_token(aws.redshiftserverless.Workgroup))
    spectrum_grants = run.one(type_token(aws.iam.RolePolicy), "warehouse-spectrum-policy")
    assert {workgroup.urn, spectrum_grants.urn} <= set(statements[0].depends_on)


@pytest.mark.parametrize("overrides", [None, provisioned("prod", 2), EXISTING_VPC], ids=["created", "cluster", "vpc"])
def test_the_external_schema_waits_for_every_path_spectrum_takes(overrides: dict[str, Any] | None) -> None:
    # With enhanced VPC routing, CREATE EXTERNAL SCHEMA reaches Glue only through the interface
    # endpoint and the security-group rules: created after them, it cannot fail on a half-built network.
    run = warehouse_stack("prod" if overrides is not EXISTING_VPC else "dev", overrides)
    first = statement_chain(run)[0]
    assert first.inputs["sql"].startswith("CREATE EXTERNAL SCHEMA IF NOT EXISTS ods")
    paths = [*run.of_type(type_token(aws.vpc.SecurityGroupEgressRule)),
             *run.of_type(type_token(aws.ec2.VpcEndpoint))]  # fmt: skip
    # The warehouse's own rules and endpoints: the BI tier's QuickSight rules and the search tier's, in the
    # same VPC, are not Spectrum's paths.
    paths = [r for r in paths if r.name.startswith("warehouse-")]
    if overrides is not EXISTING_VPC:
        paths.append(run.one(type_token(aws.vpc.SecurityGroupIngressRule), "warehouse-endpoints-from-warehouse"))
        assert {r.name for r in paths} >= {"warehouse-glue-endpoint", "warehouse-s3-endpoint"}
    assert {r.name for r in paths} >= {"warehouse-egress-s3"}
    missing = [r.name for r in paths if r.urn not in first.depends_on]
    assert not missing, f"CREATE EXTERNAL SCHEMA does not wait for {missing}"


# The forms of a statement that change nothing when they run a second time.
SAFE_TO_RUN_TWICE = re.compile(
    r"^(CREATE (EXTERNAL SCHEMA|TABLE) IF NOT EXISTS |CREATE OR REPLACE PROCEDURE |GRANT |CALL uba_create_user_once\()"
)


def test_every_deploy_statement_is_safe_to_run_twice(dev: StackRun) -> None:
    # A lost or re-created Statement re-runs its SQL: CREATE USER "IAMR:..." would fail the second time.
    sqls = [s.inputs["sql"] for s in statement_chain(dev)]
    unsafe = [sql[:60] for sql in sqls if not SAFE_TO_RUN_TWICE.match(sql)]
    assert not unsafe, f"not safe to run twice: {unsafe}"
    (procedure,) = [sql for sql in sqls if sql.startswith("CREATE OR REPLACE PROCEDURE uba_create_user_once")]
    guard, create = procedure.index("PERFORM 1 FROM pg_user WHERE usename = user_name"), procedure.index("CREATE USER")
    assert guard < procedure.index("IF NOT FOUND THEN") < create < procedure.index("END IF;")
    assert sqls.index(procedure) < sqls.index("CALL uba_create_user_once('IAMR:uba-dev-warehouse-refresh')")


def _deploy_statement_options() -> list[pulumi.ResourceOptions]:
    """The options `run_at_deploy` gives each Statement (the mocks do not record ignore_changes)."""
    recorded: list[pulumi.ResourceOptions] = []

    class RecordingStatement(pulumi.Resource):  # a Resource by type only: it registers nothing
        def __init__(self, name: str, opts: pulumi.ResourceOptions, **inputs: Any) -> None:
            recorded.append(opts)

    target = DataApiTarget(
        parameter="WorkgroupName", name=pulumi.Output.from_input("wg"), arn=pulumi.Output.from_input("arn"),
        database="analytics", admin_secret_arn=pulumi.Output.from_input("secret"),
        credentials_action="redshift-serverless:GetCredentials", credentials_arn=pulumi.Output.from_input("arn"),
    )  # fmt: skip
    statements = deploy_sql("uba_dev_lake", "arn:aws:iam::1:role/r", "IAMR:x", "analytics")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schedule.aws.redshiftdata, "Statement", RecordingStatement)
        schedule.run_at_deploy(cast(pulumi.Resource, None), target, statements, after=[])
    assert len(recorded) == len(statements)
    return recorded


def test_a_refresh_that_reads_back_expired_statements_plans_no_change(dev: StackRun) -> None:
    # After about a day DescribeStatement no longer knows a statement, so a refresh reads every
    # argument back empty; every argument forces replacement. The engine keeps the stored value of an
    # ignored input, so a Statement plans no change only if every argument it has is ignored.
    arguments = {
        "".join(part.capitalize() if i else part for i, part in enumerate(name.split("_")))
        for name in inspect.signature(aws.redshiftdata.Statement._internal_init).parameters
        if name not in ("__self__", "resource_name", "opts", "__props__")
    }
    assert set(STATEMENT_READ_BACK) == arguments
    statements = statement_chain(dev)
    for statement in statements:
        assert set(statement.inputs) <= arguments
    # ...and every one of them is ignored on every Statement the program creates.
    assert all(set(options.ignore_changes or []) == arguments for options in _deploy_statement_options())
    # What a statement runs is its name, so a changed statement is a new resource that runs once.
    digests = [s.name.removeprefix("warehouse-sql-") for s in statements]
    templates = [d.template for d in deploy_sql("uba_dev_lake", "arn:aws:iam::1:role/r", "IAMR:x", "analytics")]
    assert len(set(digests)) == len(digests) == len(templates)
    assert digests[:-5] == [hashlib.sha256(t.encode()).hexdigest()[:12] for t in templates[:-5]]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_refresh_runs_on_the_stack_schedule_through_the_data_api(stack: str) -> None:
    run = warehouse_stack(stack)
    refresh = settings_of(stack).warehouse.refresh
    schedule = run.one(type_token(aws.scheduler.Schedule), "warehouse-refresh-schedule")
    group = run.one(type_token(aws.scheduler.ScheduleGroup))
    inputs = schedule.inputs
    assert inputs["name"] == f"uba-{stack}-warehouse-refresh" and inputs["groupName"] == group.inputs["name"]
    assert inputs["scheduleExpression"] == refresh.schedule_expression
    assert inputs["flexibleTimeWindow"] == {"mode": "OFF"} and inputs["kmsKeyArn"] == key_arn(run)
    target = inputs["target"]
    assert target["arn"] == "arn:aws:scheduler:::aws-sdk:redshiftdata:batchExecuteStatement"
    assert target["roleArn"] == run.one(type_token(aws.iam.Role), "warehouse-refresh").state["arn"]
    assert target["retryPolicy"] == {"maximumRetryAttempts": 3, "maximumEventAgeInSeconds": 900}
    expected_sql = refresh_statements(RefreshParameters(lookback_days=refresh.lookback_days))
    assert json.loads(target["input"]) == {
        "WorkgroupName": f"uba-{stack}-warehouse",
        "Database": "analytics",
        "Sqls": expected_sql,
        "StatementName": f"uba-{stack}-warehouse-refresh",
        "WithEvent": True,
    }
    last_sql = statement_chain(run)[-1]
    assert last_sql.urn in schedule.depends_on  # the first run finds the tables and its grants


def test_dev_refreshes_less_often_and_looks_back_less_than_prod(dev: StackRun, prod: StackRun) -> None:
    def refresh(run: StackRun) -> tuple[str, str]:
        schedule = run.one(type_token(aws.scheduler.Schedule), "warehouse-refresh-schedule").inputs
        sqls = json.loads(schedule["target"]["input"])["Sqls"]
        lookback = next(re.search(r"CAST\('(\d+)' AS INTEGER\)", s) for s in sqls if "lookback_days =" in s)
        assert lookback is not None
        return schedule["scheduleExpression"], lookback.group(1)

    assert refresh(dev) == ("rate(6 hours)", str(settings_of("dev").warehouse.refresh.lookback_days))
    assert refresh(prod) == ("rate(1 hour)", str(settings_of("prod").warehouse.refresh.lookback_days))


def test_a_failed_refresh_is_kept_and_alarms_the_ops_topic(dev: StackRun) -> None:
    rule = dev.one(type_token(aws.cloudwatch.EventRule), "warehouse-refresh-failed")
    assert json.loads(rule.inputs["eventPattern"]) == {
        "source": ["aws.redshift-data"],
        "detail-type": ["Redshift Data Statement Status Change"],
        "detail": {"state": ["FAILED"], "statementName": ["uba-dev-warehouse-refresh"]},
    }
    failures = dev.one(type_token(aws.cloudwatch.LogGroup), "warehouse-refresh-failures")
    assert failures.inputs["name"] == "/aws/events/uba-dev-warehouse-refresh-failures"
    assert failures.inputs["kmsKeyId"] == key_arn(dev)
    target = dev.one(type_token(aws.cloudwatch.EventTarget)).inputs
    assert target["rule"] == "uba-dev-warehouse-refresh-failed" and target["arn"] == failures.state["arn"]
    (delivery,) = dev.policy(dev.one(type_token(aws.cloudwatch.LogResourcePolicy)),
                             "policyDocument")["Statement"]  # fmt: skip
    assert delivery["Resource"] == f"{failures.state['arn']}:*"
    assert delivery["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert delivery["Condition"] == {"ArnEquals": {"aws:SourceArn": rule.state["arn"]}}
    alarm = dev.one(type_token(aws.cloudwatch.MetricAlarm), "warehouse-refresh-failed").inputs
    expected = {"namespace": "AWS/Events", "metricName": "TriggeredRules",
                "dimensions": {"RuleName": "uba-dev-warehouse-refresh-failed"}, "statistic": "Sum",
                "threshold": 1, "comparisonOperator": "GreaterThanOrEqualToThreshold",
                "alarmActions": [ops_topic_arn(dev)], "okActions": [ops_topic_arn(dev)]}  # fmt: skip
    assert {key: alarm[key] for key in expected} == expected


def test_a_dropped_schedule_invocation_alarms_the_ops_topic(dev: StackRun) -> None:
    alarm = dev.one(type_token(aws.cloudwatch.MetricAlarm), "warehouse-schedule-dropped").inputs
    assert alarm["name"] == "uba-dev-warehouse-schedule-dropped"
    assert (alarm["namespace"], alarm["metricName"]) == ("AWS/Scheduler", "InvocationDroppedCount")
    assert alarm["dimensions"] == {"ScheduleGroup": "uba-dev-warehouse"}
    assert alarm["alarmActions"] == [ops_topic_arn(dev)]


def test_every_warehouse_resource_is_tagged_and_parented_under_the_warehouse(dev: StackRun) -> None:
    warehouse = dev.one(WAREHOUSE)
    descendants = {r.urn for r in dev.children(warehouse, recursive=True)}
    tags = json.loads(dev.one("pulumi:providers:aws", "aws").inputs["defaultTags"])["tags"]
    assert len(descendants) > 20
    for resource in dev.custom():
        if resource.urn not in descendants:
            continue
        if accepts_tags(resource.type):
            assert resource.state["tagsAll"].items() >= tags.items(), resource.urn


# --- settings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"warehouse.network.vpc_cidr": "10.42.0.0/24"}, "warehouse.network.vpc_cidr: must have a prefix from /16"),
        ({"warehouse.network.vpc_cidr": "10.42.1.0/16"}, "warehouse.network.vpc_cidr: must be a network address"),
        ({"warehouse.refresh.conversion_to_action": "viewDoc"},
         "warehouse.refresh.conversion_to_action: must differ from conversion_from_action"),
        ({"warehouse.refresh.conversion_from_action": "view\\Doc"},
         "warehouse.refresh.conversion_from_action: must be an event action of 1-256 characters, no backslash"),
        ({"warehouse.mode": "provisioned", "warehouse.serverless": ..., "warehouse.provisioned": {},
          "warehouse.network.existing_vpc_id": "vpc-0abc", "warehouse.network.existing_subnet_ids": ["subnet-1"]},
         "warehouse.network.existing_subnet_ids: provisioned Redshift needs 2 subnets"),
    ],
)  # fmt: skip
def test_bad_warehouse_settings_are_refused_by_key(changes: dict[str, Any], problem: str) -> None:
    problems = problems_for(config_with(changes))
    assert any(p.startswith(problem) for p in problems), problems


def test_a_provisioned_warehouse_in_an_existing_vpc_needs_two_subnets() -> None:
    settings = settings_of("dev").warehouse
    cluster = settings.model_copy(update={"mode": "provisioned"})
    assert (settings.required_subnets, cluster.required_subnets) == (3, 2)
