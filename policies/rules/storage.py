"""S3: every bucket is KMS-encrypted, fully private, TLS-only, and versioned where its data is protected.

pulumi-aws 7 configures a bucket through separate resources that name the bucket in
their `bucket` input, so these are stack checks: each `aws:s3/bucket:Bucket` must have
the right companions. `components.shared.buckets.SecureBucket` creates all of them.

One exception is AWS's, not ours: S3 delivers server access logs only to a bucket whose
default encryption is SSE-S3 (S3 User Guide, "Enabling Amazon S3 server access
logging"), so a bucket that a `BucketLogging` in the stack targets may use AES256.
"""

from __future__ import annotations

from typing import Any, Final

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy

from .common import MANDATORY, UNKNOWN, as_list, document, is_set, label_of, lookup, of_type, refers_to, statements
from .remedies import VERSIONING_SETTINGS, remedy

VERSIONING_FIX: Final = "add an aws.s3.BucketVersioning with status 'Enabled' (SecureBucketArgs(versioning=True))"

BUCKET: Final = "aws:s3/bucket:Bucket"
ENCRYPTION: Final = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PUBLIC_ACCESS_BLOCK: Final = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY: Final = "aws:s3/bucketPolicy:BucketPolicy"
VERSIONING: Final = "aws:s3/bucketVersioning:BucketVersioning"
LOGGING: Final = "aws:s3/bucketLogging:BucketLogging"

KMS_ALGORITHMS: Final = ("aws:kms", "aws:kms:dsse")
PUBLIC_ACCESS_FLAGS: Final = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
FIX_BY_SECURE_BUCKET: Final = "create buckets with components.shared.buckets.SecureBucket, which adds it"


def companions(args: StackValidationArgs, bucket: PolicyResource, companion_type: str) -> list[PolicyResource]:
    """The resources of `companion_type` that configure `bucket` (their `bucket` input names it)."""
    names = (lookup(bucket.props, "id"), lookup(bucket.props, "bucket"))
    return [r for r in of_type(args, companion_type) if refers_to(r, "bucket", bucket, names)]


def _encrypted(configuration: PolicyResource, allow_sse_s3: bool) -> bool:
    for index in range(len(lookup(configuration.props, "rules") or [])):
        default = lookup(configuration.props, "rules", index, "applyServerSideEncryptionByDefault")
        algorithm = lookup(default, "sseAlgorithm")
        if algorithm in KMS_ALGORITHMS and is_set(lookup(default, "kmsMasterKeyId")):
            return True
        if allow_sse_s3 and algorithm == "AES256":
            return True
    return False


def receives_access_logs(args: StackValidationArgs, bucket: PolicyResource) -> bool:
    names = (lookup(bucket.props, "id"), lookup(bucket.props, "bucket"))
    return any(refers_to(logging, "targetBucket", bucket, names) for logging in of_type(args, LOGGING))


