"""Typed settings: the stack's config, validated once, frozen, and handed to components.

Each tier has one structured config key in the `uba` namespace (`uba:platform`,
`uba:ingest`, ...); `aws:region` comes from the provider's namespace. Every model
forbids unknown keys, so a typo in a stack file is an error, and every problem is
reported as one line naming the key path, the bad value and what is allowed.
Nothing else in the program reads `pulumi.Config()`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import Field, StringConstraints, ValidationError, field_validator, model_validator

from settings.base import (
    LOG_RETENTION_DAYS,
    PERSONAS,
    PROJECT,
    ActionName,
    Cidr,
    DevAccess,
    Email,
    IamUserName,
    Marker,
    Matching,
    Model,
    Persona,
    ScheduleExpression,
    SecurityGroupId,
    StreamSettings,
    SubnetId,
    TagValue,
    TierSettings,
    VpcId,
)
from settings.bi import BiSettings
from settings.cdc import CdcSettings, ReplicatedTable
from settings.cost import AnomalyDetectionSettings, BudgetSettings, CostSettings
from settings.edge import EdgeSettings
from settings.formats import TAGS_PER_RESOURCE, admits_the_internet, tag_text_problem
from settings.live import LiveSettings
from settings.problems import SettingsError, describe
from settings.search import SearchSettings

__all__ = [
    "LOG_RETENTION_DAYS",
    "PERSONAS",
    "PLATFORM_TAGS",
    "PROJECT",
    "TIER_KEYS",
    "AnomalyDetectionSettings",
    "BiSettings",
    "BudgetSettings",
    "CdcSettings",
    "CostSettings",
    "DevAccess",
    "LiveSettings",
    "Persona",
    "ReplicatedTable",
    "SearchSettings",
    "Settings",
    "SettingsError",
    "StreamSettings",
    "from_pulumi_config",
    "load_settings",
    "overlapping_prefixes",
]

TIER_KEYS = (
    "platform",
    "ingest",
    "edge",
    "cdc",
    "streaming",
    "lake",
    "warehouse",
    "bi",
    "access",
    "observability",
    "cost",
    "search",
    "live",
)
# Tags the platform sets itself on every resource (see PlatformSettings.tags).
PLATFORM_TAGS = ("Project", "Environment", "Owner", "CostCenter")


EnvironmentName = Annotated[
    str, Matching(r"[a-z][a-z0-9]{1,11}", "2-12 lowercase letters and digits, starting with a letter")
]
DatabaseName = Annotated[
    str, Matching(r"[a-z_][a-z0-9_]{0,63}", "1-64 lowercase letters, digits and underscores, not starting with a digit")
]
DatabaseUser = Annotated[
    str, Matching(r"[a-z][a-z0-9_]{0,126}", "1-127 lowercase letters, digits and underscores, starting with a letter")
]


# --- shared ----------------------------------------------------------------------------------------------


class PlatformSettings(Model):
    environment: EnvironmentName = Field(description="Environment name, e.g. `dev` or `prod`; tagged as `Environment`.")
    prefix: Annotated[
        str,
        Matching(
            r"[a-z][a-z0-9-]{1,18}[a-z0-9]",
            "3-20 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen",
        ),
    ] = Field(description="Prefix of every physical name, e.g. `uba-dev`; lowercase, 3-20 characters.")
    production: bool = Field(
        description="Whether this stack serves production: it must name an admin, and dev gets read-only."
    )
    owner: Annotated[TagValue, StringConstraints(min_length=1, max_length=128)] = Field(
        description="Team that owns the stack; tagged as `Owner`."
    )
    cost_center: Annotated[TagValue, StringConstraints(min_length=1, max_length=128)] = Field(
        description="Cost centre; tagged as `CostCenter`."
    )
    extra_tags: dict[str, str] = Field(
        default_factory=dict,
        description="More default tags for every resource (at most 46): keys of 1-128 and values of 0-256 letters, "
        "digits, spaces and `_ . : / = + - @`, neither starting with `aws:`.",
    )
    protect_stateful: bool = Field(
        description="Protect buckets, tables, streams, the warehouse and the KMS key and retain them on delete."
    )
    log_retention_days: int = Field(description="Retention of every CloudWatch log group the platform creates.")
    kms_deletion_window_days: int = Field(default=30, ge=7, le=30, description="KMS key deletion waiting period.")
    ops_alarm_emails: list[Email] = Field(default_factory=list, description="Email subscribers of the ops topic.")
    powertools_version: Annotated[str, Matching(r"3\.\d+\.\d+", "a Powertools 3 release such as 3.37.0")] = Field(
        description="Powertools for AWS Lambda (Python) release; its published arm64 layer is resolved "
        "from SSM, and tests pin the same version."
    )

    @field_validator("log_retention_days")
    @classmethod
    def _retention_allowed(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(f"must be one of {list(LOG_RETENTION_DAYS)}, got {days}")
        return days

    @field_validator("extra_tags")
    @classmethod
    def _aws_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        # AWS refuses these at deploy, resource by resource; refuse them here, all at once.
        if len(tags) > TAGS_PER_RESOURCE - len(PLATFORM_TAGS):
            raise ValueError(
                f"must hold at most {TAGS_PER_RESOURCE - len(PLATFORM_TAGS)} tags (AWS allows {TAGS_PER_RESOURCE} "
                f"a resource and the platform sets {len(PLATFORM_TAGS)}), got {len(tags)}"
            )
        for key, value in tags.items():
            for text, is_key in ((key, True), (value, False)):
                reason = tag_text_problem(text, key=is_key)
                if reason is not None:
                    raise ValueError(f"{reason}, got {key!r}: {value!r}")
        return tags

    @model_validator(mode="after")
    def _check(self) -> Self:
        reserved = set(PLATFORM_TAGS) & set(self.extra_tags)
        if reserved:
            raise ValueError(f"extra_tags: must not redefine the platform tags {sorted(reserved)}")
        return self

    @property
    def tags(self) -> dict[str, str]:
        """The default tags every taggable resource carries (through the provider)."""
        return {
            "Project": PROJECT,
            "Environment": self.environment,
            "Owner": self.owner,
            "CostCenter": self.cost_center,
            **self.extra_tags,
        }


# --- ingest ----------------------------------------------------------------------------------------------


class ApiSettings(Model):
    authorization: Literal["api_key", "iam"] = Field(
        default="api_key", description="`api_key` with a usage plan, or `iam` for server-to-server callers."
    )
    rate_limit_rps: float = Field(gt=0, le=10000, description="Steady-state requests per second.")
    burst_limit: int = Field(ge=1, le=5000, description="Burst of requests.")
    daily_quota: int | None = Field(default=None, ge=1, description="Requests per day per API key; none if unset.")
    tracing: bool = Field(default=False, description="X-Ray tracing on the stage and the ingest Lambda.")
    stage_name: Annotated[str, Matching(r"[A-Za-z0-9_]{1,64}", "1-64 letters, digits and underscores")] = Field(
        default="v1", description="API Gateway stage; part of the endpoint URL."
    )
    manage_account_logging_role: bool = Field(
        default=False,
        description="This stack owns API Gateway's account-wide CloudWatch role, through which every stage in "
        "the account and region writes its logs: it creates the role, sets it on the account, and leaves both in "
        "place when the stack is destroyed. Exactly one stack per account and region sets this (`prod` here); "
        "the others keep the default and need the owner deployed first, or API Gateway refuses their stage with "
        '"CloudWatch Logs role ARN must be set in account settings to enable logging".',
    )


class IngestLambdaSettings(Model):
    memory_mb: int = Field(default=512, ge=128, le=10240)
    """Lambda memory (and so CPU share)."""
    timeout_seconds: int = Field(default=20, ge=3, le=29, description="At most API Gateway's 29 s.")
    reserved_concurrency: int | None = Field(default=None, ge=1)
    """Reserved concurrency; unreserved if unset."""


class IngestAlarmSettings(Model):
    api_5xx_rate_percent: float = Field(default=1.0, gt=0, le=100)
    """API 5XX responses, percent of requests over 5 minutes."""
    lambda_errors: int = Field(default=1, ge=1, description="Errors per 5 minutes that raise the alarm.")
    lambda_throttles: int = Field(default=1, ge=1)
    """Ingest Lambda throttles per 5 minutes."""
    write_throttled_records: int = Field(default=1, ge=1, description="Throttled records per minute.")


class IngestSettings(TierSettings):
    enabled: bool = True
    """Build the ingest tier (API, Lambda, events stream); streaming and lake need it."""
    stream: StreamSettings
    """The Kinesis `events` stream."""
    api: ApiSettings
    """The HTTPS endpoint `POST /events`."""
    function: IngestLambdaSettings
    """The ingest Lambda (Python 3.12, arm64)."""
    alarms: IngestAlarmSettings = IngestAlarmSettings()
    """Alarm thresholds; alarms notify the ops topic."""


# --- streaming -------------------------------------------------------------------------------------------


class FlinkSettings(Model):
    parallelism: int = Field(default=1, ge=1, le=64)
    """Initial parallelism (KPUs = parallelism / parallelism_per_kpu)."""
    parallelism_per_kpu: int = Field(default=1, ge=1, le=8)
    """Parallel tasks per KPU."""
    autoscaling: bool = False
    """Let the service scale parallelism with load."""
    checkpoint_interval_ms: int = Field(default=60000, ge=1000)
    """Checkpoint interval in milliseconds."""
    snapshots: bool = Field(default=False, description="Application snapshots on update and stop.")


class DetectionSettings(Model):
    watermark_seconds: int = Field(default=5, ge=0, le=3600, description="Bounded out-of-orderness of events.")
    window_seconds: int = Field(default=60, ge=1, le=86400, description="Tumbling window length.")
    warn_threshold: int = Field(
        default=10, ge=1, le=1_000_000, description="Warnings per action and window that alert."
    )
    error_markers: list[Marker] = Field(default_factory=lambda: ["[PANIC]", "[panic]", "[ERROR]", "[error]"])
    """An event whose `errorMsg` contains any of these is an error alert; no control characters."""
    warn_markers: list[Marker] = Field(default_factory=lambda: ["WARNNING", "warnning", "WARNING", "warning"])
    """Markers of a warning; N per action and window is a burst; no control characters."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        for key in ("error_markers", "warn_markers"):
            if not getattr(self, key):
                raise ValueError(f"{key}: must list at least one marker")
        return self


