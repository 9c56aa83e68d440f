"""Ingest Lambda: the front door of the pipeline, behind API Gateway REST `POST /events`.

A request carries one event object or `{"events": [...]}` (1 to 500 events, body at most
1 MiB, `Content-Type: application/json`). Each event is validated on its own against
`UserEvent`; valid ones are enriched with an `IngestEnvelope` and written to the events
stream with PutRecords (partition key `userId`); invalid ones are reported by index with
every field error. Nothing valid is dropped silently: a record Kinesis still refuses
after the retries is reported back as `failed` and `retryable`.

Answers:
- 200 `{"accepted", "rejected", "failed"}` when at least one event reached the stream;
- 400 same shape when no event was valid;
- 503 same shape plus `Retry-After` when the stream took none of the valid events;
- 400 `{"message"}` for a body that is empty, not UTF-8, not JSON, holds a key twice in
  one object (at any depth: a parser would silently keep only the last), or is not of the
  accepted shapes (a top-level JSON array is refused: wrap it as `{"events": [...]}`);
- 413 `{"message"}` over 1 MiB or over 500 events;
- 415 `{"message"}` for any Content-Type other than `application/json` (a `charset`
  parameter must be UTF-8), including a missing one: a client that does not say it
  sends JSON is more likely sending something else (a form, a beacon's text/plain).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from lambdas.event_batch import RefusedBodyError, events_of, read_json, validate_events
from lambdas.events import IngestEnvelope
from lambdas.kinesis_batch import KinesisBatchWriter, KinesisClient, PendingRecord, RetryPolicy, WriteOutcome

MAX_BODY_BYTES = 1_048_576
MAX_HEADER_TEXT = 512  # IngestEnvelope's bound for sourceIp and userAgent
JSON_CONTENT_TYPE = "application/json"

# botocore's own retries are off: the writer's loop owns every retry so that all of
# them fit the invocation's time budget. Timeouts bound one call (see safety margin).
KINESIS_CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "max_attempts": 1},
    tcp_keepalive=True,
)

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "ingest"))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "UserBehaviourAnalytics"))
tracer = Tracer(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "ingest"))
app = APIGatewayRestResolver()

# The request as a whole cannot be read: answered with its status and a message (`lambdas.event_batch`).
RefusedRequestError = RefusedBodyError

_kinesis: KinesisClient | None = None
# The receipt time of a request: `receivedAt`, and the instant `createdAt` is bounded around.
clock: Callable[[], datetime] = partial(datetime.now, UTC)


def use_kinesis_client(client: KinesisClient | None) -> None:
    """Inject the Kinesis client (tests, benchmark, local producer); None resets to the default."""
    global _kinesis
    _kinesis = client


def kinesis_client() -> KinesisClient:
    """The client, created on first use so importing this module costs no AWS setup."""
    global _kinesis
    if _kinesis is None:
        _kinesis = boto3.client("kinesis", config=KINESIS_CLIENT_CONFIG)
    return _kinesis


@dataclass(frozen=True)
class HandlerConfig:
    """The handler's runtime configuration, read from the environment the ingest tier sets (not stack settings)."""

    stream_name: str
    retry: RetryPolicy
    retry_after_seconds: int

    @classmethod
    def from_env(cls) -> HandlerConfig:
        stream_name = os.environ.get("EVENTS_STREAM_NAME", "")
        if not stream_name:
            raise RuntimeError("EVENTS_STREAM_NAME is not set; the ingest Lambda has nowhere to write")
        defaults = RetryPolicy()
        return cls(
            stream_name=stream_name,
            retry=RetryPolicy(
                max_attempts=int(_env_number("INGEST_MAX_ATTEMPTS", defaults.max_attempts, minimum=1)),
                base_delay_ms=_env_number("INGEST_RETRY_BASE_DELAY_MS", defaults.base_delay_ms),
                max_delay_ms=_env_number("INGEST_RETRY_MAX_DELAY_MS", defaults.max_delay_ms),
                safety_margin_ms=_env_number("INGEST_SAFETY_MARGIN_MS", defaults.safety_margin_ms),
            ),
            retry_after_seconds=int(_env_number("INGEST_RETRY_AFTER_SECONDS", 2, minimum=1)),
        )


