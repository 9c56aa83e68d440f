"""Edge-log Lambda: CloudFront real-time log lines -> user events on the events stream.

The edge tier's distribution answers beacons at the edge (a CloudFront Function, no origin
hit), so a beacon's events exist only in the distribution's real-time log. CloudFront puts
one log line per request on the edge-logs Kinesis stream; an event source mapping feeds
batches of them here, and this handler:

1. reads each line: fields separated by tabs, in the order CloudFront writes them (the
   documented order, whatever order the configuration lists them in), each value
   URL-encoded, `-` for an empty one;
2. keeps beacon hits (`GET` or `POST` on the beacon path): their query parameter `e` is the
   base64url (RFC 4648 section 5, padding optional) of the UTF-8 JSON the API takes in a
   body, one event or `{"events": [...]}`. A POST's body never reaches the log, and a
   CloudFront Function cannot read it either, so a beacon carries its events in the URL;
3. validates every event with the API's own rules (`lambdas.event_batch`, `UserEvent`),
   bounding `createdAt` around the moment the edge answered, and adds what the edge knows:
   the viewer IP as `sourceIp`, the user agent, the edge location and CloudFront's request id;
4. writes the events to the events stream with the ingest Lambda's batching, retrying
   writer (`lambdas.kinesis_batch`).

Every line ends one of four ways, and each is counted (CloudWatch metrics in the stack's
namespace, dimension `service=edge-logs`):
- `LinesNotEvents`: another path, or a method that carries no beacon (the request log of
  the distribution's other behaviors shares the stream);
- `LinesBlocked`: a beacon the edge refused with 403 (AWS WAF or geo restriction): what the
  edge refused is not ingested;
- `EventsWritten`: the events of a beacon, on the events stream;
- `EventsDeadLettered`: a line that cannot be read, a beacon whose payload cannot be read,
  or an event the contract rejects: sent to the invalid-events queue with the reason and
  what was received, never dropped on the floor.

A record whose events (or dead letters) could not be written after the retries is reported
as a batch item failure; Lambda then retries from the lowest failed sequence number, so
later records of the batch are delivered again. Writes are therefore at least once:
downstream de-duplicates by `eventId`, and a dead letter may be sent twice.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lambdas.event_batch import RefusedBodyError, events_of, read_json, validate_events
from lambdas.events import IngestEnvelope, to_utc_iso
from lambdas.kinesis_batch import KinesisBatchWriter, KinesisClient, PendingRecord, RetryPolicy

# Every field CloudFront documents for real-time logs, in the order it writes them into a log
# record (CloudFront Developer Guide, "Real-time logs", Fields: "The fields are listed in the order
# in which they appear in the log records that are delivered to Kinesis Data Streams"; and
# "the fields in every real-time log record are always delivered in the same order").
DOCUMENTED_FIELDS: tuple[str, ...] = (
    "timestamp", "c-ip", "time-to-first-byte", "sc-status", "sc-bytes", "cs-method", "cs-protocol", "cs-host",
    "cs-uri-stem", "cs-bytes", "x-edge-location", "x-edge-request-id", "x-host-header", "time-taken",
    "cs-protocol-version", "c-ip-version", "cs-user-agent", "cs-referer", "cs-cookie", "cs-uri-query",
    "x-edge-response-result-type", "x-forwarded-for", "ssl-protocol", "ssl-cipher", "x-edge-result-type",
    "fle-encrypted-fields", "fle-status", "sc-content-type", "sc-content-len", "sc-range-start", "sc-range-end",
    "c-port", "x-edge-detailed-result-type", "c-country", "cs-accept-encoding", "cs-accept",
    "cache-behavior-path-pattern", "cs-headers", "cs-header-names", "cs-headers-count",
)  # fmt: skip
# What this parser reads; the edge tier configures exactly these (in documented order).
REQUIRED_FIELDS: tuple[str, ...] = (
    "timestamp", "c-ip", "sc-status", "cs-method", "cs-uri-stem", "x-edge-location", "x-edge-request-id",
    "cs-user-agent", "cs-uri-query",
)  # fmt: skip
EMPTY = "-"  # how CloudFront writes a field that has no value
BEACON_PARAMETER = "e"
BEACON_METHODS = frozenset({"GET", "POST"})
BLOCKED_STATUS = "403"  # AWS WAF and geo restriction answer 403 at the edge
BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}", re.ASCII)
MAX_PAYLOAD_BYTES = 1_048_576  # the API's body limit; a CloudFront URL is at most 8,192 bytes anyway
MAX_DEAD_LETTER_TEXT = 200_000  # SQS takes 256 KiB a message; the reason and ids fit in the rest
MAX_QUEUE_BATCH = 10  # SendMessageBatch: at most 10 messages
MAX_QUEUE_BATCH_BYTES = 250_000  # and 256 KiB in all

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "edge-logs")
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "uba"))

# The writer's loop owns every retry so that all of them fit the invocation's time budget.
CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 1})


class QueueClient(Protocol):
    """The one call this module needs from a boto3 SQS client."""

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]: ...  # noqa: N803


_clients: dict[str, Any] = {}


def use_clients(kinesis: KinesisClient | None = None, sqs: QueueClient | None = None) -> None:
    """Inject the clients (tests, benchmark, local runner); None resets to the default."""
    _clients.clear()
    if kinesis is not None:
        _clients["kinesis"] = kinesis
    if sqs is not None:
        _clients["sqs"] = sqs


def _client(service: str) -> Any:
    if service not in _clients:
        _clients[service] = boto3.client(service, config=CLIENT_CONFIG)
    return _clients[service]


# --- configuration ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogFormat:
    """The fields of one real-time log line, in the order CloudFront writes them."""

    fields: tuple[str, ...]

    @classmethod
    def of(cls, configured: Iterable[str]) -> LogFormat:
        """The format of a configuration's field list; refuses what CloudFront or this parser cannot use."""
        names = [name.strip() for name in configured if name.strip()]
        unknown = [name for name in names if name not in DOCUMENTED_FIELDS]
        if unknown:
            raise ValueError(f"not CloudFront real-time log fields: {unknown}")
        if len(set(names)) != len(names):
            raise ValueError(f"a field is listed twice: {names}")
        missing = [name for name in REQUIRED_FIELDS if name not in names]
        if missing:
            raise ValueError(f"the edge-log parser needs the fields {missing}")
        # CloudFront writes the fields in its documented order, not in the order they were configured.
        return cls(tuple(sorted(names, key=DOCUMENTED_FIELDS.index)))

    def values(self, line: str) -> dict[str, str | None]:
        """The line's values by field name, URL-decoded, None where CloudFront wrote `-`."""
        parts = line.rstrip("\r\n").split("\t")
        if len(parts) != len(self.fields):
            raise UnreadableLineError(
                f"the line has {len(parts)} tab-separated fields; the configuration has {len(self.fields)}"
            )
        return {name: None if raw == EMPTY else unquote(raw) for name, raw in zip(self.fields, parts, strict=True)}


