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


def bound_query(table: ChangeTable) -> str:
    """The emission time from which the entity's changes are read again: watermark minus look-back, as text.

    NULL without a watermark (the first apply, or a full one): then every change is read. Compared with
    `cdc_emitted_at` (fixed-width UTC text) as text, so the bound reaches the read as a literal, which
    Spectrum and DuckDB check against each Parquet file's statistics and skip what lies before it.
    A bound printed without trailing fraction digits sorts before equal times: the read takes a little
    more, never less.
    """
    return (
        "SELECT CAST(DATEADD(DAY, -r.lookback_days, w.watermark) AS VARCHAR(32))\n"
        f"FROM {WATERMARKS} AS w\nCROSS JOIN etl_refresh_state AS r\nWHERE w.entity = '{table.entity}'"
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def stage_statements(table: ChangeTable, bound: str | None) -> list[str]:
    """Empty the work table, then read the lake's rows (and tombstones of re-keyed rows) emitted after `bound`.

    Each read ends with its bound, so the procedure can append it as a literal to the text without it.
    """
    staged, source = staged_table(table), f"ods.{table.spectrum_table}"
    names = [*(_quoted(c) for c in _columns(table)), *_VERSION_NAMES]
    target = f"INSERT INTO {staged} ({', '.join(names)})\n"
    since = "" if bound is None else f"\n    AND c.cdc_emitted_at > {_literal(bound)}"
    version = (
        "CAST(c.cdc_change_at AS TIMESTAMP), CAST(c.cdc_emitted_at AS TIMESTAMP), "
        "c.cdc_transaction_id, c.cdc_transaction_record_id"
    )
    values = ", ".join(f"c.{_quoted(c)}" for c in _columns(table))
    rows = (
        f"{target}SELECT {values}, c.cdc_operation = 'delete', c.cdc_operation, {version}\n"
        f"FROM {source} AS c\nWHERE c.cdc_record_type = 'data'{since}"
    )
    # An update that changed the key: the old key is gone as of that change (a tombstone at its version).
    key = table.spec.key
    old_key = [
        f"c.{_quoted(BEFORE_PREFIX + name)}" if name in key else f"CAST(NULL AS {REDSHIFT_TYPES[kind]})"
        for name, kind in table.spec.columns.items()
    ]
    moved = " AND ".join(f"c.{_quoted(BEFORE_PREFIX + k)} IS NOT NULL" for k in key)
    tombstones = (
        f"{target}SELECT {', '.join(old_key)}, TRUE, 'delete', {version}\n"
        f"FROM {source} AS c\nWHERE c.cdc_record_type = 'data' AND {moved}{since}"
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


def merge_statements(table: ChangeTable) -> list[str]:
    """Advance the watermark, add the current versions of the keys read, keep each key's last change."""
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
    """One apply of every entity's changes, reading the whole lake (`full` first forgets state and watermarks).

    The refresh's procedure reads only what was emitted since each watermark (`apply_procedure`); this
    unbounded form is what a full rebuild runs, and what the tests compare it against.
    """
    statements: list[str] = []
    if full:
        statements.append(f"UPDATE {WATERMARKS} SET watermark = NULL")
        statements += [f"DELETE FROM {state_table(t)}" for t in tables]
    for table in tables:
        statements += stage_statements(table, None)
        statements += merge_statements(table)
    return statements


def _dollar_literal(sql: str) -> str:
    return "'" + sql.replace("'", "''") + "'"


def apply_procedure(tables: Sequence[ChangeTable]) -> str:
    """CREATE OR REPLACE PROCEDURE applying every entity's new changes in the caller's transaction (the refresh's).

    Per entity: the bound computed once (`bound_query`), the reads run as dynamic SQL with it appended
    as a literal (Spectrum prunes on literals only; a procedure called in a transaction block does not
    commit, Redshift Database Developer Guide, "Managing transactions"), then the merge.
    """
    lines = ["DECLARE", "    bound VARCHAR(32);", "BEGIN"]
    for table in tables:
        delete, *reads = stage_statements(table, None)
        lines += [f"    SELECT INTO bound {bound_query(table).removeprefix('SELECT ').replace(chr(10), ' ')};",
                  f"    {delete};", "    IF bound IS NULL THEN"]  # fmt: skip
        lines += [f"        EXECUTE {_dollar_literal(read)};" for read in reads]
        lines.append("    ELSE")
        lines += [f"        EXECUTE {_dollar_literal(read + chr(10) + '    AND c.cdc_emitted_at > ')} "
                  f"|| quote_literal(bound);" for read in reads]  # fmt: skip
        lines.append("    END IF;")
        lines += [f"    {statement.replace(chr(10), chr(10) + '    ')};" for statement in merge_statements(table)]
    lines.append("END;")
    body = "\n".join(lines)
    return f"CREATE OR REPLACE PROCEDURE {APPLY_PROCEDURE}()\nAS $$\n{body}\n$$ LANGUAGE plpgsql"


def model_tables(tables: Sequence[ChangeTable]) -> list[str]:
    """The tables the refresh user writes (and reads) for the entity models."""
    return [WATERMARKS, *(name for t in tables for name in (state_table(t), staged_table(t)))]


def model_views(tables: Sequence[ChangeTable]) -> list[str]:
    return [name for t in tables for name in ([dim_view(t)] + ([activity_view(t)] if t.event_column else []))]
