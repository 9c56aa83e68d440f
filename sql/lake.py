"""The lake's layout: where Firehose writes events and failures, and how event time partitions them.

Stated once, for everything that writes or reads the lake: the lake tier (Firehose
prefixes, the Glue tables and their projection, the warehouse's Spectrum grants), the
local lake writer and the DuckDB views (`tools.local.lake`).

    events/year=YYYY/month=MM/day=DD/hour=HH/<file>.parquet   (UTC hour of the event's createdAt)
    errors/<error type>/year=…/month=…/day=…/hour=…/            (arrival hour)
"""

from __future__ import annotations

from datetime import UTC, datetime

EVENTS_PREFIX = "events/"
ERRORS_PREFIX = "errors/"
PARTITION_KEYS = ("year", "month", "day", "hour")


def event_partition(created_at: datetime) -> str:
    """`events/year=…/month=…/day=…/hour=…/` of an aware event time, as Firehose's partition keys build it."""
    if created_at.tzinfo is None:
        raise ValueError(f"event time without an offset: {created_at!r}")
    values = f"{created_at.astimezone(UTC):%Y %m %d %H}".split()
    return EVENTS_PREFIX + "".join(f"{key}={value}/" for key, value in zip(PARTITION_KEYS, values, strict=True))
