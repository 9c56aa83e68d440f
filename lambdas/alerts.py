"""Alert sink: Flink's alerts stream -> DynamoDB realtime results + SNS business alerts.

The Lambda is fed by a Kinesis event source mapping with `ReportBatchItemFailures`,
bisect on error, bounded retries/record age and an SQS on-failure destination. Each
record is one JSON alert (`error`, `warn_burst` or `counts`); a record that cannot be
parsed, validated, stored or notified is reported as a batch item failure by its
sequence number, and the rest of the batch still succeeds. Lambda then retries from the
lowest failed sequence number, so records after it are delivered again: every step
below is idempotent for exactly that reason.

Item layout (one item per alert, see `AlertBase.key`):

    pk = "ALERT#<alertType>#<action>"
    sk = windowStart               for counts and warn_burst (one item per action+window)
         "<createdAt>#<eventId>"   for error (one item per offending event)

Timestamps in keys are rendered by `to_utc_iso` (UTC, milliseconds, `Z`), so string
order is time order. "Latest counts for one action" is a Query on pk, newest first,
Limit 1; "latest counts of every action" is a Query on the `byType` index
(hash `alertType`, range `sk`) for the last few windows.

Delivery guarantee for notifications (error and warn_burst only):
1. UpdateItem writes the alert's fields and returns the previous item (ALL_OLD). This
   is an upsert, so a redelivered or updated alert overwrites instead of duplicating.
2. If the previous item already has `notifiedAt`, the alert was announced: stop.
3. Otherwise publish to SNS, then set `notifiedAt`/`snsMessageId` on the item.
A crash or error after step 1 and before step 3's publish leaves the item without
`notifiedAt`; the record is reported failed and the redelivery publishes. A crash
after the publish and before the mark publishes once more on redelivery. So every
stored alert is announced at least once, and each such failure adds at most one
duplicate; a clean redelivery adds none. The memory of "notified" lives as long as
the item, so keep the TTL longer than the stream's retention. Dedupe relies on copies
of one alert being handled one after another, which holds while they share a shard
and partition key (Lambda keeps per-key order even with a parallelization factor).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any, Literal

import boto3  # type: ignore[import-untyped, unused-ignore]
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config as BotoConfig  # type: ignore[import-untyped, unused-ignore]
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    model_validator,
)

from lambdas.events import Action, ErrorText, Id, to_utc_iso

TABLE_ENV = "ALERTS_TABLE_NAME"
TOPIC_ENV = "ALERTS_TOPIC_ARN"
TTL_DAYS_ENV = "ALERTS_TTL_DAYS"
SUBJECT_PREFIX_ENV = "ALERTS_SUBJECT_PREFIX"
DEFAULT_TTL_DAYS = 30
DEFAULT_SUBJECT_PREFIX = "[uba]"
SNS_SUBJECT_MAX = 99  # SNS: printable ASCII, fewer than 100 characters

# Defaults so an unset variable cannot break every invocation: Powertools refuses to
# flush metrics without a namespace, and that error would fail already-processed batches.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "alert-sink")
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "uba"))
processor = BatchProcessor(event_type=EventType.KinesisDataStreams)


# ---------------------------------------------------------------- the alert contract

UtcTimestamp = Annotated[AwareDatetime, PlainSerializer(to_utc_iso, return_type=str)]


class AlertBase(BaseModel):
    """Fields every alert has; strict so contract drift fails loudly instead of storing junk."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    alertType: str  # narrowed to one Literal per subclass; the union discriminates on it
    action: Action

    def key(self) -> tuple[str, str]:
        """(pk, sk) of the item; the identity that makes redelivery an overwrite."""
        raise NotImplementedError

    def occurred_at(self) -> datetime:
        """When the alerted thing happened; TTL counts from here so a replay does not extend it."""
        raise NotImplementedError

    def notification(self) -> tuple[str, str] | None:
        """(subject, message) to publish, or None when this alert type is not announced."""
        return None


class WindowAlert(AlertBase):
    windowStart: UtcTimestamp
    windowEnd: UtcTimestamp

    @model_validator(mode="after")
    def _window_is_forward(self) -> WindowAlert:
        if self.windowEnd <= self.windowStart:
            raise ValueError("windowEnd must be after windowStart")
        return self

    def key(self) -> tuple[str, str]:
        return f"ALERT#{self.alertType}#{self.action}", to_utc_iso(self.windowStart)

    def occurred_at(self) -> datetime:
        return self.windowEnd


