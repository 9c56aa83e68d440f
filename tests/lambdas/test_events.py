"""The event contract's edges: length bounds, unknown fields, UTC offsets, non-ASCII text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from lambdas.events import IngestEnvelope, UserEvent, stored_columns, stored_record
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
        ("2026-03-01T12:15:00", "timezone_aware"),
        ("2026-03-01", "timezone_aware"),
        ("yesterday", "datetime_from_date_parsing"),
        ("2026-02-30T12:00:00Z", "datetime_from_date_parsing"),
    ],
)
def test_created_at_without_an_offset_or_not_a_time_is_refused(value: str, error: str) -> None:
    assert field_errors(user_event(1, createdAt=value)) == [("createdAt", error)]


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
