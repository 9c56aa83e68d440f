"""The dashboard page: its files in a private bucket, served by CloudFront with strict security headers.

- The bucket is a `SecureBucket` (public access blocked, TLS only, owner-enforced) whose
  objects are encrypted with a key of its own: CloudFront reads them through origin access
  control, and an SSE-KMS object needs the key policy to let CloudFront decrypt it, for this
  distribution only (CloudFront Developer Guide, "Restrict access to an Amazon S3 origin").
  The platform key is not opened to CloudFront: it guards the data, this key only the page.
- Only this distribution may read the bucket (bucket policy, `AWS:SourceArn`), and nothing
  else may read it at all; the page's files are rebuilt from the repository at every deploy.
- CloudFront: HTTPS only (HTTP redirects), HTTP/2 and 3, TLS 1.2 at least with a custom
  domain (the default `*.cloudfront.net` certificate is CloudFront's own), a response
  headers policy with the page's Content-Security-Policy, HSTS, nosniff, frame denial, no
  referrer, and a permissions policy (`components.live.headers`).
- `config.json` is written by the program from its outputs (API and WebSocket addresses,
  user pool and client ids, the sign-in domain), never by hand.
- Every request is logged: CloudFront's standard logging (v2), a CloudWatch Logs delivery
  from the distribution (its source lives in us-east-1, as CloudFront's own pieces do) to a
  bucket of its own, encrypted with the page's key, kept `site.access_logs_expire_after_days`.
  Log delivery may write there only for this stack's delivery source (`aws:SourceArn`). The
  legacy logging needs bucket ACLs, which every bucket of the platform refuses.
- The distribution sits behind the stack's AWS WAF web ACL when there is one (the edge
  tier's, `uba:edge.waf.enabled`): the same rate limit and managed rules as the collector.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.live.headers import HSTS_SECONDS, PERMISSIONS_POLICY, content_security_policy
from components.shared.arns import PARTITION
from components.shared.buckets import LifecycleRule, SecureBucket, SecureBucketArgs, bucket_name
from components.shared.context import StackContext, child, stateful
from components.shared.iam import policy_json
from settings.live import SiteSettings

SITE_DIR = Path(__file__).resolve().parents[2] / "clients" / "dashboard"
SITE_PURPOSE = "live-site"
LOGS_PURPOSE = "live-site-logs"
# CloudFront's delivery sources, destinations and deliveries live in us-east-1 (CloudFront Developer
# Guide, "Configure standard logging (v2)"); pulumi-aws 7 places a single resource there with `region`.
LOG_DELIVERY_REGION = "us-east-1"
ORIGIN_ID = "dashboard-bucket"
# AWS's managed cache policy "Managed-CachingOptimized" (CloudFront Developer Guide, "Use managed cache
# policies"); its id is the same in every account. Every file is sent with `Cache-Control: no-cache`, so
# browsers revalidate and a deploy is seen at once.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def page_files() -> dict[str, Path]:
    """Object key -> file, for every file of the page (the config is written separately)."""
    files = {path.name: path for path in sorted(SITE_DIR.iterdir()) if path.suffix in CONTENT_TYPES}
    if "index.html" not in files:
        raise FileNotFoundError(f"{SITE_DIR} has no index.html")
    files.pop("config.json", None)  # the deployed config is the program's, never a file's
    return files


@dataclass(frozen=True)
class Site:
    distribution: aws.cloudfront.Distribution
    url: pulumi.Output[str]  # https://<domain>, no trailing slash
    bucket: SecureBucket
    key: aws.kms.Key
    headers_policy: aws.cloudfront.ResponseHeadersPolicy
    logs_bucket: SecureBucket
    log_delivery: aws.cloudwatch.LogDelivery


def site_url(settings: SiteSettings, distribution: aws.cloudfront.Distribution) -> pulumi.Output[str]:
    if settings.domain_name:
        return pulumi.Output.from_input(f"https://{settings.domain_name}")
    return pulumi.Output.concat("https://", distribution.domain_name)


def build_distribution(
    parent: pulumi.Resource,
    context: StackContext,
    settings: SiteSettings,
    connect_origins: list[pulumi.Output[str]],
    web_acl_arn: pulumi.Input[str] | None = None,
) -> tuple[aws.cloudfront.Distribution, aws.cloudfront.ResponseHeadersPolicy]:
    """The distribution (and its headers policy) comes first: the user pool's callback and the key policy name it."""
    access_control = aws.cloudfront.OriginAccessControl(
        "site-origin-access",
        name=context.name("live-site"),
        description="CloudFront signs every request to the dashboard bucket",
        origin_access_control_origin_type="s3",
        signing_behavior="always",
        signing_protocol="sigv4",
        opts=child(parent),
    )
    csp = pulumi.Output.all(*connect_origins).apply(lambda origins: content_security_policy(list(origins)))
    headers = aws.cloudfront.ResponseHeadersPolicy(
        "site-headers",
        name=context.name("live-site-headers"),
        comment="The dashboard page: strict CSP, HSTS, no framing, no sniffing, no referrer",
        security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
            content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
                content_security_policy=csp, override=True
            ),
            strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                access_control_max_age_sec=HSTS_SECONDS, include_subdomains=True, preload=False, override=True
            ),
            content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                override=True
            ),
            frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                frame_option="DENY", override=True
            ),
            referrer_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                referrer_policy="no-referrer", override=True
            ),
        ),
        custom_headers_config=aws.cloudfront.ResponseHeadersPolicyCustomHeadersConfigArgs(
            items=[
                aws.cloudfront.ResponseHeadersPolicyCustomHeadersConfigItemArgs(
                    header="Permissions-Policy", value=PERMISSIONS_POLICY, override=True
                ),
                aws.cloudfront.ResponseHeadersPolicyCustomHeadersConfigItemArgs(
                    header="Cross-Origin-Opener-Policy", value="same-origin", override=True
                ),
            ]
        ),
        opts=child(parent),
    )
    bucket_domain = bucket_name(context, SITE_PURPOSE).apply(lambda name: f"{name}.s3.{context.region}.amazonaws.com")
    custom = settings.domain_name is not None
    distribution = aws.cloudfront.Distribution(
        "site-distribution",
        comment=f"{context.prefix} live dashboard",
        enabled=True,
        is_ipv6_enabled=True,
        http_version="http2and3",
        price_class=settings.price_class,
        default_root_object="index.html",
        aliases=[settings.domain_name] if settings.domain_name else None,
        origins=[
            aws.cloudfront.DistributionOriginArgs(
                origin_id=ORIGIN_ID, domain_name=bucket_domain, origin_access_control_id=access_control.id
            )
        ],
        default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
            target_origin_id=ORIGIN_ID,
            viewer_protocol_policy="redirect-to-https",
            allowed_methods=["GET", "HEAD"],
            cached_methods=["GET", "HEAD"],
            cache_policy_id=CACHING_OPTIMIZED,
            response_headers_policy_id=headers.id,
            compress=True,
        ),
        restrictions=aws.cloudfront.DistributionRestrictionsArgs(
            geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")
        ),
        viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
            acm_certificate_arn=settings.certificate_arn,
            ssl_support_method="sni-only",
            minimum_protocol_version="TLSv1.2_2021",
        )
        if custom
        else aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True),
        web_acl_id=web_acl_arn,
        opts=child(parent),
    )
    return distribution, headers


