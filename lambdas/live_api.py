"""The realtime API: read-only routes over the realtime table, for the dashboard page.

    GET /alerts?type=error|warn_burst[&action=A][&limit=N][&next=T]   latest alerts, newest first
    GET /counts[?minutes=M][&limit=N][&next=T]                          per-action counts of the latest windows
    GET /actions/{action}/history[?type=...][&from=T1][&to=T2][&limit=N][&next=T]   one action's history

Every answer comes from one DynamoDB Query on the table's keys or its `byType` index (the
layout `lambdas/alerts.py` writes), never a Scan, with `Limit` = the page size and no filter,
so a request reads at most one page of items whatever the table holds. A page that is not
the last carries `next`, an opaque token (the Query's LastEvaluatedKey, base64url JSON) that
is checked against the query it continues before it is used.

Input is validated by Powertools' event handler from the signatures below (the same
signatures generate the OpenAPI document, `docs/live-api.openapi.json`); anything wrong is a
400 naming the parameter, the value and what is allowed, including parameters no route
takes. Routes need a signed-in viewer (`lambdas/live_auth.py`): API Gateway's JWT
authorizer in AWS, the local token in local mode; without one the answer is 401.

The page is served from another origin (CloudFront) than the API's, so the API answers CORS
itself, for exactly the page's origin (`LIVE_ALLOWED_ORIGIN`): API Gateway's own CORS
setting would need the distribution's address on the API, while the page's
Content-Security-Policy on the distribution needs the API's address, a cycle. The preflight
route (`OPTIONS /{proxy+}`) is the only one without the JWT authorizer, and it answers
nothing but the CORS headers.

Configuration: `LIVE_TABLE_NAME` (the realtime table), `LIVE_BY_TYPE_INDEX` (default
`byType`), `LIVE_ALLOWED_ORIGIN`, and the sign-in variables of `lambdas.live_auth`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any

import boto3  # type: ignore[import-untyped, unused-ignore]
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, UnauthorizedError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeDeserializer  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config as BotoConfig  # type: ignore[import-untyped, unused-ignore]
from pydantic import BaseModel, Field

from lambdas import live_auth
from lambdas.events import to_utc_iso
from lambdas.live_view import AlertType, AlertView, FeedType, NotAnAlertError, partition_key, view_of

TABLE_ENV = "LIVE_TABLE_NAME"
INDEX_ENV = "LIVE_BY_TYPE_INDEX"
ORIGIN_ENV = "LIVE_ALLOWED_ORIGIN"  # the dashboard's origin, e.g. https://d111111abcdef8.cloudfront.net
CORS_MAX_AGE_SECONDS = 600
DEFAULT_INDEX = "byType"
# Page sizes: what one request may read. The feed shows tens of alerts; a chart of 15 one-minute
# windows over a few dozen actions needs a few hundred counts.
FEED_PAGE = (25, 100)  # (default, largest)
COUNTS_PAGE = (200, 500)
HISTORY_PAGE = (50, 200)
MAX_COUNTS_MINUTES = 24 * 60
MAX_TOKEN_CHARS = 2048
ACTION_MAX = 256

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "live-api")
logger = Logger(service=SERVICE)
app = APIGatewayHttpResolver(enable_validation=True)


# ---------------------------------------------------------------- answers


class Page(BaseModel):
    """One page of alerts, newest first."""

    items: list[AlertView]
    next: str | None = Field(
        default=None, description="Pass as `next` to get the following page; null on the last one."
    )


class ErrorBody(BaseModel):
    statusCode: int
    message: str


ANSWERS: dict[int, OpenAPIResponse] = {
    200: {"description": "A page of alerts, newest first", "content": {"application/json": {"model": Page}}},
    400: {
        "description": "A parameter is unknown, malformed or out of range",
        "content": {"application/json": {"model": ErrorBody}},
    },
    401: {"description": "No valid access token", "content": {"application/json": {"model": ErrorBody}}},
}


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class ApiConfig:
    table_name: str
    index_name: str
    allowed_origin: str

    @classmethod
    def from_env(cls) -> ApiConfig:
        missing = [name for name in (TABLE_ENV, ORIGIN_ENV) if not os.environ.get(name)]
        if missing:
            raise RuntimeError(f"the realtime API is missing environment variable(s): {', '.join(missing)}")
        return cls(os.environ[TABLE_ENV], os.environ.get(INDEX_ENV) or DEFAULT_INDEX, os.environ[ORIGIN_ENV])


_BOTO_CONFIG = BotoConfig(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})


@cache
def config() -> ApiConfig:
    return ApiConfig.from_env()


@cache
def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=_BOTO_CONFIG)


def reset_cached_state() -> None:
    """Forget configuration and clients (tests switch environments and endpoints)."""
    for cached in (config, dynamodb_client, live_auth.config, live_auth._jwks_client):
        cached.cache_clear()


# ---------------------------------------------------------------- sign-in


def require_viewer(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Every route: a viewer signed in as `lambdas.live_auth` says, or 401."""
    event = app.current_event
    try:
        cfg = live_auth.config()
        if cfg.mode == "local":
            viewer = live_auth.verify_token(live_auth.bearer_token(event.headers.get("authorization")), cfg)
        else:
            claims = (event.raw_event.get("requestContext", {}).get("authorizer") or {}).get("jwt", {}).get("claims")
            if not isinstance(claims, dict):
                raise live_auth.UnauthorizedViewerError("no claims from API Gateway's JWT authorizer")
            viewer = live_auth.viewer_from_claims(claims, cfg)
    except live_auth.UnauthorizedViewerError as refusal:
        logger.info("request refused", reason=str(refusal)[:300], path=event.path)
        raise UnauthorizedError("Unauthorized") from None
    app.append_context(viewer=viewer)
    return next_middleware(app)


