"""One rule per usage-priced resource type: the resource's inputs and the workload, turned into terms.

Everything a rule knows about the stack comes from the synthesized program: capacity modes and
shard counts, memory sizes, buffering, lifecycle rules, schedules, retention, who invokes a function
(an API integration, an event source mapping, an S3 notification), which stream a delivery stream or
a consumer reads. What the program cannot say (how long an invocation runs, how often people query)
is an assumption (`tools.cost.model.ASSUMPTIONS`), listed with every estimate.

Traffic enters through the streams: `STREAM_FLOWS` says what each stream carries, by its logical name
(a URN promise). A tier that adds a stream adds its flow here; a stream without one is priced idle
and the estimate says so.

Adding a resource type: give it an entry in prices.yaml (`free`, `monthly`, or `priced_by`), and for
`priced_by` a function here decorated `@rule("<type token>")` that yields `ctx.term(...)`s naming
those prices.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.cost.model import DAYS_PER_MONTH, GB, HOURS_PER_MONTH, KB, Context, Driver, EstimateError, Term, rule
from tools.engine.mocks import PROJECT_DIR, RegisteredResource

MB = 2**20
STREAM = "aws:kinesis/stream:Stream"
BUCKET = "aws:s3/bucket:Bucket"


def _number(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value) if isinstance(value, str) else {}
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def traced_share(per_second: float) -> float:
    """Share of requests X-Ray's default sampling rule records: the first each second, then 5%."""
    if per_second <= 0:
        return 0.0
    return (min(per_second, 1.0) + 0.05 * max(per_second - 1.0, 0.0)) / per_second


# --- schedules ---------------------------------------------------------------------------------------------

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}


def _cron_field_count(text: str, low: int, high: int) -> int:
    """How many values of a cron field match (`*`, `N`, `a,b`, `a-b`, `*/n`, `a-b/n`)."""
    matched: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            start, end = (int(x) for x in part.split("-", 1))
        else:
            start = int(part)
            end = high if step > 1 else start  # `a/n`: from a, every n, to the field's end
        matched.update(range(start, end + 1, step))
    return len(matched)


def runs_per_month(expression: str) -> float:
    """Runs a month of an EventBridge Scheduler expression (cron: minutes x hours a day, every day)."""
    rate = _RATE.match(expression)
    if rate:
        unit = rate.group(2).rstrip("s")
        return HOURS_PER_MONTH * 3600 / (int(rate.group(1)) * _UNIT_SECONDS[unit])
    if expression.startswith("cron(") and expression.endswith(")"):
        fields = expression[5:-1].split()
        if len(fields) == 6:
            return _cron_field_count(fields[0], 0, 59) * _cron_field_count(fields[1], 0, 23) * DAYS_PER_MONTH
    if expression.startswith("at("):
        return 0.0  # once, at one moment: nothing a month
    raise EstimateError(f"cannot count the runs of schedule expression {expression!r}")


def interval_hours(expression: str) -> float:
    runs = runs_per_month(expression)
    return HOURS_PER_MONTH / runs if runs else HOURS_PER_MONTH


# --- what flows through the streams ------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    """Records a stream carries a month, their size, and their rate while events flow."""

    records: float
    record_bytes: float
    per_second: float

    @property
    def bytes(self) -> float:
        return self.records * self.record_bytes


NO_FLOW = Flow(0.0, 0.0, 0.0)


def _events_flow(ctx: Context) -> Flow:
    w = ctx.workload
    return Flow(w.events, float(w.event_bytes), w.events_per_second)


def flink_window_seconds(ctx: Context) -> float | None:
    for app in ctx.program.of_type("aws:kinesisanalyticsv2/application:Application"):
        groups = app.inputs.get("applicationConfiguration", {}).get("environmentProperties", {})
        for group in groups.get("propertyGroups", []):
            window = group.get("propertyMap", {}).get("window.seconds")
            if window is not None:
                return float(window)
    return None


def alert_records(ctx: Context) -> tuple[float, float, float]:
    """(error alerts, counts alerts, windows) a month: one alert per error event, and per action and window."""
    w, a = ctx.workload, ctx.assumptions
    window = flink_window_seconds(ctx)
    errors = w.events * a["error_event_fraction"]
    if window is None or w.events_per_second <= 0:
        return errors, 0.0, 0.0
    windows = w.active_seconds / window
    counts = windows * min(a["distinct_actions"], w.events_per_second * window)
    return errors, counts, windows


def _alerts_flow(ctx: Context) -> Flow:
    errors, counts, _ = alert_records(ctx)
    records = errors + counts
    rate = records / ctx.workload.active_seconds if records else 0.0
    return Flow(records, ctx.assumptions["alert_record_bytes"], rate)


def _search_feed_flow(ctx: Context) -> Flow:
    """The search feed: every error and warning event, and an alert document per error (bursts are few)."""
    w, a = ctx.workload, ctx.assumptions
    errors = w.events * a["error_event_fraction"]
    records = w.events * (a["error_event_fraction"] + a["warning_event_fraction"]) + errors
    rate = records / w.active_seconds if records else 0.0
    return Flow(records, w.event_bytes + a["search_document_extra_bytes"], rate)


# --- the edge -----------------------------------------------------------------------------------------------
# The estimate's workload reaches the platform as requests; with the edge tier, every one of them is taken to
# pass through the distribution to `POST /events` (an upper bound: clients may call the API directly). Beacons
# (events sent at page hide) are not modelled: their share of the traffic is the site's.
EDGE_LOG_LINE_BYTES = 500  # CloudFront Developer Guide, real-time logs: a record is around 500 bytes


def _edge_requests(ctx: Context) -> float:
    return ctx.workload.requests if ctx.program.of_type("aws:cloudfront/distribution:Distribution") else 0.0


def _request_log_share(ctx: Context) -> float:
    """The sampling of the request log (`/events` and the rest); beacons have a configuration of their own."""
    for config in ctx.program.of_type("aws:cloudfront/realtimeLogConfig:RealtimeLogConfig"):
        if config.name == "edge-request-logs":
            return _number(config.inputs.get("samplingRate"), 100.0) / 100
    return 0.0


def _edge_logs_flow(ctx: Context) -> Flow:
    lines = _edge_requests(ctx) * _request_log_share(ctx)
    rate = lines / ctx.workload.active_seconds if lines else 0.0
    return Flow(lines, float(EDGE_LOG_LINE_BYTES), rate)


@rule("aws:cloudfront/distribution:Distribution")
def cloudfront_distribution(ctx: Context, distribution: RegisteredResource) -> Iterator[Term]:
    if distribution.name == DASHBOARD_DISTRIBUTION:
        yield from dashboard_distribution(ctx, distribution)
        return
    requests = _edge_requests(ctx)
    yield ctx.term(distribution, "cloudfront.https_requests", requests / 1e4, "traffic",
                   f"{requests:,.0f} HTTPS requests a month (every POST /events through the edge)")  # fmt: skip


@rule("aws:cloudfront/function:Function")
def cloudfront_function(ctx: Context, function: RegisteredResource) -> Iterator[Term]:
    requests = _edge_requests(ctx)  # every behavior runs the viewer-request function
    yield ctx.term(function, "cloudfront.function_invocations", requests / 1e6, "traffic",
                   f"{requests:,.0f} viewer requests a month")  # fmt: skip


@rule("aws:cloudfront/realtimeLogConfig:RealtimeLogConfig")
def realtime_log_config(ctx: Context, config: RegisteredResource) -> Iterator[Term]:
    if config.name != "edge-request-logs":
        return  # the beacon configuration logs beacons, which the workload does not model
    lines = _edge_logs_flow(ctx).records
    yield ctx.term(config, "cloudfront.realtime_log_lines", lines / 1e6, "traffic",
                   f"{lines:,.0f} log lines a month ({_request_log_share(ctx):.0%} of the requests)")  # fmt: skip


@rule("aws:wafv2/webAcl:WebAcl")
def web_acl(ctx: Context, acl: RegisteredResource) -> Iterator[Term]:
    rules = len(acl.inputs.get("rules") or [])
    requests = _edge_requests(ctx)
    yield ctx.term(acl, "waf.web_acl_month", 1, "fixed", "one web ACL")
    yield ctx.term(acl, "waf.rule_month", rules, "fixed", f"{rules} rules")
    yield ctx.term(acl, "waf.requests", requests / 1e6, "traffic", f"{requests:,.0f} requests inspected a month")


# Stream logical name -> what it carries. Tiers that add streams add their flows here.
STREAM_FLOWS: dict[str, Callable[[Context], Flow]] = {
    "events-stream": _events_flow,
    "alerts-stream": _alerts_flow,
    "search-feed-stream": _search_feed_flow,
    "edge-logs-stream": _edge_logs_flow,
}


def flow_of(ctx: Context, stream: RegisteredResource | None) -> Flow:
    if stream is None:
        return NO_FLOW
    flow = STREAM_FLOWS.get(stream.name)
    if flow is None:
        ctx.warn(stream, "no traffic model for this stream (tools/cost/rules.py STREAM_FLOWS): priced as idle")
        return NO_FLOW
    return flow(ctx)


