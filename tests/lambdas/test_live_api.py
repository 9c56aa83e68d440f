"""The realtime API over the realtime table: answers from keys and the index only, pages bounded, bad input refused.

Alerts are stored by the real alert sink (`tests/support/alert_sink.py`) into the moto table the
streaming tier's key design describes; requests are API Gateway HTTP API events carrying the claims
its JWT authorizer passes on. Every answer, good and bad, is checked against the OpenAPI document
in the repository (`docs/live-api.openapi.json`), which must also equal what the handler generates.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

from lambdas import live_api
from lambdas.events import to_utc_iso
from tests.support.live import LOCAL_TOKEN, ORIGIN, Issuer, LiveApi
from tools import live_openapi

_CLOCK: list[datetime] = []


def now() -> datetime:
    """The test's own moment: taken when each test starts (the counts route asks for windows relative to the
    real clock, and a test's alerts must not straddle a second)."""
    return _CLOCK[-1]


@pytest.fixture(autouse=True)
def _moment() -> None:
    _CLOCK.append(datetime.now(UTC).replace(microsecond=0))


OPENAPI = json.loads(live_openapi.DOCUMENT.read_text())


def error(n: int, action: str = "checkout", minutes_ago: float = 0) -> dict[str, Any]:
    return {"alertType": "error", "action": action, "eventId": f"evt-{n:04d}", "userId": f"user-{n}",
            "objectId": "doc-1", "bizId": "biz-1", "errorMsg": f"[ERROR] payment failed #{n}",
            "createdAt": to_utc_iso(now() - timedelta(minutes=minutes_ago, seconds=n))}  # fmt: skip


def window(kind: str, action: str, minutes_ago: int, **figures: int) -> dict[str, Any]:
    start = now().replace(second=0) - timedelta(minutes=minutes_ago)
    return {"alertType": kind, "action": action, "windowStart": to_utc_iso(start),
            "windowEnd": to_utc_iso(start + timedelta(minutes=1)), **figures}  # fmt: skip


def counts(action: str, minutes_ago: int, events: int = 5) -> dict[str, Any]:
    return window("counts", action, minutes_ago, events=events, users=min(events, 3))


def burst(action: str, minutes_ago: int, warnings: int = 12) -> dict[str, Any]:
    return window("warn_burst", action, minutes_ago, warnCount=warnings)


@pytest.fixture
def api(live_api: LiveApi, issuer: Issuer) -> Any:
    """GET as a signed-in viewer: the claims API Gateway's JWT authorizer would pass on."""
    claims = issuer.claims()

    def get(path: str, query: str = "", **options: Any) -> tuple[int, dict[str, str], dict[str, Any]]:
        status, headers, body = live_api.request(path, query, claims=options.pop("claims", claims), **options)
        conforms(path, status, body)
        return status, headers, body

    return get


