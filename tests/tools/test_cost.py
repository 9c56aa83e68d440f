"""`python -m tools.cost`: every resource type priced or declared free, every term traceable, the CLI, the README.

The estimate's figures against hand-computed ledgers are in test_cost_expectations.py.
"""

from __future__ import annotations

import copy
import io
import json
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from settings import TIER_KEYS, load_settings
from tests.support.config import raw_config
from tests.support.harness import StackRun, run_stack
from tests.support.variants import run_variants
from tools.cost import __main__ as cli
from tools.cost import report
from tools.cost.model import RULES, Assumptions, EstimateError, Workload, estimate
from tools.cost.prices import PRICES_FILE, PriceTable, PriceTableError, describe_missing
from tools.cost.rules import runs_per_month
from tools.engine.mocks import Snapshot, available_stacks

TABLE = PriceTable.load()
RAW_PRICES: dict[str, Any] = yaml.safe_load(PRICES_FILE.read_text())["prices"]


@pytest.fixture(scope="module")
def variants() -> dict[str, StackRun]:
    """Every stack file and every variant the suite runs (the same cached runs the schema check uses)."""
    return run_variants()


# --- the price table covers what the program creates -------------------------------------------------------


def test_every_resource_type_any_stack_or_variant_creates_has_a_price_or_a_free_entry(
    variants: dict[str, StackRun],
) -> None:
    where: dict[str, list[str]] = {}
    for label, run in variants.items():
        for resource in run.custom():
            if TABLE.pricing_of(resource.type) is None:
                where.setdefault(resource.type, []).append(f"{label}: '{resource.name}'")
    assert not where, "\n".join(describe_missing(t, places[:3]) for t, places in sorted(where.items()))


def test_the_guard_names_the_missing_type_where_it_appears_and_what_to_add() -> None:
    message = describe_missing("aws:opensearch/domain:Domain", ["prod: 'search-domain'"])
    assert "aws:opensearch/domain:Domain (in prod: 'search-domain')" in message
    assert "tools/cost/prices.yaml `resource_types`" in message and '@rule("aws:opensearch/domain:Domain")' in message
    trimmed = replace(TABLE, resource_types={k: v for k, v in TABLE.resource_types.items() if "vpcEndpoint" not in k})
    with pytest.raises(EstimateError, match=r"aws:ec2/vpcEndpoint:VpcEndpoint has no entry in tools/cost/prices\.yaml"):
        estimate(run_stack("dev").snapshot, Workload(0), prices=trimmed)


def test_every_usage_priced_type_has_a_rule_and_every_rule_prices_a_listed_type() -> None:
    usage = {token for token, pricing in TABLE.resource_types.items() if pricing.priced_by}
    assert set(RULES) == usage


def test_every_price_entry_is_dated_sourced_and_priced_for_every_region_the_stacks_use() -> None:
    regions = {raw_config(stack)["region"] for stack in available_stacks()}
    assert regions <= set(TABLE.regions) and "us-east-1" in TABLE.regions  # global services and us-east-1 stacks
    assert time.strptime(TABLE.checked, "%Y-%m-%d")
    for price_id, entry in TABLE.prices.items():
        assert entry.source.startswith("https://aws.amazon.com/"), price_id
        assert entry.evidence in ("aws-page", "secondary", "unverified") and entry.unit, price_id
        if entry.evidence == "secondary":
            assert entry.note, f"{price_id}: a secondary figure names its source in the note"
        for region in TABLE.regions:
            assert TABLE.unit_prices(price_id, region), price_id
    for token, pricing in TABLE.resource_types.items():
        if pricing.free:
            assert len(pricing.free) > 10, f"{token}: say why AWS charges nothing for it"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda t: t["prices"]["kms.key_month"].pop("eu-west-1"), "prices.kms.key_month.eu-west-1: needs 1 price"),
        (lambda t: t["prices"]["apigateway.rest_requests"].update({"tiers_million": [1000, 333, 20000]}), "must rise"),
        (lambda t: t["resource_types"].update({"aws:iam/role:Role": {"free": "x", "monthly": "kms.key_month"}}),
         "give exactly one of"),
        (lambda t: t["resource_types"].update({"aws:iam/role:Role": {"priced_by": ["iam.nothing"]}}),
         "names unknown prices ['iam.nothing']"),
        (lambda t: t["prices"]["kms.requests"].update({"source": "aws.amazon.com/kms"}), "kms.requests.source"),
    ],
)  # fmt: skip
def test_a_malformed_price_table_is_refused_naming_the_entry(tmp_path: Path, change: Any, problem: str) -> None:
    raw = yaml.safe_load(PRICES_FILE.read_text())
    change(raw)
    path = tmp_path / "prices.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(PriceTableError) as refused:
        PriceTable.load(path)
    assert problem in str(refused.value)


