"""The local runner's input handling: scenario files and directories, flags, bad input.

These parts run before PyFlink is imported, so they are tested here in the main venv;
the runs themselves are in test_flink_sql.py.
"""

from __future__ import annotations

import io
import json

import pytest

from streaming.run_local import load_scenarios, main


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
