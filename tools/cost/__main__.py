"""`python -m tools.cost <stack> --events-per-second N [...]`: what a stack costs a month, from the program itself.

    python -m tools.cost prod --events-per-second 100
    python -m tools.cost dev --events-per-second 10 --event-bytes 600 --events-per-request 25 --active-hours 10
    python -m tools.cost prod --events-per-second 1000 --assume athena_queries_per_day=200 --detail
    python -m tools.cost prod --events-per-second 100 --json prod-cost.json
    python -m tools.cost --readme [--write]      # the README's table: every stack file at 10 to 10,000 events/s

Synthesizes the stack offline (the real program under the mock engine), prices every resource it
registers with the pinned price table (tools/cost/prices.yaml) and prints the monthly estimate: idle
and per million events, by tier and resource kind, beside the original design's ingestion, with
every assumption it made. Exit status 0; 2 for a bad stack name, bad arguments or a program that
fails, in one line.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn, TextIO

from tools.cost import report
from tools.cost.model import ASSUMPTIONS, Assumptions, EstimateError, Workload
from tools.cost.prices import PriceTable, PriceTableError
from tools.engine.mocks import PROJECT_DIR, ProgramError, Snapshot, available_stacks, run_isolated

README = PROJECT_DIR / "README.md"


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line naming it, not usage and an error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"cost: {message} (see python -m tools.cost --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m tools.cost",
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="assumptions (--assume NAME=VALUE):\n"
        + "\n".join(f"  {name} = {a.default:g} {a.unit}: {a.meaning}" for name, a in ASSUMPTIONS.items()),
    )
    parser.add_argument("stack", nargs="?", help=f"stack name ({', '.join(available_stacks()) or 'none found'})")
    parser.add_argument("--events-per-second", type=float, metavar="N", help="events a second while traffic flows")
    parser.add_argument("--event-bytes", type=int, default=400, metavar="B", help="bytes of an event (default 400)")
    parser.add_argument(
        "--events-per-request", type=int, default=10, metavar="K", help="events per POST /events (default 10)"
    )
    parser.add_argument(
        "--active-hours", type=float, default=24.0, metavar="H", help="hours a day the rate holds (default 24)"
    )
    parser.add_argument("--assume", action="append", default=[], metavar="NAME=VALUE", help="override an assumption")
    parser.add_argument("--detail", action="store_true", help="list every term: resource, price entry, quantity")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the whole estimate as JSON")
    parser.add_argument("--readme", action="store_true", help="print the README's table of every stack file")
    parser.add_argument("--write", action="store_true", help="with --readme: update README.md in place")
    parser.add_argument("--timeout", type=float, default=300.0, help=argparse.SUPPRESS)
    return parser


@contextmanager
def progress(what: str, stream: TextIO | None = None) -> Iterator[None]:
    """Say what is running (on stderr); on a terminal, count the seconds until it is done."""
    stream = stream or sys.stderr
    started = time.monotonic()
    done = threading.Event()
    live = stream.isatty()

    def tick() -> None:
        while not done.wait(1.0):
            stream.write(f"\r{what} ... {time.monotonic() - started:.0f} s")
            stream.flush()

    stream.write(f"{what} ..." if live else f"{what} ...\n")
    stream.flush()
    ticker = threading.Thread(target=tick, daemon=True) if live else None
    if ticker is not None:
        ticker.start()
    outcome = "failed after"
    try:
        yield
        outcome = "done in"
    finally:
        done.set()
        if ticker is not None:
            ticker.join()
        elapsed = time.monotonic() - started
        stream.write(f"\r{what} ... {outcome} {elapsed:.1f} s\n" if live else f"{outcome} {elapsed:.1f} s\n")
        stream.flush()


def synthesize(stacks: Sequence[str], timeout: float) -> dict[str, Snapshot]:
    with progress(f"synthesizing {', '.join(stacks)} offline (the program under the mock engine)"):
        return {stack: run_isolated(stack, timeout=timeout) for stack in stacks}


def _fail(message: str) -> int:
    print(f"cost: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stacks = available_stacks()
    try:
        prices = PriceTable.load()
        assumptions = Assumptions.with_overrides(args.assume)
        if args.readme:
            return _readme(stacks, assumptions, prices, args.write, args.timeout)
        if args.write:
            return _fail("--write goes with --readme")
        if args.stack is None:
            return _fail("name a stack (" + ", ".join(stacks) + "), or --readme")
        if args.stack not in stacks:
            return _fail(f"no stack {args.stack!r}: no Pulumi.{args.stack}.yaml here; stacks: {', '.join(stacks)}")
        if args.events_per_second is None:
            return _fail("--events-per-second N is required (0 for the idle cost alone)")
        workload = Workload(args.events_per_second, args.event_bytes, args.events_per_request, args.active_hours)
        snapshot = synthesize([args.stack], args.timeout)[args.stack]
        built = report.build(snapshot, workload, assumptions, prices)
    except (EstimateError, PriceTableError) as error:
        return _fail(str(error))
    except ProgramError as error:
        return _fail(f"the program failed: {' '.join(str(error).split())}")
    print(report.render(built, detail=args.detail))
    if args.json:
        import json

        args.json.write_text(json.dumps(report.document(built), indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


def readme_reports(snapshots: dict[str, Snapshot], assumptions: Assumptions, prices: PriceTable) -> list[report.Report]:
    """Each stack file at each of the README's rates, every option and assumption at its default."""
    return [
        report.build(snapshots[stack], Workload(rate), assumptions, prices)
        for stack in snapshots
        for rate in report.README_RATES
    ]


def _readme(stacks: list[str], assumptions: Assumptions, prices: PriceTable, write: bool, timeout: float) -> int:
    if assumptions.changed():
        return _fail("the README's table uses the default assumptions; drop --assume")
    table = report.readme_table(readme_reports(synthesize(stacks, timeout), assumptions, prices))
    if not write:
        print(table, end="")
        return 0
    README.write_text(report.replace_readme_block(README.read_text(), table))
    print(f"wrote the cost table in {README.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
