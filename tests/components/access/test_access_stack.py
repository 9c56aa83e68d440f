"""The access tier under mocks: groups, paths, policies, MFA, users and memberships, per stack."""

from __future__ import annotations

import copy
import json
from typing import Any

import pulumi_aws as aws
import pytest
import yaml

from components.access.policies import (
    ACCOUNT_WIDE_ACTIONS,
    ADMINISTRATOR_ACCESS_ARN,
    MANAGED_POLICY_MAX_CHARS,
    MFA_SELF_SERVICE_ACTIONS,
    AccessTargets,
    group_policies,
)
from settings import PERSONAS
from tests.support.harness import StackRun, run_stack
from tests.support.tokens import ACCESS, type_token
from tools.engine.mocks import ACCOUNT_ID, PROJECT_DIR, load_stack_config

GROUP = type_token(aws.iam.Group)
POLICY = type_token(aws.iam.Policy)
ATTACHMENT = type_token(aws.iam.GroupPolicyAttachment)
MEMBERSHIP = type_token(aws.iam.UserGroupMembership)
USER = type_token(aws.iam.User)


def access_config(stack: str) -> dict[str, Any]:
    return copy.deepcopy(load_stack_config(stack)["uba:access"])


def attached(run: StackRun) -> dict[str, set[str]]:
    """Group name -> the names of the policies attached to it (AWS-managed ones by ARN)."""
    names = {p.state["arn"]: p.inputs["name"] for p in run.of_type(POLICY)}
    result: dict[str, set[str]] = {}
    for attachment in run.of_type(ATTACHMENT):
        arn = attachment.inputs["policyArn"]
        result.setdefault(attachment.inputs["group"], set()).add(names.get(arn, arn))
    return result


def group_documents(run: StackRun) -> dict[str, list[dict[str, Any]]]:
    documents = {p.state["arn"]: run.policy(p) for p in run.of_type(POLICY)}
    result: dict[str, list[dict[str, Any]]] = {}
    for attachment in run.of_type(ATTACHMENT):
        if attachment.inputs["policyArn"] in documents:
            result.setdefault(attachment.inputs["group"], []).append(documents[attachment.inputs["policyArn"]])
    return result


