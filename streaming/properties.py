"""Runtime properties of the Flink application: names, defaults, parsing, validation.

Managed Service for Apache Flink hands an application its runtime properties as
property groups in `/etc/flink/application_properties.json`:

    [{"PropertyGroupId": "uba", "PropertyMap": {"window.seconds": "60", ...}}, ...]

Every value is a string. This module is the single definition of the group id,
the keys, their meaning and their defaults: the Pulumi component builds the
application's property groups from `property_groups()` and the job parses them
with `settings_from_groups()`, so the two cannot drift apart.

Pure Python on purpose (no pyflink import): the main virtualenv imports it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROPERTY_GROUP_ID = "uba"
RUN_OPTIONS_GROUP_ID = "kinesis.analytics.flink.run.options"
MANAGED_FLINK_PROPERTIES_FILE = Path("/etc/flink/application_properties.json")

EVENTS_STREAM_ARN = "events.stream.arn"
EVENTS_CONSUMER_NAME = "events.consumer.name"
ALERTS_STREAM_ARN = "alerts.stream.arn"
AWS_REGION = "aws.region"
SOURCE_INIT_POSITION = "source.init.position"
WATERMARK_SECONDS = "watermark.seconds"
WINDOW_SECONDS = "window.seconds"
WARN_THRESHOLD = "warn.threshold"
ERROR_MARKERS = "error.markers"
WARN_MARKERS = "warn.markers"
SOURCE_IDLE_TIMEOUT_SECONDS = "source.idle-timeout.seconds"
MAX_FUTURE_SECONDS = "event-time.max-future.seconds"
DEDUP_TTL_SECONDS = "dedup.ttl.seconds"
# Enrichment from replicated database tables (the CDC tier): off while `enrichment.entities` is `{}`.
CHANGES_STREAM_ARN = "changes.stream.arn"
CHANGES_CONSUMER_NAME = "changes.consumer.name"
ENRICHMENT_ENTITIES = "enrichment.entities"
ENRICHMENT_TTL_SECONDS = "enrichment.ttl.seconds"
CHANGES_WATERMARK_SECONDS = "changes.watermark.seconds"
# The event fields an entity table can be joined on, and the name of the versioned view of each.
ENRICHED_FIELDS = {"objectId": "object", "bizId": "biz"}
SEARCH_STREAM_ARN = "search.stream.arn"

DEFAULT_ERROR_MARKERS = ("[PANIC]", "[panic]", "[ERROR]", "[error]")
DEFAULT_WARN_MARKERS = ("WARNNING", "warnning", "WARNING", "warning")


@dataclass(frozen=True)
class PropertySpec:
    """One key of the `uba` property group."""

    description: str
    default: str | None  # None: no default; required when the job runs against Kinesis


# Keys of group `uba`, their meaning and default (as the string Managed Flink would carry).
PROPERTIES: dict[str, PropertySpec] = {
    EVENTS_STREAM_ARN: PropertySpec("ARN of the Kinesis stream of user events (the source).", None),
    EVENTS_CONSUMER_NAME: PropertySpec(
        "Name of the enhanced fan-out consumer registered on the events stream (by the deployment, not the job) "
        "that the source reads through.",
        None,
    ),
    ALERTS_STREAM_ARN: PropertySpec("ARN of the Kinesis stream the alert records are written to.", None),
    AWS_REGION: PropertySpec("Region of both streams; defaults to the region in the events stream ARN.", None),
    SOURCE_INIT_POSITION: PropertySpec(
        "Where a job without a snapshot starts reading the events stream: LATEST or TRIM_HORIZON.", "LATEST"
    ),
    WATERMARK_SECONDS: PropertySpec(
        "Bounded out-of-orderness: an event up to this many seconds older than the newest event seen "
        "still counts in its window; an older one is dropped from windows (it still raises an error alert).",
        "5",
    ),
    WINDOW_SECONDS: PropertySpec("Length of the tumbling event-time windows (warn bursts, counts).", "60"),
    WARN_THRESHOLD: PropertySpec("Warnings per action and window that make a warn_burst alert.", "10"),
    ERROR_MARKERS: PropertySpec(
        "JSON array of substrings of errorMsg that make an error alert (case-sensitive).",
        json.dumps(list(DEFAULT_ERROR_MARKERS)),
    ),
    WARN_MARKERS: PropertySpec(
        "JSON array of substrings of errorMsg that count as a warning (case-sensitive).",
        json.dumps(list(DEFAULT_WARN_MARKERS)),
    ),
    SOURCE_IDLE_TIMEOUT_SECONDS: PropertySpec(
        "A source split (shard) without events for this long stops holding back the watermark; 0 = never.",
        "30",
    ),
    MAX_FUTURE_SECONDS: PropertySpec(
        "An event whose createdAt is more than this many seconds ahead of the job's clock is kept out of "
        "windows (it would hold every window open and make every later event late); it still raises its "
        "error alert, stamped with receivedAt. Keep it at least the ingest's allowance for client clocks.",
        "300",
    ),
    DEDUP_TTL_SECONDS: PropertySpec(
        "How long an eventId is remembered so that a redelivered error event raises no second alert.", "3600"
    ),
    CHANGES_STREAM_ARN: PropertySpec(
        "ARN of the Kinesis stream of database changes (DMS); required when enrichment.entities names a table.",
        None,
    ),
    CHANGES_CONSUMER_NAME: PropertySpec(
        "Name of the enhanced fan-out consumer registered on the changes stream that the job reads through.", None
    ),
    ENRICHMENT_ENTITIES: PropertySpec(
        'JSON object: event field (objectId, bizId) -> {"table": "schema.table", "key": column, "label": column} '
        "of the replicated table whose rows it names; alerts carry the label as of the event's time. {} = off.",
        "{}",
    ),
    CHANGES_WATERMARK_SECONDS: PropertySpec(
        "Bounded out-of-orderness of the changes stream: a change up to this many seconds older than the newest "
        "one seen still versions the events it precedes; an older one versions only later events. Alerts wait "
        "this long for changes while the stream is active (an idle stream holds nothing back).",
        "60",
    ),
    ENRICHMENT_TTL_SECONDS: PropertySpec(
        "How long the job keeps an entity neither changed nor named by an event; an event naming a forgotten "
        "entity alerts as unknown. With enrichment on, the job's state TTL is the longer of this and "
        "dedup.ttl.seconds (Flink SQL sets one state TTL for temporal joins and de-duplication).",
        "604800",
    ),
    SEARCH_STREAM_ARN: PropertySpec(
        "ARN of the Kinesis stream the search feed is written to (error and warning events, and the alerts); "
        "unset: the job writes no search feed.",
        None,
    ),
}

_INIT_POSITIONS = ("LATEST", "TRIM_HORIZON")
_TABLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$")
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Kinesis consumer names: [a-zA-Z0-9_.-]{1,128} (RegisterStreamConsumer).
_CONSUMER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:kinesis:(?P<region>[a-z0-9-]+):\d{12}:stream/[A-Za-z0-9_.-]{1,128}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_MAX_MARKER_LENGTH = 1024  # errorMsg itself is at most 1024 characters (lambdas/events.py)
# Upper bounds keep a typo (an extra zero or three) from becoming a job that never emits.
_MAX_WINDOW_SECONDS = 86_400
_MAX_WATERMARK_SECONDS = 3_600
_MAX_FUTURE_SECONDS = 86_400


class PropertyError(ValueError):
    """A runtime property is missing, unknown or has a value the job cannot use."""


@dataclass(frozen=True)
class EnrichedEntity:
    """A replicated table whose rows an event field names: the job joins its versions as of the event's time."""

    field: str  # objectId or bizId
    table: str  # schema.table in the source database
    key: str  # its primary-key column
    label: str  # the column alerts carry

    @property
    def view(self) -> str:
        """The versioned view's name prefix: `object`, `biz`."""
        return ENRICHED_FIELDS[self.field]

    @property
    def schema_name(self) -> str:
        return self.table.split(".", 1)[0]

    @property
    def table_name(self) -> str:
        return self.table.split(".", 1)[1]