def _provisioned_shards(stream: RegisteredResource) -> int | None:
    mode = stream.inputs.get("streamModeDetails", {}).get("streamMode", "PROVISIONED")
    return int(_number(stream.inputs.get("shardCount"), 1)) if mode == "PROVISIONED" else None


def _shards(ctx: Context, stream: RegisteredResource) -> int:
    shards = _provisioned_shards(stream)
    return shards if shards is not None else int(ctx.assumptions["on_demand_shards"])


def _reads_stream(resource: RegisteredResource, stream_arn: str) -> bool:
    if resource.type == "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
        return resource.inputs.get("kinesisSourceConfiguration", {}).get("kinesisStreamArn") == stream_arn
    if resource.type == "aws:lambda/eventSourceMapping:EventSourceMapping":
        return resource.inputs.get("eventSourceArn") == stream_arn
    return False


def shared_consumers(ctx: Context, stream: RegisteredResource) -> list[RegisteredResource]:
    """Readers that share the stream's read throughput (Firehose, Lambda event source mappings)."""
    arn = str(stream.state.get("arn"))
    return [r for r in ctx.program.resources if _reads_stream(r, arn)]


def _rounded(flow: Flow, chunk: int) -> float:
    """Bytes billed when each record is rounded up to the next `chunk` bytes."""
    return flow.records * math.ceil(flow.record_bytes / chunk) * chunk if flow.records else 0.0


# --- ingest ------------------------------------------------------------------------------------------------


def _api_functions(ctx: Context) -> set[str]:
    """ARNs of the functions an API integration invokes (one invocation per request)."""
    found: set[str] = set()
    for integration in ctx.program.of_type("aws:apigateway/integration:Integration"):
        match = re.search(r"functions/(arn:[^/]+)/invocations", str(integration.inputs.get("uri", "")))
        if match:
            found.add(match.group(1))
    return found


def _serves_functions(ctx: Context, stage: RegisteredResource) -> bool:
    api = stage.inputs.get("restApi")
    return any(
        i.inputs.get("restApi") == api and "functions/" in str(i.inputs.get("uri", ""))
        for i in ctx.program.of_type("aws:apigateway/integration:Integration")
    )


def _stage_traced(ctx: Context) -> bool:
    return any(s.inputs.get("xrayTracingEnabled") is True for s in ctx.program.of_type("aws:apigateway/stage:Stage"))


def _stage_throttle(ctx: Context, stage: RegisteredResource) -> float | None:
    for settings in ctx.program.of_type("aws:apigateway/methodSettings:MethodSettings"):
        if settings.inputs.get("stageName") == stage.inputs.get("stageName"):
            rate = settings.inputs.get("settings", {}).get("throttlingRateLimit")
            if rate is not None:
                return float(rate)
    return None


@rule("aws:apigateway/stage:Stage")
def api_stage(ctx: Context, stage: RegisteredResource) -> Iterator[Term]:
    w = ctx.workload
    if not _serves_functions(ctx, stage):
        ctx.warn(stage, "no traffic model for this stage: priced as idle")
        return
    yield ctx.term(
        stage, "apigateway.rest_requests", w.requests / 1e6, "traffic",
        f"{w.requests:,.0f} requests: {w.events:,.0f} events / {w.events_per_request} per request",
    )  # fmt: skip
    if stage.inputs.get("xrayTracingEnabled") is True and w.requests:
        traces = w.requests * traced_share(w.requests_per_second)
        yield ctx.term(
            stage, "xray.traces_recorded", traces / 1e6, "traffic",
            f"X-Ray samples {traced_share(w.requests_per_second):.1%} of {w.requests_per_second:,.1f} requests/s",
        )  # fmt: skip
    throttle = _stage_throttle(ctx, stage)
    if throttle is not None and w.requests_per_second > throttle:
        ctx.warn(
            stage,
            f"{w.requests_per_second:,.0f} requests/s exceeds the stage's throttling rate of {throttle:,.0f}/s "
            f"(`ingest.api.rate_limit_rps`): API Gateway answers 429 to the rest",
        )
    for plan in ctx.program.of_type("aws:apigateway/usagePlan:UsagePlan"):
        quota = plan.inputs.get("quotaSettings") or {}
        per_day = w.requests_per_second * w.active_hours * 3600
        if quota.get("period") == "DAY" and per_day > _number(quota.get("limit"), math.inf):
            ctx.warn(
                stage,
                f"{per_day:,.0f} requests a day exceed the usage plan's daily quota of "
                f"{_number(quota.get('limit')):,.0f} per client key (`ingest.api.daily_quota`), if one key sends them",
            )


@rule("aws:apigateway/methodSettings:MethodSettings")
def method_settings(ctx: Context, settings: RegisteredResource) -> Iterator[Term]:
    if settings.inputs.get("settings", {}).get("metricsEnabled") is not True or not ctx.workload.events:
        return
    api = settings.inputs.get("restApi")
    methods = [m for m in ctx.program.of_type("aws:apigateway/method:Method") if m.inputs.get("restApi") == api]
    metrics = 7 * len(methods)  # Count, 4XXError, 5XXError, Latency, IntegrationLatency, CacheHit/MissCount
    yield ctx.term(
        settings, "apigateway.detailed_metric_month", metrics, "traffic",
        f"detailed metrics on: 7 per method x {len(methods)} method(s), published while requests arrive",
    )  # fmt: skip


# --- functions ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invocations:
    per_month: float
    per_second: float  # while events flow
    billed_ms: float
    source: str
    driver: Driver = "traffic"  # "fixed" where people's use, not the events, makes the calls (the live dashboard)


def _esm_invocations(ctx: Context, function_arn: str) -> Invocations | None:
    for mapping in ctx.program.of_type("aws:lambda/eventSourceMapping:EventSourceMapping"):
        if mapping.inputs.get("functionName") not in (function_arn, function_arn.rsplit(":", 1)[-1]):
            continue
        stream = ctx.program.named(STREAM, mapping.inputs.get("eventSourceArn"))
        flow = flow_of(ctx, stream)
        if not flow.records or stream is None:
            return Invocations(0.0, 0.0, ctx.assumptions["sink_ms_per_invocation"], "its event source mapping")
        batch = _number(mapping.inputs.get("batchSize"), 100)
        # Lambda polls each shard about once a second: few records mean an invocation per poll with records,
        # many mean full batches.
        per_second = max(min(flow.per_second, _shards(ctx, stream)), flow.per_second / batch)
        return Invocations(
            per_second * ctx.workload.active_seconds,
            per_second,
            ctx.assumptions["sink_ms_per_invocation"],
            f"batches of up to {batch:.0f} from stream '{stream.name}' ({flow.per_second:,.2f} records/s)",
        )
    return None


def _notification_invocations(ctx: Context, function_arn: str) -> Invocations | None:
    for notification in ctx.program.of_type("aws:s3/bucketNotification:BucketNotification"):
        for target in notification.inputs.get("lambdaFunctions", []):
            if target.get("lambdaFunctionArn") != function_arn:
                continue
            bucket = ctx.program.named(BUCKET, notification.inputs.get("bucket"))
            delivery = lake_delivery(ctx, bucket) if bucket is not None else None
            prefix = str(target.get("filterPrefix", ""))
            objects = delivery.objects if delivery and delivery.prefix.startswith(prefix) else 0.0
            rate = objects / ctx.workload.active_seconds if objects else 0.0
            return Invocations(
                objects, rate, ctx.assumptions["registrar_ms_per_invocation"], f"one per object created under {prefix}"
            )
    return None


def _scheduled_invocations(ctx: Context, function_arn: str) -> Invocations | None:
    """A function EventBridge Scheduler invokes (the search tier's retention sweep): its runs a month."""
    for schedule in ctx.program.of_type("aws:scheduler/schedule:Schedule"):
        if schedule.inputs.get("target", {}).get("arn") != function_arn:
            continue
        runs = runs_per_month(str(schedule.inputs.get("scheduleExpression")))
        return Invocations(runs, 0.0, ctx.assumptions["scheduled_ms_per_invocation"], "on its schedule")
    return None


def _invoked_at_deploy(ctx: Context, function: RegisteredResource) -> bool:
    names = (function.state.get("name"), function.state.get("arn"))
    return any(i.inputs.get("functionName") in names for i in ctx.program.of_type("aws:lambda/invocation:Invocation"))


# The live dashboard's functions by logical name: invocations per page load (its API answers three
# requests; the WebSocket's authorizer runs on connect, its connections function on connect and disconnect).
LIVE_INVOCATIONS_PER_LOAD = {"live-api-function": 3, "live-authorizer-function": 1, "live-connections-function": 2}


def _live_invocations(ctx: Context, function: RegisteredResource) -> Invocations | None:
    ms = ctx.assumptions["live_ms_per_invocation"]
    if function.name in LIVE_INVOCATIONS_PER_LOAD:
        per_load = LIVE_INVOCATIONS_PER_LOAD[function.name]
        per_month = _page_loads(ctx) * per_load
        rate = per_month / ctx.workload.active_seconds
        return Invocations(per_month, rate, ms, f"{per_load} per dashboard load", driver="fixed")
    if function.name == "live-push-function":
        errors, _counts, windows = alert_records(ctx)
        per_month = errors + windows  # at most one per realtime-table change; the stream's batching only lowers it
        rate = per_month / ctx.workload.active_seconds
        return Invocations(per_month, rate, ms, "at most one per error alert or window's counts stored")
    return None


