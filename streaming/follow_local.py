"""Runs the job's SQL without end on a local mini-cluster, over a directory that event files keep arriving in.

    streaming/.venv/bin/python -m streaming.follow_local --input DIR [--window-seconds 60] \
        [--watermark-seconds 5] [--threshold 10] [--monitor-ms 200] [--set key=value ...]

The live tier's local stack (`python -m tools.live`) feeds it: every events-stream record the
ingest handler writes is appended, batch by batch, as a new JSON-lines file in DIR (written under
a hidden name and renamed, since the filesystem source skips files whose name starts with `.`).
The source is the same `events` table as on Kinesis, only with the filesystem connector and
`source.monitor-interval`, so it never ends: windows close as on Kinesis, once an event newer than
their end plus `watermark.seconds` has arrived. Each alert record the job emits is printed on
stdout as one JSON line, flushed at once; a line `{"ready": true}` says the job is running.
Runs until it is stopped.

Parallelism is 1, as in `streaming.run_local`: records reach the watermark generator in file order.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from streaming.properties import WARN_THRESHOLD, WATERMARK_SECONDS, WINDOW_SECONDS, PropertyError, parse_settings
from streaming.statements import local_statements, table_config

LOCAL_CONFIG = {"parallelism.default": "1"}


def _properties(arguments: argparse.Namespace) -> dict[str, str]:
    properties: dict[str, str] = {}
    for pair in arguments.set:
        key, separator, value = pair.partition("=")
        if not separator:
            raise PropertyError(f"--set expects key=value, got {pair!r}")
        properties[key.strip()] = value
    for key, value in ((WARN_THRESHOLD, arguments.threshold), (WINDOW_SECONDS, arguments.window_seconds),
                       (WATERMARK_SECONDS, arguments.watermark_seconds)):  # fmt: skip
        if value is not None:
            properties[key] = str(value)
    return properties


def follow(input_dir: Path, properties: dict[str, str], monitor_ms: int, out: TextIO) -> None:
    from streaming.job import create_table_env  # PyFlink only here: the argument handling runs anywhere

    settings = parse_settings(properties)
    env = create_table_env({**table_config(settings), **LOCAL_CONFIG})
    for statement in local_statements(settings, input_dir, monitor_interval_ms=monitor_ms):
        env.execute_sql(statement)
    with env.execute_sql("SELECT record FROM alert_records").collect() as rows:
        out.write(json.dumps({"ready": True}) + "\n")
        out.flush()
        for row in rows:
            out.write(row[0] + "\n")
            out.flush()


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streaming.follow_local", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--input", type=Path, required=True, help="directory new JSON-lines event files arrive in")
    parser.add_argument("--threshold", type=int, help="warn.threshold")
    parser.add_argument("--window-seconds", type=int, help="window.seconds")
    parser.add_argument("--watermark-seconds", type=int, help="watermark.seconds")
    parser.add_argument("--monitor-ms", type=int, default=200, help="how often the directory is listed (ms)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any uba property")
    arguments = parser.parse_args(argv)
    try:
        properties = _properties(arguments)
        parse_settings(properties)  # a bad flag fails before the JVM starts
        if not arguments.input.is_dir():
            raise ValueError(f"no directory at {arguments.input}")
        if arguments.monitor_ms < 10:
            raise ValueError(f"--monitor-ms must be at least 10, got {arguments.monitor_ms}")
    except (PropertyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    follow(arguments.input, properties, arguments.monitor_ms, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
