"""The search feed's delivery, locally: what Firehose does between the search feed stream and the index.

In AWS, Firehose reads the search feed stream (one JSON document per record, written by
the Flink job), buffers records into bulk requests, indexes them, retries what failed for
the configured retry duration, and writes what still failed to the dead-letter bucket as
one JSON line per document (`attemptsMade`, `arrivalTimestamp`, `errorCode`,
`errorMessage`, `attemptEndingTimestamp`, `esIndexName`, `rawData` base64). A managed
domain gets one index per day (index rotation `OneDay`: `uba-search-YYYY-MM-DD` by arrival
time, UTC); a Serverless collection one index.

`LocalFeed` does the same against the local node, with the same records and the same
client the search-admin function uses: bulk requests of `batch_size` documents, a
document refused for a reason retrying cannot fix (a mapping error: `400`) written to the
dead-letter file at once, one refused for load (`429`, `5xx`) or a request that failed
whole retried with back-off until `retry_seconds` are spent, then dead-lettered. Nothing is
dropped: every record ends up indexed or in the dead-letter file, and the report counts both.
"""

from __future__ import annotations

import base64
import datetime
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

import urllib3

from lambdas.opensearch import BulkItem, OpenSearch, SearchError
from lambdas.search_schema import INDEX_NAME, daily_index

Rotation = Literal["none", "daily"]
DEFAULT_BATCH_SIZE = 500
Clock = Callable[[], datetime.datetime]


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _millis(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class DeliveryReport:
    indexed: int = 0
    dead_lettered: int = 0
    bulk_requests: int = 0
    retries: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # dead-lettered documents by error type

    @property
    def records(self) -> int:
        return self.indexed + self.dead_lettered


@dataclass
class _Pending:
    raw: str
    arrival: datetime.datetime
    attempts: int = 0


class LocalFeed:
    """Deliver search feed records to an OpenSearch endpoint as Firehose would, failures to a dead-letter file."""

    def __init__(
        self,
        client: OpenSearch,
        dead_letter: Path,
        rotation: Rotation = "none",
        batch_size: int = DEFAULT_BATCH_SIZE,
        retry_seconds: float = 10.0,
        clock: Clock = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.client, self.dead_letter, self.rotation = client, dead_letter, rotation
        self.batch_size, self.retry_seconds, self.clock, self.sleep = batch_size, retry_seconds, clock, sleep

    def index_for(self, arrival: datetime.datetime) -> str:
        return daily_index(arrival.date()) if self.rotation == "daily" else INDEX_NAME

    def deliver(self, records: Iterable[str | bytes], refresh: bool = False) -> DeliveryReport:
        """Index every record; returns what was indexed and what went to the dead-letter file."""
        report = DeliveryReport()
        self.dead_letter.parent.mkdir(parents=True, exist_ok=True)
        with self.dead_letter.open("a", encoding="utf-8") as dead_letters:
            batch: list[_Pending] = []
            for record in records:
                text = record.decode("utf-8", errors="replace") if isinstance(record, bytes) else record
                batch.append(_Pending(text.strip(), self.clock()))
                if len(batch) == self.batch_size:
                    self._deliver_batch(batch, report, dead_letters, refresh)
                    batch = []
            if batch:
                self._deliver_batch(batch, report, dead_letters, refresh)
        return report

    def _deliver_batch(self, batch: list[_Pending], report: DeliveryReport, out: TextIO, refresh: bool) -> None:
        started = time.monotonic()
        pending = batch
        delay = 0.1
        while pending:
            for item in pending:
                item.attempts += 1
            report.bulk_requests += 1
            outcomes = self._bulk(pending, refresh)
            retry: list[_Pending] = []
            for item, outcome in zip(pending, outcomes, strict=True):
                if outcome.error is None:
                    report.indexed += 1
                elif outcome.retryable:
                    retry.append(item)
                else:
                    self._dead_letter(item, outcome, out, report)
            if retry and time.monotonic() - started + delay > self.retry_seconds:
                for item, outcome in zip(pending, outcomes, strict=True):
                    if item in retry:
                        self._dead_letter(item, outcome, out, report)
                return
            if retry:
                report.retries += len(retry)
                self.sleep(delay)
                delay = min(delay * 2, 5.0)
            pending = retry

    def _bulk(self, pending: Sequence[_Pending], refresh: bool) -> list[BulkItem]:
        """One bulk request; a request that fails whole counts as a retryable failure of each document."""
        try:
            return self.client.bulk([(self.index_for(item.arrival), item.raw) for item in pending], refresh=refresh)
        except SearchError as error:
            status = error.status if error.status in (429, 502, 503, 504) else 503
            failure = {"type": "bulk_request_failed", "reason": str(error)}
            return [BulkItem(status, failure) for _ in pending]
        except (urllib3.exceptions.HTTPError, OSError) as error:
            return [BulkItem(503, {"type": "connection_failed", "reason": str(error)}) for _ in pending]

    def _dead_letter(self, item: _Pending, outcome: BulkItem, out: TextIO, report: DeliveryReport) -> None:
        error_type = str((outcome.error or {}).get("type", "unknown"))
        report.dead_lettered += 1
        report.errors[error_type] = report.errors.get(error_type, 0) + 1
        line = {
            "attemptsMade": item.attempts,
            "arrivalTimestamp": _millis(item.arrival),
            "errorCode": str(outcome.status),
            "errorMessage": outcome.reason(),
            "attemptEndingTimestamp": _millis(self.clock()),
            "esDocumentId": None,
            "esIndexName": self.index_for(item.arrival),
            "esTypeName": "",
            "rawData": base64.b64encode(item.raw.encode("utf-8")).decode("ascii"),
        }
        out.write(json.dumps(line) + "\n")
        out.flush()


def read_dead_letters(path: Path) -> list[dict[str, Any]]:
    """The dead-letter file's entries, each with its document decoded as `document`."""
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        entry["document"] = base64.b64decode(entry["rawData"]).decode("utf-8")
        entries.append(entry)
    return entries
