"""The event contract's edges: length bounds, unknown fields, UTC offsets, non-ASCII text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from components.lake.schema import PROJECTED_YEARS
from lambdas.events import (
    MAX_CLOCK_SKEW,
    MAX_EVENT_AGE,
    RECEIVED_AT,
    IngestEnvelope,
    UserEvent,
    stored_columns,
    stored_record,
)
from tests.support.lambda_events import user_event


def field_errors(payload: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        UserEvent.model_validate(payload)
    return [(".".join(map(str, e["loc"])), e["type"]) for e in caught.value.errors()]


ENVELOPE = IngestEnvelope(receivedAt=datetime(2026, 3, 1, 12, 0, 1, 999_999, tzinfo=UTC), sourceIp="203.0.113.9")


@pytest.mark.parametrize(
    ("field", "limit"),
    [("eventId", 64), ("userId", 64), ("objectId", 64), ("bizId", 64), ("action", 256), ("errorMsg", 1024)],
)
def test_text_fields_take_exactly_their_limit_and_refuse_one_more(field: str, limit: int) -> None:
    assert getattr(UserEvent.model_validate(user_event(1, **{field: "x" * limit})), field) == "x" * limit
    assert field_errors(user_event(1, **{field: "x" * (limit + 1)})) == [(field, "string_too_long")]


@pytest.mark.parametrize("field", ["eventId", "action", "userId", "objectId", "bizId"])
def test_required_text_fields_refuse_empty_and_missing(field: str) -> None:
    assert field_errors(user_event(1, **{field: ""})) == [(field, "string_too_short")]
    missing = {k: v for k, v in user_event(1).items() if k != field}
    assert field_errors(missing) == [(field, "missing")]


def test_error_message_is_optional_and_stored_as_null() -> None:
    event = UserEvent.model_validate(user_event(1))

    assert event.errorMsg is None
    assert stored_record(event, ENVELOPE)["errorMsg"] is None


def test_unknown_fields_are_refused_not_dropped() -> None:
    assert field_errors(user_event(1, userID="typo", sessionId="s-1")) == [
        ("userID", "extra_forbidden"),
        ("sessionId", "extra_forbidden"),
    ]


@pytest.mark.parametrize("value", [123, True, None, ["a"], {"id": "a"}])
def test_ids_must_be_strings_not_coerced(value: Any) -> None:
    assert [loc for loc, _ in field_errors(user_event(1, userId=value))] == ["userId"]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2026-03-01T20:15:00+08:00", "2026-03-01T12:15:00.000Z"),
        ("2026-03-01T06:45:00.5-05:30", "2026-03-01T12:15:00.500Z"),
        ("2026-03-01T12:15:00Z", "2026-03-01T12:15:00.000Z"),
        ("2026-03-01T12:15:00.123456+00:00", "2026-03-01T12:15:00.123Z"),
        ("2026-03-01T00:30:00+01:00", "2026-02-28T23:30:00.000Z"),  # crosses a day (and partition) boundary
    ],
)
def test_created_at_with_any_offset_is_stored_as_utc_milliseconds(sent: str, stored: str) -> None:
    event = UserEvent.model_validate(user_event(1, createdAt=sent))

    assert stored_record(event, ENVELOPE)["createdAt"] == stored


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("2026-03-01T12:15:00", "iso_datetime"),  # no offset: an ambiguous instant
        ("2026-03-01", "iso_datetime"),
        ("2026-03-01T12:15Z", "iso_datetime"),  # no seconds
        ("2026-03-01T12:15:00+0800", "iso_datetime"),  # offset without its colon
        ("yesterday", "iso_datetime"),
        (" 2026-03-01T12:15:00Z", "iso_datetime"),
        # Epoch seconds and milliseconds, as numbers and as numeric strings: Pydantic alone reads them all.
        (1772367300, "iso_datetime"),
        (1772367300000, "iso_datetime"),
        (1772367300.5, "iso_datetime"),
        ("1772367300", "iso_datetime"),
        ("1772367300000", "iso_datetime"),
        (True, "iso_datetime"),
        ("2026-02-30T12:00:00Z", "datetime_from_date_parsing"),  # the right shape, not a date
    ],
)
def test_created_at_must_be_iso_8601_text_with_seconds_and_an_offset(value: Any, error: str) -> None:
    assert field_errors(user_event(1, createdAt=value)) == [("createdAt", error)]


def test_created_at_error_says_what_is_expected_and_what_was_sent() -> None:
    with pytest.raises(ValidationError) as caught:
        UserEvent.model_validate(user_event(1, createdAt=1772367300))
    assert caught.value.errors()[0]["msg"] == (
        "must be an ISO-8601 date-time string with seconds and an offset, "
        "e.g. 2026-03-01T12:15:00Z or 2026-03-01T20:15:00.250+08:00; got a number"
    )


RECEIVED = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


def within_window(created_at: str) -> list[tuple[str, str]]:
    """Field errors of an event received at RECEIVED, as the ingest Lambda validates it."""
    try:
        UserEvent.model_validate(user_event(1, createdAt=created_at), context={RECEIVED_AT: RECEIVED})
    except ValidationError as error:
        return [(".".join(map(str, e["loc"])), e["type"]) for e in error.errors()]
    return []


@pytest.mark.parametrize(
    ("created_at", "accepted"),
    [
        ("2026-03-01T12:00:00Z", True),  # exactly 7 days before receipt
        ("2026-03-01T20:00:00+08:00", True),  # the same instant in another offset
        ("2026-03-01T11:59:59.999Z", False),
        ("2026-03-08T12:05:00Z", True),  # exactly 5 minutes of client clock skew
        ("2026-03-08T12:05:00.001Z", False),
        ("9999-12-31T23:59:59-01:00", False),  # past what UTC can represent: must not reach the serializer
        ("0001-01-01T00:00:00+01:00", False),
        ("2019-12-31T23:59:59Z", False),  # before the lake's first projected year
    ],
)
def test_created_at_must_fall_between_a_week_before_and_five_minutes_after_receipt(
    created_at: str, accepted: bool
) -> None:
    assert within_window(created_at) == ([] if accepted else [("createdAt", "created_at_window")])


def test_the_window_fits_the_lakes_projected_years_and_is_named_in_the_error() -> None:
    # Whatever ingest accepts today partitions into a year Athena projects (`year=` of the lake).
    now = datetime.now(UTC)
    first, last = PROJECTED_YEARS
    assert first <= (now - MAX_EVENT_AGE).year and (now + MAX_CLOCK_SKEW).year <= last
    with pytest.raises(ValidationError) as caught:
        UserEvent.model_validate(user_event(1, createdAt="9999-12-31T23:59:59-01:00"), context={RECEIVED_AT: RECEIVED})
    assert caught.value.errors()[0]["msg"] == (
        "must be from 2026-03-01T12:00:00.000Z to 2026-03-08T12:05:00.000Z "
        "(7 days before to 5 minutes after the time it is received); got 9999-12-31T23:59:59-01:00"
    )


@pytest.mark.parametrize("field", ["eventId", "action", "userId", "objectId", "bizId", "errorMsg"])
def test_text_with_an_unpaired_surrogate_is_refused_not_left_to_crash_the_writer(field: str) -> None:
    # `"\ud800"` is valid JSON and decodes to a str that cannot be encoded as UTF-8.
    broken = json.loads('"ok \\ud800"')
    assert field_errors(user_event(1, **{field: broken})) == [(field, "string_unicode")]
    assert UserEvent.model_validate(user_event(1, **{field: json.loads('"ok \\ud83d\\udca5"')}))  # a real pair


def test_length_bounds_count_characters_not_bytes() -> None:
    # 64 four-byte emoji are 256 bytes of UTF-8 yet within the 64-character id bound.
    assert UserEvent.model_validate(user_event(1, userId="💥" * 64)).userId == "💥" * 64
    assert field_errors(user_event(1, userId="💥" * 65)) == [("userId", "string_too_long")]


def test_non_ascii_text_survives_the_stored_record_unchanged() -> None:
    text = {"action": "查看文档", "objectId": "café-№7", "errorMsg": "[error] Ошибка 💥 — ✓"}
    event = UserEvent.model_validate(user_event(1, **text))

    encoded = json.dumps(stored_record(event, ENVELOPE), ensure_ascii=False).encode("utf-8")

    assert {k: json.loads(encoded)[k] for k in text} == text


def test_stored_record_carries_every_stored_column_in_order() -> None:
    record = stored_record(UserEvent.model_validate(user_event(1, errorMsg="WARNNING")), ENVELOPE)

    assert list(record) == [column.wire_name for column in stored_columns()]
    assert (record["receivedAt"], record["schemaVersion"], record["userAgent"]) == (
        "2026-03-01T12:00:01.999Z",
        1,
        None,
    )


def test_envelope_refuses_over_long_header_text() -> None:
    # Why the handler truncates the User-Agent header before building the envelope.
    with pytest.raises(ValidationError):
        IngestEnvelope(receivedAt=datetime.now(UTC), userAgent="x" * 513)


def test_created_at_built_in_python_may_be_an_aware_datetime_but_not_a_naive_one() -> None:
    # Tools and tests build events in Python; only JSON text is held to the strict string form.
    moment = datetime(2026, 3, 1, 12, 15, tzinfo=UTC)
    assert UserEvent.model_validate(user_event(1, createdAt=moment)).createdAt == moment
    assert field_errors(user_event(1, createdAt=moment.replace(tzinfo=None))) == [("createdAt", "timezone_aware")]
