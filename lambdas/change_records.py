"""The change-record contract: what DMS writes to the `changes` stream, and the flat row the lake keeps of it.

DMS (a Kinesis target endpoint with `MessageFormat: json-unformatted`, transaction details,
partition values, control details, table-alter operations and null columns included, and a
`before-image` of primary keys) writes one JSON object per change, e.g. an update:

    {"data": {"id": "doc-1", "title": "New title", ...},
     "before-image": {"id": "doc-0"},                        (only when the update changed the key)
     "metadata": {"timestamp": "2026-01-01T08:00:30.104820Z", "record-type": "data",
                  "operation": "update", "partition-key-type": "primary-key",
                  "partition-key-value": "public.documents.doc-1", "schema-name": "public",
                  "table-name": "documents", "transaction-id": 1140, "transaction-record-id": 1,
                  "prev-transaction-id": 1139, "prev-transaction-record-id": 1,
                  "commit-timestamp": "2026-01-01T08:00:30.097301Z",
                  "stream-position": "00000002/7C007328.2.00000002/7C007328"}}

Operations: `load` (full-load rows: no commit time, no transaction), `insert`, `update`,
`delete` (PostgreSQL sends the key and NULLs for the rest), and for `record-type: control`
table events such as `create-table`, `drop-table` and, with table-alter operations,
`add-column`/`drop-column`/`rename-column` carrying the table definition under `control`.
(AWS DMS User Guide, "Using Amazon Kinesis Data Streams as a target": endpoint settings and
before images; the exact shapes are those DMS Serverless wrote from PostgreSQL in
crate/commons-codec's tests/transform/test_aws_dms.py and cratedb-toolkit's
tests/io/kinesis/data.py.)

`flatten()` turns one such message into the lake's row: the table's own columns, typed, beside
`cdc_*` metadata columns. Every consumer orders a key's changes by `cdc_change_at` (the commit
time, or DMS's message time for full-load rows), then `cdc_transaction_id` and
`cdc_transaction_record_id`, so the last change committed wins whatever order rows arrive in.

Standard library only: the change processor Lambda ships this module, and the lake, the
warehouse and the local runners import it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

ColumnType = Literal["string", "bigint", "double", "boolean", "timestamp"]
COLUMN_TYPES: tuple[ColumnType, ...] = ("string", "bigint", "double", "boolean", "timestamp")
METADATA_PREFIX = "cdc_"
BEFORE_PREFIX = "cdc_before_"
# The field DMS's BeforeImageSettings writes the before-image under (we set it; pk-only filter).
BEFORE_IMAGE_FIELD = "before-image"
DATA_OPERATIONS = ("load", "insert", "update", "delete")
# Control records that concern no replicated table (DMS's own awsdms_* tables, task events) keep this place.
DMS_SCHEMA = "_dms"
DMS_TABLE = "_control"

# Times DMS writes: ISO 8601 with microseconds and Z (`2024-07-29T00:58:17.974340Z`); column values from
# the source arrive as `2024-07-29 00:58:17.974340` or in ISO form, with or without an offset.
_SOURCE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$")
_TRUE = frozenset({"true", "t", "1", "yes", "y"})
_FALSE = frozenset({"false", "f", "0", "no", "n"})


@dataclass(frozen=True)
class MetadataColumn:
    name: str
    type: ColumnType | Literal["string"]
    description: str


# The metadata every lake row carries, in order. Change and emission times are text in one fixed-width UTC form
# (`YYYY-MM-DD HH:MM:SS.ffffff`) so they keep DMS's microseconds, sort as text and cast to TIMESTAMP anywhere.
METADATA_COLUMNS: tuple[MetadataColumn, ...] = (
    MetadataColumn("cdc_record_type", "string", "DMS record type: data or control"),
    MetadataColumn("cdc_operation", "string", "load, insert, update, delete, or a control operation"),
    MetadataColumn("cdc_change_at", "string", "UTC commit time (full-load and control rows: DMS's message time)"),
    MetadataColumn("cdc_emitted_at", "string", "UTC time DMS wrote the record to the stream"),
    MetadataColumn("cdc_transaction_id", "string", "source transaction id (empty for full-load rows)"),
    MetadataColumn("cdc_transaction_record_id", "bigint", "position of the change within its transaction"),
    MetadataColumn("cdc_stream_position", "string", "source log position DMS read the change at"),
    MetadataColumn("cdc_control", "string", "control records: the table definition DMS sent, as JSON"),
)
METADATA_NAMES = tuple(column.name for column in METADATA_COLUMNS)


class ChangeRecordError(ValueError):
    """A stream record that is not a change DMS writes for a replicated table (the reason says why)."""


@dataclass(frozen=True)
class TableSpec:
    """A replicated table as the change processor knows it: key columns and every column's type."""

    key: tuple[str, ...]
    columns: Mapping[str, ColumnType]

    def lake_columns(self) -> list[tuple[str, ColumnType]]:
        """The table's lake row after the metadata: its columns, then the key as it was before an update."""
        before = [(f"{BEFORE_PREFIX}{name}", self.columns[name]) for name in self.key]
        return [*self.columns.items(), *before]


