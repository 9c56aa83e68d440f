"""The dashboard page in a real browser, against the local live stack fed by the real pipeline.

Debian's Chromium (headless, driven by Playwright) opens the page `python -m tools.live` serves;
events go to the ingest handler over HTTP like a client's, through Flink SQL on the local
mini-cluster, the alert sink, the realtime table's stream and the pusher, to the page's
WebSocket. Windows are 3 s here (watermark 1 s) and steady traffic closes them.

Stated times (local, on the shared CI machine): an error event accepted by ingest shows in the
feed within FEED_SECONDS; a warning burst shows in the chart within BURST_SECONDS of its last
warning (its window must close first). The page's screenshot is kept in build/test-artifacts/.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import ConsoleProblems, keep_screenshot
from tools.local.live import LiveOptions, LiveStack

pytestmark = pytest.mark.flink

FEED_SECONDS = 15
BURST_SECONDS = 20
THRESHOLD = 5


@pytest.fixture(scope="module")
def stack() -> Iterator[LiveStack]:
    options = LiveOptions(window_seconds=3, watermark_seconds=1, warn_threshold=THRESHOLD, traffic_per_second=2)
    with LiveStack(options) as running:
        yield running


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def test_an_error_and_a_warning_burst_reach_the_open_page_within_the_stated_times(stack: LiveStack, page: Any) -> None:
    problems = ConsoleProblems(page)
    page.goto(stack.page_url)
    page.wait_for_selector("#status[data-state=live]", timeout=30_000)
    assert "#token=" not in page.url, "the page drops the token from its address once it has it"

    error = stack.event("checkout", "[ERROR] payment declined by the bank")
    accepted = stack.send_events([error])
    assert accepted["accepted"] == 1
    sent = time.monotonic()
    page.wait_for_selector(f'#feed li[data-event-id="{error["eventId"]}"]', timeout=FEED_SECONDS * 1000)
    feed_seconds = time.monotonic() - sent
    shown = page.inner_text(f'#feed li[data-event-id="{error["eventId"]}"]')
    assert "Error on checkout" in shown and "payment declined by the bank" in shown

    warnings = [stack.event("search", f"WARNING slow search #{n}", user=f"u{n}") for n in range(THRESHOLD + 1)]
    assert stack.send_events(warnings)["accepted"] == THRESHOLD + 1
    sent = time.monotonic()
    page.wait_for_selector('.chart .row[data-action="search"] rect.burst', timeout=BURST_SECONDS * 1000)
    burst_seconds = time.monotonic() - sent
    assert page.is_visible('.chart .row.burst[data-action="search"]')
    page.wait_for_selector('#feed li.warn_burst[data-action="search"]', timeout=5_000)

    # The filters: warning bursts only, then one action.
    page.select_option("#filter-type", "warn_burst")
    assert page.locator(f'#feed li[data-event-id="{error["eventId"]}"]').count() == 0
    assert page.locator('#feed li.warn_burst[data-action="search"]').count() >= 1
    page.select_option("#filter-type", "all")
    page.fill("#filter-action", "check")
    assert page.locator('#feed li[data-action="search"]').count() == 0
    assert page.locator(f'#feed li[data-event-id="{error["eventId"]}"]').count() == 1
    page.fill("#filter-action", "")

    keep_screenshot(page, "live-dashboard.png")
    assert problems.messages == []
    print(f"error in the feed after {feed_seconds:.1f} s, burst in the chart after {burst_seconds:.1f} s")


def test_the_page_is_readable_on_a_phone(stack: LiveStack, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    problems = ConsoleProblems(phone)
    try:
        phone.goto(stack.page_url)
        phone.wait_for_selector("#status[data-state=live]", timeout=30_000)
        phone.wait_for_selector(".chart .row", timeout=20_000)
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than a phone's screen"
        keep_screenshot(phone, "live-dashboard-phone.png")
        assert problems.messages == []
    finally:
        context.close()


def test_without_the_local_token_the_page_asks_to_sign_in_and_the_api_and_push_refuse(
    stack: LiveStack, page: Any
) -> None:
    problems = ConsoleProblems(page)
    page.goto(stack.base_url + "/")
    page.wait_for_selector("#sign-in:not([hidden])", timeout=10_000)
    assert "tools.live" in page.inner_text("#sign-in-message")
    assert page.get_attribute("#status", "data-state") == "offline"
    assert problems.messages == []
    for header in ({}, {"Authorization": "Bearer not-the-token"}):
        request = urllib.request.Request(stack.base_url + "/api/alerts", headers=header)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401
    refused_socket = page.evaluate(
        """url => new Promise(resolve => {
            const socket = new WebSocket(url);
            socket.onopen = () => resolve("opened");
            socket.onerror = () => resolve("refused");
        })""",
        stack.push_url + "?token=not-the-token",
    )
    assert refused_socket == "refused"


def test_the_page_is_served_with_a_strict_content_security_policy(stack: LiveStack) -> None:
    with urllib.request.urlopen(stack.base_url + "/", timeout=10) as answer:
        headers = {name.lower(): value for name, value in answer.headers.items()}
        html = answer.read().decode()
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "unsafe" not in policy
    assert "frame-ancestors 'none'" in policy and headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in html and " style=" not in html and "http" not in html.replace("http-equiv", "")
    with urllib.request.urlopen(stack.base_url + "/config.json", timeout=10) as answer:
        config = json.loads(answer.read())
    assert config["mode"] == "local" and config["pushUrl"] == stack.push_url
