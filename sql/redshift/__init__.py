"""Load the Redshift warehouse SQL: file order, placeholders, statement splitting, rendering.

`sql/redshift/` holds plain Redshift SQL:

- `NN_*.sql` (two-digit prefix): deploy-time DDL, applied in file-name order, every
  statement idempotent (`CREATE ... IF NOT EXISTS`). `deploy_statements()` renders it.
- `refresh.sql`: the scheduled incremental refresh. `refresh_statements()` renders it as
  the `Sqls` list of one Redshift Data API `BatchExecuteStatement` (one transaction).
- `stage_lake.sql`: the refresh's one read of the lake. Its step 2 calls the procedure
  `uba_stage_lake_events` (`stage_procedure()`, created at deploy time), which computes the
  arrival-hour bound once (`ARRIVAL_FLOOR`) and runs `stage_statement(bound)` with the bound
  as a literal, since Spectrum prunes partitions only on literals; the local runner computes
  the same bound and runs the same `stage_statement(bound)`.

Placeholders are written `{{name}}` and may appear only inside single-quoted string
literals (the loader refuses them anywhere else), so every file parses as SQL before
rendering and a value can never change the shape of a statement: values are validated,
then rendered with `'` doubled. Placeholders in comments are left alone.

| placeholder                  | file         | meaning                                        |
| ---------------------------- | ------------ | ---------------------------------------------- |
| `{{glue_database}}`          | deploy DDL   | the stack's Glue database holding `events`     |
| `{{spectrum_role_arn}}`      | deploy DDL   | IAM role Redshift assumes for Glue and S3      |
| `{{lookback_days}}`          | refresh      | days before the watermark read again (int >= 0)|
| `{{conversion_from_action}}` | refresh      | first action of the conversion (`viewDoc`)     |
| `{{conversion_to_action}}`   | refresh      | second action of the conversion (`buy`)        |

This module needs only the standard library and Pydantic, so the Pulumi program can
import it; `to_duckdb()` (the local runner's translation) imports sqlglot when called.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sql.changes import ChangeTable
from sql.redshift.entities import APPLY_PROCEDURE, WATERMARKS, state_table

SQL_DIR = Path(__file__).resolve().parent  # the .sql files sit beside this loader
REFRESH_FILE = "refresh.sql"
STAGE_FILE = "stage_lake.sql"
STAGE_PROCEDURE = "uba_stage_lake_events"
# Spectrum tables (Glue, in the lake tier's catalog): every object, and the same objects by arrival hour.
WHOLE_LAKE_READ = "FROM ods.events_spectrum AS e"
ARRIVALS_READ = "FROM ods.events_by_arrival AS e"
# The arrival hour (`YYYYMMDDHH`, UTC) from which objects can hold rows received after
# watermark - lookback_days; NULL without a watermark (first or full refresh: read everything).
ARRIVAL_FLOOR = "TO_CHAR(DATEADD(DAY, -s.lookback_days, s.watermark), 'YYYYMMDDHH24')"
ARRIVAL_FLOOR_QUERY = f"SELECT {ARRIVAL_FLOOR} FROM etl_refresh_state AS s"
_ARRIVAL_HOUR = re.compile(r"^\d{10}$")
# The Data API refuses a BatchExecuteStatement with more than 40 statements.
MAX_BATCH_STATEMENTS = 40
# Prepended by a full refresh: with no watermark the refresh reads the whole lake.
FULL_REFRESH_RESET = "UPDATE etl_refresh_state SET watermark = NULL"
# Step 1 of the refresh records its look-back; the entity models' apply reads it.
LOOKBACK_UPDATE = "UPDATE etl_refresh_state SET lookback_days"
APPLY_CALL = f"CALL {APPLY_PROCEDURE}()"

_DEPLOY_FILE = re.compile(r"^\d{2}_[a-z0-9_]+\.sql$")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_CREATE_TABLE = re.compile(r"^CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+([a-z_][a-z0-9_]*)\s*\(", re.IGNORECASE)
_EXTERNAL_SCHEMA = re.compile(r"^CREATE\s+EXTERNAL\s+SCHEMA\s+IF\s+NOT\s+EXISTS\s+([a-z_][a-z0-9_]*)\s", re.IGNORECASE)

# Glue database names: letters, digits, `_` and `-` (Glue stores them lower-cased).
GlueDatabase = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,255}$")]
RoleArn = Annotated[str, Field(max_length=2048, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$")]
# An action as the event contract allows it, minus what cannot sit safely in a Redshift
# string literal (backslash, control characters).
ConversionAction = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\\\x00-\x1f\x7f]+$")]


class DeployParameters(BaseModel):
    """Values of the deploy DDL's placeholders."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    glue_database: GlueDatabase
    spectrum_role_arn: RoleArn


