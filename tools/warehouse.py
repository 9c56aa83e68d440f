"""Build the Redshift warehouse models locally, in DuckDB, from a copy of the lake.

    python -m tools.warehouse --lake DIR --table NAME [--format table|json]
                              [--lookback-days N] [--state DB] [--full]

Runs the same SQL files the stack deploys to Redshift (`sql/redshift/`), translated
with sqlglot (`sql.redshift.to_duckdb`): the deploy DDL, then one refresh in one
transaction, then prints a table. The ODS external schema becomes a schema `ods` whose
`events` view reads the lake's Parquet files in place. The connection's TimeZone is UTC,
as Redshift's is, so `event_day` is the UTC date of `created_at`.

Without `--state` every run starts from an empty in-memory database (a full build).
With `--state FILE` the models and the refresh watermark persist in a DuckDB file, so a
later run over a lake with new files performs an incremental refresh, as the schedule
does in Redshift; `--table etl_refresh_days` shows what that refresh rebuilt.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from pydantic import ValidationError

from settings import SettingsError
from sql.changes import ChangeTable, change_tables
from sql.redshift import (
    APPLY_CALL,
    ARRIVAL_FLOOR_QUERY,
    STAGE_PROCEDURE,
    DeployParameters,
    RefreshParameters,
    deploy_statements,
    refresh_statements,
    stage_statement,
    table_names,
    to_duckdb,
)
from sql.redshift.entities import bound_query, merge_statements, model_tables, model_views, stage_statements
from sql.redshift.entities import deploy_statements as entity_deploy_statements
from tools.engine.mocks import ProgramError, stack_settings
from tools.local.changes import create_change_views
from tools.local.lake import create_arrivals_view, create_events_view

# The deploy DDL's placeholders only fill the external schema, which DuckDB replaces
# with a view over local files; these values never reach an engine.
_LOCAL_DEPLOY = DeployParameters(
    glue_database="local_lake", spectrum_role_arn="arn:aws:iam::000000000000:role/local-duckdb"
)
ODS_EVENTS_VIEW = "ods.events_spectrum"
ODS_ARRIVALS_VIEW = "ods.events_by_arrival"
# Step 2 of the refresh: DuckDB has no stored procedures, so the runner does what the procedure does.
STAGE_CALL = f"CALL {STAGE_PROCEDURE}()"


@cache
def duckdb_deploy_statements() -> tuple[str, ...]:
    return tuple(to_duckdb(deploy_statements(_LOCAL_DEPLOY)))


@cache
def duckdb_refresh_statements(parameters: RefreshParameters, full: bool) -> tuple[str, ...]:
    """The refresh translated for DuckDB; the procedure call stays as it is (see `run_refresh_statement`)."""
    return tuple(s if s == STAGE_CALL else to_duckdb([s])[0] for s in refresh_statements(parameters, full=full))


_BOUND = "__uba_bound__"  # stands for the bound's literal in the translated reads


@dataclass(frozen=True)
class EntityModels:
    """The entity models of replicated tables, translated for DuckDB once: their DDL and the apply's parts.

    `apply_to` does what `CALL uba_apply_changes()` does in Redshift: per entity, the bound computed
    first, the reads run with it as a literal (unbounded without a watermark), then the merge.
    """

    tables: tuple[ChangeTable, ...]
    deploy: tuple[str, ...]
    bounds: tuple[str, ...]
    unbounded_reads: tuple[tuple[str, ...], ...]
    bounded_reads: tuple[tuple[str, ...], ...]
    merges: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, tables: Sequence[ChangeTable]) -> EntityModels:
        return cls(
            tables=tuple(tables),
            deploy=tuple(to_duckdb(entity_deploy_statements(tables))),
            bounds=tuple(to_duckdb([bound_query(t) for t in tables])),
            unbounded_reads=tuple(tuple(to_duckdb(stage_statements(t, None))) for t in tables),
            bounded_reads=tuple(tuple(to_duckdb(stage_statements(t, _BOUND))) for t in tables),
            merges=tuple(tuple(to_duckdb(merge_statements(t))) for t in tables),
        )

    def apply_to(self, connection: duckdb.DuckDBPyConnection) -> None:
        for bound_query_sql, unbounded, bounded, merge in zip(
            self.bounds, self.unbounded_reads, self.bounded_reads, self.merges, strict=True
        ):
            row = connection.execute(bound_query_sql).fetchone()
            bound = None if row is None else row[0]
            reads = unbounded if bound is None else [r.replace(_BOUND, str(bound).replace("'", "''")) for r in bounded]
            for statement in (*reads, *merge):
                connection.execute(statement)

    def refresh(self, parameters: RefreshParameters, full: bool) -> tuple[str, ...]:
        """The whole refresh with the apply in it (`CALL uba_apply_changes()` and the procedure stay calls)."""
        statements = refresh_statements(parameters, full=full, entities=self.tables)
        return tuple(s if s in (STAGE_CALL, APPLY_CALL) else to_duckdb([s])[0] for s in statements)


def arrival_floor(connection: duckdb.DuckDBPyConnection) -> str | None:
    """The bound the procedure computes: `YYYYMMDDHH` of watermark - lookback, or None without a watermark."""
    row = connection.execute(to_duckdb([ARRIVAL_FLOOR_QUERY])[0]).fetchone()
    return None if row is None else row[0]


def stage_lake_events(connection: duckdb.DuckDBPyConnection) -> str:
    """What `CALL uba_stage_lake_events()` does in Redshift: the same bound, the same read with it as a literal."""
    statement = to_duckdb([stage_statement(arrival_floor(connection))])[0]
    connection.execute(statement)
    return statement


def run_refresh_statement(
    connection: duckdb.DuckDBPyConnection, statement: str, entities: EntityModels | None = None
) -> None:
    if statement == STAGE_CALL:
        stage_lake_events(connection)
    elif statement == APPLY_CALL:
        # What `CALL uba_apply_changes()` runs in Redshift, statement by statement (DuckDB has no procedures).
        assert entities is not None, "the refresh applies changes only when it has entity models"
        entities.apply_to(connection)
    else:
        connection.execute(statement)


def create_lake_views(connection: duckdb.DuckDBPyConnection, lake: Path, catalog: Path) -> None:
    """`ods.events_spectrum` (every object) and `ods.events_by_arrival` (registered partitions) over `lake`."""
    create_events_view(connection, lake, ODS_EVENTS_VIEW)
    create_arrivals_view(connection, lake, catalog, ODS_ARRIVALS_VIEW)


def connect(state: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection in UTC: in memory, or persisted in the `state` file."""
    connection = duckdb.connect(str(state) if state else ":memory:")
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def refresh(
    connection: duckdb.DuckDBPyConnection,
    lake: Path,
    parameters: RefreshParameters | None = None,
    *,
    full: bool = False,
    entities: EntityModels | None = None,
) -> None:
    """Apply the deploy DDL, point the `ods` views at `lake`, and run one refresh.

    The refresh runs in one transaction, like a BatchExecuteStatement: if a statement
    fails, nothing of it stays. The arrival partitions are registered from the files'
    modification times (the local stand-in for the registrar) in a scratch catalog.
    With `entities` (replicated tables), their models are deployed too, `ods` gains a view
    per table over `lake/changes/`, and the refresh applies their new changes.
    """
    for statement in duckdb_deploy_statements():
        connection.execute(statement)
    parameters = parameters or RefreshParameters()
    statements = duckdb_refresh_statements(parameters, full)
    if entities is not None:
        for statement in entities.deploy:
            connection.execute(statement)
        create_change_views(connection, lake, entities.tables)
        statements = entities.refresh(parameters, full)
    with tempfile.TemporaryDirectory(prefix="uba-arrivals-") as catalog:
        create_lake_views(connection, lake, Path(catalog))
        connection.execute("BEGIN TRANSACTION")
        try:
            for statement in statements:
                run_refresh_statement(connection, statement, entities)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def model_names(entities: EntityModels | None = None) -> list[str]:
    """Every model a refresh builds: the deploy DDL's tables, and the entity models of replicated tables."""
    extra = [*model_tables(entities.tables), *model_views(entities.tables)] if entities is not None else []
    return [*table_names(), *extra]