class AlertSinkSettings(Model):
    batch_size: int = Field(default=100, ge=1, le=10000)
    """Records per Lambda invocation from the alerts stream."""
    maximum_retry_attempts: int = Field(default=3, ge=0, le=10000)
    """Retries of a failing batch before it goes to the dead-letter queue."""
    maximum_record_age_seconds: int = Field(default=3600, ge=60, le=604800)
    """Records older than this go to the dead-letter queue."""
    results_ttl_days: int = Field(default=7, ge=1, le=365)
    """Realtime results expire (DynamoDB TTL) after this many days."""
    point_in_time_recovery: bool = False
    """Point-in-time recovery on the realtime results table."""
    business_alert_emails: list[Email] = Field(default_factory=list)
    """Email subscribers of the business-alerts topic."""
    memory_mb: int = Field(default=256, ge=128, le=10240)
    """Alert-sink Lambda memory (and so CPU share)."""
    timeout_seconds: int = Field(default=60, ge=3, le=900)
    """Alert-sink Lambda timeout; a batch that runs longer is retried (and bisected)."""
    tracing: bool = False
    """X-Ray active tracing on the alert-sink Lambda."""


class StreamingAlarmSettings(Model):
    iterator_age_ms: int = Field(default=60000, ge=1000)
    """Alert-sink iterator age (ms) that raises the alarm."""
    sink_errors: int = Field(default=1, ge=1)
    """Alert-sink Lambda errors per 5 minutes that raise the alarm."""


