"""Downloads the pinned Kinesis SQL connector JAR into streaming/lib/ and verifies it.

    python -m streaming.fetch_connector

The JAR is `org.apache.flink:flink-sql-connector-kinesis:5.0.0-1.20`, the version the
Managed Service for Apache Flink documentation lists for Flink 1.20. It packages the
`kinesis` table source (the FLIP-27 KinesisStreamsSource) and sink, and `kinesis-legacy`.
It is not committed (streaming/lib/*.jar is ignored); the packager refuses to build an
application zip without it (see `require_connector_jar`).

Integrity: the download is checked against the SHA-1 that Maven Central publishes beside
the artifact, and against `CONNECTOR_SHA256` when that pin is set. The pin could not be
taken from a trusted copy when this was written (no network); the first successful fetch
prints the SHA-256 to pin.

Pure Python (standard library only), runnable from either virtualenv.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import urllib.request
from pathlib import Path

CONNECTOR_GROUP = "org.apache.flink"
CONNECTOR_ARTIFACT = "flink-sql-connector-kinesis"
CONNECTOR_VERSION = "5.0.0-1.20"
CONNECTOR_JAR_NAME = f"{CONNECTOR_ARTIFACT}-{CONNECTOR_VERSION}.jar"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
CONNECTOR_URL = "/".join(
    (MAVEN_CENTRAL, *CONNECTOR_GROUP.split("."), CONNECTOR_ARTIFACT, CONNECTOR_VERSION, CONNECTOR_JAR_NAME)
)
# SHA-256 of the JAR once confirmed from a trusted copy; None until then (see module docstring).
CONNECTOR_SHA256: str | None = None

LIB_DIR = Path(__file__).resolve().parent / "lib"
DEFAULT_JAR_PATH = LIB_DIR / CONNECTOR_JAR_NAME
FETCH_COMMAND = "python -m streaming.fetch_connector"
_TIMEOUT_SECONDS = 120


class ConnectorError(RuntimeError):
    """The connector JAR is missing or is not the pinned artifact."""


def require_connector_jar(jar_path: Path = DEFAULT_JAR_PATH) -> Path:
    """The connector JAR's path, or an error that says which command puts it there."""
    if not jar_path.is_file():
        raise ConnectorError(
            f"the Kinesis connector JAR is missing at {jar_path}; run `{FETCH_COMMAND}` from the "
            "repository root (it downloads it from Maven Central and verifies its checksum)"
        )
    return jar_path


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def published_sha1(text: str) -> str:
    """The hex digest in a Maven `.sha1` file (some carry `<digest>  <file name>`)."""
    fields = text.split()
    if not fields or len(fields[0]) != 40 or any(c not in "0123456789abcdef" for c in fields[0].lower()):
        raise ConnectorError(f"unexpected content in the published .sha1 file: {text[:80]!r}")
    return fields[0].lower()


def verify(jar_path: Path, expected_sha1: str, expected_sha256: str | None) -> str:
    """Check the JAR against the digests; returns its SHA-256."""
    actual_sha1 = file_digest(jar_path, "sha1")
    if actual_sha1 != expected_sha1:
        raise ConnectorError(f"SHA-1 of {jar_path.name} is {actual_sha1}, Maven Central publishes {expected_sha1}")
    actual_sha256 = file_digest(jar_path, "sha256")
    if expected_sha256 is not None and actual_sha256 != expected_sha256.lower():
        raise ConnectorError(f"SHA-256 of {jar_path.name} is {actual_sha256}, pinned {expected_sha256}")
    return actual_sha256


def _download(url: str, destination: Path) -> None:
    with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response, destination.open("wb") as out:
        while block := response.read(1 << 20):
            out.write(block)


def fetch(jar_path: Path = DEFAULT_JAR_PATH, url: str = CONNECTOR_URL) -> str:
    """Download to a temporary file, verify, then move into place; returns the SHA-256."""
    jar_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=jar_path.parent) as workdir:
        sha1_file = Path(workdir) / "published.sha1"
        candidate = Path(workdir) / jar_path.name
        _download(url + ".sha1", sha1_file)
        _download(url, candidate)
        sha256 = verify(candidate, published_sha1(sha1_file.read_text()), CONNECTOR_SHA256)
        os.replace(candidate, jar_path)  # only a verified JAR ever sits at jar_path
    return sha256


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=f"Download {CONNECTOR_JAR_NAME} into {LIB_DIR}.")
    parser.add_argument("--force", action="store_true", help="download again even if the JAR is present")
    arguments = parser.parse_args(argv)
    if DEFAULT_JAR_PATH.is_file() and not arguments.force:
        if CONNECTOR_SHA256 is not None and file_digest(DEFAULT_JAR_PATH, "sha256") != CONNECTOR_SHA256:
            print(
                f"error: {DEFAULT_JAR_PATH} does not match the pinned SHA-256; rerun with --force",
                file=sys.stderr,
            )
            return 1
        print(f"{DEFAULT_JAR_PATH} is present")
        return 0
    try:
        sha256 = fetch()
    except (OSError, ConnectorError) as error:
        print(f"error: could not fetch {CONNECTOR_URL}: {error}", file=sys.stderr)
        return 1
    print(f"{DEFAULT_JAR_PATH} verified (SHA-1 from Maven Central); SHA-256 {sha256}")
    if CONNECTOR_SHA256 is None:
        print(f"pin it: set CONNECTOR_SHA256 = {sha256!r} in streaming/fetch_connector.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
