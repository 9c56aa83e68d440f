"""Redshift is encrypted, private and audited; Athena workgroups enforce encrypted, capped queries."""

from __future__ import annotations

from typing import Any, Final

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import (
    MANDATORY,
    UNKNOWN,
    falsy,
    for_types,
    is_set,
    label_of,
    lookup,
    number,
    of_type,
    plain,
    refers_to,
    schema,
    setting,
    truthy,
)
from .remedies import ATHENA_BYTES_SCANNED_CUTOFF, stack_setting

NAMESPACE: Final = "aws:redshiftserverless/namespace:Namespace"
WORKGROUP: Final = "aws:redshiftserverless/workgroup:Workgroup"
CLUSTER: Final = "aws:redshift/cluster:Cluster"
CLUSTER_LOGGING: Final = "aws:redshift/logging:Logging"
ATHENA_WORKGROUP: Final = "aws:athena/workgroup:Workgroup"

AUDIT_LOGS: Final = ["connectionlog", "userlog", "useractivitylog"]


@for_types(NAMESPACE, CLUSTER)
def check_redshift_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if falsy(lookup(args.props, "encrypted")) or not is_set(lookup(args.props, "kmsKeyId")):
        report(
            f"Redshift {args.resource_type} {label_of(args)} is not encrypted with the platform's KMS key: set "
            f"kms_key_id to the platform key (context.kms_key_arn)"
            + (" and encrypted='true'." if args.resource_type == CLUSTER else "."),
            None,
        )


@for_types(WORKGROUP, CLUSTER)
def check_redshift_private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if truthy(lookup(args.props, "publiclyAccessible")):
        report(
            f"Redshift {args.resource_type} {label_of(args)} is publicly accessible: set publicly_accessible=False; "
            f"clients reach it from the VPC (`uba:warehouse.network.allowed_cidrs`).",
            None,
        )


AUDIT_CONFIG: Final = schema(
    requiredLogExports={
        "type": "array",
        "items": {"type": "string", "enum": AUDIT_LOGS},
        "default": AUDIT_LOGS,
        "description": "Audit logs every namespace or cluster exports.",
    }
)


def _missing_logs(exports: Any, required: list[str]) -> list[str]:
    exported = plain(exports)
    if exported is UNKNOWN:
        return []
    return [log for log in required if log not in (exported or [])]


def _cluster_logging_gaps(args: StackValidationArgs, cluster: PolicyResource, required: list[str]) -> list[str]:
    identifiers = (lookup(cluster.props, "clusterIdentifier"), lookup(cluster.props, "id"))
    best: list[str] = list(required)
    for logging in of_type(args, CLUSTER_LOGGING):
        if not refers_to(logging, "clusterIdentifier", cluster, identifiers):
            continue
        if lookup(logging.props, "logDestinationType") == "s3" and is_set(lookup(logging.props, "bucketName")):
            return []  # S3 delivery carries every audit log type
        gaps = _missing_logs(lookup(logging.props, "logExports"), required)
        best = min(best, gaps, key=len)
    return best


def check_redshift_audit_logging(args: StackValidationArgs, report: ReportViolation) -> None:
    required = list(setting(args, AUDIT_CONFIG, "requiredLogExports"))
    for namespace in of_type(args, NAMESPACE):
        missing = _missing_logs(lookup(namespace.props, "logExports"), required)
        if missing:
            report(
                f"Redshift Serverless namespace {label_of(namespace)} does not export the audit logs "
                f"{', '.join(missing)}: set log_exports={required!r}.",
                namespace.urn,
            )
    for cluster in of_type(args, CLUSTER):
        missing = _cluster_logging_gaps(args, cluster, required)
        if missing:
            report(
                f"Redshift cluster {label_of(cluster)} does not deliver the audit logs {', '.join(missing)}: add an "
                f"aws.redshift.Logging for its cluster_identifier with log_destination_type='cloudwatch' and "
                f"log_exports={required!r} (pulumi-aws 7 has no `logging` argument on the cluster).",
                cluster.urn,
            )


