"""Rendering the Flink SQL files: escaping, placeholders, and agreement with the event contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lambdas.events import stored_columns
from streaming.properties import parse_settings
from streaming.statements import (
    SQL_DIR,
    RenderError,
    contains_any,
    interval_seconds,
    kinesis_statements,
    like_contains,
    local_statements,
    render,
    sql_string,
    table_config,
    with_options,
)
from tools.local import ACCOUNT_ID, REGION

EVENTS_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/uba-events"
ALERTS_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/uba-alerts"
CONSUMER = "uba-dev-anomaly-detection"
KINESIS = parse_settings(
    {"events.stream.arn": EVENTS_ARN, "alerts.stream.arn": ALERTS_ARN, "events.consumer.name": CONSUMER}
)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", "'plain'"),
        ("it's", "'it''s'"),
        ("''", "''''''"),
        ("C:\\temp", "'C:\\temp'"),  # backslash is an ordinary character in Flink SQL strings
        ("line\nbreak", "'line\nbreak'"),
    ],
)
def test_string_literals_double_quotes_and_nothing_else(value, literal):
    assert sql_string(value) == literal


def test_a_nul_character_cannot_reach_the_sql():
    with pytest.raises(RenderError, match="NUL character"):
        sql_string("a\x00b")


@pytest.mark.parametrize(
    ("marker", "pattern"),
    [
        ("[ERROR]", "%[ERROR]%"),  # brackets are not special in LIKE
        ("50%", "%50!%%"),
        ("a_b", "%a!_b%"),
        ("wow!", "%wow!!%"),  # the escape character escapes itself
        ("!%_", "%!!!%!_%"),
    ],
)
def test_like_patterns_escape_wildcards_and_the_escape_character(marker, pattern):
    assert like_contains(marker) == pattern


def test_markers_become_one_predicate_with_an_escape_clause():
    predicate = contains_any("errorMsg", ["[error]", "it's 100%"])
    assert predicate == "(errorMsg LIKE '%[error]%' ESCAPE '!' OR errorMsg LIKE '%it''s 100!%%' ESCAPE '!')"


def test_a_quote_in_a_marker_cannot_end_the_literal():
    predicate = contains_any("errorMsg", ["x' OR '1'='1"])
    # The whole marker stays inside one literal: every quote in it is doubled.
    assert predicate == "(errorMsg LIKE '%x'' OR ''1''=''1%' ESCAPE '!')"


def test_predicates_need_markers_and_a_plain_column():
    with pytest.raises(RenderError, match="at least one marker"):
        contains_any("errorMsg", [])
    with pytest.raises(RenderError, match="not a plain column name"):
        contains_any("errorMsg OR 1=1", ["x"])


@pytest.mark.parametrize(
    ("seconds", "interval"),
    [(0, "INTERVAL '0' SECOND(2)"), (60, "INTERVAL '60' SECOND(2)"), (3600, "INTERVAL '3600' SECOND(4)")],
)
def test_intervals_spell_out_their_precision(seconds, interval):
    assert interval_seconds(seconds) == interval


def test_with_options_quotes_keys_and_values():
    assert with_options({"path": "/tmp/it's.jsonl", "format": "json"}) == (
        "  'path' = '/tmp/it''s.jsonl',\n  'format' = 'json'"
    )


def test_a_missing_placeholder_value_is_an_error_not_a_blank():
    with pytest.raises(RenderError, match=r"warn_bursts.sql needs a value for \$\{window_interval\}"):
        render("warn_bursts.sql", {"warn_predicate": "TRUE", "warn_threshold": "10"})


def test_rendered_statements_have_no_placeholders_left_and_no_semicolons():
    for statement in [*kinesis_statements(KINESIS), *local_statements(KINESIS, Path("/data/events.jsonl"))]:
        assert "${" not in statement
        assert not statement.rstrip().endswith(";")


def test_settings_reach_the_sql():
    settings = parse_settings(
        {
            "window.seconds": "300",
            "warn.threshold": "7",
            "watermark.seconds": "15",
            "warn.markers": '["slow"]',
            "event-time.max-future.seconds": "120",
        }
    )
    sql = "\n".join(local_statements(settings, Path("/data/events.jsonl")))
    assert "WATERMARK FOR eventTime AS eventTime - INTERVAL '15' SECOND(2)" in sql
    assert sql.count("INTERVAL '300' SECOND(3)") == 2  # warn bursts and counts
    assert "HAVING COUNT(DISTINCT eventId) >= 7" in sql
    assert "(errorMsg LIKE '%slow%' ESCAPE '!')" in sql
    assert "'path' = '/data/events.jsonl'" in sql
    assert sql.count("<= LOCALTIMESTAMP + INTERVAL '120' SECOND(3)") == 2  # event time and hasEventTime


def test_only_source_and_sink_differ_between_kinesis_and_local():
    kinesis = kinesis_statements(KINESIS)
    local = local_statements(KINESIS, Path("/data/events.jsonl"))
    assert kinesis[1:5] == local[1:]  # the four shared views, rendered identically
    assert "'connector' = 'kinesis'" in kinesis[0] and "'connector' = 'filesystem'" in local[0]
    assert f"'stream.arn' = '{EVENTS_ARN}'" in kinesis[0]
    assert "'source.init.position' = 'LATEST'" in kinesis[0]
    assert f"'stream.arn' = '{ALERTS_ARN}'" in kinesis[5] and "'format' = 'raw'" in kinesis[5]
    assert kinesis[6] == "INSERT INTO alerts\nSELECT record FROM alert_records"


def options_of(statement: str) -> dict[str, str]:
    return dict(re.findall(r"^  '([^']+)' = '([^']*)'", statement, flags=re.MULTILINE))


def test_the_source_reads_through_the_deployments_fan_out_consumer_never_by_polling():
    """5.0.0's polling reader spins on idle shards (FLINK-36947): the job reads only by enhanced fan-out."""
    source = options_of(kinesis_statements(KINESIS)[0])
    assert source["source.reader.type"] == "EFO"
    assert source["source.efo.consumer.name"] == CONSUMER
    # The consumer is the deployment's (Pulumi registers it); the job must not register or deregister it.
    assert source["source.efo.lifecycle"] == "SELF_MANAGED"
    assert not {key for key in source if key.startswith("source.shard.get-records")}


