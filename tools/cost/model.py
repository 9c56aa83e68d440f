"""The estimate's frame: the workload, the assumptions, the terms, and the pass over the synthesized program.

`estimate()` walks every custom resource the program registered (`tools.engine.mocks.Snapshot`),
looks its type up in the price table, and lets the type's rule (`tools/cost/rules.py`) turn the
resource's inputs and the workload into `Term`s: a quantity of one priced unit, for one resource.
Every term names its price entry and its resource, so each dollar can be traced; `Context.term`
refuses a term whose price is not one the table lists for that resource's type.
"""

from __future__ import annotations

import difflib
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from tools.cost.prices import PriceTable, PriceTableError
from tools.engine.mocks import RegisteredResource, Snapshot

HOURS_PER_MONTH = 730.0  # AWS's month
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
GB = 2**30  # AWS bills storage and transfer in binary gigabytes
KB = 1024
PLATFORM = "uba:platform:Platform"

Driver = Literal["fixed", "traffic", "people"]
DRIVERS: dict[Driver, str] = {
    "fixed": "exists or runs on a schedule, traffic or not",
    "traffic": "grows with events",
    "people": "queries people run (assumed)",
}


class EstimateError(ValueError):
    """The estimate cannot be made: an unknown resource type, a region without prices, a bad assumption."""


# --- the workload and the assumptions ------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """The traffic the estimate is for."""

    events_per_second: float
    event_bytes: int = 400
    """An event as stored on the stream (the client's fields and the ingest envelope, JSON)."""
    events_per_request: int = 10
    """Events a client sends in one `POST /events` (the API takes up to 500)."""
    active_hours: float = 24.0
    """Hours a day the rate holds; no events the rest of the day."""

    def __post_init__(self) -> None:
        problems = []
        if not (math.isfinite(self.events_per_second) and self.events_per_second >= 0):
            problems.append(f"--events-per-second: must be a number >= 0, got {self.events_per_second:g}")
        if not 1 <= self.event_bytes <= 1_048_576:
            problems.append(f"--event-bytes: must be 1 to 1048576 (the ingest's body limit), got {self.event_bytes}")
        if not 1 <= self.events_per_request <= 500:
            problems.append(
                f"--events-per-request: must be 1 to 500 (the ingest's limit), got {self.events_per_request}"
            )
        if not (math.isfinite(self.active_hours) and 0 < self.active_hours <= 24):
            problems.append(f"--active-hours: must be more than 0 and at most 24, got {self.active_hours:g}")
        if problems:
            raise EstimateError("; ".join(problems))

    @property
    def active_seconds(self) -> float:
        """Seconds a month during which events arrive."""
        return self.active_hours * 3600 * DAYS_PER_MONTH

    @property
    def events(self) -> float:
        return self.events_per_second * self.active_seconds

    @property
    def requests(self) -> float:
        return self.events / self.events_per_request

    @property
    def requests_per_second(self) -> float:
        return self.events_per_second / self.events_per_request

    def idle(self) -> Workload:
        return replace(self, events_per_second=0.0)

    def one_event_per_request(self) -> Workload:
        """The original design's ingestion: one HTTP request, one invocation and one PutRecord per event."""
        return replace(self, events_per_request=1)


@dataclass(frozen=True)
class Assumption:
    default: float
    unit: str
    meaning: str


