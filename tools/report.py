"""Charts of the lake's analyses and the warehouse's retention, as one self-contained HTML page (and PNGs).

    python -m tools.report --lake ./sample/lake --from 2026-01-01 --to 2026-03-31 --out report.html \\
        [--png charts/] [--from-action viewDoc] [--to-action buy]

Runs the same queries as `tools.query` (the Athena analyses in `sql/athena/`, on DuckDB) and the
warehouse models as `tools.warehouse` (the Redshift SQL, on DuckDB), then draws each result with
`tools.charts`: daily, weekly and monthly active users, the viewDoc -> buy conversion, the error
rate, the most viewed objects and 1/7/30-day retention. Every chart comes with the rows it was
drawn from. The page needs nothing from the network. Exit status: 0 written; 2 bad input
(dates, lake); 1 when the lake cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from sql.athena import QueryError
from sql.redshift import RefreshParameters
from tools import warehouse
from tools.charts import Chart, Report, Section, Series, Table
from tools.cli import iso_day
from tools.progress import bar
from tools.query import LakeReadError, QueryResult, lake_coverage_note, run_query

TOP_OBJECTS = 10


def _days(values: Sequence[object]) -> list[date]:
    return [date.fromisoformat(str(value)) for value in values]


def _table(result: QueryResult) -> Table:
    return Table(result.columns, result.rows)


def active_users(dau: QueryResult, wau: QueryResult, mau: QueryResult) -> Section:
    daily = dau.as_dicts()
    return Section(
        "Active users",
        [
            Chart(
                "Daily active users",
                "line",
                [Series("users", _days([r["day"] for r in daily]), [r["users"] for r in daily])],
                y_label="users",
            ),
            Chart(
                "Weekly active users (weeks from Monday)",
                "bar",
                [Series("users", [r["week_start"] for r in wau.as_dicts()], [r["users"] for r in wau.as_dicts()])],
                y_label="users",
            ),
            Chart(
                "Monthly active users",
                "bar",
                [Series("users", [r["month"] for r in mau.as_dicts()], [r["users"] for r in mau.as_dicts()])],
                y_label="users",
            ),
        ],
        note="Distinct users per UTC day, ISO week and calendar month (sql/athena/dau, wau, mau); "
        "weeks and months are clipped to the range.",
        table=_table(dau),
    )


def conversion(result: QueryResult, from_action: str, to_action: str) -> Section:
    rows = result.as_dicts()
    return Section(
        f"Conversion {from_action} -> {to_action}",
        [
            Chart(
                f"Same-day conversion {from_action} -> {to_action}",
                "line",
                [Series("rate", _days([r["day"] for r in rows]), [r["rate"] for r in rows])],
                y_label="users converted",
                percent=True,
            )
        ],
        note=f"Users who did {to_action} on the day at or after their first {from_action} (sql/athena/conversion).",
        table=_table(result),
    )


def error_rate(result: QueryResult) -> Section:
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in result.as_dicts():
        per_day[row["day"]][0] += row["errors"]
        per_day[row["day"]][1] += row["events"]
    days = sorted(per_day)
    return Section(
        "Errors",
        [
            Chart(
                "Share of events carrying an error marker",
                "line",
                [Series("error rate", _days(days), [per_day[d][0] / per_day[d][1] for d in days])],
                y_label="events",
                percent=True,
            )
        ],
        note="All actions of a day together; the rows give each action (sql/athena/error_rate).",
        table=_table(result),
    )


def top_objects(result: QueryResult) -> Section:
    totals: dict[str, int] = defaultdict(int)
    for row in result.as_dicts():
        if row["action"] == "viewDoc":
            totals[row["objectId"]] += row["events"]
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:TOP_OBJECTS]
    return Section(
        "Most viewed objects",
        [
            Chart(
                f"Views of the {len(ranked)} most viewed objects",
                "barh",
                [Series("views", [name for name, _ in ranked], [count for _, count in ranked])],
                x_label="viewDoc events",
                size=(7.5, 3.2),
            )
        ],
        note="viewDoc events over the range, from each day's ten most frequent objects (sql/athena/top_objects).",
        table=Table(["objectId", "views"], ranked),
    )


def retention(columns: list[str], rows: list[tuple[object, ...]]) -> Section:
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    kept: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for record in records:
        days_after = int(str(record["days_after"]))
        kept[days_after][0] += int(str(record["retained_users"]))
        kept[days_after][1] += int(str(record["cohort_users"]))
    after = sorted(kept)
    return Section(
        "Retention",
        [
            Chart(
                "Users back N days after their first day",
                "bar",
                [
                    Series(
                        "retained",
                        [f"day {n}" for n in after],
                        [kept[n][0] / kept[n][1] if kept[n][1] else None for n in after],
                    )
                ],
                y_label="of the cohort",
                percent=True,
                size=(5.0, 2.6),
            )
        ],
        note="All cohorts of the lake together; the rows give each cohort (warehouse model dws_retention). "
        "Cohorts near the end of the lake have had no time to come back yet.",
        table=Table(columns, rows),
    )


def build(lake: Path, first: date, last: date, from_action: str, to_action: str) -> Report:
    """Every section, from the queries and the warehouse models run over `lake`."""
    dates = {"from_date": first.isoformat(), "to_date": last.isoformat()}
    steps: list[tuple[str, Callable[[], QueryResult]]] = [
        (name, lambda name=name: run_query(name, lake, dates))  # type: ignore[misc]
        for name in ("dau", "wau", "mau", "error_rate", "top_objects")
    ]
    steps.append(
        (
            "conversion",
            lambda: run_query("conversion", lake, {**dates, "from_action": from_action, "to_action": to_action}),
        )
    )
    results: dict[str, QueryResult] = {}
    with bar(desc="running the analyses", total=len(steps) + 1, unit="query") as progress:
        for name, step in steps:
            results[name] = step()
            progress.update()
        connection = warehouse.connect()
        try:
            parameters = RefreshParameters(conversion_from_action=from_action, conversion_to_action=to_action)
            warehouse.refresh(connection, lake.resolve(), parameters)
            columns, rows = warehouse.fetch_table(connection, "dws_retention")
        finally:
            connection.close()
        progress.update()
    report = Report("User behaviour report", f"lake {lake}, UTC days {first} to {last}")
    report.add(active_users(results["dau"], results["wau"], results["mau"]))
    report.add(conversion(results["conversion"], from_action, to_action))
    report.add(error_rate(results["error_rate"]))
    report.add(top_objects(results["top_objects"]))
    report.add(retention(columns, rows))
    return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.report",
        description="Chart the lake's analyses and the warehouse's retention as one self-contained HTML page.",
    )
    parser.add_argument("--lake", type=Path, required=True, help="lake root (holds events/year=.../)")
    parser.add_argument("--from", dest="first", type=iso_day, required=True, help="first UTC day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", type=iso_day, required=True, help="last UTC day (inclusive), YYYY-MM-DD")
    parser.add_argument("--out", type=Path, default=Path("report.html"), help="HTML file to write (%(default)s)")
    parser.add_argument("--png", type=Path, metavar="DIR", help="also write each chart as a PNG into DIR")
    parser.add_argument("--from-action", default="viewDoc", help="conversion from this action (%(default)s)")
    parser.add_argument("--to-action", default="buy", help="conversion to this action (%(default)s)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    if options.last < options.first:
        parser.error(f"--to {options.last} is before --from {options.first}")
    try:
        report = build(options.lake, options.first, options.last, options.from_action, options.to_action)
    except (QueryError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except LakeReadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    note = lake_coverage_note(options.lake, options.first, options.last)
    if note:
        print(f"note: {note}", file=sys.stderr)
    written = [report.write_html(options.out)]
    if options.png:
        written += report.write_pngs(options.png)
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
