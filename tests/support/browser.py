"""A real headless browser for page tests: Debian's Chromium driven by Playwright, once per session.

`browser` launches `/usr/bin/chromium` (`make setup` installs Debian's package; Playwright never
downloads a browser of its own) with a fresh profile, headless, without the sandbox (tests run as
root), GPU, background networking or component updates (`tools.local.chromium`, shared with the
local runners and benchmarks); each test opens its own context, so storage and cookies never leak
from one test into the next. `StaticSite` serves a folder on a loopback port the OS picks, as the
origin a page comes from. `ConsoleProblems` collects what a page complains about, and
`keep_screenshot` keeps a page's screenshot in `build/test-artifacts/`.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tools.local.chromium import CHROMIUM, CHROMIUM_ARGS

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "build" / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium for the page tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class StaticSite:
    """A folder served over HTTP on 127.0.0.1 (a port the OS picks): the origin of the test pages."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, source: Path, name: str | None = None) -> None:
        shutil.copyfile(source, self.root / (name or source.name))

    def __enter__(self) -> StaticSite:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


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
