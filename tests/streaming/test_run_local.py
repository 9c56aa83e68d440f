"""The local runner's input handling: scenario files and directories, flags, bad input.

These parts run before PyFlink is imported, so they are tested here in the main venv;
the runs themselves are in test_flink_sql.py.
"""

from __future__ import annotations

import io
import json
import time

import pytest

from streaming import run_local
from streaming.run_local import check_events_file, load_scenarios, main
from tests.support.terminal import Terminal


def test_a_json_file_of_scenarios_becomes_one_events_file_each(tmp_path):
    source = tmp_path / "scenarios.json"
    source.write_text(
        json.dumps(
            {
                "first": {"events": [{"eventId": "e1"}, "not json, kept as it is"]},
                "second": {"events": [], "properties": {"warn.threshold": "3"}},
            }
        )
    )
    first, second = load_scenarios(source, tmp_path)
    assert (first.name, dict(first.properties)) == ("first", {})
    assert first.events_file.read_text() == '{"eventId": "e1"}\nnot json, kept as it is\n'
    assert (second.name, dict(second.properties)) == ("second", {"warn.threshold": "3"})
    assert second.events_file.read_text() == ""


def test_a_directory_of_jsonl_files_is_a_scenario_per_file(tmp_path):
    (tmp_path / "b_late.jsonl").write_text('{"eventId": "e2"}\n')
    (tmp_path / "b_late.properties.json").write_text('{"watermark.seconds": "30"}')
    (tmp_path / "a_errors.jsonl").write_text('{"eventId": "e1"}\n')
    scenarios = load_scenarios(tmp_path, tmp_path / "unused")
    assert [(s.name, dict(s.properties)) for s in scenarios] == [
        ("a_errors", {}),
        ("b_late", {"watermark.seconds": "30"}),
    ]
    assert scenarios[0].events_file == tmp_path / "a_errors.jsonl"  # read in place


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "must hold a non-empty JSON object of scenarios"),
        ('{"x": {"events": "e1"}}', "scenario 'x' in .* needs an 'events' list"),
        ('{"x": []}', "scenario 'x' in .* needs an 'events' list"),
    ],
)
def test_malformed_scenario_files_are_refused(tmp_path, content, message):
    source = tmp_path / "scenarios.json"
    source.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_scenarios(source, tmp_path)


def test_an_empty_scenario_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"holds no \*\.jsonl scenario files"):
        load_scenarios(tmp_path, tmp_path)


def run(argv, capsys):
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue(), capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--threshold", "0"], "uba.warn.threshold=0 is out of range"),
        (["--window-seconds", "0"], "uba.window.seconds=0 is out of range"),
        (["--watermark-seconds", "-5"], "uba.watermark.seconds=-5 is out of range"),
        (["--set", "warn.markers=WARNING"], "uba.warn.markers='WARNING' is not a JSON array of strings"),
        (["--set", "window"], "--set expects key=value, got 'window'"),
        (["--set", "windows.seconds=60"], "unknown key(s) in property group 'uba': windows.seconds"),
    ],
)
def test_bad_flags_exit_2_with_the_reason_before_any_job_runs(tmp_path, capsys, flags, message):
    events = tmp_path / "events.jsonl"
    events.write_text("{}\n")
    code, out, err = run(["--events", str(events), *flags], capsys)
    assert (code, out) == (2, "")
    assert message in err


def test_a_missing_events_file_exits_2(tmp_path, capsys):
    code, out, err = run(["--events", str(tmp_path / "nope.jsonl")], capsys)
    assert (code, out) == (2, "")
    assert "no events file at" in err


def test_a_bad_scenario_property_is_named_before_any_scenario_runs(tmp_path, capsys):
    source = tmp_path / "scenarios.json"
    source.write_text(
        json.dumps({"fine": {"events": []}, "broken": {"events": [], "properties": {"window.seconds": "x"}}})
    )
    code, out, err = run(["--scenarios", str(source)], capsys)
    assert (code, out) == (2, "")
    assert "scenario 'broken': uba.window.seconds='x' is not a whole number" in err


GOOD = json.dumps({"eventId": "e1", "createdAt": "2026-03-01T12:15:00Z", "receivedAt": "2026-03-01T12:15:01Z"})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "holds no events-stream record (one JSON object per line): the file is empty"),
        ("eventId,createdAt\ne1,2026-03-01\n", "line 1: not JSON (Expecting value: line 1 column 1 (char 0))"),
        ('[{"eventId": "e1"}]\n', "line 1: not a JSON object"),
        ("\n\n", "line 1: empty"),
    ],
)
def test_a_file_that_is_not_json_lines_exits_2_naming_the_line(tmp_path, capsys, content, message):
    """Issue 13: a file that was not JSON lines exited 0 with no output."""
    events = tmp_path / "events.csv"
    events.write_text(content)
    code, out, err = run(["--events", str(events)], capsys)
    assert (code, out) == (2, "")
    assert message in err


def test_lines_the_job_would_skip_or_keep_out_of_windows_are_named_by_line_number(tmp_path):
    events = tmp_path / "events.jsonl"
    lines = [
        GOOD,
        "oops",
        json.dumps({"eventId": "e2", "createdAt": "2026-03-01T20:15:00+08:00"}),
        "",
        json.dumps({"eventId": "e3"}),
        json.dumps({"eventId": "e4", "createdAt": "2026-03-01T12:15:00.123456789Z"}),
    ]
    events.write_text("\n".join(lines) + "\n")
    check = check_events_file(events)
    assert check.records == 4
    assert [problem.split(":")[0] for problem in check.problems] == ["line 2", "line 3", "line 4", "line 5"]
    assert "createdAt '2026-03-01T20:15:00+08:00' is not a stream timestamp" in check.problems[1]
    assert "createdAt None is not a stream timestamp" in check.problems[3]


def _fake_job(monkeypatch, alerts):
    def run_scenarios(scenarios):
        time.sleep(1.2)  # long enough for the counter to tick
        return {scenario.name: list(alerts) for scenario in scenarios}

    monkeypatch.setattr(run_local, "run_scenarios", run_scenarios)


ALERTS = [
    {"alertType": "error", "action": "buy"},
    {"alertType": "counts", "action": "buy"},
    {"alertType": "counts", "action": "view"},
]


def test_on_a_terminal_the_runner_shows_counts_while_the_job_runs_and_a_summary(tmp_path, monkeypatch):
    _fake_job(monkeypatch, ALERTS)
    events = tmp_path / "events.jsonl"
    events.write_text(GOOD + "\nnot json\n")
    out, err = io.StringIO(), Terminal()
    assert main(["--events", str(events)], out=out, err=err) == 0
    assert [json.loads(line)["alertType"] for line in out.getvalue().splitlines()] == ["error", "counts", "counts"]
    shown = err.getvalue()
    assert "\rrunning the job on 1 records (0 s)" in shown or "\rrunning the job on 1 records (1 s)" in shown
    assert f"warning: {events} line 2: not JSON" in shown
    assert shown.endswith("1 events-stream records in, 3 alert records out (1 error, 0 warn_burst, 2 counts)\n")


def test_off_a_terminal_there_is_no_progress_only_the_warnings_and_the_summary(tmp_path, monkeypatch):
    _fake_job(monkeypatch, ALERTS)
    events = tmp_path / "events.jsonl"
    events.write_text(GOOD + "\n")
    err = io.StringIO()
    assert main(["--events", str(events)], out=io.StringIO(), err=err) == 0
    assert err.getvalue() == "1 events-stream records in, 3 alert records out (1 error, 0 warn_burst, 2 counts)\n"