@dataclass(frozen=True)
class EdgeConfig:
    """The handler's runtime configuration, read from the environment the edge tier sets."""

    stream_name: str
    queue_url: str
    log_format: LogFormat
    beacon_path: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> EdgeConfig:
        missing = [name for name in ("EVENTS_STREAM_NAME", "INVALID_EVENTS_QUEUE_URL", "EDGE_LOG_FIELDS",
                                     "EDGE_BEACON_PATH") if not env.get(name)]  # fmt: skip
        if missing:
            raise RuntimeError(f"{', '.join(missing)} not set; the edge tier sets them on the function")
        try:
            log_format = LogFormat.of(env["EDGE_LOG_FIELDS"].split(","))
        except ValueError as error:
            raise RuntimeError(f"EDGE_LOG_FIELDS: {error}") from None
        return cls(env["EVENTS_STREAM_NAME"], env["INVALID_EVENTS_QUEUE_URL"], log_format, env["EDGE_BEACON_PATH"])


@cache
def _config_from_env() -> EdgeConfig:
    return EdgeConfig.from_env()


# --- reading one line ------------------------------------------------------------------------------------


class UnreadableLineError(ValueError):
    """A line this configuration cannot read."""


@dataclass(frozen=True)
class NotEvents:
    """A request that is not a beacon (counted), or one the edge refused (counted apart)."""

    blocked: bool


