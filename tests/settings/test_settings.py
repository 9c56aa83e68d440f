"""Settings: both stack files load, and every class of bad config is refused by key path."""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

import pytest

from settings import LOG_RETENTION_DAYS, Settings, SettingsError, load_settings
from tests.support.config import config_with, problems_for, raw_config
from tools.engine.mocks import available_stacks


def with_change(path: str, value: Any, stack: str = "dev") -> dict[str, Any]:
    """The stack's config with one key (dotted path) set; value `...` deletes the key."""
    return config_with({path: value}, stack)


def test_both_stack_files_exist_and_load() -> None:
    assert {"dev", "prod"} <= set(available_stacks())
    dev, prod = (load_settings(raw_config(s), s) for s in ("dev", "prod"))
    assert isinstance(dev, Settings) and isinstance(prod, Settings)
    assert dev.platform.prefix == "uba-dev" and prod.platform.prefix == "uba-prod"
    assert not dev.platform.protect_stateful and prod.platform.protect_stateful
    assert dev.ingest.stream.mode == "on_demand"
    assert prod.ingest.stream.mode == "provisioned" and prod.ingest.stream.shard_count == 4


def test_settings_are_frozen() -> None:
    settings = load_settings(raw_config("dev"), "dev")
    with pytest.raises(ValueError, match="frozen"):
        settings.platform.prefix = "other"


def test_powertools_version_in_stacks_matches_the_version_tests_pin() -> None:
    installed = version("aws-lambda-powertools")
    for stack in ("dev", "prod"):
        assert load_settings(raw_config(stack), stack).platform.powertools_version == installed


