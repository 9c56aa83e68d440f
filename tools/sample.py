"""Write a realistic, reproducible sample of the pipeline's data over a date range: the stream and the lake.

    python -m tools.sample --from 2026-01-01 --to 2026-03-31 --out ./sample [--seed 7] [--users 400]

Writes `OUT/events.jsonl` (events-stream records in arrival order, the input of
`streaming.run_local --events`), `OUT/lake/events/year=…/month=…/day=…/hour=…/*.parquet` (the
same records as Firehose lands them, the input of `tools.query --lake` and `tools.warehouse
--lake`) and `OUT/catalogue.jsonl` (the objects and business lines the events refer to). What
the sample holds and why is in `tools.local.sample`. Exit status: 0 written; 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from tools.cli import iso_day
from tools.local.sample import (
    DEFAULT_SEED,
    DEFAULT_USERS,
    EVENTS_FILE,
    LAKE_DIR,
    catalogue_records,
    generate,
    validate_range,
    write_sample,
)
from tools.progress import bar

CATALOGUE_FILE = "catalogue.jsonl"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.sample",
        description="Write sample events (stream records and a lake in Firehose's layout) over a date range.",
    )
    parser.add_argument("--from", dest="first", type=iso_day, required=True, help="first UTC day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", type=iso_day, required=True, help="last UTC day (inclusive), YYYY-MM-DD")
    parser.add_argument("--out", type=Path, required=True, help="directory to write events.jsonl and lake/ into")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the same seed writes the same sample")
    parser.add_argument("--users", type=int, default=DEFAULT_USERS, help="users in the pool (default %(default)s)")
    parser.add_argument("--force", action="store_true", help="replace a sample already in --out")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    problems = validate_range(options.first, options.last, datetime.now(UTC))
    if options.users < 1:
        problems.append(f"--users must be at least 1, got {options.users}")
    if problems:
        parser.error("; ".join(problems))
    out: Path = options.out
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} is a file, not a directory")
    existing = [out / name for name in (EVENTS_FILE, LAKE_DIR, CATALOGUE_FILE) if (out / name).exists()]
    if existing and not options.force:
        parser.error(f"{out} already holds a sample ({', '.join(p.name for p in existing)}); add --force to replace it")
    for path in existing:
        shutil.rmtree(path) if path.is_dir() else path.unlink()

    days = (options.last - options.first).days + 1
    with bar(desc="sampling days", total=days, unit="day") as progress:
        sample = generate(
            options.first, options.last, seed=options.seed, users=options.users, on_day=lambda _: progress.update()
        )
    with bar(desc="writing the lake", unit="object") as progress:
        files = write_sample(out, sample, on_object=lambda _: progress.update())
    with (out / CATALOGUE_FILE).open("w", encoding="utf-8") as catalogue:
        catalogue.writelines(json.dumps(row) + "\n" for row in catalogue_records())

    print("\n".join(sample.stats.lines()))
    print(f"wrote {files.events_file} ({sample.stats.records} records)")
    print(f"wrote {files.lake}/ ({files.lake_objects} Parquet objects in Firehose's layout)")
    print(f"wrote {out / CATALOGUE_FILE} (the objects and business lines events refer to)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
