"""Runtime properties of the Flink job: defaults, parsing, and clear errors for bad values."""

from __future__ import annotations

import json
import re

import pytest

from streaming.properties import (
    DEFAULT_ERROR_MARKERS,
    DEFAULT_WARN_MARKERS,
    PROPERTIES,
    PROPERTY_GROUP_ID,
    RUN_OPTIONS_GROUP_ID,
    PropertyError,
    parse_settings,
    property_groups,
    read_property_groups,
    settings_from_groups,
)

EVENTS_ARN = "arn:aws:kinesis:eu-central-1:123456789012:stream/uba-dev-events"
ALERTS_ARN = "arn:aws:kinesis:eu-central-1:123456789012:stream/uba-dev-alerts"
CONSUMER = "uba-dev-anomaly-detection"
STREAMS = {"events.stream.arn": EVENTS_ARN, "alerts.stream.arn": ALERTS_ARN, "events.consumer.name": CONSUMER}


def test_defaults_are_the_ported_queries_meaning():
    settings = parse_settings({})
    assert settings.window_seconds == 60
    assert settings.warn_threshold == 10
    assert settings.error_markers == ("[PANIC]", "[panic]", "[ERROR]", "[error]") == DEFAULT_ERROR_MARKERS
    assert settings.warn_markers == ("WARNNING", "warnning", "WARNING", "warning") == DEFAULT_WARN_MARKERS
    assert settings.watermark_seconds == 5
    assert settings.source_init_position == "LATEST"


def test_every_documented_key_has_a_description():
    assert all(spec.description for spec in PROPERTIES.values())


def test_values_override_defaults():
    settings = parse_settings(
        {
            "window.seconds": "120",
            "warn.threshold": " 25 ",
            "watermark.seconds": "0",
            "error.markers": json.dumps(["FATAL", "FATAL"]),
            "source.init.position": "trim_horizon",
        }
    )
    assert (settings.window_seconds, settings.warn_threshold, settings.watermark_seconds) == (120, 25, 0)
    assert settings.error_markers == ("FATAL",)  # a repeat adds nothing
    assert settings.source_init_position == "TRIM_HORIZON"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("warn.threshold", "ten", "uba.warn.threshold='ten' is not a whole number"),
        ("warn.threshold", "0", "uba.warn.threshold=0 is out of range; allowed 1..1000000"),
        ("window.seconds", "1.5", "uba.window.seconds='1.5' is not a whole number"),
        ("window.seconds", "864000", "uba.window.seconds=864000 is out of range; allowed 1..86400"),
        ("watermark.seconds", "-1", "uba.watermark.seconds=-1 is out of range"),
        ("error.markers", "[ERROR]", "uba.error.markers='[ERROR]' is not a JSON array of strings"),
        ("error.markers", "[]", "must be a non-empty JSON array of strings"),
        ("warn.markers", '"WARNING"', "must be a non-empty JSON array of strings"),
        ("warn.markers", '["WARNING", ""]', "every marker must be a non-empty string"),
        ("warn.markers", '["WARNING", 3]', "has 3; every marker must be a non-empty string"),
        ("error.markers", json.dumps(["x" * 1025]), "a marker of 1025 characters; at most 1024"),
        ("source.init.position", "EARLIEST", "allowed: LATEST, TRIM_HORIZON"),
        ("events.stream.arn", "uba-dev-events", "is not a Kinesis stream ARN"),
        ("alerts.stream.arn", "arn:aws:sqs:eu-central-1:123456789012:q", "is not a Kinesis stream ARN"),
        ("aws.region", "Frankfurt", "uba.aws.region='Frankfurt' is not an AWS region name"),
    ],
)
def test_bad_values_name_the_key_and_what_is_allowed(key, value, message):
    with pytest.raises(PropertyError) as raised:
        parse_settings({key: value})
    assert message in str(raised.value)


def test_an_unknown_key_is_an_error_that_lists_the_allowed_ones():
    with pytest.raises(PropertyError) as raised:
        parse_settings({"window.second": "60"})
    assert "unknown key(s) in property group 'uba': window.second" in str(raised.value)
    assert "window.seconds" in str(raised.value)


def test_a_non_string_value_is_an_error():
    with pytest.raises(PropertyError, match=re.escape("uba.warn.threshold must be a string, got int 10")):
        parse_settings({"warn.threshold": 10})  # type: ignore[dict-item]


def test_region_defaults_to_the_events_stream_region():
    settings = parse_settings(STREAMS)
    assert settings.require_streams() == (EVENTS_ARN, ALERTS_ARN, "eu-central-1")
    explicit = parse_settings({**STREAMS, "aws.region": "us-east-1"})
    assert explicit.aws_region == "us-east-1"


