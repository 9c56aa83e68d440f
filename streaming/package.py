"""Builds the application zip that Managed Service for Apache Flink runs.

Layout (paths inside the zip; the run options point into it):

    streaming/__init__.py
    streaming/job.py
    streaming/main.py                         <- run option `python`
    streaming/properties.py
    streaming/statements.py
    streaming/sql/*.sql
    streaming/lib/flink-sql-connector-kinesis-5.0.0-1.20.jar   <- run option `jarfile`

The zip is deterministic: entries in sorted order, fixed timestamps and permissions,
so the same sources give the same bytes and Pulumi sees no change when nothing changed.

This is the streaming package's build step. `verified_application_files()` checks that
the connector JAR is present and is the pinned artifact, and lists every file of the
application; the program's entry point (`__main__.py`) calls it and hands the result to
the streaming tier, which uploads exactly that. `python -m streaming.package` builds the
same files into a zip, to inspect or to upload by hand.

Pure Python (no pyflink import): runs from the main virtualenv.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from streaming.fetch_connector import (
    CONNECTOR_JAR_NAME,
    CONNECTOR_SHA256,
    DEFAULT_JAR_PATH,
    FETCH_COMMAND,
    ConnectorError,
    file_digest,
    require_connector_jar,
)
from streaming.properties import property_groups

STREAMING_DIR = Path(__file__).resolve().parent
APP_PACKAGE = "streaming"
APP_PYTHON_ENTRY = f"{APP_PACKAGE}/main.py"
APP_JARFILE = f"{APP_PACKAGE}/lib/{CONNECTOR_JAR_NAME}"
# What the job imports at run time; tools (runner, fetcher, this packager) stay out.
APP_MODULES = ("__init__.py", "job.py", "main.py", "properties.py", "statements.py")

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
_FILE_MODE = 0o100644 << 16  # regular file, rw-r--r--


def application_files(jar_path: Path) -> dict[str, Path]:
    """Zip entry name -> source file, for everything the application needs."""
    files = {f"{APP_PACKAGE}/{name}": STREAMING_DIR / name for name in APP_MODULES}
    for sql_file in sorted((STREAMING_DIR / "sql").glob("*.sql")):
        files[f"{APP_PACKAGE}/sql/{sql_file.name}"] = sql_file
    files[APP_JARFILE] = jar_path
    return dict(sorted(files.items()))


def verify_connector_jar(jar_path: Path = DEFAULT_JAR_PATH, expected_sha256: str | None = CONNECTOR_SHA256) -> Path:
    """The JAR if it is present and, once a SHA-256 is pinned, the pinned artifact; else a clear error."""
    require_connector_jar(jar_path)
    if expected_sha256 is not None:
        actual = file_digest(jar_path, "sha256")
        if actual != expected_sha256.lower():
            raise ConnectorError(
                f"{jar_path} has SHA-256 {actual}, not the pinned {expected_sha256}; "
                f"run `{FETCH_COMMAND} --force` to replace it with the verified artifact"
            )
    return jar_path


def verified_application_files(
    jar_path: Path = DEFAULT_JAR_PATH, expected_sha256: str | None = CONNECTOR_SHA256
) -> dict[str, Path]:
    """The build step: every file of the application, once the connector JAR is checked (see `verify_connector_jar`)."""
    return application_files(verify_connector_jar(jar_path, expected_sha256))


def build_application_zip(
    destination: Path, jar_path: Path = DEFAULT_JAR_PATH, expected_sha256: str | None = CONNECTOR_SHA256
) -> Path:
    """Write the application zip to `destination`; fails, naming the command to run, without the JAR.

    `jar_path` and `expected_sha256` let tests package any file in the JAR's place.
    """
    files = verified_application_files(jar_path, expected_sha256)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w") as archive:
        for name, source in files.items():
            entry = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            entry.external_attr = _FILE_MODE
            # A JAR is already compressed; deflating it again costs time and saves nothing.
            entry.compress_type = zipfile.ZIP_STORED if name.endswith(".jar") else zipfile.ZIP_DEFLATED
            archive.writestr(entry, source.read_bytes(), compresslevel=9)
    return destination


def application_property_groups(values: Mapping[str, str]) -> list[dict[str, Any]]:
    """Property groups for the application: `uba` (validated `values`) and the run options."""
    return property_groups(values, python_entry=APP_PYTHON_ENTRY, jarfile=APP_JARFILE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streaming.package", description="Build the Managed Flink application zip."
    )
    parser.add_argument("--out", type=Path, default=Path("build/flink/anomaly-detection.zip"), help="zip to write")
    arguments = parser.parse_args(argv)
    try:
        written = build_application_zip(arguments.out)
    except ConnectorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
