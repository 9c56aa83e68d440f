"""Log search is encrypted with the platform key, private or IAM-only, names who reads it, and keeps what fails.

OpenSearch Serverless: a collection's encryption policy names a customer-managed key (never
an AWS-owned one), its data access policies name principals (never `*`, never every
collection), and a network policy that admits public networks is the stack's visible
choice (advisory; `uba:search.network.access: vpc` clears it). An OpenSearch Service domain:
encrypted at rest with a key and node to node, HTTPS only with TLS 1.2 or later, fine-grained
access control on without anonymous access, and inside a VPC (no public endpoint). Firehose
into either keeps what it could not index encrypted, and logs its delivery errors.
"""

from __future__ import annotations

import json
from typing import Any, Final

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import ADVISORY, MANDATORY, UNKNOWN, falsy, for_types, is_set, label_of, lookup, of_type, plain, truthy
from .remedies import NETWORK_ACCESS_SETTINGS, remedy

COLLECTION: Final = "aws:opensearch/serverlessCollection:ServerlessCollection"
SECURITY_POLICY: Final = "aws:opensearch/serverlessSecurityPolicy:ServerlessSecurityPolicy"
ACCESS_POLICY: Final = "aws:opensearch/serverlessAccessPolicy:ServerlessAccessPolicy"
DOMAIN: Final = "aws:opensearch/domain:Domain"
FIREHOSE: Final = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
TLS_12_POLICIES: Final = ("Policy-Min-TLS-1-2-2019-07", "Policy-Min-TLS-1-2-PFS-2023-10")
OPENSEARCH_DESTINATIONS: Final = {"opensearch": "opensearchConfiguration",
                                  "opensearchserverless": "opensearchserverlessConfiguration"}  # fmt: skip


def _document(value: Any) -> Any:
    """A policy document given as JSON text (or already parsed); UNKNOWN until the next preview."""
    value = plain(value)
    if value is UNKNOWN or value is None:
        return value
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return None
    return value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _covers(rule: Any, collection_name: Any) -> bool:
    resources = rule.get("Resource", []) if isinstance(rule, dict) else []
    return any(
        resource == f"collection/{collection_name}"
        or (resource.endswith("*") and f"collection/{collection_name}".startswith(resource[:-1]))
        for resource in resources
        if isinstance(resource, str)
    )


def check_collection_encrypted(args: StackValidationArgs, report: ReportViolation) -> None:
    encryption = [p for p in of_type(args, SECURITY_POLICY) if lookup(p.props, "type") == "encryption"]
    documents = [(p, _document(lookup(p.props, "policy"))) for p in encryption]
    for policy, document in documents:
        if isinstance(document, dict) and (document.get("AWSOwnedKey") is True or not document.get("KmsARN")):
            report(
                f"OpenSearch Serverless encryption policy {label_of(policy)} uses an AWS-owned key: set "
                f'"AWSOwnedKey": false and "KmsARN" to the platform key (context.kms_key_arn).',
                policy.urn,
            )
    for collection in of_type(args, COLLECTION):
        name = lookup(collection.props, "name")
        if name is UNKNOWN or any(d is UNKNOWN for _, d in documents):
            continue
        covered = [d for _, d in documents if isinstance(d, dict) and any(_covers(r, name) for r in d.get("Rules", []))]
        if not any(d.get("AWSOwnedKey") is False and d.get("KmsARN") for d in covered):
            report(
                f"OpenSearch Serverless collection {label_of(collection)} has no encryption policy with the platform "
                f"key: add an aws.opensearch.ServerlessSecurityPolicy of type 'encryption' whose rules name "
                f'collection/{name}, with "AWSOwnedKey": false and "KmsARN".',
                collection.urn,
            )


@for_types(ACCESS_POLICY)
def check_data_access_named(args: ResourceValidationArgs, report: ReportViolation) -> None:
    document = _document(lookup(args.props, "policy"))
    if document is UNKNOWN or document is None:
        return
    problems = []
    for statement in _as_list(document):
        principals = statement.get("Principal", []) if isinstance(statement, dict) else []
        if any(p == "*" or (isinstance(p, str) and p.endswith(":root")) for p in principals):
            problems.append("grants to every principal (`*` or an account root)")
        for rule in statement.get("Rules", []) if isinstance(statement, dict) else []:
            if any(resource in ("collection/*", "index/*/*") for resource in rule.get("Resource", [])):
                problems.append(f"reaches every collection ({rule.get('ResourceType')} {rule.get('Resource')})")
    if problems:
        report(
            f"OpenSearch Serverless data access policy {label_of(args)} {'; '.join(sorted(set(problems)))}: name "
            f"the IAM roles and users of this stack, on this collection's name and its search indices.",
            None,
        )


