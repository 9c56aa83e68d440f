"""Write and describe a local copy of the lake in exactly the layout Firehose produces.

Firehose converts each stream record to Parquet against the Glue table and writes it
under `events/year=YYYY/month=MM/day=DD/hour=HH/`, partitioned by the event's own
`createdAt` in UTC. The local query and warehouse tools read this same layout, so a
directory written here stands in for the bucket in tests and on a laptop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lambdas.events import StoredColumn, stored_columns
from sql.lake import EVENTS_PREFIX, PARTITION_KEYS, event_partition

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "timestamp": pa.timestamp("ms", tz="UTC"),
    "int": pa.int32(),
}


def arrow_schema(columns: list[StoredColumn] | None = None) -> pa.Schema:
    """The Parquet schema of a lake file: the stored columns, snake_case, as Glue declares them."""
    return pa.schema([pa.field(c.column_name, _ARROW_TYPES[c.logical_type]) for c in columns or stored_columns()])


def _parse_timestamp(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {value!r}")
    return moment.astimezone(UTC)


def _row(record: Mapping[str, Any], columns: list[StoredColumn]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in columns:
        value = record.get(column.wire_name)
        if value is not None and column.logical_type == "timestamp":
            value = _parse_timestamp(value)
        row[column.column_name] = value
    return row


def write_lake(root: Path, records: Iterable[Mapping[str, Any]], file_name: str = "part-0000.parquet") -> list[Path]:
    """Write stream records (camelCase JSON objects) as Parquet files under `root`.

    Records are grouped by the UTC hour of `createdAt`; calling again with another
    `file_name` adds a file to existing partitions, the way a later Firehose
    delivery does (this is how tests stage late-arriving data).
    """
    columns = stored_columns()
    schema = arrow_schema(columns)
    by_partition: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        row = _row(record, columns)
        by_partition[event_partition(row["created_at"])].append(row)

    written: list[Path] = []
    for partition, rows in sorted(by_partition.items()):
        directory = root / partition
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / file_name
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
        written.append(path)
    return written


def events_glob(root: Path) -> str:
    """The glob that matches every Parquet file of the events table under `root`."""
    return str(root / EVENTS_PREFIX / "*" / "*" / "*" / "*" / "*.parquet")


def create_events_view(connection: Any, root: Path, view_name: str = "events") -> None:
    """Expose the lake under `root` as a DuckDB view shaped like the Glue `events` table.

    Partition keys stay strings (`'2026'`, `'01'`), exactly as Glue declares them and
    partition projection renders them, so SQL that filters on them behaves the same
    here as in Athena and Redshift Spectrum. `connection` is a `duckdb.DuckDBPyConnection`.
    """
    if not (root / EVENTS_PREFIX).is_dir():
        raise FileNotFoundError(f"no lake at {root}: expected Parquet files under {root / EVENTS_PREFIX}/")
    key_types = ", ".join(f"'{key}': 'VARCHAR'" for key in PARTITION_KEYS)
    glob = events_glob(root).replace("'", "''")
    connection.execute(
        f"CREATE OR REPLACE VIEW {view_name} AS SELECT * FROM read_parquet('{glob}', "
        f"hive_partitioning = true, hive_types = {{{key_types}}}, union_by_name = true)"
    )
