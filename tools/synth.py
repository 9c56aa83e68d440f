"""`python -m tools.synth <stack> [--json PATH] [--compare OLD.json]`: see what a stack would create, offline.

Runs the real program for the stack under the mock engine (no Pulumi CLI, no
credentials, no network), prints a tree of components and resources with counts
per type, checks it against the policy pack (`policies/`, with the stack's
`policies/config/<stack>.json`), and optionally writes the whole registration as JSON:
the property maps exactly as the engine would send them to the provider, and the
policy violations.

`--compare OLD.json` compares this synth with an earlier `--json` document (e.g. made
from main before a change) and lists the resources added, removed, renamed through an
alias, re-parented and changed, with the input paths that changed: what the change would
do to a stack deployed from the older program. Run it on every pull request.

Exit status: 0; 1 on any mandatory policy violation; 2 for invalid config (stack or
policy) or an unreadable compare document, one line per problem; 3 when `--compare`
finds a difference.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tools.engine.compare import compare
from tools.engine.compare import render as render_comparison
from tools.engine.mocks import (
    PROJECT_DIR,
    ProgramError,
    RegisteredResource,
    Snapshot,
    available_stacks,
    run_isolated,
)
from tools.engine.policy import (
    PolicyConfigError,
    Violation,
    evaluate,
    load_policy_config,
    mandatory,
    render,
    stack_policy_config,
)
from tools.progress import ticking


def document(snapshot: Snapshot, violations: list[Violation]) -> dict[str, Any]:
    """The JSON document `--json` writes."""
    return {
        "project": snapshot.project,
        "stack": snapshot.stack,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "custom": r.custom,
                "protect": r.protect,
                "retainOnDelete": r.retain_on_delete,
                "aliases": r.aliases,
                "inputs": r.inputs,
                "state": r.state,
            }
            for r in snapshot.resources
        ],
        "outputs": snapshot.outputs,
        "policy": {"violations": [v.to_json() for v in violations]},
    }


def _label(resource: RegisteredResource) -> str:
    flags = " [protected]" if resource.protect else ""
    return f"{resource.type}  {resource.name}{flags}"


def render_tree(snapshot: Snapshot) -> str:
    """Components and resources as an indented tree, then counts per type."""
    by_parent: dict[str | None, list[RegisteredResource]] = {}
    for resource in snapshot.resources:
        by_parent.setdefault(resource.parent, []).append(resource)
    known = {r.urn for r in snapshot.resources}
    roots = [r for r in snapshot.resources if r.parent not in known]

    lines = [f"stack {snapshot.project}/{snapshot.stack}"]

    def walk(resource: RegisteredResource, depth: int) -> None:
        lines.append(f"{'  ' * depth}- {_label(resource)}")
        for child in by_parent.get(resource.urn, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 1)

    counts = Counter(r.type for r in snapshot.resources if r.custom)
    lines.append("")
    lines.append(f"{sum(counts.values())} resources:")
    width = max((len(t) for t in counts), default=0)
    for type_token, count in sorted(counts.items()):
        lines.append(f"  {type_token.ljust(width)}  {count}")
    lines.append("")
    lines.append("outputs:")
    for key, value in snapshot.outputs.items():
        lines.append(f"  {key}: {value}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.synth", description=__doc__.splitlines()[0])
    parser.add_argument("stack", help=f"stack name ({', '.join(available_stacks()) or 'none found'})")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the registration document here")
    parser.add_argument(
        "--policy-pack-config",
        type=Path,
        metavar="PATH",
        help="policy config JSON, as for `pulumi preview --policy-pack-config` (default: policies/config/<stack>.json)",
    )
    parser.add_argument(
        "--compare", type=Path, metavar="OLD.json", help="list what differs from an earlier `--json` document"
    )
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a stuck program fails")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    try:
        earlier = _read_document(args.compare) if args.compare else None
        if args.policy_pack_config:
            policy_config = load_policy_config(args.policy_pack_config)
        else:
            policy_config = stack_policy_config(args.stack)
        with ticking(f"running the program for stack {args.stack}"):
            snapshot = run_isolated(args.stack, project_dir=args.project_dir, timeout=args.timeout)
    except (ProgramError, PolicyConfigError, CompareInputError) as error:
        print(f"synth failed: {error}", file=sys.stderr)
        return 2

    violations = evaluate(snapshot, policy_config)
    print(render_tree(snapshot))
    print()
    print(render(violations))
    synthesized = document(snapshot, violations)
    if args.json:
        args.json.write_text(json.dumps(synthesized, indent=2, sort_keys=False) + "\n")
        print(f"\nwrote {args.json}")
    if mandatory(violations):
        return 1
    if earlier is not None:
        comparison = compare(earlier, synthesized)
        print()
        print(render_comparison(comparison, args.stack, str(args.compare)))
        if not comparison.identical:
            return 3
    return 0


class CompareInputError(ValueError):
    """The document given to `--compare` cannot be read as a synth document."""


def _read_document(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CompareInputError(f"cannot read {path} as JSON: {error}") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("resources"), list):
        raise CompareInputError(f"{path} is not a synth document (`python -m tools.synth <stack> --json PATH`)")
    return loaded


if __name__ == "__main__":
    sys.exit(main())
