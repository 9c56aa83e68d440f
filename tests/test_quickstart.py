"""The README's quick start runs as written, top to bottom, in a fresh copy of the repository.

The copy holds the repository's files (tracked, and new ones not ignored) and the two
virtualenvs `make setup` creates, linked in: CI runs `make setup` itself on a fresh clone, so
what is checked here is every command after it, exactly as the README prints it. Then every
other README example of the local query and warehouse tools runs against the same sample and
must return rows.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_commands import readme_command_lines
from tools.engine.mocks import PROJECT_DIR

pytestmark = pytest.mark.flink  # the quick start runs the Flink SQL on a local mini-cluster

README = PROJECT_DIR / "README.md"
VIRTUALENVS = (".venv", "streaming/.venv")


@dataclass(frozen=True)
class Ran:
    command: str
    stdout: str
    stderr: str


def quick_start_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Quick start.*?```sh\n(.*?)```", text, re.S | re.M)
    assert section, "README lost its quick start block"
    return readme_command_lines(f"```sh\n{section.group(1)}```")


def fresh_copy(destination: Path) -> Path:
    """The repository's files as a clone would have them, with the virtualenvs `make setup` made."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_DIR, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = PROJECT_DIR / name
        if source.is_file() and not any(name.startswith(venv + "/") for venv in VIRTUALENVS):
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for venv in VIRTUALENVS:
        (destination / venv).symlink_to((PROJECT_DIR / venv).resolve(), target_is_directory=True)
    return destination


def run(command: str, cwd: Path, timeout: float) -> Ran:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "COV_"))}
    completed = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{command}"],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=environment,
    )  # fmt: skip
    assert completed.returncode == 0, f"`{command}` exited {completed.returncode}:\n{completed.stderr[-3000:]}"
    return Ran(command, completed.stdout, completed.stderr)


@pytest.fixture(scope="module")
def quick_start(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Ran]]:
    repo = fresh_copy(tmp_path_factory.mktemp("fresh") / "repo")
    assert not (repo / "sample").exists()
    done: dict[str, Ran] = {}
    for command in quick_start_commands():
        tool = re.search(r"-m (\S+)", command)
        assert tool, f"not a python -m command: {command}"
        done[tool.group(1)] = run(command, repo, timeout=540)
    return repo, done


def test_the_quick_start_is_the_five_local_steps() -> None:
    tools = [re.search(r"-m (\S+)", command).group(1) for command in quick_start_commands()]  # type: ignore[union-attr]
    assert tools == ["tools.sample", "tools.query", "tools.warehouse", "streaming.run_local", "tools.report"]


def test_the_sample_is_written(quick_start: tuple[Path, dict[str, Ran]]) -> None:
    repo, done = quick_start
    assert "wrote sample/events.jsonl" in done["tools.sample"].stdout
    assert any((repo / "sample" / "lake" / "events").rglob("*.parquet"))
    assert (repo / "sample" / "catalogue.jsonl").is_file()


def test_the_lake_analysis_returns_a_row_per_day(quick_start: tuple[Path, dict[str, Ran]]) -> None:
    _, done = quick_start
    assert done["tools.query"].stdout.rstrip().endswith("(31 rows)")
    assert done["tools.query"].stderr == ""  # the range is inside the lake: no note


def test_the_warehouse_kpis_hold_every_day(quick_start: tuple[Path, dict[str, Ran]]) -> None:
    _, done = quick_start
    days = [line for line in done["tools.warehouse"].stdout.splitlines() if re.match(r"2026-\d\d-\d\d ", line)]
    assert len(days) == 90


def test_the_flink_job_raises_every_alert_the_sample_holds(quick_start: tuple[Path, dict[str, Ran]]) -> None:
    repo, done = quick_start
    sampled = re.search(r"errors (\d+), warnings \d+, warning bursts (\d+)", done["tools.sample"].stdout)
    assert sampled, done["tools.sample"].stdout
    alerts = [json.loads(line) for line in (repo / "sample" / "alerts.jsonl").read_text().splitlines()]
    kinds = {kind: sum(a["alertType"] == kind for a in alerts) for kind in ("error", "warn_burst", "counts")}
    assert (kinds["error"], kinds["warn_burst"]) == (int(sampled.group(1)), int(sampled.group(2)))
    assert kinds["counts"] > 1000
    assert "alert records out" in done["streaming.run_local"].stderr


def test_the_report_is_one_page_of_charts(quick_start: tuple[Path, dict[str, Ran]]) -> None:
    repo, done = quick_start
    page = (repo / "sample" / "report.html").read_text()
    assert "wrote sample/report.html" in done["tools.report"].stdout
    assert page.count("<svg") == 7


def test_every_other_readme_example_of_the_local_tools_returns_rows(quick_start: tuple[Path, dict[str, Ran]]) -> None:
    repo, _ = quick_start
    already = set(quick_start_commands())
    examples = [
        line.split(" #")[0].strip()
        for line in readme_command_lines(README.read_text(encoding="utf-8"))
        if re.match(r"\.venv/bin/python -m tools\.(query|warehouse) ", line)
    ]
    examples = [line for line in dict.fromkeys(examples) if line not in already]
    assert len(examples) >= 3
    for command in examples:
        out = run(command, repo, timeout=300).stdout
        if "--format json" in command:
            assert json.loads(out), command
        else:
            assert len(out.strip().splitlines()) > 3 and "(0 rows)" not in out, f"{command}:\n{out}"
