"""What the live tier costs in time and reads: event to page, and the feed route on a big table.

    .venv/bin/python -m benchmarks.bench_live [--events 60] [--items 100000] \
        [--requests 40] [--screenshot docs/live-dashboard.png] [--skip-page]

1. **Event to page.** The local stack (`tools.local.live`: ingest handler, moto, Flink SQL on the
   local mini-cluster, alert sink, the table's stream, pusher, WebSocket) with the dashboard open in
   Debian's Chromium. One error event at a time goes to the ingest route; the clock starts when
   ingest answers (accepted) and stops when the page receives the alert (the page records the
   moment in `window.uba.arrivals`). Both clocks are this machine's. Split by the sink's `storedAt`:
   ingest to stored (Kinesis, the Flink job, the alert sink) and stored to page (the table's stream,
   the pusher, the WebSocket).
2. **The feed route on a big table.** `GET /alerts?type=error&limit=50` through the API handler,
   against the realtime table in moto with `--items` error items (the alert sink's layout, 50
   actions), then the same against 1,000 items: the ratio shows how the answer time grows with the
   table. Items read per request are DynamoDB's own `ScannedCount` of every Query (caught from the
   responses), against one Scan of the table for the same page, the way a table without the key
   design would have to answer.

moto keeps a partition's items in a Python list and sorts them per Query, so its answer time grows
with a partition's size where DynamoDB's does not; the items read, which DynamoDB bills and which
bound its latency, are the figure that carries over to AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tools.local import ACCOUNT_ID, REGION  # noqa: E402

PAGE = 50
ACTIONS = [f"action{n:02d}" for n in range(50)]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# ------------------------------------------------------------------ 1. event to page


def event_to_page(count: int, screenshot: Path | None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from tools.local.chromium import CHROMIUM_ARGS, chromium_path
    from tools.local.live import LiveOptions, LiveStack

    options = LiveOptions(window_seconds=5, watermark_seconds=1, warn_threshold=8, traffic_per_second=3)
    print("starting the local live stack...", file=sys.stderr, flush=True)
    with LiveStack(options) as stack, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path()), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(stack.page_url)
        page.wait_for_selector("#status[data-state=live]", timeout=60_000)
        accepted: dict[str, float] = {}
        rng = random.Random(7)
        for n in range(count):
            event = stack.event(rng.choice(("checkout", "search", "buy", "viewDoc")), f"[ERROR] bench failure #{n}")
            answer = stack.send_events([event])
            accepted[event["eventId"]] = time.time() * 1000
            assert answer["accepted"] == 1, answer
            time.sleep(0.25)
            if n % 10 == 9:
                print(f"  sent {n + 1}/{count}", file=sys.stderr, flush=True)
        deadline = time.monotonic() + 60
        arrivals: dict[str, Any] = {}
        while time.monotonic() < deadline:
            arrivals = page.evaluate(
                """() => Object.fromEntries([...window.uba.arrivals].map(([key, at]) => {
                       const view = window.uba.alerts.get(key);
                       return [view.eventId || key, {at, storedAt: view.storedAt}];
                   }))"""
            )
            if all(event_id in arrivals for event_id in accepted):
                break
            time.sleep(0.5)
        if screenshot is not None:
            _burst_for_the_picture(stack, page)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=False)
        browser.close()
    missing = [event_id for event_id in accepted if event_id not in arrivals]
    total = [arrivals[e]["at"] - accepted[e] for e in accepted if e in arrivals]
    stored = [_epoch_ms(arrivals[e]["storedAt"]) - accepted[e] for e in accepted if e in arrivals]
    pushed = [arrivals[e]["at"] - _epoch_ms(arrivals[e]["storedAt"]) for e in accepted if e in arrivals]
    return {
        "events": count,
        "missing": len(missing),
        "total_ms": total,
        "to_stored_ms": stored,
        "stored_to_page_ms": pushed,
    }


def _epoch_ms(timestamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000


def _burst_for_the_picture(stack: Any, page: Any) -> None:
    """A warning burst and a few errors, so the picture shows what the page is for."""
    stack.send_events([stack.event("search", f"WARNING slow search #{n}", user=f"u{n}") for n in range(10)])
    stack.send_events([stack.event("checkout", "[ERROR] card declined", user="u7")])
    page.wait_for_selector('.chart .row[data-action="search"] rect.burst', timeout=60_000)
    time.sleep(12)  # two more windows of traffic


# ------------------------------------------------------------------ 2. the feed route on a big table


def _items(count: int) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    start = 1_780_000_000
    items = []
    for n in range(count):
        created = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start + n)) + f".{n % 1000:03d}Z"
        action = ACTIONS[n % len(ACTIONS)]
        item = {"pk": f"ALERT#error#{action}", "sk": f"{created}#evt-{n:07d}", "alertType": "error", "action": action,
                "eventId": f"evt-{n:07d}", "userId": f"user-{n % 977}", "objectId": "doc-1", "bizId": "biz-1",
                "errorMsg": f"[ERROR] failure #{n}", "createdAt": created, "firstSeenAt": created,
                "expiresAt": start + 86400 * 7, "sequenceNumber": str(n)}  # fmt: skip
        items.append({name: serializer.serialize(value) for name, value in item.items()})
    return items


def _counter(scanned: list[int]) -> Any:
    """A botocore hook that records each Query's ScannedCount: the items DynamoDB read for it."""

    def seen(parsed: dict[str, Any], **_: Any) -> None:
        scanned.append(int(parsed["ScannedCount"]))

    return seen