def test_tiered_prices_charge_each_tier_its_own_rate() -> None:
    # 400 M requests: 333 M at the first price, 67 M at the second.
    tiers = RAW_PRICES["apigateway.rest_requests"]["eu-west-1"]
    assert TABLE.cost("apigateway.rest_requests", "eu-west-1", 400) == pytest.approx(333 * tiers[0] + 67 * tiers[1])
    assert TABLE.cost("apigateway.rest_requests", "eu-west-1", 25_000) == pytest.approx(
        333 * tiers[0] + 667 * tiers[1] + 19_000 * tiers[2] + 5_000 * tiers[3]
    )


# --- every term traceable ---------------------------------------------------------------------------------


def _unit_cost(price_id: str, quantity: float) -> float:
    value = RAW_PRICES[price_id]["eu-west-1"]
    return quantity * value if not isinstance(value, list) else TABLE.cost(price_id, "eu-west-1", quantity)


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("rate", [0.0, 100.0, 10_000.0])
def test_every_term_names_its_resource_and_price_entry_and_costs_what_the_entry_says(stack: str, rate: float) -> None:
    run = run_stack(stack)
    by_urn = {r.urn: r for r in run.resources}
    built = report.build(run.snapshot, Workload(rate), Assumptions(), TABLE)
    for found in (built.at_load, built.idle, built.original):
        for term in found.terms:
            resource = by_urn[term.urn]
            assert (resource.name, resource.type) == (term.resource, term.resource_type)
            pricing = TABLE.pricing_of(term.resource_type)
            assert pricing is not None and term.price_id in pricing.price_ids, term
            assert term.unit == RAW_PRICES[term.price_id]["unit"] and term.basis, term
            assert term.usd == pytest.approx(_unit_cost(term.price_id, term.quantity)), term
            assert term.tier in {"core", *TIER_KEYS}, term
        assert found.total == pytest.approx(sum(found.tiers().values()))
    free = {r.type for r in run.custom() if TABLE.resource_types[r.type].free}
    assert not [t for t in built.at_load.terms if t.resource_type in free]


def test_idle_means_no_events_and_nothing_that_grows_with_them() -> None:
    idle = estimate(run_stack("prod").snapshot, Workload(0))
    assert [t for t in idle.terms if t.driver == "traffic" and t.usd] == []
    assert report.build(run_stack("prod").snapshot, Workload(0), Assumptions(), TABLE).per_million_events is None


def test_the_original_designs_ingestion_costs_more_only_on_the_request_path() -> None:
    snapshot = run_stack("prod").snapshot
    built = report.build(snapshot, Workload(1000), Assumptions(), TABLE)
    assert built.batching_saves > 0
    now, then = built.at_load.tiers(), built.original.tiers()
    assert then["ingest"] > now["ingest"]
    for tier in ("core", "streaming", "lake", "warehouse", "observability"):
        assert then[tier] == pytest.approx(now[tier]), tier
    idle = report.build(snapshot, Workload(0), Assumptions(), TABLE)
    assert idle.batching_saves == 0


def test_the_marginal_cost_per_million_events_is_what_traffic_adds_over_idle() -> None:
    built = report.build(run_stack("dev").snapshot, Workload(100), Assumptions(), TABLE)
    events_in_millions = 100 * 24 * 3600 * 730 / 24 / 1e6
    assert built.per_million_events == pytest.approx((built.at_load.total - built.idle.total) / events_in_millions)


def test_fewer_active_hours_and_bigger_batches_cost_less_and_assumptions_move_their_terms() -> None:
    snapshot = run_stack("prod").snapshot
    base = estimate(snapshot, Workload(1000))
    assert estimate(snapshot, Workload(1000, active_hours=8)).total < base.total
    assert estimate(snapshot, Workload(1000, events_per_request=100)).total < base.total
    more_queries = estimate(snapshot, Workload(1000), Assumptions.with_overrides(["athena_queries_per_day=200"]))

    # People's analyses scale with the assumption; QuickSight's SPICE refreshes (the BI tier) follow its schedule.
    def analyses(estimated: Any) -> float:
        return sum(t.usd for t in estimated.terms if t.price_id == "athena.scanned_tb" and t.tier != "bi")

    assert analyses(more_queries) == pytest.approx(10 * analyses(base))
    assert [t for t in base.terms if t.tier == "bi" and t.price_id == "athena.scanned_tb"]