def invocations_of(ctx: Context, function: RegisteredResource) -> Invocations:
    """How often a function runs, from what invokes it in the program."""
    arn = str(function.state.get("arn"))
    w, a = ctx.workload, ctx.assumptions
    if arn in _api_functions(ctx):
        ms = a["ingest_ms_per_request"] + w.events_per_request * a["ingest_ms_per_event"]
        return Invocations(w.requests, w.requests_per_second, ms, "one per API request")
    found = (
        _live_invocations(ctx, function)
        or _esm_invocations(ctx, arn)
        or _notification_invocations(ctx, arn)
        or _scheduled_invocations(ctx, arn)
    )
    if found is not None:
        return found
    if _invoked_at_deploy(ctx, function):
        return Invocations(0.0, 0.0, 0.0, "once per deployment (a Lambda invocation resource)")
    ctx.warn(function, "nothing in the program invokes this function on a traffic path: priced as idle")
    return Invocations(0.0, 0.0, 0.0, "not invoked")


def emitted_metrics(function: RegisteredResource) -> int:
    """Custom metrics the handler's module emits (Powertools `add_metric(name=...)`), read from its source."""
    handler = str(function.inputs.get("handler", ""))
    module = handler.rsplit(".", 1)[0]
    path = PROJECT_DIR / Path(*module.split(".")).with_suffix(".py")
    if not module or not path.is_file():
        return 0
    return len(set(re.findall(r"add_metric\(\s*name=\"([^\"]+)\"", path.read_text(encoding="utf-8"))))


@rule("aws:lambda/function:Function")
def lambda_function(ctx: Context, function: RegisteredResource) -> Iterator[Term]:
    if function.inputs.get("architectures", ["x86_64"]) != ["arm64"]:
        raise EstimateError(f"function '{function.name}' is not arm64; prices.yaml has arm64 Lambda prices only")
    calls = invocations_of(ctx, function)
    if not calls.per_month:
        return
    reserved = function.inputs.get("reservedConcurrentExecutions")
    concurrency = calls.per_second * calls.billed_ms / 1000
    if isinstance(reserved, int | float) and concurrency > reserved:
        ctx.warn(
            function,
            f"about {concurrency:,.0f} concurrent invocations exceed its reserved concurrency of {reserved:.0f}: "
            f"the rest are throttled",
        )
    memory_gb = _number(function.inputs.get("memorySize"), 128) / 1024
    yield ctx.term(
        function,
        "lambda.requests",
        calls.per_month / 1e6,
        calls.driver,
        f"{calls.per_month:,.0f} invocations: {calls.source}",
    )
    gb_seconds = calls.per_month * calls.billed_ms / 1000 * memory_gb
    yield ctx.term(
        function, "lambda.arm_gb_second", gb_seconds, calls.driver,
        f"{calls.billed_ms:g} ms x {memory_gb * 1024:.0f} MB per invocation",
    )  # fmt: skip
    traced = function.inputs.get("tracingConfig", {}).get("mode") == "Active"
    behind_traced_api = str(function.state.get("arn")) in _api_functions(ctx) and _stage_traced(ctx)
    if traced and not behind_traced_api:
        share = traced_share(calls.per_second)
        yield ctx.term(
            function, "xray.traces_recorded", calls.per_month * share / 1e6, calls.driver,
            f"X-Ray samples {share:.1%} of {calls.per_second:,.2f} invocations/s",
        )  # fmt: skip
    metrics = emitted_metrics(function)
    if metrics:
        yield ctx.term(
            function, "cloudwatch.custom_metric_month", metrics, calls.driver,
            f"{metrics} Powertools metrics its handler emits while it runs",
        )  # fmt: skip


# --- streams -----------------------------------------------------------------------------------------------


@rule("aws:dms/replicationConfig:ReplicationConfig")
def dms_replication(ctx: Context, config: RegisteredResource) -> Iterator[Term]:
    """DMS Serverless runs at least its minimum capacity while the replication runs (the `cdc` tier starts it)."""
    compute = config.inputs.get("computeConfig") or {}
    minimum = _number(compute.get("minCapacityUnits"), 1)
    copies = 2 if compute.get("multiAz") is True else 1
    yield ctx.term(
        config, "dms.serverless_dcu_hour", minimum * copies * HOURS_PER_MONTH, "fixed",
        f"{minimum:g} DCU minimum{' x 2 (Multi-AZ)' if copies == 2 else ''}, running all month; more under load",
    )  # fmt: skip


@rule("aws:kinesis/stream:Stream")
def kinesis_stream(ctx: Context, stream: RegisteredResource) -> Iterator[Term]:
    flow = flow_of(ctx, stream)
    retention = _number(stream.inputs.get("retentionPeriod"), 24)
    metrics = len(stream.inputs.get("shardLevelMetrics") or [])
    shards = _provisioned_shards(stream)
    monthly_gb = flow.bytes / GB
    if shards is not None:
        yield ctx.term(
            stream, "kinesis.shard_hour", shards * HOURS_PER_MONTH, "fixed", f"{shards} shard(s), provisioned"
        )
        units = flow.records * math.ceil(flow.record_bytes / (25 * KB)) if flow.records else 0.0
        if units:
            yield ctx.term(
                stream, "kinesis.put_payload_units", units / 1e6, "traffic",
                f"{flow.records:,.0f} records of {flow.record_bytes:,.0f} bytes, a unit per started 25 KB",
            )  # fmt: skip
        if retention > 24:
            yield ctx.term(
                stream, "kinesis.extended_retention_shard_hour", shards * HOURS_PER_MONTH, "fixed",
                f"retention {retention:.0f} h > 24 h",
            )  # fmt: skip
        if flow.per_second > 1000 * shards or flow.per_second * flow.record_bytes > shards * MB:
            ctx.warn(
                stream,
                f"{flow.per_second:,.0f} records/s ({flow.per_second * flow.record_bytes / MB:,.1f} MB/s) exceed "
                f"{shards} shard(s) (1,000 records/s and 1 MB/s each): writes are throttled; add shards "
                f"(`shard_count`) or use on-demand mode",
            )
    else:
        yield ctx.term(stream, "kinesis.on_demand_stream_hour", HOURS_PER_MONTH, "fixed", "on-demand stream")
        billed_gb = _rounded(flow, KB) / GB
        if billed_gb:
            yield ctx.term(
                stream, "kinesis.on_demand_data_in_gb", billed_gb, "traffic",
                f"{flow.records:,.0f} records, each rounded up to 1 KB",
            )  # fmt: skip
            readers = shared_consumers(ctx, stream)
            if readers:
                yield ctx.term(
                    stream, "kinesis.on_demand_data_out_gb", billed_gb * len(readers), "traffic",
                    f"read by {', '.join(r.name for r in readers)}",
                )  # fmt: skip
        if retention > 24:
            kept_hours = min(retention, 168) - 24
            yield ctx.term(
                stream, "kinesis.on_demand_extended_retention_gb_month", monthly_gb * kept_hours / HOURS_PER_MONTH,
                "traffic", f"data kept {kept_hours:.0f} h beyond the first 24",
            )  # fmt: skip
    if retention > 168:
        yield ctx.term(
            stream, "kinesis.long_term_retention_gb_month", monthly_gb * (retention - 168) / HOURS_PER_MONTH,
            "traffic", f"data kept {retention - 168:.0f} h beyond 7 days",
        )  # fmt: skip
    if metrics:
        count = metrics * _shards(ctx, stream)
        yield ctx.term(
            stream, "cloudwatch.custom_metric_month", count, "fixed",
            f"{metrics} shard-level metrics x {_shards(ctx, stream)} shard(s)",
        )  # fmt: skip


@rule("aws:kinesis/streamConsumer:StreamConsumer")
def stream_consumer(ctx: Context, consumer: RegisteredResource) -> Iterator[Term]:
    stream = ctx.program.named(STREAM, consumer.inputs.get("streamArn"))
    if stream is None:
        return
    flow = flow_of(ctx, stream)
    shards = _provisioned_shards(stream)
    if shards is not None:
        yield ctx.term(
            consumer, "kinesis.efo_consumer_shard_hour", shards * HOURS_PER_MONTH, "fixed",
            f"enhanced fan-out on {shards} shard(s) of '{stream.name}'",
        )  # fmt: skip
    if flow.records:
        price = "kinesis.efo_data_gb" if shards is not None else "kinesis.on_demand_efo_data_gb"
        yield ctx.term(consumer, price, flow.bytes / GB, "traffic", f"everything '{stream.name}' carries")


# --- streaming ---------------------------------------------------------------------------------------------


