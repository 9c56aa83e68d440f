"""The business-line models the BI dashboards read (dwm_user_biz_daily, dws_biz_retention), on DuckDB.

Row-level security by business line can only filter numbers that carry a line, so these two
models keep the platform's KPIs at the grain (day, line, user) and (cohort, line). The tests
hold them to hand-worked answers on a two-line lake, to the platform-wide models they must add
up to, to a full build after every incremental scenario, and to the upgrade path: a warehouse
that already held days when the tables were added fills them on its next refresh.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sql.redshift import RefreshParameters
from tests.sql.test_warehouse_models import at, day, event
from tools import warehouse
from tools.local.lake import write_lake

LINE_TABLES = ("dwm_user_biz_daily", "dws_biz_retention")


def in_line(record: dict[str, Any], biz_id: str, object_id: str = "doc-1") -> dict[str, Any]:
    return {**record, "bizId": biz_id, "objectId": object_id}


# Two lines. u1 views in news and buys in shop on D (no conversion in either line: the buy is in
# another line), views and buys in shop on D+1; u2 views and buys in shop on D (converts), comes back
# to shop on D+7 with an [error]; u3 starts in news on D+1 and comes back to news on D+2 and D+8.
TWO_LINES = [
    in_line(event("a1", "viewDoc", "u1", at(0, "08:00:00")), "news"),
    in_line(event("a2", "buy", "u1", at(0, "08:10:00")), "shop"),
    in_line(event("a3", "viewDoc", "u1", at(1, "09:00:00")), "shop"),
    in_line(event("a4", "buy", "u1", at(1, "09:05:00")), "shop"),
    in_line(event("b1", "viewDoc", "u2", at(0, "12:00:00")), "shop"),
    in_line(event("b2", "buy", "u2", at(0, "12:01:00")), "shop"),
    in_line(event("b3", "search", "u2", at(7, "12:00:00"), error="[error] timeout"), "shop"),
    in_line(event("c1", "viewDoc", "u3", at(1, "10:00:00")), "news"),
    in_line(event("c2", "viewDoc", "u3", at(2, "10:00:00")), "news"),
    in_line(event("c3", "share", "u3", at(8, "10:00:00")), "news"),
]
# (event_day, biz_id, user_id, events, error_events, conversion_started, converted, new_user)
EXPECTED_USER_LINES = [
    (day(0), "news", "u1", 1, 0, 1, 0, 1),
    (day(0), "shop", "u1", 1, 0, 0, 0, 1),
    (day(0), "shop", "u2", 2, 0, 1, 1, 1),
    (day(1), "news", "u3", 1, 0, 1, 0, 1),
    (day(1), "shop", "u1", 2, 0, 1, 1, 0),
    (day(2), "news", "u3", 1, 0, 1, 0, 0),
    (day(7), "shop", "u2", 1, 1, 0, 0, 0),
    (day(8), "news", "u3", 1, 0, 0, 0, 0),
]
# (cohort_day, biz_id, days_after, cohort_users, retained_users); the watermark's day is D+8.
# D/news: u1 (never back in news); D/shop: u1 (back in shop on D+1), u2 (back on D+7);
# D+1/news: u3 (back on D+2 and D+8, which is 7 days later).
EXPECTED_LINE_RETENTION = [
    (day(0), "news", 1, 1, 0),
    (day(0), "news", 7, 1, 0),
    (day(0), "shop", 1, 2, 1),
    (day(0), "shop", 7, 2, 1),
    (day(1), "news", 1, 1, 1),
    (day(1), "news", 7, 1, 1),
]


def line_models(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {name: warehouse.fetch_table(connection, name)[1] for name in LINE_TABLES}


def full_build(lake: Path) -> dict[str, list[tuple[Any, ...]]]:
    connection = warehouse.connect()
    warehouse.refresh(connection, lake)
    return line_models(connection)


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    write_lake(root, TWO_LINES)
    return root


@pytest.fixture
def built(lake: Path) -> duckdb.DuckDBPyConnection:
    connection = warehouse.connect()
    warehouse.refresh(connection, lake)
    return connection


def test_the_line_models_hold_the_known_answers(built: duckdb.DuckDBPyConnection) -> None:
    assert line_models(built) == {
        "dwm_user_biz_daily": EXPECTED_USER_LINES,
        "dws_biz_retention": EXPECTED_LINE_RETENTION,
    }


def test_the_lines_add_up_to_the_platform_kpis(built: duckdb.DuckDBPyConnection) -> None:
    """Distinct users, new users, events and errors over every line are the platform's own numbers."""
    per_day: dict[date, dict[str, Any]] = defaultdict(lambda: {"users": set(), "new": set(), "events": 0, "errors": 0})
    for event_day, _, user, events, errors, _, _, new_user in warehouse.fetch_table(built, "dwm_user_biz_daily")[1]:
        totals = per_day[event_day]
        totals["users"].add(user)
        if new_user:
            totals["new"].add(user)
        totals["events"] += events
        totals["errors"] += errors
    kpis = built.execute("SELECT event_day, dau, new_users, events, error_events FROM dws_daily_kpis").fetchall()
    assert kpis and len(kpis) == len(per_day)
    for event_day, dau, new_users, events, errors in kpis:
        totals = per_day[event_day]
        assert (dau, new_users, events, errors) == (
            len(totals["users"]),
            len(totals["new"]),
            totals["events"],
            totals["errors"],
        ), event_day


