"""Which stack setting clears a finding: the remedy a message names for the platform's own resources.

The rules judge resources of any program, but the platform builds its resources from the stack
file: where a setting decides what a rule checks, the message ends with the key and the value
that clear the finding, written one way (`set `uba:streaming.sink.tracing: true` in the stack
file`), found here by the resource's logical name (a URN's last part, stable by the platform's
promise). A resource no entry names gets the code-level fix alone.

`tests/policies/test_remedies.py` applies every remedy a finding advertises to the stack file,
runs the program again and sees the finding go, so an entry naming the wrong key fails. A new
tier whose resource a stack setting controls (a function's tracing, a table's recovery) adds its
logical name here.

The pack runs in the Pulumi CLI's policy virtualenv and imports nothing of the program, so the
keys are written out rather than imported from `settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# X-Ray tracing of API stages and functions: logical name -> the boolean setting that turns it on.
TRACING_SETTINGS: Final[Mapping[str, str]] = {
    "stage": "uba:ingest.api.tracing",
    "ingest-function": "uba:ingest.api.tracing",
    "alert-sink-function": "uba:streaming.sink.tracing",
    "search-admin-function": "uba:search.tracing",
    "edge-logs-function": "uba:edge.function.tracing",
    "change-processor-function": "uba:cdc.processor_tracing",
    "live-api-function": "uba:live.api.tracing",
    "live-authorizer-function": "uba:live.api.tracing",
    "live-connections-function": "uba:live.api.tracing",
    "live-push-function": "uba:live.api.tracing",
}
# Point-in-time recovery of DynamoDB tables.
RECOVERY_SETTINGS: Final[Mapping[str, str]] = {
    "realtime-results": "uba:streaming.sink.point_in_time_recovery",
}
# Versioning of buckets whose data a stack may protect.
VERSIONING_SETTINGS: Final[Mapping[str, str]] = {
    "lake-bucket": "uba:lake.versioning",
    "lake-access-logs-bucket": "uba:lake.versioning",
    "athena-results-bucket": "uba:lake.versioning",
}
# OpenSearch Serverless network policies that admit public networks: the search tier's network access.
NETWORK_ACCESS_SETTINGS: Final[Mapping[str, str]] = {"search-network-policy": "uba:search.network.access"}
# Sign-in of the live dashboard: the user pool's MFA and sign-up.
MFA_SETTINGS: Final[Mapping[str, str]] = {"user-pool": "uba:live.sign_in.mfa"}
SIGN_UP_SETTINGS: Final[Mapping[str, str]] = {"user-pool": "uba:live.sign_in.self_sign_up"}
# An AWS WAF web ACL in front of CloudFront distributions.
# The live dashboard's distribution shares the edge's web ACL (components.live.site).
WEB_ACL_SETTINGS: Final[Mapping[str, str]] = {
    "edge-distribution": "uba:edge.waf.enabled",
    "site-distribution": "uba:edge.waf.enabled",
}
# Snapshots of Flink applications.
SNAPSHOT_SETTINGS: Final[Mapping[str, str]] = {"flink-app": "uba:streaming.flink.snapshots"}
# Stack-wide settings that every resource of a kind takes.
PROTECT_STATEFUL: Final = "uba:platform.protect_stateful"
LOG_RETENTION_DAYS: Final = "uba:platform.log_retention_days"
KMS_DELETION_WINDOW_DAYS: Final = "uba:platform.kms_deletion_window_days"
ATHENA_BYTES_SCANNED_CUTOFF: Final = "uba:lake.athena_bytes_scanned_cutoff"

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy); a remedy names one of them.
CLOUDWATCH_RETENTION_DAYS: Final = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                                    2192, 2557, 2922, 3288, 3653)  # fmt: skip


def stack_setting(key: str, value: object) -> str:
    """The one way a message names a setting: `set `uba:lake.versioning: true` in the stack file`."""
    shown = str(value).lower() if isinstance(value, bool) else value
    return f"set `{key}: {shown}` in the stack file"


def policy_setting(policy: str, key: str, item: str) -> str:
    """The one way a message names a list in the stack's policy config (`policies/config/<stack>.json`)."""
    return f"add `{item}` to `{policy}.{key}` in the stack's policy config"


def remedy(table: Mapping[str, str], name: str, value: object, code_fix: str) -> str:
    """The stack setting that clears the finding when `name` is one of the platform's resources, else the code fix."""
    key = table.get(name)
    return code_fix if key is None else f"{stack_setting(key, value)}, which makes the program {code_fix}"


def retention_at_least(minimum: int) -> int:
    """The shortest retention CloudWatch accepts that keeps logs at least `minimum` days."""
    return next((days for days in CLOUDWATCH_RETENTION_DAYS if days >= minimum), CLOUDWATCH_RETENTION_DAYS[-1])
