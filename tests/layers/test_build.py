"""The JWT layer's build step: exactly the pinned wheels, for Lambda's arm64 Python 3.12, verified before use."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from layers import build

ELF_AARCH64 = b"\x7fELF" + bytes(14) + (183).to_bytes(2, "little")
ELF_X86_64 = b"\x7fELF" + bytes(14) + (62).to_bytes(2, "little")
REQUIREMENT = re.compile(r"^(?P<name>[a-z0-9_.-]+)==(?P<version>\S+) --hash=sha256:[0-9a-f]{64}$")


def fake_layer(root: Path, machine: bytes = ELF_AARCH64) -> Path:
    for name in build.REQUIRED_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    binding = root / "python" / "cryptography" / "hazmat" / "bindings" / "_rust.abi3.so"
    binding.parent.mkdir(parents=True, exist_ok=True)
    binding.write_bytes(machine + bytes(64))
    return root


def test_every_requirement_is_pinned_to_one_version_and_one_wheel_hash() -> None:
    lines = [line for line in build.JWT_REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")]
    pins = {m["name"]: m["version"] for line in lines if (m := REQUIREMENT.match(line))}
    assert len(pins) == len(lines), f"unpinned or unhashed: {[line for line in lines if not REQUIREMENT.match(line)]}"
    assert {"pyjwt", "cryptography", "cffi", "pycparser"} == set(pins)
    dev = (build.PROJECT_DIR / "requirements-dev.txt").read_text()
    assert f"PyJWT[crypto]=={pins['pyjwt']}" in dev, "the tests verify tokens with the PyJWT the layer ships"


def test_pip_installs_only_the_hashed_wheels_for_lambdas_arm64_python(tmp_path: Path) -> None:
    command = build.install_command(build.JWT_REQUIREMENTS, tmp_path)
    for flag in ("--require-hashes", "--only-binary=:all:", "--no-deps", "--no-compile"):
        assert flag in command
    assert command[command.index("--platform") + 1] == "manylinux2014_aarch64"
    assert command[command.index("--python-version") + 1] == "3.12"
    assert command[command.index("--target") + 1] == str(tmp_path / "python")


def test_a_layer_is_accepted_only_with_the_modules_compiled_for_arm64(tmp_path: Path) -> None:
    assert build.verify_layer(fake_layer(tmp_path / "good")) == tmp_path / "good"
    with pytest.raises(build.LayerError, match="not an arm64"):
        build.verify_layer(fake_layer(tmp_path / "x86", ELF_X86_64))
    missing = fake_layer(tmp_path / "missing")
    (missing / "python" / "jwt" / "__init__.py").unlink()
    with pytest.raises(build.LayerError, match=r"lacks python/jwt/__init__\.py"):
        build.verify_layer(missing)


def test_an_up_to_date_build_is_reused_and_a_stale_one_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(build.JWT_REQUIREMENTS.read_text())
    layer = tmp_path / "build" / "jwt"
    calls: list[list[str]] = []

    def pip(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        fake_layer(Path(command[command.index("--target") + 1]).parent)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(build.subprocess, "run", pip)
    assert build.built_jwt_layer(requirements, layer) == layer
    assert (layer / build.STAMP).read_text().strip() == build.requirements_digest(requirements)
    build.built_jwt_layer(requirements, layer)
    assert len(calls) == 1, "unchanged requirements: the verified build is reused"
    requirements.write_text(requirements.read_text() + "\n# changed\n")
    build.built_jwt_layer(requirements, layer)
    assert len(calls) == 2, "changed requirements: built again"


def test_pip_failing_is_a_clear_error_and_leaves_no_half_built_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES")

    monkeypatch.setattr(build.subprocess, "run", failing)
    layer = tmp_path / "jwt"
    with pytest.raises(build.LayerError, match=r"pip could not install layers/jwt/requirements\.txt.*DO NOT MATCH"):
        build.built_jwt_layer(build.JWT_REQUIREMENTS, layer)
    assert not layer.exists()


def test_the_program_refuses_the_live_tier_without_its_layer() -> None:
    from components.platform import PlatformArgs
    from settings import load_settings
    from tests.support.config import raw_config

    settings = load_settings(raw_config("dev"), "dev")
    with pytest.raises(ValueError, match=r"live is on, but PlatformArgs\.jwt_layer is empty"):
        PlatformArgs(settings=settings, flink_code=object(), jwt_layer=None)  # type: ignore[arg-type]
