"""Settings of the live tier (`uba:live`): the realtime API, push updates, sign-in and the dashboard page.

Who may sign in is not listed here: it is the access tier's staff list (`uba:access.staff`),
each person with an `email` being invited to the page, so one list of people gives both ways
in (IAM groups for the console and the CLI, the user pool for the page).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from settings.base import PERSONAS, Matching, Model, Persona, TierSettings

# ACM certificates for CloudFront live in us-east-1, whatever the stack's region.
CertificateArn = Annotated[
    str,
    Matching(
        r"arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}",
        "an ACM certificate ARN in us-east-1 (CloudFront takes certificates from there only)",
    ),
]
DomainName = Annotated[
    str,
    Matching(
        r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
        "a lowercase DNS name such as live.example.com",
    ),
]

MfaMode = Literal["off", "optional", "required"]
AdvancedSecurity = Literal["off", "audit", "enforced"]


class LiveApiSettings(Model):
    rate_limit_rps: float = Field(default=50, gt=0, le=10000, description="Steady-state requests per second.")
    burst_limit: int = Field(default=100, ge=1, le=5000, description="Burst of requests.")
    memory_mb: int = Field(default=256, ge=128, le=10240)
    """Memory of the API, connection and authorizer Lambdas."""
    timeout_seconds: int = Field(default=10, ge=3, le=29, description="At most API Gateway's 29 s.")
    tracing: bool = False
    """X-Ray active tracing on the live tier's Lambdas."""


class SignInSettings(Model):
    mfa: MfaMode = "required"
    """Multi-factor authentication (authenticator app): `off`, `optional` or `required`."""
    advanced_security: AdvancedSecurity = Field(
        default="off",
        description="Cognito threat protection: `audit` or `enforced` puts the user pool on the Plus feature plan "
        "(priced per monthly active user); `off` keeps it on Essentials.",
    )
    self_sign_up: bool = False
    """Let anyone create an account; off, only the staff list (`uba:access.staff[].email`) is invited."""
    invited_personas: list[Persona] = Field(default_factory=lambda: list(PERSONAS))
    """Groups whose members (with an `email`) are invited to the page."""
    password_min_length: int = Field(default=12, ge=8, le=99)
    """Shortest password; upper and lower case, digits and symbols are always required."""
    temporary_password_days: int = Field(default=3, ge=1, le=365)
    """Days an invitation's temporary password stays valid."""
    access_token_minutes: int = Field(default=60, ge=5, le=1440)
    """Lifetime of an access token (the page's bearer token)."""
    refresh_token_hours: int = Field(default=12, ge=1, le=87600)
    """Lifetime of a refresh token: how long the page stays signed in without a password."""


class PushSettings(Model):
    batch_size: int = Field(default=100, ge=1, le=10000)
    """Realtime-table stream records per pusher invocation."""
    maximum_retry_attempts: int = Field(default=3, ge=0, le=10000)
    """Retries of a failing batch (bisected) before it goes to the dead-letter queue."""
    maximum_record_age_seconds: int = Field(default=600, ge=60, le=604800)
    """Stream records older than this are not pushed; they go to the dead-letter queue."""
    memory_mb: int = Field(default=256, ge=128, le=10240)
    """Pusher Lambda memory."""
    timeout_seconds: int = Field(default=30, ge=3, le=900)
    """Pusher Lambda timeout."""
    connection_ttl_hours: int = Field(
        default=3,
        ge=2,
        le=24,
        description="A connection's record expires (DynamoDB TTL) this long after connecting; API Gateway closes "
        "a WebSocket after 2 hours, so at least 2.",
    )


class SiteSettings(Model):
    domain_name: DomainName | None = None
    """Custom domain of the page (needs `certificate_arn`); the CloudFront domain if unset."""
    certificate_arn: CertificateArn | None = None
    """ACM certificate (us-east-1) covering `domain_name`."""
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_100"
    """CloudFront edge locations that serve the page (100: North America and Europe, the cheapest)."""
    access_logs_expire_after_days: int = Field(default=90, ge=1, le=3650)
    """Days the page's CloudFront access logs (standard logging v2, in a bucket of their own) are kept."""


class LiveAlarmSettings(Model):
    api_5xx_rate_percent: float = Field(default=1.0, gt=0, le=100)
    """Realtime API 5XX responses, percent of requests over 5 minutes."""
    api_latency_p95_ms: int = Field(default=1000, ge=50, le=30000)
    """95th-percentile realtime API latency (ms) over 5 minutes that raises the alarm."""
    push_errors: int = Field(default=1, ge=1)
    """Pusher Lambda errors per 5 minutes that raise the alarm."""
    push_iterator_age_ms: int = Field(default=60000, ge=1000)
    """Age (ms) of the oldest realtime-table change not yet pushed that raises the alarm."""


class LiveSettings(TierSettings):
    enabled: bool = False
    """Build the live tier (realtime API, WebSocket push, user pool, dashboard page); needs streaming."""
    api: LiveApiSettings = LiveApiSettings()
    """The realtime HTTP API and the functions behind it."""
    sign_in: SignInSettings = SignInSettings()
    """The Cognito user pool the page signs in with."""
    push: PushSettings = PushSettings()
    """The WebSocket API, its connections table and the pusher on the realtime table's stream."""
    site: SiteSettings = SiteSettings()
    """The dashboard page: a private bucket behind CloudFront."""
    alarms: LiveAlarmSettings = LiveAlarmSettings()
    """Alarm thresholds; alarms notify the ops topic."""

    def check_when_on(self) -> None:
        if bool(self.site.domain_name) != bool(self.site.certificate_arn):
            raise ValueError("site.certificate_arn: a custom domain_name needs its certificate, and the reverse")
        if not self.sign_in.invited_personas and not self.sign_in.self_sign_up:
            raise ValueError("sign_in.invited_personas: nobody could sign in; list at least one group")
        if len(set(self.sign_in.invited_personas)) != len(self.sign_in.invited_personas):
            raise ValueError(f"sign_in.invited_personas: lists a group twice, got {self.sign_in.invited_personas}")
