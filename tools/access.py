"""`python -m tools.access <stack> [--format table|json]`: who is in which group, and what each group may do.

Runs the program for the stack offline (`tools.mockengine.run_isolated`), reads the staff
memberships and the policies attached to each group from what the program registered,
and decides concrete capabilities — one AWS action on one resource of this stack (or,
for the cross-stack rows, of the other stacks) — for each persona with `tools.iam_eval`,
i.e. moto's IAM policy engine. Nothing here restates what a group ought to do: every
answer comes from the policy documents the program generates.

Requests are those of a console session signed in with MFA, unless a row says otherwise.
Only identity policies are evaluated; see `tools.iam_eval` for what is not modelled.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from components.access_policies import (
    ADMINISTRATOR_ACCESS_ARN,
    ADMINISTRATOR_ACCESS_DOCUMENT,
    PERSONAS,
    AccessTargets,
    Persona,
)
from tools.iam_eval import RequestContext, UnmodelledPolicyError, evaluate
from tools.mockengine import ProgramError, RegisteredResource, Snapshot, available_stacks, run_isolated

# A console session signed in with MFA; `aws:username` feeds the self-service MFA statements.
SESSION: dict[str, str] = {"aws:MultiFactorAuthPresent": "true", "aws:username": "staff.member"}
SAMPLE_EVENTS_OBJECT = "events/year=2026/month=01/day=15/hour=09/uba-events-1-2026-01-15-09-00-00.parquet"
SAMPLE_ERRORS_OBJECT = "errors/format-conversion-failed/2026/01/15/09/uba-errors-1.gz"


# --- reading the snapshot --------------------------------------------------------------------------------


def _of_type(snapshot: Snapshot, type_token: str) -> list[RegisteredResource]:
    return [r for r in snapshot.resources if r.type == type_token]


def _find(snapshot: Snapshot, type_token: str, name: str | None = None) -> RegisteredResource | None:
    found = [r for r in _of_type(snapshot, type_token) if name is None or r.name == name]
    if len(found) > 1:
        raise ProgramError(f"stack {snapshot.stack}: {len(found)} resources {type_token} {name or ''}, expected one")
    return found[0] if found else None


def _arn(snapshot: Snapshot, type_token: str, name: str | None = None) -> str | None:
    resource = _find(snapshot, type_token, name)
    return None if resource is None else str(resource.state["arn"])


def _group_personas(snapshot: Snapshot) -> dict[str, Persona]:
    """IAM group name -> persona, from the access tier's groups (`group-<persona>`)."""
    personas: dict[str, Persona] = {}
    for group in _of_type(snapshot, "aws:iam/group:Group"):
        persona = group.name.removeprefix("group-")
        if persona in PERSONAS:
            personas[str(group.inputs["name"])] = persona
    return personas


