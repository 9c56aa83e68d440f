"""The cost tier: a budget per stack, anomaly detection where enabled, the grants that let both reach the ops topic."""

from __future__ import annotations

import json
from typing import Any

import pulumi_aws as aws
import pytest

from tests.support.harness import StackRun, run_stack
from tests.support.tokens import COST, type_token
from tools.engine.mocks import ACCOUNT_ID, load_stack_config

BUDGET = type_token(aws.budgets.Budget)
MONITOR = type_token(aws.costexplorer.AnomalyMonitor)
SUBSCRIPTION = type_token(aws.costexplorer.AnomalySubscription)
ALLOCATION_TAG = type_token(aws.costexplorer.CostAllocationTag)


def statements_by_sid(run: StackRun, type_token_: str, name: str) -> dict[str, dict[str, Any]]:
    return {s.get("Sid", ""): s for s in run.policy(run.one(type_token_, name))["Statement"]}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_stack_has_a_monthly_budget_on_its_own_tag_alerting_the_ops_topic(stack: str) -> None:
    run = run_stack(stack)
    cost = load_stack_config(stack)["uba:cost"]
    budget = run.one(BUDGET, "budget")
    assert run.by_urn(str(budget.parent)).type == COST
    assert budget.inputs["name"] == f"uba-{stack}-monthly"
    assert (budget.inputs["budgetType"], budget.inputs["timeUnit"]) == ("COST", "MONTHLY")
    assert float(budget.inputs["limitAmount"]) == cost["budget"]["monthly_usd"] and budget.inputs["limitUnit"] == "USD"
    assert budget.inputs["costFilters"] == [{"name": "TagKeyValue", "values": [f"user:Environment${stack}"]}]
    ops_topic = run.one(type_token(aws.sns.Topic), "ops-topic").state["arn"]
    thresholds = [(n["notificationType"], n["threshold"]) for n in budget.inputs["notifications"]]
    assert thresholds == [("ACTUAL", float(p)) for p in cost["budget"]["actual_alert_percent"]] + [
        ("FORECASTED", float(p)) for p in cost["budget"]["forecast_alert_percent"]
    ]
    for notification in budget.inputs["notifications"]:
        assert notification["subscriberSnsTopicArns"] == [ops_topic]
        assert (notification["comparisonOperator"], notification["thresholdType"]) == ("GREATER_THAN", "PERCENTAGE")
    assert run.outputs["budget_name"] == f"uba-{stack}-monthly"
    assert budget.state["tagsAll"]["Environment"] == stack  # the budget itself carries the platform's tags


def test_prod_watches_its_tag_for_anomalies_and_alerts_the_ops_topic_immediately() -> None:
    run = run_stack("prod")
    monitor = run.one(MONITOR, "anomaly-monitor")
    assert monitor.inputs["monitorType"] == "CUSTOM"
    specification = json.loads(monitor.inputs["monitorSpecification"])
    assert specification["Tags"] == {"Key": "Environment", "MatchOptions": None, "Values": ["prod"]}
    subscription = run.one(SUBSCRIPTION, "anomaly-subscription")
    assert subscription.inputs["frequency"] == "IMMEDIATE"  # SNS subscribers take immediate alerts only
    assert subscription.inputs["monitorArnLists"] == [monitor.state["arn"]]
    ops_topic = run.one(type_token(aws.sns.Topic), "ops-topic").state["arn"]
    assert subscription.inputs["subscribers"] == [{"type": "SNS", "address": ops_topic}]
    dimension = subscription.inputs["thresholdExpression"]["dimension"]
    assert dimension == {"key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE", "matchOptions": ["GREATER_THAN_OR_EQUAL"],
                         "values": ["100"]}  # fmt: skip


def test_prod_activates_the_platforms_tags_for_the_account_and_keeps_them_active_when_destroyed() -> None:
    tags = run_stack("prod").of_type(ALLOCATION_TAG)
    assert sorted(t.inputs["tagKey"] for t in tags) == ["CostCenter", "Environment", "Owner", "Project"]
    for tag in tags:
        assert tag.inputs["status"] == "Active" and tag.retain_on_delete


def test_dev_leaves_account_level_cost_settings_to_prod() -> None:
    """Anomaly monitors on a tag and tag activation need the payer account; prod owns them for the shared account."""
    run = run_stack("dev")
    assert run.of_type(MONITOR) == [] and run.of_type(SUBSCRIPTION) == [] and run.of_type(ALLOCATION_TAG) == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_ops_topic_and_the_key_admit_exactly_the_services_that_publish_to_it(stack: str) -> None:
    run = run_stack(stack)
    topic = statements_by_sid(run, type_token(aws.sns.TopicPolicy), "ops-topic-policy")
    key = statements_by_sid(run, type_token(aws.kms.Key), "platform-key")
    ops_topic = run.one(type_token(aws.sns.Topic), "ops-topic").state["arn"]
    budgets = topic["BudgetsOfThisAccountPublish"]
    assert budgets["Principal"] == {"Service": "budgets.amazonaws.com"} and budgets["Resource"] == ops_topic
    assert budgets["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
        "ArnLike": {"aws:SourceArn": f"arn:aws:budgets::{ACCOUNT_ID}:*"},
    }
    budgets_key = key["BudgetsPublishToEncryptedTopics"]
    assert budgets_key["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert budgets_key["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    anomalies = stack == "prod"
    assert ("CostAnomalyDetectionOfThisAccountPublish" in topic) is anomalies
    assert ("CostAnomalyDetectionPublishToEncryptedTopics" in key) is anomalies
    if anomalies:
        assert topic["CostAnomalyDetectionOfThisAccountPublish"]["Principal"] == {"Service": "costalerts.amazonaws.com"}


def test_a_stack_without_the_cost_tier_grants_no_billing_service_anything() -> None:
    run = run_stack("dev", {"uba:cost": {"enabled": False}})
    assert run.of_type(BUDGET) == [] and not run.of_type(COST)
    topic = statements_by_sid(run, type_token(aws.sns.TopicPolicy), "ops-topic-policy")
    key = statements_by_sid(run, type_token(aws.kms.Key), "platform-key")
    assert not [sid for sid in [*topic, *key] if "Budgets" in sid or "Anomaly" in sid]
    assert "budget_name" not in run.outputs