@dataclass(frozen=True)
class DeadLetter:
    """What could not become an event, with the reason and what was received."""

    reason: str
    received: str  # the raw line, the beacon's payload, or the rejected event as JSON
    errors: Sequence[str] = ()
    request_id: str | None = None
    location: str | None = None
    received_at: str | None = None
    index: int | None = None  # the event's position in the beacon

    def body(self) -> str:
        return json.dumps(
            {
                "reason": self.reason,
                "errors": list(self.errors),
                "edgeRequestId": self.request_id,
                "edgeLocation": self.location,
                "receivedAt": self.received_at,
                "index": self.index,
                "received": self.received[:MAX_DEAD_LETTER_TEXT],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class Beacon:
    """A beacon's events: records for the valid ones, dead letters for the rest."""

    records: list[PendingRecord]
    dead_letters: list[DeadLetter]


LineOutcome = NotEvents | DeadLetter | Beacon


def read_line(line: str, config: EdgeConfig) -> LineOutcome:
    """What one real-time log line holds."""
    try:
        values = config.log_format.values(line)
        received_at = _timestamp(values["timestamp"])
    except UnreadableLineError as error:
        return DeadLetter(f"unreadable log line: {error}", line)
    path, _, query_in_stem = (values["cs-uri-stem"] or "").partition("?")
    if path != config.beacon_path or (values["cs-method"] or "").upper() not in BEACON_METHODS:
        return NotEvents(blocked=False)
    if values["sc-status"] == BLOCKED_STATUS:
        return NotEvents(blocked=True)
    envelope = IngestEnvelope(
        receivedAt=received_at,
        sourceIp=_text(values["c-ip"], 512),
        userAgent=_text(values["cs-user-agent"], 512),
        edgeLocation=_text(values["x-edge-location"], 128),
        edgeRequestId=_text(values["x-edge-request-id"], 128),
    )
    # Real-time logs give the query alone in cs-uri-query; cs-uri-stem has carried it too.
    query = values["cs-uri-query"] or query_in_stem
    letter = partial(
        DeadLetter,
        request_id=envelope.edgeRequestId,
        location=envelope.edgeLocation,
        received_at=to_utc_iso(received_at),
    )
    try:
        items = events_of(read_json(_beacon_payload(query), "the beacon payload"))
    except RefusedBodyError as error:
        return letter(f"beacon refused: {error.message}", query)
    records, rejected = validate_events(items, envelope)
    dead = [
        letter("event rejected by the contract", json.dumps(items[r["index"]], ensure_ascii=False),
               errors=r["errors"], index=r["index"])
        for r in rejected
    ]  # fmt: skip
    return Beacon(records, dead)


def _timestamp(value: str | None) -> datetime:
    """`timestamp` as CloudFront writes it: seconds since the epoch with milliseconds, e.g. 1767261600.123."""
    try:
        return datetime.fromtimestamp(float(value or ""), UTC)
    except (ValueError, OverflowError, OSError):
        raise UnreadableLineError(f"timestamp {value!r} is not seconds since the epoch") from None


def _text(value: str | None, limit: int) -> str | None:
    if not value:
        return None
    return value[:limit].encode("utf-8", errors="replace").decode("utf-8")


def _beacon_payload(query: str) -> str:
    """The JSON text a beacon carries in its `e` parameter, or RefusedBodyError with the reason."""
    parameters = parse_qs(query, keep_blank_values=True)
    values = parameters.get(BEACON_PARAMETER, [])
    if not values:
        raise RefusedBodyError(
            400,
            f"no `{BEACON_PARAMETER}` parameter in the query string: a beacon carries its events there "
            "(a POST body never reaches the real-time log)",
        )
    if len(values) > 1:
        raise RefusedBodyError(400, f"the `{BEACON_PARAMETER}` parameter appears {len(values)} times")
    encoded = values[0].strip()
    if not BASE64URL.fullmatch(encoded):
        raise RefusedBodyError(400, f"`{BEACON_PARAMETER}` is not base64url text (A-Z a-z 0-9 - _)")
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded.rstrip("=")) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise RefusedBodyError(400, f"`{BEACON_PARAMETER}` is not valid base64url") from None
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise RefusedBodyError(413, f"the payload is {len(raw)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RefusedBodyError(400, "the payload is not valid UTF-8") from None


# --- one batch -------------------------------------------------------------------------------------------


@dataclass
class BatchSummary:
    """What a batch of lines came to; the counts the handler reports as metrics."""

    lines: int = 0
    not_events: int = 0
    blocked: int = 0
    beacons: int = 0
    events_written: int = 0
    dead_lettered: int = 0
    failed_records: list[str] = field(default_factory=list)  # sequence numbers, in batch order
    kinesis_calls: int = 0
    queue_calls: int = 0


def process_lines(
    lines: Sequence[tuple[str, str]],
    config: EdgeConfig,
    remaining_ms: Callable[[], float],
    kinesis: KinesisClient,
    sqs: QueueClient,
) -> BatchSummary:
    """Turn `(sequence number, line)` pairs into events and dead letters; report the records that failed."""
    summary = BatchSummary(lines=len(lines))
    pending: list[PendingRecord] = []
    source: dict[int, str] = {}  # a pending record's index -> the sequence number of its line
    letters: list[tuple[str, DeadLetter]] = []
    for sequence, line in lines:
        outcome = read_line(line, config)
        if isinstance(outcome, NotEvents):
            summary.blocked += outcome.blocked
            summary.not_events += not outcome.blocked
            continue
        if isinstance(outcome, DeadLetter):
            letters.append((sequence, outcome))
            continue
        summary.beacons += 1
        letters.extend((sequence, letter) for letter in outcome.dead_letters)
        for record in outcome.records:
            record.index = len(source)
            source[record.index] = sequence
            pending.append(record)
    failed: set[str] = set()
    unsent = _send_dead_letters(letters, config.queue_url, sqs, summary)
    failed.update(unsent)
    if pending:
        writer = KinesisBatchWriter(kinesis, config.stream_name, config.retry, remaining_ms)
        written = writer.write(pending)
        summary.kinesis_calls += written.calls
        summary.events_written = written.written
        failed.update(source[record.index] for record in written.failed)
        if written.failed:
            errors = sorted({record.last_error.split(":")[0] for record in written.failed})
            logger.warning("events unwritten after retries", extra={"failed": len(written.failed), "errors": errors})
    summary.failed_records = [sequence for sequence, _ in lines if sequence in failed]
    return summary


def _send_dead_letters(
    letters: list[tuple[str, DeadLetter]], queue_url: str, sqs: QueueClient, summary: BatchSummary
) -> set[str]:
    """Send each dead letter to the queue; return the sequence numbers of lines whose letters were not taken."""
    failed: set[str] = set()
    for batch in _queue_batches(letters):
        entries = [{"Id": str(i), "MessageBody": letter.body()} for i, (_, letter) in enumerate(batch)]
        summary.queue_calls += 1
        try:
            response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as error:
            logger.warning("dead letters not sent", extra={"error": str(error), "count": len(batch)})
            failed.update(sequence for sequence, _ in batch)
            continue
        refused = {int(entry["Id"]) for entry in response.get("Failed", [])}
        for i, (sequence, letter) in enumerate(batch):
            if i in refused:
                failed.add(sequence)
            else:
                summary.dead_lettered += 1
                logger.info("event dead-lettered", extra={"reason": letter.reason, "errors": list(letter.errors)})
    return failed


def _queue_batches(letters: list[tuple[str, DeadLetter]]) -> Iterable[list[tuple[str, DeadLetter]]]:
    batch: list[tuple[str, DeadLetter]] = []
    size = 0
    for item in letters:
        item_size = len(item[1].body().encode("utf-8"))
        if batch and (len(batch) == MAX_QUEUE_BATCH or size + item_size > MAX_QUEUE_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item_size
    if batch:
        yield batch


# --- the handler -----------------------------------------------------------------------------------------


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Partial batch response: the sequence numbers of lines whose events or dead letters were not written."""
    config = _config_from_env()
    lines: list[tuple[str, str]] = []
    for raw in event.get("Records", []):
        record = KinesisStreamRecord(raw)
        lines.append((record.kinesis.sequence_number, record.kinesis.data_as_bytes().decode("utf-8", "replace")))
    summary = process_lines(lines, config, context.get_remaining_time_in_millis, _client("kinesis"), _client("sqs"))
    for name, value in (
        ("LinesRead", summary.lines),
        ("LinesNotEvents", summary.not_events),
        ("LinesBlocked", summary.blocked),
        ("BeaconsRead", summary.beacons),
        ("EventsWritten", summary.events_written),
        ("EventsDeadLettered", summary.dead_lettered),
        ("LinesFailed", len(summary.failed_records)),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    logger.info("edge log lines read", extra={**vars(summary), "failed_records": len(summary.failed_records)})
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in summary.failed_records]}