def _document(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def group_documents(snapshot: Snapshot) -> dict[Persona, list[dict[str, Any]]]:
    """Every policy document each group holds: attached managed policies and inline group policies."""
    personas = _group_personas(snapshot)
    managed = {str(p.state["arn"]): _document(p.inputs["policy"]) for p in _of_type(snapshot, "aws:iam/policy:Policy")}
    documents: dict[Persona, list[dict[str, Any]]] = {persona: [] for persona in personas.values()}
    for attachment in _of_type(snapshot, "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"):
        arn = str(attachment.inputs["policyArn"])
        if arn == ADMINISTRATOR_ACCESS_ARN:
            document = ADMINISTRATOR_ACCESS_DOCUMENT
        elif arn in managed:
            document = managed[arn]
        else:
            raise UnmodelledPolicyError(f"group policy {arn} is neither the program's own nor AdministratorAccess")
        documents[personas[str(attachment.inputs["group"])]].append(document)
    for inline in _of_type(snapshot, "aws:iam/groupPolicy:GroupPolicy"):
        documents[personas[str(inline.inputs["group"])]].append(_document(inline.inputs["policy"]))
    return documents


@dataclass(frozen=True)
class StaffEntry:
    user: str
    groups: list[Persona]
    created_by_stack: bool


def staff(snapshot: Snapshot) -> list[StaffEntry]:
    personas = _group_personas(snapshot)
    created = {str(u.inputs["name"]) for u in _of_type(snapshot, "aws:iam/user:User")}
    entries = [
        StaffEntry(
            user=str(m.inputs["user"]),
            groups=[personas[str(g)] for g in m.inputs["groups"]],
            created_by_stack=str(m.inputs["user"]) in created,
        )
        for m in _of_type(snapshot, "aws:iam/userGroupMembership:UserGroupMembership")
    ]
    return sorted(entries, key=lambda entry: (PERSONAS.index(entry.groups[0]), entry.user.lower()))


def targets_from_snapshot(snapshot: Snapshot) -> AccessTargets[str]:
    """The stack's resources as the access tier names them, read back from what the program registered."""
    platform = _find(snapshot, "uba:platform:Platform")
    provider = _find(snapshot, "pulumi:providers:aws")
    key_arn = _arn(snapshot, "aws:kms/key:Key")
    if platform is None or provider is None or key_arn is None:
        raise ProgramError(f"stack {snapshot.stack}: no platform, provider or KMS key registered")
    api = _find(snapshot, "aws:apigateway/restApi:RestApi")
    stage = _find(snapshot, "aws:apigateway/stage:Stage")
    api_key = _find(snapshot, "aws:apigateway/apiKey:ApiKey")
    return AccessTargets[str](
        prefix=platform.name,
        region=str(provider.inputs["region"]),
        account_id=key_arn.split(":")[4],
        kms_key_arn=key_arn,
        ops_topic_arn=str(_arn(snapshot, "aws:sns/topic:Topic", "ops-topic")),
        events_stream_arn=_arn(snapshot, "aws:kinesis/stream:Stream", "events-stream"),
        ingest_function_arn=_arn(snapshot, "aws:lambda/function:Function", "ingest-function"),
        api_id=None if api is None else str(api.state["id"]),
        api_stage=None if stage is None else str(stage.inputs["stageName"]),
        api_key_id=None if api_key is None else str(api_key.state["id"]),
    )


# --- capabilities ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Capability:
    id: str
    description: str
    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)  # on top of `SESSION`


@dataclass(frozen=True)
class Landmarks:
    """Concrete resources of one stack that the capabilities are tried on."""

    targets: AccessTargets[str]
    snapshot: Snapshot

    def arn(self, type_token: str, name: str | None = None) -> str | None:
        return _arn(self.snapshot, type_token, name)

    @property
    def events_route(self) -> str | None:
        api = _find(self.snapshot, "aws:apigateway/restApi:RestApi")
        stage = self.targets.api_stage
        return None if api is None or stage is None else f"{api.state['executionArn']}/{stage}/POST/events"

    def first_arn(self, type_token: str) -> str | None:
        found = _of_type(self.snapshot, type_token)
        return str(found[0].state["arn"]) if found else None

    def group_arn(self, persona: Persona) -> str | None:
        return self.arn("aws:iam/group:Group", f"group-{persona}")

    def log_group_arn(self, name: str) -> str | None:
        return self.arn("aws:cloudwatch/logGroup:LogGroup", name)

    def object_arn(self, bucket_arn: str | None, key: str) -> str | None:
        return None if bucket_arn is None else f"{bucket_arn}/{key}"