class RefreshParameters(BaseModel):
    """Values of the refresh's placeholders; defaults are the documented ones."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lookback_days: Annotated[int, Field(strict=True, ge=0, le=3650)] = 3
    conversion_from_action: ConversionAction = "viewDoc"
    conversion_to_action: ConversionAction = "buy"

    @model_validator(mode="after")
    def _distinct_actions(self) -> RefreshParameters:
        if self.conversion_from_action == self.conversion_to_action:
            raise ValueError(
                f"conversion_from_action and conversion_to_action are both "
                f"{self.conversion_from_action!r}; a conversion needs two different actions"
            )
        return self


class SqlFileError(ValueError):
    """A SQL file the loader cannot use as written (raised with the file and position)."""


@dataclass(frozen=True)
class _Segment:
    kind: Literal["code", "string", "identifier", "comment", "end"]
    text: str
    start: int


def _closing(sql: str, start: int, quote: str) -> int:
    """Index just past a quoted run opened at `start`; a doubled quote stays inside."""
    index = start + 1
    while True:
        index = sql.find(quote, index)
        if index < 0:
            raise SqlFileError(f"unterminated {quote} quote opened at offset {start}")
        if sql.startswith(quote * 2, index):
            index += 2
            continue
        return index + 1


def _segments(sql: str) -> list[_Segment]:
    """Cut SQL into code, string literals, quoted identifiers, comments and `;` ends.

    Redshift's lexical rules are small enough for this: `'...'` strings and `"..."`
    identifiers escape their quote by doubling it, comments are `--` to end of line
    or `/* ... */`. Dollar-quoted bodies are not used in these files.
    """
    segments: list[_Segment] = []
    code_start = index = 0

    def flush_code(until: int) -> None:
        if until > code_start:
            segments.append(_Segment("code", sql[code_start:until], code_start))

    while index < len(sql):
        char = sql[index]
        if sql.startswith("--", index):
            end = sql.find("\n", index)
            end = len(sql) if end < 0 else end
            kind: Literal["code", "string", "identifier", "comment", "end"] = "comment"
        elif sql.startswith("/*", index):
            end = sql.find("*/", index + 2)
            if end < 0:
                raise SqlFileError(f"unterminated /* comment opened at offset {index}")
            end += 2
            kind = "comment"
        elif char == "'":
            end, kind = _closing(sql, index, "'"), "string"
        elif char == '"':
            end, kind = _closing(sql, index, '"'), "identifier"
        elif char == ";":
            end, kind = index + 1, "end"
        else:
            index += 1
            continue
        flush_code(index)
        segments.append(_Segment(kind, sql[index:end], index))
        code_start = index = end
    flush_code(len(sql))
    return segments


def _check_placeholders(segments: list[_Segment]) -> None:
    for segment in segments:
        if segment.kind in ("code", "identifier") and _PLACEHOLDER.search(segment.text):
            raise SqlFileError(
                f"placeholder outside a string literal at offset {segment.start}: "
                f"{segment.text.strip()[:60]!r}; write it as '{{{{name}}}}'"
            )


def _is_blank(segment: _Segment) -> bool:
    return segment.kind == "comment" or (segment.kind == "code" and not segment.text.strip())


def split_statements(sql: str) -> list[str]:
    """The statements of a SQL text, without their `;` or the comments before them.

    A `;` inside a string, a quoted identifier or a comment does not end a statement;
    pieces holding only comments and white space are dropped.
    """
    segments = _segments(sql)
    _check_placeholders(segments)
    statements: list[str] = []
    current: list[_Segment] = []
    for segment in [*segments, _Segment("end", "", len(sql))]:
        if segment.kind != "end":
            current.append(segment)
            continue
        while current and _is_blank(current[0]):
            current.pop(0)
        text = "".join(part.text for part in current).strip()
        if text:
            statements.append(text)
        current = []
    return statements


def _literal_text(value: str | int) -> str:
    """A value as it goes between the quotes of a Redshift string literal."""
    return str(value).replace("'", "''")


def render(sql: str, values: Mapping[str, str | int]) -> str:
    """Fill `{{name}}` placeholders inside string literals; other text is unchanged."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise SqlFileError(f"no value for placeholder {{{{{name}}}}}; known: {sorted(values)}")
        return _literal_text(values[name])

    segments = _segments(sql)
    _check_placeholders(segments)
    return "".join(
        _PLACEHOLDER.sub(substitute, segment.text) if segment.kind == "string" else segment.text for segment in segments
    )


