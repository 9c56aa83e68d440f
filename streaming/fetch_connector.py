"""Fetches the pinned Kinesis SQL connector JAR into streaming/lib/ with Maven, and checks it.

    python -m streaming.fetch_connector [--force]

The JAR is `org.apache.flink:flink-sql-connector-kinesis:5.0.0-1.20`, the version the
Managed Service for Apache Flink documentation lists for Flink 1.20. It packages the
`kinesis` table source (the FLIP-27 KinesisStreamsSource) and sink, and `kinesis-legacy`.
It is not committed (streaming/lib/*.jar is ignored); the packager refuses to build an
application without it (see `require_connector_jar`).

The fetch is the ordinary Maven client, against whatever repositories the machine's Maven
is configured with (no registry address is written here):

    mvn -B -q -C dependency:copy -Dartifact=<group:artifact:version> -DoutputDirectory=<dir>

`-C` (strict checksums) makes Maven refuse an artifact whose repository checksum does not
match. On top of that the JAR is checked against `CONNECTOR_SHA256` when that pin is set.
No SHA-256 from a trusted copy could be found when this was written (this machine's Maven
repository does not serve 5.x), so the pin is unset; the first successful fetch prints the
value to pin. CI runs this same command in every job that runs the program
(.github/workflows/pulumi.yml), so what CI deploys is what this fetches.

Pure Python (standard library only), runnable from either virtualenv.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

CONNECTOR_GROUP = "org.apache.flink"
CONNECTOR_ARTIFACT = "flink-sql-connector-kinesis"
CONNECTOR_VERSION = "5.0.0-1.20"
CONNECTOR_COORDINATES = f"{CONNECTOR_GROUP}:{CONNECTOR_ARTIFACT}:{CONNECTOR_VERSION}"
CONNECTOR_JAR_NAME = f"{CONNECTOR_ARTIFACT}-{CONNECTOR_VERSION}.jar"
# SHA-256 of the JAR once confirmed from a trusted copy; None until then (see module docstring).
CONNECTOR_SHA256: str | None = None

LIB_DIR = Path(__file__).resolve().parent / "lib"
DEFAULT_JAR_PATH = LIB_DIR / CONNECTOR_JAR_NAME
FETCH_COMMAND = ".venv/bin/python -m streaming.fetch_connector"
MAVEN = "mvn"
_TIMEOUT_SECONDS = 600


class ConnectorError(RuntimeError):
    """The connector JAR is missing, could not be fetched, or is not the pinned artifact."""


def require_connector_jar(jar_path: Path = DEFAULT_JAR_PATH) -> Path:
    """The connector JAR's path, or an error that says which command puts it there."""
    if not jar_path.is_file():
        raise ConnectorError(
            f"the Kinesis connector JAR is missing at {jar_path}; run `{FETCH_COMMAND}` from the "
            f"repository root (it fetches {CONNECTOR_COORDINATES} with Maven and checks it)"
        )
    return jar_path


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(jar_path: Path, expected_sha256: str | None) -> str:
    """Check the JAR against the pin (when set); returns its SHA-256."""
    actual = file_digest(jar_path, "sha256")
    if expected_sha256 is not None and actual != expected_sha256.lower():
        raise ConnectorError(f"SHA-256 of {jar_path.name} is {actual}, pinned {expected_sha256}")
    return actual


def maven_command(output_directory: Path, coordinates: str = CONNECTOR_COORDINATES) -> list[str]:
    """The Maven invocation that copies one artifact (checksums enforced) into `output_directory`."""
    return [
        MAVEN,
        "-B",
        "-q",
        "-C",
        "dependency:copy",
        f"-Dartifact={coordinates}",
        f"-DoutputDirectory={output_directory}",
    ]


def _run_maven(command: Sequence[str]) -> None:
    if shutil.which(command[0]) is None:
        raise ConnectorError(f"`{command[0]}` (Apache Maven) is not on PATH; install it, then run `{FETCH_COMMAND}`")
    completed = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_SECONDS, check=False)
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip().splitlines()
        raise ConnectorError(f"`{' '.join(command)}` failed: " + " / ".join(output[-5:]))


def fetch(
    jar_path: Path = DEFAULT_JAR_PATH,
    coordinates: str = CONNECTOR_COORDINATES,
    expected_sha256: str | None = CONNECTOR_SHA256,
) -> str:
    """Copy the artifact with Maven into a temporary directory, verify, then move it into place; its SHA-256."""
    jar_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=jar_path.parent) as workdir:
        _run_maven(maven_command(Path(workdir), coordinates))
        copied = sorted(Path(workdir).glob("*.jar"))
        if len(copied) != 1:
            raise ConnectorError(f"Maven copied {[p.name for p in copied]} for {coordinates}, expected one JAR")
        sha256 = verify(copied[0], expected_sha256)
        os.replace(copied[0], jar_path)  # only a verified JAR ever sits at jar_path
    return sha256


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streaming.fetch_connector",
        description=f"Fetch {CONNECTOR_COORDINATES} into {LIB_DIR} with Maven.",
    )
    parser.add_argument("--force", action="store_true", help="fetch again even if the JAR is present")
    arguments = parser.parse_args(argv)
    if DEFAULT_JAR_PATH.is_file() and not arguments.force:
        if CONNECTOR_SHA256 is not None and file_digest(DEFAULT_JAR_PATH, "sha256") != CONNECTOR_SHA256:
            print(f"error: {DEFAULT_JAR_PATH} does not match the pinned SHA-256; rerun with --force", file=sys.stderr)
            return 1
        print(f"{DEFAULT_JAR_PATH} is present")
        return 0
    try:
        sha256 = fetch()
    except (OSError, subprocess.SubprocessError, ConnectorError) as error:
        print(f"error: could not fetch {CONNECTOR_COORDINATES}: {error}", file=sys.stderr)
        return 1
    print(f"{DEFAULT_JAR_PATH} fetched by Maven (repository checksums enforced); SHA-256 {sha256}")
    if CONNECTOR_SHA256 is None:
        print(
            f"pin it once confirmed from a trusted copy: CONNECTOR_SHA256 = {sha256!r} in streaming/fetch_connector.py"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
