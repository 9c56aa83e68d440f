"""`python -m tools.deploy_policy <stack> --account-id ID`: the IAM policy that may deploy the stack.

Generated from what the program creates, not "use admin": every pulumi-aws resource type and data
source has its actions in `tools/deploy/actions.py`, each scoped to the stack's names where AWS
allows it. The program runs offline first (as `tools.synth` does), and a type it creates that the
table does not cover stops the command, naming the type and the file to edit.

By default the policy covers every type the program can create in any configuration, so a change to
the stack file (a tier switched off, a cluster instead of Serverless) never needs a new policy first,
and deleting what a change removes is allowed too. `--only-current-config` narrows it to what this
stack file creates today; regenerate it before any change that adds a type, and keep the old one
until the types a change removes are gone.

`--read-only` gives the preview role: reads and data sources only (`pulumi preview`, `pulumi refresh`).
`--state-bucket` and `--state-key` add what a self-managed `s3://` backend needs (README).

Exit status: 0; 1 when the program creates a type the table does not cover; 2 for invalid arguments
or config.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from settings import SettingsError
from tools.deploy.actions import INVOKES, PHASES, TYPES
from tools.deploy.policy import (
    MANAGED_POLICIES_PER_ROLE,
    READ_ONLY,
    MissingActionsError,
    Scope,
    StateBackend,
    actions_by_type,
    documents,
    managed_policy_size,
    policy_names,
    require_covered,
    statements,
)
from tools.engine.mocks import PROJECT_DIR, ProgramError, available_stacks, run_isolated, stack_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.deploy_policy", description=__doc__.splitlines()[0])
    parser.add_argument("stack", help=f"stack name ({', '.join(available_stacks()) or 'none found'})")
    parser.add_argument("--account-id", required=True, metavar="ID", help="the 12-digit AWS account of the stack")
    parser.add_argument("--read-only", action="store_true", help="only what `pulumi preview` and `refresh` need")
    parser.add_argument(
        "--only-current-config",
        action="store_true",
        help="only the types this stack file creates today (regenerate before a change that adds one)",
    )
    parser.add_argument("--state-bucket", metavar="NAME", help="the s3:// state backend's bucket")
    parser.add_argument("--state-key", metavar="ARN", help="the KMS key of that bucket and of the stack's secrets")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write one <name>.json per policy here")
    parser.add_argument(
        "--format", choices=("json", "table"), default="json", help="table: each type's actions by phase"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a stuck program fails")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if bool(args.state_bucket) != bool(args.state_key):
        parser.error("--state-bucket and --state-key go together (the bucket and its KMS key)")
    try:
        scope = Scope.of(stack_settings(args.stack, args.project_dir), args.account_id)
        print(f"running the program for stack {args.stack!r} offline to list what it creates ...", file=sys.stderr)
        snapshot = run_isolated(args.stack, project_dir=args.project_dir, timeout=args.timeout)
    except (ProgramError, SettingsError, ValueError) as error:
        print(f"deploy_policy: {error}", file=sys.stderr)
        return 2
    created = {r.type for r in snapshot.resources if r.custom}
    try:
        require_covered(created, snapshot.invokes, f"stack {args.stack!r}")
    except MissingActionsError as error:
        print(error, file=sys.stderr)
        return 1
    types = created if args.only_current_config else set(TYPES)
    invokes = set(snapshot.invokes) if args.only_current_config else set(INVOKES)
    if args.format == "table":
        print(_table(actions_by_type(types)))
        return 0
    state = StateBackend(args.state_bucket, args.state_key) if args.state_bucket else None
    phases = READ_ONLY if args.read_only else PHASES
    policies = documents(statements(types, invokes, scope, phases, state))
    names = policy_names(scope.prefix, len(policies), args.read_only)
    if len(policies) > MANAGED_POLICIES_PER_ROLE:
        print(
            f"warning: {len(policies)} managed policies; a role takes {MANAGED_POLICIES_PER_ROLE} unless the "
            "quota is raised (IAM: managed policies per role, up to 20)",
            file=sys.stderr,
        )
    if args.out is None:
        print(json.dumps([{"name": n, "document": d} for n, d in zip(names, policies, strict=True)], indent=2))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, document in zip(names, policies, strict=True):
        path = args.out / f"{name}.json"
        path.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {path}  ({managed_policy_size(document):,} of 6,144 characters)")
    return 0


def _table(table: dict[str, dict[str, list[str]]] | object) -> str:
    assert isinstance(table, dict)
    lines: list[str] = []
    for token, by_phase in table.items():
        lines.append(token)
        for phase in PHASES:
            if by_phase[phase]:
                lines.append(f"  {phase:<7} {', '.join(by_phase[phase])}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
