"""The saved searches an operator runs against the search index, as written in `sql/search/*.json`.

One file per search; the file name (without `.json`) is the search's name, with `-` for `_`
on the command line (`alert-events`). A file holds:

    {"description": "what it answers",
     "parameters": {"<name>": {"type": "string" | "timestamp" | "int", "default": ..., "description": ...}},
     "query": {... an OpenSearch search body, where a value "{{<name>}}" stands for a parameter ...}}

A placeholder is always a whole JSON value, replaced by the parameter's typed value (a
number for an int), never pasted into text: no value can change the query's structure.
A parameter without a default is required. A `timestamp` is an ISO-8601 date-time with an
offset (rendered in UTC as every stored timestamp is) or OpenSearch date math relative to
now (`now`, `now-24h`, `now-7d`). Every search runs on `lambdas.search_schema.INDEX_PATTERN`
and collapses on `feedKey`, so a thing indexed twice (at-least-once delivery) shows once.

`python -m tools.search` lists and runs them (README, "Log search").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

SEARCH_DIR = Path(__file__).resolve().parent
ParameterType = Literal["string", "timestamp", "int"]
PARAMETER_TYPES: tuple[ParameterType, ...] = ("string", "timestamp", "int")

_PLACEHOLDER = re.compile(r"^\{\{([a-z][a-z0-9_]*)\}\}$")
_DATE_MATH = re.compile(r"^now(-\d{1,5}[smhdwMy])?(/[smhdwMy])?$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
MAX_SIZE = 10_000  # OpenSearch's default index.max_result_window
MAX_STRING = 1024  # the longest contract value (errorMsg); ids and actions are shorter


class SearchDefinitionError(ValueError):
    """A saved search's file is malformed (a bug in the repository, caught by the tests)."""


class SearchParameterError(ValueError):
    """A caller's values do not fit the search: unknown, missing or malformed parameters."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: ParameterType
    description: str
    default: Any = None

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class SavedSearch:
    name: str  # the file stem, e.g. alert_events
    description: str
    parameters: dict[str, Parameter]
    query: dict[str, Any]

    @property
    def command_name(self) -> str:
        return self.name.replace("_", "-")

    def render(self, values: Mapping[str, str]) -> dict[str, Any]:
        """The search body with every placeholder replaced by its typed value; bad values are one error each."""
        unknown = sorted(set(values) - set(self.parameters))
        problems = [f"unknown parameter {name!r}; {self.command_name} takes {self._names()}" for name in unknown]
        typed: dict[str, Any] = {}
        for name, parameter in self.parameters.items():
            raw = values.get(name, parameter.default)
            if raw is None:
                problems.append(f"{name}: required ({parameter.description})")
                continue
            try:
                typed[name] = convert(parameter, raw)
            except ValueError as error:
                problems.append(f"{name}: {error}")
        if problems:
            raise SearchParameterError("; ".join(problems))
        return _substitute(self.query, typed)

    def _names(self) -> str:
        return ", ".join(self.parameters)


def convert(parameter: Parameter, raw: Any) -> Any:
    """One value as its type takes it, or ValueError saying what the type accepts."""
    text = str(raw).strip()
    if parameter.type == "int":
        if not re.fullmatch(r"\d{1,6}", text) or not 1 <= int(text) <= MAX_SIZE:
            raise ValueError(f"must be a whole number from 1 to {MAX_SIZE}, got {raw!r}")
        return int(text)
    if parameter.type == "timestamp":
        if _DATE_MATH.fullmatch(text):
            return text
        if not _ISO.fullmatch(text):
            raise ValueError(
                f"must be an ISO-8601 date-time with an offset (2026-01-15T08:00:00Z) or date math "
                f"such as now-24h, got {raw!r}"
            )
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if not text or len(text) > MAX_STRING or any(ord(c) < 32 for c in text):
        raise ValueError(f"must be 1-{MAX_STRING} characters without control characters, got {raw!r}")
    return text


def _substitute(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        return {key: _substitute(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(value, values) for value in node]
    if isinstance(node, str) and (match := _PLACEHOLDER.fullmatch(node)):
        return values[match.group(1)]
    return node


def _placeholders(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_placeholders(value) for value in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_placeholders(value) for value in node)) if node else set()
    if isinstance(node, str):
        if "{{" in node and not _PLACEHOLDER.fullmatch(node):
            raise SearchDefinitionError(f"{node!r}: a placeholder must be a whole value")
        match = _PLACEHOLDER.fullmatch(node)
        return {match.group(1)} if match else set()
    return set()


def load(path: Path) -> SavedSearch:
    document = json.loads(path.read_text(encoding="utf-8"))
    name = path.stem
    try:
        parameters = {
            key: Parameter(key, spec["type"], spec["description"], spec.get("default"))
            for key, spec in document["parameters"].items()
        }
        search = SavedSearch(name, document["description"], parameters, document["query"])
    except (KeyError, TypeError) as error:
        raise SearchDefinitionError(f"{path.name}: missing or malformed {error}") from None
    for parameter in parameters.values():
        if parameter.type not in PARAMETER_TYPES:
            raise SearchDefinitionError(f"{path.name}: {parameter.name} has unknown type {parameter.type!r}")
        if parameter.default is not None:
            convert(parameter, parameter.default)
    used = _placeholders(search.query)
    if used != set(parameters):
        raise SearchDefinitionError(
            f"{path.name}: placeholders {sorted(used)} and parameters {sorted(parameters)} differ"
        )
    return search


def saved_searches() -> dict[str, SavedSearch]:
    """Every saved search, by command name (`alert-events`, ...)."""
    searches = (load(path) for path in sorted(SEARCH_DIR.glob("*.json")))
    return {search.command_name: search for search in searches}


def saved_search(command_name: str) -> SavedSearch:
    searches = saved_searches()
    if command_name not in searches:
        raise SearchParameterError(f"no saved search {command_name!r}; there are {', '.join(searches)}")
    return searches[command_name]