class StreamingSettings(TierSettings):
    enabled: bool = True
    """Build the real-time tier; switch off to save Flink's hourly cost in dev."""
    flink: FlinkSettings = FlinkSettings()
    """The Managed Service for Apache Flink application."""
    detection: DetectionSettings = DetectionSettings()
    """What counts as an alert."""
    alerts_stream: StreamSettings
    """The Kinesis `alerts` stream Flink writes to."""
    sink: AlertSinkSettings = AlertSinkSettings()
    """The alert-sink Lambda, its event source mapping and the realtime table."""
    alarms: StreamingAlarmSettings = StreamingAlarmSettings()
    """Alarm thresholds; alarms notify the ops topic."""

    def check_when_on(self) -> None:
        # The sink remembers "already announced" on the item: an item that expires while its alert
        # can still be redelivered from the stream would announce that alert a second time.
        retention_hours = self.alerts_stream.retention_hours
        if self.sink.results_ttl_days * 24 <= retention_hours:
            raise ValueError(
                f"sink.results_ttl_days: must outlast the alerts stream's retention ({retention_hours} hours), "
                f"got {self.sink.results_ttl_days} days"
            )


# --- lake ------------------------------------------------------------------------------------------------


class LifecycleSettings(Model):
    infrequent_access_after_days: int = Field(default=30, ge=30, description="S3 requires at least 30.")
    glacier_after_days: int = Field(default=90, ge=1)
    """Raw events move to Glacier Instant Retrieval (still queryable) after this many days."""
    expire_after_days: int | None = Field(default=None, ge=1, description="Raw events expire; never if unset.")
    errors_expire_after_days: int = Field(default=14, ge=1)
    """Firehose error output expires after this many days."""
    athena_results_expire_after_days: int = Field(default=7, ge=1)
    """Athena query results expire after this many days."""
    access_logs_expire_after_days: int = Field(default=90, ge=1)
    """S3 server access logs of the lake and results buckets expire after this many days."""
    noncurrent_versions_expire_after_days: int = Field(default=30, ge=1)
    """With versioning on, overwritten or deleted object versions expire after this many days."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.glacier_after_days <= self.infrequent_access_after_days:
            raise ValueError(
                f"glacier_after_days: must be after infrequent_access_after_days "
                f"({self.infrequent_access_after_days}), got {self.glacier_after_days}"
            )
        if self.expire_after_days is not None and self.expire_after_days <= self.glacier_after_days:
            raise ValueError(
                f"expire_after_days: must be after glacier_after_days ({self.glacier_after_days}), "
                f"got {self.expire_after_days}"
            )
        return self


class FirehoseSettings(Model):
    buffer_mb: int = Field(default=64, ge=64, le=128, description="Parquet conversion needs at least 64 MB.")
    buffer_seconds: int = Field(default=300, ge=60, le=900)
    """Seconds Firehose buffers before writing; dynamic partitioning has no zero buffering, so at least 60."""


class LakeAlarmSettings(Model):
    freshness_seconds: int = Field(default=900, ge=60)
    """Age (s) of the oldest undelivered record that raises the alarm."""


class LakeSettings(TierSettings):
    enabled: bool = True
    """Build the lake tier (buckets, Firehose, Glue, Athena); the warehouse needs it."""
    versioning: bool = False
    """Versioning on the lake and results buckets."""
    lifecycle: LifecycleSettings = LifecycleSettings()
    """Storage classes and expiry of lake objects."""
    firehose: FirehoseSettings = FirehoseSettings()
    """Firehose buffering before a Parquet file is written."""
    athena_bytes_scanned_cutoff: int = Field(ge=10_485_760, description="Per-query scan limit; at least 10 MB.")
    alarms: LakeAlarmSettings = LakeAlarmSettings()
    """Alarm thresholds; alarms notify the ops topic."""

    def check_when_on(self) -> None:
        # With dynamic partitioning Firehose buffers in stages: a record may wait up to 1.5 times the
        # buffer interval before delivery, so a lower freshness threshold would alarm on healthy delivery.
        if 2 * self.alarms.freshness_seconds <= 3 * self.firehose.buffer_seconds:
            raise ValueError(
                f"alarms.freshness_seconds: must be more than 1.5 x firehose.buffer_seconds "
                f"({self.firehose.buffer_seconds}), got {self.alarms.freshness_seconds}"
            )


# --- warehouse -------------------------------------------------------------------------------------------


class ServerlessSettings(Model):
    base_capacity_rpu: int = Field(default=8, ge=8, le=1024)
    """Base Redshift Processing Units, a multiple of 8."""
    max_capacity_rpu: int = Field(default=64, ge=8, le=1024)
    """Maximum RPUs, a multiple of 8."""
    usage_limit_rpu_hours: int = Field(ge=1, description="Daily RPU-hours before queries are turned off.")

    @field_validator("base_capacity_rpu", "max_capacity_rpu")
    @classmethod
    def _multiple_of_eight(cls, rpu: int) -> int:
        if rpu % 8:
            raise ValueError(f"must be a multiple of 8, got {rpu}")
        return rpu

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.max_capacity_rpu < self.base_capacity_rpu:
            raise ValueError(
                f"max_capacity_rpu: must be >= base_capacity_rpu ({self.base_capacity_rpu}), "
                f"got {self.max_capacity_rpu}"
            )
        return self


class ProvisionedSettings(Model):
    node_type: Literal["ra3.large", "ra3.xlplus", "ra3.4xlarge", "ra3.16xlarge"] = "ra3.xlplus"
    """Cluster node type."""
    number_of_nodes: int = Field(default=1, ge=1, le=128)
    """Cluster nodes."""


class NetworkSettings(Model):
    vpc_cidr: Cidr = "10.42.0.0/16"
    """CIDR of the warehouse VPC the program creates."""
    existing_vpc_id: VpcId | None = None
    """Use this VPC instead of creating one."""
    existing_subnet_ids: list[SubnetId] = Field(default_factory=list)
    """Private subnets of the existing VPC, in distinct AZs."""
    allowed_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="Clients admitted on port 5439: IPv4 networks that together must not cover the internet.",
    )
    allowed_security_group_ids: list[SecurityGroupId] = Field(default_factory=list)
    """Security groups admitted on port 5439."""

    @field_validator("vpc_cidr")
    @classmethod
    def _carvable(cls, cidr: str) -> str:
        # The warehouse subnets are the first quarters of the VPC; /22 still leaves each 250 addresses,
        # and Redshift Serverless needs more free addresses the higher its base capacity.
        try:
            network = ipaddress.IPv4Network(cidr)
        except ValueError:
            raise ValueError(f"must be a network address (host bits zero), got {cidr}") from None
        if not 16 <= network.prefixlen <= 22:
            raise ValueError(f"must have a prefix from /16 to /22, got {cidr}")
        return cidr

    @model_validator(mode="after")
    def _check(self) -> Self:
        if bool(self.existing_vpc_id) != bool(self.existing_subnet_ids):
            raise ValueError("existing_subnet_ids: an existing VPC needs its subnets, and subnets need the VPC")
        if "0.0.0.0/0" in self.allowed_cidrs:
            raise ValueError("allowed_cidrs: 0.0.0.0/0 would open the warehouse to every address")
        if admits_the_internet(ipaddress.IPv4Network(cidr) for cidr in self.allowed_cidrs):
            raise ValueError(
                f"allowed_cidrs: must not together admit every internet address (as 0.0.0.0/0 would); "
                f"list the client networks, got {list(self.allowed_cidrs)}"
            )
        return self


class RefreshSettings(Model):
    schedule_expression: ScheduleExpression = "rate(1 hour)"
    """EventBridge Scheduler expression of the refresh: `rate(N unit)`, `cron(6 fields)` or `at(...)`."""
    lookback_days: int = Field(default=3, ge=0, le=90)
    """A refresh also rebuilds the last N days."""
    conversion_from_action: ActionName = "viewDoc"
    """Action A of the conversion rate."""
    conversion_to_action: ActionName = "buy"
    """Action B of the conversion rate."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.conversion_from_action == self.conversion_to_action:
            raise ValueError(
                f"conversion_to_action: must differ from conversion_from_action, both are {self.conversion_to_action!r}"
            )
        return self


