"""How many lake objects one hourly warehouse refresh reads, against how many can hold new rows.

    python -m benchmarks.bench_warehouse_refresh [--days 60] [--lookback-days 3] [--late-days 1]

Builds a local lake of `--days` days laid out as Firehose writes it (`events/year=/month=/day=/hour=/`,
one Parquet file per hour, `sql.lake`), builds the warehouse over it on DuckDB exactly as
`tools.warehouse` does (the deployed `sql/redshift/` files, translated with sqlglot), adds one new
hour, and then runs the refresh's only lake read (step 2 of `refresh.sql`) under EXPLAIN ANALYZE,
which reports the files the scan opened:

- `deployed`: the statement as the stack deploys it. Its only bound is `received_at > (scalar
  subquery on etl_refresh_state)`, which no engine can turn into a file or partition filter, so every
  object of the lake is opened (Spectrum also lists the whole prefix, and pays Glacier Instant
  Retrieval for every old object it opens).
- `partition-bounded`: the same statement plus a bound on the partition columns written as a
  literal (`year || month || day || hour >= 'YYYYMMDDHH'`, the hour of `watermark - lookback -
  late days`), which DuckDB (hive partitions) and Spectrum (registered partitions) prune before
  opening anything. It is what the refresh needs; it is not deployed yet, because Spectrum prunes
  only partitions registered in Glue and the lake's table has projected ones (see the warehouse
  section of the README).

It prints the objects each read opens against the objects that can hold new rows: the files that
arrived since the last refresh, and the files of the hours the look-back must re-read.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from sql.lake import EVENTS_PREFIX
from sql.redshift import RefreshParameters
from tools import warehouse
from tools.local.lake import create_events_view, write_lake

LAKE_START = datetime(2026, 1, 1, tzinfo=UTC)
EVENTS_PER_HOUR = 4
_FILES_READ = re.compile(r"Total Files Read:\s*(\d+)")
_STAGING = "INSERT INTO etl_staged_events"


def hour_events(hour: datetime, tag: str) -> list[dict[str, Any]]:
    """A few events created in `hour`, each received a second later."""
    return [
        {
            "eventId": f"{tag}-{hour:%Y%m%d%H}-{n}",
            "action": ("viewDoc", "buy", "search", "share")[n % 4],
            "userId": f"user-{(hour.hour + n) % 25:02d}",
            "objectId": "doc-1",
            "bizId": "biz-1",
            "createdAt": (hour + timedelta(minutes=10 * n)).isoformat(),
            "receivedAt": (hour + timedelta(minutes=10 * n, seconds=1)).isoformat(),
            "schemaVersion": 1,
        }
        for n in range(EVENTS_PER_HOUR)
    ]


def build_lake(root: Path, days: int) -> datetime:
    """One file per hour for `days` days; returns the first hour after the lake."""
    hour = LAKE_START
    end = LAKE_START + timedelta(days=days)
    while hour < end:
        write_lake(root, hour_events(hour, "old"), file_name="part-0000.parquet")
        hour += timedelta(hours=1)
    return end


def lake_files(root: Path) -> list[Path]:
    return sorted((root / EVENTS_PREFIX).rglob("*.parquet"))


def partition_hour(path: Path) -> str:
    """`YYYYMMDDHH` of a file's hive partition, as the partition columns concatenate."""
    parts = dict(part.split("=", 1) for part in path.parent.parts if "=" in part)
    return parts["year"] + parts["month"] + parts["day"] + parts["hour"]


@dataclass(frozen=True)
class Read:
    name: str
    files_opened: int


def files_read(connection: duckdb.DuckDBPyConnection, lake: Path, statement: str, parameters: RefreshParameters) -> int:
    """Files the lake read opens, run where the refresh runs it (after steps 1 and 2's DELETE); rolled back."""
    statements = warehouse.duckdb_refresh_statements(parameters, False)
    staging_index = next(i for i, s in enumerate(statements) if s.startswith(_STAGING))
    create_events_view(connection, lake, warehouse.ODS_EVENTS_VIEW)
    connection.execute("BEGIN TRANSACTION")
    try:
        for earlier in statements[:staging_index]:
            connection.execute(earlier)
        plan = "\n".join(str(row[1]) for row in connection.execute(f"EXPLAIN ANALYZE {statement}").fetchall())
    finally:
        connection.execute("ROLLBACK")
    found = _FILES_READ.search(plan)
    if found is None:
        raise RuntimeError("EXPLAIN ANALYZE reported no 'Total Files Read'; this DuckDB prints plans differently")
    return int(found.group(1))


def partition_bounded(statement: str, floor: str) -> str:
    """The deployed lake read with a literal lower bound on the partition columns."""
    return f"{statement} AND e.year || e.month || e.day || e.hour >= '{floor}'"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_warehouse_refresh", description=__doc__)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--lookback-days", type=int, default=3)
    parser.add_argument("--late-days", type=int, default=1, help="how long before its arrival an event may be created")
    options = parser.parse_args(argv)
    parameters = RefreshParameters(lookback_days=options.lookback_days)

    with tempfile.TemporaryDirectory() as scratch:
        lake = Path(scratch) / "lake"
        new_hour = build_lake(lake, options.days)
        connection = warehouse.connect()
        warehouse.refresh(connection, lake, parameters)  # the warehouse as of the last hourly run
        row = connection.execute("SELECT watermark FROM etl_refresh_state").fetchone()
        assert row is not None
        watermark: datetime = row[0]
        new_files = write_lake(lake, hour_events(new_hour, "new"), file_name="part-new.parquet")

        statements = warehouse.duckdb_refresh_statements(parameters, False)
        deployed = next(s for s in statements if s.startswith(_STAGING))
        floor_time = watermark - timedelta(days=options.lookback_days + options.late_days)
        floor = f"{floor_time:%Y%m%d%H}"
        reads = [
            Read("deployed", files_read(connection, lake, deployed, parameters)),
            Read("partition-bounded", files_read(connection, lake, partition_bounded(deployed, floor), parameters)),
        ]
        everything = lake_files(lake)
        look_back_floor = f"{watermark - timedelta(days=options.lookback_days):%Y%m%d%H}"
        in_look_back = [path for path in everything if partition_hour(path) >= look_back_floor]

    print(f"lake: {options.days} days, {len(everything)} objects (one per hour), then 1 new hour")
    print(f"watermark before the run: {watermark:%Y-%m-%d %H:%M:%S}; look-back {options.lookback_days} d, "
          f"late events up to {options.late_days} d; partition floor {floor}")  # fmt: skip
    print(f"objects that can hold new rows: {len(new_files)} new; {len(in_look_back)} within the look-back")
    for read in reads:
        print(f"  {read.name:<18} opens {read.files_opened:>5} objects per run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
