"""`uba:cost`: a budget when the tier is on, thresholds AWS Budgets takes, a tag the stack really carries."""

from __future__ import annotations

from typing import Any

import pytest

from settings import load_settings
from tests.support.config import config_with, problems_for, raw_config


def test_a_stack_file_without_uba_cost_has_the_tier_off_and_needs_nothing_else() -> None:
    raw = raw_config("dev")
    raw.pop("cost")
    assert load_settings(raw, "dev").cost.enabled is False
    assert load_settings(config_with({"cost": {"enabled": False}}), "dev").cost.budget is None


def test_an_extra_tag_may_mark_the_stacks_costs() -> None:
    raw = config_with({"platform.extra_tags": {"Stack": "uba-dev"}, "cost.allocation_tag": "Stack"})
    assert load_settings(raw, "dev").cost.allocation_tag == "Stack"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"cost.budget": ...},
         "cost.budget: required when the cost tier is on (set budget.monthly_usd, or enabled: false)"),
        ({"cost.allocation_tag": "Team"},
         "cost.allocation_tag: must be one of the stack's tags ['CostCenter', 'Environment', 'Owner', 'Project'], "
         "got 'Team'"),
        ({"cost.budget.monthly_usd": 0}, "cost.budget.monthly_usd: must be > 0.0, got 0"),
        ({"cost.budget.actual_alert_percent": [80, 80]},
         "cost.budget.actual_alert_percent: lists a percentage twice, got [80.0, 80.0]"),
        ({"cost.budget.actual_alert_percent": [10, 20, 30, 40, 50]},
         "cost.budget.forecast_alert_percent: AWS Budgets takes at most 5 notifications a budget, got 6 (actual and "
         "forecast together)"),
        ({"cost.budget.actual_alert_percent": [], "cost.budget.forecast_alert_percent": []},
         "cost.budget.actual_alert_percent: a budget that notifies nobody warns nobody; list at least one"),
        ({"cost.budget.actual_alert_percent": [0]}, "cost.budget.actual_alert_percent[0]: must be > 0.0, got 0"),
        ({"cost.budget.forecast_alert_percent": [1001]},
         "cost.budget.forecast_alert_percent[0]: must be <= 1000.0, got 1001"),
        ({"cost.budget.montly_usd": 5},
         "cost.budget.montly_usd: unknown key; did you mean 'monthly_usd'? Allowed keys: monthly_usd, "
         "actual_alert_percent, forecast_alert_percent"),
        ({"cst": {"budget": {"monthly_usd": 5}}},
         "uba:cst: unknown section; did you mean uba:cost? Sections: uba:platform, uba:ingest, uba:edge, "
         "uba:streaming, uba:lake, uba:warehouse, uba:access, uba:observability, uba:bi, uba:cost, uba:live"),
        # Switched off, the tier needs nothing else, but what is left in place is still checked.
        ({"cost": {"enabled": False, "budget": {"monthly_usd": 0}}}, "cost.budget.monthly_usd: must be > 0.0, got 0"),
        ({"cost.anomaly_detection.alert_above_usd": -1},
         "cost.anomaly_detection.alert_above_usd: must be > 0.0, got -1"),
        ({"cost.manage_cost_allocation_tags": "maybe"},
         "cost.manage_cost_allocation_tags: must be true or false, got 'maybe'"),
    ],
)  # fmt: skip
def test_cost_settings_aws_would_refuse_or_that_would_alert_nobody_are_refused(
    changes: dict[str, Any], problem: str
) -> None:
    assert problems_for(config_with(changes)) == [problem]
