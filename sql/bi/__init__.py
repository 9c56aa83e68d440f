"""The BI dashboard, written once: its datasets, sheet, visuals, fields and filters, as typed data.

Two renderers read this specification and nothing else about the dashboard:

- `components.bi.definition` turns it into the QuickSight dashboard definition the BI tier deploys
  (datasets on the warehouse models and on the lake, with row-level security by business line);
- `tools.bi` computes every visual from a local warehouse (`tools.warehouse` over a local lake) and
  writes a self-contained HTML report, so a dashboard change can be reviewed in a pull request by
  opening the report.

Every visual reads one dataset. A dataset is either a warehouse model read whole (`table`) or a query
over the lake (`query`, a Trino file beside this module run by Athena, locally on DuckDB). Each
declares the columns it exposes with their types; the tests compare them with the columns the real
SQL produces on DuckDB, so a renamed model column fails a test rather than a dashboard.

Measures are few and exact, so both renderers compute the same number: a distinct count (optionally
of rows matching one equality), a sum, and a ratio of two sums.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final, Literal

import sqlglot

from sql.athena import AnalysisQuery, read_query_file

SQL_DIR: Final = Path(__file__).resolve().parent
LINE_COLUMN: Final = "biz_id"  # every dataset carries it: row-level security and the line filter use it

# QuickSight's column types (InputColumn.Type) of the few kinds the models hold.
ColumnType = Literal["STRING", "INTEGER", "DECIMAL", "DATETIME"]
Granularity = Literal["DAY", "WEEK", "MONTH"]
VisualKind = Literal["line", "bar", "horizontal_bar", "heat_map"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType


@dataclass(frozen=True)
class DataSet:
    key: str  # identifier in the definition and suffix of the QuickSight data set id
    title: str
    source: Literal["warehouse", "lake"]
    columns: tuple[Column, ...]
    date_column: str  # what the dashboard's date range applies to
    table: str | None = None  # a warehouse model, read whole
    query: str | None = None  # or `sql/bi/<query>.sql`, over the lake's `events` table

    def __post_init__(self) -> None:
        if (self.table is None) == (self.query is None):
            raise ValueError(f"dataset {self.key}: give exactly one of table and query")
        names = [column.name for column in self.columns]
        for needed in (self.date_column, LINE_COLUMN):
            if needed not in names:
                raise ValueError(f"dataset {self.key}: has no column {needed!r}")

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"dataset {self.key} has no column {name!r}; it has {[c.name for c in self.columns]}")


@dataclass(frozen=True)
class Equals:
    """Rows whose `column` equals `value`."""

    column: str
    value: str | int


@dataclass(frozen=True)
class DistinctCount:
    label: str
    column: str
    where: Equals | None = None


@dataclass(frozen=True)
class Sum:
    label: str
    column: str


@dataclass(frozen=True)
class Ratio:
    """sum(numerator) / sum(denominator), shown as a percentage."""

    label: str
    numerator: str
    denominator: str


Measure = DistinctCount | Sum | Ratio


@dataclass(frozen=True)
class DateAxis:
    column: str
    granularity: Granularity


@dataclass(frozen=True)
class CategoryAxis:
    column: str
    limit: int | None = None  # the top N by the first measure, largest first


Axis = DateAxis | CategoryAxis


@dataclass(frozen=True)
class Visual:
    key: str
    title: str
    kind: VisualKind
    dataset: str
    x: Axis  # the category axis; a heat map's rows
    measures: tuple[Measure, ...]
    columns: Axis | None = None  # a heat map's columns
    where: tuple[Equals, ...] = ()  # rows the visual keeps (besides the dashboard's filters)
    note: str = ""

    @property
    def percent(self) -> bool:
        return all(isinstance(measure, Ratio) for measure in self.measures)

    def referenced_columns(self) -> list[str]:
        """Every dataset column the visual names."""
        names = [self.x.column, *(axis.column for axis in [self.columns] if axis is not None)]
        for measure in self.measures:
            if isinstance(measure, Ratio):
                names += [measure.numerator, measure.denominator]
            else:
                names.append(measure.column)
                if isinstance(measure, DistinctCount) and measure.where is not None:
                    names.append(measure.where.column)
        return [*names, *(condition.column for condition in self.where)]


@dataclass(frozen=True)
class Dashboard:
    title: str
    datasets: tuple[DataSet, ...]
    visuals: tuple[Visual, ...]
    default_days: int = 90  # the date range a dashboard opens with, ending today
    line_filter_title: str = "Business line"
    date_filter_title: str = "Days"
    notes: tuple[str, ...] = field(default_factory=tuple)

    def dataset(self, key: str) -> DataSet:
        for dataset in self.datasets:
            if dataset.key == key:
                return dataset
        raise KeyError(f"no dataset {key!r}")

    def problems(self) -> list[str]:
        """What makes the specification inconsistent: unknown datasets or columns, duplicate keys."""
        found: list[str] = []
        for what, keys in (("dataset", [d.key for d in self.datasets]), ("visual", [v.key for v in self.visuals])):
            duplicates = sorted({key for key in keys if keys.count(key) > 1})
            found += [f"{what} key {key!r} is used twice" for key in duplicates]
        known = {d.key: {c.name for c in d.columns} for d in self.datasets}
        for visual in self.visuals:
            if visual.dataset not in known:
                found.append(f"visual {visual.key}: no dataset {visual.dataset!r}")
                continue
            found += [
                f"visual {visual.key}: dataset {visual.dataset} has no column {name!r}"
                for name in visual.referenced_columns()
                if name not in known[visual.dataset]
            ]
            if visual.kind == "heat_map" and visual.columns is None:
                found.append(f"visual {visual.key}: a heat map needs columns")
            if not visual.measures:
                found.append(f"visual {visual.key}: has no measure")
        return found


# --- the datasets ---------------------------------------------------------------------------------------

USER_DAILY = DataSet(
    key="user_daily",
    title="Users by day and business line",
    source="warehouse",
    table="dwm_user_biz_daily",
    date_column="event_day",
    columns=(
        Column("event_day", "DATETIME"),
        Column("biz_id", "STRING"),
        Column("user_id", "STRING"),
        Column("events", "INTEGER"),
        Column("error_events", "INTEGER"),
        Column("conversion_started", "INTEGER"),
        Column("converted", "INTEGER"),
        Column("new_user", "INTEGER"),
    ),
)
RETENTION = DataSet(
    key="retention",
    title="Retention cohorts by business line",
    source="warehouse",
    table="dws_biz_retention",
    date_column="cohort_day",
    columns=(
        Column("cohort_day", "DATETIME"),
        Column("biz_id", "STRING"),
        Column("days_after", "INTEGER"),
        Column("cohort_users", "INTEGER"),
        Column("retained_users", "INTEGER"),
    ),
)
LAKE_EVENTS = DataSet(
    key="lake_events",
    title="Lake events by day, line, action and object",
    source="lake",
    query="lake_events_daily",
    date_column="event_day",
    columns=(
        Column("event_day", "DATETIME"),
        Column("biz_id", "STRING"),
        Column("action", "STRING"),
        Column("object_id", "STRING"),
        Column("events", "INTEGER"),
        Column("error_events", "INTEGER"),
    ),
)


def dashboard(conversion_from_action: str = "viewDoc", conversion_to_action: str = "buy") -> Dashboard:
    """The dashboard, with the conversion's two actions as the warehouse settings name them."""
    users = DistinctCount("users", "user_id")
    conversion = f"{conversion_from_action} -> {conversion_to_action}"
    visuals = (
        Visual("dau", "Daily active users", "line", "user_daily", DateAxis("event_day", "DAY"), (users,)),
        Visual("wau", "Weekly active users (weeks from Monday)", "bar", "user_daily",
               DateAxis("event_day", "WEEK"), (users,)),
        Visual("mau", "Monthly active users", "bar", "user_daily", DateAxis("event_day", "MONTH"), (users,)),
        Visual("new_users", "New users per day", "line", "user_daily", DateAxis("event_day", "DAY"),
               (DistinctCount("new users", "user_id", Equals("new_user", 1)),),
               note="Users whose first day on the platform it was."),
        Visual("events_errors", "Events and errors per day", "line", "user_daily", DateAxis("event_day", "DAY"),
               (Sum("events", "events"), Sum("errors", "error_events"))),
        Visual("conversion", f"Same-day conversion {conversion}", "line", "user_daily",
               DateAxis("event_day", "DAY"), (Ratio("converted", "converted", "conversion_started"),),
               note=f"Of the users who did {conversion_from_action} in a line, the share who did "
               f"{conversion_to_action} in the same line that day, after it."),
        Visual("retention", "Retention by weekly cohort (days after the first day)", "heat_map", "retention",
               DateAxis("cohort_day", "WEEK"), (Ratio("retained", "retained_users", "cohort_users"),),
               columns=CategoryAxis("days_after"),
               note="New users of a line, and the share back in the same line 1, 7 and 30 days later."),
        Visual("top_objects", f"Top objects ({conversion_from_action})", "horizontal_bar", "lake_events",
               CategoryAxis("object_id", limit=10), (Sum("events", "events"),),
               where=(Equals("action", conversion_from_action),)),
        Visual("error_rate", "Error rate by action", "bar", "lake_events", CategoryAxis("action"),
               (Ratio("error rate", "error_events", "events"),)),
    )  # fmt: skip
    return Dashboard(title="User behaviour", datasets=(USER_DAILY, RETENTION, LAKE_EVENTS), visuals=visuals)


