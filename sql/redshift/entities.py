"""The warehouse's entity models: each replicated table's current state, kept from its changes in the lake.

Generated per replicated table (`sql.changes.ChangeTable`), because their columns are the
stack's (`uba:cdc.tables`). For an entity `object` over `public.documents`:

    cdc_object_state             every key ever seen, its latest change in commit order, deletes kept
                                 as tombstones (`cdc_deleted`), with the change's version
    etl_staged_object_changes    work table of one apply
    dim_object                   the current entities: the state without tombstones (a view)
    dws_daily_object_activity    events per UTC day and entity, with its label (a view joining
                                 dwd_events to dim_object; only for a table an event field names)
    etl_changes_state            one watermark per entity: the latest DMS emission time taken in

Applying changes (`apply_statements`, run by the refresh as `CALL uba_apply_changes()` in its
one transaction): read the table's lake rows DMS emitted after the watermark minus the
refresh's `lookback_days` (Firehose delivers late by its buffer), add a tombstone for the old
key of every update that changed a key, add the current state rows of every key read, and keep
per key the last change in commit order (`cdc_change_at`, then the transaction id by length and
text, then the position in the transaction). Because the state keeps each key's version and its
tombstone, the result does not depend on the order rows are read in, a row read twice changes
nothing, and an old change arriving late loses to the newer state: the apply is idempotent and
commutative. A full apply (`full=True`) clears the state and the watermark and reads every change
since the full load.

Every statement is Redshift SQL that sqlglot translates for DuckDB (`tools.warehouse`).
"""

from __future__ import annotations

from collections.abc import Sequence

from lambdas.change_records import BEFORE_PREFIX, ColumnType
from sql.changes import ChangeTable

APPLY_PROCEDURE = "uba_apply_changes"
WATERMARKS = "etl_changes_state"
REDSHIFT_TYPES: dict[ColumnType, str] = {
    "string": "VARCHAR(65535)",
    "bigint": "BIGINT",
    "double": "DOUBLE PRECISION",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
}
# The version and fate of a change, beside the entity's own columns.
_VERSION_COLUMNS = (
    ("cdc_deleted", "BOOLEAN NOT NULL"),
    ("cdc_operation", "VARCHAR(16) NOT NULL"),
    ("cdc_change_at", "TIMESTAMP NOT NULL"),
    ("cdc_emitted_at", "TIMESTAMP NOT NULL"),
    ("cdc_transaction_id", "VARCHAR(64)"),
    ("cdc_transaction_record_id", "BIGINT"),
)
_VERSION_NAMES = tuple(name for name, _ in _VERSION_COLUMNS)


def _quoted(identifier: str) -> str:
    # Source column names may be SQL keywords (`name`, `region`, `year`): always quote them.
    return '"' + identifier.replace('"', '""') + '"'


def state_table(table: ChangeTable) -> str:
    return f"cdc_{table.entity}_state"


def staged_table(table: ChangeTable) -> str:
    return f"etl_staged_{table.entity}_changes"


def dim_view(table: ChangeTable) -> str:
    return f"dim_{table.entity}"


def activity_view(table: ChangeTable) -> str:
    return f"dws_daily_{table.entity}_activity"


def _columns(table: ChangeTable) -> list[str]:
    return list(table.spec.columns)


def _column_ddl(table: ChangeTable) -> str:
    own = [f"    {_quoted(name)} {REDSHIFT_TYPES[kind]}" for name, kind in table.spec.columns.items()]
    version = [f"    {name} {kind}" for name, kind in _VERSION_COLUMNS]
    return ",\n".join(own + version)


def deploy_statements(tables: Sequence[ChangeTable]) -> list[str]:
    """CREATE ... IF NOT EXISTS / OR REPLACE for every entity model: safe to run on every deploy."""
    statements = [
        f"CREATE TABLE IF NOT EXISTS {WATERMARKS} (\n    entity VARCHAR(64) NOT NULL,\n"
        f"    watermark TIMESTAMP,\n    previous_watermark TIMESTAMP,\n    applied_at TIMESTAMP\n)\nDISTSTYLE ALL"
    ]
    for table in tables:
        # Dimensions are small and joined from every slice: one full copy per node.
        for name in (state_table(table), staged_table(table)):
            statements.append(f"CREATE TABLE IF NOT EXISTS {name} (\n{_column_ddl(table)}\n)\nDISTSTYLE ALL")
        statements.append(dim_view_statement(table))
        if table.event_column is not None:
            statements.append(activity_view_statement(table))
    return statements


