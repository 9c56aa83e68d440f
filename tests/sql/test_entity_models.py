"""The warehouse's entity models (sql/redshift/entities.py) on DuckDB, fed the exact records DMS writes.

The records go the way they go in AWS: through the change processor into a lake laid out as the
`changes-to-lake` Firehose writes it (tools.local.changes), then the refresh (with its
`CALL uba_apply_changes()`) keeps each entity's current state. What the state must be is worked
out independently, in Python, from the contract's commit order (`reference_state`); the tests
deliver the same history shuffled, duplicated, split across refreshes and replayed, and the
warehouse must always end where the reference does.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from lambdas.change_records import BEFORE_PREFIX, flatten, order_key
from lambdas.events import to_utc_iso
from settings import load_settings
from sql.changes import ChangeTable, change_tables, tables_by_name
from sql.redshift import APPLY_CALL, FULL_REFRESH_RESET, LOOKBACK_UPDATE, RefreshParameters, refresh_statements
from sql.redshift.entities import (
    APPLY_PROCEDURE,
    apply_procedure,
    apply_statements,
    deploy_statements,
    merge_statements,
    stage_statements,
)
from tests.support.config import cdc_section, raw_config
from tools import warehouse
from tools.local.changes import create_change_views, deliver_changes
from tools.local.dms import DmsWriter
from tools.local.lake import write_lake

T0 = datetime(2026, 1, 1, 8, 0, 0, tzinfo=UTC)
DOC_COLUMNS = ["id", "title", "category", "biz_id", "pages", "published", "updated_at"]


def tables() -> list[ChangeTable]:
    raw = raw_config("dev") | {"cdc": cdc_section()}
    return change_tables(load_settings(raw, "dev").cdc.tables)


TABLES = tables()
ENTITIES = warehouse.EntityModels.of(TABLES)


def doc(key: str, title: str, biz: str = "biz-1") -> dict[str, Any]:
    return {"id": key, "title": title, "category": "guides", "biz_id": biz, "pages": 3, "published": True,
            "updated_at": "2026-01-01 07:00:00"}  # fmt: skip


def history() -> list[dict[str, Any]]:
    """A database's story, as DMS tells it: full load, then changes in commit order."""
    w = DmsWriter({t.qualified: list(t.spec.key) for t in TABLES})
    columns = dict(zip(DOC_COLUMNS, ["string"] * 4 + ["bigint", "boolean", "timestamp"], strict=True))
    records = [
        w.control("public.documents", "create-table", columns, T0),
        w.load("public.documents", doc("doc-1", "Intro"), T0),
        w.load("public.documents", doc("doc-2", "Pricing"), T0),
        w.load("public.documents", doc("doc-3", "Legacy"), T0),
        w.load("public.business_lines", {"id": "biz-1", "name": "Books", "region": "eu"}, T0),
    ]
    t1 = w.transaction(T0 + timedelta(minutes=1))
    records += [t1.update("public.documents", doc("doc-1", "Intro, 2nd edition"))]
    # One transaction spanning both tables: a new business line and a document moved to it.
    t2 = w.transaction(T0 + timedelta(minutes=2))
    records += [
        t2.insert("public.business_lines", {"id": "biz-2", "name": "Travel", "region": "us"}),
        t2.update("public.documents", doc("doc-2", "Pricing", biz="biz-2")),
    ]
    t3 = w.transaction(T0 + timedelta(minutes=3))
    records += [t3.delete("public.documents", {"id": "doc-3"}, DOC_COLUMNS)]
    # The key of doc-1 changes: doc-1 is gone, doc-10 carries its row on.
    t4 = w.transaction(T0 + timedelta(minutes=4))
    records += [t4.update("public.documents", doc("doc-10", "Intro, 2nd edition"), old_key={"id": "doc-1"})]
    records += [
        w.control("public.documents", "add-column", {**columns, "summary": "string"}, T0 + timedelta(minutes=5))
    ]
    # Two changes of one row in one transaction (same commit time): the later record wins.
    t5 = w.transaction(T0 + timedelta(minutes=6))
    records += [
        t5.insert("public.documents", doc("doc-4", "Draft")),
        t5.update("public.documents", doc("doc-4", "Final")),
        t5.update("public.business_lines", {"id": "biz-1", "name": "Books & Media", "region": "eu"}),
    ]
    # doc-3 comes back after its delete (same key, a new row).
    t6 = w.transaction(T0 + timedelta(minutes=7))
    records += [t6.insert("public.documents", doc("doc-3", "Legacy, restored"))]
    return records