def test_alerts_are_partitioned_by_their_record_so_copies_share_a_shard():
    """Random partition keys sent two copies of one alert to two shards, handled in parallel, both announced."""
    sink = kinesis_statements(KINESIS)[5]
    assert re.search(r"CREATE TABLE alerts \(\s*record STRING\s*\) PARTITIONED BY \(record\) WITH", sink)
    # The connector refuses a partitioner option on a PARTITIONED BY table; none may creep back.
    assert not {key for key in options_of(sink) if key.startswith("sink.partitioner")}


def test_kinesis_statements_need_the_stream_arns():
    with pytest.raises(ValueError, match=re.escape("needs events.stream.arn")):
        kinesis_statements(parse_settings({}))


def test_source_table_columns_follow_the_event_contract():
    """A field added to the contract must reach the Flink source table, in the same order."""
    ddl = (SQL_DIR / "source_events.sql").read_text()
    declared = re.findall(r"^  (\w+) (STRING|INT),$", ddl, flags=re.MULTILINE)
    flink_type = {"string": "STRING", "timestamp": "STRING", "int": "INT"}  # timestamps parsed in SQL
    assert declared == [(column.wire_name, flink_type[column.logical_type]) for column in stored_columns()]


def test_table_config_pins_utc_and_bounds_state():
    config = table_config(parse_settings({"dedup.ttl.seconds": "600", "source.idle-timeout.seconds": "0"}))
    assert config == {"table.local-time-zone": "UTC", "table.exec.state.ttl": "600 s"}
    assert table_config(parse_settings({}))["table.exec.source.idle-timeout"] == "30 s"


SEARCH_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/uba-search-feed"


def test_without_a_search_stream_the_job_is_the_alerts_insert_alone() -> None:
    assert KINESIS.search_stream_arn is None
    assert "search_documents" not in "\n".join(kinesis_statements(KINESIS))


def test_with_a_search_stream_one_statement_set_feeds_both_sinks_from_one_source() -> None:
    """The search feed is written by the same job: one read of the events stream, two sinks."""
    settings = parse_settings({**SETTINGS_WITH_STREAMS, "search.stream.arn": SEARCH_ARN})
    statements = kinesis_statements(settings)
    assert statements[:6] == kinesis_statements(KINESIS)[:6]  # source, views and the alerts sink unchanged
    assert statements[6].startswith("-- The search feed") and "CREATE TEMPORARY VIEW search_documents" in statements[6]
    sink = options_of(statements[7])
    assert sink == {"connector": "kinesis", "stream.arn": SEARCH_ARN, "aws.region": REGION, "format": "raw"}
    assert statements[8] == (
        "EXECUTE STATEMENT SET\nBEGIN\nINSERT INTO alerts\nSELECT record FROM alert_records;\n"
        "INSERT INTO search_feed\nSELECT document FROM search_documents;\nEND"
    )
    assert sum(s.startswith("CREATE TABLE events") or "CREATE TABLE events" in s for s in statements) == 1


def test_the_search_view_is_rendered_with_the_jobs_markers() -> None:
    settings = parse_settings({"error.markers": '["FATAL"]', "warn.markers": '["slow"]'})
    view = local_statements(settings, Path("/data/e.jsonl"), search=True)[-1]
    assert view.count("(errorMsg LIKE '%FATAL%' ESCAPE '!')") == 2  # the level, and the filter
    assert "(errorMsg LIKE '%slow%' ESCAPE '!')" in view
    assert local_statements(settings, Path("/data/e.jsonl")) == local_statements(settings, Path("/data/e.jsonl"),
                                                                                   search=False)[:5]  # fmt: skip


@pytest.mark.parametrize("bad", ["arn:aws:s3:::bucket", "uba-search-feed", "arn:aws:kinesis:eu-west-1:1:stream/x"])
def test_a_search_stream_that_is_not_a_kinesis_arn_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"search\.stream\.arn"):
        parse_settings({"search.stream.arn": bad})


SETTINGS_WITH_STREAMS = {"events.stream.arn": EVENTS_ARN, "alerts.stream.arn": ALERTS_ARN,
                         "events.consumer.name": CONSUMER}  # fmt: skip
