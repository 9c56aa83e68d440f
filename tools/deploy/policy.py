"""Render the deploying identity's IAM policy for one stack from the table in `tools.deploy.actions`.

Statements group the actions that share resource patterns and a condition, so one statement covers,
say, every bucket-level action of every S3 type on `arn:aws:s3:::<prefix>-*`. The documents are
packed under IAM's managed-policy size limit (6,144 characters without whitespace) and named
`<prefix>-deploy-<n>` (or `<prefix>-preview-<n>`, read-only, for a role that only previews).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from components.access.policies import MANAGED_POLICY_MAX_CHARS, iam_path
from components.shared.arns import PARTITION, service_endpoints
from settings import Settings
from tools.deploy.actions import (
    INVOKES,
    KEY_GRANT_ACTIONS,
    KEY_USE_ACTIONS,
    KMS_KEYS,
    PHASES,
    PROVIDER,
    ROLES,
    TYPES,
    Condition,
    Phase,
)

ACTIONS_FILE = "tools/deploy/actions.py"
Statement = dict[str, Any]
Document = dict[str, Any]
READ_ONLY: tuple[Phase, ...] = ("read",)
# IAM's default quota of managed policies attached to one role (adjustable to 20).
MANAGED_POLICIES_PER_ROLE = 10
_ACCOUNT_ID = re.compile(r"^\d{12}$")


class MissingActionsError(LookupError):
    """The program creates a resource type, or calls a data source, that the table does not cover."""


@dataclass(frozen=True)
class Scope:
    """Where one stack's resources live: what the `{placeholders}` of the table's patterns stand for."""

    prefix: str
    region: str
    account: str
    partition: str = PARTITION

    def __post_init__(self) -> None:
        if not _ACCOUNT_ID.match(self.account):
            raise ValueError(f"account id must be 12 digits, got {self.account!r}")

    @classmethod
    def of(cls, settings: Settings, account: str) -> Scope:
        return cls(prefix=settings.platform.prefix, region=settings.region, account=account)

    def render(self, pattern: str) -> str:
        return pattern.format(
            partition=self.partition,
            region=self.region,
            account=self.account,
            prefix=self.prefix,
            glue_prefix=self.prefix.replace("-", "_"),
            iam_path=iam_path(self.prefix),
        )


@dataclass(frozen=True)
class StateBackend:
    """A self-managed `s3://` state backend: its bucket, and the KMS key of its objects and of the stack's secrets."""

    bucket: str
    key_arn: str


def missing_types(types: Iterable[str]) -> list[str]:
    """Resource types (providers aside) that the table has no entry for."""
    return sorted({t for t in types if not t.startswith("pulumi:") and t not in TYPES})


def missing_invokes(invokes: Iterable[str]) -> list[str]:
    return sorted(set(invokes) - set(INVOKES))


def require_covered(types: Iterable[str], invokes: Iterable[str], where: str) -> None:
    """Refuse, naming each type or data source and the file to edit, when the table lacks an entry."""
    problems = [
        f"{where} creates {token}, which has no entry in {ACTIONS_FILE} (TYPES): add the IAM actions Pulumi "
        "needs to create, read, update and delete it"
        for token in missing_types(types)
    ] + [
        f"{where} calls the data source {token}, which has no entry in {ACTIONS_FILE} (INVOKES): add the IAM "
        "actions it needs"
        for token in missing_invokes(invokes)
    ]
    if problems:
        raise MissingActionsError("\n".join(problems))


