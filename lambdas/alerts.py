"""Alert sink: Flink's alerts stream -> DynamoDB realtime results + SNS business alerts.

The Lambda is fed by a Kinesis event source mapping with `ReportBatchItemFailures`,
bisect on error, bounded retries/record age and an SQS on-failure destination. Each
record is one JSON alert (`error`, `warn_burst`, `counts`, or with enrichment from replicated
tables `biz_counts`); a record that cannot be
parsed, validated, stored or notified is reported as a batch item failure by its
sequence number, and the rest of the batch still succeeds. Lambda then retries from the
lowest failed sequence number, so records after it are delivered again: every step
below is idempotent for exactly that reason.

Item layout (one item per alert, see `AlertBase.key`):

    pk = "ALERT#<alertType>#<action>"
    sk = windowStart               for counts and warn_burst (one item per action+window)
         "<createdAt>#<eventId>"   for error (one item per offending event)
         "<windowStart>#<bizId>"   for biz_counts (one item per action, window and business line)

With enrichment (the CDC tier), an error alert also carries the object's and the business line's
labels as of the event's time (`objectName`, `bizName`) and whether each was known then
(`objectKnown`, `bizKnown`: false means no such entity at that time, and the alert still stands).

Timestamps in keys are rendered by `to_utc_iso` (UTC, milliseconds, `Z`), so string
order is time order. "Latest counts for one action" is a Query on pk, newest first,
Limit 1; "latest counts of every action" is a Query on the `byType` index
(hash `alertType`, range `sk`) for the last few windows.

Delivery guarantee for notifications (error and warn_burst only):
1. UpdateItem writes the alert's fields and returns the previous item (ALL_OLD). This
   is an upsert, so a redelivered or updated alert overwrites instead of duplicating.
   If the previous item already has `notifiedAt`, the alert was announced: stop.
2. Claim the notification with a conditional write: `notifyClaim` is set to this
   record's identity (`shardId:sequenceNumber`) only if no copy announced it and no
   other record holds the claim. Copies of one alert handled at the same time (Flink
   emitting it twice, on two shards, in two invocations) all pass step 1; exactly one
   wins step 2, and the others stop.
3. The winner publishes to SNS, then sets `notifiedAt`/`snsMessageId`.
At least once: a publish that fails releases the claim (so any copy may announce) and
fails the record, whose redelivery publishes. A crash after the claim leaves it held,
but by this record's identity, which its redelivery carries again and so re-claims; the
copies that lost are not needed. A crash after the publish and before the mark
publishes once more on redelivery. So every stored alert is announced at least once,
each such failure adds at most one duplicate, and a clean redelivery or a concurrent
copy adds none. The memory of "notified" lives as long as the item, so keep the TTL
longer than the stream's retention.

Poison records: a record that cannot be parsed or breaks the alert contract fails alone
(a batch item failure; the event source mapping's bounded retries then record it in the
dead-letter queue), and every alert the contract accepts can be stored and announced:
its timestamps render in UTC, its TTL is bounded even for a time far in the future, and
its notification text is cleaned of characters SNS refuses. Nothing one record carries
can fail the rest of its batch.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any, ClassVar, Literal

import boto3  # type: ignore[import-untyped, unused-ignore]
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer  # type: ignore[import-untyped, unused-ignore]
from botocore.config import Config as BotoConfig  # type: ignore[import-untyped, unused-ignore]
from botocore.exceptions import ClientError  # type: ignore[import-untyped, unused-ignore]
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
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


# ---------------------------------------------------------------- the alert contract


def _renders_in_utc(moment: datetime) -> datetime:
    # `9999-12-31T23:59:59-01:00` is a valid datetime whose UTC form is past year 9999: refuse
    # it here, as a contract error of this record, not as an OverflowError while storing it.
    try:
        to_utc_iso(moment)
    except OverflowError:
        raise ValueError("must be a time whose UTC form lies within years 1 to 9999") from None
    return moment


UtcTimestamp = Annotated[AwareDatetime, AfterValidator(_renders_in_utc), PlainSerializer(to_utc_iso, return_type=str)]


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


# An entity's label as the enrichment carries it (the Flink job cuts it to this length).
EntityLabel = Annotated[str, StringConstraints(max_length=1024)]


class ErrorAlert(AlertBase):
    """One event whose errorMsg carries a [PANIC]/[ERROR] marker."""

    alertType: Literal["error"]
    eventId: Id
    userId: Id
    objectId: Id
    bizId: Id
    errorMsg: ErrorText
    createdAt: UtcTimestamp
    # Enrichment from replicated entity tables, as of the event's time; absent without it.
    objectName: EntityLabel | None = None
    objectKnown: bool | None = None
    bizName: EntityLabel | None = None
    bizKnown: bool | None = None

    # The fields above that only enrichment sets (the search feed carries alerts as detected, without them).
    ENRICHMENT_FIELDS: ClassVar[tuple[str, ...]] = ("objectName", "objectKnown", "bizName", "bizKnown")

    def _entity(self, identifier: str, name: str | None, known: bool | None) -> str:
        if known is None:
            return identifier
        return f"{identifier} ({name})" if known and name else f"{identifier} (unknown at the time)"

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
                f"Object:    {self._entity(self.objectId, self.objectName, self.objectKnown)}",
                f"Business:  {self._entity(self.bizId, self.bizName, self.bizKnown)}",
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


class BizCountsAlert(WindowAlert):
    """Per-action activity of one business line in one window, with its label at the window's end."""

    alertType: Literal["biz_counts"]
    bizId: Id
    bizName: EntityLabel | None = None
    bizKnown: bool
    events: int = Field(ge=0)
    users: int = Field(ge=0)

    def key(self) -> tuple[str, str]:
        return f"ALERT#{self.alertType}#{self.action}", f"{to_utc_iso(self.windowStart)}#{self.bizId}"


