"""Data survives mistakes: stateful resources are protected where the stack asks, and protected tables can rewind.

Whether a stack protects data is the stack's decision (`uba:platform.protect_stateful`);
the pack learns it from its policy config (`policies/config/<stack>.json`,
`require-protection.protect`), and a test keeps the two in agreement.
"""

from __future__ import annotations

from typing import Final

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import MANDATORY, UNKNOWN, for_types, label_of, lookup, schema, setting, truthy
from .remedies import PROTECT_STATEFUL, RECOVERY_SETTINGS, policy_setting, remedy, stack_setting

PITR_FIX: Final = "set point_in_time_recovery=TablePointInTimeRecoveryArgs(enabled=True)"

# The resources that hold data (or, for the key, make all other data readable).
STATEFUL_TYPES: Final = (
    "aws:s3/bucket:Bucket",
    "aws:dynamodb/table:Table",
    "aws:kinesis/stream:Stream",
    "aws:redshiftserverless/namespace:Namespace",
    "aws:redshift/cluster:Cluster",
    "aws:kms/key:Key",
    "aws:opensearch/serverlessCollection:ServerlessCollection",
    "aws:opensearch/domain:Domain",
    "aws:cognito/userPool:UserPool",  # its users, their passwords and MFA devices exist nowhere else
)

PROTECTION_CONFIG: Final = schema(
    protect={
        "type": "boolean",
        "default": False,
        "description": "This stack protects its data (mirror of `uba:platform.protect_stateful`).",
    },
    exemptResources={
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Logical names of stateful resources deliberately left unprotected (e.g. a scratch bucket).",
    },
)


@for_types(*STATEFUL_TYPES)
def check_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not setting(args, PROTECTION_CONFIG, "protect"):
        args.not_applicable("the stack's policy config does not ask for protection")
    if args.opts.protect or args.name in setting(args, PROTECTION_CONFIG, "exemptResources"):
        return
    protect = (
        "create it with opts=components.shared.context.stateful(parent, context.protect_stateful) (protect=True and "
        "retain_on_delete=True)"
    )
    if truthy(lookup(args.props, "forceDestroy")):
        # Its program empties and deletes it on destroy: disposable by design, which the stack's policy
        # config acknowledges by name (prod's does for query results and build artifacts).
        report(
            f"{args.resource_type} {label_of(args)} is not protected in a stack that protects data, and its "
            f"program deletes it with its contents (force_destroy): if they are disposable, "
            f"{policy_setting('require-protection', 'exemptResources', args.name)}; else {protect}.",
            None,
        )
        return
    report(
        f"{args.resource_type} {label_of(args)} holds data but is not protected in a stack that protects data: "
        f"{protect} and {stack_setting(PROTECT_STATEFUL, True)}, or, if losing it is acceptable, "
        f"{policy_setting('require-protection', 'exemptResources', args.name)}.",
        None,
    )


@for_types("aws:dynamodb/table:Table")
def check_point_in_time_recovery(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.opts.protect:
        return  # a table the stack does not protect (dev) may be rebuilt from the stream
    enabled = lookup(args.props, "pointInTimeRecovery", "enabled")
    if not (truthy(enabled) or enabled is UNKNOWN):
        report(
            f"DynamoDB table {label_of(args)} is protected but has no point-in-time recovery, so a bad write "
            f"cannot be undone: {remedy(RECOVERY_SETTINGS, args.name, True, PITR_FIX)}.",
            None,
        )


POLICIES: Final = [
    ResourceValidationPolicy(
        name="require-protection",
        description="In stacks that protect data, buckets, tables, streams, warehouses and the KMS key are protected.",
        enforcement_level=MANDATORY,
        config_schema=PROTECTION_CONFIG,
        validate=check_protected,
    ),
    ResourceValidationPolicy(
        name="dynamodb-point-in-time-recovery",
        description="DynamoDB tables whose data the stack protects have point-in-time recovery.",
        enforcement_level=MANDATORY,
        validate=check_point_in_time_recovery,
    ),
]