def dim_view_statement(table: ChangeTable) -> str:
    columns = ", ".join(f"s.{_quoted(c)}" for c in _columns(table))
    return (
        f"CREATE OR REPLACE VIEW {dim_view(table)} AS\n"
        f"SELECT {columns}, s.cdc_change_at AS valid_from\n"
        f"FROM {state_table(table)} AS s\nWHERE NOT s.cdc_deleted"
    )


def activity_view_statement(table: ChangeTable) -> str:
    """Events per UTC day and entity, with the entity's label as it is now (a type-1 dimension)."""
    assert table.event_column is not None and len(table.spec.key) == 1, "settings allow one key column"
    (key,) = table.spec.key
    label = f"dim.{_quoted(table.label_column)}" if table.label_column else "CAST(NULL AS VARCHAR(65535))"
    joined = f"dim.{_quoted(key)}"
    if table.spec.columns[key] != "string":
        joined = f"CAST({joined} AS VARCHAR(256))"
    return (
        f"CREATE OR REPLACE VIEW {activity_view(table)} AS\n"
        f"SELECT\n    e.event_day,\n    e.{table.event_column} AS {table.entity}_id,\n"
        f"    {label} AS {table.entity}_label,\n"
        f"    COUNT(*) AS events,\n    COUNT(DISTINCT e.user_id) AS users,\n"
        f"    SUM(CASE WHEN e.is_error THEN 1 ELSE 0 END) AS error_events\n"
        f"FROM dwd_events AS e\nLEFT JOIN {dim_view(table)} AS dim ON {joined} = e.{table.event_column}\n"
        f"GROUP BY e.event_day, e.{table.event_column}, {label}"
    )


def _since_watermark(table: ChangeTable) -> str:
    """Rows DMS emitted after the entity's watermark minus the refresh's look-back (all without a watermark)."""
    return (
        "CAST(c.cdc_emitted_at AS TIMESTAMP) > COALESCE(\n"
        f"        (SELECT DATEADD(DAY, -r.lookback_days, w.watermark) FROM {WATERMARKS} AS w "
        f"CROSS JOIN etl_refresh_state AS r WHERE w.entity = '{table.entity}'),\n"
        "        CAST('1970-01-01 00:00:00' AS TIMESTAMP)\n    )"
    )


def _stage_from_lake(table: ChangeTable) -> list[str]:
    staged, source = staged_table(table), f"ods.{table.spectrum_table}"
    names = [*(_quoted(c) for c in _columns(table)), *_VERSION_NAMES]
    target = f"INSERT INTO {staged} ({', '.join(names)})\n"
    version = (
        "c.cdc_operation = 'delete', c.cdc_operation, CAST(c.cdc_change_at AS TIMESTAMP), "
        "CAST(c.cdc_emitted_at AS TIMESTAMP), c.cdc_transaction_id, c.cdc_transaction_record_id"
    )
    values = ", ".join(f"c.{_quoted(c)}" for c in _columns(table))
    rows = (
        f"{target}SELECT {values}, {version}\nFROM {source} AS c\n"
        f"WHERE c.cdc_record_type = 'data'\n    AND {_since_watermark(table)}"
    )
    # An update that changed the key: the old key is gone as of that change (a tombstone at its version).
    key = table.spec.key
    old_key = [
        f"c.{_quoted(BEFORE_PREFIX + name)}" if name in key else f"CAST(NULL AS {REDSHIFT_TYPES[kind]})"
        for name, kind in table.spec.columns.items()
    ]
    moved = " AND ".join(f"c.{_quoted(BEFORE_PREFIX + k)} IS NOT NULL" for k in key)
    tombstones = (
        f"{target}SELECT {', '.join(old_key)}, TRUE, 'delete', CAST(c.cdc_change_at AS TIMESTAMP), "
        "CAST(c.cdc_emitted_at AS TIMESTAMP), c.cdc_transaction_id, c.cdc_transaction_record_id\n"
        f"FROM {source} AS c\nWHERE c.cdc_record_type = 'data'\n    AND {moved}\n    AND {_since_watermark(table)}"
    )
    return [f"DELETE FROM {staged}", rows, tombstones]