class _Statements:
    """Statements keyed by (resources, condition), so actions on the same patterns share one statement."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._actions: dict[tuple[tuple[str, ...], str], dict[str, None]] = {}

    def add(self, patterns: Iterable[str], actions: Iterable[str], condition: Condition | None = None) -> None:
        actions = list(actions)
        if not actions:
            return
        resources = tuple(sorted({self.scope.render(p) for p in patterns}))
        rendered = _render_condition(condition, self.scope) if condition else None
        key = (resources, json.dumps(rendered, sort_keys=True) if rendered else "")
        self._actions.setdefault(key, {}).update(dict.fromkeys(actions))

    def render(self) -> list[Statement]:
        statements: list[Statement] = []
        for (resources, condition), actions in sorted(self._actions.items()):
            statement: Statement = {
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": resources[0] if resources == ("*",) else list(resources),
            }
            if condition:
                statement["Condition"] = json.loads(condition)
            statements.append(statement)
        return [{"Sid": _sid(s, i), **s} for i, s in enumerate(statements, start=1)]


def _render_condition(condition: Condition, scope: Scope) -> dict[str, Any]:
    def value(v: Any) -> Any:
        return [scope.render(x) for x in v] if isinstance(v, list | tuple) else scope.render(str(v))

    return {operator: {key: value(v) for key, v in pairs.items()} for operator, pairs in condition.items()}


def _sid(statement: Statement, index: int) -> str:
    """`Kinesis3`: the service of the statement's first action, and its place in the policy.

    Statements on `*` (actions AWS authorises on no resource) are `Unscoped<n>`.
    """
    if statement["Resource"] == "*":
        return f"Unscoped{index}"
    service = str(statement["Action"][0]).split(":")[0]
    return "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]", service)) + str(index)


def statements(
    types: Iterable[str],
    invokes: Iterable[str],
    scope: Scope,
    phases: tuple[Phase, ...] = PHASES,
    state: StateBackend | None = None,
) -> list[Statement]:
    """Every statement the deploying identity needs for these resource types and data sources."""
    types, invokes = sorted(set(types)), sorted(set(invokes))
    require_covered(types, invokes, "the program")
    out = _Statements(scope)
    out.add(PROVIDER.on, PROVIDER.actions)
    for token in invokes:
        out.add(INVOKES[token].on, INVOKES[token].actions)
    passed_to: set[str] = set()
    key_services: set[str] = set()
    for token in (t for t in types if t in TYPES):
        entry = TYPES[token]
        for grant in entry.grants:
            out.add(grant.on, grant.actions(phases), grant.condition)
        passed_to.update(entry.passes_role_to)
        key_services.update(entry.key_used_via)
    if passed_to and "create" in phases:
        out.add(ROLES, ["iam:PassRole"], {"StringEquals": {"iam:PassedToService": sorted(passed_to)}})
    if key_services:
        via: Condition = {"StringEquals": {"kms:ViaService": service_endpoints(scope.region, *sorted(key_services))}}
        out.add(KMS_KEYS, [a for phase in phases for a in KEY_USE_ACTIONS[phase]], via)
        grant_condition: Condition = {**via, "Bool": {"kms:GrantIsForAWSResource": "true"}}
        out.add(KMS_KEYS, [a for phase in phases for a in KEY_GRANT_ACTIONS[phase]], grant_condition)
    if state is not None:
        _add_state_backend(out, state, phases)
    return out.render()


def _add_state_backend(out: _Statements, state: StateBackend, phases: tuple[Phase, ...]) -> None:
    """What the S3 backend needs under `.pulumi/` (state, history, locks), and its KMS key.

    A preview takes the stack's lock too, so even a read-only identity writes and deletes objects there.
    """
    bucket = f"arn:{{partition}}:s3:::{state.bucket}"
    out.add([bucket], ["s3:ListBucket"])
    out.add([f"{bucket}/.pulumi/*"], ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"])
    writes = "create" in phases or "update" in phases
    # Objects are SSE-KMS with the key (GenerateDataKey to write, Decrypt to read); the stack's secrets
    # are encrypted with it by the CLI (Encrypt, Decrypt).
    actions = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"] + (["kms:Encrypt"] if writes else [])
    out.add([state.key_arn], actions)


def managed_policy_size(document: Document) -> int:
    """Characters IAM counts against the managed-policy limit: the JSON without whitespace."""
    return len(re.sub(r"\s", "", json.dumps(document)))


def documents(all_statements: list[Statement], limit: int = MANAGED_POLICY_MAX_CHARS) -> list[Document]:
    """The statements packed into as few policy documents as fit the limit (first fit, largest first).

    A statement too large for one document on its own is split by its actions.
    """
    pieces: list[Statement] = []
    for statement in all_statements:
        pieces.extend(_split(statement, limit))
    pieces.sort(key=lambda s: -managed_policy_size(_document([s])))
    packed: list[list[Statement]] = []
    for piece in pieces:
        for bucket in packed:
            if managed_policy_size(_document([*bucket, piece])) <= limit:
                bucket.append(piece)
                break
        else:
            packed.append([piece])
    return [_document(sorted(bucket, key=lambda s: str(s["Sid"]))) for bucket in packed]


def _document(statements: list[Statement]) -> Document:
    return {"Version": "2012-10-17", "Statement": statements}


def _split(statement: Statement, limit: int) -> list[Statement]:
    if managed_policy_size(_document([statement])) <= limit:
        return [statement]
    actions = list(statement["Action"])
    if len(actions) == 1:
        raise ValueError(f"statement {statement['Sid']} alone exceeds {limit} characters")
    half = len(actions) // 2
    first = {**statement, "Sid": f"{statement['Sid']}a", "Action": actions[:half]}
    second = {**statement, "Sid": f"{statement['Sid']}b", "Action": actions[half:]}
    return _split(first, limit) + _split(second, limit)


def policy_names(prefix: str, count: int, read_only: bool) -> list[str]:
    kind = "preview" if read_only else "deploy"
    return [f"{prefix}-{kind}-{n}" for n in range(1, count + 1)]


def actions_by_type(types: Iterable[str]) -> Mapping[str, Mapping[Phase, list[str]]]:
    """For people: each type's actions by phase (patterns and conditions left out)."""
    table: dict[str, dict[Phase, list[str]]] = {}
    for token in sorted(set(types) & set(TYPES)):
        by_phase: dict[Phase, list[str]] = {}
        for phase in PHASES:
            actions = {a for grant in TYPES[token].grants for a in getattr(grant, phase)}
            if phase == "create" and TYPES[token].passes_role_to:
                actions.add("iam:PassRole")
            by_phase[phase] = sorted(actions)
        table[token] = by_phase
    return table
