"""The lake's analyses as written in `sql/athena/*.sql`, rendered for Athena and for DuckDB.

One file per analysis; the file name (without `.sql`) is the query name and the Athena
prepared statement name. A file is a single Trino (Athena engine v3) SELECT over the Glue
table `events`, opened by a comment header that declares its parameters:

    -- What the query answers, in one line (the prepared statement's description).
    -- ... more comment lines: output columns, definitions ...
    -- params: from_date, to_date, from_action=viewDoc, to_action=buy

In the body a parameter is written `:name`, as often as needed. A parameter without `=`
is required; after `=` comes its default. Its kind follows from its name: `*_date` is a
`YYYY-MM-DD` calendar date, `*_action` is an event action as the event contract bounds it.

Athena takes positional `?` only (and only in WHERE clauses), so `render_for_athena`
replaces each `:name` by `?` and returns the names in the order the values must be given
to `EXECUTE <name> USING ...` or to `StartQueryExecution(ExecutionParameters=...)`;
`athena_execution_parameters` renders those values as SQL literals in that order.
`render_for_duckdb` transpiles the same file with sqlglot (trino -> duckdb), keeping the
names as DuckDB's `$name` parameters, and returns the values to bind by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import sqlglot
from pydantic import TypeAdapter, ValidationError
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import Token, TokenType

from lambdas.events import Action

SQL_DIR = Path(__file__).resolve().parent  # the .sql files sit beside this loader
SOURCE_DIALECT = "trino"
LOCAL_DIALECT = "duckdb"

# Athena's console refuses more than 25 `?` in one query; keep every analysis runnable there.
MAX_ATHENA_PLACEHOLDERS = 25

ParameterKind = Literal["date", "action"]

_QUERY_NAME = re.compile(r"[a-z][a-z0-9_]*")
_PARAMETER_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PARAMS_HEADER = re.compile(r"--\s*params:(?P<spec>.*)")
_ACTION = TypeAdapter(Action)


class QueryError(ValueError):
    """Bad input from a caller: a query name or parameter values that cannot be run."""


class UnknownQueryError(QueryError):
    """No `sql/athena/<name>.sql`."""


class ParameterError(QueryError):
    """A parameter that is missing, unknown, malformed or inconsistent with another."""


class QueryDefinitionError(Exception):
    """A `.sql` file that breaks the convention: a bug in the repository, not user input."""


@dataclass(frozen=True)
class Parameter:
    """One declared parameter of a query."""

    name: str
    kind: ParameterKind
    default: str | None  # None: the caller must give it

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Placeholder:
    """Where `:name` stands in the file text: `text[start:end]`."""

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class AnalysisQuery:
    """One analysis: its file, declared parameters and where they are used."""

    name: str
    path: Path
    description: str
    parameters: tuple[Parameter, ...]
    text: str
    placeholders: tuple[Placeholder, ...]

    @property
    def parameter_names(self) -> list[str]:
        return [parameter.name for parameter in self.parameters]


def query_names() -> list[str]:
    """The analyses, by name, in alphabetical order (also the prepared statement names)."""
    return sorted(path.stem for path in SQL_DIR.glob("*.sql"))


def load_query(name: str) -> AnalysisQuery:
    """Read and check `sql/athena/<name>.sql`; `UnknownQueryError` if there is none."""
    if name not in query_names():
        raise UnknownQueryError(f"unknown query {name!r}; known queries: {', '.join(query_names())}")
    return read_query_file(SQL_DIR / f"{name}.sql")


def read_query_file(path: Path) -> AnalysisQuery:
    """Parse one `.sql` file of the convention; `QueryDefinitionError` says what is wrong with it."""
    text = path.read_text(encoding="utf-8")
    name = path.stem
    if not _QUERY_NAME.fullmatch(name):
        raise QueryDefinitionError(f"{path}: query names are lowercase snake_case (Athena statement names)")
    header = _header_lines(text)
    if not header:
        raise QueryDefinitionError(f"{path}: starts without a `--` comment header")
    parameters = _declared_parameters(path, header)
    placeholders = _placeholders(path, text)
    _check_usage(path, parameters, placeholders)
    return AnalysisQuery(
        name=name,
        path=path,
        description=header[0].removeprefix("--").strip(),
        parameters=parameters,
        text=text,
        placeholders=placeholders,
    )


def render_for_athena(name: str) -> tuple[str, list[str]]:
    """The statement to deploy as an Athena prepared statement, and its parameter order.

    Each `:name` becomes `?`; the list names the parameter of each `?` in order, so a name
    used twice appears twice. The rest of the text (comments, layout) is kept as written.
    """
    query = load_query(name)
    pieces: list[str] = []
    cursor = 0
    for placeholder in query.placeholders:
        pieces.append(query.text[cursor : placeholder.start])
        pieces.append("?")
        cursor = placeholder.end
    pieces.append(query.text[cursor:])
    return "".join(pieces).strip() + "\n", [placeholder.name for placeholder in query.placeholders]


def resolve_parameters(name: str, supplied: Mapping[str, str]) -> dict[str, str]:
    """Every parameter of the query with its value: `supplied`, else its default; checked.

    Raises `ParameterError` naming the parameter for an unknown or missing one, a value of
    the wrong shape, `from_date` after `to_date`, or `from_action` equal to `to_action`.
    """
    query = load_query(name)
    accepted = _describe(query.parameters)
    unknown = sorted(set(supplied) - set(query.parameter_names))
    if unknown:
        raise ParameterError(f"unknown parameter {unknown[0]!r} for {name}; it takes: {accepted}")
    values: dict[str, str] = {}
    for parameter in query.parameters:
        value = supplied.get(parameter.name, parameter.default)
        if value is None:
            raise ParameterError(f"missing parameter {parameter.name!r} for {name}; it takes: {accepted}")
        _check_value(parameter, value)
        values[parameter.name] = value
    _check_consistency(values)
    return values


def athena_execution_parameters(name: str, supplied: Mapping[str, str]) -> list[str]:
    """Values for `EXECUTE name USING ...` / `ExecutionParameters`, as SQL literals, in order.

    Athena reads each execution parameter as SQL text, so strings must be single-quoted
    (quotes inside doubled); every parameter here is a string.
    """
    values = resolve_parameters(name, supplied)
    _, order = render_for_athena(name)
    return ["'" + values[parameter].replace("'", "''") + "'" for parameter in order]


def render_for_duckdb(name: str, supplied: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The same query in DuckDB's dialect, with `$name` parameters, and the values to bind.

    Run it as `connection.execute(sql, values)` on a connection whose TimeZone is UTC and
    that has the lake's `events` view (`tools.local.lake.create_events_view`).
    """
    query = load_query(name)
    values = resolve_parameters(name, supplied)
    statements = sqlglot.transpile(query.text, read=SOURCE_DIALECT, write=LOCAL_DIALECT)
    if len(statements) != 1:
        raise QueryDefinitionError(f"{query.path}: expected one statement, found {len(statements)}")
    return statements[0], values


