"""Charts from the same query results, as one self-contained page and as PNGs (issue 13, item 12)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tools import report
from tools.charts import Chart, Series, html_page, render_png, render_svg
from tools.local.sample import generate, write_sample
from tools.query import run_query

FIRST, LAST = date(2026, 2, 2), date(2026, 3, 1)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    write_sample(out, generate(FIRST, LAST, seed=5, users=120, now=datetime(2026, 12, 6, tzinfo=UTC)))
    return out / "lake"


@pytest.fixture(scope="module")
def page(lake: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("report")
    args = ["--lake", str(lake), "--from", str(FIRST), "--to", str(LAST), "--out", str(out / "report.html")]
    assert report.main([*args, "--png", str(out / "png")]) == 0
    return out / "report.html", out / "png"


def test_the_page_holds_a_chart_for_each_analysis_and_fetches_nothing(page: tuple[Path, Path]) -> None:
    text = page[0].read_text()
    assert text.count("<svg") == 7
    for title in ("Active users", "Conversion viewDoc -&gt; buy", "Errors", "Most viewed objects", "Retention"):
        assert f"<h2>{title}</h2>" in text
    # Self-contained: no script, stylesheet, image or frame from anywhere; URLs only as XML namespace names.
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", text)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", text)
    # The only URLs are the SVG and XLink namespace names, which a browser never fetches.
    urls = re.findall(r"https?://[^\s\"'<>)]+", text)
    assert set(urls) == {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert len(re.findall(r'xmlns(?::xlink)?="http://www\.w3\.org/(?:2000/svg|1999/xlink)"', text)) == len(urls)


def test_each_chart_comes_with_the_rows_of_the_same_query(page: tuple[Path, Path], lake: Path) -> None:
    text = page[0].read_text()
    dau = run_query("dau", lake, {"from_date": str(FIRST), "to_date": str(LAST)})
    first_day, users = dau.rows[0]
    assert f"the {len(dau.rows)} rows behind the chart" in text
    assert f'<tr><td>{first_day}</td><td class="number">{users}</td></tr>' in text


def test_every_chart_is_also_a_png(page: tuple[Path, Path]) -> None:
    pngs = sorted(page[1].glob("*.png"))
    assert [p.name for p in pngs][:2] == ["daily-active-users.png", "monthly-active-users.png"]
    assert len(pngs) == 7
    assert all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and p.stat().st_size > 5000 for p in pngs)


def test_a_range_the_lake_does_not_cover_is_named(
    lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--lake", str(lake), "--from", "2026-03-01", "--to", "2026-03-10", "--out", str(tmp_path / "r.html")]
    assert report.main(args) == 0
    err = capsys.readouterr().err
    assert f"note: the lake at {lake} holds events from {FIRST} to {LAST}; nothing on 2026-03-02 to 2026-03-10" in err


def test_charts_render_the_same_bytes_for_the_same_data() -> None:
    chart = Chart("Daily active users", "line", [Series("users", [date(2026, 1, d) for d in (1, 2, 3)], [3, 5, 4])])
    first = render_svg(chart)
    assert first.startswith("<svg") and "<?xml" not in first and "DOCTYPE" not in first
    assert render_svg(chart) == first
    assert html_page("t", []) == html_page("t", [])


def test_bar_charts_with_percentages_and_missing_values(tmp_path: Path) -> None:
    chart = Chart("Retention", "bar", [Series("kept", ["day 1", "day 7"], [0.25, None])], percent=True)
    assert "<text" not in render_svg(chart)  # glyphs drawn as outlines: no font needed where it is read
    assert render_png(chart, tmp_path / "r.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Series("s", ["a", "b"], [1]), "series 's': 2 x values but 1 y values"),
        (lambda: Chart("empty", "line", []), "chart 'empty' has no series"),
        (
            lambda: render_svg(Chart("c", "bar", [Series("a", ["x"], [1]), Series("b", ["y"], [2])])),
            "bar series must share their x values",
        ),
    ],
)
def test_malformed_charts_are_refused_with_the_reason(build, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


def test_bad_report_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--lake", str(tmp_path), "--from", "2026-01-01", "--to", "2026-01-31", "--out", str(tmp_path / "r.html")]
    assert report.main(args) == 2
    assert "no lake at" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        report.main(["--lake", str(tmp_path), "--from", "2026-02-01", "--to", "2026-01-01"])
    assert "--to 2026-01-01 is before --from 2026-02-01" in capsys.readouterr().err
