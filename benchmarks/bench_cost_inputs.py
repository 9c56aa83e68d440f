"""The two sizes the cost estimate takes from a measurement: a stored event, and its Parquet share.

    python -m benchmarks.bench_cost_inputs [--events 20000] [--seed 7] [--per-object 600,20000]

Generates events as `tools.produce` does (several locales, errors and warnings mixed in), stores
each as the ingest Lambda does (`stored_record`: the client's fields and the envelope, compact JSON,
with a phone browser's User-Agent), and writes them as the lake's Parquet (`tools.local.lake`,
Firehose's schema and Snappy) in objects of a given number of events (600: a minute of dev at 10
events/s; 20,000: a larger buffer). It prints the mean stored size (the estimate's default
`--event-bytes`) and Parquet bytes per JSON byte for each object size (the `parquet_ratio`
assumption): small objects compress worse.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lambdas.events import IngestEnvelope, UserEvent, stored_record
from tools.local.lake import write_lake
from tools.produce import EventFaker

USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


def stored_records(count: int, seed: int) -> list[dict[str, Any]]:
    faker = EventFaker(seed=seed, users=500, error_ratio=0.01, warn_ratio=0.02, invalid_ratio=0.0)
    envelope = IngestEnvelope(receivedAt=datetime.now(UTC), sourceIp="203.0.113.7", userAgent=USER_AGENT)
    return [stored_record(UserEvent.model_validate(faker.event()), envelope) for _ in range(count)]


def json_bytes(record: dict[str, Any]) -> int:
    # As the ingest Lambda writes it to the stream.
    return len(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode())


def parquet_ratio(records: list[dict[str, Any]], per_object: int) -> float:
    """Parquet bytes / JSON bytes, writing the records in objects of `per_object` events."""
    with tempfile.TemporaryDirectory(prefix="uba-bench-cost-") as scratch:
        written = 0
        for index, start in enumerate(range(0, len(records), per_object)):
            chunk = records[start : start + per_object]
            written += sum(p.stat().st_size for p in write_lake(Path(scratch), chunk, f"part-{index:05d}.parquet"))
    return written / sum(json_bytes(r) for r in records)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_cost_inputs", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-object", default="600,20000", help="events per Parquet object, comma-separated")
    args = parser.parse_args(argv)
    records = stored_records(args.events, args.seed)
    sizes = [json_bytes(r) for r in records]
    print(
        f"{len(records)} stored events: mean {sum(sizes) / len(sizes):.0f} bytes (min {min(sizes)}, max {max(sizes)})"
    )
    for per_object in (int(n) for n in args.per_object.split(",")):
        print(f"Parquet, {per_object:>6} events an object: {parquet_ratio(records, per_object):.3f} of the JSON size")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
