"""How fast the search feed indexes, and how soon an error event is searchable, on the local OpenSearch node.

    python -m benchmarks.bench_search [--documents 20000] [--bulk-sizes 100,500,2000] [--rounds 5] [--skip-latency]

Throughput. Documents in the search feed's shape (as the Flink job writes them) go through
the sink path, the local Firehose stand-in (`tools.local.search_feed.LocalFeed`, the same
client and bulk requests the setup uses) into a fresh index with the template applied, at
each bulk size. Baseline in the same run: the same documents posted as pre-built `_bulk`
bodies with no delivery bookkeeping (no per-document outcome, no dead-letter check), at
the largest bulk size. Each figure is documents per second and the ratio to the baseline.

Latency. One error event is accepted by the ingest handler (on a moto stream), read back
from the stream, run through the job's SQL on the local PyFlink mini-cluster
(`run_local --output search`), delivered by the feed, and polled for with the
`user-errors` saved search until it is found. Each stage is timed; the Flink stage
includes starting a JVM and a mini-cluster, which a running Managed Flink job does not
pay (there the job emits within its watermark and checkpointing, and Firehose adds its
buffer, `search.feed.buffer_seconds`).

The node shares the machine's two cores with this script, so the figures are lower than
on a real domain; the ratio is what compares.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from lambdas.opensearch import OpenSearch
from lambdas.search_admin import setup
from lambdas.search_schema import INDEX_NAME
from tools.local.lambdas import FakeLambdaContext, local_kinesis, read_stream, rest_api_event
from tools.local.opensearch_node import LocalNode
from tools.local.search_feed import LocalFeed
from tools.search import run_search

REPO = Path(__file__).resolve().parents[1]
FLINK_PYTHON = REPO / "streaming" / ".venv" / "bin" / "python"
STREAM = "uba-bench-search-events"


def make_documents(count: int) -> list[str]:
    """Search feed documents (error and warning events), deterministic, as JSON text."""
    documents = []
    for n in range(count):
        at = f"2026-03-01T12:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000:03d}Z"
        level = "error" if n % 3 == 0 else "warning"
        documents.append(json.dumps({
            "@timestamp": at, "kind": "event", "level": level, "feedKey": f"event:bench-{n:07d}",
            "eventId": f"bench-{n:07d}", "action": ("viewDoc", "search", "buy")[n % 3],
            "userId": f"user-{n % 500:04d}", "objectId": f"doc-{n % 977}", "bizId": "biz-shop", "createdAt": at,
            "errorMsg": "[ERROR] payment declined" if level == "error" else "WARNING slow render",
            "receivedAt": at, "sourceIp": "203.0.113.9", "userAgent": "bench/1.0", "schemaVersion": 1,
        }))  # fmt: skip
    return documents


def fresh_index(client: OpenSearch) -> None:
    client.delete_index(INDEX_NAME)
    client.request("PUT", f"/{INDEX_NAME}")  # created from the template


def through_feed(client: OpenSearch, documents: list[str], batch_size: int, workdir: Path) -> float:
    fresh_index(client)
    feed = LocalFeed(client, workdir / f"dead-{batch_size}.jsonl", batch_size=batch_size)
    started = time.perf_counter()
    report = feed.deliver(documents)
    elapsed = time.perf_counter() - started
    if report.indexed != len(documents):
        raise RuntimeError(f"bulk {batch_size}: {report.indexed} of {len(documents)} indexed, {report.errors}")
    return elapsed


def raw_bulk(client: OpenSearch, documents: list[str], batch_size: int) -> float:
    fresh_index(client)
    action = json.dumps({"index": {"_index": INDEX_NAME}})
    bodies = [
        ("".join(f"{action}\n{doc}\n" for doc in documents[i : i + batch_size])).encode()
        for i in range(0, len(documents), batch_size)
    ]
    started = time.perf_counter()
    for body in bodies:
        answer = client.request("POST", "/_bulk", ndjson=body)
        if answer.get("errors"):
            raise RuntimeError("raw bulk refused documents")
    return time.perf_counter() - started


def throughput(client: OpenSearch, count: int, bulk_sizes: list[int], workdir: Path, rounds: int) -> None:
    documents = make_documents(count)
    through_feed(client, documents, 500, workdir)  # a full warm-up pass: the node's JIT and caches
    largest = max(bulk_sizes)
    paths: list[tuple[str, Callable[[], float]]] = [
        ("baseline", partial(raw_bulk, client, documents, largest)),
        *((str(size), partial(through_feed, client, documents, size, workdir)) for size in bulk_sizes),
    ]
    runs: dict[str, list[float]] = {name: [] for name, _ in paths}
    # Interleaved, so drift in the shared machine's load hits every path alike, and each round starts
    # with the next path, so no path always runs first (just after the previous round's large index went).
    for round_number in range(rounds):
        shift = round_number % len(paths)
        for name, run in paths[shift:] + paths[:shift]:
            runs[name].append(count / run())
    baseline = statistics.median(runs["baseline"])
    print(f"throughput: {count} documents, local node (heap 512 MB), template applied, median of {rounds} rounds")
    print(f"  {'path':<34} {'bulk size':>9} {'docs/s':>9} {'vs baseline':>12}")
    print(f"  {'baseline: raw _bulk bodies':<34} {largest:>9} {baseline:>9.0f} {1.0:>11.2f}x")
    for size in bulk_sizes:
        rate = statistics.median(runs[str(size)])
        print(f"  {'sink path: LocalFeed (Firehose)':<34} {size:>9} {rate:>9.0f} {rate / baseline:>11.2f}x")


def latency(client: OpenSearch, workdir: Path) -> None:
    from lambdas import ingest

    for name, value in {"EVENTS_STREAM_NAME": STREAM, "POWERTOOLS_TRACE_DISABLED": "true",
                        "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING"}.items():  # fmt: skip
        os.environ[name] = value
    fresh_index(client)
    event = {
        "eventId": "latency-1",
        "action": "buy",
        "userId": "user-latency",
        "objectId": "doc-1",
        "bizId": "b",
        "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "errorMsg": "[ERROR] card declined",
    }
    stages: dict[str, float] = {}
    with local_kinesis(STREAM, shard_count=1) as kinesis:
        ingest.use_kinesis_client(kinesis)
        started = time.perf_counter()
        response = ingest.handler(rest_api_event(json.dumps({"events": [event]})), FakeLambdaContext())
        if json.loads(response["body"])["accepted"] != 1:
            raise RuntimeError(f"ingest did not accept the event: {response['body']}")
        stages["ingest handler accepts, record on the stream"] = time.perf_counter() - started
        records = [record.json() for record in read_stream(kinesis, STREAM)]
    events_file = workdir / "latency.jsonl"
    events_file.write_text("".join(json.dumps(r) + "\n" for r in records))
    mark = time.perf_counter()
    completed = subprocess.run(
        [str(FLINK_PYTHON), "-m", "streaming.run_local", "--events", str(events_file), "--output", "search"],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    documents = [line for line in completed.stdout.splitlines() if line.strip()]
    stages["Flink job emits its documents (local mini-cluster, JVM start included)"] = time.perf_counter() - mark
    mark = time.perf_counter()
    LocalFeed(client, workdir / "dead-latency.jsonl").deliver(documents)
    stages["feed delivers the bulk request"] = time.perf_counter() - mark
    mark = time.perf_counter()
    while not run_search(client, "user-errors", {"user": "user-latency", "since": "now-1d"})["hits"]:
        if time.perf_counter() - mark > 30:
            raise RuntimeError("the event never became searchable")
        time.sleep(0.05)
    stages["index refresh: the saved search finds it"] = time.perf_counter() - mark
    print(f"latency: one error event, accepted by the ingest handler -> searchable ({len(documents)} documents)")
    for stage, seconds in stages.items():
        print(f"  {stage:<72} {seconds * 1000:>8.0f} ms")
    total = sum(stages.values())
    flink = stages["Flink job emits its documents (local mini-cluster, JVM start included)"]
    print(f"  {'total':<72} {total * 1000:>8.0f} ms")
    print(f"  {'total without the mini-cluster start':<72} {(total - flink) * 1000:>8.0f} ms")


def bulk_sizes(text: str) -> list[int]:
    """`100,500,2000`: documents per bulk request, each a positive whole number."""
    try:
        sizes = [int(size) for size in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give documents per bulk request as 100,500,2000") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: every bulk size must be at least 1")
    return sizes


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_search", description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=20_000, help="feed documents per pass (default 20000)")
    parser.add_argument("--bulk-sizes", type=bulk_sizes, default=[100, 500, 2000],
                        help="documents per bulk request on the sink path (default 100,500,2000)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are printed (default 5)")
    parser.add_argument("--skip-latency", action="store_true", help="only the throughput (no PyFlink run)")
    args = parser.parse_args(argv)
    sizes: list[int] = args.bulk_sizes
    with LocalNode() as node, tempfile.TemporaryDirectory(prefix="uba-bench-search-") as workdir:
        client = OpenSearch(node.url)
        setup(client, {"number_of_replicas": 0})
        throughput(client, args.documents, sizes, Path(workdir), args.rounds)
        if not args.skip_latency:
            latency(client, Path(workdir))


if __name__ == "__main__":
    main()
