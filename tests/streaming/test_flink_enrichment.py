"""Enrichment from replicated tables: the Flink job joins DMS's changes as versioned tables, as of each event's time.

The statements are checked in the main virtualenv; the joins run on a local PyFlink mini-cluster
(one runner process for every scenario, as tests/streaming/test_flink_sql.py does), fed events
built with the event contract and changes exactly as DMS writes them (tools/local/dms.py).
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lambdas.alerts import parse_alert
from lambdas.events import IngestEnvelope, UserEvent, stored_record
from streaming.properties import (
    CHANGES_CONSUMER_NAME,
    CHANGES_STREAM_ARN,
    ENRICHMENT_ENTITIES,
    SOURCE_IDLE_TIMEOUT_SECONDS,
    PropertyError,
    parse_settings,
    property_groups,
)
from streaming.run_local import EXAMPLE_STREAMS
from streaming.statements import kinesis_statements, local_statements, records_view, table_config
from tests.support.flink import FLINK_PYTHON, REPO
from tools.local.dms import DmsWriter

T0 = datetime(2026, 1, 1, 8, 0, 0, tzinfo=UTC)  # a minute boundary
DOCS, BIZ = "public.documents", "public.business_lines"
ENTITIES = {
    "objectId": {"table": DOCS, "key": "id", "label": "title"},
    "bizId": {"table": BIZ, "key": "id", "label": "name"},
}
ENRICHED = {ENRICHMENT_ENTITIES: json.dumps(ENTITIES)}
# The files are bounded: each source ends with the final watermark, so none needs marking idle. With
# the 30 s default, a source the loaded mini-cluster has not started reading within 30 s is marked
# idle, the joins' watermark passes without it, and events join an entity table it has not loaded yet.
LOCAL_FILES = {SOURCE_IDLE_TIMEOUT_SECONDS: "0"}
CHANGES_ARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/uba-changes"


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def event(at: timedelta, event_id: str, obj: str = "doc-1", biz: str = "biz-1", error: str | None = "[error] x"):
    created = T0 + at
    return stored_record(
        UserEvent(eventId=event_id, action="buy", userId="u1", objectId=obj, bizId=biz, createdAt=created,
                  errorMsg=error),
        IngestEnvelope(receivedAt=created + timedelta(milliseconds=300)),
    )  # fmt: skip


def story() -> list[dict[str, Any]]:
    """The database's side: loaded an hour before, then changed during the minute the events happen in."""
    w = DmsWriter({DOCS: ["id"], BIZ: ["id"]})
    before = T0 - timedelta(hours=1)
    changes = [
        w.control(DOCS, "create-table", {"id": "string", "title": "string"}, before),
        w.load(DOCS, {"id": "doc-1", "title": "Intro"}, before),
        w.load(DOCS, {"id": "doc-2", "title": "Pricing"}, before),
        w.load(DOCS, {"id": "doc-3", "title": "Legacy"}, before),
        w.load(BIZ, {"id": "biz-1", "name": "Books"}, before),
    ]
    changes.append(w.transaction(T0 + s(30)).update(DOCS, {"id": "doc-1", "title": "Intro, 2nd edition"}))
    changes.append(w.transaction(T0 + s(40)).delete(DOCS, {"id": "doc-2"}, ["id", "title"]))
    changes.append(w.transaction(T0 + s(45)).update(DOCS, {"id": "doc-30", "title": "Legacy"}, old_key={"id": "doc-3"}))
    changes.append(w.control(DOCS, "add-column", {"id": "string", "title": "string", "summary": "string"}, T0 + s(46)))
    changes.append(w.transaction(T0 + s(70)).update(BIZ, {"id": "biz-1", "name": "Books & Media"}))
    return changes


def shuffled_story() -> list[dict[str, Any]]:
    """The story with its changes of the events' minute delivered last first (at most 40 s out of order)."""
    changes = story()
    return changes[:5] + changes[5:][::-1]


# In event-time order, as the job's watermark (5 s behind the newest event) needs them: an event later
# than that is late, and the join may already have dropped the versions before the watermark.
EVENTS = [
    event(s(10), "before-update"),
    event(s(20), "doc-2-alive", obj="doc-2"),
    event(s(41), "doc-2-deleted", obj="doc-2"),
    event(s(44), "doc-3-before-rekey", obj="doc-3"),
    event(s(50), "after-update"),
    event(s(50), "doc-3-after-rekey", obj="doc-3"),
    event(s(51), "doc-30-after-rekey", obj="doc-30"),
    event(s(52), "never-known", obj="doc-9", biz="biz-9"),
    event(s(61), "second-minute", error=None),
    event(s(75), "books-renamed"),
]

SCENARIOS: dict[str, dict[str, Any]] = {
    "enriched": {"events": EVENTS, "changes": story(), "properties": {**ENRICHED, **LOCAL_FILES}},
    # The same changes, delivered out of order within changes.watermark.seconds (60): DMS interleaves
    # tables and shards. Versions go by change time, not arrival.
    "enriched_changes_shuffled": {
        "events": EVENTS,
        "changes": shuffled_story(),
        "properties": {**ENRICHED, **LOCAL_FILES},
    },
    # Only the business lines are replicated: errors carry no object fields at all.
    "biz_only": {
        "events": EVENTS,
        "changes": story(),
        "properties": {ENRICHMENT_ENTITIES: json.dumps({"bizId": ENTITIES["bizId"]}), **LOCAL_FILES},
    },
}


