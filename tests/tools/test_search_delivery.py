"""Delivery into a real OpenSearch node as Firehose does it: refused documents reported, retries, retention.

The session's node (tests/support/opensearch.py) holds the index template the search-admin
function applies; the local Firehose stand-in (`tools.local.search_feed`) delivers to it.
"""

from __future__ import annotations

import base64
import datetime
import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from lambdas.opensearch import BulkItem, OpenSearch, SearchError
from lambdas.search_admin import SetupError, expired, setup, sweep
from lambdas.search_schema import INDEX_NAME, INDEX_PATTERN, TEMPLATE_NAME, daily_index, index_template
from tools.local.search_feed import LocalFeed, read_dead_letters
from tools.search import main as search_cli

GOOD = {
    "@timestamp": "2026-01-15T08:00:01.000Z", "kind": "event", "level": "error", "feedKey": "event:e1",
    "eventId": "e1", "action": "buy", "userId": "u1", "objectId": "o1", "bizId": "b1",
    "createdAt": "2026-01-15T08:00:01.000Z", "errorMsg": "[ERROR] boom", "receivedAt": "2026-01-15T08:00:01.200Z",
    "schemaVersion": 1,
}  # fmt: skip


def doc(**changes: Any) -> str:
    return json.dumps({**GOOD, **changes})


@pytest.fixture
def template(opensearch: OpenSearch) -> OpenSearch:
    setup(opensearch, {"number_of_replicas": 0})
    return opensearch


def test_setup_applies_the_template_and_reads_it_back(template: OpenSearch) -> None:
    stored = template.index_template(TEMPLATE_NAME)
    assert stored is not None
    assert stored["index_patterns"] == [INDEX_PATTERN]
    assert stored["template"]["mappings"] == index_template()["template"]["mappings"]
    assert setup(template, {"number_of_replicas": 0})["fields"] == len(index_template()["template"]["mappings"][
        "properties"])  # fmt: skip  # running it twice changes nothing


def test_a_document_that_does_not_fit_the_template_is_refused_and_reported_its_neighbours_indexed(
    template: OpenSearch, tmp_path: Path
) -> None:
    dead_letters = tmp_path / "failed.jsonl"
    records = [
        doc(),
        doc(eventId="e2", feedKey="event:e2", surprise="a field the template does not know"),
        doc(eventId="e3", feedKey="event:e3", schemaVersion="one"),
        doc(eventId="e4", feedKey="event:e4", createdAt="15/01/2026 08:00"),
        "not json at all",
        doc(eventId="e5", feedKey="event:e5"),
    ]
    report = LocalFeed(template, dead_letters).deliver(records, refresh=True)
    assert (report.indexed, report.dead_lettered) == (2, 4)
    assert template.request("GET", f"/{INDEX_NAME}/_count")["count"] == 2
    failures = read_dead_letters(dead_letters)
    assert [f["document"] for f in failures] == records[1:5]  # the very bytes the stream carried
    assert {f["errorCode"] for f in failures} == {"400"}
    reasons = [f["errorMessage"] for f in failures]
    assert "strict_dynamic_mapping_exception" in reasons[0] and "[surprise]" in reasons[0]
    assert "mapper_parsing_exception" in reasons[1] and "[schemaVersion]" in reasons[1]
    assert "[createdAt]" in reasons[2]
    assert all(f["esIndexName"] == INDEX_NAME and f["attemptsMade"] == 1 for f in failures)
    assert base64.b64decode(failures[0]["rawData"]).decode() == records[1]
    assert report.errors == {"strict_dynamic_mapping_exception": 1, "mapper_parsing_exception": 3}


class Flaky(OpenSearch):
    """The real client, but the node answers 429 for every document of the first `busy` bulk requests."""

    def __init__(self, endpoint: str, busy: int) -> None:
        super().__init__(endpoint)
        self.busy, self.calls = busy, 0

    def bulk(self, actions: Any, refresh: bool = False) -> list[BulkItem]:
        self.calls += 1
        if self.calls <= self.busy:
            return [BulkItem(429, {"type": "es_rejected_execution_exception", "reason": "queue full"}) for _ in actions]
        return super().bulk(actions, refresh)


