"""Renders the job's SQL files into the statements Flink runs, for Kinesis or for a local file.

The query files (`error_alerts.sql`, `warn_bursts.sql`, `realtime_counts.sql`,
`alert_records.sql`) are the same for both targets; only the WITH options of the
source and the sink differ. Values reach the SQL through `${name}` placeholders,
and every value that lands inside a string literal goes through `sql_string()`,
so a marker or a path with a quote cannot change the query.

Pure Python (no pyflink import), so the main virtualenv tests it directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from string import Template

from streaming.properties import ENRICHED_FIELDS, EnrichedEntity, JobSettings

SQL_DIR = Path(__file__).resolve().parent / "sql"

# Order matters: each statement may use what the ones before it defined.
SHARED_VIEWS = ("error_alerts.sql", "warn_bursts.sql", "realtime_counts.sql", "alert_records.sql")
# With enrichment on (`enrichment.entities`), after the shared views: the changes stream, a versioned
# view per entity table (an event field without a table gets one that holds nothing), the enriched
# alerts, and the records the sink receives instead of alert_records.
ALERT_RECORDS_VIEW = "alert_records"
ENRICHED_RECORDS_VIEW = "enriched_alert_records"
# What an entity an event field names no table for looks like: a versioned view of no rows.
_NO_TABLE = EnrichedEntity(field="", table="_._", key="_", label="_")
# The search feed's documents, built on the shared views (events and alerts as detected, without the
# enrichment's labels); part of the job only when it writes the feed.
SEARCH_VIEW = "search_documents.sql"

# The one form of a timestamp on the events stream: UTC with `Z`, seconds, up to 9 fraction digits.
# The same pattern as `lambdas.events.STREAM_TIMESTAMP` (a test keeps them equal; the job imports
# nothing outside `streaming`): what ingest writes and what Firehose's Parquet conversion reads,
# so the job reads the same records the lake holds and refuses the same ones.
STREAM_TIMESTAMP_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,9})?Z"
FLINK_TIMESTAMP_FORMAT = "yyyy-MM-dd''T''HH:mm:ss.SSS"
FLINK_SECONDS_FORMAT = "yyyy-MM-dd''T''HH:mm:ss"

# Not a backslash: Flink 1.20 rejects ESCAPE '\' ("Invalid escape character") although the
# literal holds one character. `!` works and is escaped in markers like `%` and `_`.
LIKE_ESCAPE = "!"


class RenderError(ValueError):
    """A SQL template and the values given for it do not fit together."""


def sql_string(value: str) -> str:
    """A Flink SQL string literal holding exactly `value` (quotes doubled; backslash is literal)."""
    if "\x00" in value:
        raise RenderError(f"NUL character in SQL string value {value!r}")
    return "'" + value.replace("'", "''") + "'"


def like_contains(value: str) -> str:
    """A LIKE pattern (for `ESCAPE '!'`) matching any text that contains `value` literally.

    `%` and `_` are LIKE wildcards and the escape character itself must be escaped;
    `[` and `]` are not special in Flink's LIKE (that is SIMILAR TO), so they stay as they are.
    """
    escaped = value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
    return "%" + escaped.replace("_", LIKE_ESCAPE + "_") + "%"


def contains_any(column: str, markers: Sequence[str]) -> str:
    """A predicate that is TRUE when `column` contains any of `markers` (case-sensitive)."""
    if not markers:
        raise RenderError("at least one marker is needed")
    if not column.isidentifier():
        raise RenderError(f"{column!r} is not a plain column name")
    terms = [f"{column} LIKE {sql_string(like_contains(m))} ESCAPE {sql_string(LIKE_ESCAPE)}" for m in markers]
    return "(" + " OR ".join(terms) + ")"


def interval_seconds(seconds: int) -> str:
    """`INTERVAL 'n' SECOND(p)`: the precision is spelled out because the default (2) stops at 99."""
    if seconds < 0:
        raise RenderError(f"interval of {seconds} seconds")
    digits = len(str(seconds))
    return f"INTERVAL '{seconds}' SECOND({max(digits, 2)})"


def with_options(options: Mapping[str, str]) -> str:
    """The body of a WITH clause, one `'key' = 'value'` per line."""
    return ",\n".join(f"  {sql_string(key)} = {sql_string(value)}" for key, value in options.items())


def render(file_name: str, values: Mapping[str, str]) -> str:
    """One SQL file with its `${name}` placeholders filled; a missing value is an error, not a blank."""
    text = (SQL_DIR / file_name).read_text(encoding="utf-8")
    try:
        rendered = Template(text).substitute(values)
    except KeyError as error:
        raise RenderError(f"{file_name} needs a value for ${{{error.args[0]}}}") from None
    except ValueError as error:  # a stray `$` in the file
        raise RenderError(f"{file_name}: {error}") from None
    # Flink's execute_sql takes one statement without the terminating semicolon.
    return rendered.strip().removesuffix(";").rstrip()


def stream_time(column: str) -> str:
    """A TIMESTAMP(3) from `column` if it holds a stream timestamp, else NULL (never an error).

    TO_TIMESTAMP takes one fixed pattern, so the seconds are cut out and the fraction (none to
    nine digits) padded or cut to milliseconds before parsing. Its parser is lenient: it reads
    2026-02-30 as 02-28 and 24:00:00 as the next day, so the parsed seconds must print back as
    the text they came from, or the value is refused (NULL) as every other reader refuses it.
    """
    if not column.isidentifier():
        raise RenderError(f"{column!r} is not a plain column name")
    pattern = sql_string(f"^{STREAM_TIMESTAMP_PATTERN}$")
    seconds = f"SUBSTRING({column} FROM 1 FOR 19)"
    fraction = f"RPAD(COALESCE(REGEXP_EXTRACT({column}, '[.]([0-9]+)Z$', 1), ''), 3, '0')"
    parsed = f"TO_TIMESTAMP(CONCAT({seconds}, '.', {fraction}), '{FLINK_TIMESTAMP_FORMAT}')"
    exists = f"DATE_FORMAT({parsed}, '{FLINK_SECONDS_FORMAT}') = {seconds}"
    return f"CASE WHEN REGEXP({column}, {pattern}) AND {exists} THEN {parsed} END"


def query_values(settings: JobSettings) -> dict[str, str]:
    """Values of the placeholders the shared query files use."""
    return {
        "created_at_time": stream_time("createdAt"),
        "watermark_interval": interval_seconds(settings.watermark_seconds),
        "window_interval": interval_seconds(settings.window_seconds),
        "warn_threshold": str(settings.warn_threshold),
        "error_predicate": contains_any("errorMsg", settings.error_markers),
        "warn_predicate": contains_any("errorMsg", settings.warn_markers),
        "max_future_interval": interval_seconds(settings.max_future_seconds),
    }


def _shared_statements(settings: JobSettings, source_options: Mapping[str, str]) -> list[str]:
    values = query_values(settings)
    source = render("source_events.sql", {**values, "connector_options": with_options(source_options)})
    return [source, *(render(name, values) for name in SHARED_VIEWS)]


def kinesis_source_options(settings: JobSettings) -> dict[str, str]:
    events_arn, _, region = settings.require_streams()
    return {
        # `kinesis` in flink-sql-connector-kinesis 5.x is the FLIP-27 KinesisStreamsSource.
        "connector": "kinesis",
        "stream.arn": events_arn,
        "aws.region": region,
        "source.init.position": settings.source_init_position,
        # Enhanced fan-out, not polling: 5.0.0's polling reader calls GetRecords on an idle shard
        # without pause (FLINK-36947, fixed after 5.0.0), burning KPU and the 5 reads/s per shard
        # that Firehose shares. EFO pushes records through SubscribeToShard (one call per shard
        # every 5 minutes) with its own 2 MB/s per shard. The consumer is registered by the
        # deployment (SELF_MANAGED: the job only looks it up with DescribeStreamConsumer), so it
        # lives and dies with the application, not with each job restart.
        # Options: flink-connector-aws docs, "Amazon Kinesis Data Streams SQL Connector", source options.
        "source.reader.type": "EFO",
        "source.efo.consumer.name": settings.require_consumer(),
        "source.efo.lifecycle": "SELF_MANAGED",
        "format": "json",
        # A record that is not JSON of this shape is skipped rather than failing the job forever.
        "json.ignore-parse-errors": "true",
    }


def kinesis_sink_options(settings: JobSettings) -> dict[str, str]:
    _, alerts_arn, region = settings.require_streams()
    # No `sink.partitioner`: the table is PARTITIONED BY its record (sink_alerts.sql), and the
    # connector refuses a partitioner option on a partitioned table.
    return {
        "connector": "kinesis",
        "stream.arn": alerts_arn,
        "aws.region": region,
        "format": "raw",
    }


def file_source_options(events_file: Path, monitor_interval_ms: int | None = None) -> dict[str, str]:
    """A JSON-lines file or directory; with `monitor_interval_ms`, an unbounded source that keeps picking up
    new files in the directory (the filesystem connector's `source.monitor-interval`)."""
    options = {
        "connector": "filesystem",
        "path": str(events_file.resolve()),
        "format": "json",
        "json.ignore-parse-errors": "true",
    }
    if monitor_interval_ms is not None:
        options["source.monitor-interval"] = f"{monitor_interval_ms} ms"
    return options


def kinesis_search_sink_options(settings: JobSettings) -> dict[str, str]:
    _, _, region = settings.require_streams()
    assert settings.search_stream_arn is not None  # only called when the job writes the feed
    return {"connector": "kinesis", "stream.arn": settings.search_stream_arn, "aws.region": region, "format": "raw"}


def statement_set(inserts: Sequence[str]) -> str:
    """Several INSERTs as one job (one source read feeds every sink), the way Flink SQL spells it."""
    body = "".join(f"{insert};\n" for insert in inserts)
    return f"EXECUTE STATEMENT SET\nBEGIN\n{body}END"


def kinesis_statements(settings: JobSettings) -> list[str]:
    """DDL and views, then the one INSERT (or statement set) that starts the job on Managed Flink.

    With `search.stream.arn` set the job also writes the search feed: its view and sink join
    the statements, and both INSERTs run as one statement set over the one source.
    """
    sink = render("sink_alerts.sql", {"connector_options": with_options(kinesis_sink_options(settings))})
    statements = [*_shared_statements(settings, kinesis_source_options(settings))]
    if settings.enrichment:
        statements += enrichment_statements(settings, kinesis_changes_options(settings))
    statements.append(sink)
    insert = render("insert_enriched_alerts.sql" if settings.enrichment else "insert_alerts.sql", {})
    if settings.search_stream_arn is None:
        return [*statements, insert]
    search_sink = render("sink_search.sql", {"connector_options": with_options(kinesis_search_sink_options(settings))})
    return [
        *statements,
        render(SEARCH_VIEW, query_values(settings)),
        search_sink,
        statement_set([insert, render("insert_search.sql", {})]),
    ]


def local_statements(
    settings: JobSettings,
    events_file: Path,
    changes_file: Path | None = None,
    *,
    search: bool = False,
    monitor_interval_ms: int | None = None,
) -> list[str]:
    """DDL and views over JSON-lines files (or a watched directory of them, with `monitor_interval_ms`);
    the local runners collect `records_view(settings)`, or with `search` also the `search_documents` view."""
    statements = _shared_statements(settings, file_source_options(events_file, monitor_interval_ms))
    if settings.enrichment:
        if changes_file is None:
            raise RenderError("enrichment.entities names tables, but no file of changes was given")
        changes = file_source_options(changes_file, monitor_interval_ms)
        statements = [*statements, *enrichment_statements(settings, changes)]
    return [*statements, render(SEARCH_VIEW, query_values(settings))] if search else statements


def records_view(settings: JobSettings) -> str:
    """The view whose rows are the alerts stream's records: enriched when enrichment is on."""
    return ENRICHED_RECORDS_VIEW if settings.enrichment else ALERT_RECORDS_VIEW


# --- enrichment from replicated database tables ------------------------------------------------------------


def kinesis_changes_options(settings: JobSettings) -> dict[str, str]:
    """The changes stream through its own enhanced fan-out consumer, as the events source (see above)."""
    changes_arn, consumer = settings.require_changes()
    _, _, region = settings.require_streams()
    return {
        **kinesis_source_options(settings),
        "stream.arn": changes_arn,
        "aws.region": region,
        "source.efo.consumer.name": consumer,
        # Every version matters to the join: a job without a snapshot reads the stream's whole retention.
        "source.init.position": "TRIM_HORIZON",
    }


def entity_statement(entity: EnrichedEntity, view: str) -> str:
    """The versioned view `<view>_versions` of one replicated table (`entity_versions.sql`)."""
    return render(
        "entity_versions.sql",
        {
            "entity": view,
            "schema": sql_string(entity.schema_name),
            "table": sql_string(entity.table_name),
            "key": sql_string(entity.key),
            "label": sql_string(entity.label),
        },
    )


def _entity_fields(settings: JobSettings) -> str:
    """JSON_OBJECT entries of the labels the error alerts carry, for each event field a table names."""
    lines = []
    for field, view in ENRICHED_FIELDS.items():
        if settings.entity(field) is not None:
            lines += [f"  KEY {sql_string(name)} VALUE {name}," for name in (f"{view}Name", f"{view}Known")]
    return "\n".join(lines)


def _biz_counts_branch(settings: JobSettings) -> str:
    if settings.entity("bizId") is None:
        return ""
    return """UNION ALL
SELECT JSON_OBJECT(
  KEY 'alertType' VALUE 'biz_counts',
  KEY 'action' VALUE action,
  KEY 'bizId' VALUE bizId,
  KEY 'bizName' VALUE bizName,
  KEY 'bizKnown' VALUE bizKnown,
  KEY 'windowStart' VALUE windowStart,
  KEY 'windowEnd' VALUE windowEnd,
  KEY 'events' VALUE events,
  KEY 'users' VALUE users
) AS record
FROM biz_counts"""


def enrichment_statements(settings: JobSettings, changes_options: Mapping[str, str]) -> list[str]:
    """The changes source, the versioned entity views, the enriched alerts and their records."""
    values = query_values(settings)
    source = {
        "changes_watermark_interval": interval_seconds(settings.changes_watermark_seconds),
        "connector_options": with_options(changes_options),
    }
    statements = [render("source_changes.sql", source)]
    for field, view in ENRICHED_FIELDS.items():
        statements.append(entity_statement(settings.entity(field) or _NO_TABLE, view))
    statements.append(render("enriched_error_alerts.sql", values))
    if settings.entity("bizId") is not None:
        statements.append(render("biz_counts.sql", values))
    statements.append(
        render(
            "enriched_alert_records.sql",
            {"entity_fields": _entity_fields(settings), "biz_counts_branch": _biz_counts_branch(settings)},
        )
    )
    return statements


def table_config(settings: JobSettings) -> dict[str, str]:
    """Table settings the job needs on any cluster."""
    # Bounds the error-alert deduplication state; windows clean their own state. The temporal joins of
    # enrichment keep entities for the same TTL (Flink SQL has one for both), so it is the longer of the two.
    ttl = max(settings.dedup_ttl_seconds, settings.enrichment_ttl_seconds if settings.enrichment else 0)
    config = {
        # Window bounds and DATE_FORMAT work on UTC wall clock whatever the host's zone.
        "table.local-time-zone": "UTC",
        "table.exec.state.ttl": f"{ttl} s",
    }
    if settings.source_idle_timeout_seconds:
        config["table.exec.source.idle-timeout"] = f"{settings.source_idle_timeout_seconds} s"
    return config
