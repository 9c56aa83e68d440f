"""The policy pack: every rule passes what the platform builds and names, with its fix, what it must refuse.

Rules run offline through `tools.engine.policy` (the same rule objects the CLI serves;
`tests/test_policy_pack.py` proves the CLI protocol gives the same answers). Broken
resources come from `tests/support/policy_probe_program.py`, a program of `good-*` and `bad-*`
resources run under the mock engine, and from the SDK's argument types for what only a
preview sees (values AWS has not computed yet).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pulumi_aws as aws
import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from policies.rules import ALL_POLICIES
from policies.rules.protection import STATEFUL_TYPES
from settings import SettingsError, load_settings
from tests.support.config import config_with, raw_config
from tests.support.harness import StackRun, run_stack
from tests.support.tokens import type_token
from tools import synth
from tools.engine.mocks import PROJECT_DIR, ProgramError, available_stacks, load_stack_config, run_isolated
from tools.engine.policy import (
    PolicyConfigError,
    Violation,
    evaluate,
    mandatory,
    stack_config_path,
    stack_policy_config,
    validate_policy_config,
)

POLICIES = {policy.name: policy for policy in ALL_POLICIES}
RESOURCE_POLICIES = {p.name: p for p in ALL_POLICIES if isinstance(p, ResourceValidationPolicy)}
STACK_POLICIES = {p.name: p for p in ALL_POLICIES if isinstance(p, StackValidationPolicy)}
PROBE_CONFIG = {
    "require-protection": {"protect": True, "exemptResources": ["scratch-bucket"]},
    "log-group-retention": {"minimumRetentionDays": 7},
    "athena-bytes-scanned-cutoff": {"maximumBytesScannedCutoff": 10 * 2**30},
    "cloudfront-viewer-tls": {"requireCustomCertificate": True},
    "cloudfront-web-acl": {"requireWebAcl": True},
}


def resource_name(violation: Violation) -> str:
    return violation.urn.rsplit("::", 1)[-1]


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> tuple[StackRun, list[Violation]]:
    """The probe program's resources and every violation the pack finds in them."""
    project = tmp_path_factory.mktemp("policy-probe")
    (project / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (project / "Pulumi.test.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (project / "__main__.py").write_text((PROJECT_DIR / "tests" / "support" / "policy_probe_program.py").read_text())
    (project / "components").symlink_to(PROJECT_DIR / "components")
    (project / "settings.py").symlink_to(PROJECT_DIR / "settings.py")
    snapshot = run_isolated("test", project_dir=project)
    return StackRun(snapshot), evaluate(snapshot, validate_policy_config(PROBE_CONFIG))


# policy -> (the probe resources it must refuse, exactly; a piece of the fix its message must give)
EXPECTED: dict[str, tuple[set[str], str]] = {
    "s3-bucket-kms-encryption": ({"bad-bare-bucket", "bad-weak-bucket"}, "sse_algorithm='aws:kms'"),
    "s3-bucket-public-access-blocked": ({"bad-bare-bucket", "bad-weak-bucket"}, "aws.s3.BucketPublicAccessBlock"),
    "s3-bucket-tls-only": ({"bad-bare-bucket", "bad-weak-bucket"}, "aws:SecureTransport is 'false'"),
    "s3-bucket-versioned-when-protected": ({"bad-bare-bucket", "bad-weak-bucket"}, "status 'Enabled'"),
    "kinesis-stream-kms": ({"bad-stream"}, "encryption_type='KMS'"),
    "sqs-queue-kms": ({"bad-queue"}, "set kms_master_key_id"),
    "sns-topic-kms": ({"bad-topic"}, "set kms_master_key_id"),
    "dynamodb-table-kms": ({"bad-table"}, "kms_key_arn="),
    "log-group-kms": ({"bad-logs"}, "set kms_key_id"),
    "log-group-retention": ({"bad-logs", "bad-short-logs"}, "set retention_in_days"),
    "kms-key-rotation": ({"bad-key"}, "enable_key_rotation=True"),
    "kms-key-deletion-window": ({"bad-key"}, "kms_deletion_window_days"),
    "require-protection": ({"bad-stream", "bad-key"}, "components.shared.context.stateful"),
    "dynamodb-point-in-time-recovery": ({"bad-table"}, "TablePointInTimeRecoveryArgs(enabled=True)"),
    "redshift-encrypted": ({"bad-namespace", "bad-cluster"}, "set kms_key_id"),
    "redshift-not-public": ({"bad-workgroup", "bad-cluster"}, "publicly_accessible=False"),
    "redshift-audit-logging": ({"bad-namespace", "bad-cluster"}, "log_exports="),
    "athena-workgroup-enforced": ({"bad-athena"}, "enforce_workgroup_configuration=True"),
    "athena-results-encrypted": ({"bad-athena"}, "encryption_option='SSE_KMS'"),
    "athena-bytes-scanned-cutoff": ({"bad-athena", "bad-big-scan-athena"}, "bytes_scanned_cutoff_per_query"),
    "stream-consumer-failure-handling": ({"bad-mapping"}, "bisect_batch_on_function_error=True"),
    "flink-snapshots": ({"bad-flink"}, "snapshots_enabled=True"),
    "apigateway-stage-throttled": ({"bad-stage", "bad-v2-stage"}, "throttling_rate_limit"),
    "apigateway-stage-access-logging": ({"bad-stage", "bad-v2-stage"}, "access_log_settings"),
    "xray-tracing": ({"bad-stage"}, "xray_tracing_enabled=True"),
    "cloudfront-viewer-https": (
        {"bad-plain-distribution", "bad-distribution"},
        "viewer_protocol_policy to 'https-only'",
    ),
    "cloudfront-viewer-tls": (
        {"bad-plain-distribution", "bad-default-cert-distribution", "bad-distribution"},
        "TLSv1.2_2021",
    ),
    "cloudfront-origin-https": ({"bad-plain-distribution"}, "origin_protocol_policy='https-only'"),
    "cloudfront-logging": ({"bad-plain-distribution", "bad-distribution"}, "realtime_log_config_arn"),
    "cloudfront-web-acl": (
        {"bad-plain-distribution", "bad-default-cert-distribution", "bad-distribution"},
        "web_acl_id",
    ),
    "iam-no-wildcard-outside-admin": (
        {
            "bad-dev-everything",
            "bad-role-everything",
            "bad-dev-administrator",
            "bad-unattached-managed",
            "bad-not-action-managed",
        },
        "admin group",
    ),
    "iam-no-user-policies": ({"bad-user-policy", "bad-user-attachment", "bad-users-attachment"}, "to a group"),
    "iam-role-single-service": (
        {"bad-two-services-role", "bad-account-trust-role", "bad-anyone-role"},
        "Trust exactly one service principal",
    ),
    "required-tags": ({"bad-untagged-topic", "bad-blank-owner-topic"}, "default_tags"),
    "ec2-description-charset": (
        {"bad-apostrophe-egress", "bad-ampersand-ingress", "bad-described-sg", "bad-described-rule"},
        "reword the description",
    ),
    # 0.0.0.0/1 + 128.0.0.0/1 bypassed a 0.0.0.0/0 check; so does every public block without the private ones.
    # A replication instance is public unless it says otherwise; a serverless one needs its own group.
    "dms-not-public": ({"bad-public-instance", "bad-open-replication"}, "to keep DMS private"),
    "dms-kms": ({"bad-public-instance", "bad-open-replication"}, "the platform key"),
    "dms-credentials-by-reference": ({"bad-password-endpoint"}, "secrets_manager_arn"),
    "dms-endpoint-tls": ({"bad-plaintext-endpoint"}, "set ssl_mode to require"),
    "security-group-no-internet-ingress": (
        {"bad-low-half-ingress", "bad-high-half-ingress", "bad-inline-public-sg"},
        "not 0.0.0.0/0 in pieces",
    ),
    "opensearch-collection-encrypted": ({"bad-owned-keys", "bad-collection"}, '"AWSOwnedKey": false'),
    "opensearch-data-access-named": ({"bad-data-access"}, "name the IAM roles and users of this stack"),
    "opensearch-collection-network-private": ({"bad-public-network"}, "AllowFromPublic false"),
    "opensearch-domain-secure": ({"bad-domain"}, "node_to_node_encryption enabled"),
    "firehose-opensearch-failures-kept": ({"bad-search-firehose"}, "s3_configuration.kms_key_arn"),
    "cognito-password-policy": ({"bad-pool"}, "minimum_length >= 12"),
    "cognito-mfa": ({"bad-pool"}, "mfa_configuration='ON'"),
    "cognito-invite-only": ({"bad-pool"}, "allow_admin_create_user_only=True"),
    "cognito-app-client-flows": ({"bad-client"}, "code grant with PKCE"),
    "cloudfront-s3-origin-access-control": ({"bad-distribution"}, "origin_access_control_id"),
    "cloudfront-security-headers": ({"bad-distribution", "bad-headers"}, "components.live"),
    "apigatewayv2-route-authorized": ({"bad-open-route", "bad-connect-route"}, "authorization_type='JWT'"),
    "apigatewayv2-jwt-authorizer-audience": ({"bad-jwt-authorizer"}, "audiences=[the app client's id]"),
    "quicksight-data-source-private": ({"bad-public-password-source"}, "vpc_connection_properties="),
    "quicksight-data-source-no-password": ({"bad-public-password-source"}, "secret_arn="),
    "quicksight-data-source-tls": ({"bad-public-password-source"}, "disable_ssl=False"),
    "quicksight-dataset-row-level-security": ({"bad-open-dataset", "bad-disabled-rls-dataset"}, "status='ENABLED'"),
    "quicksight-no-admin": ({"bad-admin"}, "user_role='READER' or 'AUTHOR'"),
    "quicksight-not-public": ({"bad-public-password-source"}, "never '*'"),
    # A notification AWS would drop: the topic policy or the key policy does not admit the publishing service.
    "sns-topic-publishers-allowed": (
        {"bad-budget-closed-topic", "bad-alarm-managed-key", "bad-anomaly-subscription"},
        "aws:SourceAccount",
    ),
    "budget-notifies": ({"bad-silent-budget"}, "subscriber_sns_topic_arns"),
    # The probe has budgets; a stack without one is tested below (the warning names no resource).
    "stack-has-budget": (set(), "uba:cost"),
}
ADVISORY = {
    "kms-key-deletion-window",
    "flink-snapshots",
    "xray-tracing",
    "stack-has-budget",
    "opensearch-collection-network-private",
    "cognito-mfa",
    "cognito-invite-only",
}


def test_every_rule_of_the_pack_is_specified_here() -> None:
    assert set(EXPECTED) == set(POLICIES)
    assert len(POLICIES) == len(ALL_POLICIES), "policy names must be unique"


@pytest.mark.parametrize("policy", sorted(EXPECTED))
def test_rule_refuses_exactly_the_broken_resources_and_names_the_fix(
    probe: tuple[StackRun, list[Violation]], policy: str
) -> None:
    _, violations = probe
    expected_names, fix = EXPECTED[policy]
    found = [v for v in violations if v.policy == policy]
    assert {resource_name(v) for v in found} == expected_names
    for violation in found:
        assert f"'{resource_name(violation)}'" in violation.message, violation.message
        assert fix in violation.message, violation.message
        assert violation.enforcement == ("advisory" if policy in ADVISORY else "mandatory")


def test_the_platform_builders_pass_every_rule(probe: tuple[StackRun, list[Violation]]) -> None:
    """SecureBucket, log_group and role as the tiers use them, and an SSE-S3 access-log bucket, pass every rule."""
    run, violations = probe
    built = {r.urn for r in run.resources if r.name.startswith(("kept-", "scratch-", "good-", "flink-role"))}
    built |= {r.urn for r in run.children(run.one("uba:test:Service"), recursive=True)}
    assert len([r for r in run.of_type(type_token(aws.s3.Bucket)) if r.urn in built]) == 3
    assert [v for v in violations if v.urn in built] == []


def test_details_name_what_exactly_is_wrong(probe: tuple[StackRun, list[Violation]]) -> None:
    _, violations = probe
    by_key = {(v.policy, resource_name(v)): v.message for v in violations}
    # AES256 passes only on the bucket a BucketLogging targets (good-access-logs-bucket), not on bad-weak-bucket.
    assert "only a bucket receiving S3 server access logs" in by_key[("s3-bucket-kms-encryption", "bad-weak-bucket")]
    assert "restrictPublicBuckets" in by_key[("s3-bucket-public-access-blocked", "bad-weak-bucket")]
    assert "no public access block" in by_key[("s3-bucket-public-access-blocked", "bad-bare-bucket")]
    assert "never expires" in by_key[("log-group-retention", "bad-logs")]
    assert "keeps logs 3 days" in by_key[("log-group-retention", "bad-short-logs")]
    assert "1099511627776 bytes" in by_key[("athena-bytes-scanned-cutoff", "bad-big-scan-athena")]
    assert "connectionlog, useractivitylog" in by_key[("redshift-audit-logging", "bad-namespace")]
    assert "group 'uba-test-dev'" in by_key[("iam-no-wildcard-outside-admin", "bad-dev-everything")]
    assert "role 'uba-test-good-service-role'" in by_key[("iam-no-wildcard-outside-admin", "bad-not-action-managed")]
    assert "2 services" in by_key[("iam-role-single-service", "bad-two-services-role")]
    assert "'*' (any AWS account)" in by_key[("iam-role-single-service", "bad-anyone-role")]
    assert "Owner" in by_key[("required-tags", "bad-blank-owner-topic")]
    assert "Project" not in by_key[("required-tags", "bad-blank-owner-topic")]
    assert "retries are unbounded" in by_key[("stream-consumer-failure-handling", "bad-mapping")]
    assert '"\'"' in by_key[("ec2-description-charset", "bad-apostrophe-egress")]
    assert "no '&' in a rule naming a security group" in by_key[("ec2-description-charset", "bad-ampersand-ingress")]
    unpolicied = by_key[("sns-topic-publishers-allowed", "bad-anomaly-subscription")]
    assert "no aws.sns.TopicPolicy" in unpolicied and "does not let costalerts.amazonaws.com use it" in unpolicied
    closed = by_key[("sns-topic-publishers-allowed", "bad-budget-closed-topic")]
    assert "does not let budgets.amazonaws.com call sns:Publish" in closed and "KMS key" not in closed
    managed = by_key[("sns-topic-publishers-allowed", "bad-alarm-managed-key")]
    assert "alias/aws/sns" in managed and "cloudwatch.amazonaws.com call sns:Publish" in managed
    bad_group = by_key[("ec2-description-charset", "bad-described-sg")]
    assert "'—'" in bad_group and "egress[0]" in bad_group and "256 characters long (at most 255)" in bad_group


# --- the real stacks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", available_stacks())
def test_real_stack_has_no_mandatory_violation(stack: str) -> None:
    violations = evaluate(run_stack(stack).snapshot, stack_policy_config(stack))
    assert mandatory(violations) == []


# Advisory rules and the stack setting that deliberately opts out of each.
DELIBERATE_EXCEPTIONS = {
    "xray-tracing": lambda raw: raw["ingest"]["api"].get("tracing") is False,
    "flink-snapshots": lambda raw: raw["streaming"].get("flink", {}).get("snapshots") is False,
    "kms-key-deletion-window": lambda raw: raw["platform"].get("kms_deletion_window_days", 30) < 30,
    "cognito-mfa": lambda raw: raw.get("live", {}).get("sign_in", {}).get("mfa", "required") != "required",
    "stack-has-budget": lambda raw: not raw.get("cost", {"enabled": False}).get("enabled", True),
}


@pytest.mark.parametrize("stack", available_stacks())
def test_advisory_warnings_appear_only_where_the_stack_file_chose_the_exception(stack: str) -> None:
    raw = raw_config(stack)
    for violation in evaluate(run_stack(stack).snapshot, stack_policy_config(stack)):
        assert violation.policy in DELIBERATE_EXCEPTIONS, violation
        assert DELIBERATE_EXCEPTIONS[violation.policy](raw), f"{stack} did not opt out: {violation}"


# The rules that meet resources in today's stacks, and the resource type each meets there.
ON_REAL_STACKS = [
    ("kinesis-stream-kms", type_token(aws.kinesis.Stream)),
    ("sns-topic-kms", type_token(aws.sns.Topic)),
    ("log-group-kms", type_token(aws.cloudwatch.LogGroup)),
    ("log-group-retention", type_token(aws.cloudwatch.LogGroup)),
    ("kms-key-rotation", type_token(aws.kms.Key)),
    ("require-protection", type_token(aws.kms.Key)),
    ("require-protection", type_token(aws.kinesis.Stream)),
    ("apigateway-stage-throttled", type_token(aws.apigateway.Stage)),
    ("apigateway-stage-access-logging", type_token(aws.apigateway.Stage)),
    ("iam-role-single-service", type_token(aws.iam.Role)),
    ("iam-no-wildcard-outside-admin", type_token(aws.iam.RolePolicy)),
    ("required-tags", type_token(aws.lambda_.Function)),
    ("xray-tracing", type_token(aws.lambda_.Function)),
    ("kms-key-deletion-window", type_token(aws.kms.Key)),
    ("ec2-description-charset", type_token(aws.ec2.SecurityGroup)),
    ("ec2-description-charset", type_token(aws.vpc.SecurityGroupEgressRule)),
    ("opensearch-collection-encrypted", type_token(aws.opensearch.ServerlessCollection)),
    ("opensearch-data-access-named", type_token(aws.opensearch.ServerlessAccessPolicy)),
    ("opensearch-collection-network-private", type_token(aws.opensearch.ServerlessSecurityPolicy)),
    ("firehose-opensearch-failures-kept", type_token(aws.kinesis.FirehoseDeliveryStream)),
    ("require-protection", type_token(aws.opensearch.ServerlessCollection)),
    ("apigateway-stage-throttled", type_token(aws.apigatewayv2.Stage)),
    ("apigateway-stage-access-logging", type_token(aws.apigatewayv2.Stage)),
    ("require-protection", type_token(aws.cognito.UserPool)),
    ("cognito-password-policy", type_token(aws.cognito.UserPool)),
    ("cognito-mfa", type_token(aws.cognito.UserPool)),
    ("cognito-invite-only", type_token(aws.cognito.UserPool)),
    ("cognito-app-client-flows", type_token(aws.cognito.UserPoolClient)),
    ("cloudfront-s3-origin-access-control", type_token(aws.cloudfront.Distribution)),
    ("cloudfront-security-headers", type_token(aws.cloudfront.ResponseHeadersPolicy)),
    ("apigatewayv2-route-authorized", type_token(aws.apigatewayv2.Route)),
    ("apigatewayv2-jwt-authorizer-audience", type_token(aws.apigatewayv2.Authorizer)),
    *(
        (policy, type_token(aws.cloudfront.Distribution))
        for policy in (
            "cloudfront-viewer-https",
            "cloudfront-viewer-tls",
            "cloudfront-origin-https",
            "cloudfront-logging",
            "cloudfront-web-acl",
        )
    ),
    ("quicksight-data-source-private", type_token(aws.quicksight.DataSource)),
    ("quicksight-data-source-no-password", type_token(aws.quicksight.DataSource)),
    ("quicksight-data-source-tls", type_token(aws.quicksight.DataSource)),
    ("quicksight-dataset-row-level-security", type_token(aws.quicksight.DataSet)),
    ("quicksight-no-admin", type_token(aws.quicksight.User)),
    ("quicksight-not-public", "aws-native:quicksight:Dashboard"),
    ("sns-topic-publishers-allowed", type_token(aws.cloudwatch.MetricAlarm)),
    ("sns-topic-publishers-allowed", type_token(aws.costexplorer.AnomalySubscription)),
    ("budget-notifies", type_token(aws.budgets.Budget)),
    ("stack-has-budget", type_token(aws.budgets.Budget)),
]


@pytest.mark.parametrize(("policy", "resource_type"), ON_REAL_STACKS)
def test_rule_passes_on_prod_where_it_meets_real_resources(policy: str, resource_type: str) -> None:
    run = run_stack("prod")
    assert run.of_type(resource_type), f"prod has no {resource_type} any more; update this table"
    violations = evaluate(run.snapshot, stack_policy_config("prod"), [POLICIES[policy]])
    assert violations == []


# The variant where a description once carried an apostrophe EC2 refuses: the warehouse in an existing VPC.
EXISTING_VPC = {
    "uba:warehouse": {
        **load_stack_config("dev")["uba:warehouse"],
        "network": {
            "existing_vpc_id": "vpc-0abc123",
            "existing_subnet_ids": ["subnet-0a1", "subnet-0b2", "subnet-0c3"],
        },
    }
}


def test_every_security_group_description_of_the_existing_vpc_variant_is_one_ec2_accepts() -> None:
    run = run_stack("dev", overrides=EXISTING_VPC)
    assert run.one(type_token(aws.vpc.SecurityGroupEgressRule), "warehouse-egress-vpc")
    assert evaluate(run.snapshot, stack_policy_config("dev"), [POLICIES["ec2-description-charset"]]) == []


def test_prod_config_turns_an_advisory_rule_mandatory_and_the_dev_key_would_fail_it() -> None:
    dev = run_stack("dev").snapshot
    assert {
        v.enforcement for v in evaluate(dev, stack_policy_config("dev")) if v.policy == "kms-key-deletion-window"
    } == {"advisory"}
    under_prod_rules = [v for v in evaluate(dev, stack_policy_config("prod")) if v.policy == "kms-key-deletion-window"]
    # The platform key, the edge's us-east-1 alarm key and the live dashboard's key take the stack's deletion window.
    assert sorted((v.enforcement, resource_name(v)) for v in under_prod_rules) == [
        ("mandatory", "edge-alarms-key"), ("mandatory", "platform-key"), ("mandatory", "site-key")]  # fmt: skip
    assert all("7 days" in v.message for v in under_prod_rules)


def test_protection_is_required_only_where_the_stack_config_asks() -> None:
    dev = run_stack("dev")
    dev_rules = evaluate(dev.snapshot, stack_policy_config("dev"), [POLICIES["require-protection"]])
    prod_config = stack_policy_config("prod")
    prod_rules = evaluate(dev.snapshot, prod_config, [POLICIES["require-protection"]])
    assert dev_rules == []
    exempt = set(prod_config["require-protection"]["exemptResources"])
    unprotected = {r.name for r in dev.resources if r.type in STATEFUL_TYPES and not r.protect} - exempt
    assert {resource_name(v) for v in prod_rules} == unprotected >= {"platform-key", "events-stream"}


# --- per-stack policy config --------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", available_stacks())
def test_each_stack_has_a_valid_policy_config_that_agrees_with_its_stack_file(stack: str) -> None:
    assert stack_config_path(stack).is_file(), f"add policies/config/{stack}.json"
    config = stack_policy_config(stack)
    settings = load_settings(raw_config(stack), stack)
    assert config["require-protection"]["protect"] is settings.platform.protect_stateful
    assert config["require-protection"]["enforcementLevel"] == "mandatory"
    assert config["log-group-retention"]["minimumRetentionDays"] <= settings.platform.log_retention_days
    assert (
        config["athena-bytes-scanned-cutoff"]["maximumBytesScannedCutoff"] >= settings.lake.athena_bytes_scanned_cutoff
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"no-such-rule": "mandatory"}, "no-such-rule: no such policy in the pack"),
        ({"require-protection": {"protect": "yes"}}, "require-protection.protect: must be of type boolean"),
        ({"require-protection": {"protected": True}}, "require-protection.protected: not a setting of this policy"),
        ({"log-group-retention": {"minimumRetentionDays": 0}}, "minimumRetentionDays: must be >= 1, got 0"),
        ({"sns-topic-kms": "strict"}, "sns-topic-kms.enforcementLevel: must be one of"),
        ({"redshift-audit-logging": {"requiredLogExports": ["querylog"]}}, "must be one of ['connectionlog'"),
    ],
)
def test_a_policy_config_the_cli_would_refuse_is_refused_by_name(raw: dict[str, Any], expected: str) -> None:
    with pytest.raises(PolicyConfigError, match=re.escape(expected)):
        validate_policy_config(raw)


