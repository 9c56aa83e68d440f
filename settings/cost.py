"""`uba:cost`: what a stack may spend (its AWS Budgets budget), and Cost Anomaly Detection where the account allows.

The cost tier (`components/cost.py`) builds from these; `python -m tools.cost` estimates what a stack
costs, to set the budget from. Which of these AWS allows in which account (management, standalone
or member) is in the README, "Budgets and cost alerts".
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from settings.base import Model, TierSettings

# AWS Budgets takes at most five notifications per budget (Budgets quotas).
BUDGET_NOTIFICATIONS_MAX = 5
AlertPercent = Annotated[float, Field(gt=0, le=1000)]


class BudgetSettings(Model):
    monthly_usd: float = Field(gt=0, le=10_000_000)
    """Monthly budget in US dollars for the costs that carry this stack's cost allocation tag."""
    actual_alert_percent: list[AlertPercent] = Field(default_factory=lambda: [80.0, 100.0])
    """Notify the ops topic when this month's actual spend passes each of these percentages of the budget."""
    forecast_alert_percent: list[AlertPercent] = Field(default_factory=lambda: [100.0])
    """Notify the ops topic when AWS forecasts the month to end above each of these percentages: before the bill."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        for key in ("actual_alert_percent", "forecast_alert_percent"):
            values = getattr(self, key)
            if len(set(values)) != len(values):
                raise ValueError(f"{key}: lists a percentage twice, got {values}")
        count = len(self.actual_alert_percent) + len(self.forecast_alert_percent)
        if count == 0:
            raise ValueError("actual_alert_percent: a budget that notifies nobody warns nobody; list at least one")
        if count > BUDGET_NOTIFICATIONS_MAX:
            raise ValueError(
                f"forecast_alert_percent: AWS Budgets takes at most {BUDGET_NOTIFICATIONS_MAX} notifications a "
                f"budget, got {count} (actual and forecast together)"
            )
        return self


class AnomalyDetectionSettings(Model):
    enabled: bool = Field(
        default=False,
        description="A Cost Anomaly Detection monitor on the stack's cost allocation tag, alerting the ops topic. "
        "AWS lets only an organization's management account (or an account outside any organization) create a "
        "monitor on a tag.",
    )
    alert_above_usd: float = Field(default=50.0, gt=0, le=1_000_000)
    """Alert when an anomaly's total cost impact reaches this many US dollars."""


class CostSettings(TierSettings):
    enabled: bool = True
    """Build the cost tier (the budget, anomaly detection, cost allocation tags)."""
    allocation_tag: str = Field(
        default="Environment",
        description="The platform tag whose value marks this stack's costs; the budget and the anomaly monitor "
        "filter on it. One of the stack's tags (`Project`, `Environment`, `Owner`, `CostCenter` or an `extra_tags` "
        "key), with a value no other stack in the account shares.",
    )
    budget: BudgetSettings | None = None
    """The AWS Budgets budget; required when the tier is on."""
    anomaly_detection: AnomalyDetectionSettings = AnomalyDetectionSettings()
    """Cost Anomaly Detection (off by default: management or standalone accounts only)."""
    manage_cost_allocation_tags: bool = Field(
        default=False,
        description="This stack activates the platform's tags as cost allocation tags for the whole payer account, "
        "which budgets and anomaly monitors need before they can filter on a tag; it leaves them active when "
        "destroyed. AWS allows it only in an organization's management account or an account outside any "
        "organization, and only once the keys appear in billing data (up to 24 hours after the first tagged "
        "resource). One stack per payer account sets this; in a member account the management account activates "
        "the tags.",
    )

    def check_when_on(self) -> None:
        if self.budget is None:
            raise ValueError("budget: required when the cost tier is on (set budget.monthly_usd, or enabled: false)")
