"""`python -m tools.cdc drift <stack> --dsn postgresql://...`: does the stack replicate what the database holds?

Reads the columns of every table the stack's `uba:cdc.tables` lists from the live source
database (`information_schema.columns`, PostgreSQL), and compares them with what the program
generates from those settings: the DMS table mappings (which tables DMS selects), the lake's
Glue columns and the warehouse's entity columns. Every difference is one line naming the table,
the column and the fix; exit 1 when there is any, 0 when everything is covered.

    column public.documents.summary (text) is in the database but not in uba:cdc.tables[0].columns:
    DMS sends it, the lake and warehouse drop it; add `summary: string` (or leave it out on purpose)

The change processor reports the same drift at run time (metric `UnmappedColumns`, alarm
`changes-schema-drift`); this check finds it before a deploy. The DSN names a user that may read
`information_schema` (the replication user does).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from components.cdc.mappings import selected_tables, table_mappings
from settings import CdcSettings, SettingsError
from sql.changes import change_tables
from sql.redshift.entities import REDSHIFT_TYPES
from tools.engine.mocks import PROJECT_DIR, ProgramError, stack_settings

# What each declared type accepts of PostgreSQL's `data_type` (information_schema.columns).
POSTGRES_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset({"text", "character varying", "character", "uuid", "json", "jsonb", "date", "numeric",
                         "time without time zone", "USER-DEFINED", "ARRAY"}),
    "bigint": frozenset({"bigint", "integer", "smallint"}),
    "double": frozenset({"double precision", "real", "numeric"}),
    "boolean": frozenset({"boolean"}),
    "timestamp": frozenset({"timestamp without time zone", "timestamp with time zone", "date"}),
}  # fmt: skip
SUGGESTED: dict[str, str] = {
    "bigint": "bigint", "integer": "bigint", "smallint": "bigint", "double precision": "double", "real": "double",
    "boolean": "boolean", "timestamp without time zone": "timestamp", "timestamp with time zone": "timestamp",
}  # fmt: skip


def read_columns(connection: Any, tables: Sequence[str]) -> dict[str, dict[str, str]]:
    """`schema.table` -> {column: data_type}, for the listed tables that exist (in ordinal order)."""
    found: dict[str, dict[str, str]] = {}
    cursor = connection.cursor()
    for table in tables:
        schema, name = table.split(".", 1)
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (schema, name),
        )
        rows = cursor.fetchall()
        if rows:
            found[table] = {str(column): str(kind) for column, kind in rows}
    return found


def drift(settings: CdcSettings, database: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Every way the stack's generated DMS mappings, lake and warehouse columns miss the database's."""
    problems: list[str] = []
    selected = set(selected_tables(table_mappings(settings.tables)))
    generated = {t.qualified: t for t in change_tables(settings.tables)}
    for index, table in enumerate(settings.tables):
        where = f"uba:cdc.tables[{index}]"
        source = database.get(table.table)
        if source is None:
            problems.append(
                f"table {table.table} ({where}) does not exist in the database: DMS will replicate nothing of it; "
                f"fix the name or create the table"
            )
            continue
        if table.table not in selected:
            problems.append(f"table {table.table} ({where}) is not selected by the generated DMS table mappings")
        lake = dict(generated[table.table].lake_columns())
        for column, kind in source.items():
            declared = table.columns.get(column)
            if declared is None:
                suggestion = SUGGESTED.get(kind, "string")
                problems.append(
                    f"column {table.table}.{column} ({kind}) is in the database but not in {where}.columns: DMS "
                    f"sends it, the lake and warehouse drop it; add `{column}: {suggestion}` (or leave it out on "
                    f"purpose)"
                )
                continue
            if kind not in POSTGRES_TYPES[declared]:
                problems.append(
                    f"column {table.table}.{column} is {kind} in the database but declared {declared} in "
                    f"{where}.columns; declare it {SUGGESTED.get(kind, 'string')}"
                )
            if column not in lake or declared not in REDSHIFT_TYPES:
                problems.append(f"column {table.table}.{column} is missing from the generated Glue/Redshift schema")
        for column in table.columns:
            if column not in source:
                problems.append(
                    f"column {table.table}.{column} is declared in {where}.columns but the database has no such "
                    f"column: the lake and warehouse would keep it empty; remove it or fix its name"
                )
    return problems


def connect(dsn: str) -> Any:
    """A pg8000 connection from `postgresql://user:password@host:port/database`."""
    import pg8000.dbapi

    url = urlparse(dsn)
    if url.scheme not in ("postgresql", "postgres") or not url.path.strip("/"):
        raise ValueError(f"expected postgresql://user[:password]@host[:port]/database, got {dsn!r}")
    return pg8000.dbapi.connect(
        user=unquote(url.username or "postgres"),
        password=unquote(url.password) if url.password else None,
        host=url.hostname or "localhost",
        port=url.port or 5432,
        database=url.path.strip("/"),
    )


def main(argv: Sequence[str] | None = None) -> int:
    summary = __doc__.split("\n\n")[0] if __doc__ else None
    parser = argparse.ArgumentParser(prog="python -m tools.cdc", description=summary)
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("drift", help="compare the stack's replicated tables with the database's columns")
    check.add_argument("stack", help="stack whose uba:cdc section names the tables")
    check.add_argument("--dsn", required=True, help="postgresql://user:password@host:port/database of the source")
    check.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    try:
        settings = stack_settings(options.stack, options.project_dir).cdc
    except (ProgramError, SettingsError) as error:
        parser.error(str(error))
    if not settings.enabled:
        parser.error(f"stack {options.stack} replicates no database (uba:cdc is off)")
    if not settings.source.is_postgres:
        parser.error(f"the drift check reads PostgreSQL; stack {options.stack}'s source is {settings.source.engine}")
    try:
        connection = connect(options.dsn)
    except ValueError as error:
        parser.error(str(error))
    except Exception as error:  # pg8000's connection errors share no base class worth naming here
        print(f"error: cannot connect to the source database: {error}", file=sys.stderr)
        return 2
    try:
        problems = drift(settings, read_columns(connection, [t.table for t in settings.tables]))
    finally:
        connection.close()
    for problem in problems:
        print(problem)
    if not problems:
        print(f"every column of {len(settings.tables)} replicated tables is covered")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
