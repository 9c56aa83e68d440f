"""Runs the job's SQL on a local PyFlink mini-cluster over JSON-lines files of events.

    streaming/.venv/bin/python -m streaming.run_local --events events.jsonl [--threshold 10] \
        [--window-seconds 60] [--watermark-seconds 5] [--set key=value ...]
    streaming/.venv/bin/python -m streaming.run_local --scenarios scenarios.json

Each input line is one record as it sits on the events stream (`stored_record()`).
The query files are the ones the Kinesis job runs; only the source (the filesystem
connector, json format) and the sink (rows collected here instead of the alerts
stream) differ. Output: one alert record per line, the same JSON as on the alerts
stream; with --scenarios, one line per scenario: {"scenario": name, "records": [...]}.

End of input: the file source is bounded, and a bounded source emits a final
watermark at +infinity when it finishes, so every window still open fires and the
last minute of the file is reported too (on Kinesis, a window fires only once an
event newer than its end + watermark.seconds arrives).

Parallelism is 1 so that records reach the watermark generator in file order; that
makes "late" a property of the file and the watermark setting, not of scheduling.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from streaming.fetch_connector import DEFAULT_JAR_PATH
from streaming.properties import (
    ALERTS_STREAM_ARN,
    EVENTS_CONSUMER_NAME,
    EVENTS_STREAM_ARN,
    WARN_THRESHOLD,
    WATERMARK_SECONDS,
    WINDOW_SECONDS,
    PropertyError,
    parse_settings,
)
from streaming.statements import STREAM_TIMESTAMP_PATTERN, kinesis_statements, local_statements, table_config

LOCAL_CONFIG = {"parallelism.default": "1"}
# Stand-ins for --explain-kinesis: the plan needs ARNs and a consumer name, not streams that exist.
EXAMPLE_STREAMS = {
    EVENTS_STREAM_ARN: "arn:aws:kinesis:eu-west-1:123456789012:stream/uba-events",
    ALERTS_STREAM_ARN: "arn:aws:kinesis:eu-west-1:123456789012:stream/uba-alerts",
    EVENTS_CONSUMER_NAME: "uba-anomaly-detection",
}


@dataclass(frozen=True)
class Scenario:
    """A named file of events and the `uba` properties to run it with."""

    name: str
    events_file: Path
    properties: Mapping[str, str] = field(default_factory=dict)


def run_scenarios(scenarios: Sequence[Scenario]) -> dict[str, list[dict[str, Any]]]:
    """Alert records per scenario, in the order the mini-cluster emits them.

    Starting a job costs seconds, so scenarios that share the job-wide table settings run
    as one job: each gets its own database holding its own source table and views (its
    own watermark and windows, rendered with its own properties), and only the finished
    alert records meet, in one UNION ALL that is collected here.
    """
    results: dict[str, list[dict[str, Any]]] = {scenario.name: [] for scenario in scenarios}
    groups: dict[tuple[tuple[str, str], ...], list[Scenario]] = {}
    for scenario in scenarios:
        config = table_config(parse_settings(scenario.properties))
        groups.setdefault(tuple(sorted(config.items())), []).append(scenario)
    for config_items, members in groups.items():
        for name, record in _run_one_job(dict(config_items), members):
            results[name].append(record)
    return results


def _table_env(config: Mapping[str, str]) -> Any:
    # Imported here, not at the top, so the input handling above runs (and is tested)
    # in the main virtualenv, which has no PyFlink.
    from streaming.job import create_table_env

    return create_table_env({**config, **LOCAL_CONFIG})


def _run_one_job(config: Mapping[str, str], scenarios: Sequence[Scenario]) -> Iterator[tuple[str, dict[str, Any]]]:
    env = _table_env(config)
    branches = []
    for index, scenario in enumerate(scenarios):
        database = f"scenario_{index}"
        env.execute_sql(f"CREATE DATABASE {database}")
        env.use_database(database)
        for statement in local_statements(parse_settings(scenario.properties), scenario.events_file):
            env.execute_sql(statement)
        branches.append(f"SELECT {index} AS scenario, record FROM {database}.alert_records")
    env.use_database("default_database")
    # Collected as Arrow batches (to_pandas), not row by row: `collect()` makes two py4j calls per
    # row, which doubled the run time of a three-month sample (~15,000 alert records).
    frame = env.sql_query("\nUNION ALL\n".join(branches)).to_pandas()
    for index, record in zip(frame["scenario"], frame["record"], strict=True):
        yield scenarios[int(index)].name, json.loads(record)


def explain_kinesis(properties: Mapping[str, str]) -> dict[str, str]:
    """Plan the Kinesis job (source, views, sink, INSERT) without running it.

    With the connector JAR in streaming/lib/ the answer is {"plan": ...}: the connector
    accepted the WITH options and the INSERT plans. Without it, the first view fails where
    Flink looks up the `kinesis` factory and the answer is {"error": ...} saying so.
    """
    settings = parse_settings({**EXAMPLE_STREAMS, **properties})
    config = table_config(settings)
    if DEFAULT_JAR_PATH.is_file():
        config["pipeline.jars"] = DEFAULT_JAR_PATH.as_uri()
    env = _table_env(config)
    *definitions, insert = kinesis_statements(settings)
    try:
        for statement in definitions:
            env.execute_sql(statement)
        return {"plan": env.explain_sql(insert)}
    except Exception as error:  # py4j wraps the planner's exception; its message is the answer
        lines = [line for line in str(error).splitlines() if line.strip() and not line.startswith("\t")]
        return {"error": "\n".join(lines)}


def _event_lines(events: list[Any]) -> str:
    # A string is written as it is, so a scenario can hold a malformed line on purpose.
    return "".join((event if isinstance(event, str) else json.dumps(event)) + "\n" for event in events)


def load_scenarios(source: Path, workdir: Path) -> list[Scenario]:
    """Scenarios from a JSON file ({name: {"events": [...], "properties": {...}}}) or a directory.

    In a directory every `NAME.jsonl` is a scenario; `NAME.properties.json` beside it, if
    present, holds its properties as a JSON object.
    """
    if source.is_dir():
        scenarios = []
        for events_file in sorted(source.glob("*.jsonl")):
            properties_file = events_file.with_suffix(".properties.json")
            properties = json.loads(properties_file.read_text()) if properties_file.exists() else {}
            scenarios.append(Scenario(events_file.stem, events_file, properties))
        if not scenarios:
            raise ValueError(f"{source} holds no *.jsonl scenario files")
        return scenarios
    document = json.loads(source.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not document:
        raise ValueError(f"{source} must hold a non-empty JSON object of scenarios")
    scenarios = []
    for index, (name, spec) in enumerate(document.items()):
        if not isinstance(spec, dict) or not isinstance(spec.get("events"), list):
            raise ValueError(f"scenario {name!r} in {source} needs an 'events' list")
        events_file = workdir / f"{index:03d}.jsonl"
        events_file.write_text(_event_lines(spec["events"]), encoding="utf-8")
        scenarios.append(Scenario(name, events_file, spec.get("properties", {})))
    return scenarios


def _properties(arguments: argparse.Namespace) -> dict[str, str]:
    properties: dict[str, str] = {}
    for pair in arguments.set:
        key, separator, value = pair.partition("=")
        if not separator:
            raise PropertyError(f"--set expects key=value, got {pair!r}")
        properties[key.strip()] = value
    for key, value in (
        (WARN_THRESHOLD, arguments.threshold),
        (WINDOW_SECONDS, arguments.window_seconds),
        (WATERMARK_SECONDS, arguments.watermark_seconds),
    ):
        if value is not None:
            properties[key] = str(value)
    return properties


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m streaming.run_local", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--events", type=Path, help="JSON-lines file, one events-stream record per line")
    inputs.add_argument("--scenarios", type=Path, help="JSON file or directory of scenarios, run in one JVM")
    parser.add_argument("--threshold", type=int, help="warn.threshold")
    parser.add_argument("--window-seconds", type=int, help="window.seconds")
    parser.add_argument("--watermark-seconds", type=int, help="watermark.seconds")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any uba property")
    parser.add_argument(
        "--explain-kinesis",
        action="store_true",
        help="also plan the Kinesis job and print the plan or the error",
    )
    return parser.parse_args(argv)


def _print(line: dict[str, Any], out: TextIO) -> None:
    out.write(json.dumps(line, sort_keys=True) + "\n")
    out.flush()


@dataclass
class FileCheck:
    """What the job will make of an events file: how many records it reads, and the lines it cannot use."""

    records: int = 0
    problems: list[str] = field(default_factory=list)  # "line N: ..." in file order


def check_events_file(path: Path) -> FileCheck:
    """Read the file as the job will, so the lines it would skip or keep out of windows are named.

    The job skips what is not a JSON object (`json.ignore-parse-errors`, as on Kinesis, where one
    bad record must not stop it) and keeps an event whose createdAt is not a stream timestamp out
    of every window; both happen without a word, so they are reported here, before the JVM starts.
    """
    check = FileCheck()
    stream_timestamp = re.compile(STREAM_TIMESTAMP_PATTERN)
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                check.problems.append(f"line {number}: empty")
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                check.problems.append(f"line {number}: not JSON ({error}); skipped")
                continue
            if not isinstance(record, dict):
                check.problems.append(f"line {number}: not a JSON object; skipped")
                continue
            check.records += 1
            created_at = record.get("createdAt")
            if not (isinstance(created_at, str) and stream_timestamp.fullmatch(created_at)):
                check.problems.append(
                    f"line {number}: createdAt {created_at!r} is not a stream timestamp (UTC, "
                    "e.g. 2026-03-01T12:15:00.250Z); the event is left out of every window"
                )
    return check


def _report(path: Path, check: FileCheck, err: TextIO, shown: int = 10) -> None:
    for problem in check.problems[:shown]:
        err.write(f"warning: {path} {problem}\n")
    if len(check.problems) > shown:
        err.write(f"warning: {path}: {len(check.problems) - shown} more lines like these\n")


class _Counter:
    """Periodic counts on stderr while the job runs, only when stderr is a terminal (no tqdm here:
    the Flink virtualenv holds only what the job needs)."""

    def __init__(self, records: int, err: TextIO) -> None:
        self.records, self.err, self.alerts = records, err, 0
        self.started = time.monotonic()
        self.enabled = err.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="run-local-progress", daemon=True)

    def __enter__(self) -> _Counter:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._stop.set()
            self._thread.join()
            self.err.write("\r\x1b[K")
            self.err.flush()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            elapsed = time.monotonic() - self.started
            state = f", {self.alerts} alert records out" if self.alerts else ""
            self.err.write(f"\rrunning the job on {self.records} records{state} ({elapsed:.0f} s)\x1b[K")
            self.err.flush()


def _summary(check: FileCheck, records: list[dict[str, Any]]) -> str:
    kinds = Counter(record.get("alertType") for record in records)
    by_kind = ", ".join(f"{kinds[kind]} {kind}" for kind in ("error", "warn_burst", "counts"))
    return f"{check.records} events-stream records in, {len(records)} alert records out ({by_kind})"


def _run_events_file(events: Path, properties: Mapping[str, str], out: TextIO, err: TextIO) -> None:
    if not events.is_file():
        raise ValueError(f"no events file at {events}")
    check = check_events_file(events)
    if not check.records:
        first = check.problems[0].removesuffix("; skipped") if check.problems else "the file is empty"
        raise ValueError(f"{events} holds no events-stream record (one JSON object per line): {first}")
    _report(events, check, err)
    emitted: list[dict[str, Any]] = []
    with _Counter(check.records, err) as progress:
        for record in run_scenarios([Scenario("events", events, properties)])["events"]:
            _print(record, out)
            emitted.append(record)
            progress.alerts += 1
    err.write(_summary(check, emitted) + "\n")


def main(argv: list[str] | None = None, out: TextIO = sys.stdout, err: TextIO | None = None) -> int:
    arguments = _arguments(argv)
    err = sys.stderr if err is None else err
    try:
        properties = _properties(arguments)
        parse_settings(properties)  # a bad flag fails before the JVM starts
        if arguments.events:
            _run_events_file(arguments.events, properties, out, err)
        else:
            with tempfile.TemporaryDirectory(prefix="uba-scenarios-") as workdir:
                scenarios = [
                    # Command-line properties apply to every scenario unless it sets its own.
                    Scenario(scenario.name, scenario.events_file, {**properties, **scenario.properties})
                    for scenario in load_scenarios(arguments.scenarios, Path(workdir))
                ]
                for scenario in scenarios:
                    try:
                        parse_settings(scenario.properties)  # all checked before the JVM starts
                    except PropertyError as error:
                        raise PropertyError(f"scenario {scenario.name!r}: {error}") from None
                for name, records in run_scenarios(scenarios).items():
                    _print({"scenario": name, "records": records}, out)
        if arguments.explain_kinesis:
            _print({"explain_kinesis": explain_kinesis(properties)}, out)
        return 0
    except (PropertyError, ValueError) as error:
        print(f"error: {error}", file=err)
        return 2


if __name__ == "__main__":
    sys.exit(main())
