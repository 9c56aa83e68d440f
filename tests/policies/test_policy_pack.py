"""The pack as the Pulumi CLI runs it: started like `pulumi-analyzer-policy-python`, spoken to over gRPC.

The CLI starts `python -m pulumi.policy <engine> .` in `policies/` (with the virtualenv
named in `PulumiPolicy.yaml`), reads the port it prints, then calls `GetAnalyzerInfo`,
`Configure` (the `--policy-pack-config` file), `Analyze` per resource (its inputs) and
`AnalyzeStack` (every resource's outputs). These tests do exactly that, and require
the answers to equal what `tools.engine.policy` computes offline for the same stack.
"""

from __future__ import annotations

import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
import pulumi_aws as aws
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policies.rules import ALL_POLICIES, PACK_NAME
from tests.support.harness import run_stack
from tests.support.tokens import type_token
from tools.engine.mocks import PROJECT_DIR, RegisteredResource, Snapshot
from tools.engine.policy import enforcement_level, evaluate, stack_policy_config

PACK_DIR = PROJECT_DIR / "policies"


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
        cwd=PACK_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        port = process.stdout.readline().strip() if ready else ""
        assert port.isdigit(), f"the pack did not start: {port!r} {process.stderr.read() if process.stderr else ''}"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=10)


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


def level_name(level: int) -> str:
    return str(analyzer_pb2.EnforcementLevel.Name(level)).lower()


def configure(stub: analyzer_pb2_grpc.AnalyzerStub, config: dict[str, dict[str, Any]]) -> None:
    """What the CLI sends for `--policy-pack-config`: per policy, its level and its properties."""
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for policy in ALL_POLICIES:
        entry = dict(config.get(policy.name, {}))
        level = entry.pop("enforcementLevel", enforcement_level(policy, {}).value)
        request.policyConfig[policy.name].CopyFrom(
            analyzer_pb2.PolicyConfig(
                enforcementLevel=analyzer_pb2.EnforcementLevel.Value(level.upper()), properties=struct(entry)
            )
        )
    stub.Configure(request)


def provider_of(snapshot: Snapshot, resource: RegisteredResource) -> analyzer_pb2.AnalyzerProviderResource | None:
    urn = (resource.provider or "").rsplit("::", 1)[0]
    provider = next((r for r in snapshot.resources if r.urn == urn), None)
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, properties=struct(provider.inputs), urn=provider.urn, name=provider.name
    )


def analyze_like_the_cli(stub: analyzer_pb2_grpc.AnalyzerStub, snapshot: Snapshot) -> set[tuple[str, str, str, str]]:
    found: set[tuple[str, str, str, str]] = set()
    stack_resources = []
    for r in snapshot.resources:
        options = analyzer_pb2.AnalyzerResourceOptions(protect=r.protect, parent=r.parent or "")
        provider = provider_of(snapshot, r)
        request = analyzer_pb2.AnalyzeRequest(
            type=r.type, properties=struct(r.inputs), urn=r.urn, name=r.name, options=options, provider=provider
        )
        # The engine files a resource check's finding under the resource it sent.
        found |= {(d.policyName, level_name(d.enforcementLevel), d.urn or r.urn, d.message)
                  for d in stub.Analyze(request).diagnostics}  # fmt: skip
        stack_resources.append(
            analyzer_pb2.AnalyzerResource(
                type=r.type, properties=struct(r.state if r.custom else r.inputs), urn=r.urn, name=r.name,
                options=options, provider=provider, parent=r.parent or "", dependencies=r.depends_on,
            )
        )  # fmt: skip
    stack_findings = stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=stack_resources)).diagnostics
    return found | {(d.policyName, level_name(d.enforcementLevel), d.urn, d.message) for d in stack_findings}


def offline(snapshot: Snapshot, config: dict[str, dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    descriptions = {p.name: p.description for p in ALL_POLICIES}
    return {
        (v.policy, v.enforcement, v.urn, f"{descriptions[v.policy]}\n{v.message}") for v in evaluate(snapshot, config)
    }


def test_the_cli_sees_every_rule_with_its_level_and_settings(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == PACK_NAME and info.supportsConfig
    served = {p.name: (level_name(p.enforcementLevel), set(p.configSchema.properties)) for p in info.policies}
    assert served == {
        p.name: (enforcement_level(p, {}).value, set(p.config_schema.properties) if p.config_schema else set())
        for p in ALL_POLICIES
    }


def test_the_cli_and_the_offline_checker_find_the_same_violations(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    """Dev judged by prod's rules: protection, deletion window (mandatory there) and tracing; plus an
    unthrottled stage once its method settings and usage plan are taken away (a stack-level finding)."""
    dev = run_stack("dev").snapshot
    throttles = {type_token(aws.apigateway.MethodSettings), type_token(aws.apigateway.UsagePlan)}
    unthrottled = Snapshot(dev.project, dev.stack, [r for r in dev.resources if r.type not in throttles], dev.outputs)
    config = stack_policy_config("prod")
    configure(analyzer, config)
    expected = offline(unthrottled, config)
    assert {policy for policy, *_ in expected} >= {
        "require-protection", "kms-key-deletion-window", "xray-tracing", "apigateway-stage-throttled"
    }  # fmt: skip
    assert analyze_like_the_cli(analyzer, unthrottled) == expected


def test_the_pack_project_file_points_the_cli_at_the_projects_environment() -> None:
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    virtualenv = (PACK_DIR / project["runtime"]["options"]["virtualenv"]).resolve()
    assert virtualenv == (PROJECT_DIR / ".venv").resolve()
    pins = dict(line.split("==") for line in (PACK_DIR / "requirements.txt").read_text().splitlines() if "==" in line)
    project_pins = dict(
        line.split("==")
        for name in ("requirements.txt", "requirements-dev.txt")
        for line in (PROJECT_DIR / name).read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert pins == {name: project_pins[name] for name in pins}, "the pack must pin what the project installs"
    assert set(pins) >= {"pulumi-policy", "pulumi"}


def test_the_pack_entry_point_only_builds_the_pack() -> None:
    source = (PACK_DIR / "__main__.py").read_text()
    assert "PolicyPack(name=PACK_NAME, policies=ALL_POLICIES" in source
    assert Path(PACK_DIR / "rules").is_dir()


def test_the_pack_readme_lists_every_policy_and_setting() -> None:
    readme = (PACK_DIR / "README.md").read_text()
    for policy in ALL_POLICIES:
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{policy.name}` |")), None)
        assert row, f"policies/README.md has no row for {policy.name}"
        assert f"| {enforcement_level(policy, {}).value} |" in row
        for setting in policy.config_schema.properties if policy.config_schema else {}:
            assert f"`{setting}`" in row, f"{policy.name}: {setting} undocumented"
