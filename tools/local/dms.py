"""Records exactly as DMS writes them to the `changes` stream: a local stand-in for DMS, for tests and benchmarks.

DMS cannot run here, so its output format is the contract. The shapes follow what DMS Serverless
wrote from PostgreSQL to Kinesis in public captures (crate/commons-codec,
tests/transform/test_aws_dms.py: `MSG_DATA_LOAD`, `MSG_DATA_INSERT`, `MSG_DATA_UPDATE_VALUE`,
`MSG_DATA_UPDATE_PK`, `MSG_DATA_DELETE`, `MSG_CONTROL_CREATE_TABLE`, `MSG_CONTROL_DROP_TABLE`;
cratedb-toolkit, tests/io/kinesis/data.py) with the endpoint settings this platform sets (AWS DMS
User Guide, "Using Amazon Kinesis Data Streams as a target"):

- full-load rows: `operation: load`, `partition-key-type: primary-key` with the partition value
  `schema.table.key` (IncludePartitionValue, PartitionIncludeSchemaTable), no transaction fields;
- changes: `insert`/`update`/`delete` with `commit-timestamp`, `transaction-id`,
  `transaction-record-id`, `prev-transaction-id`/`prev-transaction-record-id` (after the first)
  and `stream-position` (IncludeTransactionDetails); every column present, NULL ones as `null`
  (IncludeNullAndEmpty); a PostgreSQL delete carries the key and NULLs;
- updates carry `before-image` (BeforeImageSettings, pk-only): `{}` when the key stayed, the old
  key when it changed;
- control records: `record-type: control`, `partition-key-type: task-id`, the table definition
  under `control.table-def` (IncludeControlDetails); `add-column` is one of the table-alter
  operations IncludeTableAlterOperations adds, written here with the same `table-def` body as
  `create-table` (no public capture shows an alter's body).

Times are `YYYY-MM-DDTHH:MM:SS.ffffffZ`, as DMS writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# A DMS Serverless task's resource id, as control records name it (`serv-res-id-<millis>-<4 letters>`).
TASK_ID = "serv-res-id-1767225600000-abcd"
DMS_TYPES = {"string": "STRING", "bigint": "INT64", "double": "REAL8", "boolean": "BOOLEAN", "timestamp": "DATETIME"}


def dms_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class DmsWriter:
    """Writes DMS messages for one source database, keeping the transaction chain as DMS does."""

    key_of: Mapping[str, list[str]]  # schema.table -> primary key columns
    next_transaction: int = 1139
    _previous: tuple[int, int] | None = field(default=None, init=False)
    _position: int = field(default=0x7C007178, init=False)

    def _metadata(self, table: str, operation: str, at: datetime, key: Mapping[str, Any]) -> dict[str, Any]:
        schema, name = table.split(".", 1)
        value = ".".join([table, *(str(key[column]) for column in self.key_of[table])])
        return {
            "timestamp": dms_time(at),
            "record-type": "data",
            "operation": operation,
            "partition-key-type": "primary-key",
            "partition-key-value": value,
            "schema-name": schema,
            "table-name": name,
        }

    def load(self, table: str, row: Mapping[str, Any], at: datetime) -> dict[str, Any]:
        """A full-load row: DMS read it from the table at `at` (when it built the message)."""
        return {"data": dict(row), "metadata": self._metadata(table, "load", at, row)}

    def transaction(self, committed_at: datetime) -> Transaction:
        """A source transaction committed at `committed_at`; DMS emits its changes a little later."""
        transaction = Transaction(self, self.next_transaction, committed_at)
        self.next_transaction += 1
        return transaction

    def _change(
        self,
        transaction: Transaction,
        table: str,
        operation: str,
        row: Mapping[str, Any],
        before: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        transaction.records += 1
        self._position += 0xB0
        metadata = self._metadata(table, operation, transaction.committed_at + timedelta(milliseconds=9), row)
        metadata |= {
            "transaction-id": transaction.id,
            "transaction-record-id": transaction.records,
            "commit-timestamp": dms_time(transaction.committed_at),
            "stream-position": f"00000002/{self._position:08X}.2.00000002/{self._position:08X}",
        }
        if self._previous is not None:
            metadata["prev-transaction-id"], metadata["prev-transaction-record-id"] = self._previous
        self._previous = (transaction.id, transaction.records)
        message: dict[str, Any] = {"data": dict(row), "metadata": metadata}
        if operation == "update":
            message["before-image"] = dict(before or {})
        return message

    def control(self, table: str, operation: str, columns: Mapping[str, str], at: datetime) -> dict[str, Any]:
        """A table event (`create-table`, `add-column`, `drop-table`) with the table's definition."""
        schema, name = table.split(".", 1)
        definition = {
            "columns": {c: {"type": DMS_TYPES[t], "nullable": c not in self.key_of[table]} for c, t in columns.items()},
            "primary-key": list(self.key_of[table]),
        }
        return {
            "control": {"table-def": definition},
            "metadata": {
                "timestamp": dms_time(at),
                "record-type": "control",
                "operation": operation,
                "partition-key-type": "task-id",
                "partition-key-value": TASK_ID,
                "schema-name": schema,
                "table-name": name,
            },
        }


@dataclass
class Transaction:
    writer: DmsWriter
    id: int
    committed_at: datetime
    records: int = 0

    def insert(self, table: str, row: Mapping[str, Any]) -> dict[str, Any]:
        return self.writer._change(self, table, "insert", row, None)

    def update(self, table: str, row: Mapping[str, Any], old_key: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """An update; `old_key` when it changed the key (PostgreSQL's pk-only before-image), else `{}`."""
        return self.writer._change(self, table, "update", row, old_key)

    def delete(self, table: str, key: Mapping[str, Any], columns: list[str]) -> dict[str, Any]:
        """A PostgreSQL delete: the key, every other column NULL."""
        row = {column: key.get(column) for column in columns}
        return self.writer._change(self, table, "delete", row, None)


# An example product database's replicated tables, as a stack file's `uba:cdc.tables` lists them:
# documents (what events name by objectId) and business lines (bizId).
EXAMPLE_TABLES: list[dict[str, Any]] = [
    {
        "table": "public.documents",
        "entity": "object",
        "primary_key": ["id"],
        "event_field": "objectId",
        "label_column": "title",
        "columns": {
            "id": "string",
            "title": "string",
            "category": "string",
            "biz_id": "string",
            "pages": "bigint",
            "published": "boolean",
            "updated_at": "timestamp",
        },
    },
    {
        "table": "public.business_lines",
        "entity": "biz",
        "primary_key": ["id"],
        "event_field": "bizId",
        "label_column": "name",
        "columns": {"id": "string", "name": "string", "region": "string"},
    },
]
