"""Debian's Chromium, as the page tests and benchmarks launch it (Playwright drives this binary).

`make setup` installs the `chromium` package; Playwright never downloads a browser of its own.
"""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# Headless, no sandbox (root in a container), and nothing that reaches out on its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


class ChromiumMissingError(RuntimeError):
    """Debian's chromium is not installed."""


def chromium_path() -> Path:
    if CHROMIUM.is_file():
        return CHROMIUM
    found = shutil.which("chromium")
    if found is None:
        raise ChromiumMissingError("Chromium is not installed: `make setup` installs Debian's chromium package")
    return Path(found)
