"""The offline engine: config errors, unknown stacks, timeouts and duplicate URNs, reported like the real engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.harness import ProgramError
from tools.engine.mocks import run_isolated


def test_invalid_config_fails_before_any_resource_with_readable_lines() -> None:
    with pytest.raises(ProgramError) as caught:
        run_isolated("dev", overrides={"uba:ingest": {"stream": {"mode": "provisioned", "shard_count": 0}}})
    message = str(caught.value)
    assert "ingest.stream.shard_count: must be >= 1, got 0" in message
    assert "ingest.api: required, but missing" in message
    assert "Traceback" not in message


def test_unknown_stack_is_a_clear_error() -> None:
    with pytest.raises(ProgramError, match=re.escape("no stack file Pulumi.staging.yaml")):
        run_isolated("staging")


def test_a_stuck_program_fails_with_a_timeout_not_a_hang(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: stuck\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text("import time\ntime.sleep(60)\n")
    with pytest.raises(ProgramError, match="did not finish within 3 s"):
        run_isolated("dev", project_dir=tmp_path, timeout=3)


def test_duplicate_urns_are_refused_like_the_real_engine(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: dupes\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text("import pulumi_aws as aws\naws.sns.Topic('same')\naws.sns.Topic('same')\n")
    with pytest.raises(ProgramError, match="duplicate resource URN"):
        run_isolated("dev", project_dir=tmp_path)
