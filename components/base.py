"""What every tier component shares: the stack's context, naming, options and small builders.

Tiers receive a `StackContext` instead of reading config, derive every physical
name from the stack's prefix, and create children through these helpers so that
encryption, protection, log retention and alarm wiring are the same everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

PARTITION = "aws"


@dataclass(frozen=True)
class StackContext:
    """Stack-wide facts a tier needs; built once by `Platform` from settings and the core tier."""

    prefix: str
    region: str
    account_id: pulumi.Output[str]
    protect_stateful: bool
    log_retention_days: int
    kms_key_arn: pulumi.Output[str]
    ops_topic_arn: pulumi.Output[str]
    # Every alarm a tier creates through `metric_alarm`, so the ops dashboard can show them all.
    alarms: list[aws.cloudwatch.MetricAlarm] = field(default_factory=list, compare=False)

    def name(self, *parts: str) -> str:
        """Physical name from the stack prefix: `name("events")` -> `uba-dev-events`."""
        return "-".join([self.prefix, *parts])

    def arn(self, service: str, resource: str) -> pulumi.Output[str]:
        """An ARN in this stack's account and region, e.g. `arn("kinesis", "stream/x")`."""
        return self.account_id.apply(lambda account: f"arn:{PARTITION}:{service}:{self.region}:{account}:{resource}")


def child(parent: pulumi.Resource, **options: Any) -> pulumi.ResourceOptions:
    """Options for an ordinary child resource."""
    return pulumi.ResourceOptions(parent=parent, **options)


def stateful(parent: pulumi.Resource, protect: bool, **options: Any) -> pulumi.ResourceOptions:
    """Options for data that must survive mistakes: protected and retained where the stack says so.

    Pass `context.protect_stateful`; the flag comes from `platform.protect_stateful`.
    """
    return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect, **options)


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
    endpoints = [f"{service}.{context.region}.amazonaws.com" for service in services]
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


def log_group(
    parent: pulumi.Resource, context: StackContext, logical_name: str, log_group_name: pulumi.Input[str]
) -> aws.cloudwatch.LogGroup:
    """A KMS-encrypted log group with the stack's retention."""
    return aws.cloudwatch.LogGroup(
        logical_name,
        name=log_group_name,
        retention_in_days=context.log_retention_days,
        kms_key_id=context.kms_key_arn,
        opts=child(parent),
    )


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
    `trust_policy` replaces the default trust (`service`, pinned to this account) for
    services that document another confused-deputy guard, or none.
    """
    service_role = aws.iam.Role(
        logical_name,
        name=context.name(logical_name),
        description=description,
        assume_role_policy=trust_policy
        if trust_policy is not None
        else assume_role_policy(service, context.account_id),
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


def metric_alarm(
    parent: pulumi.Resource,
    context: StackContext,
    logical_name: str,
    description: str,
    **arguments: Any,
) -> aws.cloudwatch.MetricAlarm:
    """An alarm that notifies the ops topic when it fires and when it recovers (and joins the catalogue)."""
    alarm = aws.cloudwatch.MetricAlarm(
        logical_name,
        name=context.name(logical_name),
        alarm_description=description,
        alarm_actions=[context.ops_topic_arn],
        ok_actions=[context.ops_topic_arn],
        treat_missing_data=arguments.pop("treat_missing_data", "notBreaching"),
        opts=child(parent),
        **arguments,
    )
    context.alarms.append(alarm)
    return alarm


def dumps(value: Any) -> str:
    """Stable JSON for values that end up in resource inputs (keeps diffs quiet)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