@dataclass(frozen=True)
class JobSettings:
    """Validated runtime settings of the Flink job."""

    watermark_seconds: int
    window_seconds: int
    warn_threshold: int
    error_markers: tuple[str, ...]
    warn_markers: tuple[str, ...]
    source_init_position: str
    source_idle_timeout_seconds: int
    dedup_ttl_seconds: int
    max_future_seconds: int
    events_stream_arn: str | None = None
    events_consumer_name: str | None = None
    alerts_stream_arn: str | None = None
    aws_region: str | None = None
    enrichment: tuple[EnrichedEntity, ...] = ()
    enrichment_ttl_seconds: int = 604_800
    changes_watermark_seconds: int = 60
    changes_stream_arn: str | None = None
    changes_consumer_name: str | None = None
    search_stream_arn: str | None = None  # the search feed is written only when set

    def entity(self, field: str) -> EnrichedEntity | None:
        return next((entity for entity in self.enrichment if entity.field == field), None)

    def require_changes(self) -> tuple[str, str]:
        """The changes stream ARN and its consumer, which enrichment needs against Kinesis."""
        needed = ((CHANGES_STREAM_ARN, self.changes_stream_arn), (CHANGES_CONSUMER_NAME, self.changes_consumer_name))
        missing = [key for key, value in needed if not value]
        if missing:
            raise PropertyError(
                f"property group {PROPERTY_GROUP_ID!r} needs {', '.join(missing)} to enrich alerts from "
                f"{ENRICHMENT_ENTITIES} against Kinesis"
            )
        assert self.changes_stream_arn and self.changes_consumer_name
        return self.changes_stream_arn, self.changes_consumer_name

    def require_streams(self) -> tuple[str, str, str]:
        """The events ARN, alerts ARN and region, or a clear error naming what is missing."""
        missing = [
            key
            for key, value in (
                (EVENTS_STREAM_ARN, self.events_stream_arn),
                (ALERTS_STREAM_ARN, self.alerts_stream_arn),
                # Without it the source would poll (FLINK-36947); the job never falls back to that.
                (EVENTS_CONSUMER_NAME, self.events_consumer_name),
            )
            if not value
        ]
        if missing:
            raise PropertyError(
                f"property group {PROPERTY_GROUP_ID!r} needs {', '.join(missing)} to run against Kinesis"
            )
        assert self.events_stream_arn and self.alerts_stream_arn and self.aws_region  # narrowed by checks above
        return self.events_stream_arn, self.alerts_stream_arn, self.aws_region

    def require_consumer(self) -> str:
        """The enhanced fan-out consumer's name (checked with the streams by `require_streams`)."""
        self.require_streams()
        assert self.events_consumer_name  # narrowed by require_streams
        return self.events_consumer_name


