"""Run one of the lake's Athena analyses on a local copy of the lake, with DuckDB.

    python -m tools.query dau --lake DIR --param from_date=2026-01-01 --param to_date=2026-01-31
    python -m tools.query conversion --lake DIR --param from_date=... --param to_date=... \\
        --param from_action=viewDoc --param to_action=buy --format json

It runs the very file Athena runs (`sql/athena/<name>.sql`), translated from Trino to DuckDB
by sqlglot, over `DIR/events/year=…/month=…/day=…/hour=…/*.parquet` (the layout Firehose
writes; see `tools.local.lake`). The session time zone is UTC, as Athena's is.
Exit status: 0 with rows printed; 2 for bad input (query name, parameters, lake directory);
1 when the lake cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from sql.athena import QueryError, query_names, render_for_duckdb
from tools.local.lake import EVENTS_PREFIX, create_events_view, lake_days

EXIT_BAD_INPUT = 2
EXIT_QUERY_FAILED = 1


class LakeNotFoundError(QueryError):
    """The lake directory given holds no events Parquet file: bad input, like a bad parameter."""


class LakeReadError(Exception):
    """DuckDB could not read a file the query needed (corrupt or foreign Parquet)."""


@dataclass(frozen=True)
class QueryResult:
    """Rows of one analysis, with the column names Athena would return."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def run_query(name: str, lake: Path, params: Mapping[str, str]) -> QueryResult:
    """Run analysis `name` over the lake at `lake` with `params` (defaults filled in).

    Raises `QueryError` for a bad name, bad parameters or a missing lake, and
    `LakeReadError` when a file the query has to read is unreadable.
    """
    sql, values = render_for_duckdb(name, params)
    # The same depth as `events_glob`, with the lake path taken literally rather than as a pattern.
    if not any(path.is_file() for path in (lake / EVENTS_PREFIX).glob("*/*/*/*/*.parquet")):
        raise LakeNotFoundError(f"no lake at {lake}: expected Parquet files under {lake / EVENTS_PREFIX}/")
    with duckdb.connect() as connection:
        # Set after connecting: the built-in ICU extension that owns TimeZone is not loaded
        # yet while `connect(config=...)` applies its settings.
        connection.execute("SET TimeZone = 'UTC'")
        try:
            create_events_view(connection, lake)
            cursor = connection.execute(sql, values)
            rows = cursor.fetchall()
        except duckdb.Error as error:
            raise LakeReadError(f"reading the lake at {lake} failed: {error}") from error
        columns = [column[0] for column in cursor.description or []]
    return QueryResult(columns=columns, rows=rows)


def day_runs(days: Sequence[date]) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days: [(first, last), ...]."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _spans(runs: Sequence[tuple[date, date]], shown: int = 4) -> str:
    text = ", ".join(str(first) if first == last else f"{first} to {last}" for first, last in runs[:shown])
    return text + (f" and {len(runs) - shown} more stretches" if len(runs) > shown else "")


def lake_coverage_note(lake: Path, first: date, last: date) -> str | None:
    """What to tell a user whose date range reaches past the days the lake holds, or None.

    Days are those with at least one events object (the partition folders), so the answer costs a
    directory listing, not a query. A day without events between the lake's first and last day is
    only a quiet day, so it is not reported.
    """
    held = lake_days(lake)
    if not held:
        return None
    inside = [day for day in held if first <= day <= last]
    if not inside:
        return f"no event in {first} to {last}: the lake at {lake} holds events on {_spans(day_runs(held))}"
    outside = [(first, min(last, held[0] - timedelta(days=1))), (max(first, held[-1] + timedelta(days=1)), last)]
    missing = [(start, end) for start, end in outside if start <= end]
    if not missing:
        return None
    return f"the lake at {lake} holds events from {held[0]} to {held[-1]}; nothing on {_spans(missing)}"


def _range(params: Mapping[str, str]) -> tuple[date, date] | None:
    try:
        return date.fromisoformat(params["from_date"]), date.fromisoformat(params["to_date"])
    except (KeyError, ValueError):
        return None


def format_table(result: QueryResult) -> str:
    """Rows as an aligned text table: numbers right-aligned, NULL spelled out."""
    cells = [[_cell(value) for value in row] for row in result.rows]
    widths = [max([len(title), *(len(row[i]) for row in cells)]) for i, title in enumerate(result.columns)]
    numeric = [
        bool(result.rows) and all(isinstance(row[index], int | float) for row in result.rows)
        for index in range(len(result.columns))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            value.rjust(width) if is_number else value.ljust(width)
            for value, width, is_number in zip(values, widths, numeric, strict=True)
        ).rstrip()

    rendered = [line(result.columns), line(["-" * width for width in widths]), *map(line, cells)]
    rendered.append(f"({len(result.rows)} row{'' if len(result.rows) == 1 else 's'})")
    return "\n".join(rendered)


def _cell(value: Any) -> str:
    return "NULL" if value is None else str(value)


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    """`["from_date=2026-01-01", ...]` as a dict; `QueryError` for a pair without `=` or a repeat."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, has_equals, value = pair.partition("=")
        key = key.strip()
        if not has_equals or not key:
            raise QueryError(f"--param expects NAME=VALUE, got {pair!r}")
        if key in params:
            raise QueryError(f"parameter {key!r} is given twice")
        params[key] = value
    return params


def _argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.query",
        description="Run a lake analysis (sql/athena/<name>.sql) on a local lake with DuckDB.",
        epilog=f"queries: {', '.join(query_names())}",
    )
    parser.add_argument("name", help="the analysis to run")
    parser.add_argument("--lake", required=True, type=Path, help="directory holding events/year=…/…")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a query parameter, e.g. from_date=2026-01-01; repeat for each",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _argument_parser().parse_args(argv)
    try:
        params = parse_params(arguments.param)
        result = run_query(arguments.name, arguments.lake, params)
    except QueryError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except LakeReadError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_QUERY_FAILED
    if arguments.format == "json":
        print(json.dumps(result.as_dicts(), indent=2))
    else:
        print(format_table(result))
    dates = _range(params)
    note = lake_coverage_note(arguments.lake, *dates) if dates else None
    if note:
        print(f"note: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