# What the program cannot say and the estimate must assume; `--assume name=value` overrides any of them.
ASSUMPTIONS: dict[str, Assumption] = {
    "ingest_ms_per_request": Assumption(30, "ms", "billed duration of an ingest invocation besides its events"),
    "ingest_ms_per_event": Assumption(0.5, "ms", "billed duration added by each event of a request"),
    "lambda_log_bytes_per_invocation": Assumption(
        1000, "bytes", "log per invocation: the platform's START/REPORT records, one log line, one EMF metrics document"
    ),
    "api_access_log_bytes_per_request": Assumption(450, "bytes", "one JSON access log line per API request"),
    "quiet_log_group_mb_per_month": Assumption(
        50, "MB", "what any other log group (Flink, Firehose errors, audit) takes in a month"
    ),
    "log_archive_ratio": Assumption(0.15, "ratio", "archived (gzip) size of log data CloudWatch stores"),
    "parquet_ratio": Assumption(
        0.12, "ratio", "Parquet size of an event / its JSON size (measured: benchmarks/bench_cost_inputs.py)"
    ),
    "error_event_fraction": Assumption(0.001, "ratio", "events that are errors, each an alert and a notification"),
    "distinct_actions": Assumption(8, "actions", "event actions, each a `counts` alert per window"),
    "alert_record_bytes": Assumption(300, "bytes", "an alert record on the alerts stream"),
    "warning_event_fraction": Assumption(0.01, "ratio", "events whose errorMsg carries a warning marker"),
    "search_document_extra_bytes": Assumption(
        120, "bytes", "what a search feed document adds to the event it carries (@timestamp, kind, level, feedKey)"
    ),
    "sink_ms_per_invocation": Assumption(120, "ms", "billed duration of an alert-sink invocation"),
    "registrar_ms_per_invocation": Assumption(60, "ms", "billed duration of a partition-registrar invocation"),
    "scheduled_ms_per_invocation": Assumption(
        2000, "ms", "billed duration of a scheduled job's invocation (the search sweep)"
    ),
    "flink_events_per_second_per_kpu": Assumption(
        2000, "events/s", "what one KPU of the Flink SQL job keeps up with (autoscaling adds KPUs above it)"
    ),
    "flink_snapshot_gb": Assumption(1, "GB", "size of the Flink application's snapshots, where enabled"),
    "flink_artifact_mb": Assumption(60, "MB", "the packaged Flink application (the connector JAR dominates)"),
    "on_demand_shards": Assumption(4, "shards", "shards of an on-demand stream (its starting 4 MB/s capacity)"),
    "athena_queries_per_day": Assumption(20, "queries", "lake analyses people run a day"),
    "athena_days_per_query": Assumption(7, "days", "days of the lake one analysis reads"),
    "athena_result_mb": Assumption(1, "MB", "result of one Athena query, kept until its lifecycle expiry"),
    "lake_age_months": Assumption(12, "months", "age of the lake and warehouse data (storage grows until expiry)"),
    "refresh_overhead_seconds": Assumption(
        30, "s", "fixed work of one warehouse refresh at base capacity (billed 60 s at least)"
    ),
    "refresh_rpu_seconds_per_gb": Assumption(
        60, "RPU-s/GB", "warehouse compute per GB of Parquet a refresh reads from the lake"
    ),
    "warehouse_query_hours_per_day": Assumption(0, "hours", "interactive warehouse queries at base capacity a day"),
    "warehouse_bytes_per_event": Assumption(60, "bytes", "warehouse storage per event (dwd row and aggregates)"),
    "firehose_jq_hours_per_gb": Assumption(0.01, "hours/GB", "JQ processing time per GB partitioned"),
    "s3_access_log_bytes_per_request": Assumption(350, "bytes", "an S3 server access log record"),
    "kms_requests_per_month": Assumption(100_000, "requests", "KMS requests of the stack's services a month"),
    "ops_notifications_per_month": Assumption(30, "notifications", "alarm, budget and anomaly notifications"),
    "live_open_pages": Assumption(3, "pages", "live dashboard pages open at any time (each holds a WebSocket)"),
    "live_page_loads_per_day": Assumption(40, "loads", "times a day someone opens the live dashboard"),
    "live_page_kb": Assumption(40, "KB", "what one page load downloads (HTML, script, style, config)"),
    "live_ms_per_invocation": Assumption(
        50, "ms", "billed duration of a live dashboard function (an API query, an authorizer, a connection, a push)"
    ),
}


