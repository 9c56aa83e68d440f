"""DMS replication is private, encrypted with a customer-managed key, and reads database credentials by reference.

A replication instance is public unless it says otherwise (CreateReplicationInstance's
`PubliclyAccessible` defaults to true); a serverless replication has no public address but must
still name the security groups it runs with. Data DMS holds (a replication's storage, an
endpoint's connection settings) is encrypted with a KMS key the stack controls, not DMS's
default key. A database password never travels as an endpoint input, where it would sit in the
state and every preview: endpoints name a Secrets Manager secret and a role to read it
(DMS User Guide, "Using secrets to access AWS Database Migration Service endpoints"), and a
connection to a database is TLS (`ssl_mode` other than `none`).
"""

from __future__ import annotations

from typing import Final

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import MANDATORY, falsy, for_types, is_set, label_of, lookup

INSTANCE: Final = "aws:dms/replicationInstance:ReplicationInstance"
CONFIG: Final = "aws:dms/replicationConfig:ReplicationConfig"
ENDPOINT: Final = "aws:dms/endpoint:Endpoint"
# Engines whose endpoints carry no database connection (streams, queues and stores DMS calls over AWS APIs).
_SERVICE_ENGINES: Final = frozenset({"kinesis", "kafka", "s3", "dynamodb", "elasticsearch", "opensearch", "neptune"})
# Every place an endpoint can carry a password in clear (pulumi-aws 7 inputs).
_PASSWORD_PATHS: Final = (
    ("password",),
    ("kafkaSettings", "saslPassword"),
    ("kafkaSettings", "sslClientKeyPassword"),
    ("redisSettings", "authPassword"),
    ("oracleSettings", "asmPassword"),
    ("oracleSettings", "securityDbEncryption"),
)


@for_types(INSTANCE, CONFIG)
def check_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == INSTANCE and not falsy(lookup(args.props, "publiclyAccessible")):
        report(
            f"DMS replication instance {label_of(args)} is publicly accessible (AWS's default when unset): set "
            f"publicly_accessible=False to keep DMS private; it reaches the database inside the VPC.",
            None,
        )
    if args.resource_type == CONFIG and not is_set(lookup(args.props, "computeConfig", "vpcSecurityGroupIds")):
        report(
            f"DMS serverless replication {label_of(args)} runs without security groups of its own (the VPC's "
            f"default group): set compute_config.vpc_security_group_ids to a group scoped to the database port to keep "
            f"DMS private.",
            None,
        )


@for_types(INSTANCE, CONFIG, ENDPOINT)
def check_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    paths = {INSTANCE: ("kmsKeyArn",), CONFIG: ("computeConfig", "kmsKeyId"), ENDPOINT: ("kmsKeyArn",)}
    path = paths[args.resource_type]
    if not is_set(lookup(args.props, *path)):
        report(
            f"DMS {args.resource_type.rsplit(':', 1)[-1]} {label_of(args)} is encrypted with DMS's default key, "
            f"not the platform's: set {'.'.join(_snake(p) for p in path)} to the platform key (context.kms_key_arn).",
            None,
        )


@for_types(ENDPOINT)
def check_secrets_by_reference(args: ResourceValidationArgs, report: ReportViolation) -> None:
    carried = [".".join(_snake(p) for p in path) for path in _PASSWORD_PATHS if is_set(lookup(args.props, *path))]
    if carried:
        report(
            f"DMS endpoint {label_of(args)} carries a password as an input ({', '.join(carried)}), so it sits in "
            f"the state and every preview: remove it and set secrets_manager_arn (the secret with the "
            f"credentials) and secrets_manager_access_role_arn (a role DMS reads it with).",
            None,
        )
        return
    engine = lookup(args.props, "engineName")
    if _connects_to_a_database(engine) and not is_set(lookup(args.props, "secretsManagerArn")):
        report(
            f"DMS endpoint {label_of(args)} ({engine}) does not name a Secrets Manager secret: set "
            f"secrets_manager_arn and secrets_manager_access_role_arn (`uba:cdc.source.secret_arn`).",
            None,
        )


@for_types(ENDPOINT)
def check_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    engine = lookup(args.props, "engineName")
    if _connects_to_a_database(engine) and lookup(args.props, "sslMode") in (None, "none"):
        report(
            f"DMS endpoint {label_of(args)} ({engine}) connects to its database without TLS: set ssl_mode to "
            f"require, verify-ca or verify-full (`uba:cdc.source.ssl_mode`).",
            None,
        )


def _connects_to_a_database(engine: object) -> bool:
    return isinstance(engine, str) and engine not in _SERVICE_ENGINES


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


POLICIES: Final = [
    ResourceValidationPolicy(
        name="dms-not-public",
        description="DMS replication instances are not publicly accessible; serverless replications run with "
        "security groups of their own.",
        enforcement_level=MANDATORY,
        validate=check_not_public,
    ),
    ResourceValidationPolicy(
        name="dms-kms",
        description="DMS replications and endpoints are encrypted with a customer-managed KMS key.",
        enforcement_level=MANDATORY,
        validate=check_encrypted,
    ),
    ResourceValidationPolicy(
        name="dms-credentials-by-reference",
        description="DMS database endpoints read credentials from Secrets Manager; no endpoint has a password input.",
        enforcement_level=MANDATORY,
        validate=check_secrets_by_reference,
    ),
    ResourceValidationPolicy(
        name="dms-endpoint-tls",
        description="DMS database endpoints connect with TLS (ssl_mode require, verify-ca or verify-full).",
        enforcement_level=MANDATORY,
        validate=check_tls,
    ),
]
