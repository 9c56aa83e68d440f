"""`python -m tools.preflight <stack>`: what stops a first real deploy, found offline before `pulumi up`.

Problems (exit 1), each with its line in the stack file where it has one:
- example values the stack files ship with: people (`alice.admin`, ...) and addresses at domains
  reserved for examples (`example.com`, ...), which AWS accepts and which deliver nowhere;
- a Pulumi CLI older than the `pulumi` SDK pinned in requirements.txt (when `pulumi` is on the PATH);
- the Flink connector JAR missing or not the pinned artifact, when the stack runs streaming.

Notes (exit 0): who owns API Gateway's account-wide CloudWatch role in the stack's region, which
decides the order stacks are first deployed in (README, "Deploying for real").

Exit status: 0 when nothing stops the deploy; 1 on any problem; 2 for an unknown stack or invalid config.
Checks that need the account (the staff users exist) are `python -m tools.access check-users <stack>`.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from settings import Settings, SettingsError
from settings.placeholders import placeholder_reason
from streaming.fetch_connector import CONNECTOR_SHA256, DEFAULT_JAR_PATH, ConnectorError
from streaming.package import verify_connector_jar
from tools.engine.mocks import PROJECT_DIR, ProgramError, available_stacks, stack_settings

NAMESPACE = "uba"


@dataclass(frozen=True)
class Finding:
    message: str
    line: int | None = None  # 1-based line in the stack file

    def render(self, stack_file: str) -> str:
        return f"{stack_file}:{self.line}: {self.message}" if self.line else self.message


def placeholder_findings(stack_file: Path) -> list[Finding]:
    """Every example value in the stack file's `uba:*` config, with its line."""
    document = yaml.compose(stack_file.read_text(encoding="utf-8"))
    config = _child(document, "config")
    if config is None:
        return []
    findings = []
    for path, node in _scalars(config, ""):
        if not path.startswith(f"{NAMESPACE}:"):
            continue
        reason = placeholder_reason(path, str(node.value))
        if reason is not None:
            findings.append(Finding(f"{path} is {node.value!r}, {reason}", node.start_mark.line + 1))
    return findings


def _child(node: Any, key: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if key_node.value == key:
                return value
    return None


def _scalars(node: Any, path: str) -> Iterator[tuple[str, yaml.ScalarNode]]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            yield from _scalars(value, f"{path}.{key_node.value}" if path else str(key_node.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _scalars(item, f"{path}[{index}]")
    elif isinstance(node, yaml.ScalarNode):
        yield path, node


def pinned_sdk_version(requirements: Path = PROJECT_DIR / "requirements.txt") -> str:
    """The `pulumi` SDK release requirements.txt pins (the CLI must be at least this release)."""
    for line in requirements.read_text().splitlines():
        name, _, version = line.partition("==")
        if name.strip() == "pulumi":
            return version.split("#")[0].strip()
    raise ProgramError(f"{requirements} pins no pulumi release")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def cli_findings(pulumi: str | None, sdk: str) -> tuple[list[Finding], list[Finding]]:
    """(problems, notes) about the Pulumi CLI at `pulumi` (a path, or None when it is not installed)."""
    install = f"install the Pulumi CLI {sdk} (README, Deploying for real)"
    if pulumi is None:
        return [], [Finding(f"no `pulumi` on the PATH: {install} before `pulumi preview`")]
    try:
        shown = subprocess.run([pulumi, "version"], capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError) as error:
        return [Finding(f"`{pulumi} version` failed ({error}): {install}")], []
    if not re.search(r"\d+\.\d+\.\d+", shown):
        return [Finding(f"`{pulumi} version` printed {shown.strip()!r}, no version: {install}")], []
    cli = re.search(r"\d+\.\d+\.\d+", shown).group(0)  # type: ignore[union-attr]
    if _version(cli) < _version(sdk):
        return [Finding(f"the Pulumi CLI is {cli}, older than the pulumi SDK {sdk} this program pins: {install}")], []
    note = "" if cli == sdk else f"; CI deploys with {sdk}"
    return [], [Finding(f"Pulumi CLI {cli} (the program pins the SDK {sdk}{note})")]


def connector_findings(settings: Settings, jar: Path, expected_sha256: str | None) -> list[Finding]:
    if not settings.streaming.enabled:
        return []
    try:
        verify_connector_jar(jar, expected_sha256)
    except ConnectorError as error:
        return [Finding(f"the stack runs streaming, and {error}")]
    return []


def logging_role_notes(stack: str, settings: Settings, project_dir: Path) -> list[Finding]:
    """Who owns API Gateway's account-wide CloudWatch role among the stack files of this region."""
    if not settings.ingest.enabled:
        return []
    owners = []
    for other in available_stacks(project_dir):
        try:
            other_settings = settings if other == stack else stack_settings(other, project_dir)
        except (SettingsError, ProgramError):
            continue
        if other_settings.region == settings.region and other_settings.ingest.api.manage_account_logging_role:
            owners.append(other)
    key = "uba:ingest.api.manage_account_logging_role"
    if stack in owners and len(owners) > 1:
        return [
            Finding(
                f"{_and(owners)} set {key} in {settings.region}: if they share an account, "
                "exactly one may (README, API Gateway logging role); deploy the owner first"
            )
        ]
    if stack in owners:
        return [
            Finding(
                f"this stack owns API Gateway's CloudWatch role in {settings.region}: deploy it before "
                "the account's other stacks"
            )
        ]
    owner = f" ({_and(owners)} here)" if owners else ""
    return [
        Finding(
            f"the stack needs the owner of API Gateway's CloudWatch role in {settings.region}{owner} "
            f"deployed first; check with `aws apigateway get-account --region {settings.region}`"
        )
    ]


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.preflight", description=__doc__.splitlines()[0])
    parser.add_argument("stack", help=f"stack name ({', '.join(available_stacks()) or 'none found'})")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--connector-jar", type=Path, default=DEFAULT_JAR_PATH, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    stack_file = args.project_dir / f"Pulumi.{args.stack}.yaml"
    try:
        settings = stack_settings(args.stack, args.project_dir)
        placeholders = placeholder_findings(stack_file)
    except (ProgramError, SettingsError, yaml.YAMLError) as error:
        print(f"preflight: {error}", file=sys.stderr)
        return 2
    cli_problems, notes = cli_findings(
        shutil.which("pulumi"), pinned_sdk_version(args.project_dir / "requirements.txt")
    )
    connector = connector_findings(settings, args.connector_jar, CONNECTOR_SHA256)
    notes += logging_role_notes(args.stack, settings, args.project_dir)
    problems = placeholders + cli_problems + connector
    for finding in problems:
        print(f"problem: {finding.render(stack_file.name)}")
    for finding in notes:
        print(f"note: {finding.render(stack_file.name)}")
    if problems:
        print(f"{len(problems)} problem(s): fix them before `pulumi up -s {args.stack}`")
        return 1
    print(
        f"nothing found that stops `pulumi up -s {args.stack}`; with credentials for its account, also run "
        f"`python -m tools.access check-users {args.stack}`"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
