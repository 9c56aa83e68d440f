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
from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_serializer

SCHEMA_VERSION = 1

# Bounds follow the original stream schema: ids 64, action 256, error text 1024.
Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Action = Annotated[str, StringConstraints(min_length=1, max_length=256)]
ErrorText = Annotated[str, StringConstraints(max_length=1024)]
ShortText = Annotated[str, StringConstraints(max_length=512)]

LogicalType = Literal["string", "timestamp", "int"]


def to_utc_iso(moment: datetime) -> str:
    """Render a timestamp the way every stored record carries it: UTC, milliseconds, `Z`.

    One fixed shape lets Firehose's OpenX deserializer, its JQ partition keys,
    Flink's JSON format and Athena all parse it without per-consumer formats.
    """
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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

    @field_serializer("createdAt")
    def _serialize_created_at(self, value: datetime) -> str:
        return to_utc_iso(value)


class IngestEnvelope(BaseModel):
    """Facts the ingest Lambda adds; kept apart so the client contract stays clean."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    receivedAt: AwareDatetime = Field(description="When the ingest Lambda accepted the event.")
    sourceIp: ShortText | None = Field(default=None, description="Caller IP as API Gateway saw it.")
    userAgent: ShortText | None = Field(default=None, description="Caller User-Agent header.")
    schemaVersion: int = Field(default=SCHEMA_VERSION, ge=1, description="Version of this contract.")

    @field_serializer("receivedAt")
    def _serialize_received_at(self, value: datetime) -> str:
        return to_utc_iso(value)


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
                )
            )
    return columns
