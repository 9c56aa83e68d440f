"""`uba:bi`: the account's QuickSight, business lines and people, and every rule that refuses a bad one, by key."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from settings import load_settings
from tests.support.config import config_with, problems_for, raw_config


def prod_with(**changes: Any) -> dict[str, Any]:
    return config_with({f"bi.{key}": value for key, value in changes.items()}, "prod")


def test_prod_carries_the_tier_and_dev_keeps_it_off_with_its_section_ready() -> None:
    prod, dev = load_settings(raw_config("prod"), "prod").bi, load_settings(raw_config("dev"), "dev").bi
    assert prod.enabled and not dev.enabled
    assert (prod.import_mode, dev.import_mode) == ("spice", "direct_query")
    assert prod.lines_of(prod.people[0]) == ["biz-shop"]
    assert prod.lines_of(prod.people[1]) == ["biz-news", "biz-shop", "biz-video", "biz-forum"]  # '*'


def test_a_stack_without_a_bi_section_has_the_tier_off() -> None:
    raw = raw_config("prod")
    del raw["bi"]
    assert load_settings(raw, "prod").bi.enabled is False


def test_the_tier_switched_off_needs_nothing_else() -> None:
    raw = raw_config("prod")
    raw["bi"] = {"enabled": False}
    assert load_settings(raw, "prod").bi.enabled is False


PERSON = {"user": "bo.analyst", "role": "reader", "email": "bo@example.com", "business_lines": ["biz-shop"]}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"business_lines": []}, "bi.business_lines: must have at least 1 items"),
        ({"business_lines": [{"biz_id": "biz shop", "title": "Shop"}]},
         "bi.business_lines[0].biz_id: must be a business line id of 1-64 letters, digits and . _ : @ -"),
        ({"business_lines": [{"biz_id": "biz-'shop", "title": "Shop"}]}, "bi.business_lines[0].biz_id: must be"),
        ({"business_lines": [{"biz_id": "a", "title": "A"}, {"biz_id": "a", "title": "B"}]},
         "bi.business_lines: lists a more than once"),
        ({"people": [{**PERSON, "business_lines": ["biz-cars"]}]},
         "bi.people: bo.analyst is granted biz-cars, not in business_lines"),
        ({"people": [{**PERSON, "business_lines": ["*", "biz-shop"]}]},
         "bi.people: bo.analyst lists '*' (every line) beside single lines"),
        ({"people": [{**PERSON, "business_lines": []}]}, "bi.people[0].business_lines: must have at least 1 items"),
        ({"people": [{**PERSON, "email": None}]}, "bi.people: bo.analyst needs an email"),
        ({"people": [PERSON, {**PERSON, "user": "BO.ANALYST"}]}, "bi.people: user BO.ANALYST is listed twice"),
        ({"people": [{**PERSON, "role": "admin"}]}, "bi.people[0].role: must be one of 'reader' or 'author'"),
        ({"people": [{**PERSON, "user": "alice.admin"}]},
         "bi.people: alice.admin is the account's QuickSight admin (quicksight.admin)"),
        ({"quicksight": {"admin": "alice.admin", "identity_region": "useast1"}},
         "bi.quicksight.identity_region: must be an AWS region such as eu-west-1"),
        ({"quicksight": {"namespace": "default"}}, "bi.quicksight.admin: required, but missing"),
        ({"refresh": {"interval": "HOURLY", "time_of_day": "25:00"}},
         "bi.refresh.time_of_day: must be a time of day as HH:MM"),
        ({"lake_window_days": 3}, "bi.lake_window_days: must be >= 7"),
    ],
)  # fmt: skip
def test_bad_bi_settings_are_refused_by_key(changes: dict[str, Any], expected: str) -> None:
    found = problems_for(prod_with(**changes))
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"bi.people": [{**PERSON, "user": "kim"}]}, "bi.people: kim is not in access.staff"),
        ({"bi.people": [{**PERSON, "user": "omar.ops"}]},
         "bi.people: omar.ops is a BI reader, so must be in access.staff group bizUser, but is in op"),
        ({"bi.people": [{**PERSON, "user": "omar.ops", "role": "author"}]},
         "must be in access.staff group bizUser or dev, but is in op"),
        ({"warehouse.enabled": False}, "bi.enabled: needs the warehouse tier"),
    ],
)  # fmt: skip
def test_cross_tier_rules_name_the_staff_entry_or_tier_needed(change: dict[str, Any], expected: str) -> None:
    found = problems_for(config_with(change, "prod"))
    assert any(expected in problem for problem in found), found


def test_an_author_may_be_a_developer_and_people_need_no_access_tier_when_it_is_off() -> None:
    load_settings(prod_with(people=[{**PERSON, "user": "dana.dev", "role": "author"}]), "prod")
    raw = config_with({"access.enabled": False, "bi.people": [{**PERSON, "user": "kim"}]}, "prod")
    raw["platform"] = {**raw["platform"], "production": False}
    raw["access"] = {"enabled": False}
    assert load_settings(raw, "prod").bi.people[0].user == "kim"


def test_an_unregistered_person_needs_no_email() -> None:
    raw = prod_with(people=[{**copy.deepcopy(PERSON), "email": None, "register_user": False}])
    assert load_settings(raw, "prod").bi.people[0].register_user is False
