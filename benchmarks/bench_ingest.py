"""How much batching buys: the ingest handler against one PutRecord call per event.

    python -m benchmarks.bench_ingest [--events 10000] [--shards 4]

Both sides get the same valid events, do the same per-event work (validate with
`UserEvent`, enrich with `IngestEnvelope`, serialise `stored_record`) and write to the
same local moto stream, in this run. The handler is driven through API Gateway proxy
events in requests of 500; the baseline parses the same bodies and calls `PutRecord`
once per event. API calls are counted by a botocore `before-call` hook on the client,
and every record is checked to be in the stream afterwards.

Against moto a call costs only botocore's serialisation and moto's dispatch, with no
network round trip; against AWS each call also pays a TLS round trip of milliseconds,
so the real gap in events per second is wider than what this prints.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from tools.local.lambdas import ApiCallCounter, FakeLambdaContext, local_kinesis, read_stream, rest_api_event
from tools.progress import ticking

STREAM = "uba-bench-events"
BATCH = 500


def make_events(count: int) -> list[dict[str, Any]]:
    """Deterministic valid events over 200 users; no Faker cost inside the timed part."""
    return [
        {
            "eventId": f"bench-{n:07d}",
            "action": ("viewDoc", "search", "buy", "addToCart")[n % 4],
            "userId": f"user-{n % 200:04d}",
            "objectId": f"doc-{n % 977}",
            "bizId": ("biz-news", "biz-shop")[n % 2],
            "createdAt": f"2026-03-01T12:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000:03d}+08:00",
            **({"errorMsg": "WARNNING slow render"} if n % 50 == 0 else {}),
        }
        for n in range(count)
    ]


def api_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bodies = [json.dumps({"events": events[i : i + BATCH]}) for i in range(0, len(events), BATCH)]
    return [rest_api_event(body) for body in bodies]


def handler_side(client: Any) -> Callable[[list[dict[str, Any]]], int]:
    from lambdas import ingest

    ingest.use_kinesis_client(client)

    def run(requests: list[dict[str, Any]]) -> int:
        accepted = 0
        for request in requests:
            response = ingest.handler(request, FakeLambdaContext())
            body = json.loads(response["body"])
            if response["statusCode"] != 200 or body["failed"] or body["rejected"]:
                raise RuntimeError(f"handler did not take the batch: {response['statusCode']} {body}")
            accepted += body["accepted"]
        return accepted

    return run


def baseline_side(client: Any) -> Callable[[list[dict[str, Any]]], int]:
    """A handler as it would be without batching: one PutRecord per valid event."""
    from lambdas.events import IngestEnvelope, UserEvent, stored_record

    def run(requests: list[dict[str, Any]]) -> int:
        accepted = 0
        for request in requests:
            envelope = IngestEnvelope(
                receivedAt=datetime.now(UTC),
                sourceIp=request["requestContext"]["identity"]["sourceIp"],
                userAgent=request["headers"].get("User-Agent"),
            )
            for item in json.loads(request["body"])["events"]:
                event = UserEvent.model_validate(item)
                data = json.dumps(stored_record(event, envelope), ensure_ascii=False, separators=(",", ":"))
                client.put_record(StreamName=STREAM, Data=data.encode(), PartitionKey=event.userId)
                accepted += 1
        return accepted

    return run


def measure(
    name: str,
    run: Callable[[list[dict[str, Any]]], int],
    requests: list[dict[str, Any]],
    counter: ApiCallCounter,
) -> dict[str, float]:
    counter.calls.clear()
    with ticking(name):  # a refresh twice a second, only on a terminal: noise far below the ratio
        started = time.perf_counter()
        accepted = run(requests)
        elapsed = time.perf_counter() - started
    calls = counter.total
    print(f"  {name}: {accepted} events in {elapsed:.2f} s, {calls} API calls ({dict(counter.calls)})")
    return {"events": accepted, "seconds": elapsed, "calls": calls}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args(argv)
    for name, value in {
        "EVENTS_STREAM_NAME": STREAM,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        os.environ[name] = value

    events = make_events(args.events)
    requests = api_events(events)
    warm_up = api_events(make_events(BATCH))[:1]
    with local_kinesis(STREAM, shard_count=args.shards) as client:
        counter = ApiCallCounter(client)
        sides = {"handler (PutRecords)": handler_side(client), "baseline (PutRecord)": baseline_side(client)}
        for run in sides.values():
            run(warm_up)  # first-call costs (imports, pydantic, moto) out of the timing
        print(f"ingest benchmark: {args.events} valid events, moto Kinesis stream with {args.shards} shards")
        results = {name: measure(name, run, requests, counter) for name, run in sides.items()}
        stored = len(read_stream(client, STREAM))

    expected = len(sides) * (args.events + BATCH)
    if stored != expected:
        raise RuntimeError(f"stream holds {stored} records, expected {expected}")
    batched, single = results.values()
    rates = [r["events"] / r["seconds"] for r in (batched, single)]
    calls_per_k = [1000 * r["calls"] / r["events"] for r in (batched, single)]
    rows = [
        ("events per second", rates, f"{rates[0] / rates[1]:.1f}x"),
        ("Kinesis API calls per 1,000 events", calls_per_k, f"{calls_per_k[1] / calls_per_k[0]:.0f}x fewer"),
    ]
    print()
    print(f"{'':36}{'handler (PutRecords)':>22}{'baseline (PutRecord)':>22}{'ratio':>14}")
    for label, (handler_value, baseline_value), ratio in rows:
        print(f"{label:36}{handler_value:>22,.1f}{baseline_value:>22,.1f}{ratio:>14}")
    print(f"checked: all {stored} records are in the stream (both runs and their warm-ups)")


if __name__ == "__main__":
    main()