def build_site(
    parent: pulumi.Resource,
    context: StackContext,
    settings: SiteSettings,
    distribution: aws.cloudfront.Distribution,
    headers: aws.cloudfront.ResponseHeadersPolicy,
    deletion_window_days: int,
    page_config: pulumi.Output[dict[str, Any]],
) -> Site:
    source_name = context.name("live-site")
    source_arn = pulumi.Output.concat(
        f"arn:{PARTITION}:logs:{LOG_DELIVERY_REGION}:", context.account_id, f":delivery-source:{source_name}"
    )
    key = aws.kms.Key(
        "site-key",
        description=f"{context.prefix}: encrypts the live dashboard's files; its CloudFront distribution decrypts",
        enable_key_rotation=True,
        rotation_period_in_days=365,
        deletion_window_in_days=deletion_window_days,
        policy=_key_policy(context, distribution.arn, source_arn),
        opts=stateful(parent, context.protect_stateful),
    )
    aws.kms.Alias(
        "site-key-alias", name=f"alias/{context.name('live-site')}", target_key_id=key.key_id, opts=child(key)
    )
    bucket = SecureBucket(
        "live-site",
        SecureBucketArgs(
            context=replace(context, kms_key_arn=key.arn),
            purpose=SITE_PURPOSE,
            keep_data=False,  # rebuilt from the repository at every deployment
            force_destroy=True,
            extra_statements=lambda arn: [_cloudfront_reads(arn, distribution.arn)],
        ),
        opts=child(parent),
    )
    for name, path in page_files().items():
        aws.s3.BucketObjectv2(
            f"site-{name}",
            bucket=bucket.name,
            key=name,
            source=pulumi.FileAsset(str(path)),
            content_type=CONTENT_TYPES[path.suffix],
            cache_control="no-cache",
            server_side_encryption="aws:kms",
            kms_key_id=key.arn,
            bucket_key_enabled=True,
            opts=child(bucket),
        )
    aws.s3.BucketObjectv2(
        "site-config.json",
        bucket=bucket.name,
        key="config.json",
        content=page_config.apply(lambda config: json.dumps(config, indent=2, sort_keys=True)),
        content_type=CONTENT_TYPES[".json"],
        cache_control="no-cache",
        server_side_encryption="aws:kms",
        kms_key_id=key.arn,
        bucket_key_enabled=True,
        opts=child(bucket),
    )
    logs_bucket, delivery = _access_logs(parent, context, settings, distribution, key, source_name, source_arn)
    return Site(distribution=distribution, url=site_url(settings, distribution), bucket=bucket, key=key,
                headers_policy=headers, logs_bucket=logs_bucket, log_delivery=delivery)  # fmt: skip


