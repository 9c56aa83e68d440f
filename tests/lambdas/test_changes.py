"""The change processor on records exactly as DMS writes them (tools/local/dms.py): every kind, and bad input.

Firehose hands the processor base64 records and takes back one answer per record: `Ok` with the
flat row and its partition keys, or `ProcessingFailed` (kept under errors/changes/, never lost).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdas import changes
from lambdas.change_records import (
    COLUMN_TYPES,
    DMS_SCHEMA,
    DMS_TABLE,
    METADATA_NAMES,
    ChangeRecordError,
    flatten,
    order_key,
    parse_tables,
    union_columns,
)
from settings.cdc import COLUMN_TYPES as SETTINGS_COLUMN_TYPES
from settings.cdc import METADATA_PREFIX
from tests.support.config import CDC_TABLES
from tools.local.dms import DmsWriter

T0 = datetime(2026, 1, 1, 8, 0, 0, tzinfo=UTC)
TABLES_JSON = json.dumps({t["table"]: {"key": t["primary_key"], "columns": t["columns"]} for t in CDC_TABLES})
TABLES = parse_tables(TABLES_JSON)
DOCUMENT_COLUMNS = list(CDC_TABLES[0]["columns"])


def writer() -> DmsWriter:
    return DmsWriter({t["table"]: t["primary_key"] for t in CDC_TABLES})


def document(key: str, title: str, **overrides: Any) -> dict[str, Any]:
    row = {"id": key, "title": title, "category": "guides", "biz_id": "biz-1", "pages": 12, "published": True,
           "updated_at": "2026-01-01 07:59:59.123456"}  # fmt: skip
    return row | overrides


def firehose_event(*messages: dict[str, Any] | str) -> dict[str, Any]:
    records = [
        {
            "recordId": f"r{index}",
            "approximateArrivalTimestamp": 1767254400000,
            "data": base64.b64encode((m if isinstance(m, str) else json.dumps(m)).encode()).decode(),
        }
        for index, m in enumerate(messages)
    ]
    return {"invocationId": "i-1", "deliveryStreamArn": "arn:aws:firehose:...", "records": records}


@pytest.fixture(autouse=True)
def tables_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(changes.TABLES_ENV, TABLES_JSON)
    changes.tables.cache_clear()


def answers(*messages: dict[str, Any] | str) -> list[dict[str, Any]]:
    return changes.handler(firehose_event(*messages), None)["records"]


def row_of(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["result"] == "Ok", answer
    return json.loads(base64.b64decode(answer["data"]))


def test_a_full_load_row_keeps_its_columns_typed_and_is_versioned_by_when_dms_read_it() -> None:
    (answer,) = answers(writer().load("public.documents", document("doc-1", "Guide"), T0))
    row = row_of(answer)
    assert answer["metadata"] == {"partitionKeys": {"schema": "public", "table": "documents", "day": "2026-01-01"}}
    assert row["cdc_operation"] == "load" and row["cdc_record_type"] == "data"
    assert row["cdc_change_at"] == row["cdc_emitted_at"] == "2026-01-01 08:00:00.000000"
    assert row["cdc_transaction_id"] is None and row["cdc_transaction_record_id"] is None
    assert {k: row[k] for k in DOCUMENT_COLUMNS} == {
        "id": "doc-1", "title": "Guide", "category": "guides", "biz_id": "biz-1", "pages": 12, "published": True,
        "updated_at": "2026-01-01T07:59:59.123Z",  # the events' own timestamp form
    }  # fmt: skip
    assert row["cdc_before_id"] is None


def test_a_change_is_versioned_by_its_commit_time_and_place_in_its_transaction() -> None:
    transaction = writer().transaction(T0 + timedelta(seconds=30, microseconds=7))
    (answer,) = answers(transaction.insert("public.documents", document("doc-2", "New")))
    row = row_of(answer)
    assert row["cdc_operation"] == "insert"
    assert row["cdc_change_at"] == "2026-01-01 08:00:30.000007"  # DMS's microseconds kept
    assert row["cdc_emitted_at"] == "2026-01-01 08:00:30.009007"
    assert (row["cdc_transaction_id"], row["cdc_transaction_record_id"]) == ("1139", 1)
    assert row["cdc_stream_position"].startswith("00000002/")


def test_an_update_that_changed_the_key_names_the_old_key_and_one_that_did_not_names_none() -> None:
    transaction = writer().transaction(T0)
    same_key, moved = answers(
        transaction.update("public.documents", document("doc-1", "Renamed")),
        transaction.update("public.documents", document("doc-9", "Moved"), old_key={"id": "doc-1"}),
    )
    assert row_of(same_key)["cdc_before_id"] is None
    assert row_of(moved)["cdc_before_id"] == "doc-1" and row_of(moved)["id"] == "doc-9"


def test_a_postgresql_delete_carries_the_key_and_nulls() -> None:
    transaction = writer().transaction(T0)
    row = row_of(answers(transaction.delete("public.documents", {"id": "doc-1"}, DOCUMENT_COLUMNS))[0])
    assert row["cdc_operation"] == "delete" and row["id"] == "doc-1"
    assert all(row[column] is None for column in DOCUMENT_COLUMNS if column != "id")


def test_a_transaction_spanning_tables_lands_in_each_tables_partition_in_commit_order() -> None:
    transaction = writer().transaction(T0 + timedelta(hours=16))  # 2026-01-02 00:00 UTC
    business = transaction.insert("public.business_lines", {"id": "biz-2", "name": "Travel", "region": "eu"})
    doc = transaction.update("public.documents", document("doc-1", "Moved to travel", biz_id="biz-2"))
    first, second = answers(business, doc)
    assert first["metadata"]["partitionKeys"]["table"] == "business_lines"
    assert second["metadata"]["partitionKeys"]["table"] == "documents"
    assert {a["metadata"]["partitionKeys"]["day"] for a in (first, second)} == {"2026-01-02"}
    rows = [row_of(first), row_of(second)]
    assert {r["cdc_transaction_id"] for r in rows} == {"1139"}
    assert sorted(rows, key=order_key) == rows  # record 1, then record 2 of one commit


def test_a_table_alter_control_record_is_kept_with_its_table_definition() -> None:
    columns = {**CDC_TABLES[0]["columns"], "summary": "string"}
    (answer,) = answers(writer().control("public.documents", "add-column", columns, T0))
    row = row_of(answer)
    assert answer["metadata"]["partitionKeys"] == {"schema": "public", "table": "documents", "day": "2026-01-01"}
    assert (row["cdc_record_type"], row["cdc_operation"]) == ("control", "add-column")
    assert "summary" in json.loads(row["cdc_control"])["table-def"]["columns"]
    assert "id" not in row  # a control record is no row of the table: its columns are NULL in the lake


def test_dms_task_control_records_are_kept_apart_from_the_tables() -> None:
    control = writer().control("public.documents", "create-table", {"ERROR": "string"}, T0)
    control["metadata"] |= {"schema-name": "", "table-name": "awsdms_apply_exceptions"}
    (answer,) = answers(control)
    assert answer["metadata"]["partitionKeys"] == {"schema": DMS_SCHEMA, "table": DMS_TABLE, "day": "2026-01-01"}


def test_a_column_the_stack_does_not_list_is_delivered_without_it_and_reported_as_drift(
    capsys: pytest.CaptureFixture[str],
) -> None:
    transaction = writer().transaction(T0)
    (answer,) = answers(transaction.insert("public.documents", document("doc-1", "A", summary="new column")))
    assert "summary" not in row_of(answer)
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    drift = [m for m in metrics if "UnmappedColumns" in m]
    assert drift == [{**drift[0], "UnmappedColumns": 1, "Table": "public.documents", "FunctionName": "local"}]
    assert drift[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["FunctionName"]]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("{not json", "not JSON"),
        ('["a", "list"]', "not a JSON object"),
        ({"data": {"id": "x"}}, "no metadata"),
        ({"metadata": {"record-type": "data", "operation": "insert", "schema-name": "public",
                       "table-name": "invoices", "timestamp": "2026-01-01T08:00:00.000000Z"}, "data": {}},
         "public.invoices, which is not a replicated table"),
        ({"metadata": {"record-type": "data", "operation": "insert", "schema-name": "public",
                       "table-name": "documents", "timestamp": "yesterday"}, "data": {"id": "x"}},
         "metadata.timestamp must be a date-time"),
        ({"metadata": {"record-type": "data", "operation": "upsert", "schema-name": "public",
                       "table-name": "documents", "timestamp": "2026-01-01T08:00:00.000000Z"}, "data": {"id": "x"}},
         "operation must be one of"),
        ({"metadata": {"record-type": "data", "operation": "insert", "schema-name": "public",
                       "table-name": "documents", "timestamp": "2026-01-01T08:00:00.000000Z"},
          "data": {"id": "x", "pages": "twelve"}}, "data.pages must be a whole number"),
        ({"metadata": {"record-type": "data", "operation": "insert", "schema-name": "public",
                       "table-name": "documents", "timestamp": "2026-01-01T08:00:00.000000Z"},
          "data": {"title": "no key"}}, "without its key ['id']"),
    ],
)  # fmt: skip
def test_a_record_that_is_no_change_of_a_replicated_table_is_kept_aside_with_the_reason(
    message: dict[str, Any] | str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    good = writer().load("public.documents", document("doc-1", "A"), T0)
    bad_answer, good_answer = answers(message, good)
    original = firehose_event(message)["records"][0]["data"]
    assert bad_answer == {"recordId": "r0", "result": "ProcessingFailed", "data": original}
    assert good_answer["result"] == "Ok"  # its neighbour is delivered
    assert reason in caplog.text


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("bigint", 9007199254740993, 9007199254740993),  # 18-digit integers stay exact (UseLargeIntegerValue)
        ("bigint", "42", 42),
        ("bigint", 42.0, 42),
        ("double", "1.5", 1.5),
        ("boolean", "t", True),  # PostgreSQL's boolean text
        ("boolean", 0, False),  # MySQL's tinyint(1)
        ("string", {"a": 1}, '{"a":1}'),  # a JSON column DMS sends as an object
        ("timestamp", "2026-01-01 08:00:00", "2026-01-01T08:00:00.000Z"),
        ("timestamp", "2026-01-01T09:00:00.5+01:00", "2026-01-01T08:00:00.500Z"),
    ],
)
def test_values_are_read_as_their_column_type(kind: str, value: Any, expected: Any) -> None:
    specs = parse_tables(json.dumps({"s.t": {"key": ["k"], "columns": {"k": "string", "v": kind}}}))
    message = DmsWriter({"s.t": ["k"]}).load("s.t", {"k": "1", "v": value}, T0)
    assert flatten(message, specs).row["v"] == expected


def test_a_bad_table_list_is_refused_with_the_table_named() -> None:
    with pytest.raises(ValueError, match=r"CHANGE_TABLES\['s.t'\] has column types \['money'\]"):
        parse_tables(json.dumps({"s.t": {"key": ["k"], "columns": {"k": "money"}}}))
    with pytest.raises(ValueError, match="needs a key list"):
        parse_tables(json.dumps({"s.t": {"columns": {"k": "string"}}}))


def test_the_contract_and_the_settings_agree_on_types_and_the_metadata_prefix() -> None:
    assert COLUMN_TYPES == SETTINGS_COLUMN_TYPES
    assert all(name.startswith(METADATA_PREFIX) for name in METADATA_NAMES)


def test_one_parquet_schema_holds_every_tables_columns_once() -> None:
    names = [name for name, _ in union_columns(TABLES)]
    assert len(names) == len(set(names))
    assert set(names) >= {*METADATA_NAMES, *CDC_TABLES[0]["columns"], *CDC_TABLES[1]["columns"], "cdc_before_id"}


def test_commit_order_compares_transaction_ids_as_numbers() -> None:
    early = {"cdc_change_at": "2026-01-01 08:00:00.000000", "cdc_transaction_id": "999", "cdc_transaction_record_id": 1}
    late = {**early, "cdc_transaction_id": "1000"}
    assert order_key(early) < order_key(late)
    with pytest.raises(ChangeRecordError):
        flatten({"metadata": {"record-type": "data", "operation": "load", "schema-name": "public",
                              "table-name": "documents", "timestamp": "2026-01-01T08:00:00.000000Z",
                              "transaction-record-id": "one"}, "data": {"id": "x"}}, TABLES)  # fmt: skip