@pytest.fixture(scope="session")
def enriched(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    if not FLINK_PYTHON.exists():
        pytest.fail(f"the PyFlink virtualenv is missing ({FLINK_PYTHON}); run `make setup` first")
    scenarios_file = tmp_path_factory.mktemp("flink-enrichment") / "scenarios.json"
    scenarios_file.write_text(json.dumps(SCENARIOS))
    completed = subprocess.run(
        [str(FLINK_PYTHON), "-m", "streaming.run_local", "--scenarios", str(scenarios_file)],
        cwd=REPO, capture_output=True, text=True, timeout=540, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-4000:]
    results = {}
    for line in completed.stdout.splitlines():
        document = json.loads(line)
        results[document["scenario"]] = document["records"]
    return results


def errors_by_event(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["eventId"]: r for r in records if r["alertType"] == "error"}


def labels(record: dict[str, Any]) -> tuple[Any, ...]:
    return record.get("objectName"), record.get("objectKnown"), record.get("bizName"), record.get("bizKnown")


@pytest.mark.flink
def test_an_update_between_two_events_changes_the_second_events_label_and_not_the_firsts(enriched):
    errors = errors_by_event(enriched["enriched"])
    assert labels(errors["before-update"]) == ("Intro", True, "Books", True)
    assert labels(errors["after-update"]) == ("Intro, 2nd edition", True, "Books", True)
    assert labels(errors["books-renamed"])[2:] == ("Books & Media", True)


@pytest.mark.flink
def test_deleted_re_keyed_and_unknown_entities_still_alert_marked_unknown(enriched):
    errors = errors_by_event(enriched["enriched"])
    assert labels(errors["doc-2-alive"])[:2] == ("Pricing", True)
    assert labels(errors["doc-2-deleted"])[:2] == (None, False)
    assert labels(errors["doc-3-before-rekey"])[:2] == ("Legacy", True)
    assert labels(errors["doc-3-after-rekey"])[:2] == (None, False)  # the old key is gone from its update on
    assert labels(errors["doc-30-after-rekey"])[:2] == ("Legacy", True)
    assert labels(errors["never-known"]) == (None, False, None, False)
    # Every error event alerts, enriched or not, and every alert is one the sink accepts.
    assert set(errors) == {e["eventId"] for e in EVENTS if e["errorMsg"]}
    for record in enriched["enriched"]:
        parse_alert(json.dumps(record).encode())


@pytest.mark.flink
def test_counts_per_business_line_carry_its_label_at_the_windows_end(enriched):
    counts = sorted(
        (r["windowStart"], r["bizId"], r["bizName"], r["bizKnown"], r["events"])
        for r in enriched["enriched"]
        if r["alertType"] == "biz_counts"
    )
    assert counts == [
        ("2026-01-01T08:00:00.000Z", "biz-1", "Books", True, 7),
        ("2026-01-01T08:00:00.000Z", "biz-9", None, False, 1),
        ("2026-01-01T08:01:00.000Z", "biz-1", "Books & Media", True, 2),
    ]


@pytest.mark.flink
def test_versions_follow_change_time_not_the_order_the_stream_delivers_them(enriched):
    assert sorted(map(json.dumps, enriched["enriched_changes_shuffled"])) == sorted(
        map(json.dumps, enriched["enriched"])
    )


@pytest.mark.flink
def test_windows_and_bursts_are_the_plain_jobs_and_fields_follow_what_is_replicated(enriched):
    plain = [r for r in enriched["enriched"] if r["alertType"] == "counts"]
    assert plain == [{"alertType": "counts", "action": "buy", "events": 8, "users": 1,
                      "windowStart": "2026-01-01T08:00:00.000Z", "windowEnd": "2026-01-01T08:01:00.000Z"},
                     {"alertType": "counts", "action": "buy", "events": 2, "users": 1,
                      "windowStart": "2026-01-01T08:01:00.000Z", "windowEnd": "2026-01-01T08:02:00.000Z"}]  # fmt: skip
    biz_only = errors_by_event(enriched["biz_only"])["after-update"]
    assert "objectName" not in biz_only and "objectKnown" not in biz_only
    assert (biz_only["bizName"], biz_only["bizKnown"]) == ("Books", True)


# --- the statements, without a cluster ---------------------------------------------------------------------


def sql_of(statement: str) -> str:
    """A statement without its leading comment lines."""
    return "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()


def kinesis_properties(**extra: str) -> dict[str, str]:
    return {**EXAMPLE_STREAMS, **ENRICHED, CHANGES_STREAM_ARN: CHANGES_ARN, CHANGES_CONSUMER_NAME: "uba-app", **extra}


def test_without_enrichment_the_job_is_the_one_it_always_was() -> None:
    statements = [sql_of(s) for s in kinesis_statements(parse_settings(EXAMPLE_STREAMS))]
    assert statements[-1] == "INSERT INTO alerts\nSELECT record FROM alert_records"
    assert not any("changes" in statement for statement in statements)
    assert records_view(parse_settings({})) == "alert_records"


def test_with_enrichment_and_the_search_feed_one_statement_set_writes_enriched_alerts_and_detected_documents() -> None:
    """The CDC and search tiers together: one job, one read of each stream, the alerts enriched, and the
    search documents built from the alerts as detected (the search template has no enrichment fields)."""
    search_arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/uba-search-feed"
    statements = [sql_of(s) for s in kinesis_statements(parse_settings(kinesis_properties(**{
        "search.stream.arn": search_arn})))]  # fmt: skip
    assert statements[-1] == (
        "EXECUTE STATEMENT SET\nBEGIN\nINSERT INTO alerts\nSELECT record FROM enriched_alert_records;\n"
        "INSERT INTO search_feed\nSELECT document FROM search_documents;\nEND"
    )
    assert sum(s.startswith("CREATE TABLE changes") for s in statements) == 1
    assert sum(s.startswith("CREATE TABLE events") for s in statements) == 1
    local = local_statements(parse_settings(ENRICHED), Path("/e.jsonl"), Path("/c.jsonl"), search=True)
    assert "CREATE TEMPORARY VIEW search_documents" in local[-1]
    assert any("CREATE TEMPORARY VIEW enriched_alert_records" in statement for statement in local)


def test_with_enrichment_the_job_reads_the_changes_stream_through_its_own_consumer_from_its_start() -> None:
    statements = [sql_of(s) for s in kinesis_statements(parse_settings(kinesis_properties()))]
    (source,) = [statement for statement in statements if statement.startswith("CREATE TABLE changes")]
    assert f"'stream.arn' = '{CHANGES_ARN}'" in source
    assert "'source.efo.consumer.name' = 'uba-app'" in source
    assert "'source.init.position' = 'TRIM_HORIZON'" in source  # every version counts for the join
    assert statements[-1] == "INSERT INTO alerts\nSELECT record FROM enriched_alert_records"
    views = [s.split()[3] for s in statements if s.startswith("CREATE TEMPORARY VIEW")]
    assert views[-5:] == [
        "object_versions", "biz_versions", "enriched_error_alerts", "biz_counts", "enriched_alert_records"
    ]  # fmt: skip


def test_enrichment_keeps_entities_for_its_own_ttl_the_job_wide_state_ttl_being_the_longer() -> None:
    assert table_config(parse_settings({}))["table.exec.state.ttl"] == "3600 s"
    enriched = parse_settings({**ENRICHED, "enrichment.ttl.seconds": "86400"})
    assert table_config(enriched)["table.exec.state.ttl"] == "86400 s"


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({ENRICHMENT_ENTITIES: "[]"}, "must be a JSON object"),
        ({ENRICHMENT_ENTITIES: '{"userId": {"table": "a.b", "key": "id", "label": "n"}}'}, "the event fields are"),
        ({ENRICHMENT_ENTITIES: '{"bizId": {"table": "nodot", "key": "id", "label": "n"}}'}, "must be schema.table"),
        ({ENRICHMENT_ENTITIES: '{"bizId": {"table": "a.b", "key": "i d", "label": "n"}}'}, "must be a column name"),
        ({ENRICHMENT_ENTITIES: '{"bizId": {"table": "a.b"}}'}, 'must be {"table", "key", "label"}'),
        ({"enrichment.ttl.seconds": "5"}, "out of range"),
    ],
)
def test_bad_enrichment_properties_are_refused_by_name(properties: dict[str, str], expected: str) -> None:
    with pytest.raises(PropertyError, match=expected.replace("{", r"\{").replace("}", r"\}")):
        parse_settings(properties)