def test_a_document_refused_for_load_is_retried_until_it_is_indexed(template: OpenSearch, tmp_path: Path) -> None:
    client = Flaky(template.base, busy=2)
    feed = LocalFeed(client, tmp_path / "failed.jsonl", retry_seconds=30, sleep=lambda _: None)
    report = feed.deliver([doc(), doc(eventId="e2", feedKey="event:e2")], refresh=True)
    assert (report.indexed, report.dead_lettered, report.bulk_requests, report.retries) == (2, 0, 3, 4)
    assert not (tmp_path / "failed.jsonl").read_text()


def test_when_retries_run_out_every_document_lands_in_the_dead_letter_file(tmp_path: Path) -> None:
    """An endpoint that never answers (nothing listens on port 9) loses nothing: all of it is dead-lettered."""
    feed = LocalFeed(OpenSearch("http://127.0.0.1:9", timeout_seconds=1), tmp_path / "failed.jsonl", retry_seconds=0)
    report = feed.deliver([doc(), doc(eventId="e2")])
    assert (report.indexed, report.dead_lettered) == (0, 2)
    assert {f["errorCode"] for f in read_dead_letters(tmp_path / "failed.jsonl")} == {"503"}


def test_a_domains_daily_indices_past_retention_are_swept_and_nothing_else(
    template: OpenSearch, tmp_path: Path
) -> None:
    today = datetime.date(2026, 1, 31)
    days = [today - datetime.timedelta(days=n) for n in (0, 1, 7, 8, 30)]
    for day in days:  # Firehose's OneDay rotation names the index by the arrival day
        arrival = datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)
        feed = LocalFeed(template, tmp_path / "failed.jsonl", rotation="daily", clock=partial(lambda at: at, arrival))
        assert feed.deliver([doc()]).indexed == 1
    template.bulk([(f"{INDEX_NAME}-archive", GOOD)])  # not a daily index: never swept
    result = sweep(template, today, retention_days=7)
    assert result["deleted"] == sorted([daily_index(days[3]), daily_index(days[4])])  # 8 and 30 days old
    assert set(template.indices(INDEX_PATTERN)) == {*(daily_index(d) for d in days[:3]), f"{INDEX_NAME}-archive"}
    assert sweep(template, today, retention_days=7)["deleted"] == []  # a second run deletes nothing more


def test_retention_counts_whole_days_before_today() -> None:
    today = datetime.date(2026, 3, 1)
    names = [daily_index(today - datetime.timedelta(days=n)) for n in range(0, 5)] + ["uba-search", "uba-search-x"]
    assert expired(names, today, retention_days=3) == [daily_index(datetime.date(2026, 2, 25))]
    with pytest.raises(ValueError, match="at least 1"):
        expired(names, today, retention_days=0)


def test_setup_fails_loudly_when_the_node_refuses_the_template(opensearch: OpenSearch) -> None:
    with pytest.raises(SearchError, match="400"):
        setup(opensearch, {"number_of_shards": "many"})
    with pytest.raises(SetupError):
        broken = Broken(opensearch.base)
        setup(broken)


class Broken(OpenSearch):
    """A store that accepts the template but reads back something else."""

    def index_template(self, name: str) -> dict[str, Any] | None:
        return {"index_patterns": ["other*"]}


def test_the_command_line_indexes_a_file_and_reports_what_was_refused(
    template: OpenSearch, opensearch_node: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    documents = tmp_path / "feed.jsonl"
    documents.write_text(doc() + "\n" + doc(eventId="bad", bogus=1) + "\n")
    dead = tmp_path / "dead.jsonl"
    code = search_cli(["index", "--endpoint", opensearch_node.url, "--documents", str(documents),
                       "--dead-letter", str(dead)])  # fmt: skip
    assert code == 1  # something was dead-lettered
    assert "1 indexed, 1 dead-lettered" in capsys.readouterr().out
    assert search_cli(["index", "--endpoint", opensearch_node.url, "--documents", str(tmp_path / "none")]) == 2
    assert search_cli(["run", "user-errors", "--endpoint", "http://127.0.0.1:9", "--param", "user=u1"]) == 1