def _access_logs(
    parent: pulumi.Resource,
    context: StackContext,
    settings: SiteSettings,
    distribution: aws.cloudfront.Distribution,
    key: aws.kms.Key,
    source_name: str,
    source_arn: pulumi.Output[str],
) -> tuple[SecureBucket, aws.cloudwatch.LogDelivery]:
    """CloudFront standard logging (v2): the distribution's access logs delivered to a bucket of their own."""
    logs = SecureBucket(
        "live-site-logs",
        SecureBucketArgs(
            context=replace(context, kms_key_arn=key.arn),
            purpose=LOGS_PURPOSE,
            keep_data=False,  # operational records that expire; nothing a deployment must keep
            force_destroy=True,
            lifecycle=[LifecycleRule("access-logs", "", expire_after_days=settings.access_logs_expire_after_days)],
            extra_statements=lambda arn: _log_delivery_writes(arn, context.account_id, source_arn),
        ),
        opts=child(parent),
    )
    source = aws.cloudwatch.LogDeliverySource(
        "site-log-source",
        name=source_name,
        log_type="ACCESS_LOGS",
        resource_arn=distribution.arn,
        opts=child(distribution),
        region=LOG_DELIVERY_REGION,
    )
    destination = aws.cloudwatch.LogDeliveryDestination(
        "site-log-destination",
        name=context.name("live-site-logs"),
        output_format="json",
        delivery_destination_configuration=aws.cloudwatch.LogDeliveryDestinationDeliveryDestinationConfigurationArgs(
            destination_resource_arn=logs.arn
        ),
        opts=child(logs),
        region=LOG_DELIVERY_REGION,
    )
    delivery = aws.cloudwatch.LogDelivery(
        "site-log-delivery",
        delivery_source_name=source.name,
        delivery_destination_arn=destination.arn,
        s3_delivery_configurations=[
            aws.cloudwatch.LogDeliveryS3DeliveryConfigurationArgs(
                suffix_path="{DistributionId}/{yyyy}/{MM}/{dd}/{HH}", enable_hive_compatible_path=False
            )
        ],
        opts=child(source, depends_on=[logs]),
        region=LOG_DELIVERY_REGION,
    )
    return logs, delivery


def _log_delivery_writes(
    bucket_arn: pulumi.Output[str], account_id: pulumi.Input[str], source_arn: pulumi.Output[str]
) -> list[dict[str, Any]]:
    """What CloudWatch Logs' delivery needs of the bucket (CloudWatch Logs User Guide, "Logs sent to Amazon S3"),
    for this stack's delivery source only."""
    only_this_source = {"StringEquals": {"aws:SourceAccount": account_id}, "ArnLike": {"aws:SourceArn": source_arn}}
    return [
        {
            "Sid": "LogDeliveryChecksTheBucket",
            "Effect": "Allow",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
            "Resource": bucket_arn,
            "Condition": only_this_source,
        },
        {
            "Sid": "LogDeliveryWritesTheDashboardsAccessLogs",
            "Effect": "Allow",
            "Principal": {"Service": "delivery.logs.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": pulumi.Output.concat(bucket_arn, "/*"),
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id, "s3:x-amz-acl": "bucket-owner-full-control"},
                "ArnLike": {"aws:SourceArn": source_arn},
            },
        },
    ]


def _cloudfront_reads(bucket_arn: pulumi.Output[str], distribution_arn: pulumi.Output[str]) -> dict[str, Any]:
    return {
        "Sid": "OnlyTheDashboardDistributionReads",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": pulumi.Output.concat(bucket_arn, "/*"),
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
    }


def _key_policy(
    context: StackContext, distribution_arn: pulumi.Output[str], log_source_arn: pulumi.Output[str]
) -> pulumi.Output[str]:
    root = pulumi.Output.concat(f"arn:{PARTITION}:iam::", context.account_id, ":root")
    return policy_json(
        [
            {
                "Sid": "AccountAdministersKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "TheDashboardDistributionDecryptsThePage",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            },
            {
                # SSE-KMS objects in the logs bucket (CloudWatch Logs User Guide, "Amazon S3 bucket
                # server-side encryption"): log delivery encrypts with this key, for this stack's source only.
                "Sid": "LogDeliveryEncryptsTheAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": context.account_id},
                    "ArnLike": {"aws:SourceArn": log_source_arn},
                },
            },
        ]
    )
