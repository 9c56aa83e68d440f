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
# The table Redshift Spectrum reads incrementally (`events_by_arrival`) is partitioned by the UTC hour
# an object arrived in the lake (`YYYYMMDDHH`) and then by the event-time folder it sits in
# (`lambdas.partitions` registers each pair as objects arrive).
ARRIVAL_KEY = "arrival_hour"
ARRIVAL_PARTITION_KEYS = (ARRIVAL_KEY, *PARTITION_KEYS)


def arrival_hour(moment: datetime) -> str:
    """`YYYYMMDDHH` of an aware time in UTC: the value of `arrival_hour` for objects created then."""
    if moment.tzinfo is None:
        raise ValueError(f"time without an offset: {moment!r}")
    return f"{moment.astimezone(UTC):%Y%m%d%H}"


def event_partition(created_at: datetime) -> str:
    """`events/year=…/month=…/day=…/hour=…/` of an aware event time, as Firehose's partition keys build it."""
    if created_at.tzinfo is None:
        raise ValueError(f"event time without an offset: {created_at!r}")
    values = f"{created_at.astimezone(UTC):%Y %m %d %H}".split()
    return EVENTS_PREFIX + "".join(f"{key}={value}/" for key, value in zip(PARTITION_KEYS, values, strict=True))