def test_an_event_that_moves_a_users_first_day_updates_their_rows_on_days_not_rebuilt(
    built: duckdb.DuckDBPyConnection, lake: Path
) -> None:
    # u2 turns out to have started on D-3 in news: their D row stops being new, though D is not rebuilt.
    earlier = in_line(event("b0", "viewDoc", "u2", at(-3, "10:00:00"), at(8, "11:00:00")), "news")
    write_lake(lake, [earlier], "x.parquet")

    warehouse.refresh(built, lake, RefreshParameters(lookback_days=0))

    rows = line_models(built)
    assert (day(0), "shop", "u2", 2, 0, 1, 1, 0) in rows["dwm_user_biz_daily"]
    assert (day(-3), "news", "u2", 1, 0, 1, 0, 1) in rows["dwm_user_biz_daily"]
    assert (day(0), "shop", 1, 1, 1) in rows["dws_biz_retention"]  # u1 alone is left in D's shop cohort
    assert rows == full_build(lake)


def test_a_conversion_needs_both_actions_in_the_same_line(built: duckdb.DuckDBPyConnection, lake: Path) -> None:
    write_lake(lake, [in_line(event("a5", "buy", "u1", at(0, "08:20:00"), at(8, "12:00:00")), "news")], "y.parquet")

    warehouse.refresh(built, lake, RefreshParameters(lookback_days=0))

    assert (day(0), "news", "u1", 2, 0, 1, 1, 1) in line_models(built)["dwm_user_biz_daily"]
    assert line_models(built) == full_build(lake)


def test_a_warehouse_built_before_the_line_models_fills_them_on_its_next_refresh(
    built: duckdb.DuckDBPyConnection, lake: Path
) -> None:
    # As after `pulumi up` of this change on a deployed stack: the tables are new and empty.
    for name in LINE_TABLES:
        built.execute(f"DELETE FROM {name}")

    warehouse.refresh(built, lake, RefreshParameters(lookback_days=0))

    assert line_models(built) == full_build(lake)
    refreshed = built.execute("SELECT COUNT(*) FROM etl_refresh_days WHERE scope = 'line'").fetchone()
    assert refreshed == (len({row[0] for row in EXPECTED_USER_LINES}),)

    warehouse.refresh(built, lake, RefreshParameters(lookback_days=0))  # nothing missing any more
    assert built.execute("SELECT COUNT(*) FROM etl_refresh_days WHERE scope LIKE 'line%'").fetchone() == (0,)
