"""The WebSocket API's routes: `$connect` remembers a page, `$disconnect` forgets it, `$default` keeps it alive.

The connections table holds one item per open page: `connectionId` (the key), who connected
(from the authorizer's context), when, and `expiresAt` (DynamoDB TTL). API Gateway closes a
WebSocket after 2 hours at most, so a connection whose `$disconnect` never ran (a crash, a
throttled invocation) expires on its own; the pusher also deletes a connection the moment
API Gateway answers 410 Gone for it.

`$connect` only runs after the authorizer allowed the token; without the authorizer's
context (a misconfigured route) it refuses the connection rather than store an anonymous one.
The page sends `{"action": "ping"}` every few minutes, so API Gateway's 10-minute idle
timeout does not close a page that is merely quiet; `$default` answers every message with
200 and nothing else.

Configuration: `LIVE_CONNECTIONS_TABLE`, `LIVE_CONNECTION_TTL_HOURS` (default 3).
"""

from __future__ import annotations

import os
import time
from functools import cache
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config as BotoConfig  # type: ignore[import-untyped, unused-ignore]

TABLE_ENV = "LIVE_CONNECTIONS_TABLE"
TTL_HOURS_ENV = "LIVE_CONNECTION_TTL_HOURS"
DEFAULT_TTL_HOURS = 3

logger = Logger(service="live-connections")
_BOTO_CONFIG = BotoConfig(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})


@cache
def table_name() -> str:
    name = os.environ.get(TABLE_ENV)
    if not name:
        raise RuntimeError(f"the connection handler is missing environment variable {TABLE_ENV}")
    return name


@cache
def ttl_seconds() -> int:
    raw = os.environ.get(TTL_HOURS_ENV, str(DEFAULT_TTL_HOURS))
    if not raw.isdigit() or not 2 <= int(raw) <= 24:
        raise RuntimeError(f"{TTL_HOURS_ENV} must be a whole number of hours from 2 to 24, got {raw!r}")
    return int(raw) * 3600


@cache
def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=_BOTO_CONFIG)


def reset_cached_state() -> None:
    for cached in (table_name, ttl_seconds, dynamodb_client):
        cached.cache_clear()


def _answer(status: int, body: str = "") -> dict[str, Any]:
    return {"statusCode": status, "body": body}


def connect(request: dict[str, Any]) -> dict[str, Any]:
    viewer = request.get("authorizer") or {}
    subject = viewer.get("sub") or viewer.get("principalId")
    if not subject:
        logger.warning("connection without an authorizer context refused")
        return _answer(403, "Forbidden")
    now = int(time.time())
    dynamodb_client().put_item(
        TableName=table_name(),
        Item={
            "connectionId": {"S": request["connectionId"]},
            "sub": {"S": str(subject)},
            "username": {"S": str(viewer.get("username") or subject)},
            "connectedAt": {"N": str(now)},
            "expiresAt": {"N": str(now + ttl_seconds())},
        },
    )
    return _answer(200)


def disconnect(request: dict[str, Any]) -> dict[str, Any]:
    dynamodb_client().delete_item(TableName=table_name(), Key={"connectionId": {"S": request["connectionId"]}})
    return _answer(200)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    table_name()
    request = event.get("requestContext") or {}
    route = request.get("routeKey")
    if route == "$connect":
        return connect(request)
    if route == "$disconnect":
        return disconnect(request)
    return _answer(200)  # $default: a ping, or anything else the page says; nothing to do
