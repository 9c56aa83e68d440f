"""What the enrichment (temporal joins with the entity tables) adds to the local Flink job, per 10,000 events.

    .venv/bin/python -m benchmarks.bench_flink_enrichment [--events 10000] [--repeat 2]

Both figures are wall times of a whole `python -m streaming.run_local` process over the same
10,000 events (benchmarks/bench_flink_local.py's generator):
- plain:    the job as it runs without CDC (errors, warn bursts, counts);
- enriched: the same events with `--changes` (the full load of 2,000 documents and a business line,
            then 1,000 updates spread over the hour, exactly as DMS writes them) and
            `enrichment.entities` set: two versioned views, the joins, and counts per business line.
The difference is what the joins cost on a local mini-cluster; the best of --repeat runs is kept.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from datetime import timedelta
from pathlib import Path

from benchmarks.bench_flink_local import FLINK_PYTHON, START, generate, timed
from tools.local.dms import DmsWriter

DOCS, BIZ = "public.documents", "public.business_lines"
ENTITIES = {
    "objectId": {"table": DOCS, "key": "id", "label": "title"},
    "bizId": {"table": BIZ, "key": "id", "label": "name"},
}


def changes(updates: int = 1000, seed: int = 11) -> list[dict[str, object]]:
    rng = random.Random(seed)
    writer = DmsWriter({DOCS: ["id"], BIZ: ["id"]})
    loaded = START - timedelta(hours=1)
    records = [writer.load(BIZ, {"id": "biz-1", "name": "Books"}, loaded)]
    records += [writer.load(DOCS, {"id": f"doc-{n}", "title": f"Document {n}"}, loaded) for n in range(2000)]
    for index in range(updates):
        transaction = writer.transaction(START + timedelta(seconds=index * 3600 / updates))
        key = rng.randrange(2000)
        records.append(transaction.update(DOCS, {"id": f"doc-{key}", "title": f"Document {key}, v{index}"}))
    return records


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_flink_enrichment", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    arguments = parser.parse_args()
    if not FLINK_PYTHON.exists():
        raise SystemExit(f"{FLINK_PYTHON} is missing; run `make setup` first")
    events, error_count = generate(arguments.events)
    history = changes()
    with tempfile.TemporaryDirectory() as workdir:
        events_file, changes_file = Path(workdir) / "events.jsonl", Path(workdir) / "changes.jsonl"
        events_file.write_text("".join(json.dumps(event) + "\n" for event in events))
        changes_file.write_text("".join(json.dumps(change) + "\n" for change in history))
        # Bounded files end with the final watermark: no source needs marking idle (see the enrichment tests).
        plain = [str(FLINK_PYTHON), "-m", "streaming.run_local", "--events", str(events_file)]
        plain += ["--set", "source.idle-timeout.seconds=0"]
        enriched = [*plain, "--changes", str(changes_file), "--set", f"enrichment.entities={json.dumps(ENTITIES)}"]
        plain_times, enriched_times = [], []
        for _ in range(arguments.repeat):
            plain_times.append(timed(plain, "plain job")[0])
            elapsed, output = timed(enriched, "enriched job")
            enriched_times.append(elapsed)
    records = [json.loads(line) for line in output.splitlines()]
    errors = [r for r in records if r["alertType"] == "error"]
    # A fast wrong run proves nothing: every error alerts, and every one names a document the load knew.
    assert len(errors) == error_count and all(r["objectKnown"] for r in errors), (len(errors), error_count)
    fastest_plain, fastest_enriched = min(plain_times), min(enriched_times)
    per_10k = (fastest_enriched - fastest_plain) * 10_000 / arguments.events
    print(f"events: {arguments.events}, changes: {len(history)}, alert records enriched: {len(records)}")
    print(f"plain job:    {fastest_plain:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in plain_times)})")
    print(f"enriched job: {fastest_enriched:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in enriched_times)})")
    print(f"the joins add {per_10k:.2f} s per 10,000 events ({fastest_enriched / fastest_plain:.2f}x the plain job)")


if __name__ == "__main__":
    main()
