"""How many lake objects one hourly warehouse refresh reads, against how many can hold new rows.

    python -m benchmarks.bench_warehouse_refresh [--days 60] [--lookback-days 3] [--late-days 10]

Builds a local lake of `--days` days laid out as Firehose writes it (`events/year=/month=/day=/hour=/`,
one Parquet file per hour, `sql.lake`), each object created in S3 (here: its modification time) a
minute after its hour closes, as Firehose's buffer flushes it. It builds the warehouse over it on
DuckDB exactly as `tools.warehouse` does (the `sql/redshift/` files, translated with sqlglot), then
one new hour arrives, together with one late event created `--late-days` before (so in an old
event-hour folder). It runs the refresh's only lake read under EXPLAIN ANALYZE, which reports the
files the scan opened:

- `before`: the read as deployed before the partition registrar (`stage_statement(None)`, the old
  step 2 verbatim): `ods.events_spectrum` bounded only by a scalar subquery on the watermark,
  which no engine turns into a file or partition filter, so every object is opened (Spectrum also
  lists the whole prefix, and pays Glacier Instant Retrieval for every old object it opens).
- `after`: the read as deployed now, what `CALL uba_stage_lake_events()` runs: `ods.events_by_arrival`
  with the literal bound `arrival_hour >= 'YYYYMMDDHH'` (watermark - look-back), over the partitions
  the registrar registers (here `tools.local.lake.register_arrivals`, with the handler's own parsing),
  pruned before any file is opened, as Spectrum prunes registered partitions.
- `event-hour bound`: for comparison, a literal bound on the event-time partition columns instead
  (`year || month || day || hour >= watermark - look-back - 1 day`): fewer objects, but it misses
  the late event, whose folder is older than any such bound.

It prints what each read opens against the objects that can hold new rows (those created since the
last refresh) and those the look-back must re-read (created since watermark - look-back), and
whether each read found the late event.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from lambdas.events import to_utc_iso
from sql.lake import EVENTS_PREFIX, arrival_hour
from sql.redshift import RefreshParameters, stage_statement, to_duckdb
from tools import warehouse
from tools.local.lake import write_lake
from tools.progress import ticking

LAKE_START = datetime(2026, 1, 1, tzinfo=UTC)
EVENTS_PER_HOUR = 4
# Firehose flushes an hour's buffer shortly after the hour: the object is created in the next one.
DELIVERY_DELAY = timedelta(hours=1, minutes=1)
_FILES_READ = re.compile(r"Total Files Read:\s*(\d+)")
_STAGE_CALL = warehouse.STAGE_CALL


def hour_events(hour: datetime, tag: str, received: datetime | None = None) -> list[dict[str, Any]]:
    """A few events created in `hour`, each received a second later (or at `received`)."""
    return [
        {
            "eventId": f"{tag}-{hour:%Y%m%d%H}-{n}",
            "action": ("viewDoc", "buy", "search", "share")[n % 4],
            "userId": f"user-{(hour.hour + n) % 25:02d}",
            "objectId": "doc-1",
            "bizId": "biz-1",
            "createdAt": to_utc_iso(hour + timedelta(minutes=10 * n)),
            "receivedAt": to_utc_iso(received or hour + timedelta(minutes=10 * n, seconds=1)),
            "schemaVersion": 1,
        }
        for n in range(EVENTS_PER_HOUR)
    ]


def deliver(root: Path, records: list[dict[str, Any]], file_name: str, created: datetime) -> list[Path]:
    """Write records as Firehose would, the objects created in S3 at `created` (their modification time)."""
    written = write_lake(root, records, file_name=file_name)
    for path in written:
        os.utime(path, (created.timestamp(), created.timestamp()))
    return written


def build_lake(root: Path, days: int) -> datetime:
    """One file per hour for `days` days, each delivered after its hour; returns the first hour after the lake."""
    hour = LAKE_START
    end = LAKE_START + timedelta(days=days)
    while hour < end:
        deliver(root, hour_events(hour, "old"), "part-0000.parquet", hour + DELIVERY_DELAY)
        hour += timedelta(hours=1)
    return end


def lake_files(root: Path) -> list[Path]:
    return sorted((root / EVENTS_PREFIX).rglob("*.parquet"))


def created_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


@dataclass(frozen=True)
class Read:
    name: str
    files_opened: int
    found_late_event: bool


def files_read(connection: duckdb.DuckDBPyConnection, statement: str) -> int:
    """Files the lake read opens, run where the refresh runs it (after steps 1 and 2's DELETE); rolled back."""
    statements = warehouse.duckdb_refresh_statements(RefreshParameters(), False)
    connection.execute("BEGIN TRANSACTION")
    try:
        for earlier in statements[: statements.index(_STAGE_CALL)]:
            connection.execute(earlier)
        plan = "\n".join(str(row[1]) for row in connection.execute(f"EXPLAIN ANALYZE {statement}").fetchall())
    finally:
        connection.execute("ROLLBACK")
    opened = [int(n) for n in _FILES_READ.findall(plan)]
    if not opened:
        raise RuntimeError("EXPLAIN ANALYZE reported no 'Total Files Read'; this DuckDB prints plans differently")
    return sum(opened)


def finds(connection: duckdb.DuckDBPyConnection, statement: str, event_id: str) -> bool:
    """Whether the read stages `event_id` (run in a transaction that is rolled back)."""
    statements = warehouse.duckdb_refresh_statements(RefreshParameters(), False)
    connection.execute("BEGIN TRANSACTION")
    try:
        for earlier in statements[: statements.index(_STAGE_CALL)]:
            connection.execute(earlier)
        connection.execute(statement)
        row = connection.execute("SELECT COUNT(*) FROM etl_staged_events WHERE event_id = ?", [event_id]).fetchone()
    finally:
        connection.execute("ROLLBACK")
    return row is not None and row[0] > 0


def event_hour_bounded(before: str, floor: str) -> str:
    """The old read with a literal lower bound on the event-time partition columns instead."""
    return f"{before} AND e.year || e.month || e.day || e.hour >= '{floor}'"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_warehouse_refresh", description=__doc__)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--lookback-days", type=int, default=3)
    parser.add_argument(
        "--late-days", type=int, default=10, help="how long before its arrival the late event was created"
    )
    options = parser.parse_args(argv)
    parameters = RefreshParameters(lookback_days=options.lookback_days)

    # Files are counted, not timed, so a clock on the terminal changes no figure.
    with tempfile.TemporaryDirectory() as scratch, ticking("building the lake and counting the objects read"):
        lake, catalog = Path(scratch) / "lake", Path(scratch) / "catalog"
        new_hour = build_lake(lake, options.days)
        connection = warehouse.connect()
        warehouse.refresh(connection, lake, parameters)  # the warehouse as of the last hourly run
        row = connection.execute("SELECT watermark FROM etl_refresh_state").fetchone()
        assert row is not None
        watermark: datetime = row[0].replace(tzinfo=UTC)
        last_refresh = max(created_at(path) for path in lake_files(lake))

        arrival = new_hour + DELIVERY_DELAY
        new_files = deliver(lake, hour_events(new_hour, "new"), "part-new.parquet", arrival)
        late_hour = new_hour - timedelta(days=options.late_days)
        late_files = deliver(lake, hour_events(late_hour, "late", new_hour), "part-late.parquet", arrival)
        late_event = f"late-{late_hour:%Y%m%d%H}-0"
        warehouse.create_lake_views(connection, lake, catalog)

        floor = warehouse.arrival_floor(connection)
        assert floor == arrival_hour(watermark - timedelta(days=options.lookback_days))
        before = to_duckdb([stage_statement(None)])[0]
        after = to_duckdb([stage_statement(floor)])[0]
        event_floor = f"{watermark - timedelta(days=options.lookback_days + 1):%Y%m%d%H}"
        reads = [
            Read(name, files_read(connection, statement), finds(connection, statement, late_event))
            for name, statement in (
                ("before", before),
                ("after", after),
                ("event-hour bound", event_hour_bounded(before, event_floor)),
            )
        ]
        everything = lake_files(lake)
        since_refresh = [path for path in everything if created_at(path) > last_refresh]
        in_look_back = [path for path in everything if arrival_hour(created_at(path)) >= floor]

    print(
        f"lake: {options.days} days, one object per hour ({len(everything) - len(since_refresh)}), "
        f"then 1 new hour and 1 late event created {options.late_days} d earlier ({len(since_refresh)} objects)"
    )
    print(
        f"watermark before the run: {watermark:%Y-%m-%d %H:%M:%S}; look-back {options.lookback_days} d; "
        f"arrival bound {floor}"
    )
    print(
        f"objects that can hold new rows: {len(since_refresh)} created since the last refresh "
        f"({len(new_files)} new, {len(late_files)} late); {len(in_look_back)} created within the look-back"
    )
    for read in reads:
        late = "finds" if read.found_late_event else "MISSES"
        print(f"  {read.name:<17} opens {read.files_opened:>5} objects per run; {late} the late event")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
