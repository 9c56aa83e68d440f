"""The following runner's input handling (the runs themselves are the live page's test, tests/test_live_page.py).

These parts run before PyFlink is imported, so they are tested here in the main venv.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from streaming.follow_local import main
from streaming.properties import parse_settings
from streaming.statements import file_source_options, local_statements


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--input", "/no/such/dir"], "no directory at /no/such/dir"),
        (["--monitor-ms", "5"], "--monitor-ms must be at least 10"),
        (["--set", "window.seconds"], "--set expects key=value"),
        (["--window-seconds", "0"], "window.seconds"),
    ],
)
def test_bad_input_stops_before_the_jvm_starts(tmp_path: Path, argv: list[str], message: str, capsys) -> None:
    full = argv if "--input" in argv else ["--input", str(tmp_path), *argv]
    assert main(full, out=io.StringIO()) == 2
    assert message in capsys.readouterr().err


def test_a_watched_directory_is_an_unbounded_source_of_the_same_events_table(tmp_path: Path) -> None:
    options = file_source_options(tmp_path, monitor_interval_ms=200)
    assert options["source.monitor-interval"] == "200 ms" and options["path"] == str(tmp_path.resolve())
    assert "source.monitor-interval" not in file_source_options(tmp_path)
    bounded, following = (local_statements(parse_settings({}), tmp_path, monitor_interval_ms=m) for m in (None, 200))
    assert bounded[1:] == following[1:], "only the source's options differ: the queries are the job's own"
    assert "'source.monitor-interval' = '200 ms'" in following[0]