def deploy_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    """The deploy DDL files in the order they are applied (by their two-digit prefix)."""
    files = sorted(path for path in sql_dir.iterdir() if _DEPLOY_FILE.match(path.name))
    if not files:
        raise SqlFileError(f"no deploy DDL (NN_name.sql) under {sql_dir}")
    return files


@cache
def _file_statements(path: Path) -> tuple[str, ...]:
    try:
        return tuple(split_statements(path.read_text(encoding="utf-8")))
    except SqlFileError as error:
        raise SqlFileError(f"{path}: {error}") from error


def deploy_statements(parameters: DeployParameters, sql_dir: Path = SQL_DIR) -> list[str]:
    """Every deploy DDL statement, rendered, in order; safe to apply on every deploy."""
    values = parameters.model_dump()
    return [render(statement, values) for path in deploy_files(sql_dir) for statement in _file_statements(path)]


def refresh_statements(
    parameters: RefreshParameters | None = None,
    *,
    full: bool = False,
    sql_dir: Path = SQL_DIR,
    entities: Sequence[ChangeTable] = (),
) -> list[str]:
    """The refresh, rendered: the `Sqls` of one BatchExecuteStatement.

    `full=True` first clears the watermark, so the refresh reads the whole lake and
    rebuilds every day (for files that landed later than the look-back covers).
    With replicated tables (`entities`), the refresh also applies their new changes to the
    entity models (`CALL uba_apply_changes()`, see `sql.redshift.entities`) right after it
    records its look-back; a full refresh rebuilds them from every change in the lake.
    """
    values = (parameters or RefreshParameters()).model_dump()
    statements = [render(statement, values) for statement in _file_statements(sql_dir / REFRESH_FILE)]
    if entities:
        after = next(i for i, s in enumerate(statements) if s.startswith(LOOKBACK_UPDATE)) + 1
        statements.insert(after, APPLY_CALL)
        if full:
            statements[0:0] = entities_full_reset(entities)
    if full:
        statements.insert(0, FULL_REFRESH_RESET)
    if len(statements) > MAX_BATCH_STATEMENTS:
        raise SqlFileError(
            f"{sql_dir / REFRESH_FILE} has {len(statements)} statements; "
            f"one BatchExecuteStatement takes at most {MAX_BATCH_STATEMENTS}"
        )
    return statements


def entities_full_reset(entities: Sequence[ChangeTable]) -> list[str]:
    """A rebuild of the entity models: forget their state and watermarks, so the apply reads every change."""
    return [f"UPDATE {WATERMARKS} SET watermark = NULL", *(f"DELETE FROM {state_table(t)}" for t in entities)]


