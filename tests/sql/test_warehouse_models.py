"""The Redshift warehouse models (sql/redshift/), built on DuckDB from a fixture lake.

The fixture lake is small and every answer below is worked out by hand from it (see the
comments at `BASE_EVENTS`). Incremental refreshes are checked twice: against the rows
the scenario should produce, and against a fresh full build over the same lake, which
is what an incremental refresh must always equal (except beyond the look-back window,
where the test documents what is missed and how a full refresh recovers it).
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

import sql.redshift as redshift_sql
from lambdas.events import to_utc_iso, warehouse_columns
from sql.redshift import DeployParameters, RefreshParameters, SqlFileError
from tools import warehouse
from tools.local import ACCOUNT_ID
from tools.local.lake import write_lake

D = date(2026, 3, 1)
MODEL_TABLES = ("dwd_events", "dwm_user_daily", "dim_user", "dws_daily_kpis", "dws_retention")


def day(offset: int) -> date:
    return D + timedelta(days=offset)


def at(offset: int, clock: str) -> datetime:
    """UTC moment on day D+offset, clock as HH:MM:SS[.fff]."""
    return datetime.fromisoformat(f"{day(offset).isoformat()}T{clock}+00:00")


def event(
    event_id: str,
    action: str,
    user: str | None,
    created: datetime | str,
    received: datetime | None = None,
    error: str | None = None,
    user_agent: str = "ua",
) -> dict[str, Any]:
    """A stored stream record (camelCase), received one second after creation unless said."""
    created_at = datetime.fromisoformat(created) if isinstance(created, str) else created
    return {
        "eventId": event_id,
        "action": action,
        "userId": user,
        "objectId": "doc-1",
        "bizId": "biz-1",
        "createdAt": to_utc_iso(created_at),  # as ingest writes it on the stream
        "errorMsg": error,
        "receivedAt": to_utc_iso(received or created_at + timedelta(seconds=1)),
        "sourceIp": "203.0.113.7",
        "userAgent": user_agent,
        "schemaVersion": 1,
    }


# u1: first seen D, converts on D (viewDoc 10:00 then buy 10:05), comes back on D+1, D+7, D+30.
# u2: first seen D, buys before viewing on D (no conversion), comes back on D+7 and buys at
#     the very moment of viewing (at or after counts: a conversion).
# u3: first seen D+1, one [error] event, comes back on D+2.
# u4: first seen D: viewDoc at 00:30+02:00 is 22:30 UTC on D; buy at 23:59:59.999 on D,
#     received after midnight, with an [ERROR] marker.
# u5: an event of D+2 received on D+20 (late-arriving, already in the lake at the first build);
#     comes back on D+9, 7 days after its first day.
# The first viewDoc of u1 is delivered twice (the retry 8 s later, in another file); a
# record without a user is dropped.
BASE_EVENTS = [
    event("u1-view", "viewDoc", "u1", at(0, "10:00:00"), at(0, "10:00:01"), user_agent="ua-first"),
    event("u1-buy", "buy", "u1", at(0, "10:05:00")),
    event("u1-day1", "viewDoc", "u1", at(1, "09:00:00")),
    event("u1-day7", "search", "u1", at(7, "12:00:00"), error="[PANIC] out of memory"),
    event("u1-day30", "logout", "u1", at(30, "08:00:00")),
    event("u2-buy", "buy", "u2", at(0, "09:00:00")),
    event("u2-view", "viewDoc", "u2", at(0, "09:30:00")),
    event("u2-day7-view", "viewDoc", "u2", at(7, "10:00:00"), error="[Error] capitalised is no marker"),
    event("u2-day7-buy", "buy", "u2", at(7, "10:00:00")),
    event("u3-view", "viewDoc", "u3", at(1, "11:00:00"), error="disk [error] retried"),
    event("u3-view-again", "viewDoc", "u3", at(1, "11:01:00")),
    event("u3-share", "share", "u3", at(2, "15:00:00"), error=""),
    event("u4-view", "viewDoc", "u4", "2026-03-02T00:30:00+02:00", at(0, "22:30:02")),
    event("u4-buy", "buy", "u4", at(0, "23:59:59.999"), at(1, "00:00:00.500"), error="[ERROR] card declined"),
    event("u5-late", "viewDoc", "u5", at(2, "07:00:00"), at(20, "00:00:00")),
    event("u5-day9", "search", "u5", at(9, "18:00:00")),
    event("no-user", "viewDoc", None, at(0, "12:00:00")),
]
RETRIED_DELIVERY = event("u1-view", "viewDoc", "u1", at(0, "10:00:00"), at(0, "10:00:09"), user_agent="ua-retry")
BASE_WATERMARK = at(30, "08:00:01").replace(tzinfo=None)

# (event_id, event_day, user_id, action, received_at, error_msg, is_error, user_agent)
EXPECTED_DWD = [
    ("u1-buy", day(0), "u1", "buy", at(0, "10:05:01"), None, False, "ua"),
    ("u1-day1", day(1), "u1", "viewDoc", at(1, "09:00:01"), None, False, "ua"),
    ("u1-day30", day(30), "u1", "logout", at(30, "08:00:01"), None, False, "ua"),
    ("u1-day7", day(7), "u1", "search", at(7, "12:00:01"), "[PANIC] out of memory", True, "ua"),
    ("u1-view", day(0), "u1", "viewDoc", at(0, "10:00:01"), None, False, "ua-first"),
    ("u2-buy", day(0), "u2", "buy", at(0, "09:00:01"), None, False, "ua"),
    ("u2-day7-buy", day(7), "u2", "buy", at(7, "10:00:01"), None, False, "ua"),
    (
        "u2-day7-view",
        day(7),
        "u2",
        "viewDoc",
        at(7, "10:00:01"),
        "[Error] capitalised is no marker",
        False,
        "ua",
    ),
    ("u2-view", day(0), "u2", "viewDoc", at(0, "09:30:01"), None, False, "ua"),
    ("u3-share", day(2), "u3", "share", at(2, "15:00:01"), None, False, "ua"),
    ("u3-view", day(1), "u3", "viewDoc", at(1, "11:00:01"), "disk [error] retried", True, "ua"),
    ("u3-view-again", day(1), "u3", "viewDoc", at(1, "11:01:01"), None, False, "ua"),
    ("u4-buy", day(0), "u4", "buy", at(1, "00:00:00.500"), "[ERROR] card declined", True, "ua"),
    ("u4-view", day(0), "u4", "viewDoc", at(0, "22:30:02"), None, False, "ua"),
    ("u5-day9", day(9), "u5", "search", at(9, "18:00:01"), None, False, "ua"),
    ("u5-late", day(2), "u5", "viewDoc", at(20, "00:00:00"), None, False, "ua"),
]
# (event_day, user_id, events, distinct_actions, error_events)
EXPECTED_DWM = [
    (day(0), "u1", 2, 2, 0),
    (day(0), "u2", 2, 2, 0),
    (day(0), "u4", 2, 2, 1),
    (day(1), "u1", 1, 1, 0),
    (day(1), "u3", 2, 1, 1),
    (day(2), "u3", 1, 1, 0),
    (day(2), "u5", 1, 1, 0),
    (day(7), "u1", 1, 1, 1),
    (day(7), "u2", 2, 2, 0),
    (day(9), "u5", 1, 1, 0),
    (day(30), "u1", 1, 1, 0),
]
EXPECTED_DIM = [
    ("u1", day(0), day(30)),
    ("u2", day(0), day(7)),
    ("u3", day(1), day(2)),
    ("u4", day(0), day(0)),
    ("u5", day(2), day(9)),
]
# (event_day, dau, new_users, events, error_events, conversion_rate)
# D: viewDoc users u1 (buy after), u2 (buy before), u4 (buy after) -> 2/3.
# D+9 and D+30: nobody viewed a doc -> NULL.
EXPECTED_KPIS = [
    (day(0), 3, 3, 6, 1, Decimal("0.6667")),
    (day(1), 2, 1, 3, 1, Decimal("0.0000")),
    (day(2), 2, 1, 2, 0, Decimal("0.0000")),
    (day(7), 2, 0, 3, 1, Decimal("1.0000")),
    (day(9), 1, 0, 1, 0, None),
    (day(30), 1, 0, 1, 0, None),
]
# (cohort_day, days_after, cohort_users, retained_users); the watermark's day is D+30,
# so D+1 and D+2 have no 30-day row yet.
EXPECTED_RETENTION = [
    (day(0), 1, 3, 1),
    (day(0), 7, 3, 2),
    (day(0), 30, 3, 1),
    (day(1), 1, 1, 1),
    (day(1), 7, 1, 0),
    (day(2), 1, 1, 0),
    (day(2), 7, 1, 1),
]


def expected_base() -> dict[str, list[tuple[Any, ...]]]:
    return {
        "dwd_events": [(*row[:4], row[4].replace(tzinfo=None), *row[5:]) for row in EXPECTED_DWD],
        "dwm_user_daily": list(EXPECTED_DWM),
        "dim_user": list(EXPECTED_DIM),
        "dws_daily_kpis": list(EXPECTED_KPIS),
        "dws_retention": list(EXPECTED_RETENTION),
    }


def models(connection: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every model table, rows sorted; dwd_events reduced to the columns the tests check."""
    dwd = connection.execute(
        "SELECT event_id, event_day, user_id, action, received_at, error_msg, is_error, user_agent "
        "FROM dwd_events ORDER BY event_id"
    ).fetchall()
    tables = {name: warehouse.fetch_table(connection, name)[1] for name in MODEL_TABLES[1:]}
    return {"dwd_events": dwd, **tables}


