"""The web tracker's own suite (`npm test` in clients/web), its size budget, and its agreement with the contract."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.web_build import web_build_lock
from tools.web_contract import CONTRACT_TS, render

WEB = Path(__file__).resolve().parents[2] / "clients" / "web"
BUDGET_BYTES = 5 * 1024


def test_the_tracker_types_are_generated_from_the_event_contract() -> None:
    assert CONTRACT_TS.read_text() == render(), "run `python -m tools.web_contract --write`"


def test_npm_test_passes_and_the_minified_bundle_stays_under_5_kb_gzip() -> None:
    if not (WEB / "node_modules").is_dir():
        pytest.fail("clients/web/node_modules is missing: `make setup` runs `npm ci` there")
    npm = shutil.which("npm")
    assert npm, "npm is missing: the tracker's build and tests need Node 20 and npm"
    with web_build_lock():
        done = subprocess.run([npm, "test"], cwd=WEB, capture_output=True, text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert re.search(r"^# fail 0$", output, re.MULTILINE) and re.search(r"^# pass [1-9]\d*$", output, re.MULTILINE)
    size = re.search(r"uba-tracker\.min\.js: \d+ bytes minified, (\d+) bytes gzip", output)
    assert size, output[-2000:]
    assert int(size.group(1)) < BUDGET_BYTES