def _whole_lake_read(sql_dir: Path) -> str:
    (statement,) = _file_statements(sql_dir / STAGE_FILE)
    if statement.count(WHOLE_LAKE_READ) != 1:
        raise SqlFileError(f"{sql_dir / STAGE_FILE} must read the lake exactly once, {WHOLE_LAKE_READ!r}")
    return statement


def _bounded_read_prefix(sql_dir: Path) -> str:
    """The lake read over the arrival partitions, up to the literal of its lower bound."""
    return _whole_lake_read(sql_dir).replace(WHOLE_LAKE_READ, ARRIVALS_READ) + "\n    AND e.arrival_hour >= "


def stage_statement(arrival_floor: str | None, sql_dir: Path = SQL_DIR) -> str:
    """The refresh's lake read: everything without a bound, else only objects that arrived from that hour on."""
    if arrival_floor is None:
        return _whole_lake_read(sql_dir)
    if not _ARRIVAL_HOUR.match(arrival_floor):
        raise SqlFileError(f"an arrival hour is YYYYMMDDHH, got {arrival_floor!r}")
    return _bounded_read_prefix(sql_dir) + f"'{arrival_floor}'"


def _dollar_literal(sql: str) -> str:
    return "'" + sql.replace("'", "''") + "'"


def stage_procedure(sql_dir: Path = SQL_DIR) -> str:
    """CREATE OR REPLACE PROCEDURE for step 2 of the refresh: the bound computed once, passed as a literal.

    Spectrum prunes partitions on literal predicates only, not on a subquery, and a Data API batch
    is static SQL; the procedure runs in the caller's transaction (Redshift Database Developer
    Guide, "Managing transactions": a procedure called in a transaction block does not commit),
    builds the statement with EXECUTE (dynamic SQL) and quote_literal.
    """
    return f"""CREATE OR REPLACE PROCEDURE {STAGE_PROCEDURE}()
AS $$
DECLARE
    arrival_floor VARCHAR(10);
BEGIN
    SELECT INTO arrival_floor {ARRIVAL_FLOOR} FROM etl_refresh_state AS s;
    IF arrival_floor IS NULL THEN
        EXECUTE {_dollar_literal(_whole_lake_read(sql_dir))};
    ELSE
        EXECUTE {_dollar_literal(_bounded_read_prefix(sql_dir))} || quote_literal(arrival_floor);
    END IF;
END;
$$ LANGUAGE plpgsql"""


def table_names(sql_dir: Path = SQL_DIR) -> list[str]:
    """Names of the local tables the deploy DDL creates, in DDL order."""
    names: list[str] = []
    for path in deploy_files(sql_dir):
        for statement in _file_statements(path):
            match = _CREATE_TABLE.match(statement)
            if match:
                names.append(match.group(1).lower())
    return names


def _external_schema_for_duckdb(statement: str) -> str | None:
    """DuckDB has no Spectrum: the external schema becomes a plain schema.

    The caller then creates `<schema>.events` as a view over the local lake files
    (`tools.local.lake.create_events_view`).
    """
    match = _EXTERNAL_SCHEMA.match(statement)
    return f"CREATE SCHEMA IF NOT EXISTS {match.group(1).lower()}" if match else None


def to_duckdb(statements: Iterable[str]) -> list[str]:
    """Translate rendered Redshift statements to DuckDB with sqlglot.

    Two Redshift-only things are translated by rule, not dropped silently: the external
    schema (see `_external_schema_for_duckdb`) and the physical layout clauses
    (DISTSTYLE, DISTKEY, SORTKEY), which do not change results. Anything else sqlglot
    cannot express in DuckDB raises.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel

    translated: list[str] = []
    for statement in statements:
        schema = _external_schema_for_duckdb(statement)
        if schema is not None:
            translated.append(schema)
            continue
        tree = sqlglot.parse_one(statement, read="redshift")
        if isinstance(tree, exp.Command):
            raise SqlFileError(f"sqlglot cannot model this statement for DuckDB: {statement[:80]!r}")
        for layout in list(tree.find_all(exp.DistStyleProperty, exp.DistKeyProperty, exp.SortKeyProperty)):
            layout.pop()
        translated.append(tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE))
    return translated
