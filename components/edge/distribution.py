"""The CloudFront distribution in front of ingest: behaviors, the viewer-request function, real-time logs.

Three behaviors, each with the viewer-request function (`viewer_request.js`) and a real-time
log configuration, all HTTPS only, nothing cached:

| path            | origin                | at the edge                                       | logged           |
| --------------- | --------------------- | ------------------------------------------------- | ---------------- |
| `/events`       | the ingest API stage  | CORS preflight answered; POST forwarded unchanged | sampled          |
| the beacon path | (never reached)       | GET/POST answered 204; events in the query string | every request    |
| anything else   | (never reached)       | 404                                               | sampled          |

The API origin is the stage's regional endpoint over HTTPS (TLS 1.2) with the stage as the
origin path; CloudFront forwards `Content-Type`, `User-Agent` and the client's `x-api-key`
(so the API's usage plan still meters each client key) and no cookies or query strings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.shared.context import StackContext, child
from components.shared.iam import role_with_policy
from lambdas.edge_logs import REQUIRED_FIELDS
from settings.edge import EdgeSettings

FUNCTION_SOURCE = Path(__file__).with_name("viewer_request.js")
CONFIG_MARKER = "/*CONFIG*/"
EVENTS_PATH = "/events"
API_ORIGIN = "ingest-api"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]  # CloudFront's set that admits POST
CACHED_METHODS = ["GET", "HEAD"]
# AWS managed cache policy "Managed-CachingDisabled" (CloudFront Developer Guide, "Use managed cache policies").
CACHING_DISABLED_POLICY_ID = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
FORWARDED_HEADERS = ["content-type", "user-agent", "x-api-key"]
PREFLIGHT_MAX_AGE_SECONDS = 600
RETRY_AFTER = "Retry-After"  # the ingest API's hint on 503, which the tracker reads cross-origin
LOG_WRITER_ACTIONS = ["kinesis:DescribeStreamSummary", "kinesis:DescribeStream", "kinesis:PutRecord",
                      "kinesis:PutRecords"]  # fmt: skip


def function_code(beacon_path: str, allowed_origins: list[str]) -> str:
    """The viewer-request function with the stack's settings rendered into its CONFIG."""
    source = FUNCTION_SOURCE.read_text()
    if source.count(CONFIG_MARKER) != 1:
        raise ValueError(f"{FUNCTION_SOURCE.name} must hold {CONFIG_MARKER} exactly once")
    config = {"beaconPath": beacon_path, "allowedOrigins": allowed_origins,
              "preflightMaxAge": PREFLIGHT_MAX_AGE_SECONDS}  # fmt: skip
    head, tail = source.split(CONFIG_MARKER)
    # The default object after the marker stays in the source for reading; the rendered one replaces it.
    return head + json.dumps(config, separators=(",", ":")) + ";" + tail.split(";", 1)[1]


@dataclass(frozen=True)
class DistributionArgs:
    settings: EdgeSettings
    context: StackContext
    provider: aws.Provider  # us-east-1: the certificate and the web ACL
    logs_stream: aws.kinesis.Stream
    api_id: pulumi.Input[str]
    api_stage_name: str


@dataclass(frozen=True)
class EdgeDistribution:
    distribution: aws.cloudfront.Distribution
    function: aws.cloudfront.Function
    function_name: str
    beacon_logs: aws.cloudfront.RealtimeLogConfig
    request_logs: aws.cloudfront.RealtimeLogConfig
    web_acl: aws.wafv2.WebAcl | None
    domain_name: pulumi.Output[str]  # the custom name when the stack has one, else *.cloudfront.net