def fetch_table(
    connection: duckdb.DuckDBPyConnection, name: str, entities: EntityModels | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and every row of a model table (or entity view), ordered by all columns."""
    known = model_names(entities)
    if name not in known:
        raise ValueError(f"unknown table {name!r}; choose one of: {', '.join(known)}")
    relation = connection.execute(f"SELECT * FROM {name}")
    columns = [description[0] for description in relation.description]
    order = ", ".join(str(position) for position in range(1, len(columns) + 1))
    rows = connection.execute(f"SELECT * FROM {name} ORDER BY {order}").fetchall()
    return columns, rows


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # Stored TIMESTAMPs are UTC without an offset, as in Redshift.
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _text_value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    return str(value)


def format_table(columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> str:
    """Rows as aligned text columns under a header."""
    cells = [list(columns), *[[_text_value(value) for value in row] for row in rows]]
    widths = [max(len(row[index]) for row in cells) for index in range(len(columns))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def format_json(columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> str:
    """Rows as a JSON array of objects keyed by column name."""
    records = [{column: _json_value(value) for column, value in zip(columns, row, strict=True)} for row in rows]
    return json.dumps(records, indent=2)


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more days, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.warehouse",
        description="Build the warehouse models from a local lake in DuckDB and print one table.",
    )
    parser.add_argument("--lake", type=Path, required=True, help="lake root (holds events/year=.../)")
    parser.add_argument("--table", required=True, help=f"table to print: {', '.join(table_names())}")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "--lookback-days",
        type=_non_negative_int,
        default=RefreshParameters().lookback_days,
        help="days before the watermark whose deliveries are read again (default %(default)s)",
    )
    parser.add_argument("--state", type=Path, help="DuckDB file keeping the models between runs")
    parser.add_argument("--full", action="store_true", help="ignore the watermark and rebuild every day")
    parser.add_argument("--conversion-from", default=RefreshParameters().conversion_from_action)
    parser.add_argument("--conversion-to", default=RefreshParameters().conversion_to_action)
    parser.add_argument(
        "--stack",
        help="also build the entity models (dim_<entity>, ...) of this stack's replicated tables (uba:cdc) "
        "from the lake's changes/ folder",
    )
    return parser


def _refresh_parameters(parser: argparse.ArgumentParser, options: argparse.Namespace) -> RefreshParameters:
    try:
        return RefreshParameters(
            lookback_days=options.lookback_days,
            conversion_from_action=options.conversion_from,
            conversion_to_action=options.conversion_to,
        )
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}" if problem["loc"] else problem["msg"]
            for problem in error.errors()
        )
        parser.error(problems)


def _entities(parser: argparse.ArgumentParser, stack: str) -> EntityModels:
    try:
        settings = stack_settings(stack)
    except (ProgramError, SettingsError) as error:
        parser.error(str(error))
    if not settings.cdc.enabled:
        parser.error(f"stack {stack} replicates no database (uba:cdc is off), so it has no entity models")
    return EntityModels.of(change_tables(settings.cdc.tables))


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    entities = _entities(parser, options.stack) if options.stack else None
    if options.table not in model_names(entities):
        parser.error(f"unknown table {options.table!r}; choose one of: {', '.join(model_names(entities))}")
    if not options.lake.is_dir():
        parser.error(f"no lake directory at {options.lake}")
    if options.state is not None and not options.state.parent.is_dir():
        parser.error(f"no directory for the state file {options.state}")
    parameters = _refresh_parameters(parser, options)

    try:
        connection = connect(options.state)
    except duckdb.Error as error:
        parser.error(f"cannot open the state file {options.state}: {error}")
    try:
        refresh(connection, options.lake.resolve(), parameters, full=options.full, entities=entities)
        columns, rows = fetch_table(connection, options.table, entities)
    except FileNotFoundError as error:
        parser.error(str(error))
    except (duckdb.IOException, duckdb.InvalidInputException) as error:
        parser.error(f"cannot read the lake at {options.lake}: {str(error).splitlines()[0]}")
    finally:
        connection.close()
    render = format_json if options.format == "json" else format_table
    sys.stdout.write(render(columns, rows) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
