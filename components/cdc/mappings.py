"""What DMS is told: table mappings and replication settings generated from the stack's tables (pure JSON).

Table mappings (AWS DMS User Guide, "Using table mapping to specify task settings"): one
`selection` rule per replicated table (schema and table names are case-sensitive), and one
`object-mapping` rule per table that maps each row to a record (`map-record-to-record`) with the
table's primary key as the Kinesis partition key. Every change of one row goes to one shard, in
order, which the consumers' "last change wins" relies on for changes with equal commit times;
`PartitionIncludeSchemaTable` keeps equal keys of different tables apart.

Replication settings: before images of primary keys on every update (`BeforeImageSettings`,
pk-only, under `before-image`), so an update that changes a key retires the old one; logging on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from lambdas.change_records import BEFORE_IMAGE_FIELD
from settings.cdc import ReplicatedTable


def table_mappings(tables: Sequence[ReplicatedTable]) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    for index, table in enumerate(tables, start=1):
        locator = {"schema-name": table.schema_name, "table-name": table.table_name}
        rules.append(
            {
                "rule-type": "selection",
                "rule-id": str(index),
                "rule-name": f"include-{table.schema_name}-{table.table_name}",
                "object-locator": locator,
                "rule-action": "include",
            }
        )
        rules.append(
            {
                "rule-type": "object-mapping",
                "rule-id": str(1000 + index),
                "rule-name": f"record-{table.schema_name}-{table.table_name}",
                "rule-action": "map-record-to-record",
                "object-locator": locator,
                "mapping-parameters": {"partition-key-type": "primary-key"},
            }
        )
    return {"rules": rules}


def replication_settings() -> dict[str, Any]:
    return {
        "BeforeImageSettings": {"EnableBeforeImage": True, "FieldName": BEFORE_IMAGE_FIELD, "ColumnFilter": "pk-only"},
        "Logging": {"EnableLogging": True},
    }


def as_json(document: dict[str, Any]) -> str:
    """Stable JSON (sorted keys): the same settings give the same text, so a deploy sees no change."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def selected_tables(mappings: dict[str, Any]) -> list[str]:
    """`schema.table` of every selection rule that includes a table (what DMS will replicate)."""
    return [
        f"{rule['object-locator']['schema-name']}.{rule['object-locator']['table-name']}"
        for rule in mappings.get("rules", [])
        if rule.get("rule-type") == "selection" and rule.get("rule-action") == "include"
    ]
