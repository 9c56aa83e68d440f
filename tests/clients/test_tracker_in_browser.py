"""The web tracker in a real headless Chromium, against the edge and the ingest handler served locally.

The page comes from one origin (a static site), the edge from another (`tools.local.edge`): the
page's `POST /events` is a real cross-origin request, preflighted and answered by the real
viewer-request function, then handled by the real ingest handler on moto Kinesis; its beacons
are answered by the same function, logged as CloudFront logs them, and turned into events by
the edge-log processing. Each test opens its own browser context (fresh storage).
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import StaticSite
from tests.support.web_build import web_build_lock
from tools.local.edge import EDGE_LOCATION, LocalEdge, local_edge

WEB = Path(__file__).resolve().parents[2] / "clients" / "web"
PAGE = Path(__file__).with_name("pages") / "tracker.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticSite]:
    with StaticSite(tmp_path_factory.mktemp("site")) as served:
        with web_build_lock():
            subprocess.run(["node", "scripts/build.mjs", "--bundles"], cwd=WEB, check=True, capture_output=True)
            served.add(WEB / "dist" / "uba-tracker.min.js")
        served.add(PAGE)
        yield served


@pytest.fixture(scope="module")
def edge(site: StaticSite) -> Iterator[LocalEdge]:
    with local_edge([site.origin]) as running:
        yield running


@pytest.fixture
def page(browser: Any, site: StaticSite, edge: LocalEdge) -> Iterator[Callable[..., Any]]:
    context = browser.new_context()

    def open_page(**query: object) -> Any:
        opened = context.pages[0] if context.pages else context.new_page()
        parameters = "&".join(f"{k}={v}" for k, v in {"edge": edge.url, **query}.items())
        opened.goto(f"{site.origin}/tracker.html?{parameters}")
        opened.wait_for_function("window.uba !== undefined")
        return opened

    yield open_page
    context.close()


def track(page: Any, count: int, label: str) -> list[str]:
    ids: list[str] = page.evaluate(
        """([count, label]) => Array.from({length: count}, (_, i) =>
             uba.track(i % 2 ? "buy" : "viewDoc", {objectId: `${label}-${i}`, bizId: "biz-web"}))""",
        [count, label],
    )
    assert all(ids) and len(set(ids)) == count
    return ids


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def stored_once(edge: LocalEdge, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The stored records of these events, each asserted to be on the stream exactly once."""
    counts = Counter(record["eventId"] for record in edge.stored_events())
    assert {event_id: counts[event_id] for event_id in ids} == dict.fromkeys(ids, 1)
    return {record["eventId"]: record for record in edge.stored_events() if record["eventId"] in ids}


def arrived(edge: LocalEdge, ids: list[str]) -> Callable[[], bool]:
    return lambda: set(ids) <= {record["eventId"] for record in edge.stored_events()}


def test_events_a_page_sends_arrive_once_each_through_a_preflighted_cross_origin_post(page, edge) -> None:
    opened = page()
    ids = track(opened, 12, "sent")

    wait_for(arrived(edge, ids), "12 events on the stream")
    time.sleep(0.3)  # a duplicate would show up by now

    stored = stored_once(edge, ids)
    assert {record["userId"] for record in stored.values()} == {"browser-user"}
    assert {record["bizId"] for record in stored.values()} == {"biz-web"}
    assert all(record["edgeLocation"] is None for record in stored.values())  # through the API, not a beacon
    assert all("HeadlessChrome" in record["userAgent"] for record in stored.values())
    assert ("OPTIONS", "/events", 204) in edge.requests  # the preflight, answered at the edge
    assert opened.evaluate("window.rejected") == []


def test_events_waiting_at_page_hide_leave_as_beacons_and_arrive_once_each(page, edge) -> None:
    opened = page(interval=600000, batch=100)
    ids = track(opened, 7, "hidden")
    beacons_before = edge.requests.count(("POST", "/collect", 204))

    opened.goto("about:blank")  # pagehide: the tracker beacons what is waiting
    wait_for(lambda: edge.requests.count(("POST", "/collect", 204)) > beacons_before, "a beacon at the edge")
    summary = edge.deliver_edge_logs()

    stored = stored_once(edge, ids)
    assert summary.failed_records == [] and edge.dead_letters() == []
    assert {record["edgeLocation"] for record in stored.values()} == {EDGE_LOCATION}
    assert {record["sourceIp"] for record in stored.values()} == {"127.0.0.1"}
    assert all(record["edgeRequestId"] for record in stored.values())


def test_a_503_then_recovery_loses_nothing_and_duplicates_nothing(page, edge) -> None:
    opened = page(batch=4, interval=50)
    edge.throttle_events(2)  # the stream refuses the next two writes whole: the API answers 503

    ids = track(opened, 4, "throttled")
    wait_for(arrived(edge, ids), "4 events on the stream after two 503s", timeout=20)
    time.sleep(0.3)

    stored_once(edge, ids)
    assert edge.requests.count(("POST", "/events", 503)) >= 2


def test_the_queue_survives_a_reload_while_the_api_is_down(page, edge) -> None:
    opened = page(beacon=0, batch=5, interval=50)
    edge.throttle_events(10_000)
    ids = track(opened, 3, "reloaded")
    wait_for(lambda: ("POST", "/events", 503) in edge.requests, "a 503")

    opened.reload()  # pagehide: nothing beaconed (no beacon URL), the queue is released for the next page
    opened.wait_for_function("window.uba !== undefined")
    assert set(opened.evaluate("uba.pending().map(e => e.eventId)")) == set(ids)
    # The old page's last request (in flight at unload, or its keepalive flush at pagehide) may still be
    # on its way: an answer nobody reads, so its events are rightly sent again. Recover only once the new
    # page's own request has been refused and nothing else is being handled, or that old request could be
    # the one the stream takes, and the events would be stored twice for a reason outside the tracker.
    mark = edge.arrived
    wait_for(lambda: edge.settled_after(mark, "POST", "/events", 503), "the new page's first refused send")
    edge.throttle_events(0)

    wait_for(arrived(edge, ids), "the reloaded page's events on the stream", timeout=20)
    time.sleep(0.3)
    stored_once(edge, ids)
