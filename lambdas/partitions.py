"""Partition registrar: each new lake object's partition, registered in the Glue table Redshift Spectrum prunes.

S3 invokes this function for every object created under `events/` of the lake bucket (an
ObjectCreated notification). Spectrum reads only partitions registered in the Glue Data
Catalog and ignores Athena's partition projection, so the table it reads incrementally
(`events_by_arrival`) has real partitions, registered here with glue:BatchCreatePartition:

    (arrival_hour, year, month, day, hour) -> s3://<lake>/events/year=…/month=…/day=…/hour=…/

`arrival_hour` (`YYYYMMDDHH`, UTC) is the hour S3 reports the object was created
(`eventTime`); year/month/day/hour are the event-time folder the object sits in. A row received
at T lands in an object created at or after T, so a refresh that wants every row received after
T reads only the partitions with `arrival_hour >= hour(T)`, however old the events in them are.

Registering is idempotent: a partition that exists already is success (S3 retries and several
objects of one folder in one hour all name the same partition). A key that is not an events
object is ignored; a key under `events/` that does not follow the layout is reported in the
result and the log, never raised, so one odd object cannot start a retry storm. Any other
Glue error is raised, so S3's asynchronous invocation retries it and the errors alarm fires.

Standard library and boto3 only (the Lambda runtime's own), like the other handlers' archive.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import unquote_plus

import boto3

LOGGER = logging.getLogger(__name__)
LOGGER.setLevel(logging.INFO)

# The lake layout of `sql.lake` (Lambda code imports nothing outside `lambdas`; a test keeps them equal).
EVENTS_PREFIX = "events/"
_EVENT_OBJECT = re.compile(r"^events/year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})/[^/]+$")
# glue:BatchCreatePartition takes at most 100 partitions per call.
BATCH_LIMIT = 100
ALREADY_EXISTS = "AlreadyExistsException"


@dataclass(frozen=True)
class Partition:
    values: tuple[str, ...]  # arrival_hour, year, month, day, hour
    location: str


@dataclass(frozen=True)
class Sorted:
    partitions: list[Partition]
    ignored: list[str]
    malformed: list[str]


def arrival_hour(event_time: str) -> str:
    """`YYYYMMDDHH` (UTC) of an S3 event's `eventTime` (`2026-01-01T05:00:00.123Z`)."""
    moment = datetime.fromisoformat(event_time.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"eventTime without an offset: {event_time!r}")
    return f"{moment.astimezone(UTC):%Y%m%d%H}"


def sort_records(records: Sequence[Mapping[str, Any]]) -> Sorted:
    """The distinct partitions the records' objects belong to; other keys ignored or reported."""
    partitions: dict[tuple[str, ...], Partition] = {}
    ignored: list[str] = []
    malformed: list[str] = []
    for record in records:
        s3 = record.get("s3", {})
        key = unquote_plus(str(s3.get("object", {}).get("key", "")))  # S3 URL-encodes keys (= is %3D)
        if not key.startswith(EVENTS_PREFIX):
            ignored.append(key)
            continue
        match = _EVENT_OBJECT.match(key)
        try:
            arrived = arrival_hour(str(record.get("eventTime", "")))
        except ValueError:
            match = None
        if match is None:
            malformed.append(key)
            continue
        folder = key.rsplit("/", 1)[0] + "/"
        values = (arrived, *match.groups())
        partitions[values] = Partition(values, f"s3://{s3['bucket']['name']}/{folder}")
    return Sorted(list(partitions.values()), ignored, malformed)


@cache
def _glue() -> Any:
    return boto3.client("glue")


def _storage(database: str, table: str) -> dict[str, Any]:
    """The table's storage descriptor (format, SerDe, columns), which every partition repeats."""
    descriptor = _glue().get_table(DatabaseName=database, Name=table)["Table"]["StorageDescriptor"]
    return {
        key: descriptor[key] for key in ("Columns", "InputFormat", "OutputFormat", "SerdeInfo") if key in descriptor
    }


def register(partitions: Sequence[Partition], database: str, table: str) -> int:
    """Create the partitions that do not exist yet; returns how many were new. Raises on any other error."""
    if not partitions:
        return 0
    storage = _storage(database, table)
    created = 0
    for start in range(0, len(partitions), BATCH_LIMIT):
        batch = partitions[start : start + BATCH_LIMIT]
        answer = _glue().batch_create_partition(
            DatabaseName=database,
            TableName=table,
            PartitionInputList=[
                {"Values": list(p.values), "StorageDescriptor": {**storage, "Location": p.location}} for p in batch
            ],
        )
        errors = answer.get("Errors", [])
        failed = [e for e in errors if e.get("ErrorDetail", {}).get("ErrorCode") != ALREADY_EXISTS]
        if failed:
            raise RuntimeError(f"Glue refused partitions of {database}.{table}: {failed}")
        created += len(batch) - len(errors)
    return created


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    database, table = os.environ["GLUE_DATABASE"], os.environ["GLUE_TABLE"]
    found = sort_records(event.get("Records", []))
    created = register(found.partitions, database, table)
    result = {
        "partitions": len(found.partitions),
        "created": created,
        "ignored": found.ignored,
        "malformed": found.malformed,
    }
    if found.malformed:
        LOGGER.error("objects under %s outside the lake layout: %s", EVENTS_PREFIX, json.dumps(found.malformed))
    LOGGER.info("registered partitions: %s", json.dumps(result))
    return result
