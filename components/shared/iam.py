"""IAM documents and service roles, built one way by every tier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pulumi
import pulumi_aws as aws

from components.shared.arns import PARTITION, service_endpoints
from components.shared.context import StackContext, child

# Services whose documentation says to pin their role's trust to the account with `aws:SourceAccount`, which
# they supply when they assume it. Any other service gets no condition it might not send: Lambda, for one,
# documents none for its execution role ("Defining Lambda function permissions with an execution role",
# Lambda Developer Guide: the trust policy names lambda.amazonaws.com, nothing more), and an AssumeRole
# condition the service never sends fails every invocation.
SOURCE_ACCOUNT_PINNED_SERVICES: Final = {
    "kinesisanalytics.amazonaws.com": "Managed Service for Apache Flink Developer Guide, confused deputy prevention",
    "scheduler.amazonaws.com": "EventBridge Scheduler User Guide, confused deputy prevention",
}


@dataclass(frozen=True)
class TopicPublisher:
    """An AWS service that publishes to the stack's encrypted ops topic on this account's behalf.

    Such a service needs both halves: the topic policy lets it call `sns:Publish`, and the platform key's
    policy lets it use the key SNS encrypts the message with (SNS Developer Guide, key management: "event
    sources from AWS services and encrypted topics"). Missing either, AWS drops the notification without
    a word; the policy pack's `sns-topic-publishers-allowed` checks both.
    """

    name: str  # the statements' Sid stem, e.g. `Budgets`
    service: str  # the service principal, e.g. `budgets.amazonaws.com`
    source_arn_service: str | None = None  # a global service the topic policy pins by `arn:...:<service>::<acct>:*`

    def topic_statement(self, topic_arn: pulumi.Input[str], account_id: pulumi.Output[str]) -> dict[str, Any]:
        """The topic policy statement: publish, only on behalf of this account (confused-deputy guard)."""
        condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
        if self.source_arn_service is not None:
            source_arn = pulumi.Output.concat(f"arn:{PARTITION}:{self.source_arn_service}::", account_id, ":*")
            condition["ArnLike"] = {"aws:SourceArn": source_arn}
        return {
            "Sid": f"{self.name}OfThisAccountPublish",
            "Effect": "Allow",
            "Principal": {"Service": self.service},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": condition,
        }

    def key_statement(self, account_id: pulumi.Output[str]) -> dict[str, Any]:
        """The key policy statement: the data key SNS encrypts this service's messages with, for this account."""
        return {
            "Sid": f"{self.name}PublishToEncryptedTopics",
            "Effect": "Allow",
            "Principal": {"Service": self.service},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }


def policy_json(statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    """An IAM policy document from statements that may contain Outputs."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume_role_policy(service: str, source_account: pulumi.Input[str] | None = None) -> pulumi.Output[str]:
    """Trust policy for one AWS service, optionally pinned to this account (confused-deputy guard)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return policy_json([statement])


def kms_via(context: StackContext, *services: str) -> str | list[str]:
    """The `kms:ViaService` value that lets a key be used only through these services in this region."""
    endpoints = service_endpoints(context.region, *services)
    return endpoints[0] if len(endpoints) == 1 else endpoints


def deny_insecure_transport(resource_arns: Sequence[pulumi.Input[str]], action: str) -> dict[str, Any]:
    """The statement that refuses any request not made over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": list(resource_arns),
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def role(
    parent: pulumi.Resource,
    context: StackContext,
    logical_name: str,
    service: str,
    statements: Sequence[Mapping[str, Any]],
    description: str,
) -> aws.iam.Role:
    """A service role trusted by exactly one service, with one inline least-privilege policy."""
    return role_with_policy(parent, context, logical_name, service, statements, description)[0]


def role_with_policy(
    parent: pulumi.Resource,
    context: StackContext,
    logical_name: str,
    service: str,
    statements: Sequence[Mapping[str, Any]],
    description: str,
    trust_policy: pulumi.Input[str] | None = None,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """`role()`, also returning its policy: depend on it where AWS checks the role's grants at creation.

    Lambda event source mappings, Firehose delivery streams, Redshift and Managed Flink
    validate the role when they are created; depending on the role alone races its policy.
    `trust_policy` replaces the default trust (`service`, pinned to this account when the
    service documents `aws:SourceAccount`, see `SOURCE_ACCOUNT_PINNED_SERVICES`) for services
    that document another confused-deputy guard.
    """
    service_role = aws.iam.Role(
        logical_name,
        name=context.name(logical_name),
        description=description,
        assume_role_policy=trust_policy
        if trust_policy is not None
        else assume_role_policy(service, context.account_id if service in SOURCE_ACCOUNT_PINNED_SERVICES else None),
        opts=child(parent),
    )
    policy = aws.iam.RolePolicy(
        f"{logical_name}-policy",
        role=service_role.id,
        name=f"{logical_name}-least-privilege",
        policy=policy_json(statements),
        opts=child(service_role),
    )
    return service_role, policy
