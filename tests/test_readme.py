"""The docs stay true: the README's config reference matches settings, its commands are CI's, its links resolve."""

from __future__ import annotations

import re

from tools.config_reference import README, readme_block, render
from tools.engine.mocks import PROJECT_DIR


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


def test_the_docs_link_each_other_by_relative_paths_that_exist() -> None:
    architecture = (PROJECT_DIR / "docs" / "architecture.md").read_text()
    assert "```mermaid" in architecture and "flowchart" in architecture
    for document in (PROJECT_DIR / "README.md", PROJECT_DIR / "policies" / "README.md"):
        text = document.read_text()
        assert "/work/" not in text and "DESIGN.md" not in text, f"{document.name} points outside the repository"
        links = re.findall(r"\]\(([^)#]+)\)", text)
        assert any(link.endswith("docs/architecture.md") for link in links), (
            f"{document} does not link the architecture"
        )
        for link in links:
            if not link.startswith("http"):
                assert (document.parent / link).resolve().exists(), (
                    f"{document.name} links {link}, which does not exist"
                )