def reference_state(records: Sequence[Mapping[str, Any]], table: ChangeTable) -> dict[Any, dict[str, Any]]:
    """The current rows of a table, computed from the contract's commit order: what the warehouse must hold."""
    specs = tables_by_name(TABLES)
    rows = [flatten(r, specs).row for r in records if r["metadata"]["table-name"] == table.table]
    current: dict[Any, dict[str, Any] | None] = {}
    (key,) = table.spec.key
    for row in sorted((r for r in rows if r["cdc_record_type"] == "data"), key=order_key):
        current[row[key]] = None if row["cdc_operation"] == "delete" else row
        if row.get(BEFORE_PREFIX + key) is not None:
            current[row[BEFORE_PREFIX + key]] = None
    return {k: v for k, v in current.items() if v is not None}


def dims(connection: Any) -> dict[str, dict[str, tuple[Any, ...]]]:
    result = {}
    for view, label in (("dim_object", "title"), ("dim_biz", "name")):
        rows = connection.execute(f'SELECT id, "{label}" FROM {view} ORDER BY id').fetchall()
        result[view] = {row[0]: row[1:] for row in rows}
    return result


def expected_dims(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, tuple[Any, ...]]]:
    documents, business = TABLES
    return {
        "dim_object": {k: (v["title"],) for k, v in reference_state(records, documents).items()},
        "dim_biz": {k: (v["name"],) for k, v in reference_state(records, business).items()},
    }


# The object and business line each of the four events names.
NAMED = [("doc-10", "biz-1"), ("doc-2", "biz-2"), ("doc-2", "biz-2"), ("doc-9", "biz-9")]


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    """A lake with a day of events (the refresh reads those too) and nothing replicated yet."""
    root = tmp_path / "lake"
    events = [
        {"eventId": f"e{i}", "action": "viewDoc", "userId": f"u{i % 2}", "objectId": obj, "bizId": biz,
         "createdAt": to_utc_iso(T0 + timedelta(minutes=i)), "errorMsg": "[error] x" if i == 3 else None,
         "receivedAt": to_utc_iso(T0 + timedelta(minutes=i, seconds=1)), "schemaVersion": 1}
        for i, (obj, biz) in enumerate(NAMED)
    ]  # fmt: skip
    write_lake(root, events)
    return root


def refresh(connection: Any, lake: Path, *, full: bool = False) -> None:
    warehouse.refresh(connection, lake, RefreshParameters(lookback_days=1), full=full, entities=ENTITIES)


