"""The lake's Athena analyses (`sql/athena/*.sql`), run through `tools.query` on DuckDB.

The fixture lake is written in Firehose's layout by `tools.local.lake.write_lake` and holds
known answers: redelivered events, events a millisecond either side of UTC midnight, a
client clock at +08:00 whose UTC day is the day before, a month end and a year end, a user
who buys before viewing, an action that never converts. The partitions of the days
either side of the main range hold, besides rows that would change every answer, a file
whose data pages are destroyed: a query that opened it would fail, so every passing query
over that range proves its partition filter pruned them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot import exp

import sql.athena as athena_sql
from lambdas.events import to_utc_iso
from tools import query
from tools.engine.mocks import PROJECT_DIR
from tools.local.lake import write_lake

REPO_ROOT = PROJECT_DIR
RANGE = {"from_date": "2025-12-31", "to_date": "2026-02-01"}
PARTITION_COLUMNS = {"year", "month", "day"}


def event(
    event_id: str,
    action: str,
    user: str,
    object_id: str,
    created_at: str,
    *,
    received_at: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """A stored record as the stream carries it (camelCase); received when it happened unless said.

    Times may be written with any offset, as a client sends them; the record carries them as ingest
    writes them (UTC, `Z`), the one form downstream readers take.
    """
    created_at, received_at = _as_stored(created_at), _as_stored(received_at or created_at)
    return {
        "eventId": event_id,
        "action": action,
        "userId": user,
        "objectId": object_id,
        "bizId": "docs",
        "createdAt": created_at,
        "errorMsg": error,
        "receivedAt": received_at,
        "sourceIp": "203.0.113.9",
        "userAgent": "pytest",
        "schemaVersion": 1,
    }


def _as_stored(moment: str) -> str:
    return to_utc_iso(datetime.fromisoformat(moment))


def grace_views_the_catalogue() -> list[dict[str, Any]]:
    """2026-01-05: p-01 viewed 3 times, p-02 twice, p-03..p-12 once each, written p-12 first."""
    views = {"p-01": 3, "p-02": 2, **{f"p-{n:02d}": 1 for n in range(3, 13)}}
    records = []
    for hour, (object_id, count) in enumerate(sorted(views.items(), reverse=True)):
        for minute in range(count):
            records.append(
                event(
                    f"g-{object_id}-{minute}",
                    "viewDoc",
                    "grace",
                    object_id,
                    f"2026-01-05T{hour:02d}:{minute:02d}:00Z",
                )
            )
    return records


FIRST_DELIVERIES = [
    # A millisecond before the range starts.
    event("x1", "viewDoc", "alice", "doc-a", "2025-12-30T23:59:59.999Z"),
    # 2025-12-31 (year end)
    event("a1", "viewDoc", "alice", "doc-a", "2025-12-31T10:00:00Z"),
    event("a2", "buy", "alice", "doc-a", "2025-12-31T10:05:00Z"),
    # Bob's clock says New Year's morning; in UTC it is still New Year's Eve.
    event("b1", "viewDoc", "bob", "doc-b", "2026-01-01T07:30:00+08:00"),
    event("b2", "buy", "bob", "doc-b", "2025-12-31T23:59:59.999Z"),
    # Carol buys first and views later: not a conversion.
    event("c1", "buy", "carol", "doc-c", "2025-12-31T08:00:00Z"),
    event("c2", "viewDoc", "carol", "doc-c", "2025-12-31T09:00:00Z", error="[ERROR] timeout"),
    # 2026-01-01
    event("d1", "viewDoc", "dave", "doc-a", "2026-01-01T00:00:00Z"),
    event("d2", "buy", "dave", "doc-a", "2026-01-01T00:00:00Z"),  # same instant as the view: converts
    event("a3", "viewDoc", "alice", "doc-b", "2026-01-01T12:00:00Z", received_at="2026-01-01T12:00:01Z"),
    event(
        "a4",
        "upload",
        "alice",
        "file-1",
        "2026-01-01T13:00:00Z",
        received_at="2026-01-01T13:00:01Z",
        error="[ERROR] disk full",
    ),
    event("e1", "upload", "erin", "file-1", "2026-01-01T13:10:00Z", error="[Error] not a marker"),
    event("c3", "upload", "carol", "file-2", "2026-01-01T13:20:00Z", error="retry [panic] soon"),
    # A later copy of a5 that differs from the earliest one (in part-0001): only the earliest counts.
    event(
        "a5",
        "upload",
        "alice",
        "file-2",
        "2026-01-01T13:30:00Z",
        received_at="2026-01-01T13:30:09Z",
        error="[ERROR] replayed copy",
    ),
    event("e2", "search", "erin", "doc-z", "2026-01-01T15:00:00Z"),  # search never converts
    *grace_views_the_catalogue(),
    # Month end: Frank views a millisecond before midnight and buys the next day.
    event("f1", "viewDoc", "frank", "doc-f", "2026-01-31T23:59:59.999Z", error="[PANIC] renderer crashed"),
    event("f2", "buy", "frank", "doc-f", "2026-02-01T00:00:00Z", error="payment [error] code 7"),
    # The first instant after the range.
    event("z1", "viewDoc", "zed", "doc-z", "2026-02-02T00:00:00Z"),
]

REDELIVERIES = [
    event("a3", "viewDoc", "alice", "doc-b", "2026-01-01T12:00:00Z", received_at="2026-01-01T12:00:05Z"),
    event(
        "a4",
        "upload",
        "alice",
        "file-1",
        "2026-01-01T13:00:00Z",
        received_at="2026-01-01T13:00:07Z",
        error="[ERROR] disk full",
    ),
    event("a5", "upload", "alice", "file-2", "2026-01-01T13:30:00Z", received_at="2026-01-01T13:30:02Z"),
    # Counted twice, p-12 would tie p-02 and push p-10 out of the top 10.
    event("g-p-12-0", "viewDoc", "grace", "p-12", "2026-01-05T00:00:00Z", received_at="2026-01-05T00:00:09Z"),
]

# On the days either side of RANGE, beside x1 and z1; destroyed after writing.
UNREADABLE = [
    event("k1", "viewDoc", "mallory", "doc-k", "2025-12-30T12:00:00Z"),
    event("k2", "viewDoc", "mallory", "doc-k", "2026-02-02T12:00:00Z"),
]


def destroy_data_pages(path: Path) -> None:
    """Overwrite every byte between the leading magic and the footer: the schema still reads, no row does."""
    data = bytearray(path.read_bytes())
    footer_start = len(data) - 8 - pq.ParquetFile(path).metadata.serialized_size
    data[4:footer_start] = b"\xff" * (footer_start - 4)
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    write_lake(root, FIRST_DELIVERIES, file_name="part-0000.parquet")
    write_lake(root, REDELIVERIES, file_name="part-0001.parquet")
    for path in write_lake(root, UNREADABLE, file_name="part-0002.parquet"):
        destroy_data_pages(path)
    return root


def param_args(**params: str) -> list[str]:
    return [f"--param={key}={value}" for key, value in params.items()]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = query.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def rows(capsys: pytest.CaptureFixture[str], lake: Path, name: str, **params: str) -> list[dict[str, Any]]:
    code, out, err = run_cli(capsys, name, "--lake", str(lake), "--format", "json", *param_args(**params))
    assert code == 0, err
    parsed: list[dict[str, Any]] = json.loads(out)
    return parsed


# --- answers ---------------------------------------------------------------------------


def test_dau_counts_each_user_once_per_utc_day(capsys, lake):
    assert rows(capsys, lake, "dau", **RANGE) == [
        {"day": "2025-12-31", "users": 3},  # alice, bob (+08:00 clock), carol
        {"day": "2026-01-01", "users": 4},  # dave, alice, erin, carol
        {"day": "2026-01-05", "users": 1},
        {"day": "2026-01-31", "users": 1},
        {"day": "2026-02-01", "users": 1},
    ]


def test_dau_of_one_day_takes_neither_neighbouring_day(capsys, lake):
    # Bob's 07:30+08:00 view and 23:59:59.999Z buy belong to New Year's Eve, so he is not here.
    assert rows(capsys, lake, "dau", from_date="2026-01-01", to_date="2026-01-01") == [
        {"day": "2026-01-01", "users": 4}
    ]


def test_wau_groups_by_iso_week_starting_monday_across_the_year_end(capsys, lake):
    assert rows(capsys, lake, "wau", **RANGE) == [
        {"week_start": "2025-12-29", "users": 5},  # Wed 31 Dec and Thu 1 Jan share a week
        {"week_start": "2026-01-05", "users": 1},
        {"week_start": "2026-01-26", "users": 1},  # Sat 31 Jan and Sun 1 Feb: frank once
    ]


def test_mau_groups_by_calendar_month(capsys, lake):
    assert rows(capsys, lake, "mau", **RANGE) == [
        {"month": "2025-12", "users": 3},
        {"month": "2026-01", "users": 6},  # dave, alice, erin, carol, grace, frank; not bob
        {"month": "2026-02", "users": 1},
    ]


def test_conversion_counts_a_buy_at_or_after_the_first_view_on_the_same_day(capsys, lake):
    assert rows(capsys, lake, "conversion", **RANGE) == [
        # alice (5 min later) and bob (a millisecond before midnight) convert; carol bought first.
        {"day": "2025-12-31", "from_users": 3, "converted_users": 2, "rate": 0.6667},
        # dave buys in the same millisecond he views; alice views without buying.
        {"day": "2026-01-01", "from_users": 2, "converted_users": 1, "rate": 0.5},
        {"day": "2026-01-05", "from_users": 1, "converted_users": 0, "rate": 0.0},
        # frank buys after midnight: the next day, so not a same-day conversion.
        {"day": "2026-01-31", "from_users": 1, "converted_users": 0, "rate": 0.0},
    ]


def test_conversion_from_an_action_that_never_converts_has_rate_zero(capsys, lake):
    assert rows(capsys, lake, "conversion", **RANGE, from_action="search", to_action="buy") == [
        {"day": "2026-01-01", "from_users": 1, "converted_users": 0, "rate": 0.0}
    ]


def test_error_rate_counts_only_the_four_markers_and_each_event_once(capsys, lake):
    assert rows(capsys, lake, "error_rate", **RANGE) == [
        {"day": "2025-12-31", "action": "buy", "events": 3, "errors": 0, "rate": 0.0},
        {"day": "2025-12-31", "action": "viewDoc", "events": 3, "errors": 1, "rate": 0.3333},
        {"day": "2026-01-01", "action": "buy", "events": 1, "errors": 0, "rate": 0.0},
        {"day": "2026-01-01", "action": "search", "events": 1, "errors": 0, "rate": 0.0},
        # a4 [ERROR] (delivered twice) and c3 [panic]; not e1's [Error] nor a5's later copy.
        {"day": "2026-01-01", "action": "upload", "events": 4, "errors": 2, "rate": 0.5},
        {"day": "2026-01-01", "action": "viewDoc", "events": 2, "errors": 0, "rate": 0.0},
        {"day": "2026-01-05", "action": "viewDoc", "events": 15, "errors": 0, "rate": 0.0},
        {"day": "2026-01-31", "action": "viewDoc", "events": 1, "errors": 1, "rate": 1.0},
        {"day": "2026-02-01", "action": "buy", "events": 1, "errors": 1, "rate": 1.0},
    ]


def test_top_objects_keeps_ten_per_day_and_action_breaking_ties_by_object_id(capsys, lake):
    def top(day: str, action: str, *counts: tuple[str, int]) -> list[dict[str, Any]]:
        return [{"day": day, "action": action, "objectId": o, "events": n} for o, n in counts]

    assert rows(capsys, lake, "top_objects", **RANGE) == [
        *top("2025-12-31", "buy", ("doc-a", 1), ("doc-b", 1), ("doc-c", 1)),
        *top("2025-12-31", "viewDoc", ("doc-a", 1), ("doc-b", 1), ("doc-c", 1)),
        *top("2026-01-01", "buy", ("doc-a", 1)),
        *top("2026-01-01", "search", ("doc-z", 1)),
        *top("2026-01-01", "upload", ("file-1", 2), ("file-2", 2)),
        *top("2026-01-01", "viewDoc", ("doc-a", 1), ("doc-b", 1)),
        *top("2026-01-05", "viewDoc", ("p-01", 3), ("p-02", 2), *((f"p-{n:02d}", 1) for n in range(3, 11))),
        *top("2026-01-31", "viewDoc", ("doc-f", 1)),
        *top("2026-02-01", "buy", ("doc-f", 1)),
    ]


# --- partition pruning ---------------------------------------------------------------


@pytest.mark.parametrize("unreadable_day", ["2025-12-30", "2026-02-02"])
def test_a_range_covering_an_unreadable_partition_fails(capsys, lake, unreadable_day):
    # The control for the pruning test below: the destroyed files really break a query that reads them.
    days = param_args(from_date=unreadable_day, to_date=unreadable_day)
    code, out, err = run_cli(capsys, "dau", "--lake", str(lake), *days)
    assert (code, out) == (query.EXIT_QUERY_FAILED, "")
    assert "reading the lake" in err


@pytest.mark.parametrize("name", athena_sql.query_names())
def test_every_query_reads_only_the_partitions_of_its_range(capsys, lake, name):
    # RANGE ends a day short of both destroyed partitions (and of x1 and z1, whose rows
    # would change every answer above): a query that opened them would fail here.
    code, out, err = run_cli(capsys, name, "--lake", str(lake), *param_args(**RANGE))
    assert (code, err) == (0, "")
    assert out.strip()


@pytest.mark.parametrize("name", athena_sql.query_names())
def test_every_query_filters_the_partition_keys_the_way_athena_projects_them(name):
    # Athena projects partitions from per-column ranges on the partition keys, then tests
    # predicates that read only partition keys on each projected partition; a filter on
    # created_at alone would make it open every file.
    sql, _ = athena_sql.render_for_athena(name)
    scan = next(
        select
        for select in sqlglot.parse_one(sql, read="trino").find_all(exp.Select)
        if any(table.name == "events" for table in select.args["from_"].find_all(exp.Table))
    )
    where = scan.args["where"].this
    conjuncts = list(where.flatten()) if isinstance(where, exp.And) else [where]
    bounds = [c for c in conjuncts if isinstance(c, exp.Between) and c.this == exp.column("year")]
    exact = [c for c in conjuncts if {col.name for col in c.find_all(exp.Column)} == PARTITION_COLUMNS]
    assert bounds, "no BETWEEN on the bare year column for partition projection"
    assert exact, "no predicate on year, month and day together for exact pruning"


# --- the files and their rendering for Athena ------------------------------------------


def test_the_six_analyses_are_deployed(capsys):
    assert athena_sql.query_names() == ["conversion", "dau", "error_rate", "mau", "top_objects", "wau"]


@pytest.mark.parametrize("name", athena_sql.query_names())
def test_every_file_is_one_trino_select_over_events(name):
    for text in (athena_sql.load_query(name).text, athena_sql.render_for_athena(name)[0]):
        statements = sqlglot.parse(text, read="trino")
        assert len(statements) == 1
        statement = statements[0]
        assert isinstance(statement, exp.Select)
        ctes = {cte.alias for cte in statement.find_all(exp.CTE)}
        assert {table.name for table in statement.find_all(exp.Table)} - ctes == {"events"}


@pytest.mark.parametrize("name", athena_sql.query_names())
def test_athena_placeholders_are_positional_and_only_in_where_clauses(name):
    sql, order = athena_sql.render_for_athena(name)
    placeholders = list(sqlglot.parse_one(sql, read="trino").find_all(exp.Placeholder))
    assert len(placeholders) == len(order) <= athena_sql.MAX_ATHENA_PLACEHOLDERS
    assert all(placeholder.name in ("", "?") for placeholder in placeholders)
    assert all(placeholder.find_ancestor(exp.Where) for placeholder in placeholders)
    assert set(order) == set(athena_sql.load_query(name).parameter_names)


def test_athena_parameter_order_follows_the_placeholders():
    sql, order = athena_sql.render_for_athena("conversion")
    assert order == ["from_date", "to_date", "from_date", "to_date", "from_action", "to_action"]
    assert "WHERE action = ?" in sql and ":from_action" not in sql
    assert athena_sql.athena_execution_parameters("conversion", {**RANGE, "to_action": "it's"}) == [
        "'2025-12-31'",
        "'2026-02-01'",
        "'2025-12-31'",
        "'2026-02-01'",
        "'viewDoc'",
        "'it''s'",
    ]


def test_declared_defaults_fill_in_and_are_reported():
    conversion = athena_sql.load_query("conversion")
    assert [(p.name, p.kind, p.default) for p in conversion.parameters] == [
        ("from_date", "date", None),
        ("to_date", "date", None),
        ("from_action", "action", "viewDoc"),
        ("to_action", "action", "buy"),
    ]
    assert conversion.description.startswith("Same-day conversion")
    assert athena_sql.resolve_parameters("conversion", RANGE) == {
        **RANGE,
        "from_action": "viewDoc",
        "to_action": "buy",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from_date": "2026-01-01"}, "missing parameter 'to_date'"),
        ({**RANGE, "day": "2026-01-01"}, "unknown parameter 'day'"),
        ({**RANGE, "from_date": "2026-1-5"}, "from_date must be a date as YYYY-MM-DD"),
        ({**RANGE, "from_date": "20260105"}, "from_date must be a date as YYYY-MM-DD"),
        ({**RANGE, "to_date": "2026-02-30"}, "to_date must be a real calendar date"),
        (
            {"from_date": "2026-01-02", "to_date": "2026-01-01"},
            "from_date 2026-01-02 is after to_date 2026-01-01",
        ),
        ({**RANGE, "from_action": ""}, "from_action must be an event action"),
        ({**RANGE, "to_action": "x" * 257}, "to_action must be an event action"),
        ({**RANGE, "from_action": "buy"}, "from_action and to_action are both 'buy'"),
    ],
)
def test_bad_parameters_are_rejected_with_the_reason(params, message):
    with pytest.raises(athena_sql.ParameterError, match=message.replace("(", r"\(")):
        athena_sql.resolve_parameters("conversion", params)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT 1 FROM events WHERE day = :from_date", "comment header"),
        ("-- x\nSELECT 1 FROM events WHERE day = :from_date", "one `-- params:` line"),
        ("-- x\n-- params: from_date\nSELECT 1 FROM events WHERE day = :to_date", "undeclared"),
        ("-- x\n-- params: from_date, to_date\nSELECT 1 FROM events WHERE day = :from_date", "never uses"),
        ("-- x\n-- params: from_date\nSELECT 1 FROM events WHERE day = ? AND d = :from_date", "not `?`"),
        ("-- x\n-- params: from_date\nSELECT 1 FROM events WHERE day = :from_date;", "without `;`"),
        ("-- x\n-- params: limit\nSELECT 1 FROM events WHERE n = :limit", "no known kind"),
        ("-- x\n-- params: from_date=soon\nSELECT 1 FROM events WHERE d = :from_date", "bad default"),
        ("-- x\n-- params: from_date\nSELECT 1 FROM events WHERE d = : from_date", "not followed by"),
    ],
)
def test_a_file_breaking_the_convention_is_refused(tmp_path, text, message):
    path = tmp_path / "broken.sql"
    path.write_text(text)
    with pytest.raises(athena_sql.QueryDefinitionError, match=message.replace("?", r"\?")):
        athena_sql.read_query_file(path)


def test_colons_inside_strings_and_comments_are_not_parameters(tmp_path):
    path = tmp_path / "times.sql"
    path.write_text(
        "-- Times like 10:00 in comments are fine.\n-- params: from_date\n"
        "SELECT '12:30:from_date' AS t FROM events /* :to_date */ WHERE d = :from_date\n"
    )
    parsed = athena_sql.read_query_file(path)
    assert [p.name for p in parsed.placeholders] == ["from_date"]


# --- the command line ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["retention", "--param", "from_date=2026-01-01", "--param", "to_date=2026-01-02"],
            "unknown query 'retention'",
        ),
        (["dau", "--param", "from_date=2026-01-01"], "missing parameter 'to_date'"),
        (
            ["dau", "--param", "from_date=2026-01-01", "--param", "to_date=2026-01-02", "--param", "x=1"],
            "unknown parameter",
        ),
        (["dau", "--param", "from_date", "--param", "to_date=2026-01-02"], "--param expects NAME=VALUE"),
        (["dau", "--param", "from_date=2026-01-01", "--param", "from_date=2026-01-02"], "given twice"),
        (["dau", "--param", "from_date=01/02/2026", "--param", "to_date=2026-01-02"], "YYYY-MM-DD"),
        (["dau", "--param", "from_date=2026-02-01", "--param", "to_date=2026-01-01"], "is after to_date"),
    ],
)
def test_cli_rejects_bad_input_with_a_message_and_exit_2(capsys, lake, argv, message):
    code, out, err = run_cli(capsys, *argv, "--lake", str(lake))
    assert (code, out) == (query.EXIT_BAD_INPUT, "")
    assert message in err


@pytest.mark.parametrize("lake_dir", ["nowhere", "empty"])
def test_cli_rejects_a_lake_directory_without_events(capsys, tmp_path, lake_dir):
    (tmp_path / "empty" / "events" / "year=2026").mkdir(parents=True)
    days = param_args(from_date="2026-01-01", to_date="2026-01-02")
    code, out, err = run_cli(capsys, "dau", "--lake", str(tmp_path / lake_dir), *days)
    assert (code, out) == (query.EXIT_BAD_INPUT, "")
    assert "no lake at" in err


def test_cli_rejects_an_unknown_format(capsys, lake):
    with pytest.raises(SystemExit) as exit_info:
        query.main(["dau", "--lake", str(lake), "--param", "from_date=2026-01-01", "--format", "xml"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_running_the_module_prints_a_table_and_json(lake):
    def run_module(*extra: str) -> str:
        completed = subprocess.run(
            [sys.executable, "-m", "tools.query", "mau", "--lake", str(lake), *param_args(**RANGE), *extra],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    assert run_module().splitlines() == [
        "month    users",
        "-------  -----",
        "2025-12      3",
        "2026-01      6",
        "2026-02      1",
        "(3 rows)",
    ]
    assert json.loads(run_module("--format", "json"))[1] == {"month": "2026-01", "users": 6}
