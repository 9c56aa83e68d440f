"""Streams, queues, topics, tables and log groups are encrypted with the platform's KMS key; keys rotate.

"Encrypted" here means a customer-managed key named on the resource (the key
`components.core.Core` creates), not an AWS-owned default key: only a customer key lets
the key policy decide who may read the data, and only its use is logged in CloudTrail.
"""

from __future__ import annotations

from typing import Final

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import ADVISORY, MANDATORY, UNKNOWN, for_types, is_set, label_of, lookup, number, schema, setting, truthy
from .remedies import KMS_DELETION_WINDOW_DAYS, LOG_RETENTION_DAYS, retention_at_least, stack_setting

PLATFORM_KEY: Final = "the platform key (context.kms_key_arn)"


@for_types("aws:kinesis/stream:Stream")
def check_kinesis(args: ResourceValidationArgs, report: ReportViolation) -> None:
    encryption_type = lookup(args.props, "encryptionType")
    if encryption_type not in ("KMS", UNKNOWN) or not is_set(lookup(args.props, "kmsKeyId")):
        report(
            f"Kinesis stream {label_of(args)} is not encrypted with KMS (encryptionType={encryption_type!r}): set "
            f"encryption_type='KMS' and kms_key_id to {PLATFORM_KEY}, or build it with "
            f"components.shared.kinesis.kinesis_stream.",
            None,
        )