def test_config_schemas_declare_the_defaults_the_rules_use() -> None:
    for policy in ALL_POLICIES:
        for key, schema in (policy.config_schema.properties if policy.config_schema else {}).items():
            assert "default" in schema and "description" in schema, f"{policy.name}.{key}"
            assert validate_policy_config({policy.name: {key: schema["default"]}})


# --- what only a preview sees: values AWS has not computed yet -----------------------------------------------

OPTIONS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def preview_resource(type_token: str, name: str, props: dict[str, Any]) -> PolicyResource:
    urn = f"urn:pulumi:dev::uba::{type_token}::{name}"
    return PolicyResource(type_token, unknown_checking_proxy(props), urn, name, OPTIONS, None, None, [], {})


def run_stack_policy(name: str, resources: list[PolicyResource]) -> list[tuple[str, str | None]]:
    reported: list[tuple[str, str | None]] = []
    STACK_POLICIES[name].validate(StackValidationArgs(resources), lambda message, urn: reported.append((message, urn)))
    return reported


def run_resource_policy(name: str, type_token: str, props: dict[str, Any]) -> list[str]:
    reported: list[str] = []
    args = ResourceValidationArgs(type_token, unknown_checking_proxy(props), "urn", "r", OPTIONS, None)
    RESOURCE_POLICIES[name].validate(args, lambda message, _urn: reported.append(message))
    return reported


