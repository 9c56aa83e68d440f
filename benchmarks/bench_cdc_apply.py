"""The warehouse's entity models on DuckDB: an incremental apply against a full rebuild, over 100,000 changes.

    .venv/bin/python -m benchmarks.bench_cdc_apply [--changes 100000] [--increment 1000] [--repeat 3]
        [--spacing-seconds 2]

The lake holds --changes change records of two replicated tables (a full load of 10,000 documents
and 50 business lines, then inserts, updates, key changes and deletes in commit order), exactly as
DMS writes them and the changes Firehose lays them out (tools.local.changes), in deliveries of
10,000. The warehouse has applied all but the last --increment of them. Measured, the same
statements the refresh runs (`sql.redshift.entities`, translated for DuckDB once, outside the
timing):
- incremental: one apply after the last delivery lands (reads what DMS emitted since the
  watermark minus the look-back, merges it into the state);
- full rebuild: the state and watermarks cleared, every change in the lake applied again.
Both end in the same state (checked). The best of --repeat runs is kept. The incremental apply reads
the look-back window (1 day) whatever the history's length, the full rebuild all of it: a longer
history (--spacing-seconds 26: 100,000 changes over 30 days) widens the gap.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from settings import ReplicatedTable
from sql.changes import change_tables
from sql.redshift import to_duckdb
from sql.redshift.entities import apply_statements, state_table
from tools import warehouse
from tools.local.changes import create_change_views, deliver_changes
from tools.local.dms import EXAMPLE_TABLES, DmsWriter

START = datetime(2026, 1, 1, tzinfo=UTC)
DELIVERY = 10_000


def history(total: int, spacing_seconds: float = 2.0, seed: int = 3) -> list[dict[str, Any]]:
    """A full load, then changes one by one in commit order, `spacing_seconds` apart."""
    rng = random.Random(seed)
    w = DmsWriter({"public.documents": ["id"], "public.business_lines": ["id"]})

    def doc(key: int, version: int) -> dict[str, Any]:
        return {"id": f"doc-{key}", "title": f"Document {key} v{version}", "category": "c", "biz_id": f"biz-{key % 50}",
                "pages": version, "published": version % 2 == 0, "updated_at": "2026-01-01 00:00:00"}  # fmt: skip

    records = [w.load("public.business_lines", {"id": f"biz-{n}", "name": f"Line {n}", "region": "eu"}, START)
               for n in range(50)]  # fmt: skip
    records += [w.load("public.documents", doc(n, 0), START) for n in range(10_000)]
    keys = 10_000
    while len(records) < total:
        t = w.transaction(START + timedelta(seconds=spacing_seconds * len(records)))
        roll = rng.random()
        if roll < 0.1:
            records.append(t.insert("public.documents", doc(keys, 0)))
            keys += 1
        elif roll < 0.15:
            records.append(t.delete("public.documents", {"id": f"doc-{rng.randrange(keys)}"}, ["id"]))
        elif roll < 0.17:
            old, new = rng.randrange(keys), keys
            keys += 1
            records.append(t.update("public.documents", doc(new, 1), old_key={"id": f"doc-{old}"}))
        else:
            records.append(t.update("public.documents", doc(rng.randrange(keys), len(records))))
    return records[:total]


def run(connection: Any, apply: Callable[[Any], None]) -> float:
    started = time.perf_counter()
    connection.execute("BEGIN TRANSACTION")
    apply(connection)
    connection.execute("COMMIT")
    return time.perf_counter() - started


def statements(sql: tuple[str, ...]) -> Callable[[Any], None]:
    def apply(connection: Any) -> None:
        for statement in sql:
            connection.execute(statement)

    return apply


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_cdc_apply", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--increment", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--spacing-seconds", type=float, default=2.0,
        help="seconds between changes: how many days of history the lake holds (2 s: 100,000 changes in 2.3 days)",
    )  # fmt: skip
    arguments = parser.parse_args()
    tables = change_tables([ReplicatedTable.model_validate(table) for table in EXAMPLE_TABLES])
    models = warehouse.EntityModels.of(tables)
    full = tuple(to_duckdb(apply_statements(tables, full=True)))
    records = history(arguments.changes, arguments.spacing_seconds)
    head, tail = records[: -arguments.increment], records[-arguments.increment :]
    incremental_times, full_times = [], []
    with tempfile.TemporaryDirectory() as workdir:
        lake = Path(workdir)
        for start in range(0, len(head), DELIVERY):
            deliver_changes(lake, tables, head[start : start + DELIVERY], f"part-{start // DELIVERY:03d}.parquet")
        for attempt in range(arguments.repeat):
            connection = warehouse.connect()
            for statement in (*warehouse.duckdb_deploy_statements(), *models.deploy):
                connection.execute(statement)
            connection.execute("INSERT INTO etl_refresh_state (lookback_days) VALUES (1)")
            create_change_views(connection, lake, tables)
            run(connection, models.apply_to)  # the state before the increment
            if attempt == 0:
                deliver_changes(lake, tables, tail, "part-last.parquet")
            create_change_views(connection, lake, tables)
            incremental_times.append(run(connection, models.apply_to))
            incremental = connection.execute(f"SELECT * FROM {state_table(tables[0])} ORDER BY 1").fetchall()
            full_times.append(run(connection, statements(full)))
            rebuilt = connection.execute(f"SELECT * FROM {state_table(tables[0])} ORDER BY 1").fetchall()
            assert rebuilt == incremental, "a full rebuild must end where the increments did"
            connection.close()
    best_incremental, best_full = min(incremental_times), min(full_times)
    days = arguments.spacing_seconds * len(records) / 86_400
    print(f"changes in the lake: {len(records)} over {days:.1f} days (last delivery: {len(tail)}, look-back: 1 day), "
          f"entities kept: {len(incremental)}")  # fmt: skip
    print(f"incremental apply: {best_incremental:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in incremental_times)})")
    print(f"full rebuild:      {best_full:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in full_times)})")
    print(f"full rebuild / incremental: {best_full / best_incremental:.1f}x")


if __name__ == "__main__":
    main()