@dataclass(frozen=True)
class Assumptions:
    values: Mapping[str, float] = field(default_factory=lambda: {k: a.default for k, a in ASSUMPTIONS.items()})

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    @staticmethod
    def with_overrides(overrides: Iterable[str]) -> Assumptions:
        """`name=value` overrides, refused one line per problem."""
        values = {k: a.default for k, a in ASSUMPTIONS.items()}
        problems: list[str] = []
        for override in overrides:
            name, sep, text = override.partition("=")
            if not sep:
                problems.append(f"--assume {override!r}: expected NAME=VALUE")
                continue
            if name not in ASSUMPTIONS:
                close = difflib.get_close_matches(name, ASSUMPTIONS, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                problems.append(f"--assume {name}: no such assumption{hint}; `python -m tools.cost --help` lists them")
                continue
            try:
                value = float(text)
            except ValueError:
                problems.append(f"--assume {name}: must be a number, got {text!r}")
                continue
            if not (math.isfinite(value) and value >= 0):
                problems.append(f"--assume {name}: must be a finite number >= 0, got {text!r}")
                continue
            values[name] = value
        if problems:
            raise EstimateError("; ".join(problems))
        return Assumptions(values)

    def changed(self) -> dict[str, float]:
        return {k: v for k, v in self.values.items() if v != ASSUMPTIONS[k].default}


# --- terms ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A quantity of one priced unit, for one resource: the atom of every estimate."""

    tier: str
    resource: str  # logical name
    resource_type: str
    urn: str
    price_id: str
    quantity: float
    unit: str
    usd: float
    driver: Driver
    basis: str  # how the quantity was derived

    def to_json(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "resource": self.resource,
            "type": self.resource_type,
            "urn": self.urn,
            "price": self.price_id,
            "quantity": self.quantity,
            "unit": self.unit,
            "usd": round(self.usd, 6),
            "driver": self.driver,
            "basis": self.basis,
        }


@dataclass(frozen=True)
class CapacityWarning:
    resource: str
    message: str


# --- the program as the rules see it -------------------------------------------------------------------


class Program:
    """Lookups over what the program registered: by type, by ARN or name, and the tier of each resource."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.resources = [r for r in snapshot.resources if r.custom and not r.type.startswith("pulumi:providers:")]
        self._by_urn = {r.urn: r for r in snapshot.resources}
        self._by_identity: dict[tuple[str, str], RegisteredResource] = {}
        for r in self.resources:
            for key in ("arn", "bucket", "name"):
                value = r.state.get(key)
                if isinstance(value, str) and value:
                    self._by_identity.setdefault((r.type, value), r)
        # The program's own provider; the edge tier adds a second one in us-east-1.
        provider = next((r for r in snapshot.resources if r.type == "pulumi:providers:aws" and r.name == "aws"), None)
        self.region = str(provider.inputs.get("region")) if provider is not None else ""

    def of_type(self, type_token: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, type_token: str, identity: Any) -> RegisteredResource | None:
        """The resource of this type whose ARN, bucket or physical name this is."""
        return self._by_identity.get((type_token, identity)) if isinstance(identity, str) else None

    def tier_of(self, resource: RegisteredResource) -> str:
        """The tier component (a child of the platform) the resource belongs to, e.g. `ingest`."""
        current: RegisteredResource | None = resource
        while current is not None:
            parent = self._by_urn.get(current.parent or "")
            if parent is not None and parent.type == PLATFORM:
                return current.type.split(":")[1]
            current = parent
        return "other"


Rule = Callable[["Context", RegisteredResource], Iterator[Term]]
RULES: dict[str, Rule] = {}


def rule(type_token: str) -> Callable[[Rule], Rule]:
    """Register the rule that prices one resource type (its prices are listed in prices.yaml)."""

    def register(function: Rule) -> Rule:
        if type_token in RULES:  # a second rule would silently replace the first one's pricing
            raise ValueError(f"{type_token} already has a rule ({RULES[type_token].__name__}): extend that one")
        RULES[type_token] = function
        return function

    return register


@dataclass
class Context:
    """What a rule gets: the program, the prices of its region, the workload and the assumptions."""

    program: Program
    prices: PriceTable
    workload: Workload
    assumptions: Assumptions
    warnings: list[CapacityWarning] = field(default_factory=list)

    @property
    def region(self) -> str:
        return self.program.region

    def term(self, resource: RegisteredResource, price_id: str, quantity: float, driver: Driver, basis: str) -> Term:
        pricing = self.prices.pricing_of(resource.type)
        if pricing is None or price_id not in pricing.price_ids:
            raise PriceTableError(
                f"the rule for {resource.type} priced {price_id!r}, which prices.yaml does not list for that type"
            )
        quantity = max(quantity, 0.0)
        return Term(
            tier=self.program.tier_of(resource),
            resource=resource.name,
            resource_type=resource.type,
            urn=resource.urn,
            price_id=price_id,
            quantity=quantity,
            unit=self.prices.entry(price_id).unit,
            usd=self.prices.cost(price_id, self.region, quantity),
            driver=driver,
            basis=basis,
        )

    def warn(self, resource: RegisteredResource, message: str) -> None:
        warning = CapacityWarning(resource.name, message)
        if warning not in self.warnings:
            self.warnings.append(warning)


# --- the estimate ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    stack: str
    region: str
    workload: Workload
    assumptions: Assumptions
    terms: list[Term]
    warnings: list[CapacityWarning]

    @property
    def total(self) -> float:
        return sum(t.usd for t in self.terms)

    def by(self, key: Callable[[Term], str]) -> dict[str, float]:
        totals: dict[str, float] = defaultdict(float)
        for term in self.terms:
            totals[key(term)] += term.usd
        return dict(sorted(totals.items(), key=lambda item: -item[1]))

    def tiers(self) -> dict[str, float]:
        return self.by(lambda t: t.tier)

    def kinds(self) -> dict[str, float]:
        return self.by(lambda t: t.resource_type)


def estimate(
    snapshot: Snapshot,
    workload: Workload,
    assumptions: Assumptions | None = None,
    prices: PriceTable | None = None,
) -> Estimate:
    """Price every resource the program registered, for this workload."""
    from tools.cost import rules  # noqa: F401  (registers the rules)

    prices = prices or PriceTable.load()
    assumptions = assumptions or Assumptions()
    program = Program(snapshot)
    if program.region not in prices.regions:
        raise EstimateError(
            f"stack {snapshot.stack} is in {program.region or 'no region'}, and tools/cost/prices.yaml has prices "
            f"for {', '.join(prices.regions)} only: add that region's prices to every entry"
        )
    context = Context(program, prices, workload, assumptions)
    terms: list[Term] = []
    missing = sorted({r.type for r in program.resources if prices.pricing_of(r.type) is None})
    if missing:
        raise EstimateError(
            "; ".join(f"resource type {t} has no entry in tools/cost/prices.yaml `resource_types`" for t in missing)
        )
    for resource in program.resources:
        pricing = prices.pricing_of(resource.type)
        assert pricing is not None
        if pricing.free:
            continue
        if pricing.monthly:
            terms.append(context.term(resource, pricing.monthly, 1, "fixed", "one a month"))
            continue
        function = RULES.get(resource.type)
        if function is None:
            raise EstimateError(
                f"{resource.type} is priced by usage in prices.yaml, but tools/cost/rules.py has no "
                f'@rule("{resource.type}")'
            )
        terms.extend(function(context, resource))
    return Estimate(snapshot.stack, program.region, workload, assumptions, terms, context.warnings)
