"""`python -m tools.access <stack> [--format table|json]`: who is in which group, and what each group may do.

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

from settings import PERSONAS, Persona
from tools.engine.mocks import ProgramError, Snapshot, available_stacks, run_isolated
from tools.iam.capabilities import Landmarks, capabilities
from tools.iam.evaluate import RequestContext, evaluate
from tools.iam.snapshot import group_documents, staff, targets_from_snapshot

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


def build_report(snapshot: Snapshot, others: list[Snapshot]) -> dict[str, Any]:
    """The JSON document: staff with their groups, and the matrix."""
    people = [{"user": e.user, "groups": e.groups, "created_by_stack": e.created_by_stack} for e in staff(snapshot)]
    return {"stack": snapshot.stack, "staff": people, "matrix": [asdict(v) for v in matrix(snapshot, others)]}


def report(stack: str) -> dict[str, Any]:
    """Run the program for the stack and for every other stack (the cross-stack rows), then report."""
    others = [run_isolated(name) for name in available_stacks() if name != stack]
    return build_report(run_isolated(stack), others)


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
