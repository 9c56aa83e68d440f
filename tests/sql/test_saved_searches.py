"""The saved searches: well-formed files, typed parameters, and only fields the index template maps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambdas.search_schema import DEDUP_KEY, index_template
from sql.search import SearchDefinitionError, SearchParameterError, load, saved_search, saved_searches

MAPPED = set(index_template()["template"]["mappings"]["properties"])
QUERY_CLAUSES = ("term", "terms", "range", "match", "match_phrase", "exists")


def fields_used(node: Any) -> set[str]:
    """Every field a query body filters, sorts or collapses on."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in QUERY_CLAUSES and isinstance(value, dict):
                found |= set(value)
            elif key == "collapse":
                found.add(value["field"])
            elif key == "sort":
                found |= {field for clause in value for field in clause}
            else:
                found |= fields_used(value)
    elif isinstance(node, list):
        for value in node:
            found |= fields_used(value)
    return found


def test_the_operator_has_the_three_searches_the_issue_names() -> None:
    assert set(saved_searches()) == {"alert-events", "user-errors", "object-errors"}


@pytest.mark.parametrize("name", sorted(saved_searches()))
def test_every_search_uses_only_mapped_fields_and_collapses_copies(name: str) -> None:
    search = saved_search(name)
    body = search.render({p.name: "2026-01-15T08:00:00Z" if p.type == "timestamp" else ("5" if p.type == "int"
                          else "x") for p in search.parameters.values()})  # fmt: skip
    assert fields_used(body) <= MAPPED, fields_used(body) - MAPPED
    assert body["collapse"] == {"field": DEDUP_KEY}  # at-least-once delivery: each thing once
    assert {"term": {"kind": "event"}} in body["query"]["bool"]["filter"]


def test_parameters_are_typed_values_never_pasted_text() -> None:
    body = saved_search("user-errors").render({"user": 'u1"}}, "match_all": {', "size": "3", "since": "now-2h"})
    assert body["size"] == 3
    filters = body["query"]["bool"]["filter"]
    assert {"term": {"userId": 'u1"}}, "match_all": {'}} in filters  # one string value, however it looks
    assert {"range": {"@timestamp": {"gte": "now-2h"}}} in filters
    offset = saved_search("object-errors").render({"object": "doc-9", "since": "2026-01-15T09:00:00+01:00"})
    assert {"range": {"@timestamp": {"gte": "2026-01-15T08:00:00.000Z"}}} in offset["query"]["bool"]["filter"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "action: required"),
        ({"action": "buy", "from": "yesterday", "to": "now"}, "from: must be an ISO-8601"),
        ({"action": "buy", "from": "now-1h", "to": "now", "size": "0"}, "size: must be a whole number"),
        ({"action": "buy", "from": "now-1h", "to": "now", "size": "10001"}, "size: must be a whole number"),
        ({"action": "a\nb", "from": "now-1h", "to": "now"}, "action: must be 1-1024 characters"),
        ({"action": "buy", "from": "now-1h", "to": "now", "user": "u1"}, "unknown parameter 'user'"),
    ],
)
def test_bad_values_are_refused_each_with_its_reason(values: dict[str, str], message: str) -> None:
    with pytest.raises(SearchParameterError, match=message):
        saved_search("alert-events").render(values)


def test_an_unknown_search_names_the_ones_there_are() -> None:
    with pytest.raises(SearchParameterError, match="alert-events, object-errors, user-errors"):
        saved_search("all-errors")


def write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    return path


def test_a_malformed_definition_is_caught(tmp_path: Path) -> None:
    base = {"description": "d", "parameters": {"a": {"type": "string", "description": "a"}}}
    with pytest.raises(SearchDefinitionError, match="whole value"):
        load(write(tmp_path, {**base, "query": {"q": "prefix-{{a}}"}}))
    with pytest.raises(SearchDefinitionError, match="differ"):
        load(write(tmp_path, {**base, "query": {"q": "{{b}}"}}))
    with pytest.raises(SearchDefinitionError, match="unknown type"):
        load(write(tmp_path, {**base, "parameters": {"a": {"type": "date", "description": "a"}}, "query": "{{a}}"}))