def check_encryption(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in of_type(args, BUCKET):
        log_target = receives_access_logs(args, bucket)
        if any(_encrypted(c, allow_sse_s3=log_target) for c in companions(args, bucket, ENCRYPTION)):
            continue
        report(
            f"S3 bucket {label_of(bucket)} has no default encryption with a customer-managed KMS key: add an "
            f"aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm='aws:kms' and "
            f"kms_master_key_id=<platform key ARN> ({FIX_BY_SECURE_BUCKET}); only a bucket receiving S3 server "
            f"access logs may use sse_algorithm='AES256' instead.",
            bucket.urn,
        )


def check_public_access(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in of_type(args, BUCKET):
        blocks = companions(args, bucket, PUBLIC_ACCESS_BLOCK)
        if any(all(lookup(b.props, flag) in (True, UNKNOWN) for flag in PUBLIC_ACCESS_FLAGS) for b in blocks):
            continue
        missing = sorted({f for b in blocks for f in PUBLIC_ACCESS_FLAGS if lookup(b.props, f) is not True})
        detail = f"these flags are not true: {', '.join(missing)}" if blocks else "it has no public access block"
        report(
            f"S3 bucket {label_of(bucket)} is not fully private ({detail}): add an aws.s3.BucketPublicAccessBlock "
            f"with block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets all True "
            f"({FIX_BY_SECURE_BUCKET}).",
            bucket.urn,
        )


def denies_insecure_transport(statement: dict[str, Any], bucket_arn: Any) -> bool:
    """A statement refusing every S3 request made without TLS, on the bucket and its objects."""
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and as_list(principal.get("AWS")) == ["*"])
    actions = as_list(statement.get("Action"))
    condition = statement.get("Condition") or {}
    secure_transport = [
        value
        for operator in ("Bool", "BoolIfExists")
        for value in as_list((condition.get(operator) or {}).get("aws:SecureTransport"))
    ]
    if not (
        statement.get("Effect") == "Deny"
        and everyone
        and any(action in ("s3:*", "*") for action in actions)
        and any(str(value).lower() == "false" for value in secure_transport)
    ):
        return False
    if not isinstance(bucket_arn, str):
        return True  # the ARN is computed during the update; the statement's shape is right
    resources = set(as_list(statement.get("Resource")))
    return "*" in resources or {bucket_arn, f"{bucket_arn}/*"} <= resources


def check_tls_only(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in of_type(args, BUCKET):
        arn = lookup(bucket.props, "arn")
        documents = [document(lookup(p.props, "policy")) for p in companions(args, bucket, BUCKET_POLICY)]
        if any(doc is UNKNOWN for doc in documents):
            continue  # built from ARNs AWS has not assigned yet: judged once they exist
        if any(
            denies_insecure_transport(s, arn) for doc in documents if isinstance(doc, dict) for s in statements(doc)
        ):
            continue
        report(
            f"S3 bucket {label_of(bucket)} accepts requests without TLS: attach an aws.s3.BucketPolicy with a "
            f"statement Effect=Deny, Principal='*', Action='s3:*' on the bucket ARN and '<ARN>/*' when "
            f"aws:SecureTransport is 'false' (components.shared.iam.deny_insecure_transport; {FIX_BY_SECURE_BUCKET}).",
            bucket.urn,
        )


def check_versioning(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in of_type(args, BUCKET):
        if not bucket.opts.protect:
            continue  # data the stack does not protect (dev, or a scratch bucket) needs no history
        statuses = [lookup(v.props, "versioningConfiguration", "status") for v in companions(args, bucket, VERSIONING)]
        if not any(status in ("Enabled", UNKNOWN) for status in statuses):
            report(
                f"S3 bucket {label_of(bucket)} is protected but not versioned, so an overwrite or delete loses "
                f"data: {remedy(VERSIONING_SETTINGS, bucket.name, True, VERSIONING_FIX)}.",
                bucket.urn,
            )


POLICIES: Final = [
    StackValidationPolicy(
        name="s3-bucket-kms-encryption",
        description="Every S3 bucket encrypts by default with a customer-managed KMS key "
        "(SSE-S3 only for a bucket receiving server access logs).",
        enforcement_level=MANDATORY,
        validate=check_encryption,
    ),
    StackValidationPolicy(
        name="s3-bucket-public-access-blocked",
        description="Every S3 bucket blocks all four kinds of public access.",
        enforcement_level=MANDATORY,
        validate=check_public_access,
    ),
    StackValidationPolicy(
        name="s3-bucket-tls-only",
        description="Every S3 bucket's policy denies requests not made over TLS.",
        enforcement_level=MANDATORY,
        validate=check_tls_only,
    ),
    StackValidationPolicy(
        name="s3-bucket-versioned-when-protected",
        description="Buckets whose data the stack protects (protect=True) are versioned.",
        enforcement_level=MANDATORY,
        validate=check_versioning,
    ),
]
