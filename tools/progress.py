"""Progress on long work: a bar (or a running count) on a terminal, nothing when output is piped or logged.

Every command that can take more than a few seconds reports through here, so they all behave
the same way: progress goes to stderr, and only when stderr is a terminal, so a redirected run,
CI and the tests see exactly the output they saw before. tqdm draws the bars.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def shows_progress(stream: IO[str] | None = None) -> bool:
    """Whether progress is drawn on `stream` (default stderr): only on an interactive terminal."""
    target = sys.stderr if stream is None else stream
    isatty = getattr(target, "isatty", None)
    return bool(isatty and isatty())


def bar(
    iterable: Iterable[T] | None = None,
    *,
    total: float | None = None,
    desc: str,
    unit: str = "it",
    stream: IO[str] | None = None,
) -> tqdm[Any]:
    """A tqdm bar on `stream` (default stderr), disabled unless that is a terminal.

    Use it as an iterable wrapper or with `update(n)`; a disabled bar costs next to nothing.
    """
    target = sys.stderr if stream is None else stream
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=target,
        disable=not shows_progress(target),
        leave=False,
        dynamic_ncols=True,
        mininterval=0.2,
    )


@contextmanager
def ticking(desc: str, *, stream: IO[str] | None = None, interval_s: float = 0.5) -> Iterator[tqdm[Any]]:
    """A running clock for work that reports no steps of its own (a subprocess, a JVM start).

    The bar is refreshed every `interval_s` from a background thread, so the elapsed time moves
    even while the caller blocks; callers may still `update()` it with counts they learn.
    """
    ticker: tqdm[Any]
    with bar(desc=desc, unit="record", stream=stream) as ticker:
        if ticker.disable:
            yield ticker
            return
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(interval_s):
                ticker.refresh()

        thread = threading.Thread(target=tick, name="progress-ticker", daemon=True)
        thread.start()
        try:
            yield ticker
        finally:
            stop.set()
            thread.join()