def trusting(*services: str) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}
    return {"assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})}


def test_a_role_may_trust_the_two_names_of_redshift_but_not_redshift_and_another_service() -> None:
    """Redshift Serverless needs both Redshift principals (the Spectrum role); any other pair is two services."""
    role = type_token(aws.iam.Role)
    redshift, serverless = "redshift.amazonaws.com", "redshift-serverless.amazonaws.com"
    assert run_resource_policy("iam-role-single-service", role, trusting(redshift, serverless)) == []
    for services in ((redshift, "lambda.amazonaws.com"), (serverless, "lambda.amazonaws.com"),
                     (redshift, serverless, "lambda.amazonaws.com")):  # fmt: skip
        [message] = run_resource_policy("iam-role-single-service", role, trusting(*services))
        assert "is not a single-service role" in message and "lambda.amazonaws.com" in message, message


def test_a_key_arn_not_known_until_deployment_still_counts_as_encryption() -> None:
    stream = {"encryptionType": "KMS", "kmsKeyId": UNKNOWN_STRING_VALUE}
    assert run_resource_policy("kinesis-stream-kms", type_token(aws.kinesis.Stream), stream) == []
    assert run_resource_policy("kinesis-stream-kms", type_token(aws.kinesis.Stream), {"encryptionType": "NONE"})


def test_companions_of_a_new_bucket_are_found_through_the_engine_dependency_record() -> None:
    """In a first preview the bucket's id is unknown; the engine still records what `bucket` came from."""
    bucket = preview_resource(type_token(aws.s3.Bucket), "lake", {"id": UNKNOWN_STRING_VALUE, "bucket": "uba-dev-lake"})
    block = preview_resource(
        type_token(aws.s3.BucketPublicAccessBlock), "lake-pab",
        {"bucket": UNKNOWN_STRING_VALUE, "blockPublicAcls": True, "blockPublicPolicy": True,
         "ignorePublicAcls": True, "restrictPublicBuckets": True},
    )  # fmt: skip
    assert [urn for _, urn in run_stack_policy("s3-bucket-public-access-blocked", [bucket, block])] == [bucket.urn]
    block.property_dependencies = {"bucket": [bucket]}
    assert run_stack_policy("s3-bucket-public-access-blocked", [bucket, block]) == []
    other = preview_resource(
        type_token(aws.s3.Bucket), "other", {"id": UNKNOWN_STRING_VALUE, "bucket": "uba-dev-other"}
    )
    assert [urn for _, urn in run_stack_policy("s3-bucket-public-access-blocked", [bucket, other, block])] == [
        other.urn
    ]


def test_a_bucket_policy_built_from_unknown_arns_is_left_for_the_next_preview() -> None:
    bucket = preview_resource(type_token(aws.s3.Bucket), "lake", {"id": "uba-dev-lake", "bucket": "uba-dev-lake"})
    policy = preview_resource(
        type_token(aws.s3.BucketPolicy), "lake-policy", {"bucket": "uba-dev-lake", "policy": UNKNOWN_STRING_VALUE}
    )
    assert run_stack_policy("s3-bucket-tls-only", [bucket, policy]) == []


def test_the_default_aws_provider_tags_count_and_json_text_is_understood() -> None:
    tags = {"Project": "uba", "Environment": "dev", "Owner": "team", "CostCenter": "CC-1"}
    provider = PolicyProviderResource(
        "pulumi:providers:aws", unknown_checking_proxy({"defaultTags": json.dumps({"tags": tags})}), "urn:p", "aws"
    )
    args = ResourceValidationArgs(type_token(aws.sqs.Queue), unknown_checking_proxy({}), "urn", "q", OPTIONS, provider)
    reported: list[str] = []
    RESOURCE_POLICIES["required-tags"].validate(args, lambda message, _urn: reported.append(message))
    assert reported == []


# --- the whole path: synth, and an insecure stack file -----------------------------------------------------


def test_synth_records_violations_and_fails_only_on_mandatory_ones(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "dev.json"
    assert synth.main(["dev", "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert {v["policy"] for v in document["policy"]["violations"]} <= set(DELIBERATE_EXCEPTIONS)
    assert all(v["enforcement"] == "advisory" for v in document["policy"]["violations"])

    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps({"log-group-retention": {"minimumRetentionDays": 3653}}))
    assert synth.main(["dev", "--policy-pack-config", str(strict), "--json", str(out)]) == 1
    violations = json.loads(out.read_text())["policy"]["violations"]
    retention = [v for v in violations if v["policy"] == "log-group-retention"]
    assert retention and all(v["enforcement"] == "mandatory" for v in retention)
    log_groups = {r.name for r in run_stack("dev").of_type(type_token(aws.cloudwatch.LogGroup))}
    assert {v["urn"].rsplit("::", 1)[-1] for v in retention} == log_groups >= {"ingest-logs", "api-access-logs"}
    printed = capsys.readouterr().out
    assert "[mandatory] log-group-retention" in printed and "at least 3653 days" in printed

    strict.write_text(json.dumps({"log-group-retention": {"minimumRetentionDays": "forever"}}))
    assert synth.main(["dev", "--policy-pack-config", str(strict)]) == 2
    assert "minimumRetentionDays: must be of type integer" in capsys.readouterr().err


INSECURE_CHANGES = {
    "platform.encryption": False,  # no such switch: encryption cannot be turned off
    "warehouse.publicly_accessible": True,  # no such switch either
    "warehouse.network.allowed_cidrs": ["0.0.0.0/0"],
    "access.dev_access": "admin",
}


def insecure(raw: dict[str, Any]) -> dict[str, Any]:
    return config_with(INSECURE_CHANGES, raw=raw)


def test_an_insecure_stack_file_is_refused_by_settings_naming_each_key() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(insecure(raw_config("dev")), "dev")
    problems = "\n".join(caught.value.problems)
    assert "platform.encryption: unknown key" in problems
    assert "warehouse.publicly_accessible: unknown key" in problems
    assert "warehouse.network.allowed_cidrs: 0.0.0.0/0 would open the warehouse to every address" in problems
    assert "access.dev_access: must be one of 'builder' or 'read_only'" in problems


def test_the_program_refuses_the_insecure_stack_file_before_registering_anything() -> None:
    raw = insecure(raw_config("dev"))
    overrides = {f"uba:{tier}": raw[tier] for tier in ("platform", "warehouse", "access")}
    with pytest.raises(ProgramError) as caught:
        run_isolated("dev", overrides=overrides)
    assert "platform.encryption: unknown key" in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_insecure_resources_are_named_mandatory_violations(probe: tuple[StackRun, list[Violation]]) -> None:
    """What the stack file cannot express, a program could still build: the pack refuses each by name."""
    _, violations = probe
    found = {(v.policy, resource_name(v), v.enforcement) for v in violations}
    assert ("kinesis-stream-kms", "bad-stream", "mandatory") in found  # encryption off
    assert ("redshift-not-public", "bad-workgroup", "mandatory") in found  # a public warehouse
    assert ("iam-no-wildcard-outside-admin", "bad-dev-everything", "mandatory") in found  # '*' on '*' to dev


# --- budgets and who may publish to the ops topic ------------------------------------------------------------


def test_a_stack_without_a_budget_is_warned_once_and_told_how_to_add_one() -> None:
    run = run_stack("dev", {"uba:cost": {"enabled": False}})
    found = [v for v in evaluate(run.snapshot, stack_policy_config("dev")) if v.policy == "stack-has-budget"]
    assert len(found) == 1 and found[0].enforcement == "advisory" and found[0].urn == ""
    assert "`uba:cost`" in found[0].message and "python -m tools.cost" in found[0].message


def _without_statement(run: StackRun, resource_name: str, sid: str) -> Any:
    """The run's snapshot with one statement taken out of a resource's policy (its state, as a deployment has it)."""
    snapshot = copy.deepcopy(run.snapshot)
    resource = next(r for r in snapshot.resources if r.name == resource_name)
    document = json.loads(resource.state["policy"])
    kept = [s for s in document["Statement"] if s.get("Sid") != sid]
    assert len(kept) == len(document["Statement"]) - 1, f"{resource_name} has no statement {sid}"
    resource.state["policy"] = json.dumps({**document, "Statement": kept})
    return snapshot


@pytest.mark.parametrize(
    ("stack", "resource_name", "sid", "notifier", "problem"),
    [
        ("dev", "platform-key", "BudgetsPublishToEncryptedTopics", "budget",
         "whose policy does not let budgets.amazonaws.com use it"),
        ("dev", "ops-topic-policy", "BudgetsOfThisAccountPublish", "budget",
         "does not let budgets.amazonaws.com call sns:Publish"),
        ("prod", "ops-topic-policy", "CostAnomalyDetectionOfThisAccountPublish", "anomaly-subscription",
         "does not let costalerts.amazonaws.com call sns:Publish"),
        ("prod", "platform-key", "CloudWatchAlarmsPublishToEncryptedTopics", "flink-downtime",
         "whose policy does not let cloudwatch.amazonaws.com use it"),
    ],
)  # fmt: skip
def test_a_publisher_missing_from_the_ops_topics_topic_or_key_policy_is_a_mandatory_violation(
    stack: str, resource_name: str, sid: str, notifier: str, problem: str
) -> None:
    broken = _without_statement(run_stack(stack), resource_name, sid)
    found = evaluate(broken, stack_policy_config(stack), [POLICIES["sns-topic-publishers-allowed"]])
    assert found and all(v.enforcement == "mandatory" for v in found)
    by_notifier = {resource_name_of(v): v.message for v in found}
    assert problem in by_notifier[notifier], by_notifier
    assert "'ops-topic' (uba-" in by_notifier[notifier]


def resource_name_of(violation: Violation) -> str:
    return violation.urn.rsplit("::", 1)[-1]


def test_in_a_first_preview_the_notified_topic_and_its_policy_are_found_through_the_dependency_record() -> None:
    """ARNs are unknown before the first deployment; the engine still records what each property came from."""
    key = preview_resource(
        type_token(aws.kms.Key),
        "key",
        {
            "arn": UNKNOWN_STRING_VALUE,
            "policy": json.dumps(
                {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*"}]}
            ),
        },
    )
    topic = preview_resource(
        type_token(aws.sns.Topic), "ops-topic", {"arn": UNKNOWN_STRING_VALUE, "kmsMasterKeyId": UNKNOWN_STRING_VALUE}
    )
    topic.property_dependencies = {"kmsMasterKeyId": [key]}
    budget = preview_resource(
        type_token(aws.budgets.Budget),
        "budget",
        {"notifications": [{"notificationType": "ACTUAL", "subscriberSnsTopicArns": [UNKNOWN_STRING_VALUE]}]},
    )
    budget.property_dependencies = {"notifications": [topic]}
    [(message, urn)] = run_stack_policy("sns-topic-publishers-allowed", [key, topic, budget])
    assert urn == budget.urn and "no aws.sns.TopicPolicy" in message and "does not let budgets" in message
    unknown_policy = preview_resource(
        type_token(aws.sns.TopicPolicy),
        "ops-topic-policy",
        {"arn": UNKNOWN_STRING_VALUE, "policy": UNKNOWN_STRING_VALUE},
    )
    unknown_policy.property_dependencies = {"arn": [topic]}
    [(message, _)] = run_stack_policy("sns-topic-publishers-allowed", [key, topic, budget, unknown_policy])
    assert "TopicPolicy" not in message and "does not let budgets.amazonaws.com use it" in message


def test_a_topic_outside_the_stack_and_an_alarm_acting_on_something_else_are_not_judged() -> None:
    alarm = preview_resource(
        type_token(aws.cloudwatch.MetricAlarm),
        "alarm",
        {
            "alarmActions": [
                "arn:aws:sns:eu-west-1:999999999999:someone-elses-topic",
                "arn:aws:autoscaling:eu-west-1:1:scalingPolicy:x",
            ]
        },
    )
    assert run_stack_policy("sns-topic-publishers-allowed", [alarm]) == []
