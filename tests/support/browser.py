"""A real headless browser for page tests: Debian's Chromium, driven by Playwright.

`make setup` installs the `chromium` package; Playwright drives that binary through
`executable_path` (it never downloads a browser of its own). One browser per test session;
each test opens its own context (a fresh profile: no cookies, no storage). Screenshots a test
keeps go to `build/test-artifacts/`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.local.chromium import CHROMIUM_ARGS, ChromiumMissingError, chromium_path

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "build" / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    try:
        executable = chromium_path()
    except ChromiumMissingError as missing:
        pytest.fail(str(missing))
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


class ConsoleProblems:
    """Every console error or warning and every uncaught page error, as the page reports them."""

    def __init__(self, page: Any) -> None:
        self.messages: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.messages.append(f"console {message.type}: {message.text}")


def keep_screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path