def test_lake_objects_too_small_for_lifecycle_transitions_stay_in_standard_until_they_expire() -> None:
    """Dev's one-minute Firehose buffer at 10 events/s makes objects of about 28 KB: S3 moves none under 128 KB."""
    low = [t for t in estimate(run_stack("dev").snapshot, Workload(10)).terms if t.resource == "lake-bucket"]
    storage = [t for t in low if "gb_month" in t.price_id]
    assert [t.price_id for t in storage] == ["s3.standard_gb_month"]
    assert "stay in Standard" in storage[0].basis and "to 90" in storage[0].basis  # lifecycle.expire_after_days
    assert not [t for t in low if "transition" in t.price_id]
    high = {t.price_id for t in estimate(run_stack("dev").snapshot, Workload(100)).terms if t.resource == "lake-bucket"}
    assert {"s3.standard_ia_gb_month", "s3.glacier_ir_gb_month", "s3.transition_ia_requests"} <= high


# --- what the configuration cannot carry -------------------------------------------------------------------


def test_a_load_the_configuration_cannot_carry_is_named_with_the_setting_to_change() -> None:
    prod = estimate(run_stack("prod").snapshot, Workload(10_000))
    messages = {w.resource: w.message for w in prod.warnings}
    assert "4 shard(s)" in messages["events-stream"] and "`shard_count`" in messages["events-stream"]
    dev = estimate(run_stack("dev").snapshot, Workload(1000))
    assert any("`ingest.api.rate_limit_rps`" in w.message for w in dev.warnings if w.resource == "stage")
    dev_flink = estimate(run_stack("dev").snapshot, Workload(10_000))
    assert any("no autoscaling" in w.message for w in dev_flink.warnings if w.resource == "flink-app")
    assert estimate(run_stack("prod").snapshot, Workload(100)).warnings == []


def test_a_stream_without_a_traffic_model_is_priced_idle_and_said_so() -> None:
    snapshot = copy.deepcopy(run_stack("dev").snapshot)
    stream = next(r for r in snapshot.resources if r.name == "alerts-stream")
    stream.name = "unmodelled-stream"  # a stream another tier adds, with no flow in STREAM_FLOWS yet
    found = estimate(snapshot, Workload(100))
    assert any(w.resource == "unmodelled-stream" and "STREAM_FLOWS" in w.message for w in found.warnings)
    assert [t for t in found.terms if t.resource == "unmodelled-stream" and t.driver == "traffic"] == []


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("rate(1 hour)", 730.0),
        ("rate(6 hours)", 730.0 / 6),
        ("rate(15 minutes)", 730.0 * 4),
        ("rate(1 day)", 730.0 / 24),
        ("cron(0 3 * * ? *)", 730.0 / 24),
        ("cron(0/15 8-17 * * ? *)", 4 * 10 * 730.0 / 24),
        ("at(2027-01-01T03:00:00)", 0.0),
    ],
)
def test_schedules_are_counted_from_their_expression(expression: str, runs: float) -> None:
    assert runs_per_month(expression) == pytest.approx(runs)


def test_an_expression_the_estimate_cannot_count_is_refused() -> None:
    with pytest.raises(EstimateError, match="cannot count"):
        runs_per_month("cron(0 3 * *)")


@pytest.mark.parametrize("stack", available_stacks())
def test_each_stack_files_budget_leaves_room_above_what_the_stack_costs_idle(stack: str) -> None:
    """A budget below the idle cost would alert every month and be ignored soon after."""
    settings = load_settings(raw_config(stack), stack)
    assert settings.cost.enabled and settings.cost.budget is not None
    idle = estimate(run_stack(stack).snapshot, Workload(0)).total
    assert settings.cost.budget.monthly_usd > 1.2 * idle


# --- the README table --------------------------------------------------------------------------------------


def test_the_readme_table_is_what_the_tool_prints_for_the_stack_files() -> None:
    snapshots = {stack: run_stack(stack).snapshot for stack in available_stacks()}
    table = report.readme_table(cli.readme_reports(snapshots, Assumptions(), TABLE))
    assert report.readme_block(cli.README.read_text()) == table, (
        "README cost table is stale: run `.venv/bin/python -m tools.cost --readme --write`"
    )
    for stack in snapshots:
        for rate in report.README_RATES:
            assert f"| {stack} | {rate:,} |" in table


