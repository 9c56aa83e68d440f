"""Settings errors as a person reads them: one line per problem, naming the key, the value and what is allowed.

A misspelt key is the most common mistake in a stack file, so an unknown key names the
nearest known one and lists the keys allowed where it stands; when the key it resembles is
a required one reported missing, the two become one line (`ingest.stream: required, but
missing; 'strem' looks like a misspelling of it`).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from settings.base import PROJECT

Location = tuple[int | str, ...]
# Where a top-level key of the settings comes from in a stack file, when not `uba:<key>`.
_TOP_LEVEL_NAMES = {"region": "aws:region"}
_MESSAGE_PREFIX = re.compile(r"^(Value error|Assertion failed), ")


class SettingsError(ValueError):
    """Invalid stack config: one readable line per problem."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid config for stack '{stack}':\n{lines}")


def describe(error: ValidationError, raw: Mapping[str, Any], root: type[BaseModel]) -> list[str]:
    """Each validation error of `root` as one line; misspellings matched to the keys they miss."""
    errors = error.errors(include_url=False)
    missing = {tuple(e["loc"]) for e in errors if e["type"] == "missing"}
    suggested: dict[Location, str] = {}  # missing location -> the unknown key that resembles it
    lines: dict[int, str] = {}
    for index, e in enumerate(errors):
        location = tuple(e["loc"])
        if e["type"] != "extra_forbidden":
            continue
        parent, key = location[:-1], str(location[-1])
        allowed = allowed_keys(root, parent)
        nearest = nearest_key(key, allowed)
        if nearest is not None and (*parent, nearest) in missing:
            suggested[(*parent, nearest)] = _path(location) if not parent else key
            continue
        lines[index] = _unknown_key(location, nearest, allowed)
    for index, e in enumerate(errors):
        location = tuple(e["loc"])
        if e["type"] == "missing":
            typo = suggested.get(location)
            hint = f"; {typo!r} looks like a misspelling of it" if typo is not None else ""
            lines[index] = f"{_path(location)}: required, but missing{hint}"
        elif e["type"] != "extra_forbidden":
            lines[index] = _problem(e, raw)
    return [lines[index] for index in sorted(lines)]


def nearest_key(key: str, allowed: Sequence[str]) -> str | None:
    """The allowed key `key` most resembles (a typo, another case, a dash for an underscore), if any."""
    folded = {candidate.lower().replace("-", "_"): candidate for candidate in allowed}
    exact = folded.get(key.lower().replace("-", "_"))
    if exact is not None:
        return exact
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    return close[0] if close else None


def allowed_keys(root: type[BaseModel], parent: Location) -> list[str]:
    """The keys the model at `parent` (a location below `root`) accepts."""
    model: type[BaseModel] | None = root
    for part in parent:
        if model is None:
            return []
        if isinstance(part, int):
            continue  # an item of a list: the list's field already named the item model
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field is not None else None
    return list(model.model_fields) if model is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Annotated, typing.Union, types.UnionType, list):
        for argument in typing.get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None


def _unknown_key(location: Location, nearest: str | None, allowed: list[str]) -> str:
    if len(location) == 1:  # a section of the stack file's config
        what, listing = (
            "unknown section",
            "Sections: " + ", ".join(_path((key,)) for key in allowed if key not in _TOP_LEVEL_NAMES),
        )
        suggestion = f"; did you mean {_path((nearest,))}?" if nearest else "."
    else:
        what, listing = "unknown key", "Allowed keys: " + ", ".join(allowed)
        suggestion = f"; did you mean {nearest!r}?" if nearest else "."
    return f"{_path(location)}: {what}{suggestion} {listing}"


def _path(location: Location) -> str:
    """`platform.prefix`, `access.staff[0].user`; a whole section as it is written: `uba:platform`."""
    if len(location) == 1 and isinstance(location[0], str):
        return _TOP_LEVEL_NAMES.get(location[0], f"{PROJECT}:{location[0]}")
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(f".{part}" if parts else part)
    return "".join(parts)


def _value_at(raw: Any, location: Location) -> Any:
    value = raw
    for part in location:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _problem(error: Mapping[str, Any], raw: Mapping[str, Any]) -> str:
    location = tuple(error["loc"])
    message = _MESSAGE_PREFIX.sub("", str(error["msg"]))
    if error["type"] == "value_error" and not message.startswith("must "):
        # Model validators name the key themselves: `shard_count: required when ...`.
        key, _, reason = message.partition(": ")
        full = _path((*location, *key.split(".")))
        return f"{full}: {reason}"
    path = _path(location)
    if error["type"] == "value_error":
        return f"{path}: {message}"  # a field validator's message already carries the value
    got = _value_at(raw, location)
    return f"{path}: {_reason(error, message)}, got {got!r}"


_REASONS: dict[str, str] = {
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}",
    "string_too_short": "must have at least {min_length} characters",
    "string_too_long": "must have at most {max_length} characters",
    "too_short": "must have at least {min_length} items",
    "literal_error": "must be one of {expected}",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping of settings",
    "model_attributes_type": "must be a mapping of settings",
}


def _reason(error: Mapping[str, Any], message: str) -> str:
    template = _REASONS.get(str(error["type"]))
    if template is None:
        return f"{message[0].lower()}{message[1:]}"
    return template.format(**(error.get("ctx") or {}))