def build_distribution(parent: pulumi.Resource, args: DistributionArgs) -> EdgeDistribution:
    settings, context = args.settings, args.context
    function_name = context.name("edge-viewer-request")
    function = aws.cloudfront.Function(
        "edge-viewer-request",
        name=function_name,
        runtime="cloudfront-js-2.0",
        comment="Beacons answered at the edge, CORS preflight of /events, 404 elsewhere",
        code=function_code(settings.beacon_path, list(settings.allowed_origins)),
        publish=True,
        opts=child(parent),
    )
    beacon_logs, request_logs = _realtime_logs(parent, args)
    certificate = _certificate(parent, args) if settings.domain is not None else None
    web_acl = _web_acl(parent, args) if settings.waf.enabled else None
    response_headers = _response_headers(parent, args)
    origin_request = aws.cloudfront.OriginRequestPolicy(
        "edge-to-ingest",
        name=context.name("edge-to-ingest"),
        comment="What POST /events needs at the ingest API: the body's type, the caller's agent and API key",
        cookies_config=aws.cloudfront.OriginRequestPolicyCookiesConfigArgs(cookie_behavior="none"),
        query_strings_config=aws.cloudfront.OriginRequestPolicyQueryStringsConfigArgs(query_string_behavior="none"),
        headers_config=aws.cloudfront.OriginRequestPolicyHeadersConfigArgs(
            header_behavior="whitelist",
            headers=aws.cloudfront.OriginRequestPolicyHeadersConfigHeadersArgs(items=FORWARDED_HEADERS),
        ),
        opts=child(parent),
    )
    on_viewer_request = [
        aws.cloudfront.DistributionOrderedCacheBehaviorFunctionAssociationArgs(
            event_type="viewer-request", function_arn=function.arn
        )
    ]
    common: dict[str, Any] = {
        "target_origin_id": API_ORIGIN,
        "viewer_protocol_policy": "https-only",  # a redirect would turn a beacon POST into a GET without it
        "allowed_methods": ALL_METHODS,
        "cached_methods": CACHED_METHODS,
        "cache_policy_id": CACHING_DISABLED_POLICY_ID,
        "compress": True,
    }
    distribution = aws.cloudfront.Distribution(
        "edge-distribution",
        comment=f"{context.prefix}: POST /events to ingest, beacons at {settings.beacon_path} into real-time logs",
        enabled=True,
        is_ipv6_enabled=True,
        http_version="http2and3",
        price_class=settings.price_class,
        aliases=[settings.domain.name] if settings.domain is not None else None,
        origins=[
            aws.cloudfront.DistributionOriginArgs(
                origin_id=API_ORIGIN,
                domain_name=pulumi.Output.concat(args.api_id, f".execute-api.{context.region}.amazonaws.com"),
                origin_path=f"/{args.api_stage_name}",
                custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                    http_port=80,
                    https_port=443,
                    origin_protocol_policy="https-only",
                    origin_ssl_protocols=["TLSv1.2"],
                ),
            )
        ],
        ordered_cache_behaviors=[
            aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                path_pattern=EVENTS_PATH,
                origin_request_policy_id=origin_request.id,
                response_headers_policy_id=response_headers.id if response_headers is not None else None,
                function_associations=on_viewer_request,
                realtime_log_config_arn=request_logs.arn,
                **common,
            ),
            aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                path_pattern=settings.beacon_path,
                function_associations=on_viewer_request,
                realtime_log_config_arn=beacon_logs.arn,
                **common,
            ),
        ],
        default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
            function_associations=[
                aws.cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs(
                    event_type="viewer-request", function_arn=function.arn
                )
            ],
            realtime_log_config_arn=request_logs.arn,
            **common,
        ),
        viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
            acm_certificate_arn=certificate.certificate_arn,
            ssl_support_method="sni-only",
            minimum_protocol_version=settings.domain.minimum_tls if settings.domain is not None else None,
        )
        if certificate is not None
        else aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True),
        restrictions=aws.cloudfront.DistributionRestrictionsArgs(
            geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")
        ),
        web_acl_id=web_acl.arn if web_acl is not None else None,
        opts=child(parent),
    )
    domain_name: pulumi.Output[str] = distribution.domain_name
    if settings.domain is not None:
        _dns_alias(parent, settings, distribution)
        domain_name = pulumi.Output.from_input(settings.domain.name)
    return EdgeDistribution(distribution, function, function_name, beacon_logs, request_logs, web_acl, domain_name)


def _realtime_logs(
    parent: pulumi.Resource, args: DistributionArgs
) -> tuple[aws.cloudfront.RealtimeLogConfig, aws.cloudfront.RealtimeLogConfig]:
    """Two configurations on one stream: every beacon (its events exist nowhere else), and a sample of the rest."""
    context = args.context
    writer, writer_policy = role_with_policy(
        parent, context, "edge-log-writer", "cloudfront.amazonaws.com",
        [
            {"Sid": "WriteRealtimeLogs", "Effect": "Allow", "Action": LOG_WRITER_ACTIONS,
             "Resource": args.logs_stream.arn},
            # The stream is encrypted with the platform key (CloudFront Developer Guide, real-time logs, IAM role).
            {"Sid": "EncryptRealtimeLogs", "Effect": "Allow", "Action": "kms:GenerateDataKey",
             "Resource": context.kms_key_arn},
        ],
        f"{context.name('edge')} CloudFront real-time logs writer",
    )  # fmt: skip
    endpoint = aws.cloudfront.RealtimeLogConfigEndpointArgs(
        stream_type="Kinesis",
        kinesis_stream_config=aws.cloudfront.RealtimeLogConfigEndpointKinesisStreamConfigArgs(
            role_arn=writer.arn, stream_arn=args.logs_stream.arn
        ),
    )
    configs = []
    for logical, rate in (("edge-beacon-logs", 100), ("edge-request-logs", args.settings.realtime_logs.sampling_rate)):
        configs.append(
            aws.cloudfront.RealtimeLogConfig(
                logical,
                name=context.name(logical),
                sampling_rate=rate,
                fields=list(REQUIRED_FIELDS),  # in CloudFront's documented order, the order it writes them
                endpoint=endpoint,
                # CloudFront checks the role's grants when the configuration is created.
                opts=child(parent, depends_on=[writer_policy]),
            )
        )
    return configs[0], configs[1]


