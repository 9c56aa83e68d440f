"""Settings errors guide a newcomer: misspellings are matched to what was meant, values are explained in words,
a tier switched off asks for nothing else, and a broken stack file is located by line and column."""

from __future__ import annotations

import re
import shutil
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, StringConstraints

from settings import TIER_KEYS, Settings, load_settings
from settings.base import Matching, TierSettings
from tests.support.config import config_with, problems_for, raw_config
from tests.support.harness import run_stack
from tools.engine.mocks import PROJECT_DIR, ProgramError, load_stack_config, run_isolated


def models_below(model: type[BaseModel]) -> set[type[BaseModel]]:
    """`model` and every settings model reachable from its fields."""
    found = {model}
    for field in model.model_fields.values():
        for argument in _arguments(field.annotation):
            if isinstance(argument, type) and issubclass(argument, BaseModel) and argument not in found:
                found |= models_below(argument)
    return found


def _arguments(annotation: Any) -> list[Any]:
    return [annotation, *(a for argument in typing.get_args(annotation) for a in _arguments(argument))]


TIERS = {key: Settings.model_fields[key].annotation for key in TIER_KEYS}
SWITCHABLE = {key: model for key, model in TIERS.items() if isinstance(model, type) and issubclass(model, TierSettings)}


# --- misspellings ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # an optional section: refused, with the section meant and every section there is
        ({"observabilty": {"dashboard": True}, "observability": ...},
         "uba:observabilty: unknown section; did you mean uba:observability? Sections: uba:platform, uba:ingest, "),
        # a required section: one line, the missing section and the misspelling that was meant for it
        ({"platfrom": "<platform>", "platform": ...},
         "uba:platform: required, but missing; 'uba:platfrom' looks like a misspelling of it"),
        ({"ingest.strem": "<ingest.stream>", "ingest.stream": ...},
         "ingest.stream: required, but missing; 'strem' looks like a misspelling of it"),
        # an optional key: the key meant, and the keys allowed there
        ({"streaming.flink.paralelism": 2},
         "streaming.flink.paralelism: unknown key; did you mean 'parallelism'? Allowed keys: parallelism, "
         "parallelism_per_kpu, autoscaling, checkpoint_interval_ms, snapshots"),
        # a different case or a dash for an underscore is still the key meant
        ({"lake.Versioning": True}, "lake.Versioning: unknown key; did you mean 'versioning'?"),
        ({"platform.log-retention-days": 14},
         "platform.log-retention-days: unknown key; did you mean 'log_retention_days'?"),
        # nothing alike: the allowed keys alone
        ({"ingest.api.colour": "red"},
         "ingest.api.colour: unknown key. Allowed keys: authorization, rate_limit_rps, burst_limit, daily_quota, "),
        ({"kitchen": {}}, "uba:kitchen: unknown section. Sections: uba:platform, "),
    ],
)  # fmt: skip
def test_a_misspelt_key_is_matched_to_the_key_meant(changes: dict[str, Any], expected: str) -> None:
    raw = raw_config("dev")
    moved = {path: _value_at(raw, value[1:-1]) if isinstance(value, str) and value.startswith("<") else value
             for path, value in changes.items()}  # fmt: skip
    found = problems_for(config_with(moved, raw=raw))
    assert any(p.startswith(expected) for p in found), found
    assert len(found) == 1, f"one mistake, one line: {found}"


def _value_at(raw: dict[str, Any], path: str) -> Any:
    node: Any = raw
    for part in path.split("."):
        node = node[part]
    return node


def test_a_misspelt_section_in_a_stack_file_stops_the_program_before_anything_is_planned() -> None:
    # The program reads every `uba:` key of the stack, not only the sections it knows.
    observability = load_stack_config("dev")["uba:observability"]
    with pytest.raises(ProgramError) as caught:
        run_isolated("dev", overrides={"uba:observability": None, "uba:observabilty": observability})
    assert "uba:observabilty: unknown section; did you mean uba:observability?" in str(caught.value)
    assert "Traceback" not in str(caught.value)


# --- values explained in words -----------------------------------------------------------------------------


def test_no_setting_is_constrained_by_a_bare_regular_expression() -> None:
    # A pattern's refusal would print the expression itself; `Matching` says what it accepts in words.
    bare = [
        f"{model.__name__}.{name}"
        for model in models_below(Settings)
        for name, field in model.model_fields.items()
        for argument in _arguments(field.annotation) + list(field.metadata)
        for item in (typing.get_args(argument)[1:] if typing.get_origin(argument) is typing.Annotated else [argument])
        if isinstance(item, StringConstraints) and item.pattern is not None
    ]
    assert bare == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("platform.ops_alarm_emails", ["ops-at-example.com"],
         "platform.ops_alarm_emails[0]: must be an email address such as ops@example.com, got 'ops-at-example.com'"),
        ("edge.allowed_origins", ["https://www.example.com/"],
         "edge.allowed_origins[0]: must be an https origin such as https://www.example.com (or http://localhost:PORT)"),
        ("edge.domain", {"name": "Collect.Example.com", "hosted_zone_id": "Z0123456789ABC"},
         "edge.domain.name: must be a lowercase host name such as collect.example.com, got 'Collect.Example.com'"),
        ("edge.domain", {"name": "collect.example.com", "hosted_zone_id": "zone-1"},
         "edge.domain.hosted_zone_id: must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ"),
        ("edge.beacon_path", "/a/b", "edge.beacon_path: must be a path of one segment such as /collect"),
        ("streaming.sink.business_alert_emails", ["a@b"],
         "streaming.sink.business_alert_emails[0]: must be an email address such as ops@example.com, got 'a@b'"),
        ("warehouse.network.allowed_cidrs", ["10.0.0.0/33"],
         "warehouse.network.allowed_cidrs[0]: must be an IPv4 network such as 10.0.0.0/16"),
        ("warehouse.network.existing_vpc_id", "vpc-XYZ",
         "warehouse.network.existing_vpc_id: must be a VPC id such as "),
        ("platform.environment", "Dev", "platform.environment: must be 2-12 lowercase letters and digits"),
    ],
)  # fmt: skip
def test_a_refused_value_is_explained_in_words(path: str, value: Any, expected: str) -> None:
    found = problems_for(config_with({path: value}))
    assert any(p.startswith(expected) for p in found), found
    assert not any(re.search(r"\^|\$|\\[sd]|\[\^", p) for p in found), f"a regular expression in {found}"


