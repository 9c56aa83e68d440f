"""The edge tier's settings (`uba:edge`): CloudFront in front of ingest, beacons, real-time logs, WAF."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from settings.base import Matching, Model, StreamSettings, TierSettings

# A host name CloudFront and ACM take for an alternate domain name: lowercase labels, at least two.
DomainName = Annotated[
    str,
    StringConstraints(max_length=253),
    Matching(
        r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
        "a lowercase host name such as collect.example.com",
    ),
]
HostedZoneId = Annotated[str, Matching(r"Z[0-9A-Z]{4,31}", "a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ")]
# An origin a browser sends in its `Origin` header: scheme, host and optional port, nothing more.
WebOrigin = Annotated[
    str,
    Matching(
        r"https://[a-z0-9.-]+(:\d{1,5})?|http://localhost(:\d{1,5})?",
        "an https origin such as https://www.example.com (or http://localhost:PORT)",
    ),
]
BeaconPath = Annotated[
    str, Matching(r"/[a-z0-9][a-z0-9-]{0,30}", "a path of one segment such as /collect (lowercase, digits, -)")
]
# AWS managed rule groups for AWS WAF that make sense in front of a JSON collection API.
ManagedRuleGroup = Literal[
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesBotControlRuleSet",
]

DEFAULT_RULE_GROUPS: tuple[ManagedRuleGroup, ...] = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


class EdgeDomainSettings(Model):
    name: DomainName = Field(description="Alternate domain name of the distribution, e.g. `collect.example.com`.")
    hosted_zone_id: HostedZoneId = Field(
        description="Route 53 hosted zone of the name: the program validates the ACM certificate (in us-east-1) "
        "by DNS and points the name at the distribution there."
    )
    minimum_tls: Literal["TLSv1.2_2021", "TLSv1.2_2019", "TLSv1.2_2018"] = Field(
        default="TLSv1.2_2021", description="CloudFront security policy for viewers (TLS 1.2 and up)."
    )


class WafSettings(Model):
    enabled: bool = False
    """Put an AWS WAF web ACL (CLOUDFRONT scope, in us-east-1) in front of the distribution."""
    rate_limit_per_5_minutes: int = Field(default=2000, ge=10, le=2_000_000_000)
    """Requests one IP address may make in 5 minutes before WAF blocks it (rate-based rule)."""
    managed_rule_groups: list[ManagedRuleGroup] = Field(
        default_factory=lambda: list(DEFAULT_RULE_GROUPS),
        description="AWS managed rule groups the web ACL applies, in this order.",
    )


class RealtimeLogSettings(Model):
    stream: StreamSettings
    """The dedicated `edge-logs` Kinesis stream CloudFront writes real-time log lines to."""
    sampling_rate: int = Field(
        default=100,
        ge=1,
        le=100,
        description="Percent of the requests to the distribution's other paths (`/events`, everything else) "
        "that are logged; beacon requests are always logged whole, since their events exist only there.",
    )


class EdgeLogFunctionSettings(Model):
    batch_size: int = Field(default=1000, ge=1, le=10000, description="Log lines per Lambda invocation.")
    batching_window_seconds: int = Field(default=1, ge=0, le=300)
    """Seconds Lambda gathers lines before invoking; more means fewer, larger batches."""
    maximum_retry_attempts: int = Field(default=5, ge=0, le=10000)
    """Retries of a failing batch before its position is recorded in the failed-batches queue."""
    maximum_record_age_seconds: int = Field(default=21600, ge=60, le=604800)
    """Lines older than this are recorded in the failed-batches queue instead of retried."""
    memory_mb: int = Field(default=512, ge=128, le=10240)
    """Edge-log Lambda memory (and so CPU share)."""
    timeout_seconds: int = Field(default=60, ge=10, le=900)
    """Edge-log Lambda timeout; retries of a write fit within it."""
    tracing: bool = False
    """X-Ray active tracing on the edge-log Lambda."""


class EdgeAlarmSettings(Model):
    distribution_5xx_rate_percent: float = Field(default=1.0, gt=0, le=100)
    """The distribution's 5xx error rate (percent of requests, over 5 minutes) that raises the alarm."""
    dead_lettered_events: int = Field(default=1, ge=1)
    """Events (or unreadable lines) dead-lettered in 5 minutes that raise the alarm."""
    iterator_age_ms: int = Field(default=60000, ge=1000)
    """Edge-log Lambda iterator age (ms) that raises the alarm."""
    function_errors: int = Field(default=1, ge=1)
    """Edge-log Lambda errors, or CloudFront Function execution errors, per 5 minutes that raise the alarm."""


class EdgeSettings(TierSettings):
    enabled: bool = False
    """Build the edge tier (CloudFront, beacons, real-time logs); needs the ingest tier."""
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_100"
    """CloudFront price class: which edge locations serve viewers."""
    domain: EdgeDomainSettings | None = None
    """A custom domain with its ACM certificate; without one viewers use the `*.cloudfront.net` name."""
    allowed_origins: list[WebOrigin] = Field(default_factory=list)
    """Web pages that may call `POST /events` through the edge (CORS); beacons need no CORS."""
    beacon_path: BeaconPath = "/collect"
    """Path of the pixel/beacon answered at the edge (`GET` or `POST`, events in the query string)."""
    realtime_logs: RealtimeLogSettings
    """Real-time logs of the distribution, and the stream they go to."""
    waf: WafSettings = WafSettings()
    """The optional AWS WAF web ACL."""
    function: EdgeLogFunctionSettings = EdgeLogFunctionSettings()
    """The edge-log Lambda and its event source mapping."""
    alarms: EdgeAlarmSettings = EdgeAlarmSettings()
    """Alarm thresholds; alarms notify the ops topic (CloudFront's own metrics: through a topic in us-east-1)."""

    def check_when_on(self) -> None:
        if len(set(self.allowed_origins)) != len(self.allowed_origins):
            raise ValueError(f"allowed_origins: lists an origin twice, got {list(self.allowed_origins)}")
        if self.beacon_path in ("/events",):
            raise ValueError("beacon_path: must not be /events, which the edge forwards to the ingest API")
        if self.waf.enabled and len(set(self.waf.managed_rule_groups)) != len(self.waf.managed_rule_groups):
            raise ValueError("waf.managed_rule_groups: lists a rule group twice")
