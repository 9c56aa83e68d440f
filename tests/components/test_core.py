"""The core tier: the platform key and the ops topic."""

from __future__ import annotations

import pulumi_aws as aws
import pytest

from tests.support.harness import run_stack
from tests.support.tokens import type_token
from tools.engine.mocks import ACCOUNT_ID


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_kms_key_rotates_and_has_an_alias_from_the_prefix(stack: str) -> None:
    run = run_stack(stack)
    key = run.one(type_token(aws.kms.Key), "platform-key")
    assert key.inputs["enableKeyRotation"] is True
    alias = run.one(type_token(aws.kms.Alias), "platform-key-alias")
    assert alias.inputs["name"] == f"alias/uba-{stack}"
    assert alias.inputs["targetKeyId"] == key.state["keyId"]


def test_key_policy_lets_the_account_administer_and_services_use_it_narrowly() -> None:
    run = run_stack("dev")
    policy = run.policy(run.one(type_token(aws.kms.Key), "platform-key"))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["AccountAdministersKeyThroughIam"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    logs = by_sid["CloudWatchLogsEncryptsThisAccountsLogGroups"]
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
        f"arn:aws:logs:eu-west-1:{ACCOUNT_ID}:log-group:*"
    )


def test_ops_topic_is_encrypted_tls_only_and_subscribed() -> None:
    run = run_stack("prod")
    topic = run.one(type_token(aws.sns.Topic), "ops-topic")
    assert topic.inputs["kmsMasterKeyId"] == run.one(type_token(aws.kms.Key), "platform-key").state["arn"]
    assert topic.state["arn"] == f"arn:aws:sns:eu-west-1:{ACCOUNT_ID}:uba-prod-ops"
    statements = run.policy(run.one(type_token(aws.sns.TopicPolicy), "ops-topic-policy"))["Statement"]
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    subscription = run.one(type_token(aws.sns.TopicSubscription), "ops-email-0")
    assert subscription.inputs["endpoint"] == "uba-oncall@example.com"
