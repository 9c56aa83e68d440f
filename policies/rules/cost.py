"""A stack says what it may cost, and its budget tells someone before the bill does.

The cost tier (`components/cost.py`, `uba:cost` in the stack file) creates an AWS Budgets budget per
stack. A stack without one gets an advisory warning (a sandbox may choose to go without); a budget
that notifies nobody is refused outright, since it can only be found by someone already looking.
"""

from __future__ import annotations

from typing import Final

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import ADVISORY, MANDATORY, UNKNOWN, as_list, for_types, is_set, label_of, lookup, of_type, plain

BUDGET: Final = "aws:budgets/budget:Budget"


def check_stack_has_budget(args: StackValidationArgs, report: ReportViolation) -> None:
    if of_type(args, BUDGET):
        return
    report(
        "This stack has no AWS Budgets budget, so nothing warns before its bill grows: add `uba:cost` with "
        "`budget.monthly_usd` to the stack file (estimate it with `python -m tools.cost <stack>`; README, "
        "'What it costs').",
        None,
    )


def _subscribers(notification: object) -> list[object]:
    if not isinstance(notification, dict):
        return []
    topics = as_list(plain(notification.get("subscriberSnsTopicArns")))
    emails = as_list(plain(notification.get("subscriberEmailAddresses")))
    return [*topics, *emails]


@for_types(BUDGET)
def check_budget_notifies(args: ResourceValidationArgs, report: ReportViolation) -> None:
    notifications = plain(lookup(args.props, "notifications"))
    if notifications is UNKNOWN:
        return
    reached = [n for n in as_list(notifications) if any(is_set(s) for s in _subscribers(n))]
    if not reached:
        report(
            f"AWS Budgets budget {label_of(args)} notifies nobody: give it notifications with "
            f"subscriber_sns_topic_arns (the ops topic, as components.cost.budget_notifications does) at the "
            f"actual and forecast thresholds of `uba:cost.budget`.",
            None,
        )


POLICIES: Final = [
    # Advisory: a throwaway stack may go without; the warning makes that a visible choice.
    StackValidationPolicy(
        name="stack-has-budget",
        description="Every stack has an AWS Budgets budget (the cost tier's).",
        enforcement_level=ADVISORY,
        validate=check_stack_has_budget,
    ),
    ResourceValidationPolicy(
        name="budget-notifies",
        description="Every AWS Budgets budget notifies at least one subscriber.",
        enforcement_level=MANDATORY,
        validate=check_budget_notifies,
    ),
]