def _key_match(left: str, right: str, table: ChangeTable) -> str:
    return " AND ".join(f"{left}.{_quoted(k)} = {right}.{_quoted(k)}" for k in table.spec.key)


def _commit_order(alias: str) -> str:
    """Latest first: change time, transaction id by length then text (numeric order for numbers), position."""
    return (
        f"{alias}.cdc_change_at DESC, LENGTH(COALESCE({alias}.cdc_transaction_id, '')) DESC, "
        f"COALESCE({alias}.cdc_transaction_id, '') DESC, COALESCE({alias}.cdc_transaction_record_id, 0) DESC, "
        f"{alias}.cdc_deleted DESC, {alias}.cdc_emitted_at DESC"
    )


def _apply_staged(table: ChangeTable) -> list[str]:
    staged, state = staged_table(table), state_table(table)
    names = [*(_quoted(c) for c in _columns(table)), *_VERSION_NAMES]
    listed = ", ".join(names)
    keys = ", ".join(f"s.{_quoted(k)}" for k in table.spec.key)
    advance = (
        f"UPDATE {WATERMARKS}\nSET\n    previous_watermark = watermark,\n    watermark = CASE\n"
        f"        WHEN staged.newest IS NULL OR staged.newest < watermark THEN watermark\n"
        f"        ELSE staged.newest\n    END,\n    applied_at = GETDATE()\n"
        f"FROM (SELECT MAX(cdc_emitted_at) AS newest FROM {staged}) AS staged\nWHERE entity = '{table.entity}'"
    )
    return [
        # The entity's watermark row exists from its first apply on.
        f"INSERT INTO {WATERMARKS} (entity, watermark, previous_watermark, applied_at)\n"
        f"SELECT '{table.entity}', CAST(NULL AS TIMESTAMP), CAST(NULL AS TIMESTAMP), CAST(NULL AS TIMESTAMP)\n"
        f"FROM (SELECT COUNT(*) AS known FROM {WATERMARKS} WHERE entity = '{table.entity}') AS existing\n"
        f"WHERE existing.known = 0",
        advance,
        # The current version of every key read competes with what was read.
        f"INSERT INTO {staged} ({listed})\nSELECT {', '.join(f'st.{n}' for n in names)}\nFROM {state} AS st\n"
        f"WHERE EXISTS (SELECT 1 FROM {staged} AS s WHERE {_key_match('s', 'st', table)})",
        f"DELETE FROM {state}\nUSING {staged} AS s\nWHERE {_key_match(state, 's', table)}",
        f"INSERT INTO {state} ({listed})\nSELECT {listed}\nFROM (\n    SELECT\n        s.*,\n"
        f"        ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY {_commit_order('s')}) AS version_rank\n"
        f"    FROM {staged} AS s\n) AS ranked\nWHERE ranked.version_rank = 1",
    ]


def apply_statements(tables: Sequence[ChangeTable], *, full: bool = False) -> list[str]:
    """One apply of every entity's new changes, in order; `full` first forgets the state and the watermarks."""
    statements: list[str] = []
    if full:
        statements.append(f"UPDATE {WATERMARKS} SET watermark = NULL")
        statements += [f"DELETE FROM {state_table(t)}" for t in tables]
    for table in tables:
        statements += _stage_from_lake(table)
        statements += _apply_staged(table)
    return statements


def apply_procedure(tables: Sequence[ChangeTable]) -> str:
    """CREATE OR REPLACE PROCEDURE running `apply_statements` in the caller's transaction (the refresh's)."""
    body = "\n".join(f"    {statement.replace(chr(10), chr(10) + '    ')};" for statement in apply_statements(tables))
    return f"CREATE OR REPLACE PROCEDURE {APPLY_PROCEDURE}()\nAS $$\nBEGIN\n{body}\nEND;\n$$ LANGUAGE plpgsql"


def model_tables(tables: Sequence[ChangeTable]) -> list[str]:
    """The tables the refresh user writes (and reads) for the entity models."""
    return [WATERMARKS, *(name for t in tables for name in (state_table(t), staged_table(t)))]


def model_views(tables: Sequence[ChangeTable]) -> list[str]:
    return [name for t in tables for name in ([dim_view(t)] + ([activity_view(t)] if t.event_column else []))]