class ErrorAlert(AlertBase):
    """One event whose errorMsg carries a [PANIC]/[ERROR] marker."""

    alertType: Literal["error"]
    eventId: Id
    userId: Id
    objectId: Id
    bizId: Id
    errorMsg: ErrorText
    createdAt: UtcTimestamp

    def key(self) -> tuple[str, str]:
        return f"ALERT#error#{self.action}", f"{to_utc_iso(self.createdAt)}#{self.eventId}"

    def occurred_at(self) -> datetime:
        return self.createdAt

    def notification(self) -> tuple[str, str]:
        subject = f"Error on action {self.action}"
        message = "\n".join(
            [
                f'An event on action "{self.action}" reported an error.',
                "",
                f"Error:     {self.errorMsg}",
                f"Event id:  {self.eventId}",
                f"User:      {self.userId}",
                f"Object:    {self.objectId}",
                f"Business:  {self.bizId}",
                f"At:        {to_utc_iso(self.createdAt)}",
            ]
        )
        return subject, message


class WarnBurstAlert(WindowAlert):
    """An action with at least the threshold number of warnings in one window."""

    alertType: Literal["warn_burst"]
    warnCount: int = Field(ge=1)

    def notification(self) -> tuple[str, str]:
        subject = f"{self.warnCount} warnings on action {self.action}"
        message = "\n".join(
            [
                f'Action "{self.action}" logged {self.warnCount} warnings in one window.',
                "",
                f"Window:    {to_utc_iso(self.windowStart)} to {to_utc_iso(self.windowEnd)}",
                f"Warnings:  {self.warnCount}",
            ]
        )
        return subject, message


class CountsAlert(WindowAlert):
    """Per-action activity in one window, for the live dashboard; never announced."""

    alertType: Literal["counts"]
    events: int = Field(ge=0)
    users: int = Field(ge=0)


Alert = Annotated[ErrorAlert | WarnBurstAlert | CountsAlert, Field(discriminator="alertType")]
ALERT_ADAPTER: TypeAdapter[Alert] = TypeAdapter(Alert)


def parse_alert(data: bytes) -> ErrorAlert | WarnBurstAlert | CountsAlert:
    """Validate one record's bytes; invalid JSON, an unknown type or a missing field raises."""
    return ALERT_ADAPTER.validate_json(data)


# ---------------------------------------------------------------- configuration and clients


@dataclass(frozen=True)
class SinkConfig:
    table_name: str
    topic_arn: str
    ttl_days: int
    subject_prefix: str

    @classmethod
    def from_env(cls) -> SinkConfig:
        missing = [name for name in (TABLE_ENV, TOPIC_ENV) if not os.environ.get(name)]
        if missing:
            raise RuntimeError(f"alert sink is missing environment variable(s): {', '.join(missing)}")
        raw_days = os.environ.get(TTL_DAYS_ENV, str(DEFAULT_TTL_DAYS))
        if not raw_days.isdigit() or int(raw_days) < 1:
            raise RuntimeError(f"{TTL_DAYS_ENV} must be a whole number of days >= 1, got {raw_days!r}")
        return cls(
            table_name=os.environ[TABLE_ENV],
            topic_arn=os.environ[TOPIC_ENV],
            ttl_days=int(raw_days),
            subject_prefix=os.environ.get(SUBJECT_PREFIX_ENV, DEFAULT_SUBJECT_PREFIX),
        )


# Short timeouts and few retries: a slow call should fail the record (it is retried by
# the event source mapping) rather than eat the function's whole timeout.
_BOTO_CONFIG = BotoConfig(connect_timeout=3, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})


@cache
def config() -> SinkConfig:
    return SinkConfig.from_env()


@cache
def dynamodb_client() -> Any:
    """Created on first use, not at import, so tests can start moto first."""
    return boto3.client("dynamodb", config=_BOTO_CONFIG)


@cache
def sns_client() -> Any:
    return boto3.client("sns", config=_BOTO_CONFIG)


def reset_cached_state() -> None:
    """Forget config and clients (tests switch environments and moto backends)."""
    for cached in (config, dynamodb_client, sns_client):
        cached.cache_clear()


# ---------------------------------------------------------------- storing and announcing

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _now_iso() -> str:
    return to_utc_iso(datetime.now(UTC))


