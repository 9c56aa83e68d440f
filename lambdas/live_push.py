"""The pusher: each new alert and each window's counts, from the realtime table's stream to every open page.

A DynamoDB stream (NEW_AND_OLD_IMAGES) on the realtime table feeds this function through an
event source mapping that passes only INSERT and MODIFY records of alert items (its filter),
with bounded retries, bisect on error, a maximum record age and an SQS dead-letter queue.

What is pushed: the page's view (`lambdas.live_view`) of every inserted alert, and of every
modified one whose view changed. The alert sink writes each alert once and then only its own
bookkeeping (the notification claim, `notifiedAt`), and rewrites it unchanged when Kinesis
redelivers it; those changes leave the view as it was and are not pushed again.

How: one message per invocation and page, `{"type": "alerts", "items": [...]}` (split below
API Gateway's 128 KB message limit), sent to every connection in the connections table with
`PostToConnection`, several at a time. A connection API Gateway no longer knows (410 Gone: the
page closed without `$disconnect` running) is deleted from the table. A connection that fails
otherwise after the client's own retries is counted and logged and the others still get the
message: one bad connection never fails the batch, so it never holds the stream up. Only a
failure to read the connections table fails the invocation, which the mapping retries
(bisecting) and finally records in the dead-letter queue; the alarm on the function's errors
reports it.

Configuration: `LIVE_CONNECTIONS_TABLE`, `LIVE_CONNECTIONS_URL` (the WebSocket API's
management endpoint, `https://<api>.execute-api.<region>.amazonaws.com/<stage>`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3  # type: ignore[import-untyped, unused-ignore]
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeDeserializer  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config as BotoConfig  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped, unused-ignore]

from lambdas.live_view import ITEM_PREFIX, NotAnAlertError, json_of, view_of

CONNECTIONS_TABLE_ENV = "LIVE_CONNECTIONS_TABLE"
CONNECTIONS_URL_ENV = "LIVE_CONNECTIONS_URL"
MAX_MESSAGE_BYTES = 96 * 1024  # below API Gateway's 128 KB WebSocket message quota, with room to spare
SEND_CONCURRENCY = 16

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "live-push")
logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "uba"))
_BOTO_CONFIG = BotoConfig(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})
_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class PushConfig:
    connections_table: str
    connections_url: str

    @classmethod
    def from_env(cls) -> PushConfig:
        missing = [name for name in (CONNECTIONS_TABLE_ENV, CONNECTIONS_URL_ENV) if not os.environ.get(name)]
        if missing:
            raise RuntimeError(f"the pusher is missing environment variable(s): {', '.join(missing)}")
        return cls(os.environ[CONNECTIONS_TABLE_ENV], os.environ[CONNECTIONS_URL_ENV])


@cache
def config() -> PushConfig:
    return PushConfig.from_env()


@cache
def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=_BOTO_CONFIG)


@cache
def management_client(endpoint_url: str) -> Any:
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint_url, config=_BOTO_CONFIG)


def reset_cached_state() -> None:
    for cached in (config, dynamodb_client, management_client):
        cached.cache_clear()


# ---------------------------------------------------------------- what to push


def _image(record: dict[str, Any], name: str) -> dict[str, Any] | None:
    image = (record.get("dynamodb") or {}).get(name)
    if not isinstance(image, dict):
        return None
    return {key: _deserializer.deserialize(value) for key, value in image.items()}


def changed_views(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The views to push, in stream order: new alerts, and alerts whose view a change altered."""
    views: list[dict[str, Any]] = []
    for record in records:
        if record.get("eventName") not in ("INSERT", "MODIFY"):
            continue
        new = _image(record, "NewImage")
        if new is None or not str(new.get("pk", "")).startswith(ITEM_PREFIX):
            continue
        try:
            view = json_of(view_of(new))
        except NotAnAlertError as drift:
            logger.warning("stream record is not an alert; not pushed", reason=str(drift))
            metrics.add_metric(name="PushSkippedItems", unit=MetricUnit.Count, value=1)
            continue
        old = _image(record, "OldImage")
        if record["eventName"] == "MODIFY" and old is not None and _same_view(old, view):
            continue  # the sink's bookkeeping, or a redelivery: nothing the page shows changed
        views.append(view)
    return views


