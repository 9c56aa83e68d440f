"""The README stays true: its config reference matches settings.py, its commands are CI's."""

from __future__ import annotations

import re

from tools.config_reference import README, readme_block, render
from tools.mockengine import PROJECT_DIR


def test_config_reference_in_readme_matches_settings() -> None:
    assert readme_block(README.read_text()) == render(), (
        "README config reference is stale: run `.venv/bin/python -m tools.config_reference --write`"
    )


def test_readme_setup_and_test_commands_are_exactly_what_ci_runs() -> None:
    readme = README.read_text()
    block = re.search(r"## Set up and test.*?```sh\n(.*?)```", readme, re.S)
    assert block, "README lost its set-up-and-test block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    ci = (PROJECT_DIR / ".ci" / "run").read_text()
    ci_commands = [line.strip() for line in ci.splitlines() if line.strip().startswith("make ")]
    assert commands == ci_commands == ["make setup", "make test"]


def test_every_setting_is_documented_in_the_reference() -> None:
    reference = render()
    for line in reference.splitlines():
        if line.startswith("| `"):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            assert len(cells) == 4, line
            assert cells[3], f"setting without a description in settings.py: {cells[0]}"