@rule("aws:kinesisanalyticsv2/application:Application")
def flink_application(ctx: Context, app: RegisteredResource) -> Iterator[Term]:
    config = app.inputs.get("applicationConfiguration", {}).get("flinkApplicationConfiguration", {})
    parallelism = config.get("parallelismConfiguration", {})
    per_kpu = _number(parallelism.get("parallelismPerKpu"), 1)
    kpus = math.ceil(_number(parallelism.get("parallelism"), 1) / per_kpu)
    w = ctx.workload
    needed = math.ceil(w.events_per_second / ctx.assumptions["flink_events_per_second_per_kpu"])
    yield ctx.term(
        app, "flink.kpu_hour", (kpus + 1) * HOURS_PER_MONTH, "fixed",
        f"{kpus} KPU(s) (parallelism {_number(parallelism.get('parallelism'), 1):.0f} / {per_kpu:.0f} per KPU) "
        f"+ 1 for orchestration",
    )  # fmt: skip
    yield ctx.term(app, "flink.running_storage_gb_month", 50 * kpus, "fixed", f"50 GB per KPU x {kpus}")
    if needed > kpus:
        if parallelism.get("autoScalingEnabled") is True:
            extra_hours = (needed - kpus) * w.active_seconds / 3600
            yield ctx.term(
                app, "flink.kpu_hour", extra_hours, "traffic",
                f"autoscaling to {needed} KPUs while {w.events_per_second:,.0f} events/s flow",
            )  # fmt: skip
            yield ctx.term(
                app, "flink.running_storage_gb_month", 50 * extra_hours / HOURS_PER_MONTH, "traffic",
                "50 GB per autoscaled KPU",
            )  # fmt: skip
        else:
            ctx.warn(
                app,
                f"{w.events_per_second:,.0f} events/s need about {needed} KPUs, the application has {kpus} and no "
                f"autoscaling: it falls behind (`streaming.flink.parallelism` or `autoscaling`)",
            )
    if (
        app.inputs.get("applicationConfiguration", {})
        .get("applicationSnapshotConfiguration", {})
        .get("snapshotsEnabled")
    ):
        yield ctx.term(
            app, "flink.backup_gb_month", ctx.assumptions["flink_snapshot_gb"], "fixed", "snapshots enabled"
        )  # fmt: skip


# --- the lake ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What a delivery stream writes to the lake a month."""

    firehose: RegisteredResource
    flow: Flow
    objects: float
    parquet_bytes: float
    prefix: str

    @property
    def object_bytes(self) -> float:
        return self.parquet_bytes / self.objects if self.objects else 0.0


def delivery_of(ctx: Context, firehose: RegisteredResource) -> Delivery:
    s3 = firehose.inputs.get("extendedS3Configuration", {})
    source = firehose.inputs.get("kinesisSourceConfiguration", {}).get("kinesisStreamArn")
    flow = flow_of(ctx, ctx.program.named(STREAM, source))
    prefix = str(s3.get("prefix", "")).split("!{", 1)[0]
    if not flow.records:
        return Delivery(firehose, flow, 0.0, 0.0, prefix)
    buffer_bytes = _number(s3.get("bufferingSize"), 5) * MB
    interval = _number(s3.get("bufferingInterval"), 300)
    per_hour = flow.per_second * flow.record_bytes * 3600
    # A buffer is flushed when full or when its interval passes; events of one hour share a partition.
    flushes_per_hour = max(3600 / interval, per_hour / buffer_bytes)
    objects = flushes_per_hour * ctx.workload.active_seconds / 3600
    converted = bool(s3.get("dataFormatConversionConfiguration", {}).get("enabled"))
    ratio = ctx.assumptions["parquet_ratio"] if converted else 1.0
    return Delivery(firehose, flow, objects, flow.bytes * ratio, prefix)


def lake_firehoses(ctx: Context) -> list[RegisteredResource]:
    """The delivery streams that write the lake (to S3); the search tier's writes to OpenSearch."""
    return [
        f
        for f in ctx.program.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
        if "extendedS3Configuration" in f.inputs
    ]


def lake_delivery(ctx: Context, bucket: RegisteredResource) -> Delivery | None:
    for firehose in ctx.program.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"):
        if firehose.inputs.get("extendedS3Configuration", {}).get("bucketArn") == bucket.state.get("arn"):
            return delivery_of(ctx, firehose)
    return None


