"""Write records to a Kinesis stream with PutRecords, retrying what Kinesis turns away.

PutRecords is not all-or-nothing: one call can store some records and reject others
(throttled shard, internal failure, KMS throttling). This module packs records into
calls within the API's limits, resends only the rejected ones with exponential backoff
and full jitter while the caller's time budget allows, and hands back whatever is
still unwritten so the caller can report it instead of dropping it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

# PutRecords limits: 500 records and 5 MiB per call, partition keys included.
MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024

# Errors that another attempt within this invocation cannot fix (missing stream, missing
# permission, disabled key, malformed request): give up at once rather than burn the
# time budget. Everything else (throttling, internal failures, timeouts) is retried.
NOT_RETRIED_IN_INVOCATION = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "InvalidArgumentException",
        "ValidationException",
        "KMSAccessDeniedException",
        "KMSDisabledException",
        "KMSInvalidStateException",
        "KMSNotFoundException",
        "KMSOptInRequired",
        "UnrecognizedClientException",
    }
)


class KinesisClient(Protocol):
    """The one call this module needs from a boto3 Kinesis client."""

    def put_records(self, *, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]: ...  # noqa: N803


@dataclass
class PendingRecord:
    """One record on its way to the stream, remembered by its position in the request."""

    index: int
    event_id: str
    partition_key: str
    data: bytes
    last_error: str = ""

    @property
    def size(self) -> int:
        return len(self.data) + len(self.partition_key.encode())


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before handing a record back as failed."""

    max_attempts: int = 8
    base_delay_ms: float = 50.0
    max_delay_ms: float = 2000.0
    # A retry starts only if this much time is left after its backoff sleep: enough for
    # one more call at the client's timeouts plus writing the response.
    safety_margin_ms: float = 3500.0

    def backoff_ms(self, retry_number: int, rng: Callable[[], float]) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^n)), so throttled callers spread out."""
        ceiling = min(self.max_delay_ms, self.base_delay_ms * 2 ** (retry_number - 1))
        return rng() * ceiling


@dataclass
class WriteOutcome:
    """What happened to a set of records: how many landed, which did not, and the effort."""

    written: int = 0
    failed: list[PendingRecord] = field(default_factory=list)
    calls: int = 0
    retry_rounds: int = 0
    records_retried: int = 0


def batches(records: Sequence[PendingRecord]) -> Iterator[list[PendingRecord]]:
    """Split records into PutRecords calls of at most 500 records and 5 MiB, keeping order."""
    batch: list[PendingRecord] = []
    batch_bytes = 0
    for record in records:
        too_many = len(batch) == MAX_RECORDS_PER_CALL
        too_big = batch_bytes + record.size > MAX_BYTES_PER_CALL
        if batch and (too_many or too_big):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(record)
        batch_bytes += record.size
    if batch:
        yield batch


def _error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    return type(error).__name__


class KinesisBatchWriter:
    """Puts records on one stream, retrying partial failures within a time budget."""

    def __init__(
        self,
        client: KinesisClient,
        stream_name: str,
        policy: RetryPolicy,
        remaining_ms: Callable[[], float],
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._client = client
        self._stream_name = stream_name
        self._policy = policy
        self._remaining_ms = remaining_ms
        self._sleep = sleep
        self._rng = rng

    def write(self, records: Sequence[PendingRecord]) -> WriteOutcome:
        outcome = WriteOutcome()
        pending = list(records)
        attempt = 1
        while pending:
            pending, give_up = self._put_once(pending, outcome)
            if not pending or give_up or attempt >= self._policy.max_attempts:
                break
            delay_ms = self._policy.backoff_ms(attempt, self._rng)
            if self._remaining_ms() - delay_ms < self._policy.safety_margin_ms:
                break
            self._sleep(delay_ms / 1000)
            attempt += 1
            outcome.retry_rounds += 1
            outcome.records_retried += len(pending)
        outcome.failed = pending
        return outcome

    def _put_once(self, records: list[PendingRecord], outcome: WriteOutcome) -> tuple[list[PendingRecord], bool]:
        """One pass over all records; returns those still unwritten (in order) and whether to stop."""
        unwritten: list[PendingRecord] = []
        give_up = False
        for batch in batches(records):
            outcome.calls += 1
            try:
                response = self._client.put_records(
                    StreamName=self._stream_name,
                    Records=[{"Data": r.data, "PartitionKey": r.partition_key} for r in batch],
                )
            except (ClientError, BotoCoreError) as error:
                code = _error_code(error)
                self._fail(batch, f"{code}: {error}")
                unwritten.extend(batch)
                give_up = give_up or code in NOT_RETRIED_IN_INVOCATION
                continue
            except Exception as error:
                # Not an AWS answer (a bug, a broken connection pool, an SDK surprise): this call's
                # records may or may not have landed, and the records of earlier calls did. Report
                # this call's records failed (a resend may duplicate; downstream de-duplicates by
                # eventId) and stop retrying something not known to be transient.
                self._fail(batch, f"{type(error).__name__}: {error}")
                unwritten.extend(batch)
                give_up = True
                continue
            unwritten.extend(self._rejected(batch, response, outcome))
        return unwritten, give_up

    @staticmethod
    def _fail(batch: list[PendingRecord], reason: str) -> None:
        for record in batch:
            record.last_error = reason[:1000]

    @staticmethod
    def _rejected(batch: list[PendingRecord], response: dict[str, Any], outcome: WriteOutcome) -> list[PendingRecord]:
        """Records of one call that carry an ErrorCode; the rest are counted as written."""
        results = response.get("Records") if isinstance(response, dict) else None
        if not isinstance(results, list) or len(results) != len(batch) or not all(isinstance(r, dict) for r in results):
            # Cannot tell which records landed; treat all as unwritten (a resend may
            # duplicate, which downstream de-duplication by eventId absorbs, but never loses).
            for record in batch:
                record.last_error = "InternalFailure: PutRecords answered with a mismatched record list"
            return list(batch)
        rejected: list[PendingRecord] = []
        for record, result in zip(batch, results, strict=True):
            code = result.get("ErrorCode")
            if code:
                message = result.get("ErrorMessage")
                record.last_error = f"{code}: {message}" if message else str(code)
                rejected.append(record)
            else:
                outcome.written += 1
        return rejected