def test_enrichment_against_kinesis_needs_the_changes_stream_and_its_consumer() -> None:
    with pytest.raises(PropertyError, match=r"needs changes\.stream\.arn, changes\.consumer\.name"):
        property_groups({**EXAMPLE_STREAMS, **ENRICHED}, "streaming/main.py", "lib.jar")
    assert (
        property_groups(kinesis_properties(), "streaming/main.py", "lib.jar")[0]["property_map"][CHANGES_STREAM_ARN]
        == CHANGES_ARN
    )


def test_local_enrichment_needs_a_file_of_changes(tmp_path) -> None:
    with pytest.raises(ValueError, match="no file of changes"):
        local_statements(parse_settings(ENRICHED), tmp_path / "events.jsonl")


def test_entity_names_reach_the_sql_only_as_literals() -> None:
    hostile = {"bizId": {"table": "public.biz", "key": "id", "label": "name"}}
    statements = local_statements(
        parse_settings({ENRICHMENT_ENTITIES: json.dumps(hostile)}), REPO / "e.jsonl", REPO / "c.jsonl"
    )
    (biz,) = [sql_of(s) for s in statements if sql_of(s).startswith("CREATE TEMPORARY VIEW biz_versions")]
    assert "`data`['name']" in biz and "= 'biz'" in biz and "= 'public'" in biz
