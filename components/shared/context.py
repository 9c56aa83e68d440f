"""What every tier receives instead of config: the stack's context, and the options children are created with.

Tiers derive every physical name from the stack's prefix (`StackContext.name`) and create
children through `child` and `stateful`, so parenting, protection and retention are the
same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.shared.arns import PARTITION


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
    # Every alarm a tier creates through `components.shared.alarms`, so the ops dashboard shows them all.
    alarms: list[aws.cloudwatch.MetricAlarm] = field(default_factory=list, compare=False)
    # Every log group created through `components.shared.logs`, so the staff groups are granted on exact names.
    log_groups: list[aws.cloudwatch.LogGroup] = field(default_factory=list, compare=False)

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