def parse_tables(text: str) -> dict[str, TableSpec]:
    """The `CHANGE_TABLES` value: `{"schema.table": {"key": [...], "columns": {name: type}}}`."""
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("CHANGE_TABLES must be a JSON object of schema.table -> {key, columns}")
    tables: dict[str, TableSpec] = {}
    for name, spec in document.items():
        columns = spec.get("columns") if isinstance(spec, dict) else None
        key = spec.get("key") if isinstance(spec, dict) else None
        if not isinstance(columns, dict) or not isinstance(key, list) or not key:
            raise ValueError(f"CHANGE_TABLES[{name!r}] needs a key list and a columns object")
        unknown = sorted({str(t) for t in columns.values()} - set(COLUMN_TYPES))
        if unknown:
            raise ValueError(f"CHANGE_TABLES[{name!r}] has column types {unknown}; allowed {list(COLUMN_TYPES)}")
        tables[name] = TableSpec(key=tuple(key), columns=dict(columns))
    return tables


def union_columns(tables: Mapping[str, TableSpec]) -> list[tuple[str, ColumnType]]:
    """Every lake column of every table, once (the Parquet schema Firehose converts all tables' rows with)."""
    seen: dict[str, ColumnType] = {}
    for spec in tables.values():
        for name, column_type in spec.lake_columns():
            seen.setdefault(name, column_type)
    return [(column.name, column.type) for column in METADATA_COLUMNS] + list(seen.items())


@dataclass(frozen=True)
class Flattened:
    """One change as the lake keeps it: its row and the partition it lands in."""

    row: dict[str, Any]
    schema: str
    table: str
    day: str  # YYYY-MM-DD (UTC) of cdc_change_at
    unmapped: tuple[str, ...] = ()  # source columns the table's settings do not list (schema drift)


