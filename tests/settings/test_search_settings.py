"""The search tier's settings: off by default, the cross-tier rules, and what a domain may not be."""

from __future__ import annotations

import pytest

from settings import load_settings
from tests.support.config import config_with, problems_for


def test_search_is_off_unless_a_stack_switches_it_on() -> None:
    assert load_settings(config_with({"search": ...}), "dev").search.enabled is False
    prod = load_settings(config_with({}, stack="prod"), "prod").search
    assert prod.enabled and prod.mode == "serverless" and prod.network.access == "vpc"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        # The live tier reads streaming too: off here, so the search tier's own message is the one given.
        ({"search": {"enabled": True}, "live": {"enabled": False},
          "streaming": {"enabled": False, "alerts_stream": {"mode": "on_demand"}}},
         "search.enabled: needs the streaming tier"),
        ({"search": {"enabled": True}, "warehouse": {"enabled": False}},
         "search.enabled: mode serverless with network.access vpc lives in the warehouse VPC, but warehouse is off"),
        ({"search": {"enabled": True, "mode": "domain", "network": {"access": "public"}}},
         "search.network.access: a domain has no public endpoint; it must be vpc"),
        ({"search": {"enabled": True, "network": {"access": "public", "allowed_cidrs": ["10.0.0.0/8"]}}},
         "search.network.allowed_cidrs: only a VPC endpoint or domain has ports to admit"),
        ({"search": {"enabled": True, "network": {"allowed_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]}}},
         "must not together admit every internet address"),
        ({"search": {"enabled": True, "retention_days": 0}}, "search.retention_days"),
        ({"search": {"enabled": True, "feed": {"buffer_seconds": 901}}}, "search.feed.buffer_seconds"),
        ({"search": {"enabled": True, "domain": {"instance_type": "t3.small"}}},
         "an OpenSearch Service instance type such as t3.small.search"),
    ],
)  # fmt: skip
def test_a_search_tier_that_cannot_work_fails_at_synth(changes: dict, problem: str) -> None:
    problems = problems_for(config_with(changes))
    assert any(problem in line for line in problems), problems


def test_a_switched_off_search_tier_needs_nothing_else() -> None:
    settings = load_settings(config_with({"search": {"enabled": False, "mode": "domain"}}), "dev")
    assert settings.search.enabled is False