# --- the lake query -------------------------------------------------------------------------------------


def lake_query(name: str) -> AnalysisQuery:
    """`sql/bi/<name>.sql`, checked by the same convention as the Athena analyses (header, params)."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no lake query {name!r} under {SQL_DIR}")
    return read_query_file(path)


def rolling_window(days: int) -> dict[str, str]:
    """Trino expressions for the query's dates: the `days` UTC days that end today (Athena runs in UTC)."""
    return {
        "from_date": f"CAST(date_add('day', -{days - 1}, current_date) AS varchar)",
        "to_date": "CAST(current_date AS varchar)",
    }


def render_for_quicksight(name: str, days: int) -> str:
    """The query as QuickSight's custom SQL runs it on Athena: each date parameter replaced by its expression."""
    query = lake_query(name)
    expressions = rolling_window(days)
    pieces: list[str] = []
    cursor = 0
    for placeholder in query.placeholders:
        pieces += [query.text[cursor : placeholder.start], expressions[placeholder.name]]
        cursor = placeholder.end
    pieces.append(query.text[cursor:])
    # QuickSight wraps custom SQL in a subquery of its own: the header comment stays in the file.
    lines = "".join(pieces).strip().splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    return "\n".join(lines).strip()


def render_for_duckdb(name: str, first: date, last: date) -> tuple[str, dict[str, str]]:
    """The query in DuckDB's dialect with `$from_date`/`$to_date`, and their values for `first`..`last`."""
    query = lake_query(name)
    statements = sqlglot.transpile(query.text, read="trino", write="duckdb")
    if len(statements) != 1:
        raise ValueError(f"{query.path}: expected one statement, found {len(statements)}")
    return statements[0], {"from_date": first.isoformat(), "to_date": last.isoformat()}
