"""The event contract: the one definition of a user behaviour event.

Clients send `UserEvent` objects (camelCase JSON). The ingest Lambda validates
them, adds server-side facts in an `IngestEnvelope`, and writes the flat
`StoredEvent` record to the events stream. Every downstream schema (the Glue
table, the Flink source table, the Redshift ODS columns) is derived from
`stored_columns()`, so a field added here reaches all of them, and the tests
prove they agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_serializer,
    field_validator,
)
from pydantic_core import PydanticCustomError

SCHEMA_VERSION = 1

# The window `createdAt` must fall in, around the moment ingest receives the event. The past
# limit lets an offline client (a phone on a week without signal) deliver its buffer; every
# accepted event still lands in a year the lake's partition projection covers (2020-2099,
# `components/lake/schema.py`) and in a day the warehouse refresh rebuilds (it rebuilds the
# day of every late row it reads, `sql/redshift/refresh.sql`). The future limit forgives
# client clocks running fast, as SigV4 forgives 5 minutes of skew, and keeps one event from
# dragging Flink's event-time watermark ahead of every honest client.
MAX_EVENT_AGE = timedelta(days=7)
MAX_CLOCK_SKEW = timedelta(minutes=5)
CREATED_AT_WINDOW = (
    f"{MAX_EVENT_AGE.days} days before to {MAX_CLOCK_SKEW.seconds // 60} minutes after the time it is received"
)
# Validation context key that carries the receipt time (`UserEvent.model_validate(..., context=...)`).
RECEIVED_AT = "received_at"

# RFC 3339's date-time (ISO-8601 with seconds and an offset): the one shape `createdAt` takes.
# Pydantic alone would also read numbers and numeric strings as epoch seconds or milliseconds.
ISO_DATETIME_WITH_OFFSET = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
CREATED_AT_FORMAT = (
    "an ISO-8601 date-time string with seconds and an offset, "
    "e.g. 2026-03-01T12:15:00Z or 2026-03-01T20:15:00.250+08:00"
)

# The one form a timestamp takes on the events stream: UTC, `T`, seconds, up to 9 fraction digits and
# `Z` (ingest writes milliseconds, `to_utc_iso`). Every reader downstream of the stream reads exactly
# this and refuses anything else in the same way, because it is what Firehose's OpenX JSON
# deserializer documents for timestamp columns ("yyyy-MM-dd'T'HH:mm:ss[.S]'Z'", up to 9 digits):
# the Flink job (`streaming/sql/source_events.sql`, the pattern copied in `streaming/statements.py`),
# Firehose's JQ partition keys (`components/lake/schema.py`) and the local lake writer. A client's
# other offsets and spellings (`+08:00`, `z`, `t`) are read once, by the ingest handler, and written
# in this form.
STREAM_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?Z")
STREAM_TIMESTAMP_FORMAT = "UTC as YYYY-MM-DDTHH:MM:SS[.fraction]Z, e.g. 2026-03-01T12:15:00.250Z"


# Bounds follow the original stream schema: ids 64, action 256, error text 1024.
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Action = Annotated[str, StringConstraints(min_length=1, max_length=256)]
ErrorText = Annotated[str, StringConstraints(max_length=1024)]
ShortText = Annotated[str, StringConstraints(max_length=512)]
EdgeText = Annotated[str, StringConstraints(max_length=128)]
# A stored column the warehouse's DWD layer leaves out says so in its field's `json_schema_extra`.
WAREHOUSE_KEY = "warehouse"

LogicalType = Literal["string", "timestamp", "int"]


def to_utc_iso(moment: datetime) -> str:
    """Render a timestamp the way every stored record carries it: UTC, milliseconds, `Z`.

    One fixed shape lets Firehose's OpenX deserializer, its JQ partition keys,
    Flink's JSON format and Athena all parse it without per-consumer formats.
    """
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_stream_timestamp(text: str) -> datetime:
    """A timestamp as it sits on the events stream (`STREAM_TIMESTAMP`), as an aware UTC datetime.

    Raises ValueError naming the form expected, for any other shape and for dates that do not
    exist (2026-02-30). Fractions beyond microseconds are cut, as Python cannot hold them.
    """
    if not isinstance(text, str) or not STREAM_TIMESTAMP.fullmatch(text):
        raise ValueError(f"not a stream timestamp ({STREAM_TIMESTAMP_FORMAT}): {text!r}")
    whole, _, fraction = text[:-1].partition(".")
    try:
        moment = datetime.fromisoformat(whole).replace(tzinfo=UTC)
    except ValueError as error:
        raise ValueError(f"not a time that exists ({error}): {text!r}") from None
    return moment + timedelta(microseconds=int(fraction[:6].ljust(6, "0"))) if fraction else moment


class UserEvent(BaseModel):
    """One event as a client sends it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    eventId: Id = Field(description="Client-generated unique id; duplicates are counted once downstream.")
    action: Action = Field(description="What the user did, e.g. `viewDoc` or `buy`.")
    userId: Id = Field(description="Who did it; also the stream partition key.")
    objectId: Id = Field(description="What it was done to.")
    bizId: Id = Field(description="Which business line the event belongs to.")
    createdAt: AwareDatetime = Field(description="When it happened on the client, ISO-8601 with an offset.")
    errorMsg: ErrorText | None = Field(default=None, description="Error or warning text, if any.")

    @field_validator("createdAt", mode="before")
    @classmethod
    def _created_at_is_iso_text(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            return value  # built in Python (tools, tests); JSON only ever brings text or numbers
        if not isinstance(value, str):
            raise PydanticCustomError(
                "iso_datetime", "must be {expected}; got {got}", {"expected": CREATED_AT_FORMAT, "got": _kind(value)}
            )
        if not ISO_DATETIME_WITH_OFFSET.fullmatch(value):
            raise PydanticCustomError(
                "iso_datetime", "must be {expected}; got {got}", {"expected": CREATED_AT_FORMAT, "got": _shown(value)}
            )
        return value

    @field_validator("createdAt")
    @classmethod
    def _created_at_near_receipt(cls, value: datetime, info: ValidationInfo) -> datetime:
        received_at = (info.context or {}).get(RECEIVED_AT)
        if received_at is None:
            return value  # validated outside ingest (tests, tools): no receipt time to measure against
        # Comparing aware datetimes never overflows, even for 9999-12-31T23:59:59-01:00.
        earliest, latest = received_at - MAX_EVENT_AGE, received_at + MAX_CLOCK_SKEW
        if not earliest <= value <= latest:
            raise PydanticCustomError(
                "created_at_window",
                "must be from {earliest} to {latest} ({window}); got {got}",
                {
                    "earliest": to_utc_iso(earliest),
                    "latest": to_utc_iso(latest),
                    "window": CREATED_AT_WINDOW,
                    "got": value.isoformat(),
                },
            )
        return value

    @field_serializer("createdAt")
    def _serialize_created_at(self, value: datetime) -> str:
        return to_utc_iso(value)


class IngestEnvelope(BaseModel):
    """Facts the ingest Lambda adds; kept apart so the client contract stays clean."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    receivedAt: AwareDatetime = Field(description="When the ingest Lambda accepted the event.")
    sourceIp: ShortText | None = Field(
        default=None, description="Caller IP as API Gateway saw it, or the viewer IP the CloudFront edge logged."
    )
    userAgent: ShortText | None = Field(default=None, description="Caller User-Agent header.")
    schemaVersion: int = Field(default=SCHEMA_VERSION, ge=1, description="Version of this contract.")
    # Facts only the CloudFront edge knows, for events collected from its real-time log (`lambdas.edge_logs`);
    # absent for events sent to the API. The warehouse's DWD layer does not carry them (yet): its tables are
    # created once and have no column migration, so they reach the stream, Flink and the lake only.
    edgeLocation: EdgeText | None = Field(
        default=None,
        description="CloudFront edge location that received a beacon, e.g. `FRA56-P4`.",
        json_schema_extra={WAREHOUSE_KEY: False},
    )
    edgeRequestId: EdgeText | None = Field(
        default=None,
        description="CloudFront's id of the beacon request (its `x-amz-cf-id`).",
        json_schema_extra={WAREHOUSE_KEY: False},
    )

    @field_serializer("receivedAt")
    def _serialize_received_at(self, value: datetime) -> str:
        return to_utc_iso(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _shown(text: str) -> str:
    """A client's string quoted for an error message, cut short and ASCII-safe."""
    return ascii(text if len(text) <= 40 else text[:40] + "...")


def stored_record(event: UserEvent, envelope: IngestEnvelope) -> dict[str, Any]:
    """The flat JSON object written to the events stream (client fields, then envelope)."""
    return {**event.model_dump(mode="json"), **envelope.model_dump(mode="json")}


@dataclass(frozen=True)
class StoredColumn:
    """One column of a stored event, in every consumer's terms."""

    wire_name: str  # the JSON key on the stream, e.g. `userId`
    column_name: str  # the snake_case column in Glue, Athena and Redshift, e.g. `user_id`
    logical_type: LogicalType
    max_length: int | None  # for strings; Redshift VARCHAR sizes come from here
    always_present: bool  # required from the client, or filled with a default
    description: str
    in_warehouse: bool = True  # whether the warehouse's DWD layer keeps it (see IngestEnvelope)


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _unwrap(annotation: Any) -> tuple[type, list[Any]]:
    """Strip `Optional` and `Annotated` down to the base type, keeping the constraints."""
    metadata: list[Any] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = get_args(annotation)
            metadata.extend(extra)
        elif origin in (Union, UnionType):
            (annotation,) = [arg for arg in get_args(annotation) if arg is not type(None)]
        else:
            return annotation, metadata


def _logical_type(base: type) -> LogicalType:
    if base is AwareDatetime or issubclass(base, datetime):
        return "timestamp"
    if issubclass(base, int):
        return "int"
    if issubclass(base, str):
        return "string"
    raise TypeError(f"no stored column type for {base!r}; extend LogicalType first")


def _max_length(metadata: list[Any]) -> int | None:
    for item in metadata:
        for constraint in [item, *getattr(item, "metadata", [])]:
            limit = getattr(constraint, "max_length", None)
            if limit is not None:
                return int(limit)
    return None


def stored_columns() -> list[StoredColumn]:
    """Columns of a stored event, in order: the single source for every downstream schema."""
    columns: list[StoredColumn] = []
    for model in (UserEvent, IngestEnvelope):
        for name, field in model.model_fields.items():
            base, metadata = _unwrap(field.annotation)
            columns.append(
                StoredColumn(
                    wire_name=name,
                    column_name=_snake_case(name),
                    logical_type=_logical_type(base),
                    max_length=_max_length([*metadata, *field.metadata]),
                    always_present=field.is_required() or field.default is not None,
                    description=field.description or "",
                    in_warehouse=_in_warehouse(field.json_schema_extra),
                )
            )
    return columns


def warehouse_columns() -> list[StoredColumn]:
    """The stored columns the warehouse's DWD layer keeps, in contract order."""
    return [column for column in stored_columns() if column.in_warehouse]


def _in_warehouse(extra: Any) -> bool:
    return not (isinstance(extra, dict) and extra.get(WAREHOUSE_KEY) is False)
