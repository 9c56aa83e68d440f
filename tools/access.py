"""`python -m tools.access <stack> [--format table|json]`: who is in which group, and what each group may do.

Also `python -m tools.access cross-stack` (every stack file at once: no group's grant reaches another
stack, and no prefix extends another's) and `python -m tools.access check-users <stack>` (the staff
users the stack does not create exist in the account; run it before a first `pulumi up`).

Runs the program for the stack offline (`tools.engine.mocks.run_isolated`), reads the staff
memberships and the policies attached to each group from what the program registered,
and decides concrete capabilities — one AWS action on one resource of this stack (or,
for the cross-stack rows, of the other stacks) — for each persona with `tools.iam.evaluate`,
i.e. moto's IAM policy engine. Nothing here restates what a group ought to do: every
answer comes from the policy documents the program generates.

Requests are those of a console session signed in with MFA, unless a row says otherwise.
Only identity policies are evaluated; see `tools.iam.evaluate` for what is not modelled.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from settings import PERSONAS, Persona, SettingsError, overlapping_prefixes
from tools.engine.mocks import (
    ProgramError,
    Snapshot,
    available_stacks,
    load_stack_config,
    run_isolated,
    stack_settings,
)
from tools.iam.capabilities import Capability, Landmarks, capabilities
from tools.iam.evaluate import Decision, evaluate
from tools.iam.snapshot import code_paths, group_documents, role_documents, staff, targets_from_snapshot
from tools.progress import bar

# A console session signed in with MFA; `aws:username` feeds the self-service MFA statements.
SESSION: dict[str, str] = {"aws:MultiFactorAuthPresent": "true", "aws:username": "staff.member"}


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
    via_role: str | None = None  # allowed only through the role of code the persona may ship


def reachable_roles(snapshot: Snapshot, documents: list[dict[str, Any]]) -> list[str]:
    """The roles whose code (or code-loading configuration) a holder of `documents` may change.

    Changing a function's code runs any code as its role, so whoever may do it holds that
    role's permissions too; the matrix evaluates those as well.
    """
    reached = {path.role_arn for path in code_paths(snapshot)
               if evaluate(documents, path.action, path.resource, SESSION).allowed}  # fmt: skip
    return sorted(reached)


def _decide(
    snapshot: Snapshot, documents: list[dict[str, Any]], roles: list[str], capability: Capability
) -> tuple[Decision, str | None]:
    """The persona's own decision, or, where that refuses, an allow through a role it can run code as."""
    direct = evaluate(documents, capability.action, capability.resource, {**SESSION, **capability.context})
    if direct.allowed:
        return direct, None
    for role in roles:
        # The role's requests carry the service's context (e.g. kms:ViaService), never the person's session.
        if evaluate(role_documents(snapshot, role), capability.action, capability.resource, capability.context).allowed:
            return Decision("allowed"), role
    return direct, None


def matrix(snapshot: Snapshot, others: list[Snapshot]) -> list[Verdict]:
    """Each persona's decision on each capability, from the group policies the program generated,
    including what it reaches through the roles of code it may change."""
    documents = group_documents(snapshot)
    roles = {persona: reachable_roles(snapshot, documents.get(persona, [])) for persona in PERSONAS}
    own = Landmarks(targets_from_snapshot(snapshot), snapshot)
    other_landmarks = [Landmarks(targets_from_snapshot(o), o) for o in others]
    verdicts = []
    for capability in capabilities(own, other_landmarks):
        for persona in PERSONAS:
            decision, via = _decide(snapshot, documents.get(persona, []), roles[persona], capability)
            outcome = decision.outcome if via is None else f"allowed through {via.rsplit('/', 1)[-1]}"
            verdicts.append(
                Verdict(persona, capability.id, capability.description, capability.action, capability.resource,
                        capability.context, decision.allowed, outcome, via)
            )  # fmt: skip
    return verdicts


def cross_stack_allows(snapshots: list[Snapshot]) -> list[Verdict]:
    """Every request a non-admin persona of one stack may make on another stack's resources.

    Each stack file's groups against every other stack file's resources at once: an empty list is
    the proof that no grant (nor any role reached through code) crosses a stack boundary.
    """
    found = []
    for snapshot in snapshots:
        others = [other for other in snapshots if other.stack != snapshot.stack]
        found += [v for v in matrix(snapshot, others) if ":" in v.capability and v.allowed and v.persona != "admin"]
    return found


def build_report(snapshot: Snapshot, others: list[Snapshot]) -> dict[str, Any]:
    """The JSON document: staff with their groups, and the matrix."""
    people = [{"user": e.user, "groups": e.groups, "created_by_stack": e.created_by_stack} for e in staff(snapshot)]
    return {"stack": snapshot.stack, "staff": people, "matrix": [asdict(v) for v in matrix(snapshot, others)]}


def report(stack: str) -> dict[str, Any]:
    """Run the program for the stack and for every other stack (the cross-stack rows), then report."""
    names = [stack, *(name for name in available_stacks() if name != stack)]
    with bar(desc="running the program", total=len(names) + 1, unit="step") as progress:
        snapshots = []
        for name in names:
            progress.set_postfix_str(f"stack {name}")
            snapshots.append(run_isolated(name))
            progress.update()
        progress.set_postfix_str("evaluating the policies")
        document = build_report(snapshots[0], snapshots[1:])
        progress.update()
    return document


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows]  # fmt: skip