def _same_view(old: dict[str, Any], view: dict[str, Any]) -> bool:
    try:
        return json_of(view_of(old)) == view
    except NotAnAlertError:
        return False


def messages(views: list[dict[str, Any]]) -> list[bytes]:
    """The views as WebSocket messages, each under MAX_MESSAGE_BYTES."""
    chunks: list[bytes] = []
    batch: list[dict[str, Any]] = []
    for view in views:
        candidate = _message([*batch, view])
        if batch and len(candidate) > MAX_MESSAGE_BYTES:
            chunks.append(_message(batch))
            batch = [view]
        else:
            batch.append(view)
    if batch:
        chunks.append(_message(batch))
    return chunks


def _message(items: list[dict[str, Any]]) -> bytes:
    return json.dumps({"type": "alerts", "items": items}, separators=(",", ":")).encode()


# ---------------------------------------------------------------- where to push


def connection_ids(cfg: PushConfig) -> Iterator[str]:
    """Every open page. The table is small (one item per open page): a paginated, keys-only Scan."""
    paginator = dynamodb_client().get_paginator("scan")
    for page in paginator.paginate(TableName=cfg.connections_table, ProjectionExpression="connectionId"):
        for item in page.get("Items", []):
            yield item["connectionId"]["S"]


@dataclass
class Outcome:
    sent: int = 0
    gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _send(cfg: PushConfig, connection_id: str, chunks: list[bytes]) -> str:
    client = management_client(cfg.connections_url)
    for chunk in chunks:
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=chunk)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "GoneException" or status == 410:
                return "gone"
            logger.warning("push to a connection failed", connectionId=connection_id, errorCode=code)
            return "failed"
        except BotoCoreError as error:  # timeouts, connection errors: after the client's own retries
            logger.warning("push to a connection failed", connectionId=connection_id, errorType=type(error).__name__)
            return "failed"
    return "sent"


def push(cfg: PushConfig, chunks: list[bytes]) -> Outcome:
    outcome = Outcome()
    if not chunks:
        return outcome
    targets = list(connection_ids(cfg))  # a failure here fails the batch: retried, bisected, dead-lettered
    with ThreadPoolExecutor(max_workers=max(1, min(SEND_CONCURRENCY, len(targets)))) as pool:
        results = list(pool.map(lambda target: (target, _send(cfg, target, chunks)), targets))
    for target, result in results:
        if result == "sent":
            outcome.sent += 1
        elif result == "gone":
            outcome.gone.append(target)
        else:
            outcome.failed.append(target)
    for target in outcome.gone:
        forget(cfg, target)
    return outcome


def forget(cfg: PushConfig, connection_id: str) -> None:
    try:
        dynamodb_client().delete_item(TableName=cfg.connections_table, Key={"connectionId": {"S": connection_id}})
    except ClientError as error:  # the item's TTL removes it anyway
        logger.warning("gone connection not deleted", connectionId=connection_id, errorType=type(error).__name__)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cfg = config()
    views = changed_views(event.get("Records") or [])
    outcome = push(cfg, messages(views))
    metrics.add_metric(name="PushedAlerts", unit=MetricUnit.Count, value=len(views))
    metrics.add_metric(name="PushConnections", unit=MetricUnit.Count, value=outcome.sent)
    metrics.add_metric(name="PushGoneConnections", unit=MetricUnit.Count, value=len(outcome.gone))
    metrics.add_metric(name="PushFailedConnections", unit=MetricUnit.Count, value=len(outcome.failed))
    if outcome.failed:
        logger.warning("pages not reached", failed=len(outcome.failed), sent=outcome.sent)
    return {"pushed": len(views), "connections": outcome.sent, "gone": len(outcome.gone), "failed": len(outcome.failed)}
