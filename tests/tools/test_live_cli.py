"""`python -m tools.live`: its options are checked before anything starts."""

from __future__ import annotations

import pytest

from tools.live import parse_args


def test_the_defaults_make_short_windows_and_steady_traffic() -> None:
    args = parse_args([])
    assert (args.window_seconds, args.watermark_seconds, args.threshold, args.traffic, args.port) == (10, 2, 10, 2.0, 0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--window-seconds", "0"], "--window-seconds must be at least 1"),
        (["--threshold", "0"], "--threshold must be at least 1"),
        (["--traffic", "-1"], "must not be negative"),
        (["--port", "70000"], "--port must be from 0 to 65535"),
    ],
)
def test_bad_options_stop_the_command_naming_them(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse_args(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err
