"""The edge-log Lambda on real-format CloudFront real-time log lines, against moto Kinesis and SQS."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from lambdas import edge_logs
from lambdas.edge_logs import DOCUMENTED_FIELDS, REQUIRED_FIELDS, EdgeConfig, LogFormat, process_lines
from tests.support.kinesis_events import FakeLambdaContext, failed_sequence_numbers, kinesis_event, sequence_numbers
from tools.local import REGION
from tools.local.edge_logs import beacon_query, encode_payload, log_line, request_values
from tools.local.lambdas import create_stream, read_stream

STREAM = "uba-test-events"
BEACON = "/collect"
NOW = datetime(2026, 3, 1, 12, 0, 5, 250_000, tzinfo=UTC)
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Mobile Safari/604.1"


def event(n: int, **changes: Any) -> dict[str, Any]:
    return {
        "eventId": f"edge-{n}",
        "action": "viewDoc",
        "userId": f"user-{n % 3}",
        "objectId": f"doc-{n}",
        "bizId": "biz-news",
        "createdAt": "2026-03-01T20:00:04.100+08:00",
        **changes,
    }


@dataclass
class Edge:
    kinesis: Any
    sqs: Any
    queue_url: str
    config: EdgeConfig

    def run(self, lines: list[str], remaining_ms: float = 30_000) -> edge_logs.BatchSummary:
        numbered = [(str(1000 + i), line) for i, line in enumerate(lines)]
        return process_lines(numbered, self.config, lambda: remaining_ms, self.kinesis, self.sqs)

    def stored(self) -> list[dict[str, Any]]:
        return [record.json() for record in read_stream(self.kinesis, STREAM)]

    def dead_letters(self) -> list[dict[str, Any]]:
        letters: list[dict[str, Any]] = []
        while True:
            page = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            if not page.get("Messages"):
                return letters
            for message in page["Messages"]:
                letters.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def edge() -> Iterator[Edge]:
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        create_stream(kinesis, STREAM, shard_count=2)
        queue_url = sqs.create_queue(QueueName="uba-test-edge-invalid-events")["QueueUrl"]
        yield Edge(kinesis, sqs, queue_url, EdgeConfig(STREAM, queue_url, LogFormat.of(REQUIRED_FIELDS), BEACON))


def beacon_line(document: Any, fields: tuple[str, ...] = REQUIRED_FIELDS, **request: Any) -> str:
    values = request_values(path=BEACON, query=beacon_query(document), at=NOW, **request)
    return log_line(fields, values)


def test_every_documented_field_in_a_shuffled_configuration_is_read_in_cloudfronts_order(edge: Edge) -> None:
    configured = list(DOCUMENTED_FIELDS)
    random.Random(17).shuffle(configured)
    edge.config = EdgeConfig(STREAM, edge.queue_url, LogFormat.of(configured), BEACON)
    line = beacon_line(
        {"events": [event(1), event(2, errorMsg='[error] 50% of renders failed: {"code": 7}')]},
        fields=tuple(configured),
        method="POST",
        client_ip="2001:db8::7",
        user_agent=UA,
        location="NRT57-P2",
        request_id="Yr4Bq2dZ1x9AbC-def_ghIJkl==",
    )
    assert line.count("\t") == len(DOCUMENTED_FIELDS) - 1
    assert "%20" in line and "\t-\t" in line  # spaces URL-encoded, empty fields as "-"

    summary = edge.run([line])

    assert (summary.beacons, summary.events_written, summary.dead_lettered, summary.failed_records) == (1, 2, 0, [])
    stored = {record["eventId"]: record for record in edge.stored()}
    assert stored["edge-2"]["errorMsg"] == '[error] 50% of renders failed: {"code": 7}'
    assert stored["edge-1"] | {"createdAt": None} == {
        **event(1),
        "createdAt": None,
        "errorMsg": None,
        "receivedAt": "2026-03-01T12:00:05.250Z",
        "sourceIp": "2001:db8::7",
        "userAgent": UA,
        "schemaVersion": 1,
        "edgeLocation": "NRT57-P2",
        "edgeRequestId": "Yr4Bq2dZ1x9AbC-def_ghIJkl==",
    }
    assert stored["edge-1"]["createdAt"] == "2026-03-01T12:00:04.100Z"


def test_lines_that_are_not_beacons_are_counted_and_blocked_beacons_are_not_ingested(edge: Edge) -> None:
    other = [
        log_line(REQUIRED_FIELDS, request_values(path="/events", query=None, method="POST", status=200, at=NOW)),
        log_line(REQUIRED_FIELDS, request_values(path="/favicon.ico", query=None, status=404, at=NOW)),
        log_line(REQUIRED_FIELDS, request_values(path=BEACON, query=beacon_query(event(1)), method="OPTIONS",
                                                 at=NOW)),
    ]  # fmt: skip
    blocked = beacon_line(event(2), status=403)

    summary = edge.run([*other, blocked, beacon_line(event(3))])

    assert (summary.lines, summary.not_events, summary.blocked, summary.beacons) == (5, 3, 1, 1)
    assert [record["eventId"] for record in edge.stored()] == ["edge-3"]
    assert edge.dead_letters() == []


def test_a_query_in_cs_uri_stem_is_read_when_the_query_field_is_empty(edge: Edge) -> None:
    values = request_values(path=f"{BEACON}?{beacon_query(event(4))}", query=None, at=NOW)
    edge.run([log_line(REQUIRED_FIELDS, values)])
    assert [record["eventId"] for record in edge.stored()] == ["edge-4"]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        (None, "no `e` parameter in the query string: a beacon carries its events there (a POST body never"),
        ("v=1", "no `e` parameter"),
        ("e=abc&e=def", "the `e` parameter appears 2 times"),
        ("e=not%20base64!", "`e` is not base64url text"),
        ("e=A", "`e` is not valid base64url"),
        (f"e={encode_payload([event(1)])}", "a top-level JSON array is not accepted"),
        ("e=" + "e30", "beacon refused: the beacon payload"),  # "{}" is an event with every field missing
        ("e=" + encode_payload({"events": []}), '"events" is empty'),
        ("e=" + encode_payload({"events": [event(i) for i in range(501)]}), "the limit is 500 per request"),
        ("e=/w", "`e` is not base64url text"),
        ("e=_w", "the payload is not valid UTF-8"),
        ("e=" + "eyJhIjoxLCJhIjoyfQ", 'the key "a" appears twice in one object'),
    ],
)
def test_a_beacon_that_cannot_be_read_goes_to_the_dead_letter_queue_with_the_reason(
    edge: Edge, query: str | None, reason: str
) -> None:
    line = log_line(REQUIRED_FIELDS, request_values(path=BEACON, query=query, method="POST", status=400, at=NOW,
                                                    request_id="req-1"))  # fmt: skip

    summary = edge.run([line])

    letters = edge.dead_letters()
    if query == "e=e30":  # readable JSON, but the one event it holds breaks the contract
        assert letters[0]["reason"] == "event rejected by the contract" and letters[0]["index"] == 0
        assert "eventId: Field required" in letters[0]["errors"]
    else:
        assert len(letters) == 1 and reason in letters[0]["reason"], letters
        assert letters[0]["received"] == (query or "")
    assert letters[0]["edgeRequestId"] == "req-1" and letters[0]["receivedAt"] == "2026-03-01T12:00:05.250Z"
    assert (summary.dead_lettered, summary.failed_records, edge.stored()) == (1, [], [])


def test_invalid_events_are_dead_lettered_one_by_one_and_their_neighbours_still_stored(edge: Edge) -> None:
    late = (NOW - timedelta(days=8)).isoformat()
    line = beacon_line({"events": [event(1), event(2, createdAt=late), event(3, userId=""), "x", event(5)]})

    summary = edge.run([line])

    assert sorted(record["eventId"] for record in edge.stored()) == ["edge-1", "edge-5"]
    letters = sorted(edge.dead_letters(), key=lambda letter: letter["index"])
    assert [letter["index"] for letter in letters] == [1, 2, 3]
    # The window is measured from when the edge answered, not from when the log reached the Lambda.
    assert "must be from 2026-02-22T12:00:05.250Z to 2026-03-01T12:05:05.250Z" in letters[0]["errors"][0]
    assert letters[1]["errors"] == ["userId: String should have at least 1 character"]
    assert json.loads(letters[1]["received"]) == event(3, userId="")
    assert letters[2]["errors"] == ["event: must be a JSON object, got a string"]
    assert (summary.events_written, summary.dead_lettered) == (2, 3)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("just some text\n", "the line has 1 tab-separated fields; the configuration has 9"),
        ("\t".join(["x"] * 12) + "\n", "the line has 12 tab-separated fields"),
        ("\t".join(["not-a-time", *["-"] * 8]) + "\n", "timestamp 'not-a-time' is not seconds since the epoch"),
        ("\t".join(["1e999", *["-"] * 8]) + "\n", "timestamp '1e999' is not seconds since the epoch"),
    ],
)
def test_a_line_the_configuration_cannot_read_is_dead_lettered_whole(edge: Edge, line: str, reason: str) -> None:
    summary = edge.run([line, beacon_line(event(1))])

    (letter,) = edge.dead_letters()
    assert reason in letter["reason"] and letter["received"] == line
    assert [record["eventId"] for record in edge.stored()] == ["edge-1"]
    assert summary.failed_records == []


def test_a_log_format_refuses_fields_cloudfront_does_not_document_or_the_parser_lacks() -> None:
    with pytest.raises(ValueError, match=r"not CloudFront real-time log fields: \['cs\(Host\)'\]"):
        LogFormat.of([*REQUIRED_FIELDS, "cs(Host)"])
    with pytest.raises(ValueError, match=r"needs the fields \['cs-uri-query'\]"):
        LogFormat.of([name for name in REQUIRED_FIELDS if name != "cs-uri-query"])
    with pytest.raises(ValueError, match="listed twice"):
        LogFormat.of([*REQUIRED_FIELDS, "c-ip"])
    assert LogFormat.of(reversed(REQUIRED_FIELDS)).fields == REQUIRED_FIELDS  # documented order wins


class FlakyKinesis:
    """A Kinesis client whose PutRecords refuses the records of some users (a hot, throttled shard)."""

    def __init__(self, client: Any, refused_users: set[str]) -> None:
        self.client, self.refused_users, self.calls = client, refused_users, 0

    def put_records(self, *, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        kept = [r for r in Records if r["PartitionKey"] not in self.refused_users]
        answers = iter(self.client.put_records(StreamName=StreamName, Records=kept)["Records"] if kept else [])
        return {
            "Records": [
                {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"}
                if r["PartitionKey"] in self.refused_users
                else next(answers)
                for r in Records
            ]
        }


def test_lines_whose_events_stay_unwritten_are_reported_as_batch_item_failures(edge: Edge) -> None:
    lines = [beacon_line(event(1, userId="ok")), beacon_line(event(2, userId="hot")), beacon_line(event(3))]
    flaky = FlakyKinesis(edge.kinesis, {"hot"})

    summary = process_lines([("7", lines[0]), ("8", lines[1]), ("9", lines[2])], edge.config, lambda: 4000,
                            flaky, edge.sqs)  # fmt: skip

    # 4 s left and a 3.5 s safety margin: one retry at most, then the hot line is handed back.
    assert summary.failed_records == ["8"]
    assert sorted(record["eventId"] for record in edge.stored()) == ["edge-1", "edge-3"]


def test_dead_letters_the_queue_refuses_fail_their_line(edge: Edge) -> None:
    class RefusingQueue:
        def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
            raise ClientError({"Error": {"Code": "KMS.ThrottlingException", "Message": "slow"}}, "SendMessageBatch")

    bad = log_line(REQUIRED_FIELDS, request_values(path=BEACON, query="v=1", at=NOW))
    summary = process_lines([("1", beacon_line(event(1))), ("2", bad)], edge.config, lambda: 30_000, edge.kinesis,
                            RefusingQueue())  # fmt: skip
    assert summary.failed_records == ["2"] and summary.events_written == 1


def test_many_lines_cost_few_calls(edge: Edge) -> None:
    lines = [beacon_line({"events": [event(2 * n), event(2 * n + 1)]}) for n in range(600)]
    lines += [log_line(REQUIRED_FIELDS, request_values(path=BEACON, query="v=1", at=NOW))] * 25
    summary = edge.run(lines)
    assert summary.events_written == 1200 and summary.dead_lettered == 25
    assert (summary.kinesis_calls, summary.queue_calls) == (3, 3)  # 500 records a call; 10 letters a call


def test_the_handler_reads_a_kinesis_batch_and_answers_with_partial_failures(
    edge: Edge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTS_STREAM_NAME", STREAM)
    monkeypatch.setenv("INVALID_EVENTS_QUEUE_URL", edge.queue_url)
    monkeypatch.setenv("EDGE_LOG_FIELDS", ",".join(REQUIRED_FIELDS))
    monkeypatch.setenv("EDGE_BEACON_PATH", BEACON)
    edge_logs._config_from_env.cache_clear()
    edge_logs.use_clients(kinesis=FlakyKinesis(edge.kinesis, {"hot"}), sqs=edge.sqs)
    try:
        batch = kinesis_event([beacon_line(event(1)), beacon_line(event(2, userId="hot")), "garbage\n"])
        response = edge_logs.handler(batch, FakeLambdaContext(function_name="uba-test-edge-logs"))
    finally:
        edge_logs.use_clients()
        edge_logs._config_from_env.cache_clear()
    assert failed_sequence_numbers(response) == [sequence_numbers(batch)[1]]
    assert [record["eventId"] for record in edge.stored()] == ["edge-1"]
    assert [letter["received"] for letter in edge.dead_letters()] == ["garbage\n"]


def test_the_handler_names_missing_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EVENTS_STREAM_NAME", "INVALID_EVENTS_QUEUE_URL", "EDGE_LOG_FIELDS", "EDGE_BEACON_PATH"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="EVENTS_STREAM_NAME, INVALID_EVENTS_QUEUE_URL, EDGE_LOG_FIELDS"):
        EdgeConfig.from_env()
    env = {"EVENTS_STREAM_NAME": "s", "INVALID_EVENTS_QUEUE_URL": "q", "EDGE_BEACON_PATH": "/c",
           "EDGE_LOG_FIELDS": "timestamp,c-ip"}  # fmt: skip
    with pytest.raises(RuntimeError, match="EDGE_LOG_FIELDS: the edge-log parser needs the fields"):
        EdgeConfig.from_env(env)
