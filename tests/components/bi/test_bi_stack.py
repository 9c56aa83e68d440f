"""The BI tier under mocks, from the real stack files: QuickSight's data sources, datasets, people and dashboard.

Prod carries the tier (SPICE, hourly refresh); dev keeps it off, and `bi_on("dev")` is dev with it
on (direct query), which is also what the schema-conformance test checks.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components.bi.definition import VIEWER_ACTIONS, dashboard_definition, definition_digest
from components.bi.people import group_names, groups_of, lines_visible, rule_rows, rules_sql
from components.bi.tier import check_subscription
from settings import load_settings
from settings.bi import QuickSightAccountSettings
from sql.bi import dashboard
from tests.support.config import bi_on, provisioned_warehouse, raw_config
from tests.support.harness import Resource, StackRun, run_stack
from tests.support.tokens import BI, NATIVE_DASHBOARD, WAREHOUSE, type_token
from tools.engine.mocks import ACCOUNT_ID
from tools.local import REGION

DATA_SOURCE = type_token(aws.quicksight.DataSource)
DATA_SET = type_token(aws.quicksight.DataSet)
GROUP = type_token(aws.quicksight.Group)
USER = type_token(aws.quicksight.User)
MEMBERSHIP = type_token(aws.quicksight.GroupMembership)
REFRESH = type_token(aws.quicksight.RefreshSchedule)


@pytest.fixture(scope="module")
def prod() -> StackRun:
    return run_stack("prod")


@pytest.fixture(scope="module")
def dev_on() -> StackRun:
    return run_stack("dev", bi_on())


def under_bi(run: StackRun) -> list[Resource]:
    return run.children(run.component(BI), recursive=True)


def test_dev_keeps_the_tier_off_and_registers_no_quicksight_resource() -> None:
    run = run_stack("dev")
    assert not any(r.type.startswith(("aws:quicksight", "aws-native:")) for r in run.resources)
    assert not run.of_type(BI)


def test_every_bi_resource_is_a_child_of_the_tier(prod: StackRun) -> None:
    children = {r.urn for r in under_bi(prod)}
    quicksight = [r for r in prod.resources if r.type.startswith(("aws:quicksight", "aws-native:quicksight"))]
    assert quicksight and {r.urn for r in quicksight} <= children


def test_the_warehouse_source_is_private_secret_based_and_encrypted_in_transit(prod: StackRun) -> None:
    source = prod.one(DATA_SOURCE, "bi-warehouse-source")
    connection = prod.one(type_token(aws.quicksight.VpcConnection), "bi-vpc-connection")
    namespace = prod.one(type_token(aws.redshiftserverless.Namespace))
    workgroup = prod.one(type_token(aws.redshiftserverless.Workgroup))
    assert source.inputs["type"] == "REDSHIFT"
    assert source.inputs["vpcConnectionProperties"] == {"vpcConnectionArn": connection.state["arn"]}
    assert source.inputs["credentials"] == {"secretArn": namespace.state["adminPasswordSecretArn"]}
    assert source.inputs["sslProperties"] == {"disableSsl": False}
    redshift = source.inputs["parameters"]["redshift"]
    assert redshift == {"database": "analytics", "host": workgroup.state["endpoints"][0]["address"], "port": 5439}
    assert "permissions" not in source.inputs  # no person may write SQL against the admin's connection


def test_the_vpc_connection_sits_in_the_warehouse_subnets_and_reaches_only_the_warehouse(prod: StackRun) -> None:
    connection = prod.one(type_token(aws.quicksight.VpcConnection), "bi-vpc-connection")
    subnets = [r.state["id"] for r in prod.of_type(type_token(aws.ec2.Subnet))]
    assert sorted(connection.inputs["subnetIds"]) == sorted(subnets) and len(subnets) >= 2
    group = prod.one(type_token(aws.ec2.SecurityGroup), "bi-quicksight-sg")
    warehouse_group = prod.one(type_token(aws.ec2.SecurityGroup), "warehouse-sg")
    assert connection.inputs["securityGroupIds"] == [group.state["id"]]
    egress = prod.one(type_token(aws.vpc.SecurityGroupEgressRule), "bi-quicksight-to-warehouse")
    assert (egress.inputs["securityGroupId"], egress.inputs["referencedSecurityGroupId"]) == (
        group.state["id"],
        warehouse_group.state["id"],
    )
    assert (egress.inputs["fromPort"], egress.inputs["toPort"]) == (5439, 5439)
    admitted = prod.one(type_token(aws.vpc.SecurityGroupIngressRule), "bi-warehouse-from-quicksight")
    assert (admitted.inputs["securityGroupId"], admitted.inputs["referencedSecurityGroupId"]) == (
        warehouse_group.state["id"],
        group.state["id"],
    )
    role = prod.one(type_token(aws.iam.Role), "bi-vpc-connection")
    assert connection.inputs["roleArn"] == role.state["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "quicksight.amazonaws.com"}]


def test_the_secret_read_is_granted_to_the_accounts_quicksight_role_on_that_secret_only(prod: StackRun) -> None:
    grant = prod.one(type_token(aws.iam.RolePolicy), "bi-secret-read")
    assert grant.inputs["role"] == "aws-quicksight-secretsmanager-role-v0"
    statements = prod.policy(grant)["Statement"]
    secret = prod.one(type_token(aws.redshiftserverless.Namespace)).state["adminPasswordSecretArn"]
    assert statements[0]["Resource"] == secret
    assert statements[1]["Condition"] == {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}


def provisioned_with_another_conversion() -> dict[str, Any]:
    """Dev with BI on, a provisioned cluster, and the conversion starting at `search` (one run for both)."""
    warehouse = provisioned_warehouse()["uba:warehouse"]
    return {**bi_on(), "uba:warehouse": {**warehouse, "refresh": {"conversion_from_action": "search"}}}


def test_a_provisioned_warehouse_is_named_by_its_cluster() -> None:
    run = run_stack("dev", provisioned_with_another_conversion())
    source = run.one(DATA_SOURCE, "bi-warehouse-source")
    cluster = run.one(type_token(aws.redshift.Cluster))
    redshift = source.inputs["parameters"]["redshift"]
    assert redshift["clusterId"] == cluster.state["clusterIdentifier"]
    assert redshift["host"] == cluster.state["endpoint"].rsplit(":", 1)[0]
    assert source.inputs["credentials"] == {"secretArn": cluster.state["masterPasswordSecretArn"]}


def test_the_conversion_actions_come_from_the_warehouse_settings() -> None:
    board = run_stack("dev", provisioned_with_another_conversion()).one(NATIVE_DASHBOARD, "bi-dashboard")
    titles = json.dumps(board.inputs["definition"])
    assert "Same-day conversion search -> buy" in titles and "Top objects (search)" in titles


def test_the_lake_source_queries_in_its_own_workgroup_whose_results_no_staff_group_reads(prod: StackRun) -> None:
    source = prod.one(DATA_SOURCE, "bi-lake-source")
    workgroup = prod.one(type_token(aws.athena.Workgroup), "bi-athena-workgroup")
    assert source.inputs["type"] == "ATHENA"
    athena = source.inputs["parameters"]["athena"]
    assert athena["workGroup"] == workgroup.inputs["name"] == "uba-prod-analytics-bi"
    configuration = workgroup.inputs["configuration"]
    assert configuration["enforceWorkgroupConfiguration"] is True
    assert configuration["resultConfiguration"]["outputLocation"].endswith("/results/bi/")
    assert configuration["resultConfiguration"]["encryptionConfiguration"]["encryptionOption"] == "SSE_KMS"
    assert configuration["bytesScannedCutoffPerQuery"] == 107374182400  # the lake's own cap in prod
    role = prod.one(type_token(aws.iam.Role), "bi-athena")
    assert athena["roleArn"] == role.state["arn"]
    statements = prod.policy(prod.one(type_token(aws.iam.RolePolicy), "bi-athena-policy"))["Statement"]
    queries = next(s for s in statements if s["Sid"] == "QueryInTheBiWorkgroup")
    assert queries["Resource"] == workgroup.state["arn"]
    writes = next(s for s in statements if s["Sid"] == "WriteAndReadOwnResults")
    assert writes["Resource"].endswith("/results/bi/*")
    # Nobody but admin reads the BI workgroup's results: no staff policy names results/bi/.
    for policy in prod.of_type(type_token(aws.iam.Policy)):
        assert "results/bi/" not in policy.inputs["policy"], policy.name


def test_every_dataset_but_the_rules_is_under_row_level_security_by_the_rules(prod: StackRun) -> None:
    datasets = {r.name: r for r in prod.of_type(DATA_SET)}
    rules = datasets.pop("bi-dataset-row-permissions")
    assert rules.inputs["useAs"] == "RLS_RULES" and "permissions" not in rules.inputs
    assert set(datasets) == {"bi-dataset-user-daily", "bi-dataset-retention", "bi-dataset-lake-events"}
    authors = prod.one(GROUP, "bi-group-authors").state["arn"]
    for dataset in datasets.values():
        security = dataset.inputs["rowLevelPermissionDataSet"]
        assert security["arn"] == rules.state["arn"]
        assert (security["permissionPolicy"], security["status"]) == ("GRANT_ACCESS", "ENABLED")
        assert [p["principal"] for p in dataset.inputs["permissions"]] == [authors]
        assert "quicksight:UpdateDataSetPermissions" not in dataset.inputs["permissions"][0]["actions"]  # not owners
        assert dataset.inputs["importMode"] == "SPICE"


def test_the_rules_name_each_line_group_and_redshift_case_is_renamed_for_quicksight(prod: StackRun) -> None:
    rules = prod.one(DATA_SET, "bi-dataset-row-permissions")
    custom = rules.inputs["physicalTableMaps"][0]["customSql"]
    assert custom["dataSourceArn"] == prod.one(DATA_SOURCE, "bi-warehouse-source").state["arn"]
    names = group_names("uba-prod", ["biz-news", "biz-shop", "biz-video", "biz-forum"])
    assert custom["sqlQuery"] == rules_sql(rule_rows(names))
    assert "'uba-prod-bi-line-biz-shop' AS groupname, 'biz-shop' AS biz_id" in custom["sqlQuery"]
    rename = rules.inputs["logicalTableMaps"][0]["dataTransforms"][0]["renameColumnOperation"]
    assert rename == {"columnName": "groupname", "newColumnName": "GroupName"}


def test_people_are_readers_or_authors_in_their_line_groups_never_admins(prod: StackRun) -> None:
    users = {r.name: r for r in prod.of_type(USER)}
    assert {name: (u.inputs["userRole"], u.inputs["identityType"]) for name, u in users.items()} == {
        "bi-user-bo.analyst": ("READER", "IAM"),
        "bi-user-dana.dev": ("AUTHOR", "IAM"),
    }
    assert users["bi-user-bo.analyst"].inputs["iamArn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/bo.analyst"
    memberships = {(m.inputs["memberName"], m.inputs["groupName"]) for m in prod.of_type(MEMBERSHIP)}
    assert memberships == {
        ("bo.analyst", "uba-prod-bi-readers"),
        ("bo.analyst", "uba-prod-bi-line-biz-shop"),
        ("dana.dev", "uba-prod-bi-authors"),
        ("dana.dev", "uba-prod-bi-all-lines"),
    }
    groups = {g.inputs["groupName"] for g in prod.of_type(GROUP)}
    assert groups == {
        "uba-prod-bi-readers",
        "uba-prod-bi-authors",
        "uba-prod-bi-all-lines",
        *(f"uba-prod-bi-line-{biz}" for biz in ("biz-news", "biz-shop", "biz-video", "biz-forum")),
    }
    assert all(g.inputs["namespace"] == "default" and g.inputs["region"] == REGION for g in prod.of_type(GROUP))


def test_rls_gives_each_person_exactly_the_lines_the_stack_file_grants() -> None:
    settings = load_settings(raw_config("prod")).bi
    names = group_names("uba-prod", [line.biz_id for line in settings.business_lines])
    rules = rule_rows(names)
    for person in settings.people:
        visible = lines_visible(groups_of(person, names), rules)
        expected = None if person.business_lines == ["*"] else set(person.business_lines)
        assert visible == expected, person.user
    assert lines_visible([names.readers], rules) == set()  # in no line group: no row at all


def test_the_dashboard_is_the_rendered_specification_over_the_stacks_datasets(prod: StackRun) -> None:
    board = prod.one(NATIVE_DASHBOARD, "bi-dashboard")
    datasets = {r.name.removeprefix("bi-dataset-").replace("-", "_"): r.state["arn"] for r in prod.of_type(DATA_SET)}
    lines = ["biz-news", "biz-shop", "biz-video", "biz-forum"]
    expected = dashboard_definition(dashboard("viewDoc", "buy"), datasets, lines)
    assert board.inputs["definition"] == _wire(expected)
    assert board.inputs["versionDescription"] == f"definition {definition_digest(dashboard('viewDoc', 'buy'), lines)}"
    assert board.inputs["validationStrategy"] == {"mode": "STRICT"}
    principals = [p["principal"] for p in board.inputs["permissions"]]
    assert principals == [
        prod.one(GROUP, "bi-group-readers").state["arn"],
        prod.one(GROUP, "bi-group-authors").state["arn"],
    ]
    assert all(p["actions"] == list(VIEWER_ACTIONS) for p in board.inputs["permissions"])
    assert prod.outputs["bi_dashboard_id"] == "uba-prod-user-behaviour"


def test_a_change_to_the_specification_is_a_new_dashboard_version() -> None:
    lines = ["biz-shop"]
    assert definition_digest(dashboard("viewDoc", "buy"), lines) != definition_digest(dashboard("search", "buy"), lines)
    assert definition_digest(dashboard(), lines) != definition_digest(dashboard(), ["biz-shop", "biz-news"])
    assert definition_digest(dashboard(), lines) == definition_digest(dashboard(), lines)


def test_direct_query_has_no_refresh_schedule_and_spice_refreshes_every_dataset(
    prod: StackRun, dev_on: StackRun
) -> None:
    assert not dev_on.of_type(REFRESH)
    assert {d.inputs["importMode"] for d in dev_on.of_type(DATA_SET)} == {"DIRECT_QUERY"}
    schedules = prod.of_type(REFRESH)
    assert len(schedules) == len(prod.of_type(DATA_SET)) == 4
    assert {json.dumps(s.inputs["schedule"], sort_keys=True) for s in schedules} == {
        json.dumps({"refreshType": "FULL_REFRESH", "scheduleFrequency": {"interval": "HOURLY", "timezone": "UTC"}},
                   sort_keys=True)
    }  # fmt: skip
    alarms = [a.name for a in prod.of_type(type_token(aws.cloudwatch.MetricAlarm)) if a.name.startswith("bi-")]
    assert len(alarms) == 4 and not [a for a in dev_on.of_type(type_token(aws.cloudwatch.MetricAlarm))
                                     if a.name.startswith("bi-")]  # fmt: skip


def test_the_dashboard_has_its_own_provider_in_the_stacks_region_with_the_platform_tags(prod: StackRun) -> None:
    provider = prod.one("pulumi:providers:aws-native", "bi-aws-native")
    assert provider.inputs["region"] == REGION
    tags = provider.inputs["defaultTags"]
    tags = json.loads(tags) if isinstance(tags, str) else tags
    assert tags["tags"]["Environment"] == "prod" and tags["tags"]["Project"] == "uba"
    assert str(prod.one(NATIVE_DASHBOARD).provider).startswith(provider.urn)


@pytest.mark.parametrize(
    ("answer", "fails_with"),
    [
        (SimpleNamespace(user_role="ADMIN"), None),
        (SimpleNamespace(user_role="ADMIN_PRO"), None),
        (SimpleNamespace(user_role="AUTHOR"), "is a QuickSight AUTHOR, not an ADMIN"),
        (
            RuntimeError("ResourceNotFoundException: ... is not signed up with QuickSight."),
            "no QuickSight subscription",
        ),
    ],
)
def test_the_subscription_check_names_what_to_do(answer: Any, fails_with: str | None) -> None:
    account = QuickSightAccountSettings(admin="alice.admin", identity_region="us-east-1")
    asked: list[dict[str, Any]] = []

    def lookup(**arguments: Any) -> Any:
        asked.append(arguments)
        if isinstance(answer, Exception):
            raise answer
        return answer

    if fails_with is None:
        check_subscription(account, REGION, lookup)
    else:
        with pytest.raises(pulumi.RunError, match=fails_with) as caught:
            check_subscription(account, REGION, lookup)
        assert "README" in str(caught.value)
    assert asked == [{"user_name": "alice.admin", "namespace": "default", "region": "us-east-1"}]


def test_the_tier_contract_declares_outputs_widgets_and_grants(prod: StackRun) -> None:
    assert {"bi_dashboard_id", "bi_dashboard_arn", "athena_workgroup_bi_name"} <= set(prod.outputs)
    body = json.loads(prod.one(type_token(aws.cloudwatch.Dashboard)).inputs["dashboardBody"])
    titles = [w["properties"].get("title", "") for w in body["widgets"]]
    assert any(title.startswith("BI:") for title in titles)
    assert prod.component(BI).parent == prod.component("uba:platform:Platform").urn
    assert prod.component(WAREHOUSE)


def _wire(value: Any) -> Any:
    """snake_case keys as the engine records them (camelCase), the way Pulumi translates typed inputs."""
    if isinstance(value, dict):
        return {_camel(key): _wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wire(item) for item in value]
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