app.use(middlewares=[require_viewer])


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[str]:
    problems = [_problem(detail) for detail in error.errors()]
    return _error(400, "; ".join(problems))


def _problem(detail: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in detail.get("loc", ())[1:]) or "request"
    return f"{where}: {str(detail.get('msg', 'invalid')).lower()}, got {detail.get('input')!r}"


def _error(status: int, message: str) -> Response[str]:
    return Response(
        status, "application/json", json.dumps({"statusCode": status, "message": message}, separators=(",", ":"))
    )


# ---------------------------------------------------------------- pagination tokens


def _encode_token(key: dict[str, Any]) -> str:
    plain = {name: value["S"] for name, value in key.items()}
    raw = json.dumps(plain, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, expected: dict[str, str], key_names: tuple[str, ...]) -> dict[str, Any]:
    """The ExclusiveStartKey a `next` token stands for; 400 when it is not a token of this very query."""
    refusal = BadRequestError(f"next: not a page token of this query, got {token[:40]!r}")
    if len(token) > MAX_TOKEN_CHARS:
        raise refusal
    try:
        plain = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise refusal from None
    if (
        not isinstance(plain, dict)
        or set(plain) != set(key_names)
        or not all(isinstance(value, str) and 0 < len(value) <= 1024 for value in plain.values())
        or any(plain[name] != value for name, value in expected.items())
    ):
        raise refusal
    return {name: {"S": value} for name, value in plain.items()}


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class TableQuery:
    """One DynamoDB Query: where it reads and which keys its page tokens must carry."""

    condition: str
    values: dict[str, str]
    fixed: dict[str, str]  # key attributes every item (and so every token) of this query shares
    index: bool

    @property
    def key_names(self) -> tuple[str, ...]:
        return ("alertType", "pk", "sk") if self.index else ("pk", "sk")


_deserializer = TypeDeserializer()


def _run(query: TableQuery, limit: int, token: str | None) -> Page:
    cfg = config()
    request: dict[str, Any] = {
        "TableName": cfg.table_name,
        "KeyConditionExpression": query.condition,
        "ExpressionAttributeNames": {
            "#h": "alertType" if query.index else "pk",
            **({"#r": "sk"} if "#r" in query.condition else {}),
        },
        "ExpressionAttributeValues": {name: {"S": value} for name, value in query.values.items()},
        "ScanIndexForward": False,  # newest first: sort keys are UTC timestamps
        "Limit": limit,
    }
    if query.index:
        request["IndexName"] = cfg.index_name
    if token:
        request["ExclusiveStartKey"] = _decode_token(token, query.fixed, query.key_names)
    answer = dynamodb_client().query(**request)
    items = []
    for raw in answer.get("Items", []):
        item = {name: _deserializer.deserialize(value) for name, value in raw.items()}
        try:
            items.append(view_of(item))
        except NotAnAlertError as drift:  # never fail a page for one item another writer left
            logger.warning("item skipped", reason=str(drift))
    last = answer.get("LastEvaluatedKey")
    return Page(items=items, next=_encode_token(last) if last else None)


def _only(*allowed: str) -> None:
    """Unknown query parameters are refused, not ignored: a misspelt `limt=5` would silently give 25."""
    given = set(app.current_event.query_string_parameters or {})
    unknown = sorted(given - set(allowed))
    if unknown:
        raise BadRequestError(f"{unknown[0]}: unknown parameter; this route takes {', '.join(allowed)}")


