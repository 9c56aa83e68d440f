"""`createdAt` is read the same way everywhere, or refused the same way (issue 13, item 5).

The same table of forms (`tests.support.timestamps.FORMS`) goes through the ingest handler and
through every reader of the stream that runs here: Firehose's JQ partition query (on libjq), the
lake writer that stands in for Firehose's Parquet conversion, and DuckDB running the Athena SQL.
The Flink job reads the same table in `tests/streaming/test_flink_sql.py` (scenario
`timestamp_forms`, on the session's mini-cluster run).
"""

from __future__ import annotations

import importlib
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from components.lake.schema import partition_query
from lambdas.events import STREAM_TIMESTAMP, parse_stream_timestamp, to_utc_iso
from sql.lake import event_partition
from streaming.statements import STREAM_TIMESTAMP_PATTERN
from tests.support.lambda_events import (
    STREAM_NAME,
    handler_stream,
    invoke,
    read_stream,
)
from tests.support.timestamps import FORMS, Form, stream_record
from tools.local.lake import create_events_view, write_lake
from tools.query import run_query

jq: Any = importlib.import_module("jq")
BY_NAME = {form.name: form for form in FORMS}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_table_covers_both_sides_of_every_reader() -> None:
    assert sum(form.on_stream for form in FORMS) >= 4
    # Shaped like a stream timestamp, but no such time: every reader must refuse these too.
    assert {form.name for form in FORMS if form.shaped_like_stream and form.instant is None} == {
        "no_such_day",
        "hour_24",
    }
    assert sum(form.instant is not None and not form.on_stream for form in FORMS) >= 4  # ingest normalises these
    assert sum(form.instant is None for form in FORMS) >= 8


def test_the_flink_job_and_the_contract_state_the_same_stream_form() -> None:
    """The job imports nothing outside `streaming`, so it keeps a copy of the pattern: the same text."""
    assert STREAM_TIMESTAMP.pattern == STREAM_TIMESTAMP_PATTERN


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch) -> Any:
    with handler_stream(monkeypatch) as client:
        yield client


def test_the_handler_accepts_exactly_the_contracts_forms_and_writes_each_as_a_stream_timestamp(stream: Any) -> None:
    events = [{**stream_record(form, f"e-{form.name}"), "createdAt": form.value} for form in FORMS]
    client_events = [
        {key: event[key] for key in ("eventId", "action", "userId", "objectId", "bizId", "createdAt")}
        for event in events
    ]
    answer = invoke({"events": client_events})
    rejected = {FORMS[item["index"]].name for item in answer.body["rejected"]}
    assert rejected == {form.name for form in FORMS if form.instant is None}
    stored = {record.json()["eventId"]: record.json()["createdAt"] for record in read_stream(stream, STREAM_NAME)}
    assert stored == {f"e-{form.name}": form.instant for form in FORMS if form.instant is not None}
    assert all(STREAM_TIMESTAMP.fullmatch(value) for value in stored.values())


def _jq_partition(record: dict[str, Any]) -> str | None:
    """The partition Firehose's JQ gives the record, or None where the query fails (errors/)."""
    try:
        keys = jq.compile(partition_query()).input_value(record).first()
    except ValueError:
        return None
    return "events/" + "".join(f"{key}={keys[key]}/" for key in ("year", "month", "day", "hour"))


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.name)
def test_firehose_partition_keys_read_exactly_the_stream_forms(form: Form) -> None:
    partition = _jq_partition(stream_record(form, "e-1"))
    if form.on_stream:
        assert form.instant is not None
        assert partition == event_partition(_instant(form.instant))
    else:
        assert partition is None, f"{form.value!r} filed under {partition} instead of errors/"


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.name)
def test_the_python_reader_of_stream_timestamps_agrees(form: Form) -> None:
    if form.on_stream:
        assert to_utc_iso(parse_stream_timestamp(form.value)) == form.instant
    else:
        with pytest.raises(ValueError, match="not a"):
            parse_stream_timestamp(form.value)


def test_the_lake_and_the_athena_sql_read_exactly_the_stream_forms(tmp_path: Path) -> None:
    """Each stream form lands in its UTC hour and reads back as its instant; the lake writer refuses
    every other value, as Firehose sends such a record to errors/ instead of converting it."""
    for form in FORMS:
        record = stream_record(form, f"e-{form.name}")
        if form.on_stream:
            write_lake(tmp_path, [record], file_name=f"{form.name}.parquet")
        else:
            with pytest.raises(ValueError, match=rf"record 'e-{form.name}', createdAt: not a"):
                write_lake(tmp_path, [record], file_name=f"{form.name}.parquet")
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        create_events_view(connection, tmp_path)
        rows = connection.execute(
            "SELECT event_id, strftime(created_at, '%Y-%m-%dT%H:%M:%S.%gZ'), year, month, day, hour FROM events"
        ).fetchall()
    read = {
        event_id.removeprefix("e-"): (created_at, f"events/year={y}/month={m}/day={d}/hour={h}/")
        for event_id, created_at, y, m, d, h in rows
    }
    stream_forms = [form for form in FORMS if form.on_stream]
    assert set(read) == {form.name for form in stream_forms}
    for form in stream_forms:
        assert form.instant is not None
        created_at, folder = read[form.name]
        assert created_at == form.instant
        assert folder == event_partition(_instant(form.instant))
    # The Athena analysis counts each one on its UTC day.
    result = run_query("dau", tmp_path, {"from_date": "2026-03-01", "to_date": "2026-03-01"})
    assert result.as_dicts() == [{"day": "2026-03-01", "users": len(stream_forms)}]


@pytest.mark.parametrize("form", [f for f in FORMS if f.instant is not None], ids=lambda form: form.name)
def test_what_ingest_writes_for_any_accepted_form_every_reader_reads_as_the_same_instant(form: Form) -> None:
    assert form.instant is not None
    stored = Form(form.name, form.instant, form.instant)
    assert stored.on_stream
    assert _jq_partition(stream_record(stored, "e-1")) == event_partition(_instant(form.instant))
    assert to_utc_iso(parse_stream_timestamp(stored.value)) == form.instant
