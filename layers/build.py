"""Builds the Lambda layers the program deploys: today one, PyJWT with its crypto extra for the WebSocket authorizer.

Lambda code is the `lambdas` package alone (`components.shared.functions.code_archive`), and
the Powertools layer brings Powertools, pydantic and the X-Ray SDK; verifying a Cognito
token's RS256 signature also needs `cryptography`, a compiled package, so it reaches the one
function that needs it (the `$connect` authorizer) in a layer of its own:

    build/layers/jwt/python/jwt/...            <- Lambda puts `python/` on sys.path
    build/layers/jwt/python/cryptography/...   (manylinux2014 aarch64 wheels, for arm64)

`pip install --require-hashes --only-binary=:all: --platform manylinux2014_aarch64
--python-version 3.12` installs exactly the wheels `layers/jwt/requirements.txt` pins by
SHA-256, never a source build and never another version. The build is kept, with the
requirements' digest beside it, and reused while the requirements are unchanged; a
half-built or foreign directory is rebuilt.

This is a build step like the Flink application's (`streaming/package.py`): the program's
entry point runs `built_jwt_layer()` when the live tier is on and hands the directory to the
tier; the offline engine hands the same path without building, since it never opens an
asset. `python -m layers.build` builds it by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LAYERS_DIR = Path(__file__).resolve().parent
PROJECT_DIR = LAYERS_DIR.parent
JWT_REQUIREMENTS = LAYERS_DIR / "jwt" / "requirements.txt"
JWT_LAYER_DIR = PROJECT_DIR / "build" / "layers" / "jwt"
STAMP = ".requirements-sha256"

# Lambda's python3.12 runtime on arm64 (Amazon Linux 2023, glibc 2.34): manylinux2014 wheels run there.
PLATFORM = "manylinux2014_aarch64"
PYTHON_VERSION = "3.12"
# What the authorizer imports; each must be in the built layer.
REQUIRED_FILES = ("python/jwt/__init__.py", "python/cryptography/__init__.py")
# ELF e_machine of aarch64, at byte 18 of every shared object (little-endian).
AARCH64_MACHINE = 183


class LayerError(RuntimeError):
    """The layer could not be built or is not what the requirements pin."""


def requirements_digest(requirements: Path = JWT_REQUIREMENTS) -> str:
    return hashlib.sha256(requirements.read_bytes()).hexdigest()


def install_command(requirements: Path, target: Path) -> list[str]:
    """The pip command that installs exactly the pinned wheels for Lambda's platform into `target/python`."""
    return [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--require-hashes", "--only-binary=:all:", "--no-deps", "--no-compile",
        "--platform", PLATFORM, "--implementation", "cp", "--python-version", PYTHON_VERSION,
        "--target", str(target / "python"), "--requirement", str(requirements),
    ]  # fmt: skip


def verify_layer(layer_dir: Path) -> Path:
    """The directory if it holds the modules the authorizer imports, built for arm64; else LayerError."""
    missing = [name for name in REQUIRED_FILES if not (layer_dir / name).is_file()]
    if missing:
        raise LayerError(f"{layer_dir} lacks {', '.join(missing)}: run `python -m layers.build --force`")
    shared_objects = sorted((layer_dir / "python").rglob("*.so"))
    if not shared_objects:
        raise LayerError(f"{layer_dir} holds no compiled cryptography module: run `python -m layers.build --force`")
    for shared_object in shared_objects:
        header = shared_object.read_bytes()[:20]
        if header[:4] != b"\x7fELF" or int.from_bytes(header[18:20], "little") != AARCH64_MACHINE:
            raise LayerError(
                f"{shared_object} is not an arm64 (aarch64) ELF object; Lambda's arm64 runtime cannot load it: "
                "run `python -m layers.build --force`"
            )
    return layer_dir


def built_jwt_layer(
    requirements: Path = JWT_REQUIREMENTS, layer_dir: Path = JWT_LAYER_DIR, force: bool = False
) -> Path:
    """The layer directory, built from the pinned requirements unless a verified build of them is there."""
    digest = requirements_digest(requirements)
    stamp = layer_dir / STAMP
    if not force and stamp.is_file() and stamp.read_text().strip() == digest:
        try:
            return verify_layer(layer_dir)
        except LayerError:
            pass  # rebuilt below
    layer_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jwt-layer-", dir=layer_dir.parent) as scratch:
        staging = Path(scratch) / "layer"
        completed = subprocess.run(install_command(requirements, staging), capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise LayerError(
                f"pip could not install {requirements.relative_to(PROJECT_DIR)} for {PLATFORM}: "
                f"{completed.stderr.strip()[-2000:]}"
            )
        verify_layer(staging)
        (staging / STAMP).write_text(digest + "\n")
        if layer_dir.exists():
            shutil.rmtree(layer_dir)
        staging.rename(layer_dir)
    return layer_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the JWT layer of the live tier's WebSocket authorizer.")
    parser.add_argument("--force", action="store_true", help="rebuild even if an up-to-date build is there")
    arguments = parser.parse_args(argv)
    try:
        layer = built_jwt_layer(force=arguments.force)
    except LayerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(layer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