def test_default_tags_include_the_required_keys() -> None:
    tags = load_settings(raw_config("prod"), "prod").platform.tags
    assert tags == {
        "Project": "uba",
        "Environment": "prod",
        "Owner": "analytics-platform",
        "CostCenter": "CC-1042",
    }


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        # unknown key (a typo) at several depths
        ("platform.prefx", "x", "platform.prefx: unknown key"),
        ("ingest.stream.shards", 2, "ingest.stream.shards: unknown key"),
        ("access.staff.0.group", ["dev"], "access.staff[0].group: unknown key"),
        # wrong type
        ("ingest.api.rate_limit_rps", "fast", "ingest.api.rate_limit_rps: must be a number, got 'fast'"),
        (
            "platform.protect_stateful",
            "maybe",
            "platform.protect_stateful: must be true or false, got 'maybe'",
        ),
        ("lake.firehose", 64, "lake.firehose: must be a mapping of settings, got 64"),
        # out of range
        ("ingest.stream.retention_hours", 12, "ingest.stream.retention_hours: must be >= 24, got 12"),
        ("ingest.stream.retention_hours", 9000, "ingest.stream.retention_hours: must be <= 8760, got 9000"),
        ("ingest.function.timeout_seconds", 60, "ingest.function.timeout_seconds: must be <= 29, got 60"),
        ("platform.log_retention_days", 13, "platform.log_retention_days: must be one of"),
        (
            "lake.athena_bytes_scanned_cutoff",
            1,
            "lake.athena_bytes_scanned_cutoff: must be >= 10485760, got 1",
        ),
        ("lake.firehose.buffer_mb", 32, "lake.firehose.buffer_mb: must be >= 64, got 32"),
        (
            "warehouse.serverless.base_capacity_rpu",
            12,
            "warehouse.serverless.base_capacity_rpu: must be a multiple",
        ),
        ("platform.prefix", "UBA_dev", "platform.prefix: must be 3-20 lowercase letters"),
        ("platform.powertools_version", "latest", "platform.powertools_version: must be a Powertools 3 release"),
        (
            "warehouse.refresh.schedule_expression",
            "hourly",
            "warehouse.refresh.schedule_expression: must be an EventBridge Scheduler expression",
        ),
        # missing required key
        ("ingest.api", ..., "ingest.api: required, but missing"),
        ("platform.owner", ..., "platform.owner: required, but missing"),
    ],
)
def test_bad_values_are_refused_with_the_key_path(path: str, value: Any, expected: str) -> None:
    problems = problems_for(with_change(path, value))
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"ingest.stream.mode": "provisioned"}, "ingest.stream.shard_count: required when mode is provisioned"),
        ({"ingest.stream.shard_count": 2}, "ingest.stream.shard_count: must be omitted when mode is on_demand"),
        ({"ingest.stream.shard_count": 0, "ingest.stream.mode": "provisioned"},
         "ingest.stream.shard_count: must be >= 1, got 0"),
        ({"lake.lifecycle.glacier_after_days": 30}, "lake.lifecycle.glacier_after_days: must be after"),
        ({"lake.lifecycle.expire_after_days": 40}, "lake.lifecycle.expire_after_days: must be after"),
        ({"warehouse.serverless.max_capacity_rpu": 8, "warehouse.serverless.base_capacity_rpu": 16},
         "warehouse.serverless.max_capacity_rpu: must be >= base_capacity_rpu"),
        ({"warehouse.mode": "provisioned"}, "warehouse.provisioned: required when mode is provisioned"),
        ({"warehouse.network.existing_vpc_id": "vpc-0abc"}, "warehouse.network.existing_subnet_ids: an existing VPC"),
        ({"warehouse.network.existing_vpc_id": "vpc-0abc", "warehouse.network.existing_subnet_ids": ["subnet-1"]},
         "warehouse.network.existing_subnet_ids: serverless Redshift needs 3 subnets"),
        ({"warehouse.network.allowed_cidrs": ["0.0.0.0/0"]}, "warehouse.network.allowed_cidrs: 0.0.0.0/0"),
        ({"streaming.detection.error_markers": []}, "streaming.detection.error_markers: must list at least one"),
        ({"platform.extra_tags": {"Owner": "me"}}, "platform.extra_tags: must not redefine"),
        # a switched-off tier that another tier needs
        ({"ingest.enabled": False}, "streaming.enabled: needs the ingest tier"),
        ({"lake.enabled": False}, "warehouse.enabled: needs the lake tier"),
        ({"ingest.enabled": False, "streaming.enabled": False, "lake.enabled": False, "warehouse.enabled": False},
         "edge.enabled: needs the ingest tier"),
        ({"edge.allowed_origins": ["https://a.example.com", "https://a.example.com"]},
         "edge.allowed_origins: lists an origin twice"),
        ({"edge.beacon_path": "/events"}, "edge.beacon_path: must not be /events"),
        ({"edge.waf.enabled": True, "edge.waf.managed_rule_groups": ["AWSManagedRulesCommonRuleSet"] * 2},
         "edge.waf.managed_rule_groups: lists a rule group twice"),
    ],
)  # fmt: skip
def test_cross_field_rules_are_refused_with_the_key_path(changes: dict[str, Any], expected: str) -> None:
    problems = problems_for(config_with(changes))
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_is_reported_at_once_not_just_the_first() -> None:
    raw = with_change("ingest.stream.retention_hours", 1)
    raw["platform"]["log_retention_days"] = 2
    raw["lake"]["typo"] = True
    problems = problems_for(raw)
    assert len(problems) == 3, problems


def test_switching_a_tier_off_that_nothing_needs_is_allowed() -> None:
    raw = with_change("streaming.enabled", False)
    raw["warehouse"]["enabled"] = False
    raw["live"]["enabled"] = False  # the live tier reads streaming's table
    settings = load_settings(raw, "dev")
    assert not settings.streaming.enabled and not settings.warehouse.enabled and settings.lake.enabled


def test_log_retention_accepts_exactly_the_cloudwatch_values() -> None:
    for days in LOG_RETENTION_DAYS:
        load_settings(with_change("platform.log_retention_days", days), "dev")


def test_error_message_is_readable_not_a_pydantic_dump() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(with_change("ingest.stream.retention_hours", 1), "dev")
    message = str(caught.value)
    assert message.startswith("invalid config for stack 'test'") or "invalid config for stack" in message
    assert "pydantic" not in message and "errors.pydantic.dev" not in message
    assert "ingest.stream.retention_hours: must be >= 24, got 1" in message