# --- the command ---------------------------------------------------------------------------------------------


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's synthesis answered from the session's cached runs (the same program, run once)."""

    def cached(stack: str, timeout: float = 0.0, **_: Any) -> Snapshot:
        return run_stack(stack).snapshot

    monkeypatch.setattr(cli, "run_isolated", cached)


def test_the_command_prints_idle_marginal_tiers_kinds_batching_and_assumptions(
    offline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_json = tmp_path / "cost.json"
    assert cli.main(["prod", "--events-per-second", "100", "--json", str(out_json)]) == 0
    captured = capsys.readouterr()
    expected = estimate(run_stack("prod").snapshot, Workload(100)).total
    assert f"monthly estimate   ${expected:,.2f}" in captured.out
    for heading in ("  idle ", "per million events", "by tier", "by resource kind", "what batching saves",
                    "assumptions", "--detail"):  # fmt: skip
        assert heading in captured.out, heading
    assert "synthesizing prod" in captured.err and "done in" in captured.err
    document = json.loads(out_json.read_text())
    assert document["total_usd"] == round(expected, 2) and document["warnings"] == []
    assert {"price", "resource", "urn", "quantity", "basis"} <= set(document["terms"][0])
    assert document["original_design_total_usd"] > document["total_usd"]


def test_the_command_lists_every_term_on_request(offline: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["dev", "--events-per-second", "10", "--detail", "--assume", "athena_queries_per_day=5"]) == 0
    out = capsys.readouterr().out
    assert "[ingest]" in out and "apigateway.rest_requests" in out
    assert re.search(r"athena_queries_per_day +5 \(set\)", out)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["staging", "--events-per-second", "1"],
         "cost: no stack 'staging': no Pulumi.staging.yaml here; stacks: dev, prod"),
        (["dev"], "cost: --events-per-second N is required (0 for the idle cost alone)"),
        ([], "cost: name a stack (dev, prod), or --readme"),
        (["dev", "--events-per-second", "-5"], "cost: --events-per-second: must be a number >= 0, got -5"),
        (["dev", "--events-per-second", "nan"], "cost: --events-per-second: must be a number >= 0, got nan"),
        (["dev", "--events-per-second", "1", "--events-per-request", "501"],
         "cost: --events-per-request: must be 1 to 500 (the ingest's limit), got 501"),
        (["dev", "--events-per-second", "1", "--active-hours", "25"],
         "cost: --active-hours: must be more than 0 and at most 24, got 25"),
        (["dev", "--events-per-second", "1", "--assume", "parquet_rato=0.2"],
         "cost: --assume parquet_rato: no such assumption (did you mean parquet_ratio?); "
         "`python -m tools.cost --help` lists them"),
        (["dev", "--events-per-second", "1", "--assume", "parquet_ratio=-1"],
         "cost: --assume parquet_ratio: must be a finite number >= 0, got '-1'"),
        (["--readme", "--assume", "parquet_ratio=0.2"],
         "cost: the README's table uses the default assumptions; drop --assume"),
        (["dev", "--events-per-second", "1", "--write"], "cost: --write goes with --readme"),
    ],
)  # fmt: skip
def test_bad_input_fails_in_one_line_before_anything_is_synthesized(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    def refuse(*_: Any, **__: Any) -> Snapshot:
        raise AssertionError("synthesized despite bad input")

    monkeypatch.setattr(cli, "run_isolated", refuse)
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == message + "\n" and captured.out == ""


@pytest.mark.parametrize("argv", [["dev", "--events-per-second", "ten"], ["dev", "--events-per-second", "1", "--oops"]])
def test_arguments_argparse_refuses_are_one_line_too(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cost: ") and "--help" in err


def test_a_failing_program_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from tools.engine.mocks import ProgramError

    def fail(*_: Any, **__: Any) -> Snapshot:
        raise ProgramError("the program for stack 'dev' failed:\ninvalid config for stack 'dev':\n  - x: bad")

    monkeypatch.setattr(cli, "run_isolated", fail)
    assert cli.main(["dev", "--events-per-second", "1"]) == 2
    progress, failure = capsys.readouterr().err.rstrip("\n").rsplit("\n", 1)
    assert progress.endswith("failed after 0.0 s")
    assert (
        failure
        == "cost: the program failed: the program for stack 'dev' failed: invalid config for stack 'dev': - x: bad"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_counts_seconds_on_a_terminal_and_says_once_when_piped() -> None:
    terminal = _Terminal()
    with cli.progress("synthesizing dev", terminal):
        time.sleep(1.3)
    assert "\rsynthesizing dev ... 1 s" in terminal.getvalue() and "done in 1." in terminal.getvalue()
    piped = io.StringIO()
    with cli.progress("synthesizing dev", piped):
        pass
    assert piped.getvalue().startswith("synthesizing dev ...\n") and "\r" not in piped.getvalue()
