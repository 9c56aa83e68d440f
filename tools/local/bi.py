"""The BI dashboard computed locally: its datasets from a local warehouse and lake, each visual's numbers.

The specification (`sql.bi`) is the only description of the dashboard; this module is its second
renderer's engine. A warehouse dataset is the model table `tools.warehouse` built from the lake; the
lake dataset is its Trino query run on DuckDB over the same lake. Every visual is then one SQL query
over its dataset, written from the specification's axes and measures the way QuickSight computes
them (a date axis truncated to its granularity, weeks from Monday, UTC), filtered by the date range,
the business lines a person may see (row-level security, from the same rules the BI tier deploys),
and the visual's own conditions.

`column_problems` is the check that the specification names real columns: it compares each
dataset's declared columns and types with what the SQL produces on DuckDB.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import duckdb

from sql.bi import (
    ColumnType,
    Dashboard,
    DataSet,
    DateAxis,
    DistinctCount,
    Equals,
    Measure,
    Ratio,
    Sum,
    Visual,
    render_for_duckdb,
)
from tools.local.lake import create_events_view

LINES_COLUMN: Final = "biz_id"
# DuckDB's type names (DESCRIBE's column_type) that hold each QuickSight column type.
COMPATIBLE: Final[Mapping[ColumnType, tuple[str, ...]]] = {
    "STRING": ("VARCHAR",),
    "INTEGER": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                "UBIGINT"),
    "DECIMAL": ("DECIMAL", "DOUBLE", "FLOAT", "REAL"),
    "DATETIME": ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE"),
}  # fmt: skip


def dataset_table(dataset: DataSet) -> str:
    """The DuckDB table a dataset is materialised into."""
    return f"bi_{dataset.key}"


def load_datasets(connection: duckdb.DuckDBPyConnection, spec: Dashboard, lake: Path, first: date, last: date) -> None:
    """Every dataset of `spec` as a table of `connection`, whose warehouse models are already built.

    The lake dataset reads `first`..`last` (the dashboard reads a window ending today the same way).
    """
    create_events_view(connection, lake, "events")
    for dataset in spec.datasets:
        target = dataset_table(dataset)
        if dataset.table is not None:
            connection.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {dataset.table}")
        else:
            assert dataset.query is not None
            sql, values = render_for_duckdb(dataset.query, first, last)
            connection.execute(f"CREATE OR REPLACE TABLE {target} AS {sql}", values)


def actual_columns(connection: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column name -> DuckDB type of a table or view, as DESCRIBE reports them."""
    return {row[0]: str(row[1]) for row in connection.execute(f"DESCRIBE {table}").fetchall()}


def _compatible(declared: ColumnType, actual: str) -> bool:
    base = actual.split("(")[0].strip().upper()
    return base in COMPATIBLE[declared]


