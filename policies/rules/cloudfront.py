"""CloudFront distributions: HTTPS to viewers and origins, TLS 1.2 and up, every request logged, WAF when asked.

Viewers: every cache behavior refuses plain HTTP (`https-only`, or `redirect-to-https`);
a custom certificate serves TLS 1.2 or later (`TLSv1.2_*`). CloudFront's default
`*.cloudfront.net` certificate cannot be held to TLS 1.2 (CloudFront accepts TLS 1.0 on it),
so a stack whose policy config sets `cloudfront-viewer-tls.requireCustomCertificate` must use
its own domain. Origins: custom origins only over HTTPS with TLS 1.2. Logging: standard logs (legacy,
or v2 through a CloudWatch Logs delivery) or a real-time log configuration on every behavior, so no
request path goes unrecorded.
WAF: a stack whose policy config sets `cloudfront-web-acl.requireWebAcl` puts a web ACL in front.
"""

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

from .common import MANDATORY, UNKNOWN, as_list, for_types, is_set, label_of, lookup, of_type, schema, setting, truthy
from .remedies import WEB_ACL_SETTINGS, remedy

DISTRIBUTION: Final = "aws:cloudfront/distribution:Distribution"
LOG_SOURCE: Final = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
LOG_DELIVERY: Final = "aws:cloudwatch/logDelivery:LogDelivery"
VIEWER_HTTPS: Final = ("https-only", "redirect-to-https")
WEAK_ORIGIN_PROTOCOLS: Final = ("SSLv3", "TLSv1", "TLSv1.1")
TLS_CONFIG: Final = schema(
    requireCustomCertificate={
        "type": "boolean",
        "default": False,
        "description": "Refuse CloudFront's default *.cloudfront.net certificate, which accepts TLS 1.0.",
    },
)
WEB_ACL_CONFIG: Final = schema(
    requireWebAcl={
        "type": "boolean",
        "default": False,
        "description": "Every distribution has an AWS WAF web ACL.",
    }
)


def _behaviors(props: Any) -> list[tuple[str, Any]]:
    ordered = lookup(props, "orderedCacheBehaviors") or []
    found = [("default", lookup(props, "defaultCacheBehavior"))]
    if ordered is not UNKNOWN:
        found += [(str(lookup(ordered, i, "pathPattern")), lookup(ordered, i)) for i in range(len(ordered))]
    return [(path, behavior) for path, behavior in found if behavior is not None]


@for_types(DISTRIBUTION)
def check_viewer_https(args: ResourceValidationArgs, report: ReportViolation) -> None:
    plain = [
        path
        for path, behavior in _behaviors(args.props)
        if lookup(behavior, "viewerProtocolPolicy") not in (*VIEWER_HTTPS, UNKNOWN)
    ]
    if plain:
        report(
            f"CloudFront distribution {label_of(args)} serves plain HTTP on {plain}: set viewer_protocol_policy to "
            "'https-only' (or 'redirect-to-https') on every cache behavior.",
            None,
        )


@for_types(DISTRIBUTION)
def check_viewer_tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    certificate = lookup(args.props, "viewerCertificate")
    custom = is_set(lookup(certificate, "acmCertificateArn")) or is_set(lookup(certificate, "iamCertificateId"))
    if custom:
        version = lookup(certificate, "minimumProtocolVersion")
        if version is UNKNOWN or (isinstance(version, str) and version.startswith(("TLSv1.2_", "TLSv1.3"))):
            return
        report(
            f"CloudFront distribution {label_of(args)} accepts viewers below TLS 1.2 ({version!r}): set "
            "viewer_certificate.minimum_protocol_version to 'TLSv1.2_2021' (`uba:edge.domain.minimum_tls`).",
            None,
        )
    elif truthy(setting(args, TLS_CONFIG, "requireCustomCertificate")):
        report(
            f"CloudFront distribution {label_of(args)} uses the default *.cloudfront.net certificate, on which "
            "CloudFront accepts TLS 1.0: give the stack its own name, `uba:edge.domain` with `name` and "
            "`hosted_zone_id` in the stack file, which makes the program serve it with an ACM certificate "
            "and TLSv1.2_2021.",
            None,
        )


