"""Progress on long work: drawn on a terminal, absent when output goes to a file or a pipe (issue 13, item 11)."""

from __future__ import annotations

import io
import sys
import time

import pytest

from tests.support.lambda_events import ingest_environment
from tests.support.terminal import Terminal
from tools import produce
from tools.progress import bar, shows_progress, ticking


def test_a_bar_is_drawn_on_a_terminal_and_not_elsewhere() -> None:
    terminal, piped = Terminal(), io.StringIO()
    for stream in (terminal, piped):
        with bar(total=3, desc="sampling days", unit="day", stream=stream) as progress:
            for _ in range(3):
                progress.update()
    assert shows_progress(terminal) and not shows_progress(piped)
    assert "sampling days:" in terminal.getvalue() and "0/3 [" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r")  # the line is cleared when the work is done
    assert piped.getvalue() == ""


def test_a_ticking_clock_moves_while_the_caller_blocks_only_on_a_terminal() -> None:
    terminal, piped = Terminal(), io.StringIO()
    for stream in (terminal, piped):
        with ticking("job, run 1/2", stream=stream, interval_s=0.05) as progress:
            time.sleep(0.3)
            progress.update(7)
    drawn = terminal.getvalue()
    assert drawn.count("job, run 1/2") >= 3  # refreshed by the clock, not only at the start and end
    assert "7record" in drawn.replace(" ", "")
    assert piped.getvalue() == ""


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "piped"])
def test_a_paced_produce_run_shows_how_far_it_got_only_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], terminal: bool
) -> None:
    """Issue 13: a rate-limited produce was silent for minutes."""
    ingest_environment(monkeypatch, stream_name="uba-progress-test")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    err = Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert produce.main(["--local", "--count", "60", "--rate", "300", "--seed", "1"]) == 0
    assert "accepted 60" in capsys.readouterr().out
    if terminal:
        assert "sending:" in err.getvalue() and "/60 [" in err.getvalue()
    else:
        assert err.getvalue() == ""