class DynamoCalls:
    """What the handler asked DynamoDB: operation names and the items each Query read (ScannedCount)."""

    def __init__(self) -> None:
        self.operations: Counter[str] = Counter()
        self.scanned: list[int] = []
        client = live_api.dynamodb_client()
        client.meta.events.register("after-call.dynamodb", self._seen)

    def _seen(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.operations[model.name] += 1
        if model.name == "Query":
            self.scanned.append(int(parsed.get("ScannedCount", 0)))


def _route(path: str) -> str:
    parts = path.split("/")
    if len(parts) == 4 and parts[1] == "actions" and parts[3] == "history":
        return "/actions/{action}/history"
    return path


def conforms(path: str, status: int, body: dict[str, Any]) -> None:
    """The answer matches the document's schema for this route and status."""
    operation = OPENAPI["paths"].get(_route(path), {}).get("get")
    if operation is None:
        assert status == 404, f"{path} is not in the OpenAPI document but answered {status}"
        return
    response = operation["responses"].get(str(status))
    assert response is not None, f"{path} answered {status}, which the document does not declare"
    schema = {**response["content"]["application/json"]["schema"], "components": OPENAPI["components"]}
    Draft202012Validator(schema).validate(body)


# --- the document ------------------------------------------------------------------------------------------


def test_the_openapi_document_in_the_repository_is_the_one_the_handler_generates() -> None:
    assert live_openapi.rendered() == live_openapi.DOCUMENT.read_text(), (
        "docs/live-api.openapi.json is stale: run `.venv/bin/python -m tools.live_openapi --write`"
    )
    validate_spec(OPENAPI)


def test_the_document_declares_exactly_the_routes_api_gateway_routes() -> None:
    declared = {f"{method.upper()} {path}" for path, item in OPENAPI["paths"].items() for method in item}
    assert declared == set(live_api.ROUTE_KEYS)
    for item in OPENAPI["paths"].values():
        assert item["get"]["security"] == [{"cognito": ["<prefix>-live/read"]}]
        assert {"200", "400", "401"} <= set(item["get"]["responses"])


# --- reading -----------------------------------------------------------------------------------------------


def test_an_empty_table_answers_every_route_with_an_empty_last_page(api: Any) -> None:
    for path, query in (("/alerts", ""), ("/alerts", "type=warn_burst&action=search"), ("/counts", ""),
                        ("/actions/search/history", "type=error")):  # fmt: skip
        status, headers, body = api(path, query)
        assert (status, body) == (200, {"items": [], "next": None}), path
        assert headers["Cache-Control"] == "no-store"


def test_latest_errors_come_newest_first_a_page_at_a_time_and_each_page_reads_only_its_items(
    api: Any, live_api: LiveApi
) -> None:
    live_api.store(*(error(n, action="checkout" if n % 2 else "search") for n in range(25)))
    calls = DynamoCalls()
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        status, _, body = api("/alerts", "type=error&limit=10" + (f"&next={token}" if token else ""))
        assert status == 200
        seen += [item["eventId"] for item in body["items"]]
        pages += 1
        token = body["next"]
        if token is None:
            break
    assert pages == 3
    assert seen == [f"evt-{n:04d}" for n in range(25)]  # createdAt = now - n seconds: newest first, none twice
    assert calls.operations == {"Query": 3}, "answered from the index, never a Scan"
    assert calls.scanned[:2] == [10, 10] and calls.scanned[2] <= 10


def test_one_actions_latest_errors_come_from_its_own_partition(api: Any, live_api: LiveApi) -> None:
    live_api.store(error(1, "checkout"), error(2, "search"), error(3, "checkout"))
    status, _, body = api("/alerts", "type=error&action=checkout")
    assert status == 200
    assert [item["eventId"] for item in body["items"]] == ["evt-0001", "evt-0003"]


def test_an_answer_shows_the_alert_and_never_the_sinks_bookkeeping(api: Any, live_api: LiveApi) -> None:
    live_api.store(error(7))  # an error is announced: the item carries notifiedAt, snsMessageId, notifyClaim
    _, _, body = api("/alerts")
    (item,) = body["items"]
    assert set(item) == {"alertType", "action", "eventId", "userId", "objectId", "bizId", "errorMsg", "createdAt",
                         "storedAt"}  # fmt: skip
    assert item["errorMsg"] == "[ERROR] payment failed #7"


def test_counts_of_the_latest_windows_only(api: Any, live_api: LiveApi) -> None:
    live_api.store(counts("search", 1), counts("buy", 1), counts("search", 5), counts("search", 40),
                   burst("search", 1))  # fmt: skip
    status, _, body = api("/counts", "minutes=15")
    assert status == 200
    found = [(item["windowStart"], item["action"]) for item in body["items"]]
    one_minute_ago, five_minutes_ago = counts("x", 1)["windowStart"], counts("x", 5)["windowStart"]
    assert sorted(found, reverse=True) == [(one_minute_ago, "search"), (one_minute_ago, "buy"),
                                           (five_minutes_ago, "search")]  # fmt: skip
    assert [start for start, _ in found] == sorted((start for start, _ in found), reverse=True), "newest first"
    assert all(item["alertType"] == "counts" for item in body["items"])


def test_an_actions_history_between_two_times(api: Any, live_api: LiveApi) -> None:
    live_api.store(*(counts("search", minutes) for minutes in range(10)), counts("buy", 3))
    minute = now().replace(second=0)
    since, until = to_utc_iso(minute - timedelta(minutes=6)), to_utc_iso(minute - timedelta(minutes=2))
    status, _, body = api("/actions/search/history", f"from={since}&to={until}")
    assert status == 200
    assert [item["windowStart"] for item in body["items"]] == [
        to_utc_iso(minute - timedelta(minutes=m)) for m in (2, 3, 4, 5, 6)
    ]
    _, _, bursts = api("/actions/search/history", "type=warn_burst")
    assert bursts["items"] == []


def test_an_error_at_exactly_the_end_of_the_range_is_in_it(api: Any, live_api: LiveApi) -> None:
    alert = error(0)
    live_api.store(alert)
    _, _, body = api("/actions/checkout/history", f"type=error&to={alert['createdAt']}")
    assert [item["eventId"] for item in body["items"]] == ["evt-0000"]


# --- bad input ---------------------------------------------------------------------------------------------


def _token(key: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


BAD_REQUESTS = [
    ("/alerts", "limt=5", "limt: unknown parameter; this route takes type, action, limit, next"),
    ("/alerts", "type=info", "type: input should be 'error' or 'warn_burst'"),
    ("/alerts", "limit=0", "limit: input should be greater than or equal to 1"),
    ("/alerts", "limit=101", "limit: input should be less than or equal to 100"),
    ("/alerts", "limit=-3", "limit: input should be greater than or equal to 1"),
    ("/alerts", "limit=ten", "limit: input should be a valid integer"),
    ("/alerts", "limit=5&limit=6", "limit: input should be a valid integer"),
    ("/alerts", "action=" + "a" * 257, "action: string should have at most 256 characters"),
    ("/counts", "minutes=0", "minutes: input should be greater than or equal to 1"),
    ("/counts", "minutes=1441", "minutes: input should be less than or equal to 1440"),
    ("/counts", "limit=501", "limit: input should be less than or equal to 500"),
    ("/counts", "type=error", "type: unknown parameter"),
    ("/actions/search/history", "type=info", "type: input should be 'error', 'warn_burst' or 'counts'"),
    ("/actions/search/history", "from=yesterday", "from: must be an ISO-8601 date-time with an offset"),
    ("/actions/search/history", "to=2026-03-01T12:00:00", "to: must be an ISO-8601 date-time with an offset"),
    ("/actions/search/history", "from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from: must not be after to"),
    ("/actions/search/history", "limit=201", "limit: input should be less than or equal to 200"),
    ("/alerts", "next=%%%", "next: not a page token of this query"),
    ("/alerts", "next=bm90IGpzb24", "next: not a page token of this query"),  # base64 of "not json"
    ("/alerts", "next=" + _token({"a": "b"}), "next: not a page token of this query"),
    ("/alerts", "next=" + _token(["pk", "sk"]), "next: not a page token of this query"),  # type: ignore[arg-type]
    # A real token's shape, but of another query: the counts partition continued on the errors route.
    ("/alerts", "next=" + _token({"alertType": "counts", "pk": "ALERT#counts#a", "sk": "2026"}),
     "next: not a page token of this query"),
    ("/alerts", "action=buy&next=" + _token({"pk": "ALERT#error#search", "sk": "2026"}),
     "next: not a page token of this query"),
    ("/alerts", "next=" + "A" * 2049, "next: string should have at most 2048 characters"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "query", "message"), BAD_REQUESTS)
def test_bad_input_is_a_400_naming_the_parameter(api: Any, path: str, query: str, message: str) -> None:
    status, _, body = api(path, query)
    assert status == 400, body
    assert body["message"].startswith(message), body["message"]


def test_an_unknown_route_is_a_404(api: Any) -> None:
    for path in ("/", "/alert", "/actions/search", "/actions/search/history/more", "/counts/x"):
        status, _, body = api(path)
        assert status == 404 and body["message"] == "Not found", path


def test_without_the_authorizers_claims_or_with_unfit_ones_the_answer_is_401(api: Any, issuer: Issuer) -> None:
    for claims in (None, {}, issuer.claims(token_use="id"), issuer.claims(client_id="other"),
                   issuer.claims(scope="openid")):  # fmt: skip
        status, _, body = api("/alerts", claims=claims)
        assert (status, body["message"]) == (401, "Unauthorized"), claims


def test_in_local_mode_the_api_takes_the_local_token_and_nothing_else(
    live_api: LiveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIVE_AUTH_MODE", "local")
    monkeypatch.setenv("LIVE_LOCAL_TOKEN", LOCAL_TOKEN)
    live_api.module.reset_cached_state()
    ok = live_api.request("/alerts", headers={"Authorization": f"Bearer {LOCAL_TOKEN}"})
    assert ok[0] == 200
    for header in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": LOCAL_TOKEN}):
        assert live_api.request("/alerts", headers=header)[0] == 401, header


def test_cors_answers_only_the_dashboards_origin(live_api: LiveApi, issuer: Issuer) -> None:
    status, headers, _ = live_api.request("/alerts", method="OPTIONS", headers={"Origin": ORIGIN})
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Access-Control-Allow-Headers"] == "authorization"
    assert headers["Access-Control-Allow-Methods"] == "GET"
    status, headers, _ = live_api.request("/alerts", method="OPTIONS", headers={"Origin": "https://evil.example"})
    assert status == 204 and "Access-Control-Allow-Origin" not in headers and headers["Vary"] == "Origin"
    _, headers, _ = live_api.request("/alerts", claims=issuer.claims(), headers={"Origin": ORIGIN})
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    _, headers, _ = live_api.request("/alerts", claims=issuer.claims(), headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in headers


def test_a_misconfigured_function_fails_naming_the_missing_variable(
    live_api: LiveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LIVE_ALLOWED_ORIGIN")
    live_api.module.reset_cached_state()
    with pytest.raises(RuntimeError, match="LIVE_ALLOWED_ORIGIN"):
        live_api.request("/alerts")