def feed_route(items: int, requests: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from lambdas import live_api
    from tools.local.lambdas import FakeLambdaContext
    from tools.local.live import http_api_event

    token = "bench-" + "x" * 40
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
                       "LIVE_TABLE_NAME": "bench-realtime", "LIVE_ALLOWED_ORIGIN": "http://127.0.0.1",
                       "LIVE_AUTH_MODE": "local", "LIVE_LOCAL_TOKEN": token, "POWERTOOLS_LOG_LEVEL": "ERROR",
                       "POWERTOOLS_TRACE_DISABLED": "true"})  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    results: dict[str, Any] = {}
    for size in (1000, items):
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            client.create_table(
                TableName="bench-realtime", BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "alertType")],
                GlobalSecondaryIndexes=[{"IndexName": "byType", "Projection": {"ProjectionType": "ALL"},
                                         "KeySchema": [{"AttributeName": "alertType", "KeyType": "HASH"},
                                                       {"AttributeName": "sk", "KeyType": "RANGE"}]}],
            )  # fmt: skip
            print(f"  loading {size} items...", file=sys.stderr, flush=True)
            # Straight into moto's table: through BatchWriteItem, 100,000 items take most of an hour here.
            from moto.dynamodb.models import dynamodb_backends

            table = dynamodb_backends[ACCOUNT_ID][REGION].get_table("bench-realtime")
            for item in _items(size):
                table.put_item(item)
            live_api.reset_cached_state()
            scanned: list[int] = []
            live_api.dynamodb_client().meta.events.register("after-call.dynamodb.Query", _counter(scanned))
            times: list[float] = []
            returned: list[int] = []
            context: Any = FakeLambdaContext(function_name="bench-live-api")
            next_token: str | None = None
            rng = random.Random(11)
            for n in range(requests):
                by_action = n % 2 == 1
                query = f"type=error&limit={PAGE}" + (f"&action={rng.choice(ACTIONS)}" if by_action else "")
                if not by_action and next_token and n % 4 == 2:
                    query += f"&next={next_token}"  # walk a few pages down the feed too
                event = http_api_event("GET", "/alerts", query, headers, "127.0.0.1")
                started = time.perf_counter()
                answer = live_api.handler(event, context)
                times.append((time.perf_counter() - started) * 1000)
                body = json.loads(answer["body"])
                assert answer["statusCode"] == 200 and 0 < len(body["items"]) <= PAGE, answer["statusCode"]
                returned.append(len(body["items"]))
                if not by_action:
                    next_token = body["next"]
            scan_started = time.perf_counter()
            scan_read = 0
            for page in client.get_paginator("scan").paginate(TableName="bench-realtime"):
                scan_read += page["ScannedCount"]
            scan_ms = (time.perf_counter() - scan_started) * 1000
            assert scanned == returned, "each Query reads exactly the items it answers with"
            results[str(size)] = {"ms": times, "scanned": scanned, "scan_read": scan_read, "scan_ms": scan_ms}
    return results


# ------------------------------------------------------------------ report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_live", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=60, help="error events sent one at a time (at least 50)")
    parser.add_argument("--items", type=int, default=100_000, help="items in the big realtime table")
    parser.add_argument("--requests", type=int, default=40, help="feed requests per table (moto is slow)")
    parser.add_argument("--screenshot", type=Path, help="also keep a screenshot of the page here")
    parser.add_argument("--skip-page", action="store_true", help="only the feed route (no browser, no Flink)")
    args = parser.parse_args(argv)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")  # the handlers' own warnings are not the figures
    if args.events < 50:
        parser.error("--events: at least 50")
    if not args.skip_page:
        latency = event_to_page(args.events, args.screenshot)
        print(f"event to page ({latency['events']} error events, {latency['missing']} not seen):")
        for name, label in (("total_ms", "accepted by ingest -> on the page"),
                            ("to_stored_ms", "  accepted -> stored by the alert sink"),
                            ("stored_to_page_ms", "  stored -> on the page")):  # fmt: skip
            values = latency[name]
            print(f"  {label:40s} median {statistics.median(values):7.0f} ms   p95 {percentile(values, 0.95):7.0f} ms")
    feed = feed_route(args.items, args.requests)
    small, big = feed["1000"], feed[str(args.items)]
    print(f"GET /alerts?type=error&limit={PAGE} ({args.requests} requests per table, half of them by action):")
    for size, result in (("1,000", small), (f"{args.items:,}", big)):
        p50, p95 = percentile(result["ms"], 0.5), percentile(result["ms"], 0.95)
        print(f"  {size:>8s} items: p50 {p50:6.1f} ms   p95 {p95:6.1f} ms"
              f"   items read per request: min {min(result['scanned'])}, max {max(result['scanned'])}"
              f"   (a Scan for the same page reads {result['scan_read']:,} in {result['scan_ms']:.0f} ms)")  # fmt: skip
    ratio = percentile(big["ms"], 0.5) / percentile(small["ms"], 0.5)
    print(f"  p50 ratio {args.items:,} / 1,000 items: {ratio:.2f}x (moto; DynamoDB reads {PAGE} items either way)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