def column_problems(spec: Dashboard, actual: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Each declared column missing from its dataset's real columns, or of an incompatible type."""
    problems: list[str] = []
    for dataset in spec.datasets:
        columns = actual[dataset.key]
        source = dataset.table or f"sql/bi/{dataset.query}.sql"
        for column in dataset.columns:
            if column.name not in columns:
                problems.append(
                    f"dataset {dataset.key}: column {column.name!r} is not in {source} (it has {', '.join(columns)})"
                )
            elif not _compatible(column.type, columns[column.name]):
                problems.append(
                    f"dataset {dataset.key}: column {column.name!r} is declared {column.type} but {source} makes it "
                    f"{columns[column.name]}"
                )
    return problems + spec.problems()


@dataclass(frozen=True)
class VisualData:
    """The numbers behind one visual: the axis values, optional heat-map columns, one value per measure."""

    visual: Visual
    columns: list[str]
    rows: list[tuple[Any, ...]]

    @property
    def empty(self) -> bool:
        return not self.rows or all(value is None for row in self.rows for value in row[-len(self.visual.measures) :])


def _quote(value: str | int) -> str:
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"


def _condition(condition: Equals) -> str:
    return f"{condition.column} = {_quote(condition.value)}"


def measure_sql(measure: Measure) -> str:
    """A measure as QuickSight computes it, in SQL."""
    if isinstance(measure, Ratio):
        return f"CAST(SUM({measure.numerator}) AS DOUBLE) / NULLIF(SUM({measure.denominator}), 0)"
    if isinstance(measure, Sum):
        return f"SUM({measure.column})"
    assert isinstance(measure, DistinctCount)
    if measure.where is None:
        return f"COUNT(DISTINCT {measure.column})"
    return f"COUNT(DISTINCT CASE WHEN {_condition(measure.where)} THEN {measure.column} END)"


def _axis_sql(axis: DateAxis | Any) -> str:
    if isinstance(axis, DateAxis):
        return f"CAST(date_trunc('{axis.granularity.lower()}', {axis.column}) AS DATE)"
    return str(axis.column)


def visual_sql(
    visual: Visual, dataset: DataSet, first: date, last: date, lines: Iterable[str] | None
) -> tuple[str, list[Any]]:
    """The query of one visual over its dataset's table, with its parameters."""
    keys = [_axis_sql(visual.x)] + ([_axis_sql(visual.columns)] if visual.columns is not None else [])
    selected = [f"{key} AS k{index}" for index, key in enumerate(keys)]
    selected += [f"{measure_sql(measure)} AS m{index}" for index, measure in enumerate(visual.measures)]
    where = [f"CAST({dataset.date_column} AS DATE) BETWEEN ? AND ?"]
    parameters: list[Any] = [first, last]
    if lines is not None:
        allowed = sorted(lines)
        where.append(f"{LINES_COLUMN} IN ({', '.join('?' for _ in allowed)})" if allowed else "FALSE")
        parameters += allowed
    where += [_condition(condition) for condition in visual.where]
    group = ", ".join(f"k{index}" for index in range(len(keys)))
    limit = getattr(visual.x, "limit", None)
    order = f"m0 DESC, {group}" if limit is not None else group
    sql = (
        f"SELECT {', '.join(selected)} FROM {dataset_table(dataset)} WHERE {' AND '.join(where)} "
        f"GROUP BY {group} ORDER BY {order}" + (f" LIMIT {int(limit)}" if limit is not None else "")
    )
    return sql, parameters


def compute(
    connection: duckdb.DuckDBPyConnection,
    spec: Dashboard,
    first: date,
    last: date,
    lines: Iterable[str] | None = None,
) -> list[VisualData]:
    """Every visual's numbers, for a reader who sees `lines` (None: every line)."""
    visible = None if lines is None else list(lines)
    results: list[VisualData] = []
    for visual in spec.visuals:
        dataset = spec.dataset(visual.dataset)
        sql, parameters = visual_sql(visual, dataset, first, last, visible)
        relation = connection.execute(sql, parameters)
        names = [visual.x.column] + ([visual.columns.column] if visual.columns is not None else [])
        names += [measure.label for measure in visual.measures]
        results.append(VisualData(visual, names, [tuple(row) for row in relation.fetchall()]))
    return results


def lines_in(connection: duckdb.DuckDBPyConnection, spec: Dashboard) -> list[str]:
    """Every business line any dataset holds a row of."""
    selects = [f"SELECT DISTINCT {LINES_COLUMN} FROM {dataset_table(d)}" for d in spec.datasets]
    rows = connection.execute(" UNION ".join(selects)).fetchall()
    return sorted(str(row[0]) for row in rows if row[0] is not None)


def dataset_columns(connection: duckdb.DuckDBPyConnection, spec: Dashboard) -> dict[str, dict[str, str]]:
    return {dataset.key: actual_columns(connection, dataset_table(dataset)) for dataset in spec.datasets}


def describe_lines(lines: Sequence[str] | None) -> str:
    return "every business line" if lines is None else ("business lines " + ", ".join(lines) if lines else "no line")