def _env_number(name: str, default: float, minimum: float = 0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as error:
        raise RuntimeError(f"{name}={raw!r} is not a number") from error
    if value < minimum:
        raise RuntimeError(f"{name}={raw!r} must be at least {minimum:g}")
    return value


@app.exception_handler(RefusedRequestError)
def _refuse(error: RefusedRequestError) -> Response[str]:
    logger.warning("request refused", extra={"status": error.status, "reason": error.message})
    metrics.add_metric(name="RequestsRefused", unit=MetricUnit.Count, value=1)
    return _json_response(error.status, {"message": error.message})


@app.post("/events")
def post_events() -> Response[str]:
    request = app.current_event
    config = HandlerConfig.from_env()
    items = parse_body(request)
    envelope = _envelope(request)
    records, rejected = validate_events(items, envelope)
    metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=len(rejected))
    if not records:
        return _json_response(400, _summary(0, rejected, []) | {"message": "no event in the request is valid"})
    outcome = write_records(records, config, app.lambda_context)
    return _answer(outcome, rejected, config)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


# --- reading the request -------------------------------------------------------------


def parse_body(request: APIGatewayProxyEvent) -> list[Any]:
    """The request's events as raw JSON values, or RefusedRequestError with the reason."""
    _require_json_content_type(request)
    return events_of(read_json(_body_text(request), "body"))


def _require_json_content_type(request: APIGatewayProxyEvent) -> None:
    headers = request.headers if request.get("headers") else {}
    content_type = headers.get("content-type")
    if not content_type:
        raise RefusedRequestError(415, "Content-Type is missing; send the body as application/json")
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    if media_type.lower() != JSON_CONTENT_TYPE:
        raise RefusedRequestError(415, f"Content-Type {media_type!r} is not supported; send application/json")
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise RefusedRequestError(415, f"charset {value.strip()!r} is not supported; JSON must be UTF-8")


def _body_text(request: APIGatewayProxyEvent) -> str:
    body = request.body
    if not body:
        raise RefusedRequestError(400, 'request body is empty; send one event or {"events": [...]}')
    if request.is_base64_encoded:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise RefusedRequestError(400, "body is flagged base64-encoded but is not valid base64") from None
    else:
        raw = body.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise RefusedRequestError(413, f"body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RefusedRequestError(400, "body is not valid UTF-8") from None


def _envelope(request: APIGatewayProxyEvent) -> IngestEnvelope:
    identity = (request.get("requestContext") or {}).get("identity") or {}
    headers = request.headers if request.get("headers") else {}
    # Truncated, not refused: a long User-Agent is the client's library talking, not bad data.
    source_ip = identity.get("sourceIp")
    user_agent = headers.get("user-agent")
    return IngestEnvelope(
        receivedAt=clock(),
        sourceIp=_header_text(source_ip),
        userAgent=_header_text(user_agent),
    )


def _header_text(value: str | None) -> str | None:
    """Header text as the envelope stores it: at most 512 characters, always encodable as UTF-8."""
    if not value:
        return None
    return value[:MAX_HEADER_TEXT].encode("utf-8", errors="replace").decode("utf-8")


# --- validating and writing ----------------------------------------------------------


@tracer.capture_method(capture_response=False)
def write_records(records: list[PendingRecord], config: HandlerConfig, context: LambdaContext) -> WriteOutcome:
    writer = KinesisBatchWriter(
        kinesis_client(), config.stream_name, config.retry, context.get_remaining_time_in_millis
    )
    outcome = writer.write(records)
    metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=outcome.written)
    metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=len(outcome.failed))
    metrics.add_metric(name="PutRecordsRetries", unit=MetricUnit.Count, value=outcome.retry_rounds)
    metrics.add_metric(name="RecordsRetried", unit=MetricUnit.Count, value=outcome.records_retried)
    if outcome.failed:
        logger.warning(
            "records left unwritten after retries",
            extra={
                "failed": len(outcome.failed),
                "retry_rounds": outcome.retry_rounds,
                "errors": sorted({record.last_error.split(":")[0] for record in outcome.failed}),
            },
        )
    return outcome


# --- answering ------------------------------------------------------------------------


def _answer(outcome: WriteOutcome, rejected: list[dict[str, Any]], config: HandlerConfig) -> Response[str]:
    failed = [
        {"index": r.index, "eventId": r.event_id, "error": r.last_error, "retryable": True} for r in outcome.failed
    ]
    body = _summary(outcome.written, rejected, failed)
    logger.info(
        "events ingested",
        extra={"accepted": outcome.written, "rejected": len(rejected), "failed": len(failed)},
    )
    if outcome.written == 0:
        body["message"] = "the events stream accepted none of the valid events; send them again later"
        return _json_response(503, body, {"Retry-After": str(config.retry_after_seconds)})
    return _json_response(200, body)


def _summary(accepted: int, rejected: list[dict[str, Any]], failed: list[dict[str, Any]]) -> dict[str, Any]:
    return {"accepted": accepted, "rejected": rejected, "failed": failed}


def _json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=JSON_CONTENT_TYPE,
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        headers=headers,
    )