def _expires_at(alert: AlertBase, ttl_days: int) -> int:
    return int((alert.occurred_at() + timedelta(days=ttl_days)).timestamp())


def store_alert(alert: AlertBase, sequence_number: str, cfg: SinkConfig) -> dict[str, Any]:
    """Upsert the alert's item and return the item as it was before (empty if new)."""
    pk, sk = alert.key()
    fields: dict[str, Any] = {
        **alert.model_dump(mode="json"),
        "expiresAt": _expires_at(alert, cfg.ttl_days),
        "updatedAt": _now_iso(),
        "sequenceNumber": sequence_number,
    }
    # Placeholders for every name: `action`, `users` and others are DynamoDB reserved words.
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":v{i}": _serializer.serialize(value) for i, value in enumerate(fields.values())}
    assignments = [f"#f{i} = :v{i}" for i in range(len(fields))]
    names["#first"] = "firstSeenAt"
    values[":now"] = _serializer.serialize(fields["updatedAt"])
    assignments.append("#first = if_not_exists(#first, :now)")
    response = dynamodb_client().update_item(
        TableName=cfg.table_name,
        Key={"pk": {"S": pk}, "sk": {"S": sk}},
        UpdateExpression="SET " + ", ".join(assignments),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ReturnValues="ALL_OLD",
    )
    old = response.get("Attributes", {})
    return {name: _deserializer.deserialize(value) for name, value in old.items()}


def _subject(prefix: str, text: str) -> str:
    """SNS rejects non-ASCII, control characters and 100+ characters in a subject."""
    ascii_text = f"{prefix} {text}".strip().encode("ascii", "replace").decode("ascii")
    printable = "".join(char if char.isprintable() else " " for char in ascii_text)
    return printable[:SNS_SUBJECT_MAX]


def publish_alert(alert: ErrorAlert | WarnBurstAlert, cfg: SinkConfig) -> str:
    subject, message = alert.notification()
    response = sns_client().publish(
        TopicArn=cfg.topic_arn,
        Subject=_subject(cfg.subject_prefix, subject),
        Message=message,
        MessageAttributes={
            "alertType": {"DataType": "String", "StringValue": alert.alertType},
            "action": {"DataType": "String", "StringValue": alert.action},
        },
    )
    return str(response["MessageId"])


def mark_notified(alert: AlertBase, message_id: str, cfg: SinkConfig) -> None:
    pk, sk = alert.key()
    dynamodb_client().update_item(
        TableName=cfg.table_name,
        Key={"pk": {"S": pk}, "sk": {"S": sk}},
        UpdateExpression="SET notifiedAt = :at, snsMessageId = :id",
        ExpressionAttributeValues={":at": {"S": _now_iso()}, ":id": {"S": message_id}},
    )


def sink_alert(data: bytes, sequence_number: str, cfg: SinkConfig) -> None:
    """Store one alert and announce it at most once per stored item (see module docstring)."""
    alert = parse_alert(data)
    previous = store_alert(alert, sequence_number, cfg)
    metrics.add_metric(name="AlertsStored", unit=MetricUnit.Count, value=1)
    if isinstance(alert, CountsAlert):
        return
    if "notifiedAt" in previous:
        metrics.add_metric(name="DuplicateNotificationsSkipped", unit=MetricUnit.Count, value=1)
        return
    message_id = publish_alert(alert, cfg)
    metrics.add_metric(name="NotificationsPublished", unit=MetricUnit.Count, value=1)
    mark_notified(alert, message_id, cfg)


@tracer.capture_method
def record_handler(record: KinesisStreamRecord) -> None:
    """Any exception makes this record a batch item failure; log why before Powertools reports it."""
    sequence_number = record.kinesis.sequence_number
    try:
        sink_alert(record.kinesis.data_as_bytes(), sequence_number, config())
    except Exception as error:
        logger.warning(
            "alert record failed",
            sequenceNumber=sequence_number,
            partitionKey=record.kinesis.partition_key,
            errorType=type(error).__name__,
            reason=str(error)[:2000],
        )
        raise


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    config()  # a misconfigured function fails the invocation with a clear message, not per record
    try:
        # Raises BatchProcessingError when every record failed: Lambda then sees a function
        # error and bisects the batch; otherwise returns the failed sequence numbers.
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        failed = len(processor.fail_messages)
        metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=failed)
