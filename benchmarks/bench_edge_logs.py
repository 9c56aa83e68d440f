"""Calls per 1,000 real-time log lines: the edge-log processing against one call per event and dead letter.

    python -m benchmarks.bench_edge_logs [--lines 10000] [--events-per-beacon 3] [--batch 1000]

Both sides read the same log lines (CloudFront's format: tab-separated, URL-encoded, `-` for
empty; `tools.local.edge_logs`), in batches as the event source mapping delivers them: 80% of
the lines are beacons, 15% other requests (the sampled request log), 5% beacons that cannot
be read. Both do the same reading and validation (`lambdas.edge_logs.read_line`); the edge-log
processing (`process_lines`) writes a batch's events with PutRecords (500 a call) and its
dead letters with SendMessageBatch (10 a call), the baseline calls PutRecord once per event
and SendMessage once per dead letter. Calls are counted by a botocore `before-call` hook, and
every event is checked to be on the stream afterwards. Against moto a call costs no network
round trip; against AWS each also pays milliseconds of TLS, so the time gap is wider there.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from lambdas import edge_logs
from lambdas.edge_logs import REQUIRED_FIELDS, Beacon, DeadLetter, EdgeConfig, LogFormat, process_lines, read_line
from tools.local import REGION
from tools.local.edge_logs import beacon_query, log_line, request_values
from tools.local.lambdas import ApiCallCounter, create_stream, read_stream

STREAM = "uba-bench-events"
BEACON = "/collect"


def make_lines(count: int, per_beacon: int) -> tuple[list[str], int]:
    """`count` log lines and how many valid events they hold."""
    start = datetime.now(UTC) - timedelta(minutes=5)
    lines: list[str] = []
    events = 0
    for n in range(count):
        at = start + timedelta(milliseconds=n)
        kind = n % 20
        if kind < 16:
            batch = [
                {"eventId": f"bench-{n}-{k}", "action": ("viewDoc", "buy")[k % 2], "userId": f"user-{n % 300}",
                 "objectId": f"doc-{n % 977}", "bizId": "biz-web", "createdAt": at.isoformat()}
                for k in range(per_beacon)
            ]  # fmt: skip
            query = beacon_query({"events": batch})
            lines.append(log_line(REQUIRED_FIELDS, request_values(path=BEACON, query=query, method="POST", at=at)))
            events += per_beacon
        elif kind < 19:
            lines.append(log_line(REQUIRED_FIELDS, request_values(path="/events", query=None, status=200, at=at)))
        else:
            lines.append(log_line(REQUIRED_FIELDS, request_values(path=BEACON, query="e=%%%", at=at, status=400)))
    return lines, events


def one_call_each(lines: list[tuple[str, str]], config: EdgeConfig, kinesis: Any, sqs: Any) -> None:
    """The baseline: the same reading, then one PutRecord per event and one SendMessage per dead letter."""
    for _, line in lines:
        outcome = read_line(line, config)
        letters = [outcome] if isinstance(outcome, DeadLetter) else []
        if isinstance(outcome, Beacon):
            letters += outcome.dead_letters
            for record in outcome.records:
                kinesis.put_record(StreamName=STREAM, Data=record.data, PartitionKey=record.partition_key)
        for letter in letters:
            sqs.send_message(QueueUrl=config.queue_url, MessageBody=letter.body())


def measure(
    label: str, run: Callable[[list[tuple[str, str]]], None], lines: list[str], batch: int, counters: list[Any]
) -> tuple[int, float]:
    numbered = [(str(i), line) for i, line in enumerate(lines)]
    before = sum(counter.total for counter in counters)
    started = time.perf_counter()
    for i in range(0, len(numbered), batch):
        run(numbered[i : i + batch])
    elapsed = time.perf_counter() - started
    calls = sum(counter.total for counter in counters) - before
    print(f"{label:<42} {calls:>7} calls  {1000 * calls / len(lines):>8.1f} per 1,000 lines  "
          f"{len(lines) / elapsed:>9.0f} lines/s")  # fmt: skip
    return calls, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_edge_logs", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--events-per-beacon", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000, help="lines per invocation (the mapping's batch size)")
    args = parser.parse_args(argv)
    edge_logs.logger.setLevel("WARNING")  # one INFO line per dead letter would drown the figures
    lines, events = make_lines(args.lines, args.events_per_beacon)
    print(f"{args.lines} log lines holding {events} valid events, in batches of {args.batch} lines")
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        create_stream(kinesis, STREAM, shard_count=4)
        queue = sqs.create_queue(QueueName="uba-bench-invalid-events")["QueueUrl"]
        config = EdgeConfig(STREAM, queue, LogFormat.of(REQUIRED_FIELDS), BEACON)
        counters = [ApiCallCounter(kinesis), ApiCallCounter(sqs)]
        batched, batched_time = measure(
            "edge-log processing (PutRecords, batches)",
            lambda chunk: _assert_clean(process_lines(chunk, config, lambda: 60_000, kinesis, sqs)),
            lines, args.batch, counters,
        )  # fmt: skip
        single, single_time = measure(
            "one PutRecord / SendMessage each", lambda chunk: one_call_each(chunk, config, kinesis, sqs),
            lines, args.batch, counters,
        )  # fmt: skip
        stored = [json.loads(record.data) for record in read_stream(kinesis, STREAM)]
        assert len(stored) == 2 * events, f"expected every event twice on the stream, found {len(stored)}"
    print(f"calls: {single / batched:.1f}x fewer; time: {single_time / batched_time:.1f}x faster (moto, no network)")
    return 0


def _assert_clean(summary: Any) -> None:
    assert not summary.failed_records, summary


if __name__ == "__main__":
    raise SystemExit(main())
