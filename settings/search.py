"""Settings of the search tier (`uba:search`): log search over error and warning events and the alerts."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, field_validator

from settings.base import Cidr, Matching, Model, StreamSettings, TierSettings
from settings.formats import admits_the_internet

DomainInstanceType = Annotated[
    str,
    Matching(r"[a-z][a-z0-9]*\.[a-z0-9]+\.search", "an OpenSearch Service instance type such as t3.small.search"),
]
EngineVersion = Annotated[str, Matching(r"OpenSearch_\d+\.\d+", "an OpenSearch engine version such as OpenSearch_2.19")]


class SearchNetworkSettings(Model):
    access: Literal["vpc", "public"] = Field(
        default="vpc",
        description="`vpc`: the collection is reached only through an OpenSearch Serverless VPC endpoint in the "
        "warehouse VPC (a domain always is); `public`: from anywhere, still only with IAM-signed requests that its "
        "data access policy allows.",
    )
    allowed_cidrs: list[Cidr] = Field(
        default_factory=list,
        description="Networks (a VPN, a bastion's subnet) admitted on port 443 to the VPC endpoint or the domain, "
        "besides the platform's own delivery and admin function; together they must not cover the internet.",
    )

    @field_validator("allowed_cidrs")
    @classmethod
    def _not_the_internet(cls, cidrs: list[str]) -> list[str]:
        if admits_the_internet(ipaddress.IPv4Network(cidr) for cidr in cidrs):
            raise ValueError(f"must not together admit every internet address, got {cidrs}")
        return cidrs


class CollectionSettings(Model):
    standby_replicas: bool = Field(
        default=True,
        description="OpenSearch Serverless standby replicas in a second Availability Zone; off halves the least "
        "capacity billed (dev and test only).",
    )


class DomainSettings(Model):
    engine_version: EngineVersion = "OpenSearch_2.19"
    """The domain's engine version."""
    instance_type: DomainInstanceType = "t3.small.search"
    """Data node instance type."""
    instance_count: int = Field(default=1, ge=1, le=10)
    """Data nodes; with two or more, each index keeps a replica and the nodes span two Availability Zones."""
    volume_gb: int = Field(default=10, ge=10, le=1024)
    """Encrypted gp3 storage per node, in GiB."""


class SearchFeedSettings(Model):
    stream: StreamSettings = StreamSettings(mode="on_demand")
    """The Kinesis stream the Flink job writes the search feed to, and Firehose reads."""
    buffer_seconds: int = Field(default=5, ge=0, le=900)
    """Seconds Firehose buffers documents before a bulk request: what "searchable within seconds" costs."""
    buffer_mb: int = Field(default=5, ge=1, le=100)
    """MB Firehose buffers before a bulk request, whichever comes first."""
    retry_seconds: int = Field(default=300, ge=0, le=7200)
    """How long Firehose retries a failed bulk request before the documents go to the dead-letter bucket."""


class SearchAlarmSettings(Model):
    freshness_seconds: int = Field(default=300, ge=60)
    """Age (s) of the oldest document not yet indexed that raises the alarm (the sink's backlog)."""


class SearchSettings(TierSettings):
    enabled: bool = Field(
        default=False,
        description="Build the search tier: error and warning events and the alerts searchable within seconds. "
        "Off by default for its standing cost: OpenSearch Serverless bills at least 2 OCUs whether or not "
        "anything is indexed (about $350 a month at $0.24 per OCU-hour; half with `serverless.standby_replicas: "
        "false`), a one-node t3.small.search domain about $30 a month with its storage. Needs the streaming tier, "
        "and the warehouse VPC for `mode: domain` or `network.access: vpc`.",
    )
    mode: Literal["serverless", "domain"] = "serverless"
    """An OpenSearch Serverless time series collection, or a small managed domain in the warehouse VPC."""
    network: SearchNetworkSettings = SearchNetworkSettings()
    """Who can reach the collection or domain."""
    serverless: CollectionSettings = CollectionSettings()
    """The collection (mode `serverless`)."""
    domain: DomainSettings = DomainSettings()
    """The domain (mode `domain`)."""
    retention_days: int = Field(default=14, ge=1, le=3650)
    """Days a searchable document is kept: the collection's data lifecycle policy, or the domain's daily sweep."""
    feed: SearchFeedSettings = SearchFeedSettings()
    """The search feed: its stream and Firehose's delivery."""
    dead_letter_expire_after_days: int = Field(default=30, ge=1)
    """Documents Firehose could not index (kept with OpenSearch's reason) expire after this many days."""
    tracing: bool = False
    """X-Ray active tracing on the search-admin function."""
    bizuser_search: bool = False
    """Let the bizUser group search too (op and dev search, admin manages; bizUser nothing by default)."""
    alarms: SearchAlarmSettings = SearchAlarmSettings()
    """Alarm thresholds; alarms notify the ops topic."""

    def check_when_on(self) -> None:
        if self.mode == "domain" and self.network.access != "vpc":
            raise ValueError("network.access: a domain has no public endpoint; it must be vpc")
        if self.network.allowed_cidrs and self.network.access != "vpc":
            raise ValueError(
                "network.allowed_cidrs: only a VPC endpoint or domain has ports to admit; access is public"
            )

    @property
    def in_vpc(self) -> bool:
        """Whether the tier needs the warehouse VPC."""
        return self.mode == "domain" or self.network.access == "vpc"
