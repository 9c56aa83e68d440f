"""Reading a batch of client events: one JSON document in, stream records and rejections out.

Both ways in share these rules, so an event means the same thing whichever way it came:
the ingest Lambda reads a request body (`POST /events`), the edge-log Lambda reads the
payload of a beacon that CloudFront logged (`lambdas.edge_logs`). A document is one event
object or `{"events": [...]}` with 1 to 500 events; a key that appears twice in one object,
at any depth, refuses the whole document (a parser would keep only the last); NaN and
Infinity are not JSON. Each event is then validated on its own against `UserEvent`:
valid ones become stream records, invalid ones are rejected by index with every field error.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from lambdas.events import RECEIVED_AT, IngestEnvelope, UserEvent, stored_record
from lambdas.kinesis_batch import PendingRecord

MAX_EVENTS_PER_REQUEST = 500


class RefusedBodyError(Exception):
    """The document as a whole cannot be read; `status` is the HTTP answer the API gives for it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def read_json(text: str, what: str) -> Any:
    """`text` parsed as strict JSON, or RefusedBodyError naming `what` (`body`, `beacon payload`)."""
    try:
        return json.loads(
            text, parse_constant=_refuse_non_finite, parse_int=_read_int, object_pairs_hook=_refuse_duplicate_keys
        )
    except _NotJsonError as error:
        raise RefusedBodyError(400, f"{what} is not valid JSON: {error}") from None
    except _DuplicateKeyError as error:
        raise RefusedBodyError(400, f"{what} is not accepted: the key {error} appears twice in one object") from None
    except json.JSONDecodeError as error:
        raise RefusedBodyError(400, f"{what} is not valid JSON: {error}") from None
    except RecursionError:
        # Deep nesting exhausts the parser's stack; well under 1 MiB of brackets does it.
        raise RefusedBodyError(400, f"{what} is not valid JSON here: nested too deeply") from None


class _NotJsonError(ValueError):
    pass


class _DuplicateKeyError(ValueError):
    pass


def _refuse_non_finite(constant: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259) even though Python's parser takes them.
    raise _NotJsonError(f"{constant} is not a JSON value")


def _read_int(literal: str) -> int | float:
    # Python refuses to turn more than 4300 digits into an int (ValueError, CVE-2020-10735).
    # No event field is a number, so such a literal only has to be refused where it stands:
    # read as a float (infinite), it is "not a string" to the field that holds it.
    try:
        return int(literal)
    except ValueError:
        return float(literal)


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of repeated keys; `{"events": [a, b], "events": [c]}` would
    # lose a and b without a word. RFC 8259 leaves duplicates undefined, so refuse them.
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKeyError(json.dumps(key if len(key) <= 64 else key[:64] + "..."))
        document[key] = value
    return document


def events_of(document: Any) -> list[Any]:
    """The events of a document: one event object, or the array of `{"events": [...]}`."""
    if isinstance(document, list):
        raise RefusedBodyError(400, 'a top-level JSON array is not accepted; send {"events": [...]}')
    if not isinstance(document, dict):
        raise RefusedBodyError(400, 'body must be a JSON object: one event or {"events": [...]}')
    if "events" not in document:
        return [document]
    if len(document) != 1:
        extra = sorted(key for key in document if key != "events")
        raise RefusedBodyError(400, f'a batch has only the key "events"; unexpected keys: {extra}')
    events = document["events"]
    if not isinstance(events, list):
        raise RefusedBodyError(400, '"events" must be a JSON array of event objects')
    if not events:
        raise RefusedBodyError(400, '"events" is empty; send 1 to 500 events')
    if len(events) > MAX_EVENTS_PER_REQUEST:
        raise RefusedBodyError(
            413, f"the batch has {len(events)} events; the limit is {MAX_EVENTS_PER_REQUEST} per request"
        )
    return events


def validate_events(items: list[Any], envelope: IngestEnvelope) -> tuple[list[PendingRecord], list[dict[str, Any]]]:
    """Stream records for valid events, and `{"index", "errors"}` for each invalid one."""
    records: list[PendingRecord] = []
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append({"index": index, "errors": [f"event: must be a JSON object, got {json_type(item)}"]})
            continue
        try:
            event = UserEvent.model_validate(item, context={RECEIVED_AT: envelope.receivedAt})
        except ValidationError as error:
            rejected.append({"index": index, "errors": field_errors(error)})
            continue
        try:
            data = json.dumps(stored_record(event, envelope), ensure_ascii=False, separators=(",", ":"))
            encoded = data.encode("utf-8")
        except (ValueError, OverflowError) as error:
            # The contract should have refused it; if a value still cannot be written, say so for this event.
            rejected.append({"index": index, "errors": [f"event: cannot be stored: {type(error).__name__}"]})
            continue
        records.append(PendingRecord(index, event.eventId, event.userId, encoded))
    return records, rejected


def field_errors(error: ValidationError) -> list[str]:
    messages = []
    for detail in error.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in detail["loc"]) or "event"
        messages.append(f"{field}: {detail['msg']}")
    return messages


def json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