def full_build(lake: Path) -> dict[str, list[tuple[Any, ...]]]:
    connection = warehouse.connect()
    warehouse.refresh(connection, lake)
    return models(connection)


def refreshed_days(connection: duckdb.DuckDBPyConnection, scope: str) -> list[date]:
    rows = connection.execute(
        "SELECT affected_day FROM etl_refresh_days WHERE scope = ? ORDER BY 1", [scope]
    ).fetchall()
    return [row[0] for row in rows]


def watermarks(connection: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    row = connection.execute("SELECT watermark, previous_watermark FROM etl_refresh_state").fetchone()
    assert row is not None
    return tuple(row)


def upsert(rows: list[tuple[Any, ...]], key_length: int, *new_rows: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Rows with `new_rows` replacing those with the same key (first `key_length` values)."""
    replaced = {row[:key_length] for row in new_rows}
    kept = [row for row in rows if row[:key_length] not in replaced]
    return sorted([*kept, *new_rows], key=lambda row: tuple((value is None, value) for value in row))


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    write_lake(root, BASE_EVENTS)
    write_lake(root, [RETRIED_DELIVERY], file_name="part-0001.parquet")
    return root


@pytest.fixture
def built(lake: Path) -> duckdb.DuckDBPyConnection:
    """A warehouse after its first refresh over the base lake."""
    connection = warehouse.connect()
    warehouse.refresh(connection, lake)
    return connection


def test_a_first_refresh_builds_every_model_with_the_known_answers(built: duckdb.DuckDBPyConnection) -> None:
    assert models(built) == expected_base()
    assert watermarks(built) == (BASE_WATERMARK, None)


def test_dwd_keeps_one_row_per_event_id_with_all_warehouse_columns(built: duckdb.DuckDBPyConnection) -> None:
    columns, rows = warehouse.fetch_table(built, "dwd_events")
    assert set(columns) >= {column.column_name for column in warehouse_columns()}
    event_ids = [row[columns.index("event_id")] for row in rows]
    assert len(event_ids) == len(set(event_ids)) == len(EXPECTED_DWD)
    u4_view = next(row for row in rows if row[columns.index("event_id")] == "u4-view")
    assert u4_view[columns.index("created_at")] == datetime(2026, 3, 1, 22, 30)
    assert u4_view[columns.index("source_ip")] == "203.0.113.7"
    assert u4_view[columns.index("schema_version")] == 1


def test_a_second_refresh_without_new_files_changes_no_model(built: duckdb.DuckDBPyConnection, lake: Path) -> None:
    before = models(built)

    warehouse.refresh(built, lake, RefreshParameters(lookback_days=0))
    assert models(built) == before
    assert refreshed_days(built, "event") == []
    assert watermarks(built) == (BASE_WATERMARK, BASE_WATERMARK)

    # With a look-back the deliveries of the last 3 days (u1 on D+30) are read and
    # rebuilt again, to the same result.
    warehouse.refresh(built, lake, RefreshParameters(lookback_days=3))
    assert models(built) == before
    assert refreshed_days(built, "event") == [day(30)]


def test_a_late_event_for_a_day_inside_the_look_back_window_is_picked_up(
    built: duckdb.DuckDBPyConnection, lake: Path
) -> None:
    write_lake(lake, [event("u2-day28", "viewDoc", "u2", at(28, "12:00:00"), at(30, "09:00:00"))], "late.parquet")

    warehouse.refresh(built, lake, RefreshParameters(lookback_days=3))

    expected = expected_base()
    expected["dwd_events"] = upsert(
        expected["dwd_events"],
        1,
        ("u2-day28", day(28), "u2", "viewDoc", datetime(2026, 3, 31, 9), None, False, "ua"),
    )
    expected["dwm_user_daily"] = upsert(expected["dwm_user_daily"], 2, (day(28), "u2", 1, 1, 0))
    expected["dim_user"] = upsert(expected["dim_user"], 1, ("u2", day(0), day(28)))
    expected["dws_daily_kpis"] = upsert(expected["dws_daily_kpis"], 1, (day(28), 1, 0, 1, 0, Decimal("0.0000")))
    assert models(built) == expected == full_build(lake)
    # D+30 is rebuilt too: u1's event there was received within 3 days of the watermark.
    assert refreshed_days(built, "event") == [day(28), day(30)]
    assert watermarks(built) == (datetime(2026, 3, 31, 9), BASE_WATERMARK)


def test_a_late_event_far_beyond_the_look_back_window_is_picked_up_and_moves_its_user_cohort(
    built: duckdb.DuckDBPyConnection, lake: Path
) -> None:
    # Created 35 days before the watermark, received after it: the watermark catches it.
    # u3's first day moves from D+1 to D-5, so D+1 loses a new user and its cohort.
    write_lake(lake, [event("u3-early", "share", "u3", at(-5, "10:00:00"), at(30, "10:00:00"))], "late.parquet")

    warehouse.refresh(built, lake, RefreshParameters(lookback_days=3))

    expected = expected_base()
    expected["dwd_events"] = upsert(
        expected["dwd_events"],
        1,
        ("u3-early", day(-5), "u3", "share", datetime(2026, 3, 31, 10), None, False, "ua"),
    )
    expected["dwm_user_daily"] = upsert(expected["dwm_user_daily"], 2, (day(-5), "u3", 1, 1, 0))
    expected["dim_user"] = upsert(expected["dim_user"], 1, ("u3", day(-5), day(2)))
    expected["dws_daily_kpis"] = upsert(
        expected["dws_daily_kpis"], 1, (day(-5), 1, 1, 1, 0, None), (day(1), 2, 0, 3, 1, Decimal("0.0000"))
    )
    expected["dws_retention"] = upsert(
        [row for row in expected["dws_retention"] if row[0] != day(1)],
        2,
        (day(-5), 1, 1, 0),
        (day(-5), 7, 1, 1),  # D+2: u3 shared
        (day(-5), 30, 1, 0),
    )
    assert models(built) == expected == full_build(lake)
    assert refreshed_days(built, "event") == [day(-5), day(30)]
    assert day(1) in refreshed_days(built, "kpi")
    assert {day(-5), day(1)} <= set(refreshed_days(built, "cohort"))


def test_a_file_landing_late_within_the_look_back_is_picked_up(built: duckdb.DuckDBPyConnection, lake: Path) -> None:
    # Received 9 hours before the watermark, but the file reaches S3 after the last refresh.
    write_lake(lake, [event("u2-day29", "viewDoc", "u2", at(29, "23:00:00"))], "landed-late.parquet")

    warehouse.refresh(built, lake, RefreshParameters(lookback_days=1))

    expected = expected_base()
    expected["dwd_events"] = upsert(
        expected["dwd_events"],
        1,
        ("u2-day29", day(29), "u2", "viewDoc", at(29, "23:00:01").replace(tzinfo=None), None, False, "ua"),
    )
    expected["dwm_user_daily"] = upsert(expected["dwm_user_daily"], 2, (day(29), "u2", 1, 1, 0))
    expected["dim_user"] = upsert(expected["dim_user"], 1, ("u2", day(0), day(29)))
    expected["dws_daily_kpis"] = upsert(expected["dws_daily_kpis"], 1, (day(29), 1, 0, 1, 0, Decimal("0.0000")))
    assert models(built) == expected == full_build(lake)
    assert watermarks(built) == (BASE_WATERMARK, BASE_WATERMARK)


@pytest.mark.parametrize(
    "catch_up",
    [RefreshParameters(lookback_days=11), "full"],
    ids=["a-wider-look-back", "a-full-refresh"],
)
def test_a_file_landing_later_than_the_look_back_is_missed_until_a_wider_or_full_refresh(
    built: duckdb.DuckDBPyConnection, lake: Path, catch_up: RefreshParameters | str
) -> None:
    # Received on D+20, ten days before the watermark, and only now in S3 (say, a
    # redelivery from Firehose's error prefix). A 3-day look-back does not read it.
    write_lake(lake, [event("u4-day20", "search", "u4", at(20, "10:00:00"))], "redelivered.parquet")

    warehouse.refresh(built, lake, RefreshParameters(lookback_days=3))
    assert models(built) == expected_base()
    assert models(built) != full_build(lake)

    if catch_up == "full":
        warehouse.refresh(built, lake, RefreshParameters(lookback_days=3), full=True)
    else:
        assert isinstance(catch_up, RefreshParameters)
        warehouse.refresh(built, lake, catch_up)
    assert models(built) == full_build(lake)
    assert (day(20), "u4", 1, 1, 0) in models(built)["dwm_user_daily"]


def test_a_later_duplicate_created_on_another_day_does_not_add_a_row(
    built: duckdb.DuckDBPyConnection, lake: Path
) -> None:
    # Same event_id as u2's D+7 viewDoc, but stamped D+8 and delivered after the original:
    # the original delivery stays, and D+7 is rebuilt with D+8 so it cannot be counted twice.
    duplicate = event("u2-day7-view", "viewDoc", "u2", at(8, "10:00:00"), at(30, "11:00:00"), user_agent="ua-dup")
    write_lake(lake, [duplicate], "duplicate.parquet")

    warehouse.refresh(built, lake, RefreshParameters(lookback_days=0))

    assert models(built) == expected_base() == full_build(lake)
    assert refreshed_days(built, "event") == [day(7), day(8)]


def test_an_earlier_delivery_landing_late_replaces_the_kept_one_and_moves_its_day(
    built: duckdb.DuckDBPyConnection, lake: Path
) -> None:
    # A copy of u2's D+7 viewDoc received before the original (its file landed late) and
    # stamped D+8: it becomes the kept delivery, so the event moves from D+7 to D+8.
    earlier = event("u2-day7-view", "viewDoc", "u2", at(8, "10:00:00"), at(7, "09:00:00"), user_agent="ua-early")
    write_lake(lake, [earlier], "early-copy.parquet")

    warehouse.refresh(built, lake, RefreshParameters(lookback_days=30))

    expected = expected_base()
    expected["dwd_events"] = upsert(
        expected["dwd_events"],
        1,
        ("u2-day7-view", day(8), "u2", "viewDoc", datetime(2026, 3, 8, 9), None, False, "ua-early"),
    )
    expected["dwm_user_daily"] = upsert(expected["dwm_user_daily"], 2, (day(7), "u2", 1, 1, 0), (day(8), "u2", 1, 1, 0))
    expected["dim_user"] = upsert(expected["dim_user"], 1, ("u2", day(0), day(8)))
    expected["dws_daily_kpis"] = upsert(
        expected["dws_daily_kpis"], 1, (day(7), 2, 0, 2, 1, None), (day(8), 1, 0, 1, 0, Decimal("0.0000"))
    )
    assert models(built) == expected == full_build(lake)


def test_a_cohort_gets_its_retention_row_once_the_watermark_reaches_its_day(
    built: duckdb.DuckDBPyConnection, lake: Path
) -> None:
    # A new user on D+32 moves the watermark's day from D+30 to D+32: cohorts D+1 and D+2
    # now have a 30-day row (nobody came back), though no event of theirs changed.
    write_lake(lake, [event("u6-first", "search", "u6", at(32, "06:00:00"))], "next-day.parquet")

    warehouse.refresh(built, lake, RefreshParameters(lookback_days=0))

    # Cohort D+32 (u6) has no row yet: its first retention day, D+33, is still ahead.
    assert models(built)["dws_retention"] == upsert(EXPECTED_RETENTION, 2, (day(1), 30, 1, 0), (day(2), 30, 1, 0))
    assert models(built) == full_build(lake)


def test_the_earliest_delivery_decides_the_user_whose_first_day_may_move_to_an_unchanged_day(
    built: duckdb.DuckDBPyConnection, lake: Path
) -> None:
    # u5's D+2 event gets an earlier delivery naming u6 (a client reusing an event id).
    # The event becomes u6's; u5's first day moves to D+9, a day with no new event,
    # whose new-user count and cohort must still be recomputed.
    earlier = event("u5-late", "viewDoc", "u6", at(2, "07:00:00"), at(19, "12:00:00"))
    write_lake(lake, [earlier], "reused-id.parquet")

    warehouse.refresh(built, lake, RefreshParameters(lookback_days=11))

    expected = expected_base()
    expected["dwd_events"] = upsert(
        expected["dwd_events"],
        1,
        ("u5-late", day(2), "u6", "viewDoc", datetime(2026, 3, 20, 12), None, False, "ua"),
    )
    expected["dwm_user_daily"] = upsert(
        [row for row in expected["dwm_user_daily"] if row[:2] != (day(2), "u5")], 2, (day(2), "u6", 1, 1, 0)
    )
    expected["dim_user"] = upsert(expected["dim_user"], 1, ("u5", day(9), day(9)), ("u6", day(2), day(2)))
    expected["dws_daily_kpis"] = upsert(expected["dws_daily_kpis"], 1, (day(9), 1, 1, 1, 0, None))
    expected["dws_retention"] = upsert(
        expected["dws_retention"], 2, (day(2), 7, 1, 0), (day(9), 1, 1, 0), (day(9), 7, 1, 0)
    )
    assert models(built) == expected == full_build(lake)
    assert refreshed_days(built, "event") == [day(2), day(30)]


def test_conversion_actions_are_settable(lake: Path) -> None:
    # Reversed: on D the buyers are u1 (viewed before), u2 (viewed 30 min after) and u4
    # (viewed before) -> 1/3; on D+7 u2 viewed at the moment of buying -> 1.
    connection = warehouse.connect()
    parameters = RefreshParameters(conversion_from_action="buy", conversion_to_action="viewDoc")
    warehouse.refresh(connection, lake, parameters)
    rates = dict(connection.execute("SELECT event_day, conversion_rate FROM dws_daily_kpis").fetchall())
    assert rates == {
        day(0): Decimal("0.3333"),
        day(1): None,
        day(2): None,
        day(7): Decimal("1.0000"),
        day(9): None,
        day(30): None,
    }


# --- The SQL files and their loader -------------------------------------------------------

SQL_FILES = sorted(redshift_sql.SQL_DIR.glob("*.sql"))
DEPLOY = DeployParameters(
    glue_database="uba_dev_lake", spectrum_role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/uba-spectrum"
)


@pytest.mark.parametrize("path", SQL_FILES, ids=[path.name for path in SQL_FILES])
def test_every_sql_file_parses_as_redshift_without_falling_back_to_commands(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    statements = [tree for tree in sqlglot.parse(text, read="redshift") if tree is not None]
    assert len(statements) == len(redshift_sql.split_statements(text)) > 0
    commands = [" ".join(f"{tree.this} {tree.expression}".replace("'", "").split()[:3]).upper() for tree in statements
                if isinstance(tree, exp.Command)]  # fmt: skip
    # sqlglot has no model of CREATE EXTERNAL SCHEMA or of CALL: the only statements allowed as Commands.
    allowed = {"00_ods_schema.sql": ["CREATE EXTERNAL SCHEMA"], "refresh.sql": ["CALL UBA_STAGE_LAKE_EVENTS()"]}
    assert commands == allowed.get(path.name, [])


def test_rendered_statements_parse_and_keep_no_placeholder() -> None:
    statements = redshift_sql.deploy_statements(DEPLOY) + redshift_sql.refresh_statements(full=True)
    for statement in statements:
        assert "{{" not in statement
        (tree,) = sqlglot.parse(statement, read="redshift")
        assert tree is not None
    assert "DATABASE 'uba_dev_lake'" in statements[0]
    assert f"IAM_ROLE 'arn:aws:iam::{ACCOUNT_ID}:role/uba-spectrum'" in statements[0]


def test_deploy_ddl_is_idempotent_and_runs_twice_on_duckdb() -> None:
    trees = [sqlglot.parse_one(statement, read="redshift") for statement in redshift_sql.deploy_statements(DEPLOY)[1:]]
    assert all(isinstance(tree, exp.Create) and tree.args.get("exists") for tree in trees)
    connection = warehouse.connect()
    for _ in range(2):
        for statement in warehouse.duckdb_deploy_statements():
            connection.execute(statement)
    tables = {row[0] for row in connection.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert tables == set(redshift_sql.table_names())
    assert set(MODEL_TABLES) <= tables


def test_the_refresh_is_one_batch_execute_statement() -> None:
    statements = redshift_sql.refresh_statements(RefreshParameters(lookback_days=7))
    assert 0 < len(statements) <= redshift_sql.MAX_BATCH_STATEMENTS
    assert "CAST('7' AS INTEGER)" in statements[1]
    assert not any(statement.rstrip().endswith(";") for statement in statements)
    assert redshift_sql.refresh_statements(full=True) == [
        redshift_sql.FULL_REFRESH_RESET,
        *redshift_sql.refresh_statements(),
    ]


def _column_types(create_sql: str) -> dict[str, tuple[str, list[str]]]:
    tree = sqlglot.parse_one(create_sql, read="redshift")
    assert isinstance(tree, exp.Create)
    return {
        column.name: (
            column.args["kind"].this.name,
            [param.name for param in column.args["kind"].expressions],
        )
        for column in tree.find_all(exp.ColumnDef)
    }


def test_dwd_columns_follow_the_event_contract() -> None:
    statements = redshift_sql.split_statements((redshift_sql.SQL_DIR / "20_dwd_events.sql").read_text())
    dwd, staged = (_column_types(statement) for statement in statements)
    assert staged == dwd  # the refresh's work table mirrors dwd_events exactly
    for column in warehouse_columns():
        if column.logical_type == "string":
            assert column.max_length is not None
            # Redshift sizes VARCHAR in bytes; a UTF-8 character takes up to 4.
            assert dwd[column.column_name] == ("VARCHAR", [str(4 * column.max_length)]), column.column_name
        else:
            expected = {"timestamp": "TIMESTAMP", "int": "INT"}[column.logical_type]
            assert dwd[column.column_name] == (expected, []), column.column_name
    assert set(dwd) - {column.column_name for column in warehouse_columns()} == {"event_day", "is_error"}


def test_the_splitter_ignores_semicolons_in_strings_identifiers_and_comments() -> None:
    sql = """
    -- a header; with a semicolon
    SELECT 'a;b', "odd;name" FROM t; /* c; d */
    SELECT 'it''s;' -- trailing; comment
    ;
    -- nothing but a comment;
    """
    assert redshift_sql.split_statements(sql) == [
        """SELECT 'a;b', "odd;name" FROM t""",
        "SELECT 'it''s;' -- trailing; comment",
    ]
    with pytest.raises(SqlFileError, match="unterminated"):
        redshift_sql.split_statements("SELECT 'open")


def test_placeholders_render_only_inside_string_literals(tmp_path: Path) -> None:
    assert redshift_sql.render("SELECT '{{a}}' -- {{a}} stays", {"a": "it's"}) == "SELECT 'it''s' -- {{a}} stays"
    with pytest.raises(SqlFileError, match="no value for placeholder"):
        redshift_sql.render("SELECT '{{missing}}'", {"a": 1})
    with pytest.raises(SqlFileError, match="outside a string literal"):
        redshift_sql.render("SELECT {{a}}", {"a": 1})

    (tmp_path / "00_bad.sql").write_text("SELECT * FROM t WHERE d > {{lookback_days}};")
    (tmp_path / "refresh.sql").write_text("SELECT '{{lookback_days}}';")
    with pytest.raises(SqlFileError, match=r"00_bad\.sql"):
        redshift_sql.deploy_statements(DEPLOY, sql_dir=tmp_path)
    assert redshift_sql.refresh_statements(sql_dir=tmp_path) == ["SELECT '3'"]


def test_a_conversion_action_with_a_quote_is_escaped_not_injected() -> None:
    statements = redshift_sql.refresh_statements(RefreshParameters(conversion_to_action="buy' OR 'x'='x"))
    kpis = next(statement for statement in statements if statement.startswith("INSERT INTO dws_daily_kpis"))
    assert "'buy'' OR ''x''=''x'" in kpis
    sqlglot.parse_one(kpis, read="redshift")


@pytest.mark.parametrize(
    ("model", "values", "problem"),
    [
        (
            DeployParameters,
            {"glue_database": "uba'; DROP TABLE x; --", "spectrum_role_arn": DEPLOY.spectrum_role_arn},
            "glue_database",
        ),
        (
            DeployParameters,
            {"glue_database": "uba", "spectrum_role_arn": "arn:aws:iam::123:role/x"},
            "spectrum_role_arn",
        ),
        (
            DeployParameters,
            {"glue_database": "uba", "spectrum_role_arn": "arn:aws:s3:::bucket"},
            "spectrum_role_arn",
        ),
        (RefreshParameters, {"lookback_days": -1}, "lookback_days"),
        (RefreshParameters, {"lookback_days": 4000}, "lookback_days"),
        (RefreshParameters, {"lookback_days": "3"}, "lookback_days"),
        (RefreshParameters, {"lookback_days": True}, "lookback_days"),
        (RefreshParameters, {"conversion_from_action": ""}, "conversion_from_action"),
        (RefreshParameters, {"conversion_to_action": "a\\b"}, "conversion_to_action"),
        (RefreshParameters, {"conversion_to_action": "x" * 257}, "conversion_to_action"),
        (RefreshParameters, {"conversion_from_action": "buy"}, "two different actions"),
    ],
)
def test_parameters_refuse_bad_values(model: type, values: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        model(**values)


# --- The command line -------------------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert warehouse.main(list(args)) == 0
    return capsys.readouterr().out


def test_cli_prints_a_model_as_json(lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = json.loads(run_cli(capsys, "--lake", str(lake), "--table", "dws_daily_kpis", "--format", "json"))
    assert rows == [
        {
            "event_day": event_day.isoformat(),
            "dau": dau,
            "new_users": new_users,
            "events": events,
            "error_events": errors,
            "conversion_rate": None if rate is None else float(rate),
        }
        for event_day, dau, new_users, events, errors, rate in EXPECTED_KPIS
    ]


def test_cli_state_file_keeps_the_warehouse_between_runs(
    lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "warehouse.duckdb"
    first = run_cli(capsys, "--lake", str(lake), "--table", "dim_user", "--state", str(state))
    assert first.splitlines()[0].split() == ["user_id", "first_seen_day", "last_seen_day"]
    assert first.splitlines()[2].split() == ["u1", "2026-03-01", "2026-03-31"]

    write_lake(lake, [event("u6-new", "viewDoc", "u6", at(31, "08:00:00"))], "next-hour.parquet")
    args = ("--lake", str(lake), "--state", str(state), "--lookback-days", "0", "--format", "json")
    rebuilt = json.loads(run_cli(capsys, *args, "--table", "etl_refresh_days"))
    assert {(row["scope"], row["affected_day"]) for row in rebuilt if row["scope"] == "event"} == {
        ("event", "2026-04-01")
    }
    users = json.loads(run_cli(capsys, *args, "--table", "dim_user"))
    assert users[-1] == {"user_id": "u6", "first_seen_day": "2026-04-01", "last_seen_day": "2026-04-01"}
    assert len(users) == len(EXPECTED_DIM) + 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--table", "no_such_table"], "unknown table 'no_such_table'"),
        (["--lookback-days", "-2"], "must be 0 or more days"),
        (["--lookback-days", "three"], "expected a whole number of days"),
        (["--lookback-days", "9999"], "lookback_days"),
        (["--conversion-from", "buy"], "two different actions"),
        (["--state", "/nonexistent/dir/state.duckdb"], "no directory for the state file"),
    ],
)
def test_cli_refuses_bad_arguments(
    lake: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    base = {"--lake": str(lake), "--table": "dim_user"}
    for flag in arguments[::2]:
        base.pop(flag, None)
    argv = [*[item for pair in base.items() for item in pair], *arguments]
    with pytest.raises(SystemExit) as exit_info:
        warehouse.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("make_lake", "message"),
    [
        (lambda root: root / "missing", "no lake directory"),
        (lambda root: root, "expected Parquet files under"),
        (lambda root: (root / "events").mkdir() or root, "No files found"),
    ],
    ids=["missing", "no-events-folder", "no-files"],
)
def test_cli_refuses_a_missing_or_empty_lake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_lake: Any, message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        warehouse.main(["--lake", str(make_lake(tmp_path)), "--table", "dim_user"])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_refuses_a_state_file_that_is_not_duckdb(
    lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "notes.txt"
    state.write_text("not a database")
    with pytest.raises(SystemExit) as exit_info:
        warehouse.main(["--lake", str(lake), "--table", "dim_user", "--state", str(state)])
    assert exit_info.value.code == 2
    assert "cannot open the state file" in capsys.readouterr().err


# --- The lake read: only objects that arrived since watermark - look-back -------------------------


def arrived(files: list[Path], moment: datetime) -> None:
    """Give files the creation time S3 would report (the local registrar reads modification times)."""
    for path in files:
        os.utime(path, (moment.timestamp(), moment.timestamp()))


def test_the_incremental_read_opens_only_objects_that_arrived_since_the_bound_late_events_included(
    tmp_path: Path,
) -> None:
    lake = tmp_path / "lake"
    arrived(write_lake(lake, BASE_EVENTS), at(30, "08:05:00"))
    arrived(write_lake(lake, [RETRIED_DELIVERY], file_name="part-0001.parquet"), at(30, "08:05:00"))
    connection = warehouse.connect()
    warehouse.refresh(connection, lake)
    # watermark D+30 08:00:01 minus the 3-day look-back: objects created from 28 March 08:00 UTC on.
    assert warehouse.arrival_floor(connection) == "2026032808"

    # Created 35 days before the watermark, in an old event-hour folder, but it arrives now: read.
    late = event("u3-early", "share", "u3", at(-5, "10:00:00"), at(30, "10:00:00"))
    arrived(write_lake(lake, [late], "late.parquet"), at(30, "10:04:00"))
    # An object S3 says was created before the bound is never opened, whatever it holds.
    stale = event("u2-stale", "viewDoc", "u2", at(25, "10:00:00"), at(30, "09:30:00"))
    arrived(write_lake(lake, [stale], "stale.parquet"), at(27, "07:59:00"))
    warehouse.refresh(connection, lake)
    loaded = {row[0] for row in models(connection)["dwd_events"]}
    assert "u3-early" in loaded and "u2-stale" not in loaded

    warehouse.refresh(connection, lake, full=True)  # the full refresh reads every object, registered or not
    assert {"u3-early", "u2-stale"} <= {row[0] for row in models(connection)["dwd_events"]}


def test_the_procedure_runs_the_read_the_local_runner_runs() -> None:
    procedure = redshift_sql.stage_procedure()
    whole, bounded = redshift_sql.stage_statement(None), redshift_sql.stage_statement("2026032808")
    assert "FROM ods.events_spectrum AS e" in whole and "events_by_arrival" not in whole
    assert bounded.endswith("AND e.arrival_hour >= '2026032808'") and "FROM ods.events_by_arrival AS e" in bounded
    quoted = "'" + bounded.removesuffix("'2026032808'").replace("'", "''") + "' || quote_literal(arrival_floor)"
    assert f"EXECUTE '{whole.replace(chr(39), chr(39) * 2)}';" in procedure
    assert f"EXECUTE {quoted};" in procedure
    assert f"SELECT INTO arrival_floor {redshift_sql.ARRIVAL_FLOOR} FROM etl_refresh_state AS s;" in procedure
    assert f"SELECT {redshift_sql.ARRIVAL_FLOOR} FROM etl_refresh_state AS s" == redshift_sql.ARRIVAL_FLOOR_QUERY
    assert "CALL uba_stage_lake_events()" in redshift_sql.refresh_statements()
    with pytest.raises(SqlFileError, match="YYYYMMDDHH"):
        redshift_sql.stage_statement("2026-03-28")