class WarehouseSettings(TierSettings):
    enabled: bool = True
    """Build the warehouse tier (VPC, Redshift, scheduled models)."""
    mode: Literal["serverless", "provisioned"] = "serverless"
    """Redshift Serverless, or a provisioned cluster."""
    serverless: ServerlessSettings | None = None
    """Serverless capacity; required when mode is serverless."""
    provisioned: ProvisionedSettings | None = None
    """Cluster size; required when mode is provisioned."""
    network: NetworkSettings = NetworkSettings()
    """Where the warehouse lives and who may connect."""
    database_name: DatabaseName = "analytics"
    """The warehouse database."""
    admin_username: DatabaseUser = "uba_admin"
    """Admin user; its password is managed by Redshift in Secrets Manager."""
    snapshot_retention_days: int = Field(default=7, ge=1, le=35)
    """Days a cluster's automated snapshots, or Serverless's daily snapshots, are kept."""
    refresh: RefreshSettings = RefreshSettings()
    """The scheduled model refresh."""

    def check_when_on(self) -> None:
        chosen = self.serverless if self.mode == "serverless" else self.provisioned
        if chosen is None:
            raise ValueError(f"{self.mode}: required when mode is {self.mode}")
        other = "provisioned" if self.mode == "serverless" else "serverless"
        if getattr(self, other) is not None:
            raise ValueError(f"{other}: must be omitted when mode is {self.mode}")
        needed = self.required_subnets
        given = len(self.network.existing_subnet_ids)
        if self.network.existing_vpc_id and given < needed:
            raise ValueError(
                f"network.existing_subnet_ids: {self.mode} Redshift needs {needed} subnets in distinct "
                f"Availability Zones, got {given}"
            )

    @property
    def required_subnets(self) -> int:
        """Subnets in distinct AZs: Redshift Serverless needs three. A cluster runs in one AZ, but its
        subnet group spans two so the cluster can be relocated to another AZ (and AWS Config's
        `redshift-cluster-subnet-group-multi-az` passes)."""
        return 3 if self.mode == "serverless" else 2


