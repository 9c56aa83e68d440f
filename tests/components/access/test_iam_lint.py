"""Every IAM policy document the program generates, linted with parliament, per stack.

Linted: the staff groups' policies, every service role's inline policy and trust policy,
and the resource policies (key, bucket, topic, queue). A trust policy has no Resource:
the resource it guards is the role itself, so it is linted with the role's ARN as its
Resource, which lets parliament check the action against the role's ARN format.

Findings fail the test unless listed in IGNORED, each with the reason it is deliberate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import parliament
import pulumi_aws as aws
import pytest

from components.access.policies import ACCOUNT_WIDE_ACTIONS
from components.search.delivery import VPC_DELIVERY_ACTIONS
from components.shared.functions import VPC_ACCESS_ACTIONS
from tests.support.config import provisioned_warehouse
from tests.support.harness import StackRun, run_stack
from tests.support.tokens import type_token

IDENTITY_POLICIES = {
    type_token(aws.iam.Policy): "policy",
    type_token(aws.iam.RolePolicy): "policy",
    type_token(aws.iam.GroupPolicy): "policy",
    type_token(aws.iam.UserPolicy): "policy",
}
RESOURCE_POLICIES = {
    type_token(aws.kms.Key): "policy",
    type_token(aws.s3.BucketPolicy): "policy",
    type_token(aws.sns.TopicPolicy): "policy",
    type_token(aws.sqs.QueuePolicy): "policy",
}
Document = dict[str, Any]


def _parsed(value: Any) -> Document:
    return json.loads(value) if isinstance(value, str) else dict(value)


def documents(run: StackRun) -> Iterator[tuple[str, Document]]:
    """(label, document) for every policy document in the stack."""
    for policy_type, key in {**IDENTITY_POLICIES, **RESOURCE_POLICIES}.items():
        for resource in run.of_type(policy_type):
            if key in resource.inputs:
                yield f"{resource.name} ({policy_type})", _parsed(resource.inputs[key])
    for role in run.of_type(type_token(aws.iam.Role)):
        trust = _parsed(role.inputs["assumeRolePolicy"])
        for statement in trust["Statement"]:
            assert "Resource" not in statement, role.name
            statement["Resource"] = role.state["arn"]
        yield f"{role.name} trust policy", trust
        for inline in role.inputs.get("inlinePolicies") or []:
            yield f"{role.name} inline {inline['name']}", _parsed(inline["policy"])


def _arn_like_only_on_encryption_context(document: Document) -> bool:
    keys = [key for s in document["Statement"] for key in (s.get("Condition") or {}).get("ArnLike", {})]
    return bool(keys) and all(k.startswith("kms:EncryptionContext:aws:") and k.endswith(":arn") for k in keys)


def _logs_describe_under_encryption_context(document: Document) -> bool:
    return any(
        "kms:Describe*" in s.get("Action", [])
        and "kms:EncryptionContext:aws:logs:arn" in json.dumps(s.get("Condition"))
        for s in document["Statement"]
    )


def _vpc_network_interfaces_only(document: Document) -> bool:
    starred = [s for s in document["Statement"] if s.get("Resource") == "*" and s["Effect"] == "Allow"
               and any(action.startswith("ec2:") for action in as_list(s["Action"]))]  # fmt: skip
    allowed = set(VPC_ACCESS_ACTIONS) | set(VPC_DELIVERY_ACTIONS)
    return bool(starred) and all(set(as_list(s["Action"])) <= allowed for s in starred)


def _resource_policy(document: Document) -> bool:
    return all("Principal" in s for s in document["Statement"])


def _describe_log_groups_in_this_account(document: Document) -> bool:
    """The statement lists log groups of one account and region (`log-group:*`), not every resource."""
    statement = next(s for s in document["Statement"] if "logs:DescribeLogGroups" in as_list(s["Action"]))
    return as_list(statement["Action"]) == ["logs:DescribeLogGroups"] and all(
        re.fullmatch(r"arn:aws:logs:[a-z0-9-]+:\d{12}:log-group:\*", arn) for arn in as_list(statement["Resource"])
    )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _access_logging_keys_on_stage_patch(document: Document) -> bool:
    statements = [s for s in as_list(document["Statement"])
                  if any("apigateway:Request/AccessLogging" in key for block in s.get("Condition", {}).values()
                         for key in block)]  # fmt: skip
    return bool(statements) and all(
        s["Effect"] == "Deny" and as_list(s["Action"]) == ["apigateway:PATCH"]
        and all("/stages/" in r for r in as_list(s["Resource"]))
        for s in statements
    )  # fmt: skip


def _stream_actions_on_a_table_stream(document: Document) -> bool:
    """Only the stream-read actions, only on an ARN of the form `...:table/<name>/stream/<label>`."""
    stream_actions = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
    for statement in document.get("Statement", []):
        actions = statement.get("Action")
        actions = {actions} if isinstance(actions, str) else set(actions or [])
        if actions & stream_actions:
            resources = statement.get("Resource")
            resources = [resources] if isinstance(resources, str) else list(resources or [])
            if not (actions <= stream_actions and all(re.search(r":table/[^/]+/stream/.+$", r) for r in resources)):
                return False
    return True


# (issue, text in the finding's detail) -> (why it is deliberate, a check that it is that case and no other)
IGNORED: dict[tuple[str, str], tuple[str, Callable[[Document], bool]]] = {
    ("MISMATCHED_TYPE", "ArnLike requires a value of type Arn"): (
        "parliament types the `kms:EncryptionContext:aws:<service>:arn` keys as String; AWS documents ArnLike for "
        "them (S3 and CloudWatch Logs encryption contexts) because the value is an ARN, with wildcards.",
        _arn_like_only_on_encryption_context,
    ),
    ("UNKNOWN_CONDITION_FOR_ACTION", "kms:EncryptionContext:aws:logs:arn for action kms:Describe"): (
        "the platform key's CloudWatch Logs statement is AWS's documented one, which grants kms:Describe* next to "
        "the data-key actions under the log-group encryption context; Describe calls carry no context, so the "
        "condition only ever narrows (never widens) that grant.",
        _logs_describe_under_encryption_context,
    ),
    ("RESOURCE_MISMATCH", "[{'action': 'logs:DescribeLogGroups', 'required_format': '*'}]"): (
        "parliament's database knows no resource for DescribeLogGroups; AWS authorises it on the account's "
        "`log-group:*` ARN, which Managed Flink's documented role policy uses and which is narrower than '*'.",
        _describe_log_groups_in_this_account,
    ),
    ("UNKNOWN_CONDITION_FOR_ACTION", "apigateway:Request/AccessLogging"): (
        "the Service Authorization Reference lists apigateway:Request/AccessLoggingDestination and "
        "AccessLoggingFormat among API Gateway's condition keys, for the stage PATCH (UpdateStage); parliament's "
        "per-action table lists only tag keys for PATCH, though its service-wide list has both.",
        _access_logging_keys_on_stage_patch,
    ),
    ("RESOURCE_STAR", "ec2:"): (
        "EC2 authorises describing subnets, security groups and network interfaces on no narrower resource, "
        "and the interfaces Lambda and Firehose create in the VPC get ids no policy can know in advance: the "
        "actions AWS documents for a function in a VPC (AWSLambdaVPCAccessExecutionRole) and for Firehose "
        "delivering into one, and nothing else, are granted on '*'.",
        _vpc_network_interfaces_only,
    ),
    ("RESOURCE_MISMATCH", "'required_format': 'arn:*:dynamodb:*:*:table/*/stream/*'"): (
        "a DynamoDB stream's ARN ends in its label, a timestamp with colons (`.../stream/2026-01-01T00:00:00.000`); "
        "parliament splits ARNs at every colon, so a real stream ARN never fits its own format there.",
        _stream_actions_on_a_table_stream,
    ),
    ("RESOURCE_STAR", ""): (
        'in a resource policy (here the KMS key policy) `Resource: "*"` means the resource the policy is '
        "attached to, the key itself, as AWS requires for key policies; identity policies get no such pass.",
        _resource_policy,
    ),
}


def findings(document: Document, community: bool = False) -> list[tuple[str, str]]:
    policy = parliament.analyze_policy_string(json.dumps(document), include_community_auditors=community)
    return [(f.issue, str(f.detail)) for f in policy.findings]


def unexplained(document: Document) -> list[tuple[str, str]]:
    remaining = []
    for issue, detail in findings(document):
        reason = next((check for (i, text), (_, check) in IGNORED.items() if i == issue and text in detail), None)
        if reason is None or not reason(document):
            remaining.append((issue, detail))
    return remaining


@pytest.mark.parametrize("stack", ["dev", "prod", "dev-provisioned-warehouse"])
def test_every_policy_document_passes_parliament(stack: str) -> None:
    run = run_stack("dev", overrides=provisioned_warehouse()) if stack.endswith("provisioned-warehouse") else None
    docs = list(documents(run or run_stack(stack)))
    labels = {label.split(" ")[0] for label, _ in docs}
    assert {"policy-op-operate", "policy-require-mfa", "ingest-role-policy", "ingest-role", "platform-key"} <= labels
    problems = {label: found for label, document in docs if (found := unexplained(document))}
    assert problems == {}


def test_the_lint_catches_what_it_is_for() -> None:
    """Guards against a vacuous lint: each finding class this suite relies on is really reported."""
    bucket = "arn:aws:s3:::uba-dev-lake"
    cases = {
        "UNKNOWN_ACTION": {"Effect": "Allow", "Action": "kinesis:PutRecordz", "Resource": "*"},
        "UNKNOWN_PREFIX": {"Effect": "Allow", "Action": "kinesys:PutRecord", "Resource": "*"},
        "RESOURCE_MISMATCH": {"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": bucket},
        "MALFORMED": {"Effect": "Allow", "Action": "kinesis:PutRecord"},
    }
    for issue, statement in cases.items():
        found = findings({"Version": "2012-10-17", "Statement": [statement]})
        assert issue in {i for i, _ in found}, (issue, found)
        assert unexplained({"Version": "2012-10-17", "Statement": [statement]}), issue


# Community auditors flag risky-but-intended grants; these are the reviewed ones, and only these.
REVIEWED_COMMUNITY_FINDINGS = {
    # Shipping Lambda code runs it with the function's role; those roles are least-privilege on this
    # stack's own resources, so the escalation stays inside the stack.
    ("policy-dev-build", "PRIVILEGE_ESCALATION"),
    # (op-operate no longer raises PRIVILEGE_ESCALATION: op ships no code.)
    # See IGNORED: the access-logging condition keys of a stage PATCH.
    ("policy-op-guardrails", "UNKNOWN_CONDITION_FOR_ACTION"),
    # Self-service: a user's own password and MFA devices.
    ("policy-require-mfa", "PERMISSIONS_MANAGEMENT_ACTIONS"),
}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_group_policies_raise_only_the_reviewed_community_findings(stack: str) -> None:
    run = run_stack(stack)
    found = {
        (policy.name, issue)
        for policy in run.of_type(type_token(aws.iam.Policy))
        for issue, _ in findings(run.policy(policy), community=True)
    }
    expected = {
        (name, issue) for name, issue in REVIEWED_COMMUNITY_FINDINGS if stack == "dev" or "dev-build" not in name
    }
    assert found == expected


def _privilege(action: str) -> dict[str, Any]:
    service, name = action.split(":")
    definition = next(s for s in parliament.iam_definition if s["prefix"] == service)
    return next(p for p in definition["privileges"] if p["privilege"] == name)


def test_account_wide_grants_are_only_reads_that_aws_cannot_scope() -> None:
    """The only actions a non-admin group holds on "*": no resource type exists for them, and they change nothing."""
    for action in sorted(ACCOUNT_WIDE_ACTIONS):
        privilege = _privilege(action)
        assert {r["resource_type"] for r in privilege["resource_types"]} <= {""}, action
        assert privilege["access_level"] in ("Read", "List"), action
