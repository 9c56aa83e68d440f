"""`python -m tools.preflight <stack>`: nobody deploys the example people and example.com addresses by accident.

The shipped stack files are examples: the preflight refuses each example value with its line, the
Pulumi CLI when it is older than the pinned SDK, and a missing connector JAR; a stack file with real
values passes. The program itself warns of the same values on every preview and update.
"""

from __future__ import annotations

import os
import runpy
import shutil
import stat
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from settings.placeholders import EXAMPLE_STAFF, placeholders, reserved_domain
from tools import preflight
from tools.engine.mocks import PROJECT_DIR, load_stack_config, stack_settings

SDK = preflight.pinned_sdk_version()
BI_EXAMPLES = 3  # dev's uba:bi: the QuickSight admin, bo.analyst and bo.analyst@example.com
LIVE_EXAMPLES = 4  # dev's staff emails at example.com, the live dashboard's invitations


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's stack files and pins, to edit."""
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "requirements.txt"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    return tmp_path


def real_values(project: Path, stack: str = "dev") -> None:
    """Replace the stack file's example values with real-looking ones."""
    path = project / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    config = document["config"]
    config["uba:platform"]["ops_alarm_emails"] = ["platform-oncall@acme-analytics.io"]
    config["uba:streaming"]["sink"]["business_alert_emails"] = ["growth@acme-analytics.io"]
    config["uba:access"]["staff"] = [{"user": "jane.doe", "groups": ["admin"]}]
    # The BI tier's people are staff too (its QuickSight admin, its readers and authors).
    config["uba:bi"]["quicksight"]["admin"] = "jane.doe"
    config["uba:bi"]["people"] = []
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def run(project: Path, stack: str, jar: Path, capsys: Any, path: str = "") -> tuple[int, str]:
    os.environ["PATH"] = path or os.environ["PATH"]
    code = preflight.main([stack, "--project-dir", str(project), "--connector-jar", str(jar)])
    return code, capsys.readouterr().out


def test_the_shipped_stack_file_is_refused_with_every_example_value_on_its_line(
    project: Path, tmp_path: Path, capsys: Any
) -> None:
    code, out = run(project, "dev", tmp_path / "missing.jar", capsys)
    assert code == 1
    lines = (project / "Pulumi.dev.yaml").read_text().splitlines()
    problems = [line for line in out.splitlines() if line.startswith("problem: Pulumi.dev.yaml:")]
    # two addresses and four people in the platform's tiers; the BI tier's admin, reader and reader's address;
    # the staff's emails the live tier invites
    assert len(problems) == 2 + len(EXAMPLE_STAFF) + BI_EXAMPLES + LIVE_EXAMPLES
    for problem in problems:
        number, value = int(problem.split(":")[2]), problem.split("'")[1]
        assert value in lines[number - 1], problem
    assert "uba:platform.ops_alarm_emails[0] is 'uba-dev-alarms@example.com', at example.com" in out
    assert "uba:access.staff[2].user is 'dana.dev', one of the example people" in out
    assert "uba:bi.people[0].user is 'bo.analyst', one of the example people" in out
    assert "uba:bi.quicksight.admin is 'alice.admin', one of the example people" in out
    assert "the stack runs streaming, and the Kinesis connector JAR is missing" in out
    assert "python -m streaming.fetch_connector" in out
    assert out.rstrip().endswith("fix them before `pulumi up -s dev`")


def test_a_stack_file_with_real_values_passes(project: Path, tmp_path: Path, capsys: Any) -> None:
    real_values(project)
    jar = tmp_path / "connector.jar"
    jar.write_bytes(b"PK\x03\x04 stand-in")
    code, out = run(project, "dev", jar, capsys)
    assert code == 0, out
    assert "problem:" not in out
    assert "nothing found that stops `pulumi up -s dev`" in out and "check-users dev" in out


def test_switching_streaming_off_needs_no_connector(project: Path, tmp_path: Path, capsys: Any) -> None:
    real_values(project)
    path = project / "Pulumi.dev.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["uba:streaming"] = {"enabled": False, "alerts_stream": {"mode": "on_demand"}}
    document["config"]["uba:live"] = {"enabled": False}  # the live tier reads streaming's realtime table
    path.write_text(yaml.safe_dump(document))
    assert run(project, "dev", tmp_path / "missing.jar", capsys)[0] == 0