def test_every_pattern_setting_explains_what_it_accepts() -> None:
    described = [
        item
        for model in models_below(Settings)
        for field in model.model_fields.values()
        for argument in _arguments(field.annotation) + list(field.metadata)
        for item in (typing.get_args(argument)[1:] if typing.get_origin(argument) is typing.Annotated else [argument])
        if isinstance(item, Matching)
    ]
    assert described, "the settings have constrained text"
    for matching in described:
        assert not re.search(r"[\^$\\]", matching.description), matching


# --- tiers switched off ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(SWITCHABLE))
def test_a_tier_switched_off_needs_no_other_setting(key: str) -> None:
    raw = config_with({key: {"enabled": False}})
    # Switching a tier off may leave a tier that needs it without its input: switch those off too.
    dependents = {
        "ingest": ("edge", "streaming", "lake", "warehouse", "live"),
        "lake": ("warehouse",),
        "streaming": ("live",),
    }
    for dependent in dependents.get(key, ()):
        raw[dependent] = {"enabled": False}
    settings = load_settings(raw, "dev")
    assert getattr(settings, key).enabled is False


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"enabled": False, "alerts_stream": {"mode": "sometimes"}},
         "streaming.alerts_stream.mode: must be one of 'on_demand' or 'provisioned', got 'sometimes'"),
        ({"enabled": False, "flink": {"parallelism": 0}}, "streaming.flink.parallelism: must be >= 1, got 0"),
        ({"enabled": False, "sinks": {}}, "streaming.sinks: unknown key; did you mean 'sink'?"),
    ],
)  # fmt: skip
def test_settings_left_beside_enabled_false_are_still_checked(section: dict[str, Any], expected: str) -> None:
    found = problems_for(config_with({"streaming": section}))
    assert any(p.startswith(expected) for p in found), found


def test_a_switched_off_tier_skips_its_cross_field_rules_until_it_is_on() -> None:
    # `serverless` is required in serverless mode: for a warehouse that is on, not one that is off.
    off = load_settings(config_with({"warehouse": {"enabled": False, "mode": "serverless"}}), "dev")
    assert off.warehouse.enabled is False
    found = problems_for(config_with({"warehouse": {"enabled": True, "mode": "serverless"}}))
    assert "warehouse.serverless: required when mode is serverless" in found


def test_tiers_write_their_cross_field_rules_where_a_switched_off_tier_skips_them() -> None:
    # A model validator of a tier's own would run for a switched-off tier too, whose required keys may be absent.
    for model in SWITCHABLE.values():
        validators = model.__pydantic_decorators__.model_validators
        own = [name for name, v in validators.items() if v.info.mode == "after" and name != "_check_when_on"]
        assert own == [], f"{model.__name__} checks {own} in a model validator: move them to check_when_on()"


def test_the_program_builds_a_stack_with_a_tier_switched_off_by_one_key() -> None:
    run = run_stack("dev", overrides={"uba:streaming": {"enabled": False}, "uba:live": {"enabled": False}})
    assert not [r for r in run.resources if r.type == "uba:streaming:Streaming"]


# --- a broken stack file ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("config:\n  uba:ingest: [oops\n  uba:lake: {}\n",
         "Pulumi.broken.yaml:3:11: not valid YAML: expected ',' or ']', but got ':' (in a flow sequence from 2:15)"),
        ("config:\n  uba:platform:\n\tprefix: x\n",
         "Pulumi.broken.yaml:3:1: not valid YAML: found character '\\t' that cannot start any token"),
        ('config:\n  uba:platform:\n    prefix: "x\n',
         "Pulumi.broken.yaml:4:1: not valid YAML: found unexpected end of stream (in a quoted scalar from 3:13)"),
        ("- config\n", "Pulumi.broken.yaml: must be a YAML mapping (e.g. `config:` at the top), got list"),
        ("config: [a]\n", "Pulumi.broken.yaml: `config:` must be a mapping of keys such as uba:platform"),
    ],
)  # fmt: skip
def test_a_broken_stack_file_is_one_line_naming_the_file_line_and_column(
    tmp_path: Path, text: str, expected: str
) -> None:
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.broken.yaml").write_text(text)
    with pytest.raises(ProgramError) as caught:
        load_stack_config("broken", tmp_path)
    assert str(caught.value) == expected
