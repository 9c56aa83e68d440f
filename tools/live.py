"""`python -m tools.live`: the live dashboard on this machine, fed by the real pipeline, until Ctrl-C.

    .venv/bin/python -m tools.live [--window-seconds 10] [--watermark-seconds 2] [--threshold 10]
                                   [--traffic 2] [--port 8080]

Starts the local stack of `tools.local.live` (moto, the handlers, the Flink SQL job on the
local mini-cluster, the page and WebSocket servers) and prints the page's address, which
carries the local sign-in token, and the ingest address to send events to, e.g.

    .venv/bin/python -m tools.produce --endpoint http://127.0.0.1:<port>/events --api-key local \
        --count 500 --rate 20 --error-ratio 0.2

Windows are short here (10 s by default, instead of the stack's minute) and `--traffic` sends a
few ordinary events a second, so counts appear and windows close without waiting; a burst of
`--threshold` warnings on one action within one window shows in the chart.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from types import FrameType

from tools.local.live import LiveOptions, LiveStack


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.live", description=(__doc__ or "").split("\n\n")[0].split(": ", 1)[-1]
    )
    parser.add_argument("--window-seconds", type=int, default=10, help="tumbling window length (default 10)")
    parser.add_argument("--watermark-seconds", type=int, default=2, help="out-of-orderness allowed (default 2)")
    parser.add_argument("--threshold", type=int, default=10, help="warnings per action and window that alert")
    parser.add_argument("--traffic", type=float, default=2.0, help="ordinary events per second (0: none)")
    parser.add_argument("--port", type=int, default=0, help="port of the page, API and ingest (default: any free)")
    args = parser.parse_args(argv)
    for name in ("window_seconds", "threshold"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.watermark_seconds < 0 or args.traffic < 0:
        parser.error("--watermark-seconds and --traffic must not be negative")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be from 0 to 65535, got {args.port}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = LiveOptions(window_seconds=args.window_seconds, watermark_seconds=args.watermark_seconds,
                          warn_threshold=args.threshold, traffic_per_second=args.traffic, port=args.port)  # fmt: skip
    print("starting the local live stack (moto, handlers, Flink job: about 20 s)...", flush=True)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        with LiveStack(options) as stack:
            print(f"dashboard (signed in): {stack.page_url}")
            print(f"ingest:                POST {stack.ingest_url}")
            print(f"realtime API:          {stack.base_url}/api/alerts (Authorization: Bearer {stack.token})")
            print("Ctrl-C stops everything.", flush=True)
            while not stopping:
                time.sleep(0.5)
                for problem in stack.problems[:]:
                    print(f"problem: {problem}", file=sys.stderr)
                    stack.problems.remove(problem)
    except KeyboardInterrupt:
        pass
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
