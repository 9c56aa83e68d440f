"""`python -m tools.synth`: the tree, the document, and bad config."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pulumi_aws as aws

from tests.support.harness import link_program_packages
from tests.support.tokens import type_token
from tools.engine.mocks import PROJECT_DIR


def test_synth_prints_the_tree_and_writes_the_document(tmp_path: Path) -> None:
    out = tmp_path / "prod.json"
    completed = subprocess.run(
        [sys.executable, "-m", "tools.synth", "prod", "--json", str(out)],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    assert "uba:core:Core  core" in completed.stdout
    assert "aws:kms/key:Key  platform-key [protected]" in completed.stdout
    document = json.loads(out.read_text())
    assert set(document) == {"project", "stack", "resources", "outputs", "policy"}
    assert document["project"] == "uba" and document["stack"] == "prod"
    assert document["policy"] == {"violations": []} or "violations" in document["policy"]
    key = next(r for r in document["resources"] if r["type"] == type_token(aws.kms.Key))
    assert set(key) >= {"urn", "type", "name", "parent", "custom", "inputs", "state"}
    assert key["inputs"]["enableKeyRotation"] is True  # camelCase, as the engine sees it
    assert key["parent"].endswith("::core")


def test_synth_refuses_bad_config_with_exit_2(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (project / name).write_text((PROJECT_DIR / name).read_text())
    link_program_packages(project)
    stack = (PROJECT_DIR / "Pulumi.dev.yaml").read_text().replace("log_retention_days: 14", "log_retention_days: 13")
    (project / "Pulumi.dev.yaml").write_text(stack)
    completed = subprocess.run(
        [sys.executable, "-m", "tools.synth", "dev", "--project-dir", str(project)],
        cwd=PROJECT_DIR, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "invalid config for stack 'dev'" in completed.stderr
    assert "platform.log_retention_days: must be one of" in completed.stderr
    assert "Traceback" not in completed.stderr