@rule("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
def firehose(ctx: Context, stream: RegisteredResource) -> Iterator[Term]:
    delivery = delivery_of(ctx, stream)
    flow = delivery.flow
    if not flow.records:
        return
    s3 = stream.inputs.get("extendedS3Configuration", {})
    rounded_gb = _rounded(flow, 5 * KB) / GB
    basis = f"{flow.records:,.0f} records of {flow.record_bytes:,.0f} bytes, each billed as a started 5 KB"
    yield ctx.term(stream, "firehose.ingestion_gb", rounded_gb, "traffic", basis)
    if s3.get("dataFormatConversionConfiguration", {}).get("enabled"):
        yield ctx.term(stream, "firehose.format_conversion_gb", rounded_gb, "traffic", "to Parquet; " + basis)
    if s3.get("dynamicPartitioningConfiguration", {}).get("enabled"):
        yield ctx.term(
            stream, "firehose.dynamic_partitioning_gb", flow.bytes / GB, "traffic", "partitioned by event hour"
        )
        yield ctx.term(
            stream, "firehose.dynamic_partitioning_objects", delivery.objects / 1000, "traffic",
            f"{delivery.objects:,.0f} objects: a buffer of {_number(s3.get('bufferingSize'), 5):.0f} MB or "
            f"{_number(s3.get('bufferingInterval'), 300):.0f} s, whichever comes first",
        )  # fmt: skip
        processors = s3.get("processingConfiguration", {}).get("processors", [])
        if any(p.get("type") == "MetadataExtraction" for p in processors):
            yield ctx.term(
                stream, "firehose.jq_hour", flow.bytes / GB * ctx.assumptions["firehose_jq_hours_per_gb"],
                "traffic", "the JQ partition-key query",
            )  # fmt: skip


def _lifecycle(ctx: Context, bucket: RegisteredResource, prefix: str) -> dict[str, float]:
    """Days after which objects under `prefix` move to STANDARD_IA / GLACIER_IR, or expire."""
    days: dict[str, float] = {}
    for config in ctx.program.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
        if config.inputs.get("bucket") != bucket.state.get("bucket"):
            continue
        for lifecycle_rule in config.inputs.get("rules", []):
            scope = str((lifecycle_rule.get("filter") or {}).get("prefix", ""))
            if lifecycle_rule.get("status") != "Enabled" or not prefix.startswith(scope):
                continue
            for transition in lifecycle_rule.get("transitions") or []:
                days[str(transition.get("storageClass"))] = _number(transition.get("days"))
            expiration = lifecycle_rule.get("expiration") or {}
            if "days" in expiration:
                days["EXPIRE"] = _number(expiration["days"])
    return days


def _refresh(ctx: Context, warehouse_name: str) -> tuple[RegisteredResource, float, float] | None:
    """The warehouse's refresh schedule, its runs a month, and the days of the lake each run reads again."""
    for schedule in ctx.program.of_type("aws:scheduler/schedule:Schedule"):
        target = schedule.inputs.get("target", {})
        body = _json(target.get("input"))
        if warehouse_name not in (body.get("WorkgroupName"), body.get("ClusterIdentifier")) or "Sqls" not in body:
            continue
        lookback = re.findall(r"lookback_days = CAST\('(\d+)' AS INTEGER\)", " ".join(body["Sqls"]))
        return (
            schedule,
            runs_per_month(str(schedule.inputs.get("scheduleExpression"))),
            float(lookback[0] if lookback else 0),
        )
    return None


def refresh_reads(ctx: Context, warehouse_name: str) -> tuple[float, float, float]:
    """(runs a month, lake bytes one run reads, lake objects one run reads) of the warehouse refresh."""
    refresh = _refresh(ctx, warehouse_name)
    deliveries = [delivery_of(ctx, f) for f in lake_firehoses(ctx)]
    if refresh is None:
        return 0.0, 0.0, 0.0
    schedule, runs, lookback_days = refresh
    # Each run reads what arrived since the last one and again everything of the look-back.
    hours = lookback_days * 24 + interval_hours(str(schedule.inputs.get("scheduleExpression")))
    share = min(hours / HOURS_PER_MONTH, 1.0)
    return runs, sum(d.parquet_bytes for d in deliveries) * share, sum(d.objects for d in deliveries) * share


def _athena_reads(ctx: Context, delivery: Delivery) -> tuple[float, float]:
    """(bytes, objects) one analysis reads: `athena_days_per_query` days of the lake."""
    share = min(ctx.assumptions["athena_days_per_query"] / DAYS_PER_MONTH, 1.0)
    return delivery.parquet_bytes * share, delivery.objects * share


@rule("aws:s3/bucket:Bucket")
def bucket(ctx: Context, bucket: RegisteredResource) -> Iterator[Term]:
    delivery = lake_delivery(ctx, bucket)
    if delivery is not None:
        yield from _lake_bucket(ctx, bucket, delivery)
        return
    if _results_workgroups(ctx, bucket):
        yield from _results_bucket(ctx, bucket)
        return
    logged = _logged_buckets(ctx, bucket)
    if logged:
        yield from _log_bucket(ctx, bucket, logged)
        return
    if _opensearch_backup(ctx, bucket):
        return  # only documents OpenSearch refused land here: empty by design, alarmed when not
    if _delivers_logs_to(ctx, bucket):
        yield from _access_log_bucket(ctx, bucket)
        return
    objects = ctx.program.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    if not any(o.inputs.get("bucket") == bucket.state.get("bucket") for o in objects):
        ctx.warn(bucket, "nothing known writes to this bucket: priced as empty")


def _opensearch_backup(ctx: Context, bucket: RegisteredResource) -> bool:
    """Whether the bucket is where Firehose keeps documents an OpenSearch destination refused."""
    for firehose in ctx.program.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"):
        for key in ("opensearchConfiguration", "opensearchserverlessConfiguration"):
            backup = firehose.inputs.get(key, {}).get("s3Configuration", {})
            if backup.get("bucketArn") == bucket.state.get("arn"):
                return True
    return False


def _delivers_logs_to(ctx: Context, bucket: RegisteredResource) -> bool:
    """Whether a CloudWatch Logs delivery destination (CloudFront standard logging v2) names the bucket."""
    return any(
        (d.inputs.get("deliveryDestinationConfiguration") or {}).get("destinationResourceArn")
        == bucket.state.get("arn")
        for d in ctx.program.of_type("aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination")
    )


def _access_log_bucket(ctx: Context, bucket: RegisteredResource) -> Iterator[Term]:
    """The live dashboard's access logs: a line per request, kept until the bucket's lifecycle expires them."""
    lines = _page_loads(ctx) * PAGE_FILES_PER_LOAD
    held_days = _lifecycle(ctx, bucket, "").get("EXPIRE", ctx.assumptions["lake_age_months"] * DAYS_PER_MONTH)
    stored_gb = lines * ACCESS_LOG_LINE_BYTES / GB * held_days / DAYS_PER_MONTH
    yield ctx.term(bucket, "s3.standard_gb_month", stored_gb, "fixed",
                   f"{lines:,.0f} access log lines a month, kept {held_days:g} days")  # fmt: skip


# S3 lifecycle rules move no object under 128 KB to another class by default (the lifecycle configuration's
# `transition_default_minimum_object_size`, `all_storage_classes_128K`); Standard-IA and Glacier IR would
# bill such an object as 128 KB anyway.
TRANSITION_MINIMUM_BYTES = 128 * KB


def _storage_by_class(ctx: Context, bucket: RegisteredResource, delivery: Delivery) -> Iterator[Term]:
    monthly_gb = delivery.parquet_bytes / GB
    if not monthly_gb:
        return
    age = ctx.assumptions["lake_age_months"] * DAYS_PER_MONTH
    days = _lifecycle(ctx, bucket, delivery.prefix)
    end = min(days.get("EXPIRE", math.inf), age)
    small = delivery.object_bytes < TRANSITION_MINIMUM_BYTES
    ia, glacier = (
        (math.inf, math.inf) if small else (days.get("STANDARD_IA", math.inf), days.get("GLACIER_IR", math.inf))
    )
    stays = f", objects of {delivery.object_bytes / KB:,.0f} KB stay in Standard (lifecycle moves none under 128 KB)"
    # (price, from day, to day, days billed at least when an object leaves the class, name)
    spans = [
        ("s3.standard_gb_month", 0.0, min(ia, glacier, end), 0.0, "Standard"),
        ("s3.standard_ia_gb_month", ia, min(glacier, end), 30.0, "Standard-IA"),
        ("s3.glacier_ir_gb_month", glacier, end, 90.0, "Glacier Instant Retrieval"),
    ]
    for price, start, stop, least, name in spans:
        if stop > start:
            # An object that moves on or expires before the class's minimum duration is billed the minimum.
            billed_days = max(stop - start, least) if stop < age else stop - start
            note = stays if small and days.keys() - {"EXPIRE"} else ""
            if billed_days > stop - start:
                note += f", billed {least:.0f} days at least"
            yield ctx.term(
                bucket, price, monthly_gb * billed_days / DAYS_PER_MONTH, "traffic",
                f"{monthly_gb:,.2f} GB of Parquet a month, {name} from day {start:.0f} to {stop:.0f}"
                f" ({ctx.assumptions['lake_age_months']:g}-month-old lake){note}",
            )  # fmt: skip
    for price, start in (("s3.transition_ia_requests", ia), ("s3.transition_glacier_ir_requests", glacier)):
        if start < end:
            yield ctx.term(
                bucket, price, delivery.objects / 1000, "traffic", f"{delivery.objects:,.0f} objects a month"
            )


def _lake_bucket(ctx: Context, bucket: RegisteredResource, delivery: Delivery) -> Iterator[Term]:
    yield from _storage_by_class(ctx, bucket, delivery)
    if delivery.objects:
        yield ctx.term(bucket, "s3.put_requests", delivery.objects / 1000, "traffic", "Firehose writes each object")
    queries = ctx.assumptions["athena_queries_per_day"] * DAYS_PER_MONTH
    _, athena_objects = _athena_reads(ctx, delivery)
    gets = queries * athena_objects
    refresh_gets = 0.0
    for name in _warehouse_names(ctx):
        runs, _, objects = refresh_reads(ctx, name)
        refresh_gets += runs * objects
    if gets:
        yield ctx.term(bucket, "s3.get_requests", gets / 1000, "people", f"{queries:,.0f} analyses a month")
    if refresh_gets:
        yield ctx.term(bucket, "s3.get_requests", refresh_gets / 1000, "traffic", "the warehouse refresh reads objects")


def _results_workgroups(ctx: Context, bucket: RegisteredResource) -> list[RegisteredResource]:
    location = f"s3://{bucket.state.get('bucket')}/"
    return [
        w
        for w in ctx.program.of_type("aws:athena/workgroup:Workgroup")
        if str(w.inputs.get("configuration", {}).get("resultConfiguration", {}).get("outputLocation", "")).startswith(
            location
        )
    ]


def _results_bucket(ctx: Context, bucket: RegisteredResource) -> Iterator[Term]:
    queries = ctx.assumptions["athena_queries_per_day"] * DAYS_PER_MONTH
    kept_days = _lifecycle(ctx, bucket, "results/").get("EXPIRE", ctx.assumptions["lake_age_months"] * DAYS_PER_MONTH)
    held = queries * ctx.assumptions["athena_result_mb"] * MB / GB * kept_days / DAYS_PER_MONTH
    yield ctx.term(bucket, "s3.standard_gb_month", held, "people", f"query results kept {kept_days:.0f} days")
    yield ctx.term(bucket, "s3.put_requests", queries / 1000, "people", "one result object per query")


def _logged_buckets(ctx: Context, bucket: RegisteredResource) -> list[RegisteredResource]:
    logged = []
    for logging in ctx.program.of_type("aws:s3/bucketLogging:BucketLogging"):
        if logging.inputs.get("targetBucket") == bucket.state.get("bucket"):
            source = ctx.program.named(BUCKET, logging.inputs.get("bucket"))
            if source is not None:
                logged.append(source)
    return logged


def _requests_to(ctx: Context, bucket: RegisteredResource) -> float:
    requests = ("s3.put_requests", "s3.get_requests")
    return sum(t.quantity * 1000 for t in bucket_terms(ctx, bucket) if t.price_id in requests)


def bucket_terms(ctx: Context, bucket: RegisteredResource) -> list[Term]:
    """The terms of a lake or results bucket (what its access log bucket logs requests for)."""
    delivery = lake_delivery(ctx, bucket)
    if delivery is not None:
        return list(_lake_bucket(ctx, bucket, delivery))
    if _results_workgroups(ctx, bucket):
        return list(_results_bucket(ctx, bucket))
    return []


def _log_bucket(ctx: Context, bucket: RegisteredResource, logged: list[RegisteredResource]) -> Iterator[Term]:
    requests = sum(_requests_to(ctx, source) for source in logged)
    if not requests:
        return
    kept_days = _lifecycle(ctx, bucket, "").get("EXPIRE", ctx.assumptions["lake_age_months"] * DAYS_PER_MONTH)
    record = ctx.assumptions["s3_access_log_bytes_per_request"]
    held = requests * record / GB * kept_days / DAYS_PER_MONTH
    driver: Driver = "people" if all(t.driver == "people" for s in logged for t in bucket_terms(ctx, s)) else "traffic"
    yield ctx.term(
        bucket, "s3.standard_gb_month", held, driver,
        f"a {record:g}-byte access log record per request to {', '.join(s.name for s in logged)}, "
        f"kept {kept_days:.0f} days",
    )  # fmt: skip


def _is_flink_code(ctx: Context, obj: RegisteredResource) -> bool:
    for app in ctx.program.of_type("aws:kinesisanalyticsv2/application:Application"):
        code = app.inputs.get("applicationConfiguration", {}).get("applicationCodeConfiguration", {})
        if code.get("codeContent", {}).get("s3ContentLocation", {}).get("fileKey") == obj.inputs.get("key"):
            return True
    return False


def _asset_bytes(source: Any) -> int | None:
    """Bytes of a file asset, or of an archive's file assets, from the files the program names."""
    if not isinstance(source, dict):
        return None
    if "fileAsset" in source:
        path = PROJECT_DIR / str(source["fileAsset"])
        return path.stat().st_size if path.is_file() else None
    sizes = [_asset_bytes(item) for item in (source.get("assetArchive") or {}).values()]
    return sum(size for size in sizes if size is not None) if sizes and None not in sizes else None


@rule("aws:s3/bucketObjectv2:BucketObjectv2")
def bucket_object(ctx: Context, obj: RegisteredResource) -> Iterator[Term]:
    if _is_flink_code(ctx, obj):
        # The connector JAR is fetched before a deployment, not kept in the repository: assumed.
        size, basis = ctx.assumptions["flink_artifact_mb"] * MB, "the packaged Flink application"
    else:
        content = obj.inputs.get("content")  # an object the program writes itself (the dashboard's config.json)
        measured = len(content.encode()) if isinstance(content, str) else _asset_bytes(obj.inputs.get("source"))
        if measured is None:
            ctx.warn(obj, "the object's size is unknown offline: priced as empty")
            return
        size, basis = float(measured), "the object's files, as the program uploads them"
    yield ctx.term(obj, "s3.standard_gb_month", size / GB, "fixed", basis)


def _quicksight_workgroups(ctx: Context) -> set[str]:
    """Workgroups a QuickSight data source queries in: QuickSight's refreshes, not people's analyses."""
    sources = ctx.program.of_type("aws:quicksight/dataSource:DataSource")
    return {str(s.inputs.get("parameters", {}).get("athena", {}).get("workGroup")) for s in sources} - {"None"}


# SPICE refreshes a month at each interval QuickSight offers (RefreshFrequency.Interval).
REFRESHES_PER_MONTH = {"MINUTE15": 4 * HOURS_PER_MONTH, "MINUTE30": 2 * HOURS_PER_MONTH, "HOURLY": HOURS_PER_MONTH,
                       "DAILY": DAYS_PER_MONTH, "WEEKLY": DAYS_PER_MONTH / 7}  # fmt: skip
_WINDOW = re.compile(r"date_add\('day', -(\d+), current_date\)")


def _quicksight_refreshes(ctx: Context, workgroup: RegisteredResource, per_day: float) -> Iterator[Term]:
    """A SPICE dataset on the lake re-reads its window on every refresh; direct query reads per view."""
    sources = {
        str(s.state.get("arn"))
        for s in ctx.program.of_type("aws:quicksight/dataSource:DataSource")
        if s.inputs.get("parameters", {}).get("athena", {}).get("workGroup") == workgroup.inputs.get("name")
    }
    schedules = {str(r.inputs.get("dataSetId")): r for r in ctx.program.of_type(
        "aws:quicksight/refreshSchedule:RefreshSchedule")}  # fmt: skip
    for dataset in ctx.program.of_type("aws:quicksight/dataSet:DataSet"):
        for table in dataset.inputs.get("physicalTableMaps", []):
            custom = table.get("customSql") or {}
            if str(custom.get("dataSourceArn")) not in sources:
                continue
            schedule = schedules.get(str(dataset.inputs.get("dataSetId")))
            if schedule is None:
                ctx.warn(workgroup, f"dataset '{dataset.name}' queries the lake per dashboard view: not priced")
                continue
            interval = str(schedule.inputs.get("schedule", {}).get("scheduleFrequency", {}).get("interval"))
            window = _WINDOW.search(str(custom.get("sqlQuery", "")))
            days = int(window.group(1)) + 1 if window else ctx.assumptions["athena_days_per_query"]
            refreshes = REFRESHES_PER_MONTH.get(interval, HOURS_PER_MONTH)
            per_query = max(per_day * days, 10 * MB)
            # Athena bills 10 MB a query at least: refreshes of an idle lake cost that, whatever the traffic.
            driver: Driver = "traffic" if per_day * days > 10 * MB else "fixed"
            yield ctx.term(
                workgroup, "athena.scanned_tb", refreshes * per_query / 2**40, driver,
                f"{refreshes:,.0f} SPICE refreshes a month ({interval}) of dataset '{dataset.name}', each reading "
                f"{days} days of Parquet ({per_query / MB:,.0f} MB; 10 MB at least)",
            )  # fmt: skip


@rule("aws:athena/workgroup:Workgroup")
def athena_workgroup(ctx: Context, workgroup: RegisteredResource) -> Iterator[Term]:
    quicksight = _quicksight_workgroups(ctx)
    deliveries = [delivery_of(ctx, f) for f in lake_firehoses(ctx)]
    scanned = sum(_athena_reads(ctx, d)[0] for d in deliveries)
    if workgroup.inputs.get("name") in quicksight:
        yield from _quicksight_refreshes(ctx, workgroup, scanned / ctx.assumptions["athena_days_per_query"])
        return
    workgroups = [w for w in ctx.program.of_type("aws:athena/workgroup:Workgroup")
                  if w.inputs.get("name") not in quicksight]  # fmt: skip
    queries = ctx.assumptions["athena_queries_per_day"] * DAYS_PER_MONTH / len(workgroups)
    cutoff = _number(workgroup.inputs.get("configuration", {}).get("bytesScannedCutoffPerQuery"), math.inf)
    per_query = min(max(scanned, 10 * MB), cutoff)
    yield ctx.term(
        workgroup, "athena.scanned_tb", queries * per_query / 2**40, "people",
        f"{queries:,.0f} analyses a month (the stack's {len(workgroups)} workgroups share them), each reading "
        f"{ctx.assumptions['athena_days_per_query']:g} days of Parquet ({per_query / MB:,.0f} MB; 10 MB at least)",
    )  # fmt: skip


# --- realtime results and notifications ----------------------------------------------------------------------


@rule("aws:dynamodb/table:Table")
def dynamodb_table(ctx: Context, table: RegisteredResource) -> Iterator[Term]:
    if table.inputs.get("billingMode") != "PAY_PER_REQUEST":
        raise EstimateError(f"table '{table.name}' is provisioned; prices.yaml has on-demand DynamoDB prices only")
    if table.name == "live-connections-table":
        yield from _connections_table(ctx, table)
        return
    if table.name != "realtime-results":
        ctx.warn(table, "no traffic model for this table: priced as empty")
        return
    errors, counts, _ = alert_records(ctx)
    indexes = len(table.inputs.get("globalSecondaryIndexes") or [])
    # A counts alert is one upsert; an error alert an upsert, the notification claim and its release.
    writes = (counts + 3 * errors) * (1 + indexes)
    if writes:
        yield ctx.term(
            table, "dynamodb.write_request_units", writes / 1e6, "traffic",
            f"{counts:,.0f} counts and {errors:,.0f} error alerts a month, each write also to {indexes} index(es)",
        )  # fmt: skip
    ttl_days = _ttl_days(ctx)
    stored_gb = (counts + errors) / DAYS_PER_MONTH * ttl_days * KB * (1 + indexes) / GB
    if stored_gb:
        yield ctx.term(
            table, "dynamodb.storage_gb_month", stored_gb, "traffic", f"1 KB items kept {ttl_days:g} days (TTL)"
        )
        if table.inputs.get("pointInTimeRecovery", {}).get("enabled"):
            yield ctx.term(table, "dynamodb.pitr_gb_month", stored_gb, "traffic", "point-in-time recovery on")


def _connections_table(ctx: Context, table: RegisteredResource) -> Iterator[Term]:
    """The live dashboard's open pages: a put on connect and a delete on disconnect per page load; the pusher
    reads every open connection (one Scan, eventually consistent: half a unit per item) for each push."""
    writes = _page_loads(ctx) * 2
    yield ctx.term(table, "dynamodb.write_request_units", writes / 1e6, "fixed",
                   f"{writes:,.0f} connects and disconnects a month")  # fmt: skip
    errors, _counts, windows = alert_records(ctx)
    reads = (errors + windows) * max(1.0, ctx.assumptions["live_open_pages"] / 2)
    if reads:
        yield ctx.term(table, "dynamodb.read_request_units", reads / 1e6, "traffic",
                       f"a Scan of the open pages for each of {errors + windows:,.0f} pushes")  # fmt: skip


def _ttl_days(ctx: Context) -> float:
    for function in ctx.program.of_type("aws:lambda/function:Function"):
        days = function.inputs.get("environment", {}).get("variables", {}).get("ALERTS_TTL_DAYS")
        if days is not None:
            return float(days)
    return 7.0


def _email_subscriptions(ctx: Context, topic: RegisteredResource) -> int:
    return sum(
        1
        for s in ctx.program.of_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs.get("topic") == topic.state.get("arn") and s.inputs.get("protocol") in ("email", "email-json")
    )


@rule("aws:sns/topic:Topic")
def sns_topic(ctx: Context, topic: RegisteredResource) -> Iterator[Term]:
    driver: Driver
    if topic.name == "ops-topic":
        publishes, driver, basis = ctx.assumptions["ops_notifications_per_month"], "fixed", "alarm and budget notices"
    elif topic.name == "business-alerts-topic":
        publishes, driver, basis = alert_records(ctx)[0], "traffic", "one per error alert"
    else:
        return
    if not publishes:
        return
    yield ctx.term(topic, "sns.publishes", publishes / 1e6, driver, f"{publishes:,.0f} a month: {basis}")
    emails = _email_subscriptions(ctx, topic)
    if emails:
        yield ctx.term(
            topic, "sns.email_deliveries", publishes * emails / 1e5, driver, f"to {emails} email subscription(s)"
        )


@rule("aws:sqs/queue:Queue")
def sqs_queue(ctx: Context, queue: RegisteredResource) -> Iterator[Term]:
    return iter(())  # the dead-letter queue receives only failed batches: none are assumed


@rule("aws:kms/key:Key")
def kms_key(ctx: Context, key: RegisteredResource) -> Iterator[Term]:
    yield ctx.term(key, "kms.key_month", 1, "fixed", "one customer-managed key")
    requests = ctx.assumptions["kms_requests_per_month"]
    yield ctx.term(key, "kms.requests", requests / 1e4, "fixed", f"{requests:,.0f} requests a month (assumed)")


# --- observability -----------------------------------------------------------------------------------------


def _log_producer(ctx: Context, group: RegisteredResource) -> tuple[float, str, Driver] | None:
    """Bytes a month a known producer writes to the group: a Lambda function, or an API stage's access log."""
    name, arn = group.inputs.get("name"), group.state.get("arn")
    for function in ctx.program.of_type("aws:lambda/function:Function"):
        if function.inputs.get("loggingConfig", {}).get("logGroup") == name:
            calls = invocations_of(ctx, function)
            per_call = ctx.assumptions["lambda_log_bytes_per_invocation"]
            return calls.per_month * per_call, f"{calls.per_month:,.0f} invocations of '{function.name}'", calls.driver
    for stage in ctx.program.of_type("aws:apigateway/stage:Stage"):
        if (stage.inputs.get("accessLogSettings") or {}).get("destinationArn") == arn:
            requests = ctx.workload.requests
            bytes_ = requests * ctx.assumptions["api_access_log_bytes_per_request"]
            return bytes_, f"{requests:,.0f} access log lines", "traffic"
    return None


@rule("aws:cloudwatch/logGroup:LogGroup")
def log_group(ctx: Context, group: RegisteredResource) -> Iterator[Term]:
    produced = _log_producer(ctx, group)
    driver: Driver
    if produced is None:
        monthly, driver, basis = ctx.assumptions["quiet_log_group_mb_per_month"] * MB, "fixed", "a quiet log group"
    else:
        monthly, basis, driver = produced
    if not monthly:
        return
    yield ctx.term(group, "logs.ingestion_gb", monthly / GB, driver, basis)
    retention = _number(group.inputs.get("retentionInDays"), math.inf)
    held_days = min(retention, ctx.assumptions["lake_age_months"] * DAYS_PER_MONTH)
    held = monthly / GB * held_days / DAYS_PER_MONTH * ctx.assumptions["log_archive_ratio"]
    yield ctx.term(
        group, "logs.storage_gb_month", held, driver,
        f"kept {held_days:.0f} days, archived at {ctx.assumptions['log_archive_ratio']:g} of its size",
    )  # fmt: skip


@rule("aws:cloudwatch/metricAlarm:MetricAlarm")
def metric_alarm(ctx: Context, alarm: RegisteredResource) -> Iterator[Term]:
    queries = alarm.inputs.get("metricQueries") or []
    metrics = sum(1 for q in queries if q.get("metric")) or 1
    high_resolution = _number(alarm.inputs.get("period"), 60) < 60
    price = "cloudwatch.high_resolution_alarm_metric_month" if high_resolution else "cloudwatch.alarm_metric_month"
    yield ctx.term(alarm, price, metrics, "fixed", f"{metrics} metric(s)")


# --- the warehouse -----------------------------------------------------------------------------------------


def _warehouse_names(ctx: Context) -> list[str]:
    names = [
        str(w.inputs.get("workgroupName")) for w in ctx.program.of_type("aws:redshiftserverless/workgroup:Workgroup")
    ]
    names += [str(c.inputs.get("clusterIdentifier")) for c in ctx.program.of_type("aws:redshift/cluster:Cluster")]
    return names


def _warehouse_storage_gb(ctx: Context) -> tuple[float, float]:
    """(GB held, GB added a day) in the warehouse: a dwd row and aggregates per event, for the lake's age."""
    per_day = ctx.workload.events / DAYS_PER_MONTH * ctx.assumptions["warehouse_bytes_per_event"] / GB
    return per_day * ctx.assumptions["lake_age_months"] * DAYS_PER_MONTH, per_day


# Redshift Serverless bills compute per second while queries run, 60 seconds at least each time.
SERVERLESS_MINIMUM_SECONDS = 60.0


@rule("aws:redshiftserverless/workgroup:Workgroup")
def serverless_workgroup(ctx: Context, workgroup: RegisteredResource) -> Iterator[Term]:
    base = _number(workgroup.inputs.get("baseCapacity"), 128)
    name = str(workgroup.inputs.get("workgroupName"))
    runs, read_bytes, _ = refresh_reads(ctx, name)
    overhead = ctx.assumptions["refresh_overhead_seconds"] * base
    scan = read_bytes / GB * ctx.assumptions["refresh_rpu_seconds_per_gb"]
    minimum = SERVERLESS_MINIMUM_SECONDS * base
    idle_run = max(minimum, overhead)  # RPU-seconds of a refresh that finds nothing new
    run = max(minimum, overhead + scan)
    if runs:
        yield ctx.term(
            workgroup, "redshift.serverless_rpu_hour", runs * idle_run / 3600, "fixed",
            f"{runs:,.0f} refreshes a month at {base:.0f} RPUs, {idle_run / base:.0f} s each with no new data "
            f"(60 s at least)",
        )  # fmt: skip
        if run > idle_run:
            yield ctx.term(
                workgroup, "redshift.serverless_rpu_hour", runs * (run - idle_run) / 3600, "traffic",
                f"each refresh reads {read_bytes / GB:,.2f} GB of the lake (new data and the look-back)",
            )  # fmt: skip
    hours = ctx.assumptions["warehouse_query_hours_per_day"] * DAYS_PER_MONTH
    if hours:
        yield ctx.term(workgroup, "redshift.serverless_rpu_hour", hours * base, "people", "interactive queries")
    daily = (runs * run / 3600 + hours * base) / DAYS_PER_MONTH
    for limit in ctx.program.of_type("aws:redshiftserverless/usageLimit:UsageLimit"):
        if limit.inputs.get("resourceArn") == workgroup.state.get("arn") and limit.inputs.get("period") == "daily":
            amount = _number(limit.inputs.get("amount"), math.inf)
            if daily > amount:
                ctx.warn(
                    workgroup,
                    f"about {daily:,.0f} RPU-hours a day exceed the usage limit of {amount:,.0f} "
                    f"(`warehouse.serverless.usage_limit_rpu_hours`): queries are switched off for the rest of the day",
                )


@rule("aws:redshiftserverless/namespace:Namespace")
def serverless_namespace(ctx: Context, namespace: RegisteredResource) -> Iterator[Term]:
    held, per_day = _warehouse_storage_gb(ctx)
    if held:
        yield ctx.term(
            namespace, "redshift.managed_storage_gb_month", held, "traffic",
            f"{ctx.assumptions['warehouse_bytes_per_event']:g} bytes per event for a "
            f"{ctx.assumptions['lake_age_months']:g}-month-old warehouse",
        )  # fmt: skip
        retention = _snapshot_retention_days(ctx, str(namespace.inputs.get("namespaceName")))
        if retention:
            yield ctx.term(
                namespace, "redshift.managed_storage_gb_month", per_day * retention, "traffic",
                f"daily snapshots kept {retention:.0f} days hold each day's changes",
            )  # fmt: skip
    if namespace.inputs.get("manageAdminPassword"):
        yield ctx.term(namespace, "secretsmanager.secret_month", 1, "fixed", "the admin password Redshift manages")


def _snapshot_retention_days(ctx: Context, namespace: str) -> float:
    for schedule in ctx.program.of_type("aws:scheduler/schedule:Schedule"):
        body = _json(schedule.inputs.get("target", {}).get("input"))
        if body.get("namespaceName") == namespace and "retentionPeriod" in body:
            return _number(body["retentionPeriod"])
    return 0.0


@rule("aws:redshift/cluster:Cluster")
def redshift_cluster(ctx: Context, cluster: RegisteredResource) -> Iterator[Term]:
    node_type = str(cluster.inputs.get("nodeType"))
    nodes = _number(cluster.inputs.get("numberOfNodes"), 1)
    price = f"redshift.{node_type.replace('.', '_')}_node_hour"
    if price not in ctx.prices.prices:
        raise EstimateError(f"cluster '{cluster.name}' is {node_type}; prices.yaml has no {price}")
    yield ctx.term(cluster, price, nodes * HOURS_PER_MONTH, "fixed", f"{nodes:.0f} {node_type} node(s)")
    held, _ = _warehouse_storage_gb(ctx)
    if held:
        yield ctx.term(cluster, "redshift.managed_storage_gb_month", held, "traffic", "the warehouse's tables")
    runs, read_bytes, _ = refresh_reads(ctx, str(cluster.inputs.get("clusterIdentifier")))
    if runs and read_bytes:
        yield ctx.term(
            cluster, "redshift.spectrum_tb", runs * read_bytes / 2**40, "traffic",
            f"{runs:,.0f} refreshes a month, each reading {read_bytes / GB:,.2f} GB of the lake through Spectrum",
        )  # fmt: skip
    if cluster.inputs.get("manageMasterPassword"):
        yield ctx.term(cluster, "secretsmanager.secret_month", 1, "fixed", "the admin password Redshift manages")


@rule("aws:ec2/vpcEndpoint:VpcEndpoint")
def vpc_endpoint(ctx: Context, endpoint: RegisteredResource) -> Iterator[Term]:
    if endpoint.inputs.get("vpcEndpointType") != "Interface":
        return  # gateway endpoints (S3, DynamoDB) are free
    zones = len(endpoint.inputs.get("subnetIds") or [])
    yield ctx.term(
        endpoint, "vpc.interface_endpoint_az_hour", zones * HOURS_PER_MONTH, "fixed",
        f"interface endpoint for {str(endpoint.inputs.get('serviceName')).rsplit('.', 1)[-1]} in {zones} AZs",
    )  # fmt: skip


@rule("aws:scheduler/schedule:Schedule")
def schedule(ctx: Context, schedule: RegisteredResource) -> Iterator[Term]:
    runs = runs_per_month(str(schedule.inputs.get("scheduleExpression")))
    if runs:
        yield ctx.term(
            schedule, "scheduler.invocations", runs / 1e6, "fixed",
            f"{schedule.inputs.get('scheduleExpression')}: {runs:,.0f} runs a month",
        )  # fmt: skip


# --- OpenSearch (the search tier) ----------------------------------------------------------------------------


def _retention_days(ctx: Context, store: RegisteredResource) -> float:
    """Days the search feed is kept: the collection's lifecycle policy, or the domain's sweep setting."""
    for policy in ctx.program.of_type("aws:opensearch/serverlessLifecyclePolicy:ServerlessLifecyclePolicy"):
        for policy_rule in _json(policy.inputs.get("policy")).get("Rules", []):
            text = str(policy_rule.get("MinIndexRetention", ""))
            if text.endswith("d"):
                return float(text[:-1])
    for function in ctx.program.of_type("aws:lambda/function:Function"):
        days = function.inputs.get("environment", {}).get("variables", {}).get("SEARCH_RETENTION_DAYS")
        if days is not None:
            return float(days)
    return 30.0


def _search_stored_gb(ctx: Context, store: RegisteredResource) -> float:
    flow = flow_of(ctx, ctx.program.named(STREAM, _search_feed_arn(ctx)))
    return flow.bytes / GB * min(_retention_days(ctx, store), 365) / DAYS_PER_MONTH


def _search_feed_arn(ctx: Context) -> str | None:
    for stream in ctx.program.of_type(STREAM):
        if stream.name == "search-feed-stream":
            return str(stream.state.get("arn"))
    return None


@rule("aws:opensearch/serverlessCollection:ServerlessCollection")
def search_collection(ctx: Context, collection: RegisteredResource) -> Iterator[Term]:
    standby = collection.inputs.get("standbyReplicas", "ENABLED") != "DISABLED"
    ocus = 2.0 if standby else 1.0
    yield ctx.term(
        collection, "opensearch.serverless_ocu_hour", ocus * HOURS_PER_MONTH, "fixed",
        f"the least a time series collection bills: {ocus:.0f} OCU (indexing and search"
        f"{', with standby replicas' if standby else ', no standby replicas'}), traffic or not",
    )  # fmt: skip
    stored = _search_stored_gb(ctx, collection)
    if stored:
        yield ctx.term(collection, "opensearch.serverless_storage_gb_month", stored, "traffic",
                       f"the search feed, kept {_retention_days(ctx, collection):.0f} days")  # fmt: skip


@rule("aws:opensearch/domain:Domain")
def search_domain(ctx: Context, domain: RegisteredResource) -> Iterator[Term]:
    cluster = domain.inputs.get("clusterConfig", {})
    instance_type, nodes = str(cluster.get("instanceType")), _number(cluster.get("instanceCount"), 1)
    if instance_type != "t3.small.search":
        raise EstimateError(f"no price for domain instance type {instance_type} in tools/cost/prices.yaml")
    yield ctx.term(domain, "opensearch.t3_small_search_hour", nodes * HOURS_PER_MONTH, "fixed",
                   f"{nodes:.0f} {instance_type} node(s)")  # fmt: skip
    volume = _number(domain.inputs.get("ebsOptions", {}).get("volumeSize"), 10)
    yield ctx.term(domain, "opensearch.gp3_gb_month", nodes * volume, "fixed",
                   f"{volume:.0f} GiB gp3 on each node")  # fmt: skip


@rule("aws:opensearch/serverlessVpcEndpoint:ServerlessVpcEndpoint")
def search_vpc_endpoint(ctx: Context, endpoint: RegisteredResource) -> Iterator[Term]:
    zones = len(endpoint.inputs.get("subnetIds") or [])
    yield ctx.term(endpoint, "vpc.interface_endpoint_az_hour", zones * HOURS_PER_MONTH, "fixed",
                   f"OpenSearch Serverless VPC endpoint in {zones} AZs")  # fmt: skip


# --- the live dashboard ------------------------------------------------------------------------------------

# What one page load asks: the page's four files from CloudFront, and three realtime API requests.
PAGE_FILES_PER_LOAD = 4
API_REQUESTS_PER_LOAD = LIVE_INVOCATIONS_PER_LOAD["live-api-function"]


def _page_loads(ctx: Context) -> float:
    return ctx.assumptions["live_page_loads_per_day"] * DAYS_PER_MONTH


@rule("aws:apigatewayv2/stage:Stage")
def http_or_websocket_stage(ctx: Context, stage: RegisteredResource) -> Iterator[Term]:
    api = next((a for a in ctx.program.of_type("aws:apigatewayv2/api:Api")
                if a.state.get("id") == stage.inputs.get("apiId")), None)  # fmt: skip
    if api is None:
        ctx.warn(stage, "no API for this stage: priced as idle")
        return
    if api.inputs.get("protocolType") == "HTTP":
        requests = _page_loads(ctx) * API_REQUESTS_PER_LOAD
        yield ctx.term(stage, "apigateway.http_requests", requests / 1e6, "fixed",
                       f"{requests:,.0f} requests: {API_REQUESTS_PER_LOAD} per page load")  # fmt: skip
        return
    pages = ctx.assumptions["live_open_pages"]
    minutes = pages * HOURS_PER_MONTH * 60
    yield ctx.term(stage, "apigateway.websocket_connection_minutes", minutes / 1e6, "fixed",
                   f"{pages:g} pages connected all month")  # fmt: skip
    errors, _counts, windows = alert_records(ctx)
    # The pusher sends each invocation's changes as one message per page; at most one per alert, and
    # a window's counts of every action arrive together.
    messages = (errors + windows) * pages
    if messages:
        basis = f"{messages:,.0f} messages: each error alert and each window's counts, to {pages:g} pages"
        yield ctx.term(stage, "apigateway.websocket_messages", messages / 1e6, "traffic", basis)


DASHBOARD_DISTRIBUTION = "site-distribution"  # the live tier's; the edge's distribution is priced above
# One standard-logging (v2) JSON line per request, about this long with the default fields.
ACCESS_LOG_LINE_BYTES = 700


def dashboard_distribution(ctx: Context, resource: RegisteredResource) -> Iterator[Term]:
    loads = _page_loads(ctx)
    requests = loads * PAGE_FILES_PER_LOAD
    yield ctx.term(resource, "cloudfront.https_requests", requests / 1e4, "fixed",
                   f"{requests:,.0f} requests: {PAGE_FILES_PER_LOAD} files per page load")  # fmt: skip
    data_gb = loads * ctx.assumptions["live_page_kb"] * KB / GB
    yield ctx.term(resource, "cloudfront.data_out_gb", data_gb, "fixed", f"{loads:,.0f} page loads")


@rule("aws:cloudwatch/logDelivery:LogDelivery")
def log_delivery(ctx: Context, delivery: RegisteredResource) -> Iterator[Term]:
    """The dashboard's access logs: one line per request CloudFront serves for the page."""
    requests = _page_loads(ctx) * PAGE_FILES_PER_LOAD
    data_gb = requests * ACCESS_LOG_LINE_BYTES / GB
    yield ctx.term(delivery, "logs.vended_s3_gb", data_gb, "fixed",
                   f"{requests:,.0f} access log lines of about {ACCESS_LOG_LINE_BYTES} bytes")  # fmt: skip


@rule("aws:cognito/userPool:UserPool")
def user_pool(ctx: Context, pool: RegisteredResource) -> Iterator[Term]:
    users = len(ctx.program.of_type("aws:cognito/user:User"))
    if not users:
        return
    plus = pool.inputs.get("userPoolTier") == "PLUS"
    price = "cognito.plus_mau" if plus else "cognito.essentials_mau"
    plan = "Plus" if plus else "Essentials"
    yield ctx.term(pool, price, users, "fixed", f"{users} invited staff signing in each month ({plan} plan)")


# --- QuickSight ----------------------------------------------------------------------------------------------


@rule("aws:quicksight/user:User")
def quicksight_user(ctx: Context, user: RegisteredResource) -> Iterator[Term]:
    """A registered reader or author: a flat monthly fee whatever the traffic (Enterprise edition)."""
    role = str(user.inputs.get("userRole"))
    price = "quicksight.author_month" if role.startswith("AUTHOR") else "quicksight.reader_month"
    yield ctx.term(user, price, 1, "people", f"one QuickSight {role.lower()} registered by the stack")