def test_the_current_state_is_the_last_change_of_each_key_in_commit_order(lake: Path) -> None:
    records = history()
    delivery = deliver_changes(lake, TABLES, records, "part-0.parquet")
    assert delivery.failed == [] and delivery.unmapped == []
    connection = warehouse.connect()
    refresh(connection, lake)
    assert dims(connection) == expected_dims(records) == {
        "dim_object": {"doc-10": ("Intro, 2nd edition",), "doc-2": ("Pricing",), "doc-3": ("Legacy, restored",),
                       "doc-4": ("Final",)},
        "dim_biz": {"biz-1": ("Books & Media",), "biz-2": ("Travel",)},
    }  # fmt: skip
    # The deleted and the re-keyed rows stay as tombstones, so an older change arriving later cannot revive them.
    tombstones = connection.execute("SELECT id FROM cdc_object_state WHERE cdc_deleted ORDER BY id").fetchall()
    assert tombstones == [("doc-1",)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_out_of_order_deliveries_duplicates_and_replays_end_in_the_same_state(lake: Path, seed: int) -> None:
    records = history()
    shuffled = random.Random(seed).sample(records, len(records))
    duplicated = shuffled + random.Random(seed + 10).sample(records, len(records) // 2)
    thirds = [duplicated[i::3] for i in range(3)]
    connection = warehouse.connect()
    for index, batch in enumerate(thirds):  # three deliveries, each followed by a scheduled refresh
        deliver_changes(lake, TABLES, batch, f"part-{index}.parquet")
        refresh(connection, lake)
    assert dims(connection) == expected_dims(records)
    # A replay of the whole history (DMS restarted from the start) changes nothing.
    deliver_changes(lake, TABLES, records, "replay.parquet")
    refresh(connection, lake)
    assert dims(connection) == expected_dims(records)


def test_an_old_change_arriving_after_a_newer_one_loses(lake: Path) -> None:
    records = history()
    newest_title = [r for r in records if r["metadata"].get("transaction-id") == 1144]  # doc-4 Final, biz-1 renamed
    connection = warehouse.connect()
    deliver_changes(lake, TABLES, [r for r in records if r not in newest_title], "early.parquet")
    refresh(connection, lake)
    assert dims(connection)["dim_object"]["doc-4"] == ("Final",)  # the same transaction holds Draft and Final
    # An earlier version of doc-2 (its full-load row) arrives again, late and alone.
    deliver_changes(lake, TABLES, [records[2]], "late.parquet")
    refresh(connection, lake)
    assert dims(connection)["dim_object"]["doc-2"] == ("Pricing",)
    assert connection.execute("SELECT biz_id FROM dim_object WHERE id = 'doc-2'").fetchall() == [("biz-2",)]


def test_a_refresh_with_nothing_new_changes_nothing_and_a_full_rebuild_equals_the_increments(lake: Path) -> None:
    records = history()
    connection = warehouse.connect()
    for index, batch in enumerate([records[:6], records[6:]]):
        deliver_changes(lake, TABLES, batch, f"part-{index}.parquet")
        refresh(connection, lake)
    state = connection.execute("SELECT * FROM cdc_object_state ORDER BY id").fetchall()
    refresh(connection, lake)
    assert connection.execute("SELECT * FROM cdc_object_state ORDER BY id").fetchall() == state
    rebuilt = warehouse.connect()
    refresh(rebuilt, lake, full=True)
    assert rebuilt.execute("SELECT * FROM cdc_object_state ORDER BY id").fetchall() == state
    refresh(connection, lake, full=True)  # a full refresh of a live warehouse: the same state again
    assert connection.execute("SELECT * FROM cdc_object_state ORDER BY id").fetchall() == state


def test_changes_beyond_the_look_back_wait_for_a_full_refresh(lake: Path) -> None:
    records = history()
    connection = warehouse.connect()
    deliver_changes(lake, TABLES, records[:-1], "part-0.parquet")
    refresh(connection, lake)
    # The last change lands in the lake late: DMS emitted it two days before the watermark (lookback 1 day).
    late = dict(records[-1], metadata={**records[-1]["metadata"], "timestamp": "2025-12-30T08:00:00.000000Z"})
    deliver_changes(lake, TABLES, [late], "late.parquet")
    refresh(connection, lake)
    assert "doc-3" not in dims(connection)["dim_object"]  # missed: older than watermark - look-back
    refresh(connection, lake, full=True)
    assert dims(connection)["dim_object"]["doc-3"] == ("Legacy, restored",)


def test_control_records_and_schema_drift_do_not_touch_the_models(lake: Path) -> None:
    records = history()
    extra = [{**r, "data": {**r["data"], "summary": "added at the source"}} for r in records if "data" in r]
    delivery = deliver_changes(lake, TABLES, extra, "part-0.parquet")
    assert set(delivery.unmapped) >= {"public.documents.summary"}
    connection = warehouse.connect()
    refresh(connection, lake)
    assert dims(connection) == expected_dims(records)


def test_the_dws_view_joins_events_to_the_current_entities(lake: Path) -> None:
    deliver_changes(lake, TABLES, history(), "part-0.parquet")
    connection = warehouse.connect()
    refresh(connection, lake)
    rows = connection.execute(
        "SELECT biz_id, biz_label, events, users, error_events FROM dws_daily_biz_activity ORDER BY biz_id"
    ).fetchall()
    # e3, the [error] one, names biz-9, which no business line has: counted, without a label.
    assert rows == [("biz-1", "Books & Media", 1, 1, 0), ("biz-2", "Travel", 2, 2, 0), ("biz-9", None, 1, 1, 1)]
    objects = dict(connection.execute("SELECT object_id, object_label FROM dws_daily_object_activity").fetchall())
    assert objects == {"doc-10": "Intro, 2nd edition", "doc-2": "Pricing", "doc-9": None}


def test_the_refresh_applies_changes_right_after_recording_its_look_back() -> None:
    statements = refresh_statements(entities=TABLES)
    after = next(i for i, s in enumerate(statements) if s.startswith(LOOKBACK_UPDATE))
    assert statements[after + 1] == APPLY_CALL == f"CALL {APPLY_PROCEDURE}()"
    assert statements.count(APPLY_CALL) == 1
    full = refresh_statements(full=True, entities=TABLES)
    assert full[:4] == [
        FULL_REFRESH_RESET,
        "UPDATE etl_changes_state SET watermark = NULL",
        "DELETE FROM cdc_object_state",
        "DELETE FROM cdc_biz_state",
    ]
    assert APPLY_CALL not in refresh_statements()  # a stack without CDC refreshes as before


def test_every_entity_statement_is_redshift_sql_and_the_procedure_runs_the_apply() -> None:
    bounded = [s for t in TABLES for s in stage_statements(t, "2026-01-01 00:00:00")]
    for statement in [*deploy_statements(TABLES), *apply_statements(TABLES), *bounded]:
        assert not isinstance(sqlglot.parse_one(statement, read="redshift"), sqlglot.exp.Command), statement
    procedure = apply_procedure(TABLES)
    assert procedure.startswith(f"CREATE OR REPLACE PROCEDURE {APPLY_PROCEDURE}()")
    for table in TABLES:
        for statement in merge_statements(table):
            assert statement.replace("\n", "\n    ") in procedure
        # The reads run with the bound appended as a literal, so Spectrum can skip files before it.
        for read in stage_statements(table, None)[1:]:
            assert read.replace("'", "''") + "\n    AND c.cdc_emitted_at > ' || quote_literal(bound)" in procedure


def test_an_apply_reads_only_what_dms_emitted_since_the_watermark_minus_the_look_back(lake: Path) -> None:
    records = history()
    connection = warehouse.connect()
    deliver_changes(lake, TABLES, records[:8], "part-0.parquet")
    refresh(connection, lake)
    bound = connection.execute(ENTITIES.bounds[0]).fetchone()[0]  # type: ignore[index]
    assert bound is not None  # the first apply set the watermark
    late = [dict(r, metadata={**r["metadata"], "timestamp": "2026-02-01T00:00:00.000000Z"}) for r in records[8:]]
    deliver_changes(lake, TABLES, late, "part-1.parquet")
    connection.execute("UPDATE etl_refresh_state SET lookback_days = 0")
    bound = connection.execute(ENTITIES.bounds[0]).fetchone()[0]  # type: ignore[index]
    create_change_views(connection, lake, TABLES)
    for read in ENTITIES.bounded_reads[0]:
        connection.execute(read.replace("__uba_bound__", bound))
    watermark = connection.execute("SELECT watermark FROM etl_changes_state WHERE entity = 'object'").fetchone()[0]  # type: ignore[index]
    staged = {row[0] for row in connection.execute("SELECT cdc_emitted_at FROM etl_staged_object_changes").fetchall()}
    # The first delivery is not read again, but for the rows at the watermark itself (a bound printed without
    # its trailing zeros sorts before them: the read takes a little more, never less).
    assert {moment for moment in staged if moment.month == 1} <= {watermark}
    assert any(moment.month == 2 for moment in staged)