def fake_pulumi(directory: Path, prints: str) -> str:
    """A `pulumi` on a PATH of its own that answers `pulumi version` with `prints`."""
    directory.mkdir()
    script = directory / "pulumi"
    script.write_text(f"#!/bin/sh\necho '{prints}'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return f"{directory}{os.pathsep}{os.environ['PATH']}"


@pytest.mark.parametrize(
    ("prints", "refused", "says"),
    [
        ("v3.100.0", True, f"the Pulumi CLI is 3.100.0, older than the pulumi SDK {SDK} this program pins"),
        (f"v{SDK}", False, f"Pulumi CLI {SDK} (the program pins the SDK {SDK})"),
        ("v9.0.0", False, f"Pulumi CLI 9.0.0 (the program pins the SDK {SDK}; CI deploys with {SDK})"),
        ("no version here", True, "printed 'no version here', no version"),
    ],
)
def test_the_pulumi_cli_must_be_at_least_the_pinned_sdk(
    project: Path, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, prints: str, refused: bool, says: str
) -> None:
    real_values(project)
    jar = tmp_path / "connector.jar"
    jar.write_bytes(b"stand-in")
    monkeypatch.setenv("PATH", os.environ["PATH"])  # restored after the test
    code, out = run(project, "dev", jar, capsys, path=fake_pulumi(tmp_path / "bin", prints))
    assert code == (1 if refused else 0), out
    assert says in out


def test_without_a_cli_the_preflight_says_which_to_install(capsys: Any) -> None:
    problems, notes = preflight.cli_findings(None, SDK)
    assert problems == [] and f"install the Pulumi CLI {SDK}" in notes[0].message


def test_the_logging_role_owner_decides_the_order(project: Path) -> None:
    dev = stack_settings("dev", project)
    assert "dev and prod set uba:ingest.api.manage_account_logging_role in eu-west-1" in (
        preflight.logging_role_notes("dev", dev, project)[0].message
    )
    path = project / "Pulumi.dev.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["uba:ingest"]["api"]["manage_account_logging_role"] = False
    path.write_text(yaml.safe_dump(document))
    dev = stack_settings("dev", project)
    (note,) = preflight.logging_role_notes("dev", dev, project)
    assert "needs the owner of API Gateway's CloudWatch role in eu-west-1 (prod here) deployed first" in note.message
    (note,) = preflight.logging_role_notes("prod", stack_settings("prod", project), project)
    assert "this stack owns API Gateway's CloudWatch role in eu-west-1: deploy it before" in note.message


def test_an_unknown_stack_or_invalid_config_exits_2(project: Path, capsys: Any) -> None:
    assert preflight.main(["staging", "--project-dir", str(project)]) == 2
    assert "no stack file Pulumi.staging.yaml" in capsys.readouterr().err
    (project / "Pulumi.dev.yaml").write_text("config:\n  uba:platform: {prefix: X}\n")
    assert preflight.main(["dev", "--project-dir", str(project)]) == 2


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("uba-dev-alarms@example.com", "example.com"),
        ("ops@EU.Example.ORG", "eu.example.org"),
        ("https://dashboard.example/login", "dashboard.example"),
        ("alerts@team.test", "team.test"),
        ("hook.invalid:443", "hook.invalid"),
        ("alerts@acme.com", None),
        ("alerts@myexample.com", None),  # only the reserved names themselves and their subdomains
        ("10.0.0.0/8", None),
        ("[ERROR]", None),
    ],
)
def test_reserved_example_domains_are_recognised(text: str, host: str | None) -> None:
    assert reserved_domain(text) == host


def test_example_people_count_only_as_staff_entries() -> None:
    found = placeholders({"access": {"staff": [{"user": "alice.admin"}, {"user": "jane.doe"}]}, "x": "alice.admin"})
    assert [str(p) for p in found] == [
        "access.staff[0].user is 'alice.admin', one of the example people the stack files ship with: "
        "replace it with your staff, or remove the entry"
    ]


def test_the_example_people_are_the_ones_the_stack_files_ship_with() -> None:
    shipped = {m["user"] for stack in ("dev", "prod") for m in load_stack_config(stack)["uba:access"]["staff"]}
    assert shipped == EXAMPLE_STAFF


def test_the_program_warns_of_every_example_value_on_every_preview(monkeypatch: pytest.MonkeyPatch) -> None:
    entry_point = runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="entry_point_under_test")
    warned: list[str] = []
    monkeypatch.setattr(pulumi, "warn", warned.append)
    monkeypatch.setattr(pulumi, "get_stack", lambda: "dev")
    entry_point["warn_of_placeholders"](stack_settings("dev"))
    assert len(warned) == 2 + len(EXAMPLE_STAFF) + BI_EXAMPLES + LIVE_EXAMPLES
    assert warned[0] == (
        "uba:platform.ops_alarm_emails[0] is 'uba-dev-alarms@example.com', at example.com, a domain reserved for "
        "examples that delivers nowhere: replace it with a real address (`python -m tools.preflight dev` lists "
        "every one)"
    )