# The compact view fits a terminal of this many columns; `--full` adds each row's action and resource.
COMPACT_WIDTH = 100


def _cell(verdict: Mapping[str, Any]) -> str:
    return ("allow*" if verdict["via_role"] else "allow") if verdict["allowed"] else "deny"


def _rows(doc: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], dict[str, str]]]:
    """One row per capability, in matrix order: its first verdict and each persona's cell."""
    by_capability: dict[str, tuple[Mapping[str, Any], dict[str, str]]] = {}
    for verdict in doc["matrix"]:
        _, cells = by_capability.setdefault(verdict["capability"], (verdict, {}))
        cells[verdict["persona"]] = _cell(verdict)
    return list(by_capability.values())


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def render_table(doc: Mapping[str, Any], *, full: bool = False, width: int = COMPACT_WIDTH) -> str:
    """Staff, then the matrix: by default one line per capability and persona verdicts, within
    `width` columns; with `full`, also the action and the exact resource evaluated (about 240)."""
    lines = [f"Staff of stack {doc['stack']}"]
    lines += _table(
        [["user", "groups", "user created by the stack"]]
        + [[e["user"], ", ".join(e["groups"]), "yes" if e["created_by_stack"] else "no"] for e in doc["staff"]]
    )
    lines += ["", "Access matrix: the group policies the program generates, evaluated with moto's IAM engine",
              "(a console session signed in with MFA unless the capability says otherwise)"]  # fmt: skip
    rows = _rows(doc)
    if full:
        table = [["capability", "action", "resource", *PERSONAS]]
        table += [[v["description"], v["action"], v["resource"], *(cells.get(p, "") for p in PERSONAS)]
                  for v, cells in rows]  # fmt: skip
    else:
        personas_width = sum(2 + max(len(p), len("allow*")) for p in PERSONAS)
        room = width - 2 - personas_width  # 2: the table's indent
        table = [["capability", *PERSONAS]]
        table += [[_shorten(v["description"], room), *(cells.get(p, "") for p in PERSONAS)] for v, cells in rows]
    lines += _table(table)
    lines += ["", "allow*: only through the role of code the group may ship (see --format json, via_role)"]
    if not full:
        lines.append("each row's action and exact resource: add --full (wide), or --format json")
    return "\n".join(lines)


def missing_users(stack: str, iam: Any) -> list[str]:
    """Staff entries of the stack whose IAM user must already exist but does not, one line each.

    A membership names an existing user; on a first `pulumi up` in an account without that user,
    AWS answers NoSuchEntity half way through. `iam` is a boto3 IAM client for the target account.
    """
    settings = stack_settings(stack)
    problems = []
    for member in settings.access.staff if settings.access.enabled else []:
        if member.create_user:
            continue
        try:
            iam.get_user(UserName=member.user)
        except iam.exceptions.NoSuchEntityException:
            problems.append(
                f"stack {stack}: IAM user {member.user} does not exist; either set `create_user: true` on its "
                f"access.staff entry, or create it first (aws iam create-user --user-name {member.user})"
            )
    return problems


def _check_users(stack: str) -> int:
    import boto3  # only this command talks to AWS

    problems = missing_users(stack, boto3.client("iam"))
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"stack {stack}: every staff user that the stack does not create exists")
    return 1 if problems else 0


def _cross_stack() -> int:
    stacks = available_stacks()
    prefixes = {stack: str(load_stack_config(stack)["uba:platform"]["prefix"]) for stack in stacks}
    overlapping = overlapping_prefixes(prefixes)
    for problem in overlapping:
        print(problem, file=sys.stderr)
    snapshots = [run_isolated(stack) for stack in bar(stacks, desc="running the program", unit="stack")]
    allows = cross_stack_allows(snapshots)
    for v in allows:
        print(f"{v.persona} may {v.description} ({v.action} on {v.resource}): {v.outcome}", file=sys.stderr)
    if not overlapping and not allows:
        print(f"no grant of any group reaches another stack's resources (stacks: {', '.join(stacks)})")
    return 1 if overlapping or allows else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.access", description=__doc__.splitlines()[0] if __doc__ else None
    )
    commands = parser.add_subparsers(dest="command")
    show = commands.add_parser("show", help="staff and the access matrix of one stack (the default command)")
    show.add_argument("stack")
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.add_argument(
        "--full", action="store_true", help=f"table with each row's action and resource (wider than {COMPACT_WIDTH})"
    )
    commands.add_parser("cross-stack", help="every stack file's groups against every other's resources; exit 1 "
                        "on any allow, or on a prefix that extends another")  # fmt: skip
    check = commands.add_parser("check-users", help="the staff users the stack does not create exist (boto3)")
    check.add_argument("stack")
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw and raw[0] not in ("show", "cross-stack", "check-users", "-h", "--help"):
        raw.insert(0, "show")  # `python -m tools.access <stack>` as before
    args = parser.parse_args(raw)
    try:
        if args.command == "cross-stack":
            return _cross_stack()
        if args.command == "check-users":
            return _check_users(args.stack)
        if args.command is None:
            parser.print_help()
            return 2
        doc = report(args.stack)
    except (ProgramError, SettingsError) as error:
        print(error, file=sys.stderr)
        return 2
    print(json.dumps(doc, indent=2) if args.format == "json" else render_table(doc, full=args.full))
    return 0


if __name__ == "__main__":
    sys.exit(main())
