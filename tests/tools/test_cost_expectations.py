"""The estimate against expectations computed by hand, term by term, from the price table's own entries.

Nothing here calls the estimator's code: the prices come straight from tools/cost/prices.yaml (read
as YAML), the configuration values are written out below with the stack-file key each comes from
(and `test_the_ledgers_read_the_stack_files_as_they_are` proves the files still say so), and every
quantity is plain arithmetic on them. Three configurations, as the issue asks: dev idle, prod at 100
events/s, and prod at 10,000 events/s (streaming and warehouse on). Each must agree within 1%, in
total and tier by tier.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.harness import run_stack
from tools.cost.model import ASSUMPTIONS, Workload, estimate
from tools.engine.mocks import load_stack_config

PRICES: dict[str, Any] = yaml.safe_load((Path(__file__).parents[2] / "tools" / "cost" / "prices.yaml").read_text())[
    "prices"
]
REGION = "eu-west-1"  # both stack files

HOURS = 730.0
DAYS = HOURS / 24
ACTIVE_SECONDS = 24 * 3600 * DAYS  # the rate holds all day
GB = 2**30
MB = 2**20
TB = 2**40
LAKE_AGE_DAYS = 12 * DAYS  # lake_age_months

# The assumptions, by hand (the test below proves they are the estimator's defaults).
ASSUMED = {
    "ingest_ms_per_request": 30, "ingest_ms_per_event": 0.5, "lambda_log_bytes_per_invocation": 1000,
    "api_access_log_bytes_per_request": 450, "quiet_log_group_mb_per_month": 50, "log_archive_ratio": 0.15,
    "parquet_ratio": 0.12, "error_event_fraction": 0.001, "distinct_actions": 8, "alert_record_bytes": 300,
    "sink_ms_per_invocation": 120, "registrar_ms_per_invocation": 60, "flink_events_per_second_per_kpu": 2000,
    "flink_snapshot_gb": 1, "flink_artifact_mb": 60, "on_demand_shards": 4, "athena_queries_per_day": 20,
    "athena_days_per_query": 7, "athena_result_mb": 1, "lake_age_months": 12, "refresh_overhead_seconds": 30,
    "refresh_rpu_seconds_per_gb": 60, "warehouse_query_hours_per_day": 0, "warehouse_bytes_per_event": 60,
    "firehose_jq_hours_per_gb": 0.01, "s3_access_log_bytes_per_request": 350, "kms_requests_per_month": 100_000,
    "ops_notifications_per_month": 30, "warning_event_fraction": 0.01, "search_document_extra_bytes": 120,
    "scheduled_ms_per_invocation": 2000, "live_open_pages": 3, "live_page_loads_per_day": 40, "live_page_kb": 40,
    "live_ms_per_invocation": 50,
}  # fmt: skip


def price(price_id: str, tier: int = 0) -> float:
    value = PRICES[price_id][REGION]
    return float(value[tier] if isinstance(value, list) else value)


class Ledger:
    """Hand-computed terms: (tier, price entry, quantity) -> USD."""

    def __init__(self) -> None:
        self.usd: dict[str, float] = defaultdict(float)

    def add(self, tier: str, price_id: str, quantity: float) -> None:
        self.usd[tier] += quantity * price(price_id)

    def add_usd(self, tier: str, usd: float) -> None:
        self.usd[tier] += usd

    @property
    def total(self) -> float:
        return sum(self.usd.values())


def quiet_logs(ledger: Ledger, tier: str, groups: int, retention_days: float) -> None:
    """Log groups no modelled producer writes to: 50 MB a month each."""
    gb = ASSUMED["quiet_log_group_mb_per_month"] * MB / GB
    ledger.add(tier, "logs.ingestion_gb", groups * gb)
    kept = min(retention_days, LAKE_AGE_DAYS)
    ledger.add(tier, "logs.storage_gb_month", groups * gb * kept / DAYS * ASSUMED["log_archive_ratio"])


def logs(ledger: Ledger, tier: str, gb: float, retention_days: float) -> None:
    ledger.add(tier, "logs.ingestion_gb", gb)
    ledger.add(tier, "logs.storage_gb_month", gb * min(retention_days, LAKE_AGE_DAYS) / DAYS * 0.15)


def traced_share(per_second: float) -> float:
    return (min(per_second, 1) + 0.05 * max(per_second - 1, 0)) / per_second


def lambda_terms(ledger: Ledger, tier: str, invocations: float, ms: float, memory_mb: float) -> None:
    ledger.add(tier, "lambda.requests", invocations / 1e6)
    ledger.add(tier, "lambda.arm_gb_second", invocations * ms / 1000 * memory_mb / 1024)


# --- dev, idle ------------------------------------------------------------------------------------------------


def dev_idle() -> Ledger:
    """Dev with no events: what exists and what runs on its schedules."""
    ledger = Ledger()
    # core: the key (and its assumed requests); the ops topic's assumed notifications to one email address
    ledger.add("core", "kms.key_month", 1)
    ledger.add("core", "kms.requests", 100_000 / 1e4)
    ledger.add("core", "sns.publishes", 30 / 1e6)
    ledger.add("core", "sns.email_deliveries", 30 * 1 / 1e5)
    # ingest: the on-demand events stream (uba:ingest.stream.mode on_demand); 4 alarms; the quiet execution logs
    ledger.add("ingest", "kinesis.on_demand_stream_hour", HOURS)
    ledger.add("ingest", "cloudwatch.alarm_metric_month", 4)
    quiet_logs(ledger, "ingest", 1, 14)  # uba:platform.log_retention_days 14
    # streaming: Flink with parallelism 1 (uba:streaming.flink.parallelism, parallelism_per_kpu 1) + 1 KPU to
    # orchestrate, 50 GB of running storage a KPU, no snapshots; the on-demand alerts stream; 5 alarms; Flink's logs
    ledger.add("streaming", "flink.kpu_hour", (1 + 1) * HOURS)
    ledger.add("streaming", "flink.running_storage_gb_month", 50)
    ledger.add("streaming", "kinesis.on_demand_stream_hour", HOURS)
    ledger.add("streaming", "cloudwatch.alarm_metric_month", 5)
    quiet_logs(ledger, "streaming", 1, 14)
    ledger.add("streaming", "s3.standard_gb_month", 60 * MB / GB)  # the packaged Flink application
    # lake: 20 analyses a day over the 3 workgroups, each at Athena's 10 MB minimum; their results kept 3 days
    # (uba:lake.lifecycle.athena_results_expire_after_days), logged by S3 (a 350-byte record, kept 30 days)
    queries = 20 * DAYS
    ledger.add("lake", "athena.scanned_tb", queries * 10 * MB / TB)
    ledger.add("lake", "s3.standard_gb_month", queries * 1 * MB / GB * 3 / DAYS)
    ledger.add("lake", "s3.put_requests", queries / 1000)
    ledger.add("lake", "s3.standard_gb_month", queries * 350 / GB * 30 / DAYS)
    ledger.add("lake", "cloudwatch.alarm_metric_month", 3)
    quiet_logs(ledger, "lake", 1, 14)
    # warehouse: refresh every 6 hours (uba:warehouse.refresh.schedule_expression) at 8 base RPUs for the 60 s
    # minimum; the admin password's secret; the Glue interface endpoint in 3 AZs; two schedules (refresh and the
    # daily snapshot at 03:00); 2 alarms; 4 quiet log groups (audit logs, refresh failures)
    refreshes = HOURS / 6
    ledger.add("warehouse", "redshift.serverless_rpu_hour", refreshes * 60 * 8 / 3600)
    ledger.add("warehouse", "secretsmanager.secret_month", 1)
    ledger.add("warehouse", "vpc.interface_endpoint_az_hour", 3 * HOURS)
    ledger.add("warehouse", "scheduler.invocations", (refreshes + DAYS) / 1e6)
    ledger.add("warehouse", "cloudwatch.alarm_metric_month", 2)
    quiet_logs(ledger, "warehouse", 4, 14)
    # observability: the ops dashboard
    ledger.add("observability", "cloudwatch.dashboard_month", 1)
    return ledger


# --- prod, at a rate ------------------------------------------------------------------------------------------


def prod_at(events_per_second: float) -> Ledger:
    """Prod at a steady rate, all day, 400-byte events in requests of 10."""
    ledger = Ledger()
    n = events_per_second
    events = n * ACTIVE_SECONDS
    requests = events / 10
    rps = n / 10
    event_gb = events * 400 / GB
    retention = 365  # uba:platform.log_retention_days

    # core
    ledger.add("core", "kms.key_month", 1)
    ledger.add("core", "kms.requests", 10)
    ledger.add("core", "sns.publishes", 30 / 1e6)
    ledger.add("core", "sns.email_deliveries", 30 / 1e5)

    # ingest: API Gateway's tiered requests (333 M at the first price, to 1 B at the second, to 20 B at the third)
    millions = requests / 1e6
    bounds = [333, 1000, 20000]
    low = 0.0
    for tier_index, bound in enumerate([*bounds, math.inf]):
        span = max(min(millions, bound) - low, 0.0)
        ledger.add_usd("ingest", span * price("apigateway.rest_requests", tier_index))
        low = bound
    # X-Ray on the stage (uba:ingest.api.tracing): the first request each second and 5% of the rest
    ledger.add("ingest", "xray.traces_recorded", requests * traced_share(rps) / 1e6)
    ledger.add("ingest", "apigateway.detailed_metric_month", 7 * 1)  # metrics on, one method (POST /events)
    # the ingest Lambda: 1024 MB (uba:ingest.function.memory_mb), 30 ms + 0.5 ms per event, 6 Powertools metrics;
    # its X-Ray segments join the stage's traces
    lambda_terms(ledger, "ingest", requests, 30 + 10 * 0.5, 1024)
    ledger.add("ingest", "cloudwatch.custom_metric_month", 6)
    logs(ledger, "ingest", requests * 1000 / GB, retention)  # its log group
    logs(ledger, "ingest", requests * 450 / GB, retention)  # the stage's access logs
    quiet_logs(ledger, "ingest", 1, retention)  # execution logs
    # the events stream: 4 provisioned shards (uba:ingest.stream.shard_count), 168 h (retention_hours), one PUT
    # payload unit per 400-byte record, 3 shard-level metrics per shard
    ledger.add("ingest", "kinesis.shard_hour", 4 * HOURS)
    ledger.add("ingest", "kinesis.extended_retention_shard_hour", 4 * HOURS)
    ledger.add("ingest", "kinesis.put_payload_units", events / 1e6)
    ledger.add("ingest", "cloudwatch.custom_metric_month", 3 * 4)
    ledger.add("ingest", "cloudwatch.alarm_metric_month", 4)

    # streaming: Flink parallelism 4 with autoscaling (uba:streaming.flink), a KPU keeps up with 2,000 events/s
    kpus, needed = 4, math.ceil(n / 2000)
    ledger.add("streaming", "flink.kpu_hour", (kpus + 1) * HOURS)
    ledger.add("streaming", "flink.running_storage_gb_month", 50 * kpus)
    ledger.add("streaming", "flink.backup_gb_month", 1)  # snapshots: true
    if needed > kpus:
        ledger.add("streaming", "flink.kpu_hour", (needed - kpus) * HOURS)
        ledger.add("streaming", "flink.running_storage_gb_month", 50 * (needed - kpus))
    # its enhanced fan-out consumer on the 4 shards, reading every event
    ledger.add("streaming", "kinesis.efo_consumer_shard_hour", 4 * HOURS)
    ledger.add("streaming", "kinesis.efo_data_gb", event_gb)
    # alerts: one per error event (0.1%), and a counts alert per action (8) and 60-second window
    errors = events * 0.001
    windows = ACTIVE_SECONDS / 60  # uba:streaming.detection.window_seconds
    counts = windows * 8
    alerts = errors + counts
    # the alerts stream: 1 provisioned shard (alerts_stream.shard_count), 48 h, 3 shard-level metrics
    ledger.add("streaming", "kinesis.shard_hour", HOURS)
    ledger.add("streaming", "kinesis.extended_retention_shard_hour", HOURS)
    ledger.add("streaming", "kinesis.put_payload_units", alerts / 1e6)
    ledger.add("streaming", "cloudwatch.custom_metric_month", 3)
    # the search feed stream (uba:search.feed.stream: 1 provisioned shard, 48 h, 3 shard-level metrics), owned by
    # the streaming tier whose job writes it: every error and warning event (0.1% + 1%), and a document per error alert
    search_documents = events * (0.001 + 0.01) + errors
    ledger.add("streaming", "kinesis.shard_hour", HOURS)
    ledger.add("streaming", "kinesis.extended_retention_shard_hour", HOURS)
    ledger.add("streaming", "kinesis.put_payload_units", search_documents / 1e6)
    ledger.add("streaming", "cloudwatch.custom_metric_month", 3)
    # the alert sink: polled once a second on its one shard, batches of 200 (sink.batch_size); 512 MB, 120 ms;
    # traced (sink.tracing), each invocation at most one a second so every one is recorded; 4 Powertools metrics
    alert_rate = alerts / ACTIVE_SECONDS
    invocations = max(min(alert_rate, 1), alert_rate / 200) * ACTIVE_SECONDS
    lambda_terms(ledger, "streaming", invocations, 120, 512)
    ledger.add("streaming", "xray.traces_recorded", invocations * traced_share(invocations / ACTIVE_SECONDS) / 1e6)
    ledger.add("streaming", "cloudwatch.custom_metric_month", 4)
    logs(ledger, "streaming", invocations * 1000 / GB, retention)
    quiet_logs(ledger, "streaming", 1, retention)  # Flink's logs
    # the realtime table: a counts alert is one write, an error alert three (upsert, claim, release), each also to
    # the byType index; 1 KB items kept 30 days (sink.results_ttl_days), with point-in-time recovery
    ledger.add("streaming", "dynamodb.write_request_units", (counts + 3 * errors) * 2 / 1e6)
    items_gb = alerts / DAYS * 30 * 1024 * 2 / GB
    ledger.add("streaming", "dynamodb.storage_gb_month", items_gb)
    ledger.add("streaming", "dynamodb.pitr_gb_month", items_gb)
    # business alerts: one publish per error alert, to one email address
    ledger.add("streaming", "sns.publishes", errors / 1e6)
    ledger.add("streaming", "sns.email_deliveries", errors / 1e5)
    ledger.add("streaming", "s3.standard_gb_month", 60 * MB / GB)  # the packaged Flink application
    ledger.add("streaming", "cloudwatch.alarm_metric_month", 5)

    # lake: Firehose bills each 400-byte record as 5 KB for ingestion and Parquet conversion; partitioning by the
    # actual bytes; a 128 MB / 300 s buffer (uba:lake.firehose) is flushed at least 12 times an hour
    rounded_gb = events * 5 * 1024 / GB
    ledger.add("lake", "firehose.ingestion_gb", rounded_gb)
    ledger.add("lake", "firehose.format_conversion_gb", rounded_gb)
    ledger.add("lake", "firehose.dynamic_partitioning_gb", event_gb)
    objects = max(3600 / 300, n * 400 * 3600 / (128 * MB)) * HOURS
    ledger.add("lake", "firehose.dynamic_partitioning_objects", objects / 1000)
    ledger.add("lake", "firehose.jq_hour", event_gb * 0.01)
    # the lake bucket: Parquet at 12% of the JSON, Standard for 30 days, Standard-IA to day 180, then Glacier IR
    # (uba:lake.lifecycle), for a 365-day-old lake; a transition of each object into each class; a PUT per object
    parquet_gb = event_gb * 0.12
    ledger.add("lake", "s3.standard_gb_month", parquet_gb * 30 / DAYS)
    ledger.add("lake", "s3.standard_ia_gb_month", parquet_gb * (180 - 30) / DAYS)
    ledger.add("lake", "s3.glacier_ir_gb_month", parquet_gb * (LAKE_AGE_DAYS - 180) / DAYS)
    ledger.add("lake", "s3.transition_ia_requests", objects / 1000)
    ledger.add("lake", "s3.transition_glacier_ir_requests", objects / 1000)
    ledger.add("lake", "s3.put_requests", objects / 1000)
    # reads: each of 20 analyses a day reads 7 days of objects; each hourly refresh reads the 3-day look-back
    # (uba:warehouse.refresh.lookback_days) and the hour since the last run: 73 of the month's 730 hours
    queries = 20 * DAYS
    athena_gets = queries * objects * 7 / DAYS
    refresh_gets = HOURS * objects * 73 / HOURS
    ledger.add("lake", "s3.get_requests", (athena_gets + refresh_gets) / 1000)
    # Athena: 7 days of Parquet per analysis, capped at 100 GiB (uba:lake.athena_bytes_scanned_cutoff)
    scanned = min(parquet_gb * GB * 7 / DAYS, 107_374_182_400)
    ledger.add("lake", "athena.scanned_tb", queries * scanned / TB)
    # query results kept 7 days; the access log bucket holds a 350-byte record per request to both buckets, 365 days
    ledger.add("lake", "s3.standard_gb_month", queries * MB / GB * 7 / DAYS)
    ledger.add("lake", "s3.put_requests", queries / 1000)
    logged_requests = objects + athena_gets + refresh_gets + queries
    ledger.add("lake", "s3.standard_gb_month", logged_requests * 350 / GB * 365 / DAYS)
    # the partition registrar: one invocation per object, 128 MB, 60 ms, traced (every one at this rate)
    lambda_terms(ledger, "lake", objects, 60, 128)
    ledger.add("lake", "xray.traces_recorded", objects / 1e6)
    logs(ledger, "lake", objects * 1000 / GB, retention)
    quiet_logs(ledger, "lake", 1, retention)  # Firehose's logs
    ledger.add("lake", "cloudwatch.alarm_metric_month", 3)

    # warehouse: 730 hourly refreshes at 32 base RPUs (uba:warehouse.serverless.base_capacity_rpu): 30 s plus
    # 60 RPU-seconds per GB read, 60 s at least
    read_gb = parquet_gb * 73 / HOURS
    run_rpu_seconds = max(60 * 32, 30 * 32 + read_gb * 60)
    ledger.add("warehouse", "redshift.serverless_rpu_hour", HOURS * run_rpu_seconds / 3600)
    # storage: 60 bytes an event for 365 days, and 35 days of daily snapshots (snapshot_retention_days)
    per_day_gb = events / DAYS * 60 / GB
    ledger.add("warehouse", "redshift.managed_storage_gb_month", per_day_gb * LAKE_AGE_DAYS)
    ledger.add("warehouse", "redshift.managed_storage_gb_month", per_day_gb * 35)
    ledger.add("warehouse", "secretsmanager.secret_month", 1)
    ledger.add("warehouse", "vpc.interface_endpoint_az_hour", 3 * HOURS)
    ledger.add("warehouse", "scheduler.invocations", (HOURS + DAYS) / 1e6)
    ledger.add("warehouse", "cloudwatch.alarm_metric_month", 2)
    quiet_logs(ledger, "warehouse", 4, retention)

    ledger.add("observability", "cloudwatch.dashboard_month", 1)
    return ledger


CASES = {
    "dev idle": ("dev", 0.0, dev_idle),
    "prod at 100 events/s": ("prod", 100.0, lambda: prod_at(100)),
    "prod at 10,000 events/s": ("prod", 10_000.0, lambda: prod_at(10_000)),
}


# Tiers the ledgers cover. A tier added later (the live dashboard, the edge, search, CDC, BI) is priced by its
# own rules and checked by its own tests; these ledgers keep checking the tiers they were written for.
LEDGER_TIERS = {"core", "ingest", "streaming", "lake", "warehouse", "observability"}


@pytest.mark.parametrize("case", list(CASES))
def test_the_estimate_agrees_with_the_hand_computed_ledger_within_one_percent(case: str) -> None:
    stack, rate, ledger_of = CASES[case]
    expected = ledger_of()
    assert set(expected.usd) == LEDGER_TIERS
    tiers = estimate(run_stack(stack).snapshot, Workload(rate)).tiers()
    found = sum(tiers.get(tier, 0.0) for tier in LEDGER_TIERS)
    assert found == pytest.approx(expected.total, rel=0.01), (tiers, dict(expected.usd))
    for tier, usd in expected.usd.items():
        assert tiers.get(tier, 0.0) == pytest.approx(usd, rel=0.01, abs=0.01), f"{case}: tier {tier}"
    assert tiers.get("access", 0.0) == tiers.get("cost", 0.0) == 0.0  # IAM, Budgets, anomaly detection are free


def test_the_ledgers_assume_what_the_estimator_assumes() -> None:
    assert {name: a.default for name, a in ASSUMPTIONS.items()} == ASSUMED
    assert Workload(1).event_bytes == 400 and Workload(1).events_per_request == 10


def test_the_ledgers_read_the_stack_files_as_they_are() -> None:
    """Every configuration value written out above, checked against the stack files."""
    dev, prod = load_stack_config("dev"), load_stack_config("prod")
    assert dev["aws:region"] == prod["aws:region"] == REGION
    assert dev["uba:platform"]["log_retention_days"] == 14 and prod["uba:platform"]["log_retention_days"] == 365
    assert dev["uba:ingest"]["stream"]["mode"] == dev["uba:streaming"]["alerts_stream"]["mode"] == "on_demand"
    assert dev["uba:streaming"]["flink"]["parallelism"] == 1 and dev["uba:streaming"]["flink"]["snapshots"] is False
    assert dev["uba:lake"]["lifecycle"]["athena_results_expire_after_days"] == 3
    assert dev["uba:lake"]["lifecycle"]["access_logs_expire_after_days"] == 30
    assert dev["uba:warehouse"]["serverless"]["base_capacity_rpu"] == 8
    assert dev["uba:warehouse"]["refresh"]["schedule_expression"] == "rate(6 hours)"
    ingest, streaming, lake, warehouse = (prod[f"uba:{k}"] for k in ("ingest", "streaming", "lake", "warehouse"))
    assert ingest["stream"] == {"mode": "provisioned", "shard_count": 4, "retention_hours": 168}
    assert ingest["api"]["tracing"] is True and ingest["function"]["memory_mb"] == 1024
    assert streaming["flink"]["parallelism"] == 4 and streaming["flink"]["autoscaling"] is True
    assert streaming["flink"]["snapshots"] is True and streaming["detection"]["window_seconds"] == 60
    assert streaming["alerts_stream"] == {"mode": "provisioned", "shard_count": 1, "retention_hours": 48}
    assert streaming["sink"]["batch_size"] == 200 and streaming["sink"]["memory_mb"] == 512
    assert streaming["sink"]["tracing"] is True and streaming["sink"]["results_ttl_days"] == 30
    assert streaming["sink"]["point_in_time_recovery"] is True and len(streaming["sink"]["business_alert_emails"]) == 1
    assert lake["firehose"] == {"buffer_mb": 128, "buffer_seconds": 300}
    assert lake["lifecycle"]["infrequent_access_after_days"] == 30 and lake["lifecycle"]["glacier_after_days"] == 180
    assert "expire_after_days" not in lake["lifecycle"] and lake["lifecycle"]["athena_results_expire_after_days"] == 7
    assert lake["lifecycle"]["access_logs_expire_after_days"] == 365
    assert lake["athena_bytes_scanned_cutoff"] == 107_374_182_400
    assert warehouse["serverless"]["base_capacity_rpu"] == 32 and warehouse["snapshot_retention_days"] == 35
    assert warehouse["refresh"] == {"schedule_expression": "rate(1 hour)", "lookback_days": 3}
    for config in (dev, prod):
        assert len(config["uba:platform"]["ops_alarm_emails"]) == 1
