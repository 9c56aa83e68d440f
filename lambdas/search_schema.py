"""The search index: its name, and its template derived from the event contract and the alert contract.

The Flink job writes the search feed (`streaming/sql/search_documents.sql`): every event
whose errorMsg carries an error or warning marker, whole (the client's event and the
ingest envelope, `lambdas.events.stored_record`), and the error and warn-burst alerts
(`lambdas.alerts`). Firehose indexes each document into `INDEX_NAME` (a managed domain
appends the day: `uba-search-2026-01-15`). The template below is what those indices are
created with; its field types come from the contracts, as the Glue, Flink and Redshift
schemas do, and a test proves the job's documents and this template agree.

The mapping is `dynamic: strict`: a document with a field the template does not know,
or a value of the wrong type, is refused by the index (and by Firehose's retries, then
kept in the search tier's dead-letter bucket with OpenSearch's reason) rather than
widening the mapping behind everyone's back.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime

from lambdas.alerts import ErrorAlert, WarnBurstAlert
from lambdas.events import LogicalType, stored_columns

INDEX_NAME = "uba-search"
INDEX_PATTERN = f"{INDEX_NAME}*"
TEMPLATE_NAME = "uba-search"
TIMESTAMP = "@timestamp"
DEDUP_KEY = "feedKey"
# Templates with a higher priority win; ours is the only one that matches, but leave room below it.
TEMPLATE_PRIORITY = 100

# Every timestamp on the stream is UTC with milliseconds and a Z (`to_utc_iso`).
DATE_FORMAT = "strict_date_time"
# Contract strings are identifiers and labels: exact-match keywords. Free text is searched by words
# too: these fields are also analysed (`text`), with the exact value kept as `<field>.keyword`.
FREE_TEXT_FIELDS = frozenset({"errorMsg", "userAgent"})

# The feed's own fields, beside the contracts' (documented in the README's search section).
FEED_FIELDS: dict[str, LogicalType] = {
    TIMESTAMP: "timestamp",  # when the thing happened: event createdAt, or a burst's window start
    "kind": "string",  # "event" or "alert"
    "level": "string",  # "error" or "warning"
    DEDUP_KEY: "string",  # what the document is about; a thing indexed twice collapses on it
}
KINDS = ("event", "alert")
LEVELS = ("error", "warning")
# The alerts the feed carries (per-window counts are not alerts).
ALERT_MODELS = (ErrorAlert, WarnBurstAlert)


def _logical_type(annotation: Any) -> LogicalType:
    """The contract type of an alert field's annotation (Annotated, Optional and Literal unwrapped)."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            (annotation,) = [arg for arg in get_args(annotation) if arg is not type(None)]
        elif origin is Literal:
            annotation = type(get_args(annotation)[0])
        else:
            break
    if annotation is AwareDatetime or (isinstance(annotation, type) and issubclass(annotation, datetime.datetime)):
        return "timestamp"
    if isinstance(annotation, type) and issubclass(annotation, bool):
        raise TypeError("no search field type for bool; extend LogicalType first")
    if isinstance(annotation, type) and issubclass(annotation, int):
        return "int"
    if isinstance(annotation, type) and issubclass(annotation, str):
        return "string"
    raise TypeError(f"no search field type for {annotation!r}")


def document_fields() -> dict[str, LogicalType]:
    """Every field a search document may carry, with its contract type: feed, event, then alert fields.

    A field both contracts define (an error alert's `eventId`, `createdAt`...) must have one
    type in both, or this raises: one index field cannot hold two types.
    """
    fields: dict[str, LogicalType] = dict(FEED_FIELDS)
    for column in stored_columns():
        fields[column.wire_name] = column.logical_type
    for model in ALERT_MODELS:
        for name, info in model.model_fields.items():
            if name in ErrorAlert.ENRICHMENT_FIELDS:
                continue  # the feed's alerts are the detected ones, before the CDC tier's enrichment
            logical = _logical_type(info.annotation)
            if fields.setdefault(name, logical) != logical:
                raise TypeError(f"{model.__name__}.{name} is {logical}, but the feed already has it as {fields[name]}")
    return fields


def field_mapping(name: str, logical: LogicalType) -> dict[str, Any]:
    """The OpenSearch mapping of one field of the given contract type."""
    if logical == "timestamp":
        return {"type": "date", "format": DATE_FORMAT}
    if logical == "int":
        return {"type": "integer"}
    if name in FREE_TEXT_FIELDS:
        return {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 1024}}}
    return {"type": "keyword"}


def mappings() -> dict[str, Any]:
    return {
        "dynamic": "strict",
        "properties": {name: field_mapping(name, logical) for name, logical in document_fields().items()},
    }


def index_template(index_settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The body of `PUT _index_template/<TEMPLATE_NAME>`.

    `index_settings` are left out for OpenSearch Serverless, which manages shards and replicas
    itself and refuses them; a domain passes its shard and replica counts.
    """
    template: dict[str, Any] = {"mappings": mappings()}
    if index_settings:
        template["settings"] = {"index": dict(index_settings)}
    return {
        "index_patterns": [INDEX_PATTERN],
        "priority": TEMPLATE_PRIORITY,
        "template": template,
        "_meta": {"description": "The search feed: error and warning events and the alerts (uba search tier)"},
    }


def daily_index(day: datetime.date) -> str:
    """The index Firehose writes on `day` (UTC) with OneDay rotation: `<INDEX_NAME>-YYYY-MM-DD`."""
    return f"{INDEX_NAME}-{day.isoformat()}"


def day_of_index(name: str) -> datetime.date | None:
    """The day of a daily index, or None for any other name (never deleted by the retention sweep)."""
    prefix = f"{INDEX_NAME}-"
    if not name.startswith(prefix):
        return None
    try:
        return datetime.date.fromisoformat(name[len(prefix) :])
    except ValueError:
        return None