@for_types(DISTRIBUTION)
def check_origin_https(args: ResourceValidationArgs, report: ReportViolation) -> None:
    origins = lookup(args.props, "origins") or []
    if origins is UNKNOWN:
        return
    for index in range(len(origins)):
        custom = lookup(origins, index, "customOriginConfig")
        if custom is None or custom is UNKNOWN:
            continue
        policy = lookup(custom, "originProtocolPolicy")
        weak = [p for p in as_list(lookup(custom, "originSslProtocols")) if p in WEAK_ORIGIN_PROTOCOLS]
        if policy not in ("https-only", UNKNOWN) or weak:
            report(
                f"CloudFront distribution {label_of(args)} reaches origin {lookup(origins, index, 'originId')!r} "
                f"over {policy!r} with {weak or 'TLS'}: set origin_protocol_policy='https-only' and "
                "origin_ssl_protocols=['TLSv1.2'].",
                None,
            )


def _delivers_access_logs(distribution: PolicyResource, resources: list[PolicyResource]) -> bool:
    """Standard logging (v2): an ACCESS_LOGS delivery source on the distribution, and a delivery from it."""
    sources = [
        r.urn for r in resources
        if r.resource_type == LOG_SOURCE and lookup(r.props, "logType") == "ACCESS_LOGS"
        and distribution.urn in {d.urn for d in r.dependencies}
    ]  # fmt: skip
    return any(r.resource_type == LOG_DELIVERY and {d.urn for d in r.dependencies} & set(sources) for r in resources)


def check_logged(args: StackValidationArgs, report: ReportViolation) -> None:
    for distribution in of_type(args, DISTRIBUTION):
        props = distribution.props
        if is_set(lookup(props, "loggingConfig", "bucket")) or _delivers_access_logs(distribution, args.resources):
            continue
        unlogged = [path for path, behavior in _behaviors(props)
                    if not is_set(lookup(behavior, "realtimeLogConfigArn"))]  # fmt: skip
        if unlogged:
            report(
                f"CloudFront distribution {label_of(distribution)} does not log requests to {unlogged}: attach a "
                "real-time log configuration (realtime_log_config_arn) to every cache behavior, set logging_config, "
                "or deliver its ACCESS_LOGS with standard logging v2 (aws.cloudwatch.LogDeliverySource on the "
                "distribution and an aws.cloudwatch.LogDelivery, as components.live.site does).",
                distribution.urn,
            )


@for_types(DISTRIBUTION)
def check_web_acl(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not truthy(setting(args, WEB_ACL_CONFIG, "requireWebAcl")) or is_set(lookup(args.props, "webAclId")):
        return
    fix = "set web_acl_id to an AWS WAF web ACL of CLOUDFRONT scope"
    report(
        f"CloudFront distribution {label_of(args)} has no AWS WAF web ACL in front of it, which this stack requires: "
        f"{remedy(WEB_ACL_SETTINGS, args.name, True, fix)}.",
        None,
    )


POLICIES: Final = [
    ResourceValidationPolicy(
        name="cloudfront-viewer-https",
        description="CloudFront cache behaviors refuse plain HTTP.",
        enforcement_level=MANDATORY,
        validate=check_viewer_https,
    ),
    ResourceValidationPolicy(
        name="cloudfront-viewer-tls",
        description="CloudFront serves custom certificates with TLS 1.2 or later; a stack may require one.",
        enforcement_level=MANDATORY,
        validate=check_viewer_tls,
        config_schema=TLS_CONFIG,
    ),
    ResourceValidationPolicy(
        name="cloudfront-origin-https",
        description="CloudFront reaches custom origins over HTTPS with TLS 1.2.",
        enforcement_level=MANDATORY,
        validate=check_origin_https,
    ),
    StackValidationPolicy(
        name="cloudfront-logging",
        description="CloudFront distributions log every request path (standard logs, v1 or v2, or real-time logs).",
        enforcement_level=MANDATORY,
        validate=check_logged,
    ),
    ResourceValidationPolicy(
        name="cloudfront-web-acl",
        description="CloudFront distributions have an AWS WAF web ACL where the stack's policy config asks for it.",
        enforcement_level=MANDATORY,
        validate=check_web_acl,
        config_schema=WEB_ACL_CONFIG,
    ),
]