@for_types("aws:sqs/queue:Queue")
def check_sqs(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_set(lookup(args.props, "kmsMasterKeyId")):
        report(
            f"SQS queue {label_of(args)} is not encrypted with the platform's KMS key: set kms_master_key_id to "
            f"{PLATFORM_KEY} (SQS-managed SSE keeps the key out of the platform's key policy).",
            None,
        )


@for_types("aws:sns/topic:Topic")
def check_sns(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_set(lookup(args.props, "kmsMasterKeyId")):
        report(
            f"SNS topic {label_of(args)} is not encrypted with KMS: set kms_master_key_id to {PLATFORM_KEY}.",
            None,
        )


@for_types("aws:dynamodb/table:Table")
def check_dynamodb(args: ResourceValidationArgs, report: ReportViolation) -> None:
    enabled = lookup(args.props, "serverSideEncryption", "enabled")
    key = lookup(args.props, "serverSideEncryption", "kmsKeyArn")
    if not (truthy(enabled) or enabled is UNKNOWN) or not is_set(key):
        report(
            f"DynamoDB table {label_of(args)} is not encrypted with a customer-managed KMS key: set "
            f"server_side_encryption=TableServerSideEncryptionArgs(enabled=True, kms_key_arn={PLATFORM_KEY}).",
            None,
        )


@for_types("aws:cloudwatch/logGroup:LogGroup")
def check_log_group_encryption(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_set(lookup(args.props, "kmsKeyId")):
        report(
            f"CloudWatch log group {label_of(args)} is not encrypted with KMS: set kms_key_id to {PLATFORM_KEY}, "
            f"or build it with components.shared.logs.log_group.",
            None,
        )


RETENTION_CONFIG: Final = schema(
    minimumRetentionDays={
        "type": "integer",
        "minimum": 1,
        "default": 1,
        "description": "Shortest retention a log group may have, in days (audit needs differ per stack).",
    }
)


@for_types("aws:cloudwatch/logGroup:LogGroup")
def check_log_group_retention(args: ResourceValidationArgs, report: ReportViolation) -> None:
    days = lookup(args.props, "retentionInDays")
    minimum = int(setting(args, RETENTION_CONFIG, "minimumRetentionDays"))
    if days is UNKNOWN or (isinstance(days, int | float) and days >= minimum):
        return
    found = "never expires" if not days else f"keeps logs {number(days)} days"
    report(
        f"CloudWatch log group {label_of(args)} {found}; this stack requires a retention of at least {minimum} "
        f"days: set retention_in_days (components.shared.logs.log_group takes it from the stack: "
        f"{stack_setting(LOG_RETENTION_DAYS, retention_at_least(minimum))}).",
        None,
    )


@for_types("aws:kms/key:Key")
def check_key_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = lookup(args.props, "customerMasterKeySpec") or lookup(args.props, "keySpec")
    if spec not in (None, "SYMMETRIC_DEFAULT", UNKNOWN):
        return  # AWS rotates only symmetric encryption keys; asymmetric and HMAC keys cannot
    rotation = lookup(args.props, "enableKeyRotation")
    if not (truthy(rotation) or rotation is UNKNOWN):
        report(f"KMS key {label_of(args)} does not rotate: set enable_key_rotation=True.", None)


DELETION_WINDOW_CONFIG: Final = schema(
    minimumDays={
        "type": "integer",
        "minimum": 7,
        "maximum": 30,
        "default": 30,
        "description": "Shortest waiting period before a scheduled key deletion happens.",
    }
)


@for_types("aws:kms/key:Key")
def check_key_deletion_window(args: ResourceValidationArgs, report: ReportViolation) -> None:
    days = lookup(args.props, "deletionWindowInDays")
    minimum = int(setting(args, DELETION_WINDOW_CONFIG, "minimumDays"))
    if days is None or days is UNKNOWN or days >= minimum:
        return  # unset means AWS's default of 30 days
    report(
        f"KMS key {label_of(args)} can be deleted {number(days)} days after it is scheduled, leaving less than "
        f"{minimum} days to notice a mistake before every dataset it encrypts becomes unreadable: raise "
        f"deletion_window_in_days ({stack_setting(KMS_DELETION_WINDOW_DAYS, minimum)}).",
        None,
    )


POLICIES: Final = [
    ResourceValidationPolicy(
        name="kinesis-stream-kms",
        description="Kinesis streams are encrypted with a customer-managed KMS key.",
        enforcement_level=MANDATORY,
        validate=check_kinesis,
    ),
    ResourceValidationPolicy(
        name="sqs-queue-kms",
        description="SQS queues are encrypted with a customer-managed KMS key.",
        enforcement_level=MANDATORY,
        validate=check_sqs,
    ),
    ResourceValidationPolicy(
        name="sns-topic-kms",
        description="SNS topics are encrypted with a customer-managed KMS key.",
        enforcement_level=MANDATORY,
        validate=check_sns,
    ),
    ResourceValidationPolicy(
        name="dynamodb-table-kms",
        description="DynamoDB tables are encrypted with a customer-managed KMS key.",
        enforcement_level=MANDATORY,
        validate=check_dynamodb,
    ),
    ResourceValidationPolicy(
        name="log-group-kms",
        description="CloudWatch log groups are encrypted with a customer-managed KMS key.",
        enforcement_level=MANDATORY,
        validate=check_log_group_encryption,
    ),
    ResourceValidationPolicy(
        name="log-group-retention",
        description="CloudWatch log groups expire their logs, after at least the stack's minimum retention.",
        enforcement_level=MANDATORY,
        config_schema=RETENTION_CONFIG,
        validate=check_log_group_retention,
    ),
    ResourceValidationPolicy(
        name="kms-key-rotation",
        description="Customer-managed symmetric KMS keys rotate their key material.",
        enforcement_level=MANDATORY,
        validate=check_key_rotation,
    ),
    # Advisory: `uba:platform.kms_deletion_window_days` may deliberately be short (7 days in dev,
    # so a torn-down dev stack frees its key quickly); prod's policy config makes it mandatory.
    ResourceValidationPolicy(
        name="kms-key-deletion-window",
        description="KMS keys wait long enough before deletion for a mistake to be noticed.",
        enforcement_level=ADVISORY,
        config_schema=DELETION_WINDOW_CONFIG,
        validate=check_key_deletion_window,
    ),
]