def test_running_against_kinesis_needs_both_streams_and_the_fan_out_consumer():
    with pytest.raises(
        PropertyError,
        match=re.escape("needs events.stream.arn, alerts.stream.arn, events.consumer.name to run against Kinesis"),
    ):
        parse_settings({}).require_streams()
    with pytest.raises(PropertyError, match=re.escape("needs alerts.stream.arn, events.consumer.name")):
        parse_settings({"events.stream.arn": EVENTS_ARN}).require_streams()
    # Without a consumer the source would poll; there is no such fallback.
    with pytest.raises(PropertyError, match=re.escape("needs events.consumer.name")):
        parse_settings({"events.stream.arn": EVENTS_ARN, "alerts.stream.arn": ALERTS_ARN}).require_consumer()
    assert parse_settings(STREAMS).require_consumer() == CONSUMER


@pytest.mark.parametrize("name", ["", "has space", "x" * 129, "a/b"])
def test_a_consumer_name_kinesis_would_refuse_is_an_error(name):
    if not name:
        assert parse_settings({"events.consumer.name": name}).events_consumer_name is None
        return
    with pytest.raises(PropertyError, match="is not a Kinesis consumer name"):
        parse_settings({"events.consumer.name": name})


def test_the_future_bound_of_event_time_has_a_default_and_a_range():
    assert parse_settings({}).max_future_seconds == 300
    assert parse_settings({"event-time.max-future.seconds": "0"}).max_future_seconds == 0
    with pytest.raises(PropertyError, match=re.escape("uba.event-time.max-future.seconds=86401 is out of range")):
        parse_settings({"event-time.max-future.seconds": "86401"})


def test_managed_flink_properties_file_is_read_by_group(tmp_path):
    path = tmp_path / "application_properties.json"
    path.write_text(
        json.dumps(
            [
                {"PropertyGroupId": RUN_OPTIONS_GROUP_ID, "PropertyMap": {"python": "streaming/main.py"}},
                {
                    "PropertyGroupId": "uba",
                    "PropertyMap": {"events.stream.arn": EVENTS_ARN, "warn.threshold": "20"},
                },
            ]
        )
    )
    groups = read_property_groups(path)
    assert groups[PROPERTY_GROUP_ID] == {"events.stream.arn": EVENTS_ARN, "warn.threshold": "20"}
    settings = settings_from_groups(
        groups, {"warn.threshold": "3", "alerts.stream.arn": ALERTS_ARN, "events.consumer.name": CONSUMER}
    )
    assert settings.warn_threshold == 3  # a local override wins over the file
    assert settings.require_streams() == (EVENTS_ARN, ALERTS_ARN, "eu-central-1")


def test_a_missing_properties_file_means_defaults(tmp_path):
    assert read_property_groups(tmp_path / "absent.json") == {}
    assert settings_from_groups({}, {}).window_seconds == 60


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"PropertyGroupId": "uba"}', "must hold a JSON array of property groups"),
        ('[{"PropertyMap": {}}]', "entry 0 has no PropertyGroupId"),
        ('[{"PropertyGroupId": "uba", "PropertyMap": []}]', "PropertyMap of group 'uba' is not an object"),
    ],
)
def test_a_malformed_properties_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "application_properties.json"
    path.write_text(content)
    with pytest.raises(PropertyError, match=message):
        read_property_groups(path)


def test_property_groups_for_pulumi_carry_every_value_and_the_run_options():
    groups = property_groups(
        {**STREAMS, "warn.threshold": "20"},
        python_entry="streaming/main.py",
        jarfile="streaming/lib/connector.jar",
    )
    uba, run_options = groups
    assert uba["property_group_id"] == "uba"
    assert uba["property_map"]["warn.threshold"] == "20"
    assert uba["property_map"]["window.seconds"] == "60"  # defaults written out
    assert parse_settings(uba["property_map"]).require_streams()[0] == EVENTS_ARN  # round-trips
    assert run_options == {
        "property_group_id": "kinesis.analytics.flink.run.options",
        "property_map": {"python": "streaming/main.py", "jarfile": "streaming/lib/connector.jar"},
    }


def test_property_groups_refuse_a_bad_stack_setting_before_deploy():
    with pytest.raises(PropertyError, match=re.escape("uba.warn.threshold=0 is out of range")):
        property_groups(
            {**STREAMS, "warn.threshold": "0"},
            python_entry="streaming/main.py",
            jarfile="streaming/lib/connector.jar",
        )
    with pytest.raises(PropertyError, match=re.escape("needs events.stream.arn, alerts.stream.arn")):
        property_groups({}, python_entry="streaming/main.py", jarfile="streaming/lib/connector.jar")
