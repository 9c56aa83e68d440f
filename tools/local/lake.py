"""Write and describe a local copy of the lake in exactly the layout Firehose produces.

Firehose converts each stream record to Parquet against the Glue table and writes it
under `events/year=YYYY/month=MM/day=DD/hour=HH/`, partitioned by the event's own
`createdAt` in UTC. The local query and warehouse tools read this same layout, so a
directory written here stands in for the bucket in tests and on a laptop.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pyarrow as pa
import pyarrow.parquet as pq

from lambdas.events import StoredColumn, parse_stream_timestamp, stored_columns
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
    """A timestamp column's value: an aware datetime (built in Python) or the stream's text form.

    Text is read exactly as Firehose's deserializer reads it (`lambdas.events.STREAM_TIMESTAMP`),
    so a record Firehose would send to `errors/` is refused here too, not quietly converted.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"timestamp without an offset: {value!r}")
        return value.astimezone(UTC)
    return parse_stream_timestamp(value)


def _row(record: Mapping[str, Any], columns: list[StoredColumn]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in columns:
        value = record.get(column.wire_name)
        if value is not None and column.logical_type == "timestamp":
            try:
                value = _parse_timestamp(value)
            except ValueError as error:
                raise ValueError(f"record {record.get('eventId')!r}, {column.wire_name}: {error}") from None
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


# Firehose names each object `<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<random>`, the time being when
# it wrote the object; with Parquet conversion it adds `.parquet`.
DELIVERY_STREAM_NAME = "uba-local-events"


def delivery_file_name(stream_name: str, delivered_at: datetime, tag: str) -> str:
    """An object name as Firehose gives it; `tag` stands for Firehose's random part (a UUID-shaped digest)."""
    digest = hashlib.sha256(tag.encode("utf-8")).hexdigest()
    random_part = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    return f"{stream_name}-1-{delivered_at.astimezone(UTC):%Y-%m-%d-%H-%M-%S}-{random_part}.parquet"


def deliver(
    root: Path,
    records: Iterable[Mapping[str, Any]],
    *,
    delivery_window: timedelta = timedelta(hours=1),
    stream_name: str = DELIVERY_STREAM_NAME,
    on_object: Callable[[Path], object] = lambda path: None,
) -> list[Path]:
    """Write stream records under `root` as Firehose's deliveries would land them, in arrival order.

    Records are buffered by `receivedAt` into windows of `delivery_window`; each window writes one
    object per event-hour folder it holds (`events/year=…/hour=…/`, by `createdAt` in UTC), named
    as Firehose names objects and with its modification time at the window's end, the moment the
    object "arrived" (what the partition registrar and the warehouse's incremental refresh go by).
    So an event received days after it happened lands in its old hour's folder, in a new object
    that arrived late, exactly as in the bucket. Firehose's own buffer is at most 900 s; a longer
    window only makes fewer, larger objects of the same rows.
    """
    if delivery_window <= timedelta(0):
        raise ValueError(f"delivery_window must be positive, got {delivery_window}")
    columns = stored_columns()
    schema = arrow_schema(columns)
    window_seconds = delivery_window.total_seconds()
    batches: dict[tuple[datetime, str], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        row = _row(record, columns)
        received = row["received_at"]
        if received is None:
            raise ValueError(f"record {record.get('eventId')!r} has no receivedAt; a delivery needs one")
        window_start = received.timestamp() // window_seconds * window_seconds
        delivered_at = datetime.fromtimestamp(window_start + window_seconds, UTC) - timedelta(milliseconds=1)
        batches[(delivered_at, event_partition(row["created_at"]))].append(row)

    written: list[Path] = []
    for (delivered_at, partition), rows in sorted(batches.items()):
        directory = root / partition
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / delivery_file_name(stream_name, delivered_at, f"{partition}{delivered_at.isoformat()}")
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
        os.utime(path, (delivered_at.timestamp(), delivered_at.timestamp()))
        written.append(path)
        on_object(path)
    return written


def lake_days(root: Path) -> list[date]:
    """The UTC days that have at least one events object under `root`, in order (from the folder names)."""
    days = set()
    for path in (root / EVENTS_PREFIX).glob("year=*/month=*/day=*/hour=*/*.parquet"):
        parts = dict(part.split("=", 1) for part in path.parent.relative_to(root / EVENTS_PREFIX).parts)
        try:
            days.add(date(int(parts["year"]), int(parts["month"]), int(parts["day"])))
        except (KeyError, ValueError):
            continue  # not the layout's folder; nothing the queries would read either
    return sorted(days)


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