def _response_headers(parent: pulumi.Resource, args: DistributionArgs) -> aws.cloudfront.ResponseHeadersPolicy | None:
    """CORS on the API's answers for the allowed origins (the function answers their preflight)."""
    origins = list(args.settings.allowed_origins)
    if not origins:
        return None
    return aws.cloudfront.ResponseHeadersPolicy(
        "edge-events-cors",
        name=args.context.name("edge-events-cors"),
        comment="Lets the allowed web origins read POST /events answers, Retry-After included",
        cors_config=aws.cloudfront.ResponseHeadersPolicyCorsConfigArgs(
            access_control_allow_credentials=False,
            access_control_allow_headers=aws.cloudfront.ResponseHeadersPolicyCorsConfigAccessControlAllowHeadersArgs(
                items=["content-type", "x-api-key"]
            ),
            access_control_allow_methods=aws.cloudfront.ResponseHeadersPolicyCorsConfigAccessControlAllowMethodsArgs(
                items=["POST", "OPTIONS"]
            ),
            access_control_allow_origins=aws.cloudfront.ResponseHeadersPolicyCorsConfigAccessControlAllowOriginsArgs(
                items=origins
            ),
            access_control_expose_headers=aws.cloudfront.ResponseHeadersPolicyCorsConfigAccessControlExposeHeadersArgs(
                items=[RETRY_AFTER]
            ),
            access_control_max_age_sec=PREFLIGHT_MAX_AGE_SECONDS,
            origin_override=True,
        ),
        security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
            content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                override=True
            ),
            strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                access_control_max_age_sec=31_536_000, include_subdomains=False, override=True
            ),
        ),
        opts=child(parent),
    )


@dataclass(frozen=True)
class _Certificate:
    certificate_arn: pulumi.Output[str]


def _certificate(parent: pulumi.Resource, args: DistributionArgs) -> _Certificate:
    """An ACM certificate in us-east-1 for the custom name, validated by DNS in the stack's hosted zone."""
    domain = args.settings.domain
    assert domain is not None
    on_us_east_1 = {"provider": args.provider}
    certificate = aws.acm.Certificate(
        "edge-certificate",
        domain_name=domain.name,
        validation_method="DNS",
        key_algorithm="EC_prime256v1",
        opts=child(parent, **on_us_east_1),
    )
    option = certificate.domain_validation_options.apply(lambda options: options[0])
    record = aws.route53.Record(
        "edge-certificate-validation",
        zone_id=domain.hosted_zone_id,
        name=option.resource_record_name,
        type=option.resource_record_type,
        records=[option.resource_record_value],
        ttl=300,
        allow_overwrite=True,  # ACM asks for the same record again when the certificate is replaced
        opts=child(certificate),
    )
    validation = aws.acm.CertificateValidation(
        "edge-certificate-issued",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn],
        opts=child(certificate, **on_us_east_1),
    )
    return _Certificate(validation.certificate_arn)


def _dns_alias(parent: pulumi.Resource, settings: EdgeSettings, distribution: aws.cloudfront.Distribution) -> None:
    domain = settings.domain
    assert domain is not None
    for record_type in ("A", "AAAA"):
        aws.route53.Record(
            f"edge-alias-{record_type.lower()}",
            zone_id=domain.hosted_zone_id,
            name=domain.name,
            type=record_type,
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=distribution.domain_name,
                    zone_id=distribution.hosted_zone_id,
                    evaluate_target_health=False,
                )
            ],
            opts=child(parent),
        )


def _web_acl(parent: pulumi.Resource, args: DistributionArgs) -> aws.wafv2.WebAcl:
    """A CLOUDFRONT web ACL (in us-east-1): a per-IP rate limit first, then AWS managed rule groups."""
    waf, context = args.settings.waf, args.context

    def visibility(metric: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
        return aws.wafv2.WebAclRuleVisibilityConfigArgs(
            cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
        )

    rules = [
        aws.wafv2.WebAclRuleArgs(
            name="rate-limit-per-ip",
            priority=0,
            action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
            statement=aws.wafv2.WebAclRuleStatementArgs(
                rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                    limit=waf.rate_limit_per_5_minutes, aggregate_key_type="IP", evaluation_window_sec=300
                )
            ),
            visibility_config=visibility(f"{context.prefix}-edge-rate-limit"),
        ),
        *(
            aws.wafv2.WebAclRuleArgs(
                name=group,
                priority=priority,
                override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                    none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()
                ),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                        name=group, vendor_name="AWS"
                    )
                ),
                visibility_config=visibility(f"{context.prefix}-edge-{group}"),
            )
            for priority, group in enumerate(waf.managed_rule_groups, start=1)
        ),
    ]
    return aws.wafv2.WebAcl(
        "edge-web-acl",
        name=context.name("edge"),
        description="Rate limit per IP and AWS managed rules in front of the edge distribution",
        scope="CLOUDFRONT",
        default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
        rules=rules,
        visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
            cloudwatch_metrics_enabled=True, metric_name=f"{context.prefix}-edge", sampled_requests_enabled=True
        ),
        opts=child(parent, provider=args.provider),
    )
