"""The edge's viewer-request CloudFront Function, run by node on the events CloudFront hands it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from components.edge.distribution import FUNCTION_SOURCE, function_code
from tools.local.edge import FunctionRunner, viewer_request_event
from tools.local.edge_logs import beacon_query

ORIGIN = "https://www.example.com"
# CloudFront Functions: at most 10 KB of code (CloudFront Developer Guide, quotas on functions).
MAX_FUNCTION_BYTES = 10 * 1024


@pytest.fixture(scope="module")
def function() -> Iterator[FunctionRunner]:
    runner = FunctionRunner(function_code("/collect", [ORIGIN]))
    yield runner
    runner.close()


def answer(function: FunctionRunner, method: str, path: str, query: str = "", **headers: str) -> dict[str, Any]:
    return function(viewer_request_event(method, path, query, headers))


def headers_of(result: dict[str, Any]) -> dict[str, str]:
    return {name: value["value"] for name, value in result.get("headers", {}).items()}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_beacon_is_answered_at_the_edge_with_204_and_never_reaches_the_origin(function, method) -> None:
    result = answer(function, method, "/collect", beacon_query({"events": []}), **{"content-type": "text/plain"})
    assert result["statusCode"] == 204 and "uri" not in result
    assert headers_of(result)["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("method", "query", "status"),
    [("POST", "", 400), ("GET", "v=1", 400), ("GET", "e=", 400), ("GET", "e=a&e=b", 400), ("PUT", "e=a", 405)],
)
def test_a_beacon_without_exactly_one_e_parameter_is_refused_and_still_logged(function, method, query, status) -> None:
    assert answer(function, method, "/collect", query)["statusCode"] == status


def test_post_events_goes_to_the_api_unchanged(function) -> None:
    event = viewer_request_event("POST", "/events", "", {"Origin": ORIGIN, "x-api-key": "k"})
    assert function(event) == event["request"]


def test_the_preflight_of_an_allowed_origin_is_answered_at_the_edge(function) -> None:
    result = answer(function, "OPTIONS", "/events", Origin=ORIGIN, **{"Access-Control-Request-Method": "POST"})
    assert result["statusCode"] == 204
    assert headers_of(result) | {"cache-control": ""} == {
        "cache-control": "",
        "access-control-allow-origin": ORIGIN,
        "access-control-allow-methods": "POST",
        "access-control-allow-headers": "content-type, x-api-key",
        "access-control-max-age": "600",
        "vary": "Origin",
    }


@pytest.mark.parametrize("origin", ["https://evil.example.net", "https://www.example.com.evil.net", ""])
def test_the_preflight_of_any_other_origin_is_refused(function, origin) -> None:
    result = answer(function, "OPTIONS", "/events", **({"Origin": origin} if origin else {}))
    assert result["statusCode"] == 403 and "access-control-allow-origin" not in headers_of(result)


@pytest.mark.parametrize("path", ["/", "/favicon.ico", "/events/x", "/collect/x", "/v1/events"])
def test_every_other_path_is_404_at_the_edge(function, path) -> None:
    assert answer(function, "GET", path)["statusCode"] == 404


def test_the_rendered_function_fits_cloudfront_and_holds_the_stack_settings() -> None:
    code = function_code("/b", ["https://a.example.com", "http://localhost:8080"])
    assert len(code.encode()) < MAX_FUNCTION_BYTES
    assert 'var CONFIG = {"beaconPath":"/b","allowedOrigins":["https://a.example.com","http://localhost:8080"]' in code
    assert "/*CONFIG*/" in FUNCTION_SOURCE.read_text() and "/*CONFIG*/" not in code
