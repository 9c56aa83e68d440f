"""The lake's layout and schema, derived from the event contract: pure functions, no resources.

Firehose converts each stream record (camelCase JSON, see `lambdas.events.stored_record`)
to Parquet against the Glue `events` table, whose snake_case columns come from
`lambdas.events.stored_columns()`. Both the Glue columns and the OpenX JSON SerDe's
column-to-key mappings are built here from that one list, so a field added to the
contract reaches the table and the conversion together; `schema_mismatches` is the check
that they agree with an independently derived expectation.

Objects land under `events/year=YYYY/month=MM/day=DD/hour=HH/`, partitioned by the
event's own `createdAt` (always UTC with a `Z` on the stream, see `to_utc_iso`), which
Athena finds by partition projection: no crawler, no `MSCK REPAIR`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lambdas.events import STREAM_TIMESTAMP_FORMAT, LogicalType, StoredColumn, stored_columns
from sql.lake import ERRORS_PREFIX, EVENTS_PREFIX, PARTITION_KEYS

# Hive/Glue type of each contract type. Parquet timestamps from Firehose's conversion are
# read by Athena as `timestamp`; ints are 32-bit like the contract's small counters.
GLUE_TYPES: dict[LogicalType, str] = {"string": "string", "timestamp": "timestamp", "int": "int"}

# Years Athena projects partitions for. Queries always bound `year`, so the width costs
# nothing; an event claiming an earlier or later year is stored but not projected.
PROJECTED_YEARS = (2020, 2099)

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

# Glue limits a column comment to 255 characters.
_COMMENT_LIMIT = 255


@dataclass(frozen=True)
class GlueColumn:
    name: str
    type: str
    comment: str


def glue_columns(columns: Sequence[StoredColumn] | None = None) -> list[GlueColumn]:
    """The `events` table's data columns, in contract order."""
    return [
        GlueColumn(name=c.column_name, type=GLUE_TYPES[c.logical_type], comment=c.description[:_COMMENT_LIMIT])
        for c in (stored_columns() if columns is None else columns)
    ]


def json_key_mappings(columns: Sequence[StoredColumn] | None = None) -> dict[str, str]:
    """OpenX JSON SerDe `column_to_json_key_mappings`: every Glue column -> its camelCase JSON key.

    Every column is listed, identical names too, because the deserializer runs case-sensitive
    (see `delivery.py`): an explicit map leaves nothing to lower-casing rules.
    """
    return {c.column_name: c.wire_name for c in (stored_columns() if columns is None else columns)}


def _created_at_key(columns: Sequence[StoredColumn] | None = None) -> str:
    for column in stored_columns() if columns is None else columns:
        if column.column_name == "created_at":
            return column.wire_name
    raise LookupError("the event contract has no created_at column; the lake partitions by it")


def partition_query(columns: Sequence[StoredColumn] | None = None) -> str:
    """Firehose's JQ metadata-extraction query: UTC year/month/day/hour cut from the event time.

    The event time is read only in the stream's form (`lambdas.events.STREAM_TIMESTAMP`, what the
    ingest writes and what Firehose's Parquet conversion can read): then fixed slices are exact
    and cheaper than parsing. Any other value makes the query fail with the reason, so Firehose
    sends the record to `errors/` rather than filing it under the wrong hour (`+08:00` read as
    UTC) or a day that does not exist (the round trip through `fromdateiso8601` refuses
    2026-02-30). Only jq 1.6 builtins, no regular expressions.
    """
    key = _created_at_key(columns)
    slices = {"year": (0, 4), "month": (5, 7), "day": (8, 10), "hour": (11, 13)}
    fields = ", ".join(f"{name}: $t[{start}:{end}]" for name, (start, end) in slices.items())
    seconds = '($t[0:19] + "Z")'
    checks = " and ".join(
        [
            '($t | type) == "string"',
            '(($t | length) == 20 or (($t | length) >= 22 and ($t | length) <= 30 and $t[19:20] == "."))',
            '($t | endswith("Z"))',
            '$t[10:11] == "T"',
            "($t[20:-1] | explode | all(. >= 48 and . <= 57))",
            f"(try (({seconds} | fromdateiso8601 | todateiso8601) == {seconds}) catch false)",
        ]
    )
    refusal = f"{key}: not a stream timestamp ({STREAM_TIMESTAMP_FORMAT})"
    return f"(.{key}) as $t | if {checks} then {{{fields}}} else error({json.dumps(refusal)}) end"


def delivery_prefix() -> str:
    """Where Firehose writes converted events: one Hive-style partition per UTC hour of event time."""
    return EVENTS_PREFIX + "".join(f"{key}=!{{partitionKeyFromQuery:{key}}}/" for key in PARTITION_KEYS)


def error_prefix() -> str:
    """Where records that fail conversion or partitioning go, by failure type and arrival hour."""
    arrival = "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    return ERRORS_PREFIX + "!{firehose:error-output-type}/" + arrival


def events_location(bucket: str) -> str:
    return f"s3://{bucket}/{EVENTS_PREFIX}"


def projection_parameters(bucket: str) -> dict[str, str]:
    """Glue table parameters for Athena partition projection over the Firehose layout."""
    first, last = PROJECTED_YEARS
    template = events_location(bucket) + "".join(f"{key}=${{{key}}}/" for key in PARTITION_KEYS)
    return {
        "projection.enabled": "true",
        "projection.year.type": "integer",
        "projection.year.range": f"{first},{last}",
        "projection.month.type": "integer",
        "projection.month.range": "1,12",
        "projection.month.digits": "2",
        "projection.day.type": "integer",
        "projection.day.range": "1,31",
        "projection.day.digits": "2",
        "projection.hour.type": "integer",
        "projection.hour.range": "0,23",
        "projection.hour.digits": "2",
        "storage.location.template": template,
    }


def schema_mismatches(
    expected: Mapping[str, str],
    table_columns: Sequence[Mapping[str, str]],
    key_mappings: Mapping[str, str],
) -> list[str]:
    """Where the Glue columns or the conversion's key mappings disagree with the contract.

    `expected` maps each JSON key of the contract to its Glue type; `table_columns` are the
    table's `{"name", "type"}` columns and `key_mappings` the SerDe's column -> key map. An
    empty list means every contract field is a column of the right type that Firehose fills
    from the right key, and nothing else is.
    """
    problems: list[str] = []
    types = {column["name"]: column["type"] for column in table_columns}
    filled_from = {key: column for column, key in key_mappings.items()}
    for key, glue_type in expected.items():
        column = filled_from.get(key)
        if column is None:
            problems.append(f"contract field {key!r} is not mapped to any column")
        elif column not in types:
            problems.append(f"contract field {key!r} maps to {column!r}, which the Glue table lacks")
        elif types[column] != glue_type:
            problems.append(f"column {column!r} is {types[column]} in Glue, the contract says {glue_type}")
    for column, key in key_mappings.items():
        if key not in expected:
            problems.append(f"column {column!r} is filled from {key!r}, which the contract does not define")
    for name in types.keys() - key_mappings.keys():
        problems.append(f"Glue column {name!r} is filled from no JSON key")
    return problems
