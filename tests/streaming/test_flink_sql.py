"""The Flink SQL job on a real engine: a local PyFlink mini-cluster over files of events.

All scenarios run once per session, in one JVM (`run_local --scenarios`), because a
JVM and mini-cluster start costs seconds on two cores. Events are built with the event
contract (`stored_record()`), so they are exactly what the ingest Lambda writes.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdas.events import IngestEnvelope, UserEvent, stored_record
from streaming.package import APP_PYTHON_ENTRY, build_application_zip
from tests.support.flink import FLINK_PYTHON, REPO
from tests.support.timestamps import FORMS, RECEIVED, stream_record
from tools.local import ACCOUNT_ID, REGION

pytestmark = pytest.mark.flink

T0 = datetime(2026, 1, 1, 8, 0, 0, tzinfo=UTC)  # a minute boundary

_serial = iter(range(1_000_000))


def event(
    at: timedelta,
    action: str = "buy",
    user: str = "u1",
    error_msg: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """One events-stream record, `at` after T0."""
    created = T0 + at
    return stored_record(
        UserEvent(
            eventId=event_id or f"e{next(_serial)}",
            action=action,
            userId=user,
            objectId="doc-1",
            bizId="biz-1",
            createdAt=created,
            errorMsg=error_msg,
        ),
        IngestEnvelope(receivedAt=created + timedelta(milliseconds=300), sourceIp="203.0.113.9"),
    )


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def warnings(count: int, start: float, step: float = 1.0, action: str = "buy") -> list[dict[str, Any]]:
    return [event(s(start + i * step), action=action, error_msg=f"slow disk WARNING #{i}") for i in range(count)]


ERRORS_MIXED = [
    event(s(i * 2), user=f"u{i % 4}", error_msg=f"db [error] timeout {i}" if i % 2 else "all fine") for i in range(20)
]
LATE_ERROR = event(s(50), error_msg="[PANIC] late but not forgotten")
DUPLICATED = event(s(5), error_msg="[ERROR] charged twice?")
WILDCARD_MARKERS = ["50%_off", "it's", "a!b"]
# Written to the stream directly, past the ingest's checks: without a bound its event time
# would move the watermark to year 9999 and every later event would be late.
FROM_YEAR_9999 = {**event(s(0), error_msg="[error] sent from year 9999"), "createdAt": "9999-12-31T23:59:59.000Z"}

# Every createdAt form of `tests/support/timestamps.py`, each on an error event: the alert shows
# what the job read (the instant, or receivedAt where it refused the value).
TIMESTAMP_FORMS = [stream_record(form, f"ts-{form.name}", error_msg=f"[error] {form.name}") for form in FORMS]

SCENARIOS: dict[str, dict[str, Any]] = {
    "timestamp_forms": {"events": TIMESTAMP_FORMS},
    "errors_10_of_20": {"events": ERRORS_MIXED},
    "warn_10_in_a_minute": {"events": warnings(10, start=3, step=5)},
    "warn_9_in_a_minute": {"events": warnings(9, start=3, step=5)},
    "warn_5_and_5_across_a_boundary": {"events": warnings(5, start=50) + warnings(5, start=60)},
    "two_actions": {"events": warnings(10, start=1, action="buy") + warnings(9, start=1, action="view")},
    "counts": {
        "events": [
            *(event(s(i), action="buy", user=u) for i, u in enumerate(["u1", "u1", "u2", "u3", "u3", "u3", "u4"])),
            *(event(s(10 + i), action="view", user=u) for i, u in enumerate(["u1", "u5", "u5"])),
            *(event(s(70 + i), action="buy", user="u9") for i in range(2)),
        ]
    },
    # The same arrival order twice: an event 50 s into the first minute arrives after one at
    # 1:10. With a 5 s watermark the first window has closed (watermark 1:05) and it is
    # dropped; with 30 s it is still open (watermark 0:40) and counted.
    "late_beyond_watermark": {
        "events": [event(s(10)), event(s(70)), LATE_ERROR],
        "properties": {"watermark.seconds": "5"},
    },
    "late_within_watermark": {
        "events": [event(s(10)), event(s(70)), LATE_ERROR],
        "properties": {"watermark.seconds": "30"},
    },
    "duplicate_delivery": {"events": [DUPLICATED, event(s(6)), DUPLICATED]},
    "markers_are_literal": {
        "events": [
            event(s(1), error_msg="50XYoff"),
            event(s(2), error_msg="get 50%_off now"),
            event(s(3), error_msg="it's broken"),
            event(s(4), error_msg="its broken"),
            event(s(5), error_msg="a!b"),
            event(s(6), error_msg="[error] is not a marker here"),
        ],
        "properties": {"error.markers": json.dumps(WILDCARD_MARKERS)},
    },
    "window_and_threshold_from_properties": {
        "events": [
            event(s(10), error_msg="warning"),
            event(s(70), error_msg="warning"),
            event(s(110), error_msg="WARNING"),
        ],
        "properties": {"window.seconds": "120", "warn.threshold": "3"},
    },
    "far_future_event_first": {"events": [FROM_YEAR_9999, *warnings(10, start=3, step=5)]},
    "bad_records_are_skipped": {
        "events": [
            "this line is not JSON",
            {**event(s(1), error_msg="[error] with a clock that lies"), "createdAt": "yesterday"},
            {"eventId": 42},
            event(s(2), error_msg="[error] fine"),
        ]
    },
}


@pytest.fixture(scope="session")
def flink_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every scenario's alert records (and the Kinesis plan check), from one runner process."""
    if not FLINK_PYTHON.exists():
        pytest.fail(f"the PyFlink virtualenv is missing ({FLINK_PYTHON}); run `make setup` first")
    scenarios_file = tmp_path_factory.mktemp("flink") / "scenarios.json"
    scenarios_file.write_text(json.dumps(SCENARIOS))
    completed = subprocess.run(
        [
            str(FLINK_PYTHON),
            "-m",
            "streaming.run_local",
            "--scenarios",
            str(scenarios_file),
            "--explain-kinesis",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    results: dict[str, Any] = {}
    for line in completed.stdout.splitlines():
        document = json.loads(line)
        if "scenario" in document:
            results[document["scenario"]] = document["records"]
        else:
            results.update(document)
    assert set(SCENARIOS) <= set(results), f"scenarios without results: {set(SCENARIOS) - set(results)}"
    return results


def of_type(records: list[dict[str, Any]], alert_type: str) -> list[dict[str, Any]]:
    return [record for record in records if record["alertType"] == alert_type]


def window(start_seconds: int, length: int = 60) -> dict[str, str]:
    def iso(offset: int) -> str:
        return (T0 + s(offset)).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    return {"windowStart": iso(start_seconds), "windowEnd": iso(start_seconds + length)}


def test_every_error_event_and_only_those_becomes_one_alert(flink_results):
    expected = [
        {
            "alertType": "error",
            **{k: e[k] for k in ("action", "eventId", "userId", "objectId", "bizId", "errorMsg", "createdAt")},
        }
        for e in ERRORS_MIXED
        if "[error]" in (e["errorMsg"] or "")
    ]
    assert len(expected) == 10
    errors = of_type(flink_results["errors_10_of_20"], "error")
    assert sorted(errors, key=lambda r: r["eventId"]) == sorted(expected, key=lambda r: r["eventId"])


def test_ten_warnings_in_a_minute_make_one_burst(flink_results):
    assert of_type(flink_results["warn_10_in_a_minute"], "warn_burst") == [
        {"alertType": "warn_burst", "action": "buy", "warnCount": 10, **window(0)}
    ]


def test_nine_warnings_make_no_burst(flink_results):
    records = flink_results["warn_9_in_a_minute"]
    assert of_type(records, "warn_burst") == []
    assert of_type(records, "counts") == [
        {"alertType": "counts", "action": "buy", "events": 9, "users": 1, **window(0)}
    ]


def test_warnings_split_across_a_window_boundary_make_no_burst(flink_results):
    records = flink_results["warn_5_and_5_across_a_boundary"]
    assert of_type(records, "warn_burst") == []
    assert sorted((r["windowStart"], r["events"]) for r in of_type(records, "counts")) == [
        (window(0)["windowStart"], 5),
        (window(60)["windowStart"], 5),
    ]


def test_actions_are_counted_separately(flink_results):
    records = flink_results["two_actions"]
    assert of_type(records, "warn_burst") == [
        {"alertType": "warn_burst", "action": "buy", "warnCount": 10, **window(0)}
    ]
    assert {r["action"]: r["events"] for r in of_type(records, "counts")} == {"buy": 10, "view": 9}


def test_counts_and_distinct_users_per_action_and_window(flink_results):
    counts = of_type(flink_results["counts"], "counts")
    assert sorted(counts, key=lambda r: (r["windowStart"], r["action"])) == [
        {"alertType": "counts", "action": "buy", "events": 7, "users": 4, **window(0)},
        {"alertType": "counts", "action": "view", "events": 3, "users": 2, **window(0)},
        {"alertType": "counts", "action": "buy", "events": 2, "users": 1, **window(60)},
    ]


def test_event_later_than_the_watermark_is_dropped_from_its_window(flink_results):
    counts = of_type(flink_results["late_beyond_watermark"], "counts")
    assert sorted((r["windowStart"], r["events"]) for r in counts) == [
        (window(0)["windowStart"], 1),
        (window(60)["windowStart"], 1),
    ]


def test_event_within_the_watermark_is_counted(flink_results):
    counts = of_type(flink_results["late_within_watermark"], "counts")
    assert sorted((r["windowStart"], r["events"]) for r in counts) == [
        (window(0)["windowStart"], 2),
        (window(60)["windowStart"], 1),
    ]


@pytest.mark.parametrize("scenario", ["late_beyond_watermark", "late_within_watermark"])
def test_a_late_error_event_still_raises_its_alert(flink_results, scenario):
    assert [r["eventId"] for r in of_type(flink_results[scenario], "error")] == [LATE_ERROR["eventId"]]


def test_a_redelivered_event_raises_one_alert_and_counts_once(flink_results):
    records = flink_results["duplicate_delivery"]
    assert [r["eventId"] for r in of_type(records, "error")] == [DUPLICATED["eventId"]]
    assert [r["events"] for r in of_type(records, "counts")] == [2]


def test_markers_match_literally_even_with_like_wildcards_and_quotes(flink_results):
    messages = Counter(r["errorMsg"] for r in of_type(flink_results["markers_are_literal"], "error"))
    assert messages == Counter(["get 50%_off now", "it's broken", "a!b"])


def test_window_length_and_threshold_come_from_the_properties(flink_results):
    records = flink_results["window_and_threshold_from_properties"]
    assert of_type(records, "warn_burst") == [
        {"alertType": "warn_burst", "action": "buy", "warnCount": 3, **window(0, length=120)}
    ]


def test_bad_records_are_skipped_without_stopping_the_job(flink_results):
    records = flink_results["bad_records_are_skipped"]
    # The record whose createdAt does not parse still raises its error alert, but stays out of windows.
    assert Counter(r["errorMsg"] for r in of_type(records, "error")) == Counter(
        ["[error] with a clock that lies", "[error] fine"]
    )
    assert [(r["events"], r["windowStart"]) for r in of_type(records, "counts")] == [(1, window(0)["windowStart"])]
    # ...stamped with the time the server received it, since its own time means nothing.
    liar = next(r for r in of_type(records, "error") if r["errorMsg"] == "[error] with a clock that lies")
    assert liar["createdAt"] == next(
        e["receivedAt"]
        for e in SCENARIOS["bad_records_are_skipped"]["events"]
        if isinstance(e, dict) and e.get("createdAt") == "yesterday"
    )


def test_the_job_reads_exactly_the_stream_timestamp_forms_and_refuses_the_rest(flink_results):
    """Issue 13: a createdAt without milliseconds became `createdAt: null`. The job reads every stream
    timestamp to its instant, as Firehose and Athena do, and refuses every other value as they do."""
    records = flink_results["timestamp_forms"]
    read = {r["eventId"].removeprefix("ts-"): r["createdAt"] for r in of_type(records, "error")}
    assert read == {form.name: form.instant if form.on_stream else RECEIVED for form in FORMS}
    # Only what it read counts in a window: all of them at 12:15.
    assert [(r["windowStart"], r["events"]) for r in of_type(records, "counts")] == [
        ("2026-03-01T12:15:00.000Z", sum(form.on_stream for form in FORMS))
    ]


def test_an_event_from_the_far_future_does_not_stop_the_windows(flink_results):
    """Issue 12: one record with createdAt in 9999 silenced every windowed alert from then on."""
    records = flink_results["far_future_event_first"]
    assert of_type(records, "warn_burst") == [
        {"alertType": "warn_burst", "action": "buy", "warnCount": 10, **window(0)}
    ]
    # The ten warnings are counted in their minute; the record from 9999 is in no window...
    assert of_type(records, "counts") == [{"alertType": "counts", "action": "buy", "events": 10, "users": 1,
                                           **window(0)}]  # fmt: skip
    # ...but still raises its error alert, stamped with the time the server received it.
    (error,) = of_type(records, "error")
    assert (error["eventId"], error["createdAt"]) == (FROM_YEAR_9999["eventId"], FROM_YEAR_9999["receivedAt"])


def test_every_record_has_the_alerts_stream_shape(flink_results):
    shapes = {
        "error": {"alertType", "action", "eventId", "userId", "objectId", "bizId", "errorMsg", "createdAt"},
        "warn_burst": {"alertType", "action", "windowStart", "windowEnd", "warnCount"},
        "counts": {"alertType", "action", "windowStart", "windowEnd", "events", "users"},
    }
    records = [record for name in SCENARIOS for record in flink_results[name]]
    assert {r["alertType"] for r in records} == set(shapes)
    for record in records:
        assert set(record) == shapes[record["alertType"]], record
        for key in ("windowStart", "windowEnd"):
            if key in record:
                assert datetime.strptime(record[key], "%Y-%m-%dT%H:%M:%S.%fZ")  # UTC, with a Z


def test_kinesis_statements_reach_the_connector(flink_results):
    """The AWS-side SQL is planned too: fully with the connector JAR, up to the factory lookup without."""
    answer = flink_results["explain_kinesis"]
    if "plan" in answer:
        assert "alerts" in answer["plan"] and "events" in answer["plan"]
    else:
        assert "Could not find any factory for identifier 'kinesis'" in answer["error"], answer["error"]
        assert f"'stream.arn'='arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/uba-events'" in answer["error"]
        assert "'source.reader.type'='EFO'" in answer["error"]


def test_a_bad_property_fails_before_the_jvm_starts(tmp_path):
    if not FLINK_PYTHON.exists():
        pytest.fail(f"the PyFlink virtualenv is missing ({FLINK_PYTHON}); run `make setup` first")
    events_file = tmp_path / "events.jsonl"
    events_file.write_text(json.dumps(event(s(1))) + "\n")
    completed = subprocess.run(
        [str(FLINK_PYTHON), "-m", "streaming.run_local", "--events", str(events_file), "--threshold", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2
    assert "uba.warn.threshold=0 is out of range" in completed.stderr
    assert completed.stdout == ""


def test_the_application_zip_starts_as_managed_flink_runs_it(tmp_path):
    """Unpacked elsewhere and run as a script, main.py finds its modules and SQL, and reads the properties."""
    if not FLINK_PYTHON.exists():
        pytest.fail(f"the PyFlink virtualenv is missing ({FLINK_PYTHON}); run `make setup` first")
    jar = tmp_path / "stand-in.jar"
    jar.write_bytes(b"not a real connector")
    with zipfile.ZipFile(build_application_zip(tmp_path / "app.zip", jar_path=jar)) as archive:
        archive.extractall(tmp_path / "app")
    properties = tmp_path / "application_properties.json"
    properties.write_text(json.dumps([{"PropertyGroupId": "uba", "PropertyMap": {"warn.threshold": "20"}}]))
    completed = subprocess.run(
        [str(FLINK_PYTHON), APP_PYTHON_ENTRY, "--properties", str(properties)],
        cwd=tmp_path / "app",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # It got as far as the properties: the one thing missing is the streams to read and write.
    assert completed.returncode != 0
    assert "needs events.stream.arn, alerts.stream.arn, events.consumer.name to run against Kinesis" in completed.stderr


def test_the_alert_sink_accepts_every_record_the_flink_job_emits(flink_results):
    """The contract between the two halves: Flink's JSON is exactly what the sink's strict models take."""
    from lambdas.alerts import parse_alert

    records = [record for name in SCENARIOS for record in flink_results[name]]
    for record in records:
        alert = parse_alert(json.dumps(record).encode())
        assert alert.alertType == record["alertType"] and alert.action == record["action"]
