"""The layout keeps its shape: one-way imports that are enforced, and tiers that keep their contract."""

from __future__ import annotations

import ast
import importlib
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pulumi
import pytest

from components.access import Access
from components.bi import Bi
from components.core import Core
from components.edge import Edge
from components.ingest import Ingest
from components.lake import Lake
from components.observability import Observability
from components.shared.tier import Tier, merge_declarations
from components.streaming import Streaming
from components.warehouse import Warehouse
from tools.engine.mocks import PROJECT_DIR

TIERS = (Core, Ingest, Edge, Streaming, Lake, Warehouse, Bi, Observability, Access)
CONFIG = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())
PACKAGES = tuple(CONFIG["tool"]["importlinter"]["root_packages"])  # what the import graph is built from
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.mark.parametrize("tier", TIERS, ids=lambda tier: tier.__name__)
def test_every_tier_is_a_component_that_keeps_the_tier_contract(tier: type) -> None:
    assert issubclass(tier, pulumi.ComponentResource)
    assert issubclass(tier, Tier), f"{tier.__name__} lacks stack_outputs, dashboard_widgets or access_targets"


@pytest.mark.parametrize("package", ["edge", "streaming", "lake", "warehouse", "bi", "access"])
def test_a_tier_package_exports_its_component_and_its_args(package: str) -> None:
    module = importlib.import_module(f"components.{package}")
    exported = set(module.__all__)
    components = [getattr(module, name) for name in exported if isinstance(getattr(module, name), type)]
    assert any(issubclass(c, pulumi.ComponentResource) for c in components)
    assert any(name.endswith("Args") for name in exported)


def test_a_declaration_two_tiers_make_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match="'events_stream_name' is declared by both the ingest and the lake tier"):
        merge_declarations([("ingest", {"events_stream_name": "a"}), ("lake", {"events_stream_name": "b"})], "output")
    assert merge_declarations([("core", {"a": 1}), ("ingest", {"b": 2})], "output") == {"a": 1, "b": 2}


def _copy_sources(destination: Path) -> None:
    """The import graph's inputs: every package's Python files and the contracts."""
    shutil.copy(PROJECT_DIR / "pyproject.toml", destination / "pyproject.toml")
    for package in PACKAGES:
        for source in (PROJECT_DIR / package).rglob("*.py"):
            if ".venv" in source.parts:
                continue
            target = destination / source.relative_to(PROJECT_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=300,
                          check=False, env={"PATH": str(LINT_IMPORTS.parent), "PYTHONPATH": str(root)})  # fmt: skip


@pytest.mark.parametrize(
    ("module", "forbidden_import", "contract"),
    [
        ("components/shared/context.py", "import tools.synth", "Layers: settings and the event contract"),
        ("components/lake/tier.py", "import components.ingest", "Components: the platform wires tiers"),
        ("lambdas/ingest.py", "import settings", "Lambda code is self-contained"),
        ("streaming/statements.py", "import lambdas.events", "The Flink job runs in its own virtualenv"),
        ("policies/rules/common.py", "import components.shared.arns", "The policy pack runs in the Pulumi CLI"),
    ],
)
def test_an_import_against_the_layering_fails_the_contract_that_forbids_it(
    tmp_path: Path, module: str, forbidden_import: str, contract: str
) -> None:
    _copy_sources(tmp_path)
    assert _lint_imports(tmp_path).returncode == 0, "the contracts must hold on the tree as it is"
    with (tmp_path / module).open("a") as source:
        source.write(f"\n{forbidden_import}  # noqa\n")
    completed = _lint_imports(tmp_path)
    assert completed.returncode != 0
    report = " ".join(completed.stdout.split())
    (name,) = [name for name in _contract_names() if name.startswith(contract)]
    assert f"{name} BROKEN" in report, report[-2000:]


def _contract_names() -> list[str]:
    return [contract["name"] for contract in CONFIG["tool"]["importlinter"]["contracts"]]


def test_production_code_does_not_know_it_runs_under_mocks() -> None:
    offenders = [
        str(path.relative_to(PROJECT_DIR))
        for package in ("components", "lambdas", "settings", "sql", "streaming")
        for path in (PROJECT_DIR / package).rglob("*.py")
        if ".venv" not in path.parts and re.search(r"MockMonitor|get_monitor|pulumi\.runtime\.mocks", path.read_text())
    ]
    assert offenders == []


def test_the_entry_point_builds_the_stack_when_pulumi_runs_it() -> None:
    """Pulumi's language host runs `__main__.py` with `runpy.run_path(program, run_name='__main__')`.

    Without the guard calling `main()` at the end, `pulumi up` would register nothing and so plan
    to delete every resource of the stack; the offline engine, which calls `main()` itself,
    would not notice.
    """
    module = ast.parse((PROJECT_DIR / "__main__.py").read_text())
    guard = module.body[-1]
    assert isinstance(guard, ast.If) and ast.unparse(guard.test) == "__name__ == '__main__'"
    assert [ast.unparse(statement) for statement in guard.body] == ["main()"]