# --- access ----------------------------------------------------------------------------------------------


class StaffMember(Model):
    user: IamUserName
    """IAM user name."""
    groups: list[Persona] = Field(min_length=1)
    """Groups: `admin`, `op`, `dev`, `bizUser`."""
    create_user: bool = Field(
        default=False,
        description="Create the IAM user (no password, no keys), or only manage its groups; an existing user "
        "must exist before `pulumi up` (`.venv/bin/python -m tools.access check-users <stack>` checks).",
    )
    email: Email | None = Field(
        default=None,
        description="Email address; with the live tier on, a person in an invited group is invited to the "
        "dashboard page with it (`uba:live.sign_in.invited_personas`).",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(set(self.groups)) != len(self.groups):
            raise ValueError(f"groups: lists a group twice for {self.user}")
        return self


class AccessSettings(TierSettings):
    enabled: bool = True
    """Build the IAM groups and staff memberships."""
    require_mfa: bool = True
    """Deny console users everything but MFA set-up until they sign in with MFA."""
    dev_access: DevAccess = Field(
        description="`builder`: dev may send test events and write dev data; `read_only`: reads only."
    )
    staff: list[StaffMember] = Field(default_factory=list)
    """Who is in which group."""

    def check_when_on(self) -> None:
        seen: set[str] = set()
        for member in self.staff:
            key = member.user.lower()  # IAM user names are case-insensitive
            if key in seen:
                raise ValueError(f"staff: user {member.user} is listed twice")
            seen.add(key)


def overlapping_prefixes(prefixes: Mapping[str, str]) -> list[str]:
    """Stacks (name -> `platform.prefix`) whose prefix equals or extends another's at a `-`.

    `uba-prod-eu` extends `uba-prod`: every name of the one stack also fits `uba-prod-...`, so a
    name pattern, a log query or a person reading a list can mistake one stack's resources for the
    other's. The access grants are exact, and the stack files in one repository refuse it besides.
    """
    return [
        f"platform.prefix: stack {other}'s {theirs!r} extends stack {stack}'s {mine!r}; choose prefixes "
        f"where neither starts with the other followed by '-'"
        for stack, mine in sorted(prefixes.items())
        for other, theirs in sorted(prefixes.items())
        if other != stack and ((theirs == mine and other > stack) or theirs.startswith(f"{mine}-"))
    ]


# --- observability ---------------------------------------------------------------------------------------


class ObservabilitySettings(Model):
    dashboard: bool = True
    """Create the ops CloudWatch dashboard."""


# --- the whole stack -------------------------------------------------------------------------------------


class Settings(Model):
    region: Annotated[str, Matching(r"[a-z]{2}(-gov)?-[a-z]+-\d", "an AWS region such as eu-west-1")]
    platform: PlatformSettings
    ingest: IngestSettings
    edge: EdgeSettings = Field(
        default_factory=lambda: EdgeSettings.model_validate({"enabled": False}),
        description="CloudFront in front of ingest, beacons and real-time logs; off unless the stack file says so.",
    )
    cdc: CdcSettings = Field(
        default_factory=lambda: CdcSettings.model_validate({"enabled": False}),
        description="DMS change data capture from a product database; off unless a stack names a source database.",
    )
    streaming: StreamingSettings
    lake: LakeSettings
    warehouse: WarehouseSettings
    access: AccessSettings
    observability: ObservabilitySettings = ObservabilitySettings()
    bi: BiSettings = Field(default_factory=lambda: BiSettings.model_validate({"enabled": False}))
    cost: CostSettings = Field(default_factory=lambda: CostSettings.model_validate({"enabled": False}))
    """Budget and cost alerts; off (and the policy pack warns) when the stack file has no `uba:cost`."""
    search: SearchSettings = SearchSettings()
    live: LiveSettings = LiveSettings()

    @model_validator(mode="after")
    def _check_dependencies(self) -> Self:
        if not self.ingest.enabled:
            for tier in ("streaming", "lake", "edge"):
                if getattr(self, tier).enabled:
                    raise ValueError(f"{tier}.enabled: needs the ingest tier's events stream, but ingest is off")
        if self.warehouse.enabled and not self.lake.enabled:
            raise ValueError("warehouse.enabled: needs the lake tier (Spectrum reads the lake), but lake is off")
        if self.cdc.enabled and not self.lake.enabled:
            raise ValueError("cdc.enabled: needs the lake tier (the entity tables live in it), but lake is off")
        if self.live.enabled:
            self._check_live()
        if self.platform.production:
            if self.access.enabled and not any("admin" in m.groups for m in self.access.staff):
                raise ValueError("access.staff: a production stack must name at least one admin")
            if self.access.dev_access != "read_only":
                raise ValueError("access.dev_access: must be read_only in a production stack")
        if self.bi.enabled:
            self._check_bi()
        if self.search.enabled:
            self._check_search()
        tags = self.platform.tags
        if self.cost.enabled and self.cost.allocation_tag not in tags:
            raise ValueError(
                f"cost.allocation_tag: must be one of the stack's tags {sorted(tags)}, got {self.cost.allocation_tag!r}"
            )
        return self

    def _check_search(self) -> None:
        if not self.streaming.enabled:
            raise ValueError(
                "search.enabled: needs the streaming tier (Flink writes the search feed), but streaming is off"
            )
        if self.search.in_vpc and not self.warehouse.enabled:
            raise ValueError(
                f"search.enabled: mode {self.search.mode} with network.access {self.search.network.access} lives "
                "in the warehouse VPC, but warehouse is off; use mode serverless with network.access public"
            )

    def _check_live(self) -> None:
        if not self.streaming.enabled:
            raise ValueError(
                "live.enabled: needs the streaming tier (it reads the realtime table), but streaming is off"
            )
        # The hosted sign-in domain is `<prefix>-live-<account>`, and Cognito refuses a domain prefix naming AWS.
        reserved = [word for word in ("aws", "amazon", "cognito") if word in self.platform.prefix]
        if reserved:
            raise ValueError(
                f"platform.prefix: the live tier's sign-in domain starts with the prefix, and Cognito refuses "
                f"one containing {reserved[0]!r}; choose another prefix, got {self.platform.prefix!r}"
            )
        # Emails are the user pool's usernames: one person, one address.
        seen: dict[str, str] = {}
        for member in self.access.staff:
            if member.email is None:
                continue
            address = member.email.lower()
            if address in seen:
                raise ValueError(f"access.staff: {member.user} and {seen[address]} share the email {member.email}")
            seen[address] = member.user

    def _check_bi(self) -> None:
        for tier in ("warehouse", "lake"):
            if not getattr(self, tier).enabled:
                raise ValueError(f"bi.enabled: needs the {tier} tier (the dashboards read it), but {tier} is off")
        if not self.access.enabled:
            return  # the people's IAM users are then managed elsewhere
        staff = {member.user.lower(): member for member in self.access.staff}
        for person in self.bi.people:
            member = staff.get(person.user.lower())
            if member is None:
                raise ValueError(
                    f"bi.people: {person.user} is not in access.staff; QuickSight registers IAM users the stack "
                    f"file lists there"
                )
            allowed = BI_GROUPS[person.role]
            if not set(member.groups) & set(allowed):
                raise ValueError(
                    f"bi.people: {person.user} is a BI {person.role}, so must be in access.staff group "
                    f"{' or '.join(allowed)}, but is in {', '.join(member.groups)}"
                )


# The staff groups whose members may be BI readers or authors: the bizUser group opens the dashboard
# (components/access/policies.py, `open_bi_dashboard`); authors may also be developers.
BI_GROUPS: dict[str, tuple[Persona, ...]] = {"reader": ("bizUser",), "author": ("bizUser", "dev")}


def load_settings(raw: Mapping[str, Any], stack: str = "?") -> Settings:
    """Validate a stack's config (`uba:` section -> object, plus `region`) into frozen settings.

    Every problem is reported at once, one line each; a section the settings do not know (a
    misspelt `uba:observabilty`) is one of them.
    """
    try:
        return Settings.model_validate(raw)
    except ValidationError as error:
        raise SettingsError(stack, describe(error, raw, Settings)) from None


def from_pulumi_config() -> Settings:
    """Read the stack's config through Pulumi and validate it. Called once, by `__main__.py`.

    Every `uba:` key of the stack is read, not only the known sections, so that a misspelt
    section is an error rather than a section silently left out.
    """
    import pulumi
    from pulumi.runtime.config import CONFIG, get_config_env

    config = pulumi.Config(PROJECT)
    raw: dict[str, Any] = {"region": pulumi.Config("aws").get("region")}
    namespace = f"{PROJECT}:"
    keys = {key for key in (*CONFIG.get(), *get_config_env()) if key.startswith(namespace)}
    for key in sorted(keys):
        section = key[len(namespace) :]
        if section == "region":
            raise SettingsError(pulumi.get_stack(), [f"{key}: unknown section; the region is aws:region"])
        value = config.get_object(section)
        if value is not None:
            raw[section] = value
    return load_settings(raw, pulumi.get_stack())
