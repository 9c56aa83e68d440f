"""CloudWatch log groups, created by the platform rather than by the services that write to them."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child


def log_group(
    parent: pulumi.Resource, context: StackContext, logical_name: str, log_group_name: pulumi.Input[str]
) -> aws.cloudwatch.LogGroup:
    """A KMS-encrypted log group with the stack's retention (a service's own log groups never expire),
    recorded in the stack's log-group catalogue (`StackContext.log_groups`)."""
    group = aws.cloudwatch.LogGroup(
        logical_name,
        name=log_group_name,
        retention_in_days=context.log_retention_days,
        kms_key_id=context.kms_key_arn,
        opts=child(parent),
    )
    context.log_groups.append(group)
    return group
