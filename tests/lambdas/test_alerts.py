"""The alert-sink Lambda against moto: DynamoDB realtime table, SNS topic, SQS subscriber.

Notifications are counted the way a subscriber sees them: an SQS queue subscribed to
the topic. Faults are injected with botocore event hooks on the handler's own clients,
so the failing call never reaches moto, exactly like a throttled or unreachable service.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.support.alert_sink import TABLE, TTL_DAYS, Sink
from tests.support.kinesis_events import (
    REGION,
    failed_sequence_numbers,
    kinesis_event,
    sequence_numbers,
)


def error_alert(**overrides: Any) -> dict[str, Any]:
    return {
        "alertType": "error",
        "action": "checkout",
        "eventId": "evt-0001",
        "userId": "user-42",
        "objectId": "cart-7",
        "bizId": "shop",
        "errorMsg": "[ERROR] card declined by issuer",
        "createdAt": "2026-01-01T10:00:05.250Z",
        **overrides,
    }


def warn_burst_alert(**overrides: Any) -> dict[str, Any]:
    return {
        "alertType": "warn_burst",
        "action": "search",
        "windowStart": "2026-01-01T10:00:00Z",
        "windowEnd": "2026-01-01T10:01:00Z",
        "warnCount": 14,
        **overrides,
    }


def counts_alert(**overrides: Any) -> dict[str, Any]:
    return {
        "alertType": "counts",
        "action": "viewDoc",
        "windowStart": "2026-01-01T10:00:00Z",
        "windowEnd": "2026-01-01T10:01:00Z",
        "events": 1200,
        "users": 310,
        **overrides,
    }


def epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def throttled(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeded"}}, operation
    )


# ---------------------------------------------------------------- one alert of each type


@pytest.mark.parametrize(
    ("alert", "key", "expires_from", "notified"),
    [
        (
            error_alert(),
            ("ALERT#error#checkout", "2026-01-01T10:00:05.250Z#evt-0001"),
            "2026-01-01T10:00:05Z",
            True,
        ),
        (
            warn_burst_alert(),
            ("ALERT#warn_burst#search", "2026-01-01T10:00:00.000Z"),
            "2026-01-01T10:01:00Z",
            True,
        ),
        (
            counts_alert(),
            ("ALERT#counts#viewDoc", "2026-01-01T10:00:00.000Z"),
            "2026-01-01T10:01:00Z",
            False,
        ),
    ],
    ids=["error", "warn_burst", "counts"],
)
def test_each_alert_type_is_stored_with_ttl_and_only_error_and_warn_burst_are_announced(
    sink: Sink, alert: dict[str, Any], key: tuple[str, str], expires_from: str, notified: bool
):
    response = sink.handle(kinesis_event([alert]))

    assert response == {"batchItemFailures": []}
    items = sink.items()
    assert list(items) == [key]
    item = items[key]
    assert item["alertType"] == alert["alertType"]
    assert item["action"] == alert["action"]
    assert item["expiresAt"] == epoch(expires_from) + TTL_DAYS * 86_400
    notifications = sink.notifications()
    assert len(notifications) == (1 if notified else 0)
    assert ("notifiedAt" in item) is notified
    if notified:
        assert item["snsMessageId"] == notifications[0]["MessageId"]
        attributes = notifications[0]["MessageAttributes"]
        assert attributes["alertType"] == {"Type": "String", "Value": alert["alertType"]}
        assert attributes["action"] == {"Type": "String", "Value": alert["action"]}


def test_error_notification_is_readable_and_item_keeps_the_event_fields(sink: Sink):
    sink.handle(kinesis_event([error_alert()]))

    [envelope] = sink.notifications()
    assert envelope["Subject"] == "[uba test] Error on action checkout"
    message = envelope["Message"]
    for expected in [
        "[ERROR] card declined by issuer",
        "evt-0001",
        "user-42",
        "cart-7",
        "shop",
        "10:00:05.250Z",
    ]:
        assert expected in message
    item = sink.items()[("ALERT#error#checkout", "2026-01-01T10:00:05.250Z#evt-0001")]
    assert {name: item[name] for name in ("eventId", "userId", "objectId", "bizId", "errorMsg", "createdAt")} == {
        "eventId": "evt-0001",
        "userId": "user-42",
        "objectId": "cart-7",
        "bizId": "shop",
        "errorMsg": "[ERROR] card declined by issuer",
        "createdAt": "2026-01-01T10:00:05.250Z",
    }


def test_warn_burst_subject_is_ascii_and_short_enough_for_sns(sink: Sink):
    action = "suche-überall-" + "x" * 200  # SNS rejects non-ASCII or 100+ character subjects
    sink.handle(kinesis_event([warn_burst_alert(action=action)]))

    [envelope] = sink.notifications()
    assert envelope["Subject"].isascii()
    assert len(envelope["Subject"]) < 100
    assert envelope["Subject"].startswith("[uba test] 14 warnings on action suche-?berall-")
    assert envelope["MessageAttributes"]["action"]["Value"] == action
    assert "14 warnings" in envelope["Message"]


# ---------------------------------------------------------------- idempotency


def test_redelivered_batch_adds_no_items_and_no_second_notification(sink: Sink):
    event = kinesis_event([error_alert(), warn_burst_alert(), counts_alert()])

    assert sink.handle(event) == {"batchItemFailures": []}
    first_items = sink.items()
    first_notifications = sink.notifications()
    assert sink.handle(event) == {"batchItemFailures": []}

    second_items = sink.items()
    assert len(first_items) == 3
    assert second_items.keys() == first_items.keys()
    assert {key: item["notifiedAt"] for key, item in second_items.items() if "notifiedAt" in item} == {
        key: item["notifiedAt"] for key, item in first_items.items() if "notifiedAt" in item
    }
    assert sorted(n["MessageAttributes"]["alertType"]["Value"] for n in first_notifications) == [
        "error",
        "warn_burst",
    ]
    assert sink.notifications() == []


def test_updated_window_overwrites_in_place_and_is_not_announced_again(sink: Sink):
    sink.handle(kinesis_event([counts_alert(events=100, users=40), warn_burst_alert(warnCount=10)]))
    sink.notifications()

    # Flink emits an update for the same windows; timestamps differ only in format.
    update = [
        counts_alert(events=130, users=45, windowStart="2026-01-01T10:00:00.000Z"),
        warn_burst_alert(warnCount=12),
    ]
    assert sink.handle(kinesis_event(update, first_offset=2)) == {"batchItemFailures": []}

    items = sink.items()
    assert len(items) == 2
    counts = items[("ALERT#counts#viewDoc", "2026-01-01T10:00:00.000Z")]
    assert (counts["events"], counts["users"]) == (130, 45)
    assert items[("ALERT#warn_burst#search", "2026-01-01T10:00:00.000Z")]["warnCount"] == 12
    assert sink.notifications() == []


def test_key_schema_answers_latest_counts_per_action_for_a_dashboard(sink: Sink):
    minutes = ["10:00", "10:01", "10:02", "10:03"]
    batch = [
        counts_alert(
            action=action,
            windowStart=f"2026-01-01T{start}:00Z",
            windowEnd=f"2026-01-01T{end}:00Z",
            events=base + index,
            users=1,
        )
        for action, base in (("viewDoc", 1), ("buy", 1001))
        for index, (start, end) in enumerate(itertools.pairwise(minutes))
    ]
    sink.handle(kinesis_event([*batch, error_alert()]))

    # One action: newest window first from the base table.
    latest_view = sink.dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "ALERT#counts#viewDoc"}},
        ScanIndexForward=False,
        Limit=1,
    )["Items"]
    assert [(item["sk"]["S"], item["events"]["N"]) for item in latest_view] == [("2026-01-01T10:02:00.000Z", "3")]
    # Every action: recent windows of type counts from the byType index, newest per action.
    since = "2026-01-01T10:01:00.000Z"
    recent = sink.dynamodb.query(
        TableName=TABLE,
        IndexName="byType",
        KeyConditionExpression="alertType = :type AND sk >= :since",
        ExpressionAttributeValues={":type": {"S": "counts"}, ":since": {"S": since}},
    )["Items"]
    latest: dict[str, tuple[str, int]] = {}
    for item in recent:
        action, window, events = item["action"]["S"], item["sk"]["S"], int(item["events"]["N"])
        if action not in latest or window > latest[action][0]:
            latest[action] = (window, events)
    assert latest == {"viewDoc": ("2026-01-01T10:02:00.000Z", 3), "buy": ("2026-01-01T10:02:00.000Z", 1003)}


# ---------------------------------------------------------------- bad input and failures


def test_unprocessable_records_are_batch_item_failures_and_the_rest_succeed(sink: Sink):
    bad_payloads: list[bytes | str | dict[str, Any]] = [
        b"{not json",
        b"\xff\xfe binary",
        {**counts_alert(), "alertType": "panic"},
        {key: value for key, value in error_alert().items() if key != "errorMsg"},
        counts_alert(events="1200"),  # strict: no string-to-int coercion
        warn_burst_alert(warnCount=0),
        counts_alert(windowEnd="2026-01-01T09:59:00Z"),  # window ends before it starts
        error_alert(createdAt="2026-01-01T10:00:05"),  # no timezone
        {**error_alert(), "severity": "high"},  # unknown field: contract drift
        json.dumps([error_alert()]),
    ]
    good = [error_alert(eventId="evt-good"), counts_alert(action="good")]
    event = kinesis_event([good[0], *bad_payloads, good[1]])
    sequence = sequence_numbers(event)

    response = sink.handle(event)

    assert failed_sequence_numbers(response) == sequence[1:-1]
    assert {pk for pk, _ in sink.items()} == {"ALERT#error#checkout", "ALERT#counts#good"}
    assert [n["MessageAttributes"]["alertType"]["Value"] for n in sink.notifications()] == ["error"]


def test_dynamodb_error_on_one_record_fails_only_that_record(sink: Sink):
    event = kinesis_event([counts_alert(), error_alert(action="pay"), warn_burst_alert()])
    sink.fail_calls(
        sink.alerts.dynamodb_client(),
        "UpdateItem",
        when=lambda params: params["Key"]["pk"]["S"] == "ALERT#error#pay",
        error=throttled("UpdateItem"),
    )

    response = sink.handle(event)

    assert failed_sequence_numbers(response) == [sequence_numbers(event)[1]]
    assert {pk for pk, _ in sink.items()} == {"ALERT#counts#viewDoc", "ALERT#warn_burst#search"}
    assert [n["MessageAttributes"]["alertType"]["Value"] for n in sink.notifications()] == ["warn_burst"]


def test_sns_outage_after_the_write_fails_the_record_and_redelivery_publishes_exactly_once(sink: Sink):
    event = kinesis_event([error_alert(), counts_alert()])
    end_outage = sink.fail_calls(
        sink.alerts.sns_client(),
        "Publish",
        when=lambda params: True,
        error=EndpointConnectionError(endpoint_url=f"https://sns.{REGION}.amazonaws.com/"),
    )

    response = sink.handle(event)

    assert failed_sequence_numbers(response) == [sequence_numbers(event)[0]]
    error_item = sink.items()[("ALERT#error#checkout", "2026-01-01T10:00:05.250Z#evt-0001")]
    assert "notifiedAt" not in error_item
    assert sink.notifications() == []

    end_outage()
    # Kinesis retries from the failed sequence number: the whole tail is redelivered, twice here.
    assert sink.handle(event) == {"batchItemFailures": []}
    assert sink.handle(event) == {"batchItemFailures": []}

    assert len(sink.notifications()) == 1
    assert "notifiedAt" in sink.items()[("ALERT#error#checkout", "2026-01-01T10:00:05.250Z#evt-0001")]


def test_crash_between_publish_and_mark_republishes_once_on_redelivery(sink: Sink):
    event = kinesis_event([warn_burst_alert(), counts_alert()])
    recover = sink.fail_calls(
        sink.alerts.dynamodb_client(),
        "UpdateItem",
        when=lambda params: "notifiedAt" in params["UpdateExpression"],
        error=throttled("UpdateItem"),
    )

    response = sink.handle(event)

    assert failed_sequence_numbers(response) == [sequence_numbers(event)[0]]
    assert len(sink.notifications()) == 1

    recover()
    sink.handle(event)
    sink.handle(event)

    # At least once, and the one crash costs exactly one duplicate, not one per redelivery.
    assert len(sink.notifications()) == 1


def test_whole_batch_failing_fails_the_invocation_so_lambda_bisects_it(sink: Sink):
    with pytest.raises(BatchProcessingError):
        sink.handle(kinesis_event([b"garbage", {"alertType": "counts"}]))
    assert sink.items() == {}


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ALERTS_TABLE_NAME", None, "ALERTS_TABLE_NAME"),
        ("ALERTS_TOPIC_ARN", "", "ALERTS_TOPIC_ARN"),
        ("ALERTS_TTL_DAYS", "0", "ALERTS_TTL_DAYS"),
        ("ALERTS_TTL_DAYS", "7.5", "ALERTS_TTL_DAYS"),
    ],
)
def test_misconfiguration_fails_the_invocation_naming_the_variable(
    sink: Sink, monkeypatch: pytest.MonkeyPatch, variable: str, value: str | None, message: str
):
    if value is None:
        monkeypatch.delenv(variable)
    else:
        monkeypatch.setenv(variable, value)
    sink.alerts.reset_cached_state()

    with pytest.raises(RuntimeError, match=message):
        sink.handle(kinesis_event([counts_alert()]))
    assert sink.items() == {}


# ---------------------------------------------------------------- records that once poisoned the shard


def test_alerts_from_far_future_times_are_stored_and_announced_and_unrenderable_ones_fail_alone(sink: Sink):
    # An event in year 9999 once reached Flink (ingest took it); its error alert raised an
    # OverflowError on every delivery (the TTL date), so Lambda retried it until it gave up.
    far_future = error_alert(eventId="evt-9999", createdAt="9999-12-31T23:59:59.999Z")
    burst_at_the_end_of_time = warn_burst_alert(windowStart="9999-12-31T23:59:00Z", windowEnd="9999-12-31T23:59:59Z")
    past_utc = error_alert(eventId="evt-past-utc", createdAt="9999-12-31T23:59:59-01:00")  # no UTC form
    nul_action = error_alert(eventId="evt-nul", action="pay\x00ment")  # SNS takes no NUL in text
    event = kinesis_event([far_future, burst_at_the_end_of_time, past_utc, nul_action, counts_alert()])
    before = int(datetime.now(UTC).timestamp())

    response = sink.handle(event)

    assert failed_sequence_numbers(response) == [sequence_numbers(event)[2]]
    items = sink.items()
    stored = items[("ALERT#error#checkout", "9999-12-31T23:59:59.999Z#evt-9999")]
    # The TTL counts from now, not from year 9999: the item expires like any other.
    assert before + TTL_DAYS * 86_400 <= stored["expiresAt"] <= int(datetime.now(UTC).timestamp()) + TTL_DAYS * 86_400
    assert ("ALERT#warn_burst#search", "9999-12-31T23:59:00.000Z") in items
    assert ("ALERT#error#pay\x00ment", "2026-01-01T10:00:05.250Z#evt-nul") in items
    notifications = sink.notifications()
    assert sorted(n["MessageAttributes"]["action"]["Value"] for n in notifications) == [
        "checkout",
        "pay\ufffdment",
        "search",
    ]
    assert all("\x00" not in n["Message"] for n in notifications)
    # Delivered again, only the unrenderable record fails again; nothing is announced twice.
    assert failed_sequence_numbers(sink.handle(event)) == [sequence_numbers(event)[2]]
    assert sink.notifications() == []


# ---------------------------------------------------------------- concurrent copies of one alert


@pytest.fixture
def atomic_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give moto DynamoDB's guarantee that one item's conditional write is atomic.

    moto checks a condition and applies the update in two Python steps, so two threads can
    both pass the check; DynamoDB serializes writes to one item. Without this lock a correct
    claim could lose the race in moto alone.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    original = DynamoDBBackend.update_item

    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", update_item)


def race_after_the_upsert(sink: Sink, copies: int) -> Callable[[], None]:
    """Hold every copy after its upsert returned (it has read the previous item) until all have.

    From there each copy decides whether to announce with the same view of the table, so a
    read-then-publish de-duplication announces once per copy, every time. Returns the undo.
    """
    client = sink.alerts.dynamodb_client()
    barrier = threading.Barrier(copies, timeout=20)

    def mark_upsert(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["upsert"] = "firstSeenAt" in params.get("ExpressionAttributeNames", {}).values()

    def wait_for_the_others(context: dict[str, Any], **_: Any) -> None:
        if context.get("upsert"):
            barrier.wait()

    client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", mark_upsert)
    client.meta.events.register("after-call.dynamodb.UpdateItem", wait_for_the_others)

    def undo() -> None:
        client.meta.events.unregister("before-parameter-build.dynamodb.UpdateItem", mark_upsert)
        client.meta.events.unregister("after-call.dynamodb.UpdateItem", wait_for_the_others)

    return undo


def claims_attempted(sink: Sink, count: int) -> threading.Event:
    """An event set once `count` claim attempts (won or lost) have had DynamoDB's answer."""
    client = sink.alerts.dynamodb_client()
    attempted, lock, done = itertools.count(1), threading.Lock(), threading.Event()

    def mark_claim(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["claim"] = str(params.get("UpdateExpression", "")).startswith("SET notifyClaim")

    def count_claim(context: dict[str, Any], **_: Any) -> None:
        # after-call is emitted before botocore raises a ConditionalCheckFailed, so a lost claim counts too.
        if context.get("claim"):
            with lock:
                if next(attempted) >= count:
                    done.set()

    client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", mark_claim)
    client.meta.events.register("after-call.dynamodb.UpdateItem", count_claim)
    return done


def copy_on_shard(alert: dict[str, Any], shard: int, offset: int) -> dict[str, Any]:
    """A batch of shard `shard` holding `alert` (Flink wrote it twice, to two shards) and that shard's counts."""
    event = kinesis_event([alert, counts_alert(action=f"shard-{shard}")], first_offset=2 * offset)
    for record in event["Records"]:
        record["eventID"] = record["eventID"].replace("shardId-000000000000", f"shardId-{shard:012d}")
    return event


def handle_concurrently(sink: Sink, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        return list(pool.map(sink.handle, events))


ROUNDS = 12


@pytest.mark.usefixtures("atomic_moto")
def test_two_copies_of_one_alert_handled_at_once_are_announced_once(sink: Sink):
    race_after_the_upsert(sink, copies=2)

    for round_number in range(ROUNDS):
        alert = (
            error_alert(eventId=f"evt-race-{round_number}")
            if round_number % 2
            else warn_burst_alert(
                windowStart=f"2026-01-01T11:{round_number:02d}:00Z", windowEnd=f"2026-01-01T11:{round_number:02d}:59Z"
            )
        )
        copies = [copy_on_shard(alert, shard, offset=round_number) for shard in (0, 1)]

        responses = handle_concurrently(sink, copies)

        assert responses == [{"batchItemFailures": []}] * 2, f"round {round_number}"
        assert len(sink.notifications()) == 1, f"round {round_number}: announced once per copy"
    announced = [item for item in sink.items().values() if item["alertType"] != "counts"]
    assert len(announced) == ROUNDS and all("notifiedAt" in item for item in announced)


@pytest.mark.usefixtures("atomic_moto")
def test_when_the_winning_copy_fails_to_publish_its_redelivery_still_announces(sink: Sink):
    end_race = race_after_the_upsert(sink, copies=2)
    both_claimed = claims_attempted(sink, count=2)
    publishes = itertools.count()

    def the_winners_first_publish(params: dict[str, Any]) -> bool:
        # Fail only once the other copy has tried its claim (and lost it to this one): if the winner
        # gave its claim back first, the other copy could rightly win it and announce, and the test
        # would see a different, equally correct, interleaving.
        first = next(publishes) == 0
        if first:
            assert both_claimed.wait(timeout=20), "the other copy never tried to claim the notification"
        return first

    sink.fail_calls(
        sink.alerts.sns_client(),
        "Publish",
        when=the_winners_first_publish,
        error=EndpointConnectionError(endpoint_url=f"https://sns.{REGION}.amazonaws.com/"),
    )
    copies = [copy_on_shard(error_alert(), shard, offset=0) for shard in (0, 1)]

    responses = handle_concurrently(sink, copies)

    # The copy that won the claim failed; the other stood aside, trusting its redelivery.
    assert sorted(len(r["batchItemFailures"]) for r in responses) == [0, 1]
    assert sink.notifications() == []
    item = sink.items()[("ALERT#error#checkout", "2026-01-01T10:00:05.250Z#evt-0001")]
    assert "notifyClaim" not in item and "notifiedAt" not in item  # the claim was given back
    failed = copies[[bool(r["batchItemFailures"]) for r in responses].index(True)]
    end_race()

    assert sink.handle(failed) == {"batchItemFailures": []}
    assert len(sink.notifications()) == 1