def _own(stack: Landmarks) -> Iterator[Capability | None]:
    t = stack.targets
    iam = f"arn:aws:iam::{t.account_id}"

    def cap(id_: str, description: str, action: str, resource: str | None, **context: Any) -> Capability | None:
        return None if resource is None else Capability(id_, description, action, resource, dict(context))

    # ingest
    yield cap("api.invoke", "send a test event through the API", "execute-api:Invoke", stack.events_route)
    yield cap("events.put", "put a record on the events stream", "kinesis:PutRecord", t.events_stream_arn)
    yield cap("events.read", "read raw events from the events stream", "kinesis:GetRecords", t.events_stream_arn)
    yield cap("events.describe", "describe the events stream", "kinesis:DescribeStreamSummary", t.events_stream_arn)
    yield cap("ingest.code", "ship new code to the ingest Lambda", "lambda:UpdateFunctionCode", t.ingest_function_arn)
    yield cap(
        "ingest.configure", "reconfigure the ingest Lambda", "lambda:UpdateFunctionConfiguration", t.ingest_function_arn
    )
    yield cap(
        "ingest.stop", "throttle the ingest Lambda to zero", "lambda:PutFunctionConcurrency", t.ingest_function_arn
    )
    yield cap(
        "ingest.logs", "read the ingest Lambda's logs", "logs:FilterLogEvents", stack.log_group_arn("ingest-logs")
    )
    yield cap(
        "api.key",
        "read the test client's API key",
        "apigateway:GET",
        None if t.api_key_id is None else f"arn:aws:apigateway:{t.region}::/apikeys/{t.api_key_id}",
    )
    yield cap(
        "api.throttle", "change the API stage's throttling", "apigateway:PATCH", stack.arn("aws:apigateway/stage:Stage")
    )
    # core and observability
    yield cap("metrics.read", "read CloudWatch metrics", "cloudwatch:GetMetricData", "*")
    yield cap(
        "alarm.change",
        "change an alarm",
        "cloudwatch:PutMetricAlarm",
        stack.first_arn("aws:cloudwatch/metricAlarm:MetricAlarm"),
    )
    yield cap(
        "alarm.delete",
        "delete an alarm",
        "cloudwatch:DeleteAlarms",
        stack.first_arn("aws:cloudwatch/metricAlarm:MetricAlarm"),
    )
    yield cap(
        "dashboard.view",
        "view the ops dashboard",
        "cloudwatch:GetDashboard",
        stack.first_arn("aws:cloudwatch/dashboard:Dashboard"),
    )
    yield cap(
        "dashboard.edit",
        "edit the ops dashboard",
        "cloudwatch:PutDashboard",
        stack.first_arn("aws:cloudwatch/dashboard:Dashboard"),
    )
    yield cap("ops-topic.publish", "publish to the ops topic", "sns:Publish", t.ops_topic_arn)
    yield cap("key.decrypt", "decrypt directly with the platform key", "kms:Decrypt", t.kms_key_arn)
    yield cap(
        "key.schedule-deletion", "schedule deletion of the platform key", "kms:ScheduleKeyDeletion", t.kms_key_arn
    )
    yield cap("key.disable", "disable the platform key", "kms:DisableKey", t.kms_key_arn)
    # identities
    yield cap("iam.create-user", "create an IAM user", "iam:CreateUser", f"{iam}:user/mallory")
    yield cap(
        "iam.create-access-key", "create access keys for a staff user", "iam:CreateAccessKey", f"{iam}:user/omar.ops"
    )
    yield cap("iam.attach-policy", "attach a policy to the op group", "iam:AttachGroupPolicy", stack.group_arn("op"))
    yield cap("iam.join-admin", "add a user to the admin group", "iam:AddUserToGroup", stack.group_arn("admin"))
    yield cap(
        "iam.pass-role",
        "pass the ingest Lambda's role to a service",
        "iam:PassRole",
        stack.arn("aws:iam/role:Role", "ingest-role"),
    )
    # MFA: a console session that has not signed in with MFA
    no_mfa = {"aws:MultiFactorAuthPresent": "false", "aws:username": "dana.dev"}
    yield cap("no-mfa.metrics", "read metrics without MFA", "cloudwatch:GetMetricData", "*", **no_mfa)
    yield cap(
        "no-mfa.enable-own-mfa",
        "enable one's own MFA device without MFA",
        "iam:EnableMFADevice",
        f"{iam}:user/dana.dev",
        **no_mfa,
    )
    yield cap(
        "no-mfa.enable-other-mfa",
        "enable an MFA device on someone else without MFA",
        "iam:EnableMFADevice",
        f"{iam}:user/omar.ops",
        **no_mfa,
    )
    yield from _own_streaming(stack, cap)
    yield from _own_lake(stack, cap)
    yield from _own_warehouse(stack, cap)


CapabilityFactory = Callable[..., Capability | None]


def _own_streaming(stack: Landmarks, cap: CapabilityFactory) -> Iterator[Capability | None]:
    return iter(())


def _own_lake(stack: Landmarks, cap: CapabilityFactory) -> Iterator[Capability | None]:
    return iter(())


def _own_warehouse(stack: Landmarks, cap: CapabilityFactory) -> Iterator[Capability | None]:
    return iter(())


