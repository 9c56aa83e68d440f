"""The cost tier: what the stack may spend, and the ops topic hears of it before the bill does.

- An AWS Budgets budget (monthly, USD) on the costs that carry the stack's cost allocation tag
  (`uba:cost.allocation_tag`, `Environment` by default, whose value is the stack's), notifying the
  ops topic when actual spend passes each `actual_alert_percent` and when AWS forecasts the month
  to end above each `forecast_alert_percent`.
- Where the stack enables it, a Cost Anomaly Detection monitor on the same tag, with an immediate
  subscription that alerts the ops topic on anomalies of at least `alert_above_usd`.
- Where the stack owns them (`manage_cost_allocation_tags`), the platform's tags activated as cost
  allocation tags, retained on delete: activation is account-wide, like API Gateway's logging role.

What AWS allows where: budgets can be created in any account (a member account sees its own costs);
monitors on a cost allocation tag and activating cost allocation tags only in an organization's
management account or in an account outside any organization. Budgets and Cost Explorer are global
services; their notifications reach the ops topic in the stack's region through the topic and key
statements the core tier adds for each publisher (`ops_topic_publishers`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child
from components.shared.dashboard import Widget
from components.shared.iam import TopicPublisher
from settings import PLATFORM_TAGS, BudgetSettings, CostSettings

# The topic policy statements as the AWS Cost Management User Guide gives them ("Creating an Amazon SNS topic
# for budget notifications": aws:SourceAccount and aws:SourceArn arn:aws:budgets::<account>:*; "... for anomaly
# notifications": aws:SourceAccount). The key statements follow the SNS Developer Guide for AWS services
# publishing to encrypted topics, pinned to the account as the CloudWatch statement is.
BUDGETS = TopicPublisher(name="Budgets", service="budgets.amazonaws.com", source_arn_service="budgets")
ANOMALY_DETECTION = TopicPublisher(name="CostAnomalyDetection", service="costalerts.amazonaws.com")


def ops_topic_publishers(settings: CostSettings) -> tuple[TopicPublisher, ...]:
    """The services this tier makes publish to the ops topic, for the core tier's topic and key policies."""
    if not settings.enabled:
        return ()
    return (BUDGETS, ANOMALY_DETECTION) if settings.anomaly_detection.enabled else (BUDGETS,)


@dataclass(frozen=True)
class CostArgs:
    settings: CostSettings
    context: StackContext
    tags: Mapping[str, str]
    """The stack's default tags (`PlatformSettings.tags`): the allocation tag's value comes from here."""


def budget_notifications(
    budget: BudgetSettings, topic_arn: pulumi.Input[str]
) -> list[aws.budgets.BudgetNotificationArgs]:
    """One notification per threshold: actual spend first, then the forecast."""
    thresholds = [("ACTUAL", p) for p in budget.actual_alert_percent]
    thresholds += [("FORECASTED", p) for p in budget.forecast_alert_percent]
    return [
        aws.budgets.BudgetNotificationArgs(
            notification_type=kind,
            comparison_operator="GREATER_THAN",
            threshold=percent,
            threshold_type="PERCENTAGE",
            subscriber_sns_topic_arns=[topic_arn],
        )
        for kind, percent in thresholds
    ]


def _amount(usd: float) -> str:
    """USD as Budgets takes it (a decimal string): `600`, `612.5`."""
    return f"{usd:.2f}".rstrip("0").rstrip(".")


class Cost(pulumi.ComponentResource):
    """The stack's budget, its anomaly monitor and (where owned) the account's cost allocation tags."""

    budget: aws.budgets.Budget
    anomaly_monitor: aws.costexplorer.AnomalyMonitor | None = None
    anomaly_subscription: aws.costexplorer.AnomalySubscription | None = None

    def __init__(self, name: str, args: CostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:cost:Cost", name, None, opts)
        settings, context = args.settings, args.context
        assert settings.budget is not None, "settings refuse the cost tier without a budget"
        tag_key = settings.allocation_tag
        tag_value = args.tags[tag_key]

        self.budget = aws.budgets.Budget(
            "budget",
            name=context.name("monthly"),
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=_amount(settings.budget.monthly_usd),
            limit_unit="USD",
            # `user:` marks a user-defined cost allocation tag; Budgets sees it once the tag is active.
            cost_filters=[aws.budgets.BudgetCostFilterArgs(name="TagKeyValue", values=[f"user:{tag_key}${tag_value}"])],
            notifications=budget_notifications(settings.budget, context.ops_topic_arn),
            opts=child(self),
        )

        if settings.anomaly_detection.enabled:
            self.anomaly_monitor = aws.costexplorer.AnomalyMonitor(
                "anomaly-monitor",
                name=context.name("cost"),
                monitor_type="CUSTOM",
                monitor_specification=json.dumps(
                    {
                        "And": None,
                        "CostCategories": None,
                        "Dimensions": None,
                        "Not": None,
                        "Or": None,
                        "Tags": {"Key": tag_key, "MatchOptions": None, "Values": [tag_value]},
                    }
                ),
                opts=child(self),
            )
            # SNS subscribers take IMMEDIATE alerts only (DAILY and WEEKLY go to email).
            self.anomaly_subscription = aws.costexplorer.AnomalySubscription(
                "anomaly-subscription",
                name=context.name("cost-anomalies"),
                frequency="IMMEDIATE",
                monitor_arn_lists=[self.anomaly_monitor.arn],
                subscribers=[
                    aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="SNS", address=context.ops_topic_arn)
                ],
                threshold_expression=aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(
                    dimension=aws.costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                        key="ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                        match_options=["GREATER_THAN_OR_EQUAL"],
                        values=[_amount(settings.anomaly_detection.alert_above_usd)],
                    )
                ),
                opts=child(self.anomaly_monitor),
            )

        if settings.manage_cost_allocation_tags:
            # Account-wide: destroying this stack must not deactivate the tags every other stack's
            # budget filters on, so they are retained (deactivate by hand if the account leaves the platform).
            for key in sorted({*PLATFORM_TAGS, tag_key}):
                aws.costexplorer.CostAllocationTag(
                    f"cost-allocation-tag-{key.lower()}",
                    tag_key=key,
                    status="Active",
                    opts=child(self, retain_on_delete=True),
                )

        self.register_outputs({"budget_name": self.budget.name})

    def stack_outputs(self) -> Mapping[str, pulumi.Input[str]]:
        return {"budget_name": self.budget.name}

    def dashboard_widgets(self) -> Sequence[Widget]:
        return []  # spend is reported by Budgets and Cost Explorer, not CloudWatch metrics of this region

    def access_targets(self) -> Mapping[str, pulumi.Input[str]]:
        return {"budget_arn": self.budget.arn}
