"""How long the local PyFlink run of the alert SQL takes on 10,000 events, against a baseline.

    .venv/bin/python -m benchmarks.bench_flink_local [--events 10000] [--repeat 2]

Both figures are wall times of a whole process, as a user or a test pays them:
- job:       `python -m streaming.run_local --events FILE` (the three queries, printed);
- baseline:  benchmarks/flink_passthrough.py on the same file (Python, JVM, planner,
             mini-cluster, reading and parsing the file, the watermark; no alert logic).
The ratio job/baseline says what the SQL itself adds to the fixed cost of a local run.
The best of --repeat runs is kept, because the two cores are shared.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from lambdas.events import IngestEnvelope, UserEvent, stored_record
from tools.progress import ticking

REPO = Path(__file__).resolve().parent.parent

FLINK_PYTHON = REPO / "streaming" / ".venv" / "bin" / "python"
START = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
ACTIONS = [f"action{n:02d}" for n in range(20)]


def generate(count: int, seed: int = 7) -> tuple[list[dict[str, Any]], int]:
    """`count` events over about an hour, 5% errors and 10% warnings, a little out of order."""
    rng = random.Random(seed)
    events, errors = [], 0
    for index in range(count):
        # Mostly in order, with jitter of up to 3 s: within the default 5 s watermark.
        created = START + timedelta(seconds=index * 3600 / count + rng.uniform(-3, 0))
        roll = rng.random()
        message, action = None, rng.choice(ACTIONS)
        if roll < 0.05:
            message, errors = f"[ERROR] payment failed #{index}", errors + 1
        elif roll < 0.15:
            message = f"WARNING slow response #{index}"
            # Most warnings hit one action, about 12 a minute: enough for bursts in most windows.
            action = ACTIONS[0] if rng.random() < 0.7 else action
        event = UserEvent(
            eventId=f"evt-{index:06d}",
            action=action,
            userId=f"user-{rng.randrange(500):03d}",
            objectId=f"doc-{rng.randrange(2000)}",
            bizId="biz-1",
            createdAt=created,
            errorMsg=message,
        )
        events.append(stored_record(event, IngestEnvelope(receivedAt=created + timedelta(milliseconds=200))))
    return events, errors


def timed(command: list[str], desc: str) -> tuple[float, str]:
    """Wall time and stdout of `command`; on a terminal, a running clock and the lines it has printed."""
    output: list[str] = []
    with ticking(desc) as progress:
        started = time.perf_counter()
        # stderr to a file, not a pipe: a chatty JVM must not block on a pipe nobody reads yet.
        with tempfile.TemporaryFile("w+") as errors:
            with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=errors, text=True) as job:
                assert job.stdout is not None
                for line in job.stdout:
                    output.append(line)
                    progress.update()
            elapsed = time.perf_counter() - started
            errors.seek(0)
            stderr = errors.read()
    if job.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr[-3000:]}")
    return elapsed, "".join(output)


def _seconds(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_flink_local", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    arguments = parser.parse_args()
    if not FLINK_PYTHON.exists():
        raise SystemExit(f"{FLINK_PYTHON} is missing; run `make setup` first")

    events, error_count = generate(arguments.events)
    with tempfile.TemporaryDirectory() as workdir:
        events_file = Path(workdir) / "events.jsonl"
        events_file.write_text("".join(json.dumps(event) + "\n" for event in events))
        job_command = [str(FLINK_PYTHON), "-m", "streaming.run_local", "--events", str(events_file)]
        baseline_command = [
            str(FLINK_PYTHON),
            str(REPO / "benchmarks" / "flink_passthrough.py"),
            str(events_file),
        ]
        job_times, baseline_times = [], []
        for run in range(1, arguments.repeat + 1):
            baseline_times.append(timed(baseline_command, f"baseline, run {run}/{arguments.repeat}")[0])
            elapsed, output = timed(job_command, f"job, run {run}/{arguments.repeat}")
            job_times.append(elapsed)
    records = [json.loads(line) for line in output.splitlines()]
    by_type = {kind: sum(r["alertType"] == kind for r in records) for kind in ("error", "warn_burst", "counts")}
    # A fast wrong run proves nothing: every generated error must have become an alert.
    assert by_type["error"] == error_count, (by_type, error_count)
    job, baseline = min(job_times), min(baseline_times)
    print(f"events: {arguments.events}, alert records: {len(records)} {by_type}")
    print(f"baseline (pass-through to blackhole): {baseline:.2f} s  (runs: {_seconds(baseline_times)})")
    print(f"job (three queries, printed):         {job:.2f} s  (runs: {_seconds(job_times)})")
    print(f"ratio job/baseline: {job / baseline:.2f}  (SQL adds {job - baseline:.2f} s)")


if __name__ == "__main__":
    main()