def _cross(other: Landmarks) -> Iterator[Capability | None]:
    t = other.targets
    stack = other.snapshot.stack

    def cap(id_: str, description: str, action: str, resource: str | None, **context: Any) -> Capability | None:
        if resource is None:
            return None
        return Capability(f"{stack}:{id_}", f"{description} of stack {stack}", action, resource, dict(context))

    yield cap("events.put", "put a record on the events stream", "kinesis:PutRecord", t.events_stream_arn)
    yield cap("events.read", "read the events stream", "kinesis:GetRecords", t.events_stream_arn)
    yield cap("ingest.code", "ship code to the ingest Lambda", "lambda:UpdateFunctionCode", t.ingest_function_arn)
    yield cap(
        "ingest.logs", "read the ingest Lambda's logs", "logs:FilterLogEvents", other.log_group_arn("ingest-logs")
    )
    yield cap("api.invoke", "send an event through the API", "execute-api:Invoke", other.events_route)
    yield cap(
        "alarm.change",
        "change an alarm",
        "cloudwatch:PutMetricAlarm",
        other.first_arn("aws:cloudwatch/metricAlarm:MetricAlarm"),
    )


def capabilities(own: Landmarks, others: list[Landmarks]) -> list[Capability]:
    found = [c for c in _own(own) if c is not None]
    for other in others:
        found.extend(c for c in _cross(other) if c is not None)
    return found


# --- the matrix ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    persona: Persona
    capability: str
    description: str
    action: str
    resource: str
    context: dict[str, Any]
    allowed: bool
    outcome: str


def matrix(snapshot: Snapshot, others: list[Snapshot]) -> list[Verdict]:
    """Each persona's decision on each capability, from the group policies the program generated."""
    documents = group_documents(snapshot)
    own = Landmarks(targets_from_snapshot(snapshot), snapshot)
    other_landmarks = [Landmarks(targets_from_snapshot(o), o) for o in others]
    verdicts = []
    for capability in capabilities(own, other_landmarks):
        context: RequestContext = {**SESSION, **capability.context}
        for persona in PERSONAS:
            decision = evaluate(documents.get(persona, []), capability.action, capability.resource, context)
            verdicts.append(
                Verdict(persona, capability.id, capability.description, capability.action, capability.resource,
                        capability.context, decision.allowed, decision.outcome)
            )  # fmt: skip
    return verdicts


def report(stack: str, others: list[str] | None = None) -> dict[str, Any]:
    """The JSON document: staff with their groups, and the matrix."""
    snapshot = run_isolated(stack)
    names = others if others is not None else [s for s in available_stacks() if s != stack]
    other_snapshots = [run_isolated(name) for name in names]
    return {
        "stack": stack,
        "staff": [
            {"user": e.user, "groups": e.groups, "created_by_stack": e.created_by_stack} for e in staff(snapshot)
        ],
        "matrix": [asdict(v) for v in matrix(snapshot, other_snapshots)],
    }


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


def render_table(doc: Mapping[str, Any]) -> str:
    lines = [f"Staff of stack {doc['stack']}"]
    lines += _table(
        [["user", "groups", "user created by the stack"]]
        + [[e["user"], ", ".join(e["groups"]), "yes" if e["created_by_stack"] else "no"] for e in doc["staff"]]
    )
    lines += ["", "Access matrix: the group policies the program generates, evaluated with moto's IAM engine",
              "(a console session signed in with MFA unless the capability says otherwise)"]  # fmt: skip
    by_capability: dict[str, dict[str, Any]] = {}
    for verdict in doc["matrix"]:
        row = by_capability.setdefault(verdict["capability"], {"verdict": verdict, "personas": {}})
        row["personas"][verdict["persona"]] = "allow" if verdict["allowed"] else "deny"
    rows = [["capability", "action", "resource", *PERSONAS]]
    for row in by_capability.values():
        verdict = row["verdict"]
        rows.append([verdict["description"], verdict["action"], verdict["resource"],
                     *(row["personas"].get(p, "") for p in PERSONAS)])  # fmt: skip
    lines += _table(rows)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("stack")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    args = parser.parse_args(argv)
    try:
        doc = report(args.stack)
    except ProgramError as error:
        print(error, file=sys.stderr)
        return 2
    print(json.dumps(doc, indent=2) if args.format == "json" else render_table(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
