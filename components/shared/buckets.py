"""Secure S3 buckets: the one way any tier gets a bucket.

A `SecureBucket` is a `uba:storage:SecureBucket` component with the pulumi-aws 7.x
split resources: the bucket, SSE-KMS with bucket keys, a full public access block,
bucket-owner-enforced ownership (no ACLs), a policy that denies non-TLS requests
(plus any statements the caller adds), optional versioning, lifecycle rules and
server access logging.

The one exception to SSE-KMS is a bucket that receives S3 server access logs: S3 log
delivery supports only SSE-S3 (AES256) default encryption on the target bucket (the
S3 User Guide, "Enabling Amazon S3 server access logging"; logs sent to an SSE-KMS
target are not delivered). Such a bucket sets `encryption="sse-s3"` and names the
buckets that log to it in `access_logs_from`, which lets `logging.s3.amazonaws.com`
write only under each source's prefix, only for that source bucket and account.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.shared.arns import PARTITION
from components.shared.context import StackContext, child, stateful
from components.shared.iam import deny_insecure_transport, policy_json

# Extra bucket-policy statements, built once the bucket's ARN is known.
StatementsFor = Callable[[pulumi.Output[str]], Sequence[Mapping[str, Any]]]

S3_LOG_DELIVERY = "logging.s3.amazonaws.com"


def bucket_name(context: StackContext, purpose: str) -> pulumi.Output[str]:
    """The physical name of a stack's bucket: `uba-dev-lake-<account>`.

    Bucket names are global: the account id keeps two accounts' `uba-dev` apart. Known
    before the bucket exists, so a policy can name a bucket created after it.
    """
    return context.account_id.apply(lambda account: f"{context.name(purpose)}-{account}")


def bucket_arn(context: StackContext, purpose: str) -> pulumi.Output[str]:
    """The ARN of `bucket_name(context, purpose)`."""
    return bucket_name(context, purpose).apply(lambda name: f"arn:{PARTITION}:s3:::{name}")


@dataclass(frozen=True)
class LifecycleRule:
    """One lifecycle rule on a key prefix (`""` for the whole bucket)."""

    rule_id: str
    prefix: str
    expire_after_days: int | None = None
    transitions: Sequence[tuple[int, str]] = ()  # (days, storage class)
    noncurrent_expire_after_days: int | None = None


@dataclass(frozen=True)
class SecureBucketArgs:
    context: StackContext
    purpose: str  # short, becomes part of the physical name: `uba-dev-lake-<account>`
    versioning: bool = False
    keep_data: bool = True  # protect and retain on delete where the stack protects data
    lifecycle: Sequence[LifecycleRule] = ()
    access_log_bucket: aws.s3.Bucket | None = None
    extra_statements: StatementsFor | None = None
    force_destroy: bool = False
    abort_incomplete_uploads_after_days: int = 7
    tags: Mapping[str, str] = field(default_factory=dict)
    # "kms": SSE-KMS with the platform key (every bucket but one). "sse-s3": AES256, only for a
    # bucket that receives S3 server access logs, which S3 cannot deliver to an SSE-KMS bucket.
    encryption: Literal["kms", "sse-s3"] = "kms"
    # Purposes of the buckets (in this stack) whose server access logs land here, each under `<purpose>/`.
    access_logs_from: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.encryption == "sse-s3" and not self.access_logs_from:
            raise ValueError(f"{self.purpose}: sse-s3 is only for access-log buckets; every other bucket uses KMS")
        if self.access_logs_from and self.encryption != "sse-s3":
            raise ValueError(f"{self.purpose}: S3 delivers server access logs only to an SSE-S3 (AES256) bucket")


class SecureBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    arn: pulumi.Output[str]
    name: pulumi.Output[str]
    # Set when versioning is on: an object whose version matters must wait for it (see the Flink code).
    versioning: aws.s3.BucketVersioning | None

    def __init__(self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("uba:storage:SecureBucket", name, None, opts)
        self._name = name  # children are named after the component: URNs must be unique per stack
        context = args.context
        protect = context.protect_stateful and args.keep_data
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=bucket_name(context, args.purpose),
            force_destroy=args.force_destroy and not protect,
            tags=dict(args.tags) or None,
            opts=stateful(self, protect),
        )
        self.arn = self.bucket.arn
        self.name = self.bucket.bucket
        under_bucket = child(self.bucket)

        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[_encryption_rule(args.encryption, context.kms_key_arn)],
            opts=under_bucket,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=under_bucket,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=under_bucket,
        )
        statements: list[Mapping[str, Any]] = [
            deny_insecure_transport([self.bucket.arn, pulumi.Output.concat(self.bucket.arn, "/*")], "s3:*")
        ]
        statements.extend(_log_delivery_statement(context, self.bucket.arn, source) for source in args.access_logs_from)
        if args.extra_statements is not None:
            statements.extend(args.extra_statements(self.bucket.arn))
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=policy_json(statements),
            # The public access block must exist first, or S3 may judge the policy before it applies.
            opts=child(self.bucket, depends_on=[public_access]),
        )
        self.versioning = None
        if args.versioning:
            self.versioning = aws.s3.BucketVersioning(
                f"{name}-versioning",
                bucket=self.bucket.id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                opts=under_bucket,
            )
        self._lifecycle(args)
        if args.access_log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-access-logging",
                bucket=self.bucket.id,
                target_bucket=args.access_log_bucket.id,
                target_prefix=f"{args.purpose}/",
                opts=under_bucket,
            )
        self.register_outputs({"arn": self.arn, "name": self.name})

    def _lifecycle(self, args: SecureBucketArgs) -> None:
        rules = [
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="abort-incomplete-multipart-uploads",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=args.abort_incomplete_uploads_after_days
                ),
            )
        ]
        for rule in args.lifecycle:
            rules.append(
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=rule.rule_id,
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=rule.prefix),
                    transitions=[
                        aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=days, storage_class=storage_class)
                        for days, storage_class in rule.transitions
                    ]
                    or None,
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=rule.expire_after_days)
                    if rule.expire_after_days is not None
                    else None,
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=rule.noncurrent_expire_after_days
                    )
                    if rule.noncurrent_expire_after_days is not None
                    else None,
                )
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{self._name}-lifecycle", bucket=self.bucket.id, rules=rules, opts=child(self.bucket)
        )


def _encryption_rule(
    encryption: Literal["kms", "sse-s3"], kms_key_arn: pulumi.Output[str]
) -> aws.s3.BucketServerSideEncryptionConfigurationRuleArgs:
    if encryption == "sse-s3":
        return aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256"
            ),
        )
    return aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
        ),
        bucket_key_enabled=True,  # one data key per bucket, not per object: far fewer KMS calls
    )


def _log_delivery_statement(context: StackContext, target_arn: pulumi.Output[str], source: str) -> dict[str, Any]:
    """S3 log delivery may write one source bucket's logs under `<source>/`, for that bucket and account only."""
    return {
        "Sid": "S3ServerAccessLogsFrom" + "".join(part.title() for part in source.split("-")),
        "Effect": "Allow",
        "Principal": {"Service": S3_LOG_DELIVERY},
        "Action": "s3:PutObject",
        "Resource": pulumi.Output.concat(target_arn, f"/{source}/*"),
        "Condition": {
            "ArnLike": {"aws:SourceArn": bucket_arn(context, source)},
            "StringEquals": {"aws:SourceAccount": context.account_id},
        },
    }
