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
from urllib.parse import quote_plus

import pyarrow as pa
import pyarrow.parquet as pq

from lambdas.events import StoredColumn, stored_columns
from lambdas.partitions import sort_records
from sql.lake import ARRIVAL_PARTITION_KEYS, EVENTS_PREFIX, PARTITION_KEYS, event_partition

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


def arrival_records(root: Path) -> list[dict[str, Any]]:
    """Every events object under `root` as the S3 ObjectCreated record S3 would have sent for it.

    A local file's modification time stands for the object's creation time in S3 (`eventTime`),
    which is what the partition registrar files it under.
    """
    return [
        {
            "eventTime": datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(),
            "s3": {"bucket": {"name": "local-lake"}, "object": {"key": quote_plus(path.relative_to(root).as_posix())}},
        }
        for path in sorted((root / EVENTS_PREFIX).rglob("*.parquet"))
    ]


def register_arrivals(root: Path, catalog: Path) -> int:
    """What the partition registrar does in Glue, on disk: one folder link per (arrival hour, event folder).

    `catalog/arrival_hour=H/year=…/month=…/day=…/hour=…` links to the event folder, as a Glue
    partition's location points at it, so a reader of one partition reads every file of that folder
    (as Spectrum does), and a folder that received objects in two hours is in two partitions.
    The handler's own parsing (`lambdas.partitions.sort_records`) decides the partitions.
    """
    found = sort_records(arrival_records(root))
    for partition in found.partitions:
        folder = partition.location.removeprefix("s3://local-lake/")
        link = catalog.joinpath(*(f"{k}={v}" for k, v in zip(ARRIVAL_PARTITION_KEYS, partition.values, strict=True)))
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to((root / folder).resolve(), target_is_directory=True)
    return len(found.partitions)


def create_arrivals_view(connection: Any, root: Path, catalog: Path, view_name: str) -> None:
    """Expose the lake by arrival hour, as Glue's `events_by_arrival` with registered partitions, to DuckDB.

    The partitions are registered first (`register_arrivals`); a literal bound on `arrival_hour`
    prunes them before any file is opened, as Spectrum prunes registered partitions.
    """
    if not register_arrivals(root, catalog):
        raise FileNotFoundError(f"no lake at {root}: expected Parquet files under {root / EVENTS_PREFIX}/")
    key_types = ", ".join(f"'{key}': 'VARCHAR'" for key in ARRIVAL_PARTITION_KEYS)
    glob = str(catalog.joinpath(*["*"] * len(ARRIVAL_PARTITION_KEYS), "*.parquet")).replace("'", "''")
    connection.execute(
        f"CREATE OR REPLACE VIEW {view_name} AS SELECT * FROM read_parquet('{glob}', "
        f"hive_partitioning = true, hive_types = {{{key_types}}}, union_by_name = true)"
    )