def _int_in_range(key: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise PropertyError(f"{PROPERTY_GROUP_ID}.{key}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise PropertyError(f"{PROPERTY_GROUP_ID}.{key}={value} is out of range; allowed {low}..{high}")
    return value


def _markers(key: str, raw: str) -> tuple[str, ...]:
    try:
        parsed: Any = json.loads(raw)
    except json.JSONDecodeError as error:
        raise PropertyError(
            f"{PROPERTY_GROUP_ID}.{key}={raw!r} is not a JSON array of strings "
            f'(e.g. ["[ERROR]", "[error]"]): {error.msg}'
        ) from None
    if not isinstance(parsed, list) or not parsed:
        raise PropertyError(f"{PROPERTY_GROUP_ID}.{key}={raw!r} must be a non-empty JSON array of strings")
    for marker in parsed:
        if not isinstance(marker, str) or not marker:
            raise PropertyError(f"{PROPERTY_GROUP_ID}.{key} has {marker!r}; every marker must be a non-empty string")
        if len(marker) > _MAX_MARKER_LENGTH:
            raise PropertyError(
                f"{PROPERTY_GROUP_ID}.{key} has a marker of {len(marker)} characters; at most {_MAX_MARKER_LENGTH}"
            )
    # Order is kept (it is the order of the OR in the SQL); repeats add nothing.
    return tuple(dict.fromkeys(parsed))


def _stream_arn(key: str, raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    arn = raw.strip()
    if not _STREAM_ARN.match(arn):
        raise PropertyError(
            f"{PROPERTY_GROUP_ID}.{key}={raw!r} is not a Kinesis stream ARN "
            "(arn:aws:kinesis:<region>:<account>:stream/<name>)"
        )
    return arn


def _consumer_name(raw: str | None, key: str = EVENTS_CONSUMER_NAME) -> str | None:
    if raw is None or not raw.strip():
        return None
    name = raw.strip()
    if not _CONSUMER_NAME.match(name):
        raise PropertyError(
            f"{PROPERTY_GROUP_ID}.{key}={raw!r} is not a Kinesis consumer name (1 to 128 of a-z, A-Z, 0-9, _ . -)"
        )
    return name


def _entities(raw: str) -> tuple[EnrichedEntity, ...]:
    key = ENRICHMENT_ENTITIES
    try:
        parsed: Any = json.loads(raw)
    except json.JSONDecodeError as error:
        raise PropertyError(f"{PROPERTY_GROUP_ID}.{key}={raw!r} is not a JSON object: {error.msg}") from None
    if not isinstance(parsed, dict):
        raise PropertyError(f"{PROPERTY_GROUP_ID}.{key} must be a JSON object of event field -> table, got {raw!r}")
    entities: list[EnrichedEntity] = []
    for field, spec in parsed.items():
        if field not in ENRICHED_FIELDS:
            raise PropertyError(
                f"{PROPERTY_GROUP_ID}.{key} names {field!r}; the event fields are {', '.join(ENRICHED_FIELDS)}"
            )
        if not isinstance(spec, dict) or set(spec) != {"table", "key", "label"}:
            raise PropertyError(
                f'{PROPERTY_GROUP_ID}.{key}[{field!r}] must be {{"table", "key", "label"}}, got {spec!r}'
            )
        table, column, label = spec["table"], spec["key"], spec["label"]
        if not isinstance(table, str) or not _TABLE.match(table):
            raise PropertyError(f"{PROPERTY_GROUP_ID}.{key}[{field!r}].table must be schema.table, got {table!r}")
        for name, value in (("key", column), ("label", label)):
            if not isinstance(value, str) or not _COLUMN.match(value):
                raise PropertyError(f"{PROPERTY_GROUP_ID}.{key}[{field!r}].{name} must be a column name, got {value!r}")
        entities.append(EnrichedEntity(field, table, column, label))
    return tuple(sorted(entities, key=lambda entity: list(ENRICHED_FIELDS).index(entity.field)))


def _region(raw: str | None, events_arn: str | None) -> str | None:
    if raw is not None and raw.strip():
        region = raw.strip()
        if not _REGION.match(region):
            raise PropertyError(f"{PROPERTY_GROUP_ID}.{AWS_REGION}={raw!r} is not an AWS region name")
        return region
    if events_arn:
        match = _STREAM_ARN.match(events_arn)
        assert match is not None  # validated by _stream_arn
        return match.group("region")
    return None


def parse_settings(values: Mapping[str, str]) -> JobSettings:
    """Validate the `uba` group's map (defaults fill what is absent). Unknown keys are an error."""
    unknown = sorted(set(values) - set(PROPERTIES))
    if unknown:
        raise PropertyError(
            f"unknown key(s) in property group {PROPERTY_GROUP_ID!r}: {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(PROPERTIES))}"
        )
    for key, raw in values.items():
        if not isinstance(raw, str):
            raise PropertyError(f"{PROPERTY_GROUP_ID}.{key} must be a string, got {type(raw).__name__} {raw!r}")

    def value(key: str) -> str:
        default = PROPERTIES[key].default
        assert default is not None, key
        return values.get(key, default)

    position = value(SOURCE_INIT_POSITION).strip().upper()
    if position not in _INIT_POSITIONS:
        raise PropertyError(
            f"{PROPERTY_GROUP_ID}.{SOURCE_INIT_POSITION}={values[SOURCE_INIT_POSITION]!r}; "
            f"allowed: {', '.join(_INIT_POSITIONS)}"
        )
    events_arn = _stream_arn(EVENTS_STREAM_ARN, values.get(EVENTS_STREAM_ARN))
    return JobSettings(
        watermark_seconds=_int_in_range(WATERMARK_SECONDS, value(WATERMARK_SECONDS), 0, _MAX_WATERMARK_SECONDS),
        window_seconds=_int_in_range(WINDOW_SECONDS, value(WINDOW_SECONDS), 1, _MAX_WINDOW_SECONDS),
        warn_threshold=_int_in_range(WARN_THRESHOLD, value(WARN_THRESHOLD), 1, 1_000_000),
        error_markers=_markers(ERROR_MARKERS, value(ERROR_MARKERS)),
        warn_markers=_markers(WARN_MARKERS, value(WARN_MARKERS)),
        source_init_position=position,
        source_idle_timeout_seconds=_int_in_range(
            SOURCE_IDLE_TIMEOUT_SECONDS, value(SOURCE_IDLE_TIMEOUT_SECONDS), 0, 86_400
        ),
        dedup_ttl_seconds=_int_in_range(DEDUP_TTL_SECONDS, value(DEDUP_TTL_SECONDS), 1, 30 * 86_400),
        max_future_seconds=_int_in_range(MAX_FUTURE_SECONDS, value(MAX_FUTURE_SECONDS), 0, _MAX_FUTURE_SECONDS),
        events_stream_arn=events_arn,
        events_consumer_name=_consumer_name(values.get(EVENTS_CONSUMER_NAME)),
        alerts_stream_arn=_stream_arn(ALERTS_STREAM_ARN, values.get(ALERTS_STREAM_ARN)),
        aws_region=_region(values.get(AWS_REGION), events_arn),
        enrichment=_entities(value(ENRICHMENT_ENTITIES)),
        enrichment_ttl_seconds=_int_in_range(ENRICHMENT_TTL_SECONDS, value(ENRICHMENT_TTL_SECONDS), 60, 365 * 86_400),
        changes_watermark_seconds=_int_in_range(
            CHANGES_WATERMARK_SECONDS, value(CHANGES_WATERMARK_SECONDS), 0, _MAX_WATERMARK_SECONDS
        ),
        changes_stream_arn=_stream_arn(CHANGES_STREAM_ARN, values.get(CHANGES_STREAM_ARN)),
        changes_consumer_name=_consumer_name(values.get(CHANGES_CONSUMER_NAME), CHANGES_CONSUMER_NAME),
        search_stream_arn=_stream_arn(SEARCH_STREAM_ARN, values.get(SEARCH_STREAM_ARN)),
    )


def read_property_groups(path: Path) -> dict[str, dict[str, str]]:
    """Property groups from a Managed Flink `application_properties.json` ({} when the file is absent)."""
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise PropertyError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(document, list):
        raise PropertyError(f"{path} must hold a JSON array of property groups")
    groups: dict[str, dict[str, str]] = {}
    for index, group in enumerate(document):
        if not isinstance(group, dict) or not isinstance(group.get("PropertyGroupId"), str):
            raise PropertyError(f"{path}: entry {index} has no PropertyGroupId")
        property_map = group.get("PropertyMap", {})
        if not isinstance(property_map, dict):
            raise PropertyError(f"{path}: PropertyMap of group {group['PropertyGroupId']!r} is not an object")
        groups[group["PropertyGroupId"]] = property_map
    return groups


def settings_from_groups(groups: Mapping[str, Mapping[str, str]], overrides: Mapping[str, str]) -> JobSettings:
    """Settings from the `uba` group, with local overrides (e.g. `--set key=value`) taking precedence."""
    return parse_settings({**groups.get(PROPERTY_GROUP_ID, {}), **overrides})


def property_groups(values: Mapping[str, str], python_entry: str, jarfile: str) -> list[dict[str, Any]]:
    """The application's property groups, in the shape of Pulumi's `property_groups` argument.

    `values` are validated here so a bad stack setting fails at `pulumi preview`, not when
    the Flink job starts. The run-options group tells Managed Flink what to start.
    """
    settings = parse_settings(values)
    settings.require_streams()
    if settings.enrichment:
        settings.require_changes()
    # Defaults are written out so the console shows every value the job runs with.
    defaults = {key: spec.default for key, spec in PROPERTIES.items() if spec.default is not None}
    resolved = {**defaults, **values}
    return [
        {"property_group_id": PROPERTY_GROUP_ID, "property_map": dict(sorted(resolved.items()))},
        {
            "property_group_id": RUN_OPTIONS_GROUP_ID,
            "property_map": {"python": python_entry, "jarfile": jarfile},
        },
    ]