Alert = Annotated[ErrorAlert | WarnBurstAlert | CountsAlert | BizCountsAlert, Field(discriminator="alertType")]
ALERT_ADAPTER: TypeAdapter[Alert] = TypeAdapter(Alert)


def parse_alert(data: bytes) -> ErrorAlert | WarnBurstAlert | CountsAlert | BizCountsAlert:
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
    # From when it happened, so a replay does not extend it; but never from the future: an
    # alert claiming year 9999 (a stray clock, a record written to the stream directly) would
    # overflow the date and, stored, never expire.
    start = min(alert.occurred_at(), datetime.now(UTC))
    return int((start + timedelta(days=ttl_days)).timestamp())


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


# Characters SNS takes in a message and its string attributes (the XML character range, as
# SQS documents it): anything else, a NUL in an action say, is replaced rather than refused.
_NOT_SNS_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _sns_text(text: str) -> str:
    return _NOT_SNS_TEXT.sub("\ufffd", text)


def publish_alert(alert: ErrorAlert | WarnBurstAlert, cfg: SinkConfig) -> str:
    subject, message = alert.notification()
    response = sns_client().publish(
        TopicArn=cfg.topic_arn,
        Subject=_subject(cfg.subject_prefix, subject),
        Message=_sns_text(message),
        MessageAttributes={
            "alertType": {"DataType": "String", "StringValue": alert.alertType},
            "action": {"DataType": "String", "StringValue": _sns_text(alert.action)},
        },
    )
    return str(response["MessageId"])


def claim_notification(alert: AlertBase, claimant: str, cfg: SinkConfig) -> bool:
    """Take the right to announce this alert; exactly one of several concurrent copies wins.

    The claim is a conditional write, atomic in DynamoDB: it holds only while no copy has
    announced the alert and no other record holds the claim. `claimant` is the record's
    identity, so the same record delivered again may re-claim after a crash.
    """
    pk, sk = alert.key()
    try:
        dynamodb_client().update_item(
            TableName=cfg.table_name,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression="SET notifyClaim = :me, claimedAt = :at",
            ConditionExpression=(
                "attribute_not_exists(notifiedAt) AND (attribute_not_exists(notifyClaim) OR notifyClaim = :me)"
            ),
            ExpressionAttributeValues={":me": {"S": claimant}, ":at": {"S": _now_iso()}},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def release_claim(alert: AlertBase, claimant: str, cfg: SinkConfig) -> None:
    """Give the claim back after a failed publish, so any copy may announce the alert."""
    pk, sk = alert.key()
    try:
        dynamodb_client().update_item(
            TableName=cfg.table_name,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            UpdateExpression="REMOVE notifyClaim, claimedAt",
            ConditionExpression="notifyClaim = :me",
            ExpressionAttributeValues={":me": {"S": claimant}},
        )
    except ClientError as error:
        # Still at least once: this record fails, and its redelivery carries the same claimant.
        logger.warning("notification claim not released", claimant=claimant, errorType=type(error).__name__)


def mark_notified(alert: AlertBase, message_id: str, cfg: SinkConfig) -> None:
    pk, sk = alert.key()
    dynamodb_client().update_item(
        TableName=cfg.table_name,
        Key={"pk": {"S": pk}, "sk": {"S": sk}},
        UpdateExpression="SET notifiedAt = :at, snsMessageId = :id",
        ExpressionAttributeValues={":at": {"S": _now_iso()}, ":id": {"S": message_id}},
    )


def sink_alert(data: bytes, sequence_number: str, cfg: SinkConfig, claimant: str | None = None) -> None:
    """Store one alert and announce it once per stored item (see module docstring).

    `claimant` identifies the record across redeliveries (`shardId:sequenceNumber`); it
    defaults to the sequence number.
    """
    alert = parse_alert(data)
    previous = store_alert(alert, sequence_number, cfg)
    metrics.add_metric(name="AlertsStored", unit=MetricUnit.Count, value=1)
    if isinstance(alert, CountsAlert | BizCountsAlert):
        return
    claimant = claimant or sequence_number
    if "notifiedAt" in previous or not claim_notification(alert, claimant, cfg):
        metrics.add_metric(name="DuplicateNotificationsSkipped", unit=MetricUnit.Count, value=1)
        return
    try:
        message_id = publish_alert(alert, cfg)
    except Exception:
        release_claim(alert, claimant, cfg)
        raise
    metrics.add_metric(name="NotificationsPublished", unit=MetricUnit.Count, value=1)
    mark_notified(alert, message_id, cfg)


@tracer.capture_method
def record_handler(record: KinesisStreamRecord) -> None:
    """Any exception makes this record a batch item failure; log why before Powertools reports it."""
    sequence_number = record.kinesis.sequence_number
    try:
        sink_alert(record.kinesis.data_as_bytes(), sequence_number, config(), claimant=record.event_id)
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
    # One processor per invocation: it holds the batch's outcomes, which no other invocation may see.
    processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
    try:
        # Raises BatchProcessingError when every record failed: Lambda then sees a function
        # error and bisects the batch; otherwise returns the failed sequence numbers.
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        failed = len(processor.fail_messages)
        metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=failed)
