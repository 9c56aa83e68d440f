"""One table of `createdAt` forms, fed through every engine that reads event time.

Each form is what a client (or a writer that bypasses ingest) might put in `createdAt`, with the
UTC instant the event contract reads it as, or None where the contract refuses it. The ingest
handler accepts exactly the contract's forms and writes each as a stream timestamp
(`lambdas.events.STREAM_TIMESTAMP`). Every reader of the stream (the Flink job, Firehose's JQ
partition keys, the lake writer that stands in for Firehose's conversion, DuckDB running the
Athena SQL) reads exactly the stream forms, to the same instant, and refuses every other value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdas.events import STREAM_TIMESTAMP

# When the handler receives them (`tests.support.lambda_events.RECEIVED_AT`): every instant below
# is inside the contract's window around it.
RECEIVED = "2026-03-01T13:00:00.000Z"


@dataclass(frozen=True)
class Form:
    name: str
    value: Any  # what `createdAt` holds
    instant: str | None  # the UTC instant the contract reads, in the stored form; None: refused

    @property
    def shaped_like_stream(self) -> bool:
        return isinstance(self.value, str) and STREAM_TIMESTAMP.fullmatch(self.value) is not None

    @property
    def on_stream(self) -> bool:
        """A reader of the stream takes this very value: a stream timestamp of a time that exists."""
        return self.shaped_like_stream and self.instant is not None


FORMS = [
    Form("z_seconds", "2026-03-01T12:15:00Z", "2026-03-01T12:15:00.000Z"),
    Form("z_milliseconds", "2026-03-01T12:15:00.250Z", "2026-03-01T12:15:00.250Z"),
    Form("z_one_digit", "2026-03-01T12:15:00.5Z", "2026-03-01T12:15:00.500Z"),
    Form("z_nanoseconds", "2026-03-01T12:15:00.123456789Z", "2026-03-01T12:15:00.123Z"),
    Form("plus_eight", "2026-03-01T20:15:00.250+08:00", "2026-03-01T12:15:00.250Z"),
    Form("minus_five", "2026-03-01T07:15:00-05:00", "2026-03-01T12:15:00.000Z"),
    Form("plus_zero", "2026-03-01T12:15:00+00:00", "2026-03-01T12:15:00.000Z"),
    Form("next_day_locally", "2026-03-02T00:15:00+12:00", "2026-03-01T12:15:00.000Z"),
    Form("lower_case", "2026-03-01t12:15:00z", "2026-03-01T12:15:00.000Z"),
    Form("no_offset", "2026-03-01T12:15:00", None),
    Form("no_seconds", "2026-03-01T12:15Z", None),
    Form("space_separated", "2026-03-01 12:15:00Z", None),
    Form("ten_fraction_digits", "2026-03-01T12:15:00.1234567890Z", None),
    Form("no_such_day", "2026-02-30T12:15:00Z", None),
    Form("hour_24", "2026-03-01T24:00:00Z", None),
    Form("date_only", "2026-03-01", None),
    Form("epoch_seconds_text", "1772367300", None),
    Form("epoch_seconds", 1772367300, None),
    Form("words", "yesterday", None),
]


def stream_record(form: Form, event_id: str, error_msg: str | None = None) -> dict[str, Any]:
    """A record as it would sit on the stream if written there with this `createdAt`, bypassing ingest."""
    return {
        "eventId": event_id,
        "action": "viewDoc",
        "userId": f"user-{form.name}",
        "objectId": "doc-1",
        "bizId": "biz-news",
        "createdAt": form.value,
        "errorMsg": error_msg,
        "receivedAt": RECEIVED,
        "sourceIp": "203.0.113.9",
        "userAgent": "pytest",
        "schemaVersion": 1,
    }