def _athena_configuration(args: ResourceValidationArgs, *path: str) -> Any:
    return lookup(args.props, "configuration", *path)


@for_types(ATHENA_WORKGROUP)
def check_athena_enforced(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if falsy(_athena_configuration(args, "enforceWorkgroupConfiguration")):
        report(
            f"Athena workgroup {label_of(args)} lets clients override its settings (result location, encryption, "
            f"scan limit): set configuration.enforce_workgroup_configuration=True.",
            None,
        )


@for_types(ATHENA_WORKGROUP)
def check_athena_results_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    encryption = _athena_configuration(args, "resultConfiguration", "encryptionConfiguration")
    option = lookup(encryption, "encryptionOption")
    if option in ("SSE_KMS", "CSE_KMS", UNKNOWN) and is_set(lookup(encryption, "kmsKeyArn")):
        return
    report(
        f"Athena workgroup {label_of(args)} does not encrypt query results with KMS (encryptionOption={option!r}): "
        f"set configuration.result_configuration.encryption_configuration with encryption_option='SSE_KMS' and "
        f"kms_key_arn=<platform key ARN>.",
        None,
    )


CUTOFF_CONFIG: Final = schema(
    maximumBytesScannedCutoff={
        "type": "integer",
        "minimum": 10485760,
        "default": 107374182400,
        "description": "Largest per-query scan limit a workgroup may set, in bytes (100 GiB unless configured).",
    }
)


@for_types(ATHENA_WORKGROUP)
def check_athena_cutoff(args: ResourceValidationArgs, report: ReportViolation) -> None:
    cutoff = _athena_configuration(args, "bytesScannedCutoffPerQuery")
    maximum = int(setting(args, CUTOFF_CONFIG, "maximumBytesScannedCutoff"))
    if cutoff is UNKNOWN or (isinstance(cutoff, int | float) and 0 < cutoff <= maximum):
        return
    found = "no per-query scan limit" if not cutoff else f"a per-query scan limit of {number(cutoff)} bytes"
    report(
        f"Athena workgroup {label_of(args)} has {found}; this stack allows at most {maximum} bytes: set "
        f"configuration.bytes_scanned_cutoff_per_query ({stack_setting(ATHENA_BYTES_SCANNED_CUTOFF, maximum)}).",
        None,
    )


POLICIES: Final = [
    ResourceValidationPolicy(
        name="redshift-encrypted",
        description="Redshift namespaces and clusters are encrypted with a customer-managed KMS key.",
        enforcement_level=MANDATORY,
        validate=check_redshift_encrypted,
    ),
    ResourceValidationPolicy(
        name="redshift-not-public",
        description="Redshift workgroups and clusters are not publicly accessible.",
        enforcement_level=MANDATORY,
        validate=check_redshift_private,
    ),
    StackValidationPolicy(
        name="redshift-audit-logging",
        description="Redshift namespaces and clusters export their audit logs.",
        enforcement_level=MANDATORY,
        config_schema=AUDIT_CONFIG,
        validate=check_redshift_audit_logging,
    ),
    ResourceValidationPolicy(
        name="athena-workgroup-enforced",
        description="Athena workgroups enforce their configuration on every client.",
        enforcement_level=MANDATORY,
        validate=check_athena_enforced,
    ),
    ResourceValidationPolicy(
        name="athena-results-encrypted",
        description="Athena workgroups encrypt query results with KMS (SSE_KMS or CSE_KMS).",
        enforcement_level=MANDATORY,
        validate=check_athena_results_encrypted,
    ),
    ResourceValidationPolicy(
        name="athena-bytes-scanned-cutoff",
        description="Athena workgroups cap the bytes a single query may scan.",
        enforcement_level=MANDATORY,
        config_schema=CUTOFF_CONFIG,
        validate=check_athena_cutoff,
    ),
]
