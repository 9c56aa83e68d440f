"""One build of clients/web at a time: the test command runs the suite in two worker processes
(pytest-xdist), and the tracker's own suite (`npm test`) and the browser tests both write `dist/`."""

from __future__ import annotations

import fcntl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = Path(tempfile.gettempdir()) / "uba-clients-web-build.lock"


@contextmanager
def web_build_lock() -> Iterator[None]:
    """Hold while building clients/web and copying what the build wrote."""
    with LOCK_FILE.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
