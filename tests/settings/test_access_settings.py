"""Staff assignment in `uba:access`: every rule that refuses a bad staff list, by key path."""

from __future__ import annotations

from typing import Any

import pytest

from settings import AccessSettings, SettingsError, load_settings, overlapping_prefixes
from tests.support.config import raw_config
from tools.engine.mocks import available_stacks, load_stack_config


def with_access(stack: str, **changes: Any) -> dict[str, Any]:
    raw = raw_config(stack)
    raw["access"] = {**raw["access"], **changes}
    return raw


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(raw, "test")
    return caught.value.problems


def test_both_stacks_assign_one_person_to_each_group() -> None:
    for stack in ("dev", "prod"):
        staff = load_settings(raw_config(stack), stack).access.staff
        assert {m.user: m.groups for m in staff} == {
            "alice.admin": ["admin"], "omar.ops": ["op"], "dana.dev": ["dev"], "bo.analyst": ["bizUser"],
        }  # fmt: skip
    dev_created = {m.user for m in load_settings(raw_config("dev"), "dev").access.staff if m.create_user}
    assert dev_created == {"dana.dev", "bo.analyst"}


def test_a_person_may_be_in_several_groups_and_users_default_to_existing() -> None:
    raw = with_access("dev", staff=[{"user": "kim", "groups": ["op", "dev", "bizUser"]}])
    member = load_settings(raw, "dev").access.staff[0]
    assert member.groups == ["op", "dev", "bizUser"] and member.create_user is False


@pytest.mark.parametrize(
    ("staff", "expected"),
    [
        # unknown groups, including near misses of the real names
        ([{"user": "kim", "groups": ["ops"]}],
         "access.staff[0].groups[0]: must be one of 'admin', 'op', 'dev' or 'bizUser', got 'ops'"),
        ([{"user": "kim", "groups": ["bizuser"]}], "access.staff[0].groups[0]: must be one of"),
        ([{"user": "kim", "groups": ["Admin"]}], "access.staff[0].groups[0]: must be one of"),
        ([{"user": "kim", "groups": []}], "access.staff[0].groups: must have at least 1 items"),
        ([{"user": "kim", "groups": ["dev", "dev"]}], "access.staff[0].groups: lists a group twice for kim"),
        ([{"user": "kim"}], "access.staff[0].groups: required, but missing"),
        # invalid IAM user names: spaces, slashes, colons, empty, too long
        ([{"user": "kim lee", "groups": ["dev"]}], "access.staff[0].user: must be an IAM user name of 1-64"),
        ([{"user": "team/kim", "groups": ["dev"]}], "access.staff[0].user: must be an IAM user name of 1-64"),
        ([{"user": "kim:1", "groups": ["dev"]}], "access.staff[0].user: must be an IAM user name of 1-64"),
        ([{"user": "", "groups": ["dev"]}], "access.staff[0].user: must be an IAM user name of 1-64"),
        ([{"user": "k" * 65, "groups": ["dev"]}], "access.staff[0].user: must be an IAM user name of 1-64"),
        # duplicates: IAM user names are case-insensitive
        ([{"user": "kim", "groups": ["dev"]}, {"user": "kim", "groups": ["op"]}],
         "access.staff: user kim is listed twice"),
        ([{"user": "Kim", "groups": ["dev"]}, {"user": "kIM", "groups": ["op"]}],
         "access.staff: user kIM is listed twice"),
        # a typo in an entry's keys, and a wrong type for create_user
        ([{"user": "kim", "groups": ["dev"], "create": True}], "access.staff[0].create: unknown key"),
        ([{"user": "kim", "groups": ["dev"], "create_user": "sure"}],
         "access.staff[0].create_user: must be true or false, got 'sure'"),
    ],
)  # fmt: skip
def test_a_bad_staff_entry_is_refused_with_its_position(staff: list[dict[str, Any]], expected: str) -> None:
    found = problems(with_access("dev", staff=staff))
    assert any(p.startswith(expected) for p in found), found


def test_every_bad_entry_is_reported_at_once() -> None:
    staff = [{"user": "a b", "groups": ["dev"]}, {"user": "kim", "groups": ["root"]}]
    found = problems(with_access("dev", staff=staff))
    assert len(found) == 2 and found[0].startswith("access.staff[0].user") and found[1].startswith("access.staff[1]")


def test_valid_iam_user_names_with_every_allowed_character_are_accepted() -> None:
    names = ["a", "k" * 64, "first.last@example.com", "svc+ci=1,x_y-z"]
    settings = AccessSettings.model_validate(
        {"dev_access": "builder", "staff": [{"user": n, "groups": ["dev"]} for n in names]}
    )
    assert [m.user for m in settings.staff] == names


def test_a_production_stack_must_name_an_admin() -> None:
    staff = [{"user": "omar.ops", "groups": ["op"]}, {"user": "dana.dev", "groups": ["dev"]}]
    found = problems(with_access("prod", staff=staff))
    assert found == ["access.staff: a production stack must name at least one admin"]
    assert problems(with_access("prod", staff=[])) == found


def test_a_production_admin_may_share_the_entry_with_other_groups() -> None:
    raw = with_access("prod", staff=[{"user": "kim", "groups": ["op", "admin"]}])
    raw["bi"] = {**raw["bi"], "people": []}  # prod's BI people are staff it no longer lists
    settings = load_settings(raw, "prod")
    assert settings.access.staff[0].groups == ["op", "admin"]


def test_the_admin_rule_does_not_apply_to_a_non_production_stack_or_a_stack_without_access() -> None:
    assert load_settings(with_access("dev", staff=[]), "dev").access.staff == []
    assert not load_settings(with_access("prod", staff=[], enabled=False), "prod").access.enabled


def test_production_developers_are_read_only() -> None:
    found = problems(with_access("prod", dev_access="builder"))
    assert found == ["access.dev_access: must be read_only in a production stack"]
    assert problems(with_access("dev", dev_access="admin"))[0].startswith("access.dev_access: must be one of")


def test_mfa_is_required_unless_switched_off() -> None:
    raw = raw_config("dev")
    del raw["access"]["require_mfa"]
    assert load_settings(raw, "dev").access.require_mfa is True
    assert load_settings(with_access("dev", require_mfa=False), "dev").access.require_mfa is False


def test_no_stack_file_in_the_repository_has_a_prefix_that_extends_another() -> None:
    prefixes = {stack: load_stack_config(stack)["uba:platform"]["prefix"] for stack in available_stacks()}
    assert set(prefixes) == {"dev", "prod"}
    assert overlapping_prefixes(prefixes) == []


def test_a_prefix_that_extends_another_at_a_dash_is_refused_with_both_stacks_named() -> None:
    found = overlapping_prefixes(
        {"prod": "uba-prod", "prod-eu": "uba-prod-eu", "dev": "uba-dev", "x": "uba-production"}
    )
    assert found == [
        "platform.prefix: stack prod-eu's 'uba-prod-eu' extends stack prod's 'uba-prod'; choose prefixes "
        "where neither starts with the other followed by '-'"
    ]
    assert len(overlapping_prefixes({"a": "uba-dev", "b": "uba-dev"})) == 1  # the same prefix twice
