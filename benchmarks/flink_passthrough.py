"""Baseline for bench_flink_local.py: the same source table, every row to a blackhole sink.

Run with the PyFlink venv: streaming/.venv/bin/python benchmarks/flink_passthrough.py FILE
It pays what every local run pays (Python start, JVM, planner, mini-cluster, reading and
parsing the file, the watermark) and none of the alert logic.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streaming.job import create_table_env, run_statements
from streaming.properties import parse_settings
from streaming.run_local import LOCAL_CONFIG
from streaming.statements import (
    file_source_options,
    query_values,
    render,
    table_config,
    with_options,
)


def main(events_file: Path) -> None:
    settings = parse_settings({})
    source = render(
        "source_events.sql",
        {**query_values(settings), "connector_options": with_options(file_source_options(events_file))},
    )
    sink = "CREATE TABLE passthrough WITH ('connector' = 'blackhole') LIKE events (EXCLUDING ALL)"
    env = create_table_env({**table_config(settings), **LOCAL_CONFIG})
    # Every physical column, so the JSON format parses each field as in the real job.
    insert = (
        "INSERT INTO passthrough SELECT eventId, action, userId, objectId, bizId, createdAt,"
        " errorMsg, receivedAt, sourceIp, userAgent, schemaVersion FROM events"
    )
    run_statements(env, [source, sink, insert]).wait()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