def _timestamp(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadRequestError(
            f"{name}: must be an ISO-8601 date-time with an offset, e.g. 2026-03-01T12:00:00Z, got {value[:64]!r}"
        )
    try:
        return to_utc_iso(moment)
    except OverflowError:
        raise BadRequestError(f"{name}: must lie within years 1 to 9999 in UTC, got {value[:64]!r}") from None


Token = Annotated[
    str | None, Query(min_length=1, max_length=MAX_TOKEN_CHARS, description="The `next` of the previous page.")
]


@app.get("/alerts", summary="Latest alerts of one type, newest first", responses=ANSWERS)
def latest_alerts(
    type: Annotated[FeedType, Query(description="`error` or `warn_burst`.")] = "error",
    action: Annotated[str | None, Query(min_length=1, max_length=ACTION_MAX, description="Only this action.")] = None,
    limit: Annotated[int, Query(ge=1, le=FEED_PAGE[1], description="Page size.")] = FEED_PAGE[0],
    next: Token = None,
) -> Page:
    _only("type", "action", "limit", "next")
    if action is None:
        query = TableQuery("#h = :type", {":type": type}, {"alertType": type}, index=True)
    else:
        pk = partition_key(type, action)
        query = TableQuery("#h = :pk", {":pk": pk}, {"pk": pk}, index=False)
    return _run(query, limit, next)


@app.get("/counts", summary="Per-action counts of the latest windows, newest first", responses=ANSWERS)
def latest_counts(
    minutes: Annotated[int, Query(ge=1, le=MAX_COUNTS_MINUTES, description="Windows that started this recently.")] = 15,
    limit: Annotated[int, Query(ge=1, le=COUNTS_PAGE[1], description="Page size.")] = COUNTS_PAGE[0],
    next: Token = None,
) -> Page:
    _only("minutes", "limit", "next")
    since = to_utc_iso(datetime.now(UTC) - timedelta(minutes=minutes))
    query = TableQuery(
        "#h = :type AND #r >= :since", {":type": "counts", ":since": since}, {"alertType": "counts"}, index=True
    )
    return _run(query, limit, next)


@app.get(
    "/actions/<action>/history", summary="One action's alerts or counts over time, newest first", responses=ANSWERS
)
def action_history(
    action: Annotated[str, Path(min_length=1, max_length=ACTION_MAX, description="The event action.")],
    type: Annotated[AlertType, Query(description="`counts`, `error` or `warn_burst`.")] = "counts",
    from_: Annotated[
        str | None, Query(alias="from", max_length=64, description="Oldest time, ISO-8601 with an offset.")
    ] = None,
    to: Annotated[str | None, Query(max_length=64, description="Newest time, ISO-8601 with an offset.")] = None,
    limit: Annotated[int, Query(ge=1, le=HISTORY_PAGE[1], description="Page size.")] = HISTORY_PAGE[0],
    next: Token = None,
) -> Page:
    _only("type", "from", "to", "limit", "next")
    oldest, newest = _timestamp("from", from_), _timestamp("to", to)
    if oldest and newest and oldest > newest:
        raise BadRequestError(f"from: must not be after to ({to}), got {from_}")
    pk = partition_key(type, action)
    values = {":pk": pk}
    condition = "#h = :pk"
    # An error's sort key is `<createdAt>#<eventId>`: "\uffff" after `to` keeps every event of that instant.
    if oldest and newest:
        condition += " AND #r BETWEEN :from AND :to"
        values |= {":from": oldest, ":to": newest + "\uffff"}
    elif oldest:
        condition += " AND #r >= :from"
        values[":from"] = oldest
    elif newest:
        condition += " AND #r <= :to"
        values[":to"] = newest + "\uffff"
    return _run(TableQuery(condition, values, {"pk": pk}, index=False), limit, next)


# The routes as API Gateway declares them (components/live/api.py creates one route per entry, each with
# the JWT authorizer), and the preflight route, which has none.
ROUTE_KEYS = ("GET /alerts", "GET /counts", "GET /actions/{action}/history")
PREFLIGHT_ROUTE_KEY = "OPTIONS /{proxy+}"


def _cors_headers(event: dict[str, Any], cfg: ApiConfig) -> dict[str, str]:
    """CORS for the page's own origin only; any other origin gets no Access-Control header at all."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    if headers.get("origin") != cfg.allowed_origin:
        return {"Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": cfg.allowed_origin,
        "Access-Control-Allow-Methods": "GET",
        "Access-Control-Allow-Headers": "authorization",
        "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS),
        "Vary": "Origin",
    }


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cfg = config()  # a misconfigured function fails loudly with the variable's name
    live_auth.config()
    cors = _cors_headers(event, cfg)
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method")
    if method == "OPTIONS":  # a preflight: nothing is read, nothing but the CORS answer is given
        return {"statusCode": 204, "headers": {**cors, "Cache-Control": "no-store"}, "body": ""}
    response = app.resolve(event, context)
    response.setdefault("headers", {}).update({**cors, "Cache-Control": "no-store"})
    return response