def _describe(parameters: tuple[Parameter, ...]) -> str:
    return ", ".join(
        parameter.name if parameter.required else f"{parameter.name} (default {parameter.default})"
        for parameter in parameters
    )


def _check_value(parameter: Parameter, value: str) -> None:
    if parameter.kind == "date":
        _parse_date(parameter.name, value)
        return
    try:
        _ACTION.validate_python(value)
    except ValidationError as error:
        reason = error.errors()[0]["msg"]
        raise ParameterError(f"{parameter.name} must be an event action ({reason}), got {value!r}") from None


def _parse_date(name: str, value: str) -> date:
    # fromisoformat alone would also take `20260105` and week dates; the contract is YYYY-MM-DD.
    if not _ISO_DATE.fullmatch(value):
        raise ParameterError(f"{name} must be a date as YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise ParameterError(f"{name} must be a real calendar date, got {value!r} ({error})") from None


def _check_consistency(values: Mapping[str, str]) -> None:
    if "from_date" in values and "to_date" in values:
        first, last = _parse_date("from_date", values["from_date"]), _parse_date("to_date", values["to_date"])
        if first > last:
            raise ParameterError(f"from_date {first} is after to_date {last}; the range must not be empty")
    if "from_action" in values and values.get("from_action") == values.get("to_action"):
        same = values["from_action"]
        raise ParameterError(f"from_action and to_action are both {same!r}; a conversion needs two actions")


def _header_lines(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line)
    return lines


def _declared_parameters(path: Path, header: list[str]) -> tuple[Parameter, ...]:
    specs = [match["spec"] for line in header if (match := _PARAMS_HEADER.fullmatch(line.strip()))]
    if len(specs) != 1:
        raise QueryDefinitionError(f"{path}: the header needs exactly one `-- params:` line")
    parameters: list[Parameter] = []
    for item in (part.strip() for part in specs[0].split(",")):
        name, has_default, default = (piece.strip() for piece in item.partition("="))
        if not _PARAMETER_NAME.fullmatch(name):
            raise QueryDefinitionError(f"{path}: bad parameter declaration {item!r}")
        parameter = Parameter(name=name, kind=_kind_of(path, name), default=default if has_default else None)
        if parameter.default is not None:
            try:
                _check_value(parameter, parameter.default)
            except ParameterError as error:
                raise QueryDefinitionError(f"{path}: bad default: {error}") from None
        parameters.append(parameter)
    names = [parameter.name for parameter in parameters]
    if len(set(names)) != len(names):
        raise QueryDefinitionError(f"{path}: a parameter is declared twice in {names}")
    return tuple(parameters)


def _kind_of(path: Path, name: str) -> ParameterKind:
    if name.endswith("_date"):
        return "date"
    if name.endswith("_action"):
        return "action"
    raise QueryDefinitionError(f"{path}: parameter {name!r} has no known kind (name it *_date or *_action)")


def _placeholders(path: Path, text: str) -> tuple[Placeholder, ...]:
    """Find `:name` with sqlglot's Trino tokenizer, so colons in strings and comments are left alone."""
    tokens = Dialect.get_or_raise(SOURCE_DIALECT).tokenize(text)
    found: list[Placeholder] = []
    for token, following in zip(tokens, [*tokens[1:], None], strict=True):
        if token.token_type == TokenType.PLACEHOLDER:
            raise QueryDefinitionError(f"{path}: use named `:name` parameters, not `?` (at {token.start})")
        if token.token_type == TokenType.SEMICOLON:
            raise QueryDefinitionError(f"{path}: a prepared statement is one statement without `;`")
        if token.token_type == TokenType.COLON:
            found.append(_placeholder_after(path, token, following))
    return tuple(found)


def _placeholder_after(path: Path, colon: Token, following: Token | None) -> Placeholder:
    # Token ends are inclusive; a placeholder's name follows its colon with no space.
    if following is None or following.start != colon.end + 1 or not _PARAMETER_NAME.fullmatch(following.text):
        raise QueryDefinitionError(f"{path}: `:` at offset {colon.start} is not followed by a parameter name")
    return Placeholder(name=following.text, start=colon.start, end=following.end + 1)


def _check_usage(path: Path, parameters: tuple[Parameter, ...], found: tuple[Placeholder, ...]) -> None:
    declared = {parameter.name for parameter in parameters}
    used = {placeholder.name for placeholder in found}
    if used - declared:
        raise QueryDefinitionError(f"{path}: uses undeclared parameters {sorted(used - declared)}")
    if declared - used:
        raise QueryDefinitionError(f"{path}: declares parameters it never uses {sorted(declared - used)}")
    if len(found) > MAX_ATHENA_PLACEHOLDERS:
        limit = MAX_ATHENA_PLACEHOLDERS
        raise QueryDefinitionError(f"{path}: {len(found)} placeholders; Athena's console takes {limit}")