def canonical_time(value: Any, what: str) -> str:
    """A UTC time as `YYYY-MM-DD HH:MM:SS.ffffff`; a time without an offset is taken as UTC."""
    moment = parse_time(value, what)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def parse_time(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or not _SOURCE_TIME.match(value.strip()):
        raise ChangeRecordError(f"{what} must be a date-time such as 2026-01-01T08:00:00.000000Z, got {value!r}")
    text = value.strip().replace(" ", "T", 1)
    text = text[:-1] + "+00:00" if text.endswith("Z") else text
    head, dot, rest = text.partition(".")
    if dot:  # Python reads at most microseconds: cut the fraction to 6 digits, keep any offset
        digits = re.match(r"\d+", rest)
        fraction = digits.group(0) if digits else ""
        text = f"{head}.{fraction[:6].ljust(6, '0')}{rest[len(fraction) :]}"
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def typed_value(value: Any, column_type: ColumnType, where: str) -> Any:
    """A source value as the lake column's type; None stays None. A value of another shape is an error."""
    if value is None:
        return None
    if column_type == "string":
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if column_type == "bigint":
        if isinstance(value, bool):
            raise ChangeRecordError(f"{where} must be a whole number, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
            return int(value)
        raise ChangeRecordError(f"{where} must be a whole number, got {value!r}")
    if column_type == "double":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value))
        except ValueError:
            raise ChangeRecordError(f"{where} must be a number, got {value!r}") from None
    if column_type == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ChangeRecordError(f"{where} must be true or false, got {value!r}")
    # timestamp: the events' own form (UTC, milliseconds, Z), which Firehose's OpenX SerDe already reads.
    moment = parse_time(value, where)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def flatten(message: Mapping[str, Any], tables: Mapping[str, TableSpec]) -> Flattened:
    """The lake row of one DMS message; raises ChangeRecordError naming what is wrong with it."""
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping):
        raise ChangeRecordError("not a DMS record: no metadata object")
    record_type = metadata.get("record-type")
    operation = metadata.get("operation")
    if record_type not in ("data", "control") or not isinstance(operation, str) or not operation:
        raise ChangeRecordError(f"record-type must be data or control with an operation, got {record_type!r}")
    name = f"{metadata.get('schema-name') or ''}.{metadata.get('table-name') or ''}"
    spec = tables.get(name)
    emitted = canonical_time(metadata.get("timestamp"), "metadata.timestamp")
    commit = metadata.get("commit-timestamp")
    change_at = canonical_time(commit, "metadata.commit-timestamp") if commit is not None else emitted
    row: dict[str, Any] = {
        "cdc_record_type": record_type,
        "cdc_operation": operation,
        "cdc_change_at": change_at,
        "cdc_emitted_at": emitted,
        "cdc_transaction_id": _text(metadata.get("transaction-id")),
        "cdc_transaction_record_id": _record_id(metadata.get("transaction-record-id")),
        "cdc_stream_position": _text(metadata.get("stream-position")),
        "cdc_control": None,
    }
    day = change_at[:10]
    if record_type == "control":
        row["cdc_control"] = json.dumps(message.get("control") or {}, separators=(",", ":"), sort_keys=True)
        if spec is None:
            return Flattened(row, DMS_SCHEMA, DMS_TABLE, day)
        schema, table = name.split(".", 1)
        return Flattened(row, schema, table, day)
    if spec is None:
        raise ChangeRecordError(f"a {operation} of {name}, which is not a replicated table")
    if operation not in DATA_OPERATIONS:
        raise ChangeRecordError(f"operation must be one of {list(DATA_OPERATIONS)}, got {operation!r}")
    data = message.get("data")
    if not isinstance(data, Mapping):
        raise ChangeRecordError(f"a {operation} of {name} without a data object")
    for column, column_type in spec.columns.items():
        row[column] = typed_value(data.get(column), column_type, f"data.{column}")
    missing = [column for column in spec.key if row[column] is None]
    if missing:
        raise ChangeRecordError(f"a {operation} of {name} without its key {missing}")
    row.update(_key_before(message, spec, row))
    unmapped = tuple(sorted(set(data) - set(spec.columns)))
    schema, table = name.split(".", 1)
    return Flattened(row, schema, table, day, unmapped)


def _key_before(message: Mapping[str, Any], spec: TableSpec, row: Mapping[str, Any]) -> dict[str, Any]:
    """`cdc_before_<key>`: the key before an update that changed it (DMS's pk-only before-image), else NULLs."""
    before = message.get(BEFORE_IMAGE_FIELD)
    values = {f"{BEFORE_PREFIX}{column}": None for column in spec.key}
    if not isinstance(before, Mapping) or not all(before.get(column) is not None for column in spec.key):
        return values  # PostgreSQL's before-image is empty when the key did not change
    old = {column: typed_value(before[column], spec.columns[column], f"{BEFORE_IMAGE_FIELD}.{column}")
           for column in spec.key}  # fmt: skip
    if all(old[column] == row[column] for column in spec.key):
        return values
    return {f"{BEFORE_PREFIX}{column}": old[column] for column in spec.key}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _record_id(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ChangeRecordError(f"metadata.transaction-record-id must be a whole number, got {value!r}")


def order_key(row: Mapping[str, Any]) -> tuple[str, int, str, int]:
    """Commit order of two changes of one key: change time, then transaction, then position within it.

    Transaction ids compare by length, then as text: numeric order for PostgreSQL's xids without
    parsing, and the same rule the warehouse SQL writes (`LENGTH(id), id`).
    """
    transaction = row.get("cdc_transaction_id") or ""
    return (str(row["cdc_change_at"]), len(transaction), transaction, int(row.get("cdc_transaction_record_id") or 0))
