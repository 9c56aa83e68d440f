"""The ingest Lambda end to end: API Gateway event in, moto Kinesis stream and HTTP answer out."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from lambdas import ingest
from lambdas.events import CREATED_AT_FORMAT, to_utc_iso
from lambdas.kinesis_batch import MAX_BYTES_PER_CALL, PendingRecord, RetryPolicy, batches
from tests.support.lambda_events import (
    RECEIVED_AT,
    STREAM_NAME,
    ApiCallCounter,
    FakeLambdaContext,
    ingest_environment,
    invoke,
    kinesis_for_handler,
    read_answer,
    read_stream,
    receive_at,
    rest_api_event,
    user_event,
)


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch) -> Any:
    ingest_environment(monkeypatch)
    receive_at(monkeypatch)
    with kinesis_for_handler() as client:
        yield client


def stored_by_event_id(client: Any) -> dict[str, dict[str, Any]]:
    records = read_stream(client, STREAM_NAME)
    ids = Counter(record.json()["eventId"] for record in records)
    duplicated = [event_id for event_id, seen in ids.items() if seen > 1]
    assert not duplicated, f"events stored more than once: {duplicated}"
    return {record.json()["eventId"]: record.json() for record in records}


class FlakyKinesis:
    """Wraps the moto client: records chosen by `refuse` come back with an ErrorCode, unwritten.

    That is what a throttled shard does to a PutRecords call: the others are stored, the
    refused ones are not, and the response says which by position.
    """

    def __init__(self, inner: Any, refuse: Callable[[int, dict[str, Any]], str | None]) -> None:
        self.inner = inner
        self.refuse = refuse
        self.calls = 0

    def put_records(self, *, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        verdicts = [self.refuse(self.calls, json.loads(record["Data"])) for record in Records]
        passed = [record for record, code in zip(Records, verdicts, strict=True) if code is None]
        stored = iter(self.inner.put_records(StreamName=StreamName, Records=passed)["Records"] if passed else [])
        results = [
            next(stored) if code is None else {"ErrorCode": code, "ErrorMessage": f"{code} for shard"}
            for code in verdicts
        ]
        return {"FailedRecordCount": sum(code is not None for code in verdicts), "Records": results}


class DownKinesis:
    """A Kinesis endpoint that cannot be reached at all."""

    def __init__(self) -> None:
        self.calls = 0

    def put_records(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        raise EndpointConnectionError(endpoint_url="https://kinesis.eu-west-1.amazonaws.com/")


# --- events that are taken --------------------------------------------------------------


def test_single_event_is_enriched_and_written_with_user_partition_key(stream: Any) -> None:
    event = user_event(1, createdAt="2026-03-01T20:15:00.250+08:00", errorMsg="[error] checkout failed")
    answer = invoke(event, source_ip="198.51.100.7", user_agent="shop-app/3.2 (iOS 19)")

    assert (answer.status, answer.body) == (200, {"accepted": 1, "rejected": [], "failed": []})
    [record] = read_stream(stream, STREAM_NAME)
    stored = record.json()
    assert record.partition_key == "user-1"
    assert stored["createdAt"] == "2026-03-01T12:15:00.250Z"
    assert {k: stored[k] for k in ("eventId", "action", "userId", "objectId", "bizId", "errorMsg")} == {
        **{k: event[k] for k in ("eventId", "action", "userId", "objectId", "bizId")},
        "errorMsg": "[error] checkout failed",
    }
    assert (stored["sourceIp"], stored["userAgent"], stored["schemaVersion"]) == (
        "198.51.100.7",
        "shop-app/3.2 (iOS 19)",
        1,
    )
    assert stored["receivedAt"] == to_utc_iso(RECEIVED_AT)


def test_500_events_arrive_exactly_once_in_one_call_with_per_user_order(stream: Any) -> None:
    events = [user_event(n) for n in range(500)]
    calls = ApiCallCounter(stream)

    answer = invoke({"events": events})

    assert (answer.status, answer.body["accepted"], answer.body["failed"]) == (200, 500, [])
    assert calls.calls == Counter({"PutRecords": 1})
    records = read_stream(stream, STREAM_NAME)
    assert sorted(r.json()["eventId"] for r in records) == [e["eventId"] for e in events]
    assert all(r.partition_key == r.json()["userId"] for r in records)
    for user in {e["userId"] for e in events}:
        sent = [e["eventId"] for e in events if e["userId"] == user]
        user_records = [r for r in records if r.partition_key == user]
        assert len({r.shard_id for r in user_records}) == 1, f"{user} spread over shards"
        assert [r.json()["eventId"] for r in user_records] == sent


def test_mixed_batch_reports_each_invalid_event_and_writes_every_valid_one(stream: Any) -> None:
    events: list[Any] = [user_event(n) for n in range(10)]
    events[1] = {k: v for k, v in user_event(1).items() if k != "userId"}
    events[3] = user_event(3, createdAt="2026-03-01T12:00:00")  # no offset: ambiguous instant
    events[4] = user_event(4, colour="blue", action="a" * 257)
    events[6] = 42
    events[7] = user_event(7, eventId="", errorMsg=["not", "text"])

    answer = invoke({"events": events})

    assert answer.status == 200
    assert answer.body["rejected"] == [
        {"index": 1, "errors": ["userId: Field required"]},
        {"index": 3, "errors": [f"createdAt: must be {CREATED_AT_FORMAT}; got '2026-03-01T12:00:00'"]},
        {
            "index": 4,
            "errors": [
                "action: String should have at most 256 characters",
                "colour: Extra inputs are not permitted",
            ],
        },
        {"index": 6, "errors": ["event: must be a JSON object, got a number"]},
        {
            "index": 7,
            "errors": [
                "eventId: String should have at least 1 character",
                "errorMsg: Input should be a valid string",
            ],
        },
    ]
    valid_ids = {events[i]["eventId"] for i in (0, 2, 5, 8, 9)}
    assert answer.body["accepted"] == len(valid_ids)
    assert set(stored_by_event_id(stream)) == valid_ids


def test_event_times_outside_the_receipt_window_or_not_iso_text_are_rejected_by_index(stream: Any) -> None:
    # Received at 2026-03-01T13:00Z: the window is 2026-02-22T13:00Z to 2026-03-01T13:05Z.
    times: list[Any] = [
        "2026-03-01T12:59:00Z",
        "9999-12-31T23:59:59-01:00",  # once a 502: the UTC serializer overflowed
        "9999-01-01T00:00:00Z",  # once accepted: Flink's watermark jumped to 9999, every window went silent
        "2026-02-22T12:59:59Z",  # 7 days and a second old
        "2026-03-01T13:05:01Z",  # a client clock 5 minutes and a second fast
        1772370000,  # epoch seconds: once read as a time
        "1772370000000",  # epoch milliseconds as text: likewise
        "2026-02-22T13:00:00Z",  # the window's edges are inside it
        "2026-03-01T13:05:00Z",
    ]
    events = [user_event(n, createdAt=created_at) for n, created_at in enumerate(times)]

    answer = invoke({"events": events})

    window = "7 days before to 5 minutes after the time it is received"
    between = f"must be from 2026-02-22T13:00:00.000Z to 2026-03-01T13:05:00.000Z ({window})"
    assert answer.status == 200
    assert answer.body["rejected"] == [
        {"index": 1, "errors": [f"createdAt: {between}; got 9999-12-31T23:59:59-01:00"]},
        {"index": 2, "errors": [f"createdAt: {between}; got 9999-01-01T00:00:00+00:00"]},
        {"index": 3, "errors": [f"createdAt: {between}; got 2026-02-22T12:59:59+00:00"]},
        {"index": 4, "errors": [f"createdAt: {between}; got 2026-03-01T13:05:01+00:00"]},
        {"index": 5, "errors": [f"createdAt: must be {CREATED_AT_FORMAT}; got a number"]},
        {"index": 6, "errors": [f"createdAt: must be {CREATED_AT_FORMAT}; got '1772370000000'"]},
    ]
    assert answer.body["accepted"] == 3
    assert {k: v["createdAt"] for k, v in stored_by_event_id(stream).items()} == {
        "evt-000000": "2026-03-01T12:59:00.000Z",
        "evt-000007": "2026-02-22T13:00:00.000Z",
        "evt-000008": "2026-03-01T13:05:00.000Z",
    }


def test_integer_literals_of_thousands_of_digits_are_answered_not_crashed(stream: Any) -> None:
    huge = "9" * 5000  # Python refuses to read more than 4300 digits as an int
    body = f'{{"events": [{json.dumps(user_event(1))}, {huge}, {{"eventId": {huge}}}]}}'

    answer = invoke(body)

    assert answer.status == 200
    assert answer.body["accepted"] == 1
    missing = [f"{field}: Field required" for field in ("action", "userId", "objectId", "bizId", "createdAt")]
    assert answer.body["rejected"] == [
        {"index": 1, "errors": ["event: must be a JSON object, got a number"]},
        {"index": 2, "errors": ["eventId: Input should be a valid string", *missing]},
    ]
    assert set(stored_by_event_id(stream)) == {"evt-000001"}
    assert invoke(huge).body == {"message": 'body must be a JSON object: one event or {"events": [...]}'}


@pytest.mark.parametrize(
    ("body", "key"),
    [
        # Once `accepted: 1`, with the first two events in neither `rejected` nor `failed`.
        ('{"events": [%s, %s], "events": [%s]}', "events"),
        ('{"events": [%s, %s, %s], "events": []}', "events"),
        ('{"events": [%s, %s, {"eventId": "x", "action": "a", "eventId": "y"}]}', "eventId"),
        ('{"events": [%s, {"extra": {"deep": [{"k": 1, "k": 2}]}}, %s]}', "k"),
    ],
)
def test_a_key_twice_in_one_object_at_any_depth_is_400_naming_it(stream: Any, body: str, key: str) -> None:
    events = tuple(json.dumps(user_event(n)) for n in range(body.count("%s")))

    answer = invoke(body % events)

    assert answer.status == 400
    assert answer.body == {"message": f'body is not accepted: the key "{key}" appears twice in one object'}
    assert read_stream(stream, STREAM_NAME) == []


def test_batch_with_no_valid_event_is_400_in_the_same_shape_and_touches_no_stream(stream: Any) -> None:
    calls = ApiCallCounter(stream)

    answer = invoke({"events": [user_event(0, bizId=None), "evt"]})

    assert answer.status == 400
    assert answer.body["accepted"] == 0
    assert answer.body["failed"] == []
    assert answer.body["rejected"] == [
        {"index": 0, "errors": ["bizId: Input should be a valid string"]},
        {"index": 1, "errors": ["event: must be a JSON object, got a string"]},
    ]
    assert calls.total == 0


def test_non_ascii_text_round_trips_byte_for_byte(stream: Any) -> None:
    event = user_event(
        1,
        action="查看文档",
        userId="用户-ß",
        objectId="café-🧾",
        errorMsg="[ERROR] Ошибка оплаты: 支付失败 💥",
    )

    answer = invoke(event, user_agent="Приложение/1.0")

    assert answer.status == 200
    [record] = read_stream(stream, STREAM_NAME)
    stored = record.json()
    assert record.partition_key == "用户-ß"
    assert {k: stored[k] for k in ("action", "userId", "objectId", "errorMsg")} == {
        k: event[k] for k in ("action", "userId", "objectId", "errorMsg")
    }
    assert stored["userAgent"] == "Приложение/1.0"
    assert "支付失败".encode() in record.data  # stored as UTF-8, not \\u escapes


def test_base64_encoded_body_is_decoded(stream: Any) -> None:
    body = json.dumps({"events": [user_event(1, errorMsg="WARNNING ünïcode")]}, ensure_ascii=False).encode()

    answer = invoke(body, base64_encoded=True)

    assert answer.status == 200
    assert stored_by_event_id(stream)["evt-000001"]["errorMsg"] == "WARNNING ünïcode"


def test_overlong_user_agent_is_truncated_not_refused(stream: Any) -> None:
    answer = invoke(user_event(1), user_agent="x" * 2000)

    assert answer.status == 200
    assert stored_by_event_id(stream)["evt-000001"]["userAgent"] == "x" * 512


def test_body_of_exactly_one_mebibyte_is_taken(stream: Any) -> None:
    compact = json.dumps({"events": [user_event(1)]})
    body = compact[:-1] + " " * (ingest.MAX_BODY_BYTES - len(compact)) + "}"

    assert len(body.encode()) == ingest.MAX_BODY_BYTES
    assert invoke(body).status == 200


def test_size_limit_counts_decoded_bytes_of_a_base64_body(stream: Any) -> None:
    compact = json.dumps({"events": [user_event(1)]})
    body = (compact[:-1] + " " * (900_000 - len(compact)) + "}").encode()

    answer = invoke(body, base64_encoded=True)  # ~1.2 MB on the wire, 900 kB of JSON

    assert answer.status == 200


# --- requests that are refused whole ----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"events": [{"eventId": "e1",', "body is not valid JSON: Expecting"),
        ("", "request body is empty"),
        ('{"eventId": NaN}', "body is not valid JSON: NaN is not a JSON value"),
        (
            '{"events": ' + "[" * 200_000 + "]" * 200_000 + "}",
            "body is not valid JSON here: nested too deeply",
        ),
        ('"just text"', "body must be a JSON object"),
        ("42", "body must be a JSON object"),
        ("null", "body must be a JSON object"),
        ("[]", "a top-level JSON array is not accepted"),
        ('{"events": {"eventId": "e1"}}', '"events" must be a JSON array'),
        ('{"events": []}', '"events" is empty'),
        (
            '{"events": [], "source": "web"}',
            "a batch has only the key \"events\"; unexpected keys: ['source']",
        ),
    ],
)
def test_unreadable_body_is_400_with_a_clear_message(stream: Any, body: str, message: str) -> None:
    calls = ApiCallCounter(stream)

    answer = invoke(body)

    assert answer.status == 400
    assert answer.body["message"].startswith(message)
    assert calls.total == 0


def test_top_level_array_of_valid_events_is_refused_not_half_read(stream: Any) -> None:
    answer = invoke([user_event(1), user_event(2)])

    assert answer.status == 400
    assert answer.body == {"message": 'a top-level JSON array is not accepted; send {"events": [...]}'}
    assert read_stream(stream, STREAM_NAME) == []


@pytest.mark.parametrize(
    ("encoded_body", "message"),
    [
        ("not base64!", "body is flagged base64-encoded but is not valid base64"),
        (base64.b64encode(b'\xff\xfe{"eventId": "e1"}').decode(), "body is not valid UTF-8"),
    ],
)
def test_undecodable_base64_body_is_400(stream: Any, encoded_body: str, message: str) -> None:
    event = rest_api_event(None)
    event.update(body=encoded_body, isBase64Encoded=True)

    answer = read_answer(ingest.handler(event, FakeLambdaContext()))

    assert (answer.status, answer.body) == (400, {"message": message})


def test_501_events_is_413_and_none_is_written(stream: Any) -> None:
    answer = invoke({"events": [user_event(n) for n in range(501)]})

    assert answer.status == 413
    assert answer.body == {"message": "the batch has 501 events; the limit is 500 per request"}
    assert read_stream(stream, STREAM_NAME) == []


def test_body_over_one_mebibyte_is_413_and_none_is_written(stream: Any) -> None:
    compact = json.dumps({"events": [user_event(1)]})
    body = compact[:-1] + " " * (ingest.MAX_BODY_BYTES + 1 - len(compact)) + "}"

    answer = invoke(body)

    assert answer.status == 413
    assert answer.body == {"message": "body is 1048577 bytes; the limit is 1048576 bytes"}
    assert read_stream(stream, STREAM_NAME) == []


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "application/json; charset=iso-8859-1",
    ],
)
def test_non_json_content_type_is_415(stream: Any, content_type: str | None) -> None:
    answer = invoke(user_event(1), content_type=content_type)

    assert answer.status == 415
    assert "application/json" in answer.body["message"] or "UTF-8" in answer.body["message"]
    assert read_stream(stream, STREAM_NAME) == []


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON", 'application/json; charset="utf-8"'])
def test_json_content_type_with_utf8_charset_is_taken(stream: Any, content_type: str) -> None:
    assert invoke(user_event(1), content_type=content_type).status == 200


# --- when Kinesis pushes back -----------------------------------------------------------


def test_throttled_records_are_retried_until_every_valid_event_is_stored_once(
    stream: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every third record is throttled on the first call, every fifth on the second too.
    def throttle(call: int, record: dict[str, Any]) -> str | None:
        number = int(record["eventId"].split("-")[1])
        if call == 1 and number % 3 == 0:
            return "ProvisionedThroughputExceededException"
        if call == 2 and number % 5 == 0:
            return "KMSThrottlingException"
        return None

    flaky = FlakyKinesis(stream, throttle)
    ingest.use_kinesis_client(flaky)
    events = [user_event(n) for n in range(60)]
    events[10] = user_event(10, userId="")

    answer = invoke({"events": events})

    assert answer.status == 200
    assert (answer.body["accepted"], answer.body["failed"]) == (59, [])
    assert [r["index"] for r in answer.body["rejected"]] == [10]
    assert flaky.calls == 3
    assert set(stored_by_event_id(stream)) == {e["eventId"] for i, e in enumerate(events) if i != 10}


def test_records_still_refused_when_retries_run_out_are_reported_retryable(
    stream: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGEST_MAX_ATTEMPTS", "3")
    flaky = FlakyKinesis(stream, lambda _, r: "InternalFailure" if r["userId"] == "user-2" else None)
    ingest.use_kinesis_client(flaky)
    events = [user_event(n) for n in range(20)]

    answer = invoke({"events": events})

    stuck = [i for i, e in enumerate(events) if e["userId"] == "user-2"]
    assert answer.status == 200
    assert answer.body["accepted"] == 20 - len(stuck)
    assert answer.body["failed"] == [
        {
            "index": i,
            "eventId": events[i]["eventId"],
            "error": "InternalFailure: InternalFailure for shard",
            "retryable": True,
        }
        for i in stuck
    ]
    assert flaky.calls == 3
    assert set(stored_by_event_id(stream)) == {e["eventId"] for i, e in enumerate(events) if i not in stuck}


def test_retries_stop_while_the_invocation_still_has_its_safety_margin(
    stream: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGEST_MAX_ATTEMPTS", "100000")
    monkeypatch.setenv("INGEST_RETRY_BASE_DELAY_MS", "20")
    monkeypatch.setenv("INGEST_RETRY_MAX_DELAY_MS", "20")
    flaky = FlakyKinesis(stream, lambda *_: "ProvisionedThroughputExceededException")
    ingest.use_kinesis_client(flaky)
    context = FakeLambdaContext(timeout_ms=1400)  # 1000 ms margin leaves ~400 ms for retries

    answer = invoke({"events": [user_event(1), user_event(2)]}, context=context)

    assert answer.status == 503
    assert flaky.calls > 3
    assert context.get_remaining_time_in_millis() >= 800  # margin minus the last call


def test_kinesis_unreachable_is_503_with_retry_after_and_nothing_accepted(
    stream: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGEST_MAX_ATTEMPTS", "3")
    down = DownKinesis()
    ingest.use_kinesis_client(down)
    events = [user_event(1), {"eventId": "bad"}, user_event(2)]

    answer = invoke({"events": events})

    assert answer.status == 503
    assert answer.headers["Retry-After"] == "2"
    assert answer.body["accepted"] == 0
    assert [r["index"] for r in answer.body["rejected"]] == [1]
    assert [(f["index"], f["eventId"], f["retryable"]) for f in answer.body["failed"]] == [
        (0, "evt-000001", True),
        (2, "evt-000002", True),
    ]
    assert all(f["error"].startswith("EndpointConnectionError") for f in answer.body["failed"])
    assert down.calls == 3


def test_an_unexpected_exception_after_a_partial_write_reports_every_event(stream: Any) -> None:
    # The first call stores most records and throttles some; the retry then dies with an error
    # that is not botocore's (here a RuntimeError, as a closed connection pool raises). Once a
    # 502 that hid the stored records from the client, which then resent all of them.
    throttled_users = {"user-3", "user-5"}
    flaky = FlakyKinesis(
        stream, lambda call, r: "ProvisionedThroughputExceededException" if r["userId"] in throttled_users else None
    )

    class DiesOnRetry:
        def put_records(self, **kwargs: Any) -> dict[str, Any]:
            if flaky.calls == 1:
                raise RuntimeError("Connection pool is closed.")
            return flaky.put_records(**kwargs)

    ingest.use_kinesis_client(DiesOnRetry())
    events = [user_event(n) for n in range(21)]

    answer = invoke({"events": events})

    throttled = [i for i, e in enumerate(events) if e["userId"] in throttled_users]
    assert answer.status == 200
    assert answer.body["accepted"] == len(events) - len(throttled)
    assert answer.body["failed"] == [
        {
            "index": i,
            "eventId": events[i]["eventId"],
            "error": "RuntimeError: Connection pool is closed.",
            "retryable": True,
        }
        for i in throttled
    ]
    assert set(stored_by_event_id(stream)) == {e["eventId"] for i, e in enumerate(events) if i not in throttled}


@pytest.mark.parametrize(
    "response",
    [{"FailedRecordCount": 0}, {"Records": None}, {"Records": ["ok"]}, None],
    ids=["no-records", "null-records", "not-objects", "no-response"],
)
def test_a_malformed_put_records_answer_reports_the_call_failed_not_502(stream: Any, response: Any) -> None:
    class Malformed:
        def put_records(self, **_: Any) -> Any:
            return response

    ingest.use_kinesis_client(Malformed())
    answer = invoke({"events": [user_event(1)]})

    assert answer.status == 503
    assert [f["index"] for f in answer.body["failed"]] == [0]


def test_missing_stream_is_503_without_retrying_in_vain(stream: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTS_STREAM_NAME", "no-such-stream")
    calls = ApiCallCounter(stream)
    started = time.monotonic()

    answer = invoke(user_event(1))

    assert answer.status == 503
    assert answer.body["failed"][0]["error"].startswith("ResourceNotFoundException")
    assert calls.calls == Counter({"PutRecords": 1})
    assert time.monotonic() - started < 1


def test_kms_throttling_of_whole_call_is_retried(stream: Any) -> None:
    class KmsThrottledOnce:
        calls = 0

        def put_records(self, **kwargs: Any) -> dict[str, Any]:
            self.calls += 1
            if self.calls == 1:
                error = {"Error": {"Code": "KMSThrottlingException", "Message": "Rate exceeded"}}
                raise ClientError(error, "PutRecords")
            return dict(stream.put_records(**kwargs))

    client = KmsThrottledOnce()
    ingest.use_kinesis_client(client)

    answer = invoke({"events": [user_event(n) for n in range(5)]})

    assert (answer.status, answer.body["accepted"], client.calls) == (200, 5, 2)
    assert len(stored_by_event_id(stream)) == 5


# --- what operators see -----------------------------------------------------------------


def test_counts_are_published_as_embedded_metrics(stream: Any, capsys: pytest.CaptureFixture[str]) -> None:
    flaky = FlakyKinesis(
        stream, lambda call, r: "InternalFailure" if call == 1 and r["eventId"] == "evt-000002" else None
    )
    ingest.use_kinesis_client(flaky)

    invoke({"events": [user_event(1), user_event(2), {"eventId": 3}]})

    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    metrics = {name: blob[name] for blob in emitted for name in blob if name[0].isupper() and name != "_aws"}
    assert metrics["EventsAccepted"] == [2.0]
    assert metrics["EventsRejected"] == [1.0]
    assert metrics["EventsFailed"] == [0.0]
    assert metrics["PutRecordsRetries"] == [1.0]
    assert metrics["RecordsRetried"] == [1.0]


# --- how records are packed into calls --------------------------------------------------


def _pending(count: int, size: int) -> list[PendingRecord]:
    return [PendingRecord(n, f"e{n}", f"user-{n}", b"x" * size) for n in range(count)]


@pytest.mark.parametrize(
    ("count", "size", "expected_sizes"),
    [
        (1, 100, [1]),
        (500, 100, [500]),
        (1001, 100, [500, 500, 1]),
        # 1,000,000-byte records: five fit in 5 MiB with their keys, the sixth opens a new call.
        (11, 1_000_000, [5, 5, 1]),
    ],
)
def test_records_are_packed_in_order_within_500_records_and_5_mib(
    count: int, size: int, expected_sizes: list[int]
) -> None:
    records = _pending(count, size)

    packed = list(batches(records))

    assert [len(batch) for batch in packed] == expected_sizes
    assert [record for batch in packed for record in batch] == records
    assert all(sum(r.size for r in batch) <= MAX_BYTES_PER_CALL for batch in packed)


@pytest.mark.parametrize("retry_number", [1, 2, 5, 12])
def test_backoff_is_full_jitter_under_a_growing_capped_ceiling(retry_number: int) -> None:
    policy = RetryPolicy(base_delay_ms=50, max_delay_ms=2000)
    ceiling = min(2000, 50 * 2 ** (retry_number - 1))

    assert policy.backoff_ms(retry_number, lambda: 0.0) == 0.0
    assert policy.backoff_ms(retry_number, lambda: 0.999) == pytest.approx(0.999 * ceiling)
