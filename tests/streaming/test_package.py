"""The application zip for Managed Flink, and the connector JAR it needs."""

from __future__ import annotations

import hashlib
import stat
import zipfile
from pathlib import Path

import pytest

from streaming import fetch_connector
from streaming.fetch_connector import (
    CONNECTOR_COORDINATES,
    ConnectorError,
    maven_command,
    require_connector_jar,
    verify,
)
from streaming.package import (
    APP_JARFILE,
    APP_PYTHON_ENTRY,
    STREAMING_DIR,
    application_property_groups,
    build_application_zip,
)
from tools.local import ACCOUNT_ID, REGION

EVENTS_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/uba-events"
ALERTS_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/uba-alerts"


@pytest.fixture
def fake_jar(tmp_path):
    jar = tmp_path / "connector.jar"
    jar.write_bytes(b"PK\x03\x04 stands in for the connector")
    return jar


def test_zip_holds_the_entry_point_the_sql_and_the_jar_where_the_run_options_point(tmp_path, fake_jar):
    archive = build_application_zip(tmp_path / "app.zip", jar_path=fake_jar)
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        assert APP_PYTHON_ENTRY == "streaming/main.py" and APP_PYTHON_ENTRY in names
        assert APP_JARFILE == "streaming/lib/flink-sql-connector-kinesis-5.0.0-1.20.jar"
        assert zipped.read(APP_JARFILE) == fake_jar.read_bytes()
        sql_files = {p.name for p in (STREAMING_DIR / "sql").glob("*.sql")}
        assert {n.removeprefix("streaming/sql/") for n in names if n.startswith("streaming/sql/")} == sql_files
        # Everything main.py imports is there; the local tools are not.
        for module in ("__init__", "main", "job", "properties", "statements"):
            assert f"streaming/{module}.py" in names
        for tool in ("run_local", "package", "fetch_connector"):
            assert f"streaming/{tool}.py" not in names
        assert names == sorted(names)
        assert zipped.read("streaming/sql/warn_bursts.sql") == (STREAMING_DIR / "sql" / "warn_bursts.sql").read_bytes()


def test_zip_is_byte_for_byte_reproducible(tmp_path, fake_jar):
    first = build_application_zip(tmp_path / "a" / "app.zip", jar_path=fake_jar)
    fake_jar.touch()  # a newer mtime must not change the bytes
    second = build_application_zip(tmp_path / "b" / "app.zip", jar_path=fake_jar)
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()


def test_packaging_without_the_jar_says_which_command_to_run(tmp_path):
    with pytest.raises(ConnectorError) as raised:
        build_application_zip(tmp_path / "app.zip", jar_path=tmp_path / "missing.jar")
    assert "run `.venv/bin/python -m streaming.fetch_connector`" in str(raised.value)
    assert str(tmp_path / "missing.jar") in str(raised.value)
    assert not (tmp_path / "app.zip").exists()


def test_require_connector_jar_returns_a_present_jar(fake_jar):
    assert require_connector_jar(fake_jar) == fake_jar


def test_application_property_groups_point_into_the_zip():
    groups = application_property_groups(
        {"events.stream.arn": EVENTS_ARN, "alerts.stream.arn": ALERTS_ARN, "events.consumer.name": "uba-detector"}
    )
    assert groups[1]["property_map"] == {"python": APP_PYTHON_ENTRY, "jarfile": APP_JARFILE}


def test_the_connector_is_fetched_by_maven_with_strict_checksums_and_no_registry_address():
    """The ordinary client, against the machine's configured repositories; nothing names a registry."""
    assert CONNECTOR_COORDINATES == "org.apache.flink:flink-sql-connector-kinesis:5.0.0-1.20"
    command = maven_command(Path("/tmp/out"))
    assert command == [
        "mvn", "-B", "-q", "-C", "dependency:copy",
        f"-Dartifact={CONNECTOR_COORDINATES}", "-DoutputDirectory=/tmp/out",
    ]  # fmt: skip
    source = Path(fetch_connector.__file__).read_text()
    assert "://" not in source and "urllib" not in source


def fake_maven(tmp_path: Path, jar_bytes: bytes | None, exit_code: int = 0) -> Path:
    """An executable that answers like `mvn dependency:copy`: writes the artifact to -DoutputDirectory."""
    script = tmp_path / "bin" / "mvn"
    script.parent.mkdir()
    write = f"printf '%s' {jar_bytes.decode()!r} > \"$out/connector-1.0.jar\"" if jar_bytes is not None else ":"
    script.write_text(
        "#!/bin/sh\n"
        'for arg in "$@"; do case "$arg" in -DoutputDirectory=*) out="${arg#-DoutputDirectory=}";; esac; done\n'
        f"{write}\n"
        f"echo 'resolved {CONNECTOR_COORDINATES}' >&2\n"
        f"exit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_fetch_moves_only_a_verified_jar_into_place(tmp_path, monkeypatch):
    target = tmp_path / "lib" / "connector.jar"
    monkeypatch.setattr(fetch_connector, "MAVEN", str(fake_maven(tmp_path, b"jar bytes")))

    assert fetch_connector.fetch(target, expected_sha256=None) == hashlib.sha256(b"jar bytes").hexdigest()
    assert target.read_bytes() == b"jar bytes"

    target.unlink()  # a repository that serves other bytes than the pin
    with pytest.raises(ConnectorError, match=r"SHA-256 of connector-1\.0\.jar is .*, pinned 0{64}"):
        fetch_connector.fetch(target, expected_sha256="0" * 64)
    assert not target.exists()
    assert list((tmp_path / "lib").iterdir()) == []  # nothing half-fetched left behind


def test_a_failed_maven_run_is_reported_with_its_command_and_output(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch_connector, "MAVEN", str(fake_maven(tmp_path, None, exit_code=1)))
    with pytest.raises(ConnectorError) as raised:
        fetch_connector.fetch(tmp_path / "lib" / "connector.jar")
    assert "dependency:copy" in str(raised.value) and f"resolved {CONNECTOR_COORDINATES}" in str(raised.value)


def test_without_maven_the_error_says_what_to_install_and_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch_connector, "MAVEN", str(tmp_path / "no-such-mvn"))
    with pytest.raises(ConnectorError, match=r"\(Apache Maven\) is not on PATH.*python -m streaming\.fetch_connector"):
        fetch_connector.fetch(tmp_path / "lib" / "connector.jar")


def test_verify_accepts_the_pinned_digest_and_refuses_others(fake_jar):
    sha256 = hashlib.sha256(fake_jar.read_bytes()).hexdigest()
    assert verify(fake_jar, None) == sha256
    assert verify(fake_jar, sha256.upper()) == sha256
    with pytest.raises(ConnectorError, match=r"SHA-256 of connector\.jar is .*, pinned"):
        verify(fake_jar, "0" * 64)
