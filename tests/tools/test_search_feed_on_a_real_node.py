"""The search feed end to end on real engines: the Flink job's documents, Firehose's delivery, a real OpenSearch node.

Events built with the event contract run through the job's SQL on a local PyFlink
mini-cluster (`run_local --output search`, once per module); the documents it emits go
through the local Firehose stand-in into the session's OpenSearch node, with the index
template the search-admin function applies in AWS. Then each saved search must return
exactly the events it should.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lambdas.events import IngestEnvelope, UserEvent, stored_record
from lambdas.opensearch import OpenSearch
from lambdas.search_admin import setup
from lambdas.search_schema import INDEX_NAME, TEMPLATE_NAME, index_template
from tests.support.flink import FLINK_PYTHON, REPO
from tools.local.opensearch_node import LocalNode
from tools.local.search_feed import LocalFeed, read_dead_letters
from tools.search import main as search_cli
from tools.search import run_search

pytestmark = pytest.mark.flink

T0 = datetime(2026, 1, 15, 8, 0, 0, tzinfo=UTC)  # a minute boundary


def event(seconds: float, event_id: str, action: str = "buy", user: str = "u1", obj: str = "doc-1",
          error_msg: str | None = None) -> dict[str, Any]:  # fmt: skip
    created = T0 + timedelta(seconds=seconds)
    return stored_record(
        UserEvent(eventId=event_id, action=action, userId=user, objectId=obj, bizId="shop", createdAt=created,
                  errorMsg=error_msg),
        IngestEnvelope(receivedAt=created + timedelta(milliseconds=250), sourceIp="203.0.113.7", userAgent="app/2.1"),
    )  # fmt: skip


BUY_WARNINGS = [event(3 + 5 * i, f"w{i}", user=f"u{i % 3 + 1}", error_msg=f"slow card WARNING #{i}") for i in range(10)]
BUY_ERROR = event(30, "e-buy", user="u1", error_msg="[ERROR] payment declined")
NEXT_WINDOW_WARNING = event(70, "w-late", error_msg="slow card WARNING later")
VIEW_WARNINGS = [event(10 + i, f"v{i}", action="view", user="u9", error_msg="WARNING cache miss") for i in range(3)]
DOC9_ERRORS = [
    event(120, "e-doc9-a", action="view", user="u1", obj="doc-9", error_msg="[error] render failed"),
    event(180, "e-doc9-b", action="view", user="u2", obj="doc-9", error_msg="[PANIC] out of memory"),
]
FINE = [event(40, "ok-1", user="u1"), event(125, "ok-2", user="u1", obj="doc-9", error_msg="all good")]
# Kinesis delivers at least once: the same event twice (also a duplicate document in the index).
REDELIVERED = DOC9_ERRORS[0]
STREAM = [*BUY_WARNINGS, BUY_ERROR, *VIEW_WARNINGS, *FINE, NEXT_WINDOW_WARNING, *DOC9_ERRORS, REDELIVERED]


@pytest.fixture(scope="module")
def feed_documents(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The job's search feed for STREAM: one JSON document per line, exactly as it would reach Kinesis."""
    if not FLINK_PYTHON.exists():
        pytest.fail(f"the PyFlink virtualenv is missing ({FLINK_PYTHON}); run `make setup` first")
    events_file = tmp_path_factory.mktemp("search-feed") / "events.jsonl"
    events_file.write_text("".join(json.dumps(record) + "\n" for record in STREAM))
    completed = subprocess.run(
        [str(FLINK_PYTHON), "-m", "streaming.run_local", "--events", str(events_file), "--output", "search"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-4000:]
    return [line for line in completed.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def indexed(opensearch_node: LocalNode, feed_documents: list[str], tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[OpenSearch, Path]]:  # fmt: skip
    """The feed delivered into the node, as a Serverless collection gets it (one index)."""
    client = OpenSearch(opensearch_node.url)
    setup(client, {"number_of_replicas": 0})
    dead_letters = tmp_path_factory.mktemp("dead-letters") / "failed.jsonl"
    report = LocalFeed(client, dead_letters, batch_size=7).deliver(feed_documents, refresh=True)
    assert report.dead_lettered == 0, read_dead_letters(dead_letters)
    assert report.indexed == len(feed_documents)
    yield client, dead_letters
    client.delete_index(INDEX_NAME)
    client.request("DELETE", f"/_index_template/{TEMPLATE_NAME}", allow=[404])


def ids(result: dict[str, Any]) -> list[str]:
    return [hit["eventId"] for hit in result["hits"]]


def test_every_document_the_job_writes_fits_the_template(feed_documents, indexed):
    """The template derives from the contracts, the documents from the job's SQL: strict mapping proves they agree."""
    client, _ = indexed
    mapped = set(index_template()["template"]["mappings"]["properties"])
    for line in feed_documents:
        assert set(json.loads(line)) <= mapped, line
    count = client.request("GET", f"/{INDEX_NAME}/_count")["count"]
    assert count == len(feed_documents)


def test_the_feed_holds_error_and_warning_events_whole_and_the_alerts(feed_documents):
    documents = [json.loads(line) for line in feed_documents]
    events = [d for d in documents if d["kind"] == "event"]
    searched = {r["eventId"] for r in STREAM if r["errorMsg"] and ("WARNING" in r["errorMsg"] or "[" in r["errorMsg"])}
    assert {d["eventId"] for d in events} == searched  # fine events and "all good" stay out
    by_id = {d["eventId"]: d for d in events}
    for record in STREAM:
        if record["eventId"] in by_id:  # the whole stored record: client event and ingest envelope
            assert {k: v for k, v in record.items() if v is not None}.items() <= by_id[record["eventId"]].items()
    assert by_id["e-buy"]["level"] == "error" and by_id["w0"]["level"] == "warning"
    alerts = [d for d in documents if d["kind"] == "alert"]
    bursts = [a for a in alerts if a["alertType"] == "warn_burst"]
    assert [(a["action"], a["windowStart"], a["warnCount"]) for a in bursts] == [
        ("buy", "2026-01-15T08:00:00.000Z", 10)
    ]
    # One error alert per offending event: the job de-duplicates the redelivered one.
    assert sorted(a["eventId"] for a in alerts if a["alertType"] == "error") == ["e-buy", "e-doc9-a", "e-doc9-b"]


def test_an_alerts_events_are_exactly_its_actions_events_in_its_window(indexed):
    client, _ = indexed
    result = run_search(client, "alert-events", {"action": "buy", "from": "2026-01-15T08:00:00Z",
                                                  "to": "2026-01-15T08:01:00Z"})  # fmt: skip
    # The burst's ten warnings and the error in the same minute, oldest first; not the view action's,
    # not the next window's, not the alert documents themselves.
    assert ids(result) == ["w0", "w1", "w2", "w3", "w4", "w5", "e-buy", "w6", "w7", "w8", "w9"]


def test_one_users_recent_errors_newest_first_each_once(indexed):
    client, _ = indexed
    result = run_search(client, "user-errors", {"user": "u1", "since": "2026-01-15T00:00:00Z"})
    assert ids(result) == ["e-doc9-a", "e-buy"]  # the redelivered copy collapses into one
    assert result["total"] == 3  # ... though both copies are in the index
    assert run_search(client, "user-errors", {"user": "u1", "since": "2026-01-15T08:01:00Z"})["hits"][0][
        "eventId"] == "e-doc9-a"  # fmt: skip
    assert ids(run_search(client, "user-errors", {"user": "nobody", "since": "2026-01-01T00:00:00Z"})) == []


def test_one_objects_errors_whoever_the_user(indexed):
    client, _ = indexed
    result = run_search(client, "object-errors", {"object": "doc-9", "since": "2026-01-15T00:00:00+01:00"})
    assert ids(result) == ["e-doc9-b", "e-doc9-a"]
    assert {hit["userId"] for hit in result["hits"]} == {"u1", "u2"}


def test_the_command_line_runs_a_saved_search_against_the_node(indexed, opensearch_node, capsys):
    code = search_cli(["run", "alert-events", "--endpoint", opensearch_node.url, "--format", "json",
                       "--param", "action=view", "--param", "from=2026-01-15T08:00:00Z",
                       "--param", "to=2026-01-15T08:01:00Z"])  # fmt: skip
    assert code == 0
    assert ids(json.loads(capsys.readouterr().out)) == ["v0", "v1", "v2"]
    assert search_cli(["run", "user-errors", "--endpoint", opensearch_node.url, "--param", "usr=u1"]) == 2
    assert "unknown parameter 'usr'" in capsys.readouterr().err
