"""The application zip for Managed Flink, and the connector JAR it needs."""

from __future__ import annotations

import hashlib
import re
import zipfile

import pytest

from streaming import fetch_connector
from streaming.fetch_connector import (
    CONNECTOR_URL,
    ConnectorError,
    published_sha1,
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
    assert "run `python -m streaming.fetch_connector`" in str(raised.value)
    assert str(tmp_path / "missing.jar") in str(raised.value)
    assert not (tmp_path / "app.zip").exists()


def test_require_connector_jar_returns_a_present_jar(fake_jar):
    assert require_connector_jar(fake_jar) == fake_jar


def test_application_property_groups_point_into_the_zip():
    groups = application_property_groups({"events.stream.arn": EVENTS_ARN, "alerts.stream.arn": ALERTS_ARN})
    assert groups[1]["property_map"] == {"python": APP_PYTHON_ENTRY, "jarfile": APP_JARFILE}


def test_connector_comes_from_maven_central_at_the_pinned_version():
    assert CONNECTOR_URL == (
        "https://repo1.maven.org/maven2/org/apache/flink/flink-sql-connector-kinesis/"
        "5.0.0-1.20/flink-sql-connector-kinesis-5.0.0-1.20.jar"
    )


@pytest.mark.parametrize(
    "content",
    ["DA39A3EE5E6B4B0D3255BFEF95601890AFD80709\n", "da39a3ee5e6b4b0d3255bfef95601890afd80709  empty.jar\n"],
)
def test_published_sha1_files_are_read_in_both_maven_layouts(content):
    assert published_sha1(content) == "da39a3ee5e6b4b0d3255bfef95601890afd80709"


@pytest.mark.parametrize("content", ["", "<html>Not Found</html>", "da39a3ee"])
def test_a_sha1_file_that_is_not_a_digest_is_refused(content):
    with pytest.raises(ConnectorError, match="unexpected content"):
        published_sha1(content)


def test_verify_accepts_the_right_digests_and_refuses_others(fake_jar):
    sha1 = hashlib.sha1(fake_jar.read_bytes()).hexdigest()
    sha256 = hashlib.sha256(fake_jar.read_bytes()).hexdigest()
    assert verify(fake_jar, sha1, None) == sha256
    assert verify(fake_jar, sha1, sha256.upper()) == sha256
    with pytest.raises(ConnectorError, match=re.escape("SHA-1 of connector.jar is")):
        verify(fake_jar, "0" * 40, None)
    with pytest.raises(ConnectorError, match=r"SHA-256 of connector\.jar is .*, pinned"):
        verify(fake_jar, sha1, "0" * 64)


def test_fetch_moves_only_a_verified_jar_into_place(tmp_path, monkeypatch):
    """The download path end to end, with a local file:// 'repository' instead of the network."""
    repository = tmp_path / "repo"
    repository.mkdir()
    artifact = repository / "connector.jar"
    artifact.write_bytes(b"jar bytes")
    (repository / "connector.jar.sha1").write_text(hashlib.sha1(b"jar bytes").hexdigest())
    target = tmp_path / "lib" / "connector.jar"

    assert fetch_connector.fetch(target, url=artifact.as_uri()) == hashlib.sha256(b"jar bytes").hexdigest()
    assert target.read_bytes() == b"jar bytes"

    (repository / "connector.jar.sha1").write_text("0" * 40)  # a tampered or truncated download
    target.unlink()
    with pytest.raises(ConnectorError, match="SHA-1"):
        fetch_connector.fetch(target, url=artifact.as_uri())
    assert not target.exists()
    assert list((tmp_path / "lib").iterdir()) == []  # no partial download left behind
