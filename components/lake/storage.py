"""The lake's buckets: raw events, Athena results, and the access logs of both.

Each is a `SecureBucket`. The lake and results buckets are SSE-KMS with the platform
key, versioned where the stack says so, and log every request to the access-log
bucket, which is SSE-S3 because S3 log delivery cannot write to an SSE-KMS bucket.
How long objects live is the stack's `lake.lifecycle`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.shared.buckets import LifecycleRule, SecureBucket, SecureBucketArgs
from components.shared.context import StackContext
from settings import LakeSettings, LifecycleSettings
from sql.changes import CHANGES_PREFIX
from sql.lake import ERRORS_PREFIX, EVENTS_PREFIX

LAKE_PURPOSE = "lake"
RESULTS_PURPOSE = "athena-results"
ACCESS_LOGS_PURPOSE = "lake-access-logs"


@dataclass(frozen=True)
class LakeBuckets:
    lake: SecureBucket
    results: SecureBucket
    logs: SecureBucket


def lake_lifecycle(lifecycle: LifecycleSettings, versioning: bool) -> list[LifecycleRule]:
    """Raw events age into cheaper classes and expire when the stack says; Firehose errors go sooner."""
    noncurrent = lifecycle.noncurrent_versions_expire_after_days if versioning else None
    return [
        LifecycleRule(
            rule_id="raw-events",
            prefix=EVENTS_PREFIX,
            transitions=[
                (lifecycle.infrequent_access_after_days, "STANDARD_IA"),
                # Glacier Instant Retrieval: Athena and Spectrum still read it directly, whereas
                # objects in Glacier Flexible Retrieval would silently drop out of every analysis.
                (lifecycle.glacier_after_days, "GLACIER_IR"),
            ],
            expire_after_days=lifecycle.expire_after_days,
            noncurrent_expire_after_days=noncurrent,
        ),
        LifecycleRule(
            rule_id="delivery-errors",
            prefix=ERRORS_PREFIX,
            expire_after_days=lifecycle.errors_expire_after_days,
            noncurrent_expire_after_days=noncurrent,
        ),
    ]


def results_lifecycle(lifecycle: LifecycleSettings, versioning: bool) -> list[LifecycleRule]:
    """Query results are scratch: the whole bucket expires after a few days."""
    noncurrent = lifecycle.noncurrent_versions_expire_after_days if versioning else None
    return [
        LifecycleRule(
            rule_id="query-results",
            prefix="",
            expire_after_days=lifecycle.athena_results_expire_after_days,
            noncurrent_expire_after_days=noncurrent,
        )
    ]


def access_logs_lifecycle(lifecycle: LifecycleSettings, versioning: bool) -> list[LifecycleRule]:
    noncurrent = lifecycle.noncurrent_versions_expire_after_days if versioning else None
    return [
        LifecycleRule(
            rule_id="access-logs",
            prefix="",
            expire_after_days=lifecycle.access_logs_expire_after_days,
            noncurrent_expire_after_days=noncurrent,
        )
    ]


def changes_lifecycle(lifecycle: LifecycleSettings, versioning: bool) -> LifecycleRule:
    """Replicated tables' change history ages like raw events but never expires: the warehouse rebuilds
    its entity models from every change since the full load, so a lost change would be a lost entity."""
    return LifecycleRule(
        rule_id="entity-changes",
        prefix=CHANGES_PREFIX,
        transitions=[(lifecycle.infrequent_access_after_days, "STANDARD_IA"),
                     (lifecycle.glacier_after_days, "GLACIER_IR")],
        noncurrent_expire_after_days=lifecycle.noncurrent_versions_expire_after_days if versioning else None,
    )  # fmt: skip


def lake_buckets(
    parent: pulumi.Resource, context: StackContext, settings: LakeSettings, keeps_changes: bool = False
) -> LakeBuckets:
    lifecycle = settings.lifecycle
    logs = SecureBucket(
        "lake-access-logs",
        SecureBucketArgs(
            context=context,
            purpose=ACCESS_LOGS_PURPOSE,
            encryption="sse-s3",
            access_logs_from=(LAKE_PURPOSE, RESULTS_PURPOSE),
            # The audit trail of who read the lake is kept as carefully as the lake itself.
            versioning=settings.versioning,
            lifecycle=access_logs_lifecycle(lifecycle, settings.versioning),
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    lake = SecureBucket(
        "lake",
        SecureBucketArgs(
            context=context,
            purpose=LAKE_PURPOSE,
            versioning=settings.versioning,
            lifecycle=lake_lifecycle(lifecycle, settings.versioning)
            + ([changes_lifecycle(lifecycle, settings.versioning)] if keeps_changes else []),
            access_log_bucket=logs.bucket,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    results = SecureBucket(
        "athena-results",
        SecureBucketArgs(
            context=context,
            purpose=RESULTS_PURPOSE,
            versioning=settings.versioning,
            # Results are disposable copies of what the lake already holds: never worth blocking a teardown.
            keep_data=False,
            force_destroy=True,
            lifecycle=results_lifecycle(lifecycle, settings.versioning),
            access_log_bucket=logs.bucket,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return LakeBuckets(lake=lake, results=results, logs=logs)