@for_types(SECURITY_POLICY)
def check_network_private(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if lookup(args.props, "type") != "network":
        return
    document = _document(lookup(args.props, "policy"))
    if document is UNKNOWN or document is None:
        return
    if any(isinstance(s, dict) and s.get("AllowFromPublic") is True for s in _as_list(document)):
        name = args.urn.rsplit("::", 1)[-1]
        code_fix = "reach the collection only through a VPC endpoint (AllowFromPublic false, SourceVPCEs)"
        fix = remedy(NETWORK_ACCESS_SETTINGS, name, "vpc", code_fix)
        report(
            f"OpenSearch Serverless network policy {label_of(args)} admits public networks (requests must still be "
            f"IAM-signed and allowed by the data access policy): {fix}.",
            None,
        )


@for_types(DOMAIN)
def check_domain_secure(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    problems = []
    if not truthy(lookup(props, "encryptAtRest", "enabled")) or not is_set(lookup(props, "encryptAtRest", "kmsKeyId")):
        problems.append("encrypt_at_rest with the platform key (enabled=True, kms_key_id)")
    if not truthy(lookup(props, "nodeToNodeEncryption", "enabled")):
        problems.append("node_to_node_encryption enabled")
    endpoint = lookup(props, "domainEndpointOptions")
    if not truthy(lookup(endpoint, "enforceHttps")) or lookup(endpoint, "tlsSecurityPolicy") not in (
        *TLS_12_POLICIES,
        UNKNOWN,
    ):
        problems.append(f"domain_endpoint_options enforce_https=True with tls_security_policy {TLS_12_POLICIES[-1]}")
    security = lookup(props, "advancedSecurityOptions")
    if not truthy(lookup(security, "enabled")) or truthy(lookup(security, "anonymousAuthEnabled")):
        problems.append("advanced_security_options enabled (fine-grained access control), anonymous auth off")
    subnets = lookup(props, "vpcOptions", "subnetIds")
    if subnets is not UNKNOWN and not plain(subnets):
        problems.append("vpc_options with the warehouse subnets (no public endpoint)")
    if problems:
        report(f"OpenSearch domain {label_of(args)} needs " + "; ".join(problems) + ".", None)


@for_types(FIREHOSE)
def check_failures_kept(args: ResourceValidationArgs, report: ReportViolation) -> None:
    key = OPENSEARCH_DESTINATIONS.get(lookup(args.props, "destination"))
    if key is None:
        return
    config = lookup(args.props, key)
    problems = []
    if not is_set(lookup(config, "s3Configuration", "kmsKeyArn")):
        problems.append("encrypt the documents it keeps (s3_configuration.kms_key_arn: the platform key)")
    if falsy(lookup(config, "cloudwatchLoggingOptions", "enabled")) or lookup(config, "cloudwatchLoggingOptions") in (
        None,
        {},
    ):
        problems.append("log delivery errors (cloudwatch_logging_options enabled, with a log group)")
    if problems:
        report(
            f"Firehose {label_of(args)} delivers to OpenSearch but does not " + " nor ".join(problems)
            + ": documents OpenSearch refuses go to its S3 backup, and only there.",
            None,
        )  # fmt: skip


POLICIES: Final = [
    StackValidationPolicy(
        name="opensearch-collection-encrypted",
        description="OpenSearch Serverless collections are encrypted with a customer-managed KMS key.",
        enforcement_level=MANDATORY,
        validate=check_collection_encrypted,
    ),
    ResourceValidationPolicy(
        name="opensearch-data-access-named",
        description="OpenSearch Serverless data access policies name principals and collections, never all.",
        enforcement_level=MANDATORY,
        validate=check_data_access_named,
    ),
    ResourceValidationPolicy(
        name="opensearch-collection-network-private",
        description="OpenSearch Serverless network policies admit only VPC endpoints (public is a stack's choice).",
        enforcement_level=ADVISORY,
        validate=check_network_private,
    ),
    ResourceValidationPolicy(
        name="opensearch-domain-secure",
        description="OpenSearch domains: encrypted at rest and in transit, HTTPS with TLS 1.2+, fine-grained "
        "access control, in a VPC.",
        enforcement_level=MANDATORY,
        validate=check_domain_secure,
    ),
    ResourceValidationPolicy(
        name="firehose-opensearch-failures-kept",
        description="Firehose into OpenSearch keeps refused documents encrypted and logs delivery errors.",
        enforcement_level=MANDATORY,
        validate=check_failures_kept,
    ),
]
