"""Debian's Chromium, as the page tests, the local runners and the benchmarks launch it.

`make setup` installs the `chromium` package; Playwright drives this binary through
`executable_path` and never downloads a browser of its own.
"""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# Headless with a fresh profile, no sandbox (root in a container), a small /dev/shm is no limit,
# and nothing that reaches out on its own.
CHROMIUM_ARGS = [
    "--headless",
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