def memberships(run: StackRun) -> dict[str, list[str]]:
    return {m.inputs["user"]: m.inputs["groups"] for m in run.of_type(MEMBERSHIP)}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_four_groups_per_stack_named_from_the_prefix_under_the_platform_path(stack: str) -> None:
    run = run_stack(stack)
    groups = {g.name: g for g in run.of_type(GROUP)}
    assert set(groups) == {f"group-{p}" for p in PERSONAS}
    for persona in PERSONAS:
        group = groups[f"group-{persona}"]
        assert group.inputs == {"name": f"uba-{stack}-{persona.lower()}", "path": f"/uba/{stack}/"}
        assert group.state["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:group/uba/{stack}/uba-{stack}-{persona.lower()}"
        assert run.outputs[f"group_{persona.lower()}"] == group.inputs["name"]
    access = run.one(ACCESS)
    assert {r.urn for r in run.children(access, recursive=True)} >= {g.urn for g in groups.values()}
    for policy in run.of_type(POLICY):
        assert policy.inputs["path"] == f"/uba/{stack}/" and policy.inputs["name"].startswith(f"uba-{stack}-")


def test_policies_attach_by_concern_and_developers_build_only_where_the_stack_says() -> None:
    expected_common = {
        "uba-{s}-admin": {ADMINISTRATOR_ACCESS_ARN, "uba-{s}-require-mfa"},
        "uba-{s}-op": {"uba-{s}-observe", "uba-{s}-observe-logs", "uba-{s}-observe-alarms", "uba-{s}-observe-web",
                       "uba-{s}-op-data", "uba-{s}-op-operate", "uba-{s}-op-guardrails", "uba-{s}-op-guardrails-web",
                       "uba-{s}-require-mfa"},
        "uba-{s}-bizuser": {"uba-{s}-bizuser", "uba-{s}-require-mfa"},
    }  # fmt: skip
    for stack, dev_policies in (
        ("dev", {"observe", "observe-logs", "observe-alarms", "observe-web", "dev-build", "require-mfa"}),
        ("prod", {"observe", "observe-logs", "observe-alarms", "observe-web", "require-mfa"}),
    ):
        expected = {g.format(s=stack): {p.format(s=stack) for p in ps} for g, ps in expected_common.items()}
        expected[f"uba-{stack}-dev"] = {f"uba-{stack}-{p}" for p in dev_policies}
        lake = run_stack(stack).of_type(type_token(aws.athena.Workgroup))
        if lake:  # the lake tier brings Athena analysis to op, dev and bizUser, each in its own workgroup
            for group in ("op", "dev", "bizuser"):
                expected[f"uba-{stack}-{group}"] |= {f"uba-{stack}-analyse", f"uba-{stack}-analyse-{group}"}
        if run_stack(stack).of_type(type_token(aws.opensearch.ServerlessCollection)):
            # the search tier lets op and dev search the log index (bizUser only when the stack says so)
            for group in ("op", "dev"):
                expected[f"uba-{stack}-{group}"] |= {f"uba-{stack}-search"}
            expected[f"uba-{stack}-op"] |= {f"uba-{stack}-op-guardrails-search"}
        if run_stack(stack).of_type("aws-native:quicksight:Dashboard"):  # the BI tier: bizUser opens its dashboard
            expected[f"uba-{stack}-bizuser"] |= {f"uba-{stack}-bizuser-bi"}
        assert attached(run_stack(stack)) == expected


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_permissions_come_only_through_groups(stack: str) -> None:
    run = run_stack(stack)
    for token in (type_token(aws.iam.UserPolicy), type_token(aws.iam.UserPolicyAttachment),
                  type_token(aws.iam.PolicyAttachment), type_token(aws.iam.GroupMembership),
                  type_token(aws.iam.UserLoginProfile), type_token(aws.iam.AccessKey),
                  type_token(aws.iam.VirtualMfaDevice)):  # fmt: skip
        assert not run.of_type(token), token


def test_users_are_created_only_when_asked_and_never_get_credentials() -> None:
    dev, prod = run_stack("dev"), run_stack("prod")
    created = {u.name: u.inputs for u in dev.of_type(USER)}
    assert created == {
        "user-dana.dev": {"name": "dana.dev", "forceDestroy": False},
        "user-bo.analyst": {"name": "bo.analyst", "forceDestroy": False},
    }
    assert not prod.of_type(USER)  # prod names existing users only


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_one_membership_per_person_with_exactly_their_groups(stack: str) -> None:
    run = run_stack(stack)
    assert memberships(run) == {
        "alice.admin": [f"uba-{stack}-admin"],
        "omar.ops": [f"uba-{stack}-op"],
        "dana.dev": [f"uba-{stack}-dev"],
        "bo.analyst": [f"uba-{stack}-bizuser"],
    }
    users = {u.inputs["name"]: u.urn for u in run.of_type(USER)}
    for membership in run.of_type(MEMBERSHIP):
        user = membership.inputs["user"]
        assert membership.name == f"staff-{user}"
        # A created user exists before its memberships; an existing one is referenced by name.
        user_dependencies = set(users.values()) & set(membership.depends_on)
        assert user_dependencies == ({users[user]} if user in users else set())


def staff_changed_dev() -> StackRun:
    """Dev with kim added (created, in two groups) and dana.dev, a created user, removed."""
    config = access_config("dev")
    config["staff"] = [m for m in config["staff"] if m["user"] != "dana.dev"]
    config["staff"].append({"user": "kim", "groups": ["op", "bizUser"], "create_user": True})
    return run_stack("dev", overrides={"uba:access": config})


def test_a_person_in_several_groups_gets_one_membership_listing_them_all() -> None:
    run = staff_changed_dev()
    membership = run.one(MEMBERSHIP, "staff-kim")
    assert membership.inputs["groups"] == ["uba-dev-op", "uba-dev-bizuser"]
    assert run.one(USER, "user-kim").inputs["name"] == "kim"


def test_removing_a_person_from_the_stack_file_removes_their_membership_on_the_next_run() -> None:
    before = run_stack("prod")
    config = access_config("prod")
    config["staff"] = [m for m in config["staff"] if m["user"] != "omar.ops"]
    after = run_stack("prod", overrides={"uba:access": config})
    assert "staff-omar.ops" in {m.name for m in before.of_type(MEMBERSHIP)}
    assert "staff-omar.ops" not in {m.name for m in after.of_type(MEMBERSHIP)}
    assert "omar.ops" not in memberships(after)
    # Nobody else's access changes, and the group itself stays for the next person.
    assert {u: g for u, g in memberships(before).items() if u != "omar.ops"} == memberships(after)
    assert after.one(GROUP, "group-op").inputs == before.one(GROUP, "group-op").inputs


def test_removing_a_created_user_removes_the_user_too() -> None:
    run = staff_changed_dev()
    assert {u.inputs["name"] for u in run.of_type(USER)} == {"bo.analyst", "kim"}
    assert "dana.dev" not in memberships(run)


MFA_STATEMENT = {
    "Sid": "DenyAllExceptMfaSetUpWithoutMfa",
    "Effect": "Deny",
    "NotAction": list(MFA_SELF_SERVICE_ACTIONS),
    "Resource": "*",
    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_group_denies_all_but_mfa_set_up_until_signed_in_with_mfa(stack: str) -> None:
    run = run_stack(stack)
    policy = run.one(POLICY, "policy-require-mfa")
    statements = run.policy(policy)["Statement"]
    assert statements[-1] == MFA_STATEMENT
    assert set(MFA_SELF_SERVICE_ACTIONS) == {
        "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
        "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "iam:ChangePassword", "iam:GetAccountPasswordPolicy",
        "sts:GetSessionToken",
    }  # fmt: skip
    own_user = [
        f"arn:aws:iam::{ACCOUNT_ID}:user/${{aws:username}}",
        f"arn:aws:iam::{ACCOUNT_ID}:user/*/${{aws:username}}",
    ]
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["ManageOwnMfaAndPassword"]["Resource"] == own_user
    assert by_sid["CreateVirtualMfaDevice"]["Resource"] == [f"arn:aws:iam::{ACCOUNT_ID}:mfa/*"]
    for group, policies in attached(run).items():
        assert f"uba-{stack}-require-mfa" in policies, group


def test_mfa_can_be_switched_off_per_stack() -> None:
    config = access_config("dev") | {"require_mfa": False}
    run = run_stack("dev", overrides={"uba:access": config})
    assert "policy-require-mfa" not in {p.name for p in run.of_type(POLICY)}
    for documents in group_documents(run).values():
        for document in documents:
            assert all("MultiFactorAuthPresent" not in json.dumps(s) for s in document["Statement"])


def test_a_stack_without_the_access_tier_has_no_groups_users_or_memberships() -> None:
    config = access_config("dev") | {"enabled": False}
    run = run_stack("dev", overrides={"uba:access": config})
    assert not run.of_type(ACCESS)
    for token in (GROUP, POLICY, ATTACHMENT, MEMBERSHIP, USER):
        assert not run.of_type(token), token
    assert not [key for key in run.outputs if key.startswith("group_")]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_policy_fits_iams_managed_policy_size(stack: str) -> None:
    for policy in run_stack(stack).of_type(POLICY):
        size = len("".join(json.dumps(run_stack(stack).policy(policy)).split()))
        assert size <= MANAGED_POLICY_MAX_CHARS, (policy.name, size)


def _non_admin_statements(run: StackRun) -> list[tuple[str, dict[str, Any]]]:
    return [
        (group, statement)
        for group, documents in group_documents(run).items()
        for document in documents
        for statement in document["Statement"]
    ]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_only_admin_holds_a_wildcard(stack: str) -> None:
    run = run_stack(stack)
    for group, statement in _non_admin_statements(run):
        if statement["Effect"] != "Allow":
            continue
        actions = statement["Action"]
        assert all("*" not in action for action in actions), (group, statement["Sid"])
        if "*" in statement["Resource"]:
            # AWS authorises these on no narrower resource; each is a read or a list.
            assert statement["Resource"] == ["*"] and set(actions) <= ACCOUNT_WIDE_ACTIONS, (group, statement["Sid"])
    admin = attached(run)[f"uba-{stack}-admin"]
    assert ADMINISTRATOR_ACCESS_ARN in admin


def _stack_markers(run: StackRun) -> list[str]:
    """Strings only this stack's resources carry: its prefix, and the ids AWS generates for them."""
    markers = [f"uba-{run.stack}-", f"uba_{run.stack}_"]
    markers += [r.state["id"] for r in run.of_type(type_token(aws.apigateway.RestApi))]
    markers += [r.state["id"] for r in run.of_type(type_token(aws.apigatewayv2.Api))]  # the live tier's APIs
    markers += [r.state["keyId"] for r in run.of_type(type_token(aws.kms.Key))]
    markers += [r.state["arn"] for r in run.custom() if "arn" in r.state and r.type.startswith("aws:")]
    return markers


# Grants that name no stack resource by design: the caller's own IAM user (and QuickSight user, to embed
# the BI dashboard as oneself), new MFA devices, Athena's view of the account's Glue catalog (Glue
# grants decide what is visible in it), and the account's OpenSearch Serverless Dashboards (each
# collection's data access policy decides what shows).
SELF_SERVICE_RESOURCES = {
    f"arn:aws:aoss:eu-west-1:{ACCOUNT_ID}:dashboards/default",
    f"arn:aws:iam::{ACCOUNT_ID}:user/${{aws:username}}",
    f"arn:aws:quicksight:eu-west-1:{ACCOUNT_ID}:user/default/${{aws:username}}",
    f"arn:aws:iam::{ACCOUNT_ID}:user/*/${{aws:username}}",
    f"arn:aws:iam::{ACCOUNT_ID}:mfa/*",
    f"arn:aws:athena:eu-west-1:{ACCOUNT_ID}:datacatalog/AwsDataCatalog",
    f"arn:aws:glue:eu-west-1:{ACCOUNT_ID}:catalog",
}


@pytest.mark.parametrize(("stack", "other"), [("dev", "prod"), ("prod", "dev")])
def test_every_grant_names_this_stacks_own_resources_and_never_the_others(stack: str, other: str) -> None:
    run = run_stack(stack)
    markers = _stack_markers(run)
    foreign = [m for m in _stack_markers(run_stack(other)) if m not in markers]
    for group, statement in _non_admin_statements(run):
        for resource in statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]:
            assert not any(marker in resource for marker in foreign), (group, statement["Sid"], resource)
            if statement["Effect"] == "Allow" and resource != "*" and resource not in SELF_SERVICE_RESOURCES:
                assert any(marker in resource for marker in markers), (group, statement["Sid"], resource)


def test_policies_exist_only_for_concerns_whose_resources_exist() -> None:
    """A switched-off tier contributes no grants: with only the core, the groups get only core grants."""
    core_only = AccessTargets[str](
        prefix="uba-x", region="eu-west-1", account_id=ACCOUNT_ID,
        kms_key_arn=f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/k",
        ops_topic_arn=f"arn:aws:sns:eu-west-1:{ACCOUNT_ID}:uba-x-ops",
    )  # fmt: skip
    specs = {s.key: s for s in group_policies(core_only, "builder", mfa=True)}
    assert set(specs) == {"observe", "op-operate", "op-guardrails", "require-mfa"}
    granted = {a for s in specs.values() for st in s.statements if st["Effect"] == "Allow" for a in st["Action"]}
    assert {a.split(":")[0] for a in granted} == {"logs", "cloudwatch", "kms", "sns", "iam"}
    guardrails = {st["Sid"] for st in specs["op-guardrails"].statements}
    assert guardrails == {"DenyIdentityAndPolicyManagement", "DenyDisablingOrDeletingTheKeys"}


def test_ingest_off_removes_every_ingest_grant_from_the_program() -> None:
    overrides: dict[str, Any] = {
        "uba:ingest": {**load_stack_config("dev")["uba:ingest"], "enabled": False},
        "uba:edge": {**load_stack_config("dev")["uba:edge"], "enabled": False},
        "uba:streaming": {**load_stack_config("dev")["uba:streaming"], "enabled": False},
        "uba:lake": {**load_stack_config("dev")["uba:lake"], "enabled": False},
        "uba:warehouse": {**load_stack_config("dev")["uba:warehouse"], "enabled": False},
        "uba:live": {"enabled": False},
    }
    run = run_stack("dev", overrides=overrides)
    assert "policy-dev-build" not in {p.name for p in run.of_type(POLICY)}  # nothing to build without ingest
    text = json.dumps([run.policy(p) for p in run.of_type(POLICY)])
    for absent in ("kinesis:", "lambda:", "execute-api:", "apigateway:", "s3:", "athena:", "dynamodb:", "redshift"):
        assert absent not in text, absent


def test_streaming_off_removes_every_streaming_grant_and_nothing_else() -> None:
    streaming = {**load_stack_config("dev")["uba:streaming"], "enabled": False}
    live_off = {"uba:live": {"enabled": False}}  # the live tier reads streaming's table: off with it
    run = run_stack("dev", overrides={"uba:streaming": streaming, **live_off})
    full = run_stack("dev", overrides=live_off)
    text = json.dumps([run.policy(p) for p in run.of_type(POLICY)])
    # The edge tier keeps its own queues (sqs:), so the sink's queue is looked for by name.
    for absent in ("kinesisanalytics:", "dynamodb:", "alert-sink-dlq", "alerts", "anomaly-detection", "alert-sink"):
        assert absent not in text, absent
    # The other tiers' grants are untouched: the lake and warehouse statements are the same as with streaming on.
    assert run.policy(run.one(POLICY, "policy-analyse")) == full.policy(full.one(POLICY, "policy-analyse"))
    others = ("DenyDeletingLakeObjects", "DenyChangingDelivery", "DenyChangingTheWorkgroup",
              "DenyChangingTheServerlessWarehouse", "DenyRedirectingOrRemovingApiAccessLogs")  # fmt: skip

    def guardrails(r: StackRun) -> list[dict[str, Any]]:
        return [s for s in r.policy(r.one(POLICY, "policy-op-guardrails"))["Statement"] if s["Sid"] in others]

    assert len(guardrails(run)) == len(others) and guardrails(run) == guardrails(full)


def test_deployments_run_as_the_ci_role_so_the_mfa_rule_on_admin_cannot_lock_them_out() -> None:
    """Who deploys: the workflow's jobs, as a role assumed through OIDC, which is in no group of the
    stack; the deny-unless-MFA statement binds only group members (people). A person who runs
    `pulumi up` by hand is in admin and signs the session with MFA (`sts:GetSessionToken` stays
    allowed without it); long-term keys alone are refused by design."""
    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "pulumi.yml").read_text())
    deploying = {name: job for name, job in workflow["jobs"].items()
                 if any(s.get("with", {}).get("command") == "up" for s in job["steps"])}  # fmt: skip
    assert set(deploying) == {"deploy-dev", "deploy-prod"}
    for job in deploying.values():
        (credentials,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("aws-actions/")]
        assert set(credentials["with"]) == {"role-to-assume", "role-session-name", "aws-region"}  # no access keys
        assert job["permissions"]["id-token"] == "write"
    for stack in ("dev", "prod"):
        run = run_stack(stack)
        mfa = run.one(POLICY, "policy-require-mfa")
        holders = {a.inputs["group"] for a in run.of_type(ATTACHMENT) if a.inputs["policyArn"] == mfa.state["arn"]}
        assert holders == {f"uba-{stack}-{p.lower()}" for p in PERSONAS}  # groups only: roles never carry it
        deny = next(s for s in run.policy(mfa)["Statement"] if s["Effect"] == "Deny")
        assert "sts:GetSessionToken" in deny["NotAction"]
    readme = " ".join((PROJECT_DIR / "README.md").read_text().replace("**", "").split())  # the docs agree
    assert "deployments run as the CI deployment role" in readme
    assert "signs the session with MFA first (`aws sts get-session-token --serial-number" in readme
