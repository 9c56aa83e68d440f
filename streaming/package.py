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

Pure Python (no pyflink import): the Pulumi program calls `build_application_zip()`
and `application_property_groups()` from the main virtualenv.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from streaming.fetch_connector import CONNECTOR_JAR_NAME, DEFAULT_JAR_PATH, require_connector_jar
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


def build_application_zip(destination: Path, jar_path: Path = DEFAULT_JAR_PATH) -> Path:
    """Write the application zip to `destination`; fails, naming the command to run, without the JAR.

    `jar_path` lets tests (and CI without network) package any file in the JAR's place.
    """
    files = application_files(require_connector_jar(jar_path))
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
