"""The dashboard specification names real columns: checked against the SQL itself, run on DuckDB.

Each dataset declares its columns and QuickSight types (`sql.bi`). The warehouse models are built by
`tools.warehouse` from a lake and the lake query runs on the same lake; their columns, as DuckDB
reports them, must hold every declared column with a compatible type. Renaming or retyping a model
column in the SQL files fails here, before a dashboard loses a visual.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from sql.bi import dashboard, lake_query, render_for_quicksight
from tests.sql.test_warehouse_lines import TWO_LINES
from tools import warehouse
from tools.local import bi
from tools.local.lake import write_lake

FIRST, LAST = date(2026, 2, 1), date(2026, 3, 31)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bi-spec") / "lake"
    write_lake(root, TWO_LINES)
    return root


def built(lake: Path) -> duckdb.DuckDBPyConnection:
    connection = warehouse.connect()
    warehouse.refresh(connection, lake)
    return connection


def test_every_declared_column_is_in_the_sql_with_a_compatible_type(lake: Path) -> None:
    connection = built(lake)
    spec = dashboard()
    bi.load_datasets(connection, spec, lake, FIRST, LAST)
    actual = bi.dataset_columns(connection, spec)
    assert set(actual) == {dataset.key for dataset in spec.datasets}
    assert bi.column_problems(spec, actual) == []


def test_a_renamed_model_column_fails_the_check(lake: Path) -> None:
    connection = built(lake)
    connection.execute("ALTER TABLE dwm_user_biz_daily RENAME COLUMN new_user TO is_new_user")
    spec = dashboard()
    bi.load_datasets(connection, spec, lake, FIRST, LAST)
    problems = bi.column_problems(spec, bi.dataset_columns(connection, spec))
    assert problems == [
        "dataset user_daily: column 'new_user' is not in dwm_user_biz_daily (it has event_day, biz_id, user_id, "
        "events, error_events, conversion_started, converted, is_new_user)"
    ]


def test_a_retyped_column_fails_the_check(lake: Path) -> None:
    connection = built(lake)
    connection.execute("ALTER TABLE dws_biz_retention ALTER COLUMN days_after TYPE VARCHAR")
    spec = dashboard()
    bi.load_datasets(connection, spec, lake, FIRST, LAST)
    problems = bi.column_problems(spec, bi.dataset_columns(connection, spec))
    assert problems == [
        "dataset retention: column 'days_after' is declared INTEGER but dws_biz_retention makes it VARCHAR"
    ]


def test_the_lake_query_follows_the_athena_convention_and_bounds_its_partitions() -> None:
    query = lake_query("lake_events_daily")
    assert [parameter.name for parameter in query.parameters] == ["from_date", "to_date"]
    sql = render_for_quicksight("lake_events_daily", 90)
    assert ":from_date" not in sql and not sql.startswith("--")
    assert "concat(year, '-', month, '-', day) BETWEEN CAST(date_add('day', -89, current_date) AS varchar)" in sql
