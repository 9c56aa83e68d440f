"""Deliver DMS change records into a local lake the way the `changes-to-lake` Firehose does, and read it back.

Each record goes through the change processor Lambda's own code (`lambdas.changes.transform`):
what it accepts is written as Parquet, with the one conversion schema every table shares
(`sql.changes.conversion_columns`), under `changes/<schema>/<table>/day=<day>/`; what it refuses
is kept as it came under `errors/changes/processing-failed/`. DuckDB views per replicated table
stand for the Glue tables (`ods.changes_<schema>_<table>_spectrum` for the warehouse).
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lambdas.change_records import parse_time
from lambdas.changes import transform
from sql.changes import ERRORS_PREFIX, ChangeTable, change_partition, conversion_columns, tables_by_name

_ARROW: dict[str, pa.DataType] = {
    "string": pa.string(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("ms", tz="UTC"),
}


@dataclass
class Delivery:
    """What one local delivery did: files written, records kept aside, columns the settings lack."""

    files: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def conversion_schema(tables: Sequence[ChangeTable]) -> pa.Schema:
    return pa.schema([pa.field(name, _ARROW[glue_type]) for name, glue_type in conversion_columns(tables)])


def firehose_records(messages: Iterable[Mapping[str, Any] | str]) -> list[dict[str, Any]]:
    """Stream records as Firehose hands them to a processor (a string is sent as it is, e.g. broken JSON)."""
    return [
        {
            "recordId": f"{index:08d}",
            "data": base64.b64encode((m if isinstance(m, str) else json.dumps(m)).encode()).decode(),
        }
        for index, m in enumerate(messages)
    ]


def _arrow_value(value: Any, glue_type: str) -> Any:
    if value is not None and glue_type == "timestamp":
        return parse_time(value, "timestamp")
    return value


def deliver_changes(
    root: Path, tables: Sequence[ChangeTable], messages: Iterable[Mapping[str, Any] | str], file_name: str
) -> Delivery:
    """Write one Firehose delivery of `messages` under `root`; a later call with another name adds files."""
    specs = tables_by_name(tables)
    schema = conversion_schema(tables)
    types = {name: glue_type for name, glue_type in conversion_columns(tables)}
    by_partition: dict[str, list[dict[str, Any]]] = defaultdict(list)
    result = Delivery()
    refused: list[str] = []
    for record in firehose_records(messages):
        answer, reason, drift = transform(record, specs)
        result.unmapped += drift
        if reason is not None:
            result.failed.append(reason)
            refused.append(base64.b64decode(record["data"]).decode(errors="replace"))
            continue
        keys = answer["metadata"]["partitionKeys"]
        row = json.loads(base64.b64decode(answer["data"]))
        typed = {name: _arrow_value(row.get(name), types[name]) for name in types}
        by_partition[change_partition(keys["schema"], keys["table"], keys["day"])].append(typed)
    for partition, rows in sorted(by_partition.items()):
        directory = root / partition
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / file_name
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
        result.files.append(path)
    if refused:
        errors = root / ERRORS_PREFIX / "processing-failed"
        errors.mkdir(parents=True, exist_ok=True)
        (errors / f"{file_name}.jsonl").write_text("".join(line + "\n" for line in refused), encoding="utf-8")
    return result


def create_change_views(connection: Any, root: Path, tables: Sequence[ChangeTable], schema: str = "ods") -> None:
    """`<schema>.<spectrum table>` per replicated table over its Parquet files (an empty view before any)."""
    connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for table in tables:
        columns = table.lake_columns()
        files = sorted((root / table.prefix).glob("day=*/*.parquet"))
        if files:
            listing = ", ".join("'" + str(path).replace("'", "''") + "'" for path in files)
            selected = ", ".join(f'"{name}"' for name, _ in columns)
            source = f"SELECT {selected} FROM read_parquet([{listing}], union_by_name = true)"
        else:
            typed = {"string": "VARCHAR", "bigint": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN",
                     "timestamp": "TIMESTAMPTZ"}  # fmt: skip
            nulls = ", ".join(f'CAST(NULL AS {typed[glue]}) AS "{name}"' for name, glue in columns)
            source = f"SELECT {nulls} WHERE FALSE"
        connection.execute(f"CREATE OR REPLACE VIEW {schema}.{table.spectrum_table} AS {source}")
