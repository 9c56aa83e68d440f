"""The sample data command: reproducible, valid against the contract, realistic, and in Firehose's layout."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from lambdas.events import MAX_EVENT_AGE, RECEIVED_AT, STREAM_TIMESTAMP, IngestEnvelope, UserEvent
from sql.lake import event_partition
from tools import sample as sample_command
from tools.local.lake import lake_days
from tools.local.sample import BIZ_IDS, CATALOGUE, ERROR_MESSAGES, Sample, generate, write_sample

NOW = datetime(2026, 12, 6, tzinfo=UTC)
FIRST, LAST = date(2026, 1, 5), date(2026, 2, 1)  # four weeks, Monday to Sunday
CLIENT_FIELDS = ("eventId", "action", "userId", "objectId", "bizId", "createdAt", "errorMsg")


@pytest.fixture(scope="module")
def sample() -> Sample:
    return generate(FIRST, LAST, seed=3, users=150, now=NOW)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_same_seed_gives_the_same_records_and_another_seed_others(sample: Sample) -> None:
    again = generate(FIRST, LAST, seed=3, users=150, now=NOW)
    assert again.records == sample.records
    other = generate(FIRST, LAST, seed=4, users=150, now=NOW)
    assert {r["eventId"] for r in other.records}.isdisjoint({r["eventId"] for r in sample.records})


def test_every_record_passes_the_event_contract_as_ingest_checks_it(sample: Sample) -> None:
    for record in sample.records:
        client = {key: record[key] for key in CLIENT_FIELDS if record.get(key) is not None}
        received = _time(record["receivedAt"])
        assert UserEvent.model_validate(client, context={RECEIVED_AT: received}).eventId == record["eventId"]
        IngestEnvelope.model_validate({k: record[k] for k in ("receivedAt", "sourceIp", "userAgent", "schemaVersion")})
        assert STREAM_TIMESTAMP.fullmatch(record["createdAt"]) and STREAM_TIMESTAMP.fullmatch(record["receivedAt"])
        assert FIRST <= _time(record["createdAt"]).date() <= LAST


def test_the_stream_is_in_arrival_order_with_duplicates_and_late_arrivals(sample: Sample) -> None:
    received = [record["receivedAt"] for record in sample.records]
    assert received == sorted(received)
    copies = defaultdict(list)
    for record in sample.records:
        copies[record["eventId"]].append(record)
    duplicated = [group for group in copies.values() if len(group) > 1]
    assert len(duplicated) == sample.stats.duplicates > 0
    for group in duplicated:  # a copy is the same event: only the delivery differs
        assert len({tuple(r[k] for k in CLIENT_FIELDS) for r in group}) == 1
    assert len(copies) == sample.stats.events
    delays = [_time(r["receivedAt"]) - _time(r["createdAt"]) for r in sample.records]
    late = [delay for delay in delays if delay >= timedelta(hours=1)]
    assert len(late) >= sample.stats.late > 10
    assert max(delays) < MAX_EVENT_AGE
    assert min(delays) > -timedelta(minutes=5)  # a few clocks run fast, within the contract's skew


def test_users_come_back_across_days_and_weeks(sample: Sample) -> None:
    days_by_user: dict[str, set[date]] = defaultdict(set)
    for record in sample.records:
        days_by_user[record["userId"]].add(_time(record["createdAt"]).date())
    first_days = {user: min(days) for user, days in days_by_user.items()}
    next_day = sum(first + timedelta(days=1) in days_by_user[user] for user, first in first_days.items())
    next_week = sum(first + timedelta(days=7) in days_by_user[user] for user, first in first_days.items())
    weeks = [len({day.isocalendar().week for day in days}) for days in days_by_user.values()]
    assert next_day > 5 and next_week > 5
    assert sum(count >= 3 for count in weeks) > 10
    assert sum(len(days) == 1 for days in days_by_user.values()) > 5  # and some never come back


def test_sessions_follow_the_view_to_buy_funnel(sample: Sample) -> None:
    by_user_day: dict[tuple[str, date], list[dict[str, Any]]] = defaultdict(list)
    for record in sample.records:
        by_user_day[(record["userId"], _time(record["createdAt"]).date())].append(record)
    buys = 0
    for events in by_user_day.values():
        events.sort(key=lambda r: r["createdAt"])
        for index, event in enumerate(events):
            if event["action"] == "buy":
                buys += 1
                viewed = {e["objectId"] for e in events[:index] if e["action"] == "viewDoc"}
                carted = {e["objectId"] for e in events[:index] if e["action"] == "addToCart"}
                assert event["objectId"] in viewed & carted, event
    actions = sample.stats.actions
    assert buys > 20 and actions["viewDoc"] > 5 * actions["buy"] > 0
    assert sum(len(events) > 3 for events in by_user_day.values()) > len(by_user_day) / 3


def test_errors_and_warning_bursts_that_the_flink_job_alerts_on(sample: Sample) -> None:
    errors = [r for r in sample.records if r["errorMsg"] in ERROR_MESSAGES]
    assert len({r["eventId"] for r in errors}) == sample.stats.errors > 0
    assert len(sample.stats.bursts) == 2  # one per ten days
    for burst in sample.stats.bursts:
        in_minute = {
            r["eventId"]
            for r in sample.records
            if r["action"] == burst.action
            and "WARN" in (r["errorMsg"] or "").upper()
            and burst.minute <= _time(r["createdAt"]) < burst.minute + timedelta(minutes=1)
        }
        assert len(in_minute) >= burst.count >= 12  # at or above the job's default threshold of 10


def test_business_lines_and_objects_come_from_small_stable_sets(sample: Sample) -> None:
    catalogue = {entry.object_id: entry.biz_id for entry in CATALOGUE}
    assert len(catalogue) == len(CATALOGUE) == 48 and set(catalogue.values()) == set(BIZ_IDS)
    for record in sample.records:
        assert catalogue[record["objectId"]] == record["bizId"]
    assert {r["bizId"] for r in sample.records} == set(BIZ_IDS)
    users = {r["userId"] for r in sample.records}
    assert all(re.fullmatch(r"user-\d{4}", user) for user in users)


def test_the_lake_is_laid_out_as_firehose_delivers(sample: Sample, tmp_path: Path) -> None:
    files = write_sample(tmp_path, sample)
    objects = sorted(files.lake.rglob("*.parquet"))
    assert len(objects) == files.lake_objects > 0
    rows = 0
    for path in objects:
        assert re.fullmatch(r"uba-sample-events-1-\d{4}(-\d{2}){5}-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\.parquet",
                            path.name)  # fmt: skip
        table = pq.read_table(path)
        arrived = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        for created_at, received_at in zip(table["created_at"].to_pylist(), table["received_at"].to_pylist(),
                                           strict=True):  # fmt: skip
            assert path.parent.relative_to(files.lake).as_posix() + "/" == event_partition(created_at)
            assert received_at <= arrived < received_at + timedelta(hours=1)
        rows += table.num_rows
    assert rows == len(sample.records)
    assert lake_days(files.lake) == [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    lines = files.events_file.read_text().splitlines()
    assert [json.loads(line) for line in lines] == sample.records
    # A late event sits in its old hour's folder, in an object that arrived later.
    late = next(r for r in sample.records if _time(r["receivedAt"]) - _time(r["createdAt"]) > timedelta(hours=3))
    folder = files.lake / event_partition(_time(late["createdAt"]))
    assert any(datetime.fromtimestamp(p.stat().st_mtime, UTC) >= _time(late["receivedAt"]) for p in folder.iterdir())


def test_the_command_writes_the_stream_the_lake_and_the_catalogue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sample"
    args = ["--from", "2026-02-01", "--to", "2026-02-07", "--out", str(out), "--users", "40"]
    assert sample_command.main(args) == 0
    printed = capsys.readouterr()
    assert f"wrote {out / 'events.jsonl'}" in printed.out and "warning bursts 1" in printed.out
    assert printed.err == ""  # no progress bar when stderr is not a terminal
    catalogue = [json.loads(line) for line in (out / "catalogue.jsonl").read_text().splitlines()]
    assert Counter(row["bizId"] for row in catalogue) == dict.fromkeys(BIZ_IDS, 12)
    first = (out / "events.jsonl").read_bytes()
    # The same command again needs --force, and then writes the very same stream.
    with pytest.raises(SystemExit):
        sample_command.main(args)
    assert "already holds a sample (events.jsonl, lake, catalogue.jsonl); add --force" in capsys.readouterr().err
    assert sample_command.main([*args, "--force"]) == 0
    assert (out / "events.jsonl").read_bytes() == first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-02-07", "--to", "2026-02-01"], "the range ends (2026-02-01) before it starts (2026-02-07)"),
        (["--from", "2026-01-01", "--to", "2099-01-01"], "the range must end before today"),
        (["--from", "2026-13-01", "--to", "2026-02-01"], "expected a date as YYYY-MM-DD, got '2026-13-01'"),
        (["--from", "2020-01-01", "--to", "2026-01-01"], "the range holds 2193 days; at most 1098"),
        (["--from", "2026-01-01", "--to", "2026-01-02", "--users", "0"], "--users must be at least 1, got 0"),
    ],
)
def test_bad_input_exits_2_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                           message: str) -> None:  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        sample_command.main([*args, "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
