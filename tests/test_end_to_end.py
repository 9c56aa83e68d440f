"""The real-time half end to end, every hop on its real engine.

A client batch goes through the ingest Lambda into a (moto) events stream; the records
the stream holds are what the Flink SQL job reads on a local PyFlink mini-cluster; the
alert records it emits are delivered to the alert-sink Lambda, which writes the
(moto) realtime table and notifies the business topic. Nothing is hand-written
between the hops: each consumes exactly what the previous one produced.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.alert_sink import Sink
from tests.support.flink import FLINK_PYTHON, REPO
from tests.support.kinesis_events import kinesis_event
from tests.support.lambda_events import (
    STREAM_NAME,
    ingest_environment,
    invoke,
    kinesis_for_handler,
    receive_at,
    user_event,
)
from tools.local.lambdas import read_stream

pytestmark = pytest.mark.flink


def client_batch() -> list[dict[str, Any]]:
    """One minute of traffic: 12 warnings on `search`, 3 errors on `buy`, ordinary views, one bad event."""
    events: list[dict[str, Any]] = []
    for n in range(12):
        events.append(user_event(n, action="search", errorMsg=f"WARNNING slow index {n}"))
    for n in range(12, 15):
        events.append(user_event(n, action="buy", errorMsg="[ERROR] payment gateway timeout"))
    for n in range(15, 40):
        events.append(user_event(n, action="viewDoc"))
    events.append(user_event(40, userId=""))  # invalid: rejected at the door, never reaches Flink
    # The next minute's first event closes the minute's windows (event time moves past them).
    events.append(user_event(120, action="viewDoc"))
    return events


def run_flink(stream_records: list[dict[str, Any]], tmp_path: Path) -> list[dict[str, Any]]:
    if not FLINK_PYTHON.exists():
        pytest.fail(f"the PyFlink virtualenv is missing ({FLINK_PYTHON}); run `make setup` first")
    events_file = tmp_path / "events.jsonl"
    events_file.write_text("".join(json.dumps(record) + "\n" for record in stream_records))
    completed = subprocess.run(
        [str(FLINK_PYTHON), "-m", "streaming.run_local", "--events", str(events_file)],
        cwd=REPO, capture_output=True, text=True, timeout=540, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-4000:]
    return [json.loads(line) for line in completed.stdout.splitlines() if line.strip()]


def test_a_client_batch_becomes_stored_alerts_and_business_notifications(
    sink: Sink,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    started = time.perf_counter()
    ingest_environment(monkeypatch)
    receive_at(monkeypatch)  # the batch carries fixed 2026-03-01 times
    with kinesis_for_handler(STREAM_NAME) as kinesis:
        answer = invoke({"events": client_batch()})
        stream = [record.json() for record in read_stream(kinesis, STREAM_NAME)]
    assert answer.status == 200
    assert answer.body["accepted"] == 41 and [r["index"] for r in answer.body["rejected"]] == [40]
    assert len(stream) == 41

    alert_records = run_flink(stream, tmp_path)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for record in alert_records:
        by_type.setdefault(record["alertType"], []).append(record)
    assert sorted(r["eventId"] for r in by_type["error"]) == ["evt-000012", "evt-000013", "evt-000014"]
    assert [(r["action"], r["warnCount"]) for r in by_type["warn_burst"]] == [("search", 12)]
    counts = {(r["action"], r["windowStart"]): (r["events"], r["users"]) for r in by_type["counts"]}
    assert counts[("viewDoc", "2026-03-01T12:00:00.000Z")] == (25, 7)
    assert counts[("search", "2026-03-01T12:00:00.000Z")] == (12, 7)

    delivery = kinesis_event(alert_records)
    assert sink.handle(delivery) == {"batchItemFailures": []}
    items = sink.items()
    assert {pk for pk, _ in items} >= {"ALERT#error#buy", "ALERT#warn_burst#search", "ALERT#counts#viewDoc"}
    assert len(items) == len(alert_records)
    notifications = sink.notifications()
    assert len(notifications) == 4  # three errors and one burst; counts are never announced
    assert sum("warnings" in n["Subject"] for n in notifications) == 1

    # Kinesis redelivers at least once: the same batch again changes nothing and notifies no one.
    assert sink.handle(delivery) == {"batchItemFailures": []}
    assert sink.items().keys() == items.keys() and sink.notifications() == []
    print(f"\nend-to-end (ingest -> events stream -> Flink -> alert sink): {time.perf_counter() - started:.1f} s")
