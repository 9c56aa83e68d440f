"""The search index template derives from the event and alert contracts, and the job's documents fit it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from lambdas import search_admin
from lambdas.alerts import ErrorAlert, WarnBurstAlert
from lambdas.events import stored_columns
from lambdas.search_admin import SecurityMappings, handler, security_requests
from lambdas.search_schema import (
    DEDUP_KEY,
    FEED_FIELDS,
    INDEX_PATTERN,
    TIMESTAMP,
    day_of_index,
    document_fields,
    index_template,
)
from streaming.statements import SQL_DIR

OPENSEARCH_TYPE = {"string": "keyword", "timestamp": "date", "int": "integer"}


def mapping() -> dict[str, Any]:
    return index_template()["template"]["mappings"]["properties"]


def test_every_contract_field_is_mapped_with_its_contract_type() -> None:
    properties = mapping()
    for column in stored_columns():
        field = properties[column.wire_name]
        expected = "text" if column.wire_name in ("errorMsg", "userAgent") else OPENSEARCH_TYPE[column.logical_type]
        assert field["type"] == expected, column.wire_name
        if field["type"] == "text":  # free text keeps its exact value for terms and aggregations
            assert field["fields"]["keyword"]["type"] == "keyword"
        if field["type"] == "date":
            assert field["format"] == "strict_date_time"


def test_alert_fields_come_from_the_alert_contract() -> None:
    properties = mapping()
    assert properties["warnCount"]["type"] == "integer"  # WarnBurstAlert.warnCount: int
    assert properties["windowStart"]["type"] == properties["windowEnd"]["type"] == "date"
    assert properties["alertType"]["type"] == "keyword"
    alert_fields = (set(ErrorAlert.model_fields) | set(WarnBurstAlert.model_fields)) - set(ErrorAlert.ENRICHMENT_FIELDS)
    contract = {c.wire_name for c in stored_columns()}
    assert set(properties) == alert_fields | contract | set(FEED_FIELDS)


def test_the_mapping_is_strict_and_nothing_else_is_in_it() -> None:
    template = index_template()
    assert template["template"]["mappings"]["dynamic"] == "strict"
    assert template["index_patterns"] == [INDEX_PATTERN]
    assert "settings" not in template["template"]  # Serverless refuses index settings
    assert index_template({"number_of_shards": 1})["template"]["settings"] == {"index": {"number_of_shards": 1}}


def test_a_field_with_two_types_in_the_two_contracts_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    class Clash(WarnBurstAlert):
        eventId: int  # the event contract says string

    monkeypatch.setattr("lambdas.search_schema.ALERT_MODELS", (ErrorAlert, Clash))
    with pytest.raises(TypeError, match="eventId is int"):
        document_fields()


def test_the_jobs_documents_name_only_mapped_fields() -> None:
    """Every key the Flink SQL writes (JSON_OBJECT ... KEY 'x') is a field of the template, and vice versa."""
    sql = (SQL_DIR / "search_documents.sql").read_text()
    keys = set(re.findall(r"KEY '([^']+)'", sql))
    assert keys == set(mapping())
    assert {TIMESTAMP, DEDUP_KEY, "kind", "level"} <= keys


def test_daily_index_names_parse_back_and_nothing_else_does() -> None:
    assert str(day_of_index("uba-search-2026-01-31")) == "2026-01-31"
    for name in ("uba-search", "uba-search-archive", "uba-search-2026-13-01", "other-2026-01-01"):
        assert day_of_index(name) is None


def test_a_domains_security_mappings_give_each_persona_its_role() -> None:
    mappings = SecurityMappings(("arn:aws:iam::1:role/firehose",), ("arn:aws:iam::1:user/omar",),
                                ("arn:aws:iam::1:user/alice",), ("arn:aws:iam::1:role/search-admin",))  # fmt: skip
    requests = {path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1]: body
                for _, path, body in security_requests(mappings)}  # fmt: skip
    assert requests["rolesmapping/uba_search_reader"] == {"users": ["arn:aws:iam::1:user/omar"]}
    assert requests["rolesmapping/uba_search_writer"] == {"backend_roles": ["arn:aws:iam::1:role/firehose"]}
    assert requests["rolesmapping/all_access"] == {
        "users": ["arn:aws:iam::1:user/alice"],
        "backend_roles": ["arn:aws:iam::1:role/search-admin"],
    }
    assert requests["roles/uba_search_reader"]["index_permissions"] == [
        {"index_patterns": [INDEX_PATTERN], "allowed_actions": ["read"]}
    ]
    assert SecurityMappings.from_json(mappings.to_json()) == mappings


@pytest.mark.parametrize(
    "event",
    [{}, {"action": "drop-everything", "endpoint": "https://x"}, {"action": "setup"},
     {"action": "setup", "endpoint": "http://plain-text"}, "setup"],
)  # fmt: skip
def test_the_admin_function_refuses_what_it_does_not_know(event: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(search_admin.SERVICE_ENV, "aoss")
    monkeypatch.setenv(search_admin.REGION_ENV, "eu-west-1")
    with pytest.raises(ValueError):
        handler(event, None)


def test_the_admin_function_sets_up_with_signed_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """In AWS every request is SigV4-signed for the store's service, payload hash included (Serverless needs it)."""
    monkeypatch.setenv(search_admin.SERVICE_ENV, "aoss")
    monkeypatch.setenv(search_admin.REGION_ENV, "eu-west-1")
    monkeypatch.setenv(search_admin.INDEX_SETTINGS_ENV, "{}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    sent: list[tuple[str, str, dict[str, str]]] = []

    class Response:
        def __init__(self, status: int, body: Any) -> None:
            self.status, self.data = status, json.dumps(body).encode()

    def request(self: Any, method: str, url: str, body: Any = None, headers: Any = None) -> Response:
        sent.append((method, url, headers))
        if method == "GET":
            return Response(200, {"index_templates": [{"name": "uba-search", "index_template": index_template()}]})
        return Response(200, {"acknowledged": True})

    monkeypatch.setattr("urllib3.PoolManager.request", request)
    answer = handler({"action": "setup", "endpoint": "https://abc.eu-west-1.aoss.amazonaws.com"}, None)
    assert answer["applied"] == ["/_index_template/uba-search"]
    method, url, headers = sent[0]
    assert (method, url) == ("PUT", "https://abc.eu-west-1.aoss.amazonaws.com/_index_template/uba-search")
    assert "/eu-west-1/aoss/aws4_request" in headers["Authorization"]
    assert "x-amz-content-sha256" in headers["Authorization"]
