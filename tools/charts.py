"""Charts of query results, as inline SVG for a self-contained HTML page or as PNG files.

    chart = Chart("Daily active users", "line", [Series("users", days, counts)], y_label="users")
    svg = render_svg(chart)                      # an <svg> element, no XML prolog, no external reference
    render_png(chart, Path("dau.png"))
    page = html_page("Sample report", [Section("Active users", [chart], table=Table(columns, rows))])

matplotlib draws every chart (Agg canvas, no pyplot state, so rendering is safe in any process and
repeatable): text is drawn as glyph outlines, so the SVG needs no font on the reader's machine,
and the page carries its own styles. Nothing in a page is fetched from anywhere: no script, no
stylesheet link, no image URL. Output is deterministic for the same input (fixed SVG ids, no date).
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")  # before any figure: never a display, whatever the environment says

from matplotlib import dates as mdates
from matplotlib import ticker
from matplotlib.figure import Figure

ChartKind = Literal["line", "bar", "barh", "heatmap"]
PALETTE = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#718096")
# Typed loosely: matplotlib types rcParams keys as one long Literal.
_RC: Any = {
    "svg.fonttype": "path",  # glyphs as outlines: the page renders the same without our fonts
    "svg.hashsalt": "uba-charts",  # stable element ids, so the same data gives the same bytes
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)  # RDF about the file, not the chart


@dataclass(frozen=True)
class Series:
    """One line or set of bars: `x` labels (dates, days, names) and their values."""

    name: str
    x: Sequence[str | date]
    y: Sequence[float | int | None]

    def __post_init__(self) -> None:
        if len(self.x) != len(self.y):
            raise ValueError(f"series {self.name!r}: {len(self.x)} x values but {len(self.y)} y values")


@dataclass(frozen=True)
class Chart:
    title: str
    kind: ChartKind
    series: Sequence[Series]
    x_label: str = ""
    y_label: str = ""
    percent: bool = False  # y values are ratios (0..1), shown as percentages
    size: tuple[float, float] = (7.5, 2.8)  # inches

    def __post_init__(self) -> None:
        if not self.series:
            raise ValueError(f"chart {self.title!r} has no series")


@dataclass(frozen=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]


@dataclass(frozen=True)
class Section:
    title: str
    charts: Sequence[Chart]
    note: str = ""
    table: Table | None = None


def _is_dates(values: Sequence[str | date]) -> bool:
    return all(isinstance(value, date) for value in values)


def _figure(chart: Chart) -> Figure:
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=chart.size, layout="constrained")
        axes = figure.subplots()
        _draw(axes, chart)
        if chart.kind == "heatmap":
            axes.grid(False)
        elif chart.kind != "line":  # grid lines across the bars' length only
            axes.grid(False)
            axes.grid(True, axis="y" if chart.kind == "bar" else "x")
        axes.set_title(chart.title, loc="left", fontsize=10, fontweight="bold")
        axes.set_xlabel(chart.x_label)
        axes.set_ylabel(chart.y_label)
        if chart.percent and chart.kind != "heatmap":
            target = axes.xaxis if chart.kind == "barh" else axes.yaxis
            target.set_major_formatter(ticker.PercentFormatter(xmax=1.0, decimals=0))
        if len(chart.series) > 1 and chart.kind != "heatmap":
            axes.legend(frameon=False, loc="best")
    return figure


def _cell_value(value: float | int | None) -> float:
    return float("nan") if value is None else float(value)


def _draw_heatmap(axes: Any, chart: Chart) -> None:
    """One column per series (its name labels it), one row per x value; each cell shows its value."""
    rows = [str(value) for value in chart.series[0].x]
    for series in chart.series:
        if [str(value) for value in series.x] != rows:
            raise ValueError(f"chart {chart.title!r}: heat map series must share their x values")
    cells = [[_cell_value(s.y[row]) for s in chart.series] for row in range(len(rows))]
    image = axes.imshow(cells, aspect="auto", cmap="Blues", vmin=0, interpolation="nearest")
    axes.set_xticks(range(len(chart.series)), [series.name for series in chart.series])
    axes.set_yticks(range(len(rows)), rows)
    known = [value for row in cells for value in row if value == value]
    middle = (max(known) / 2) if known else 0
    for row_index, row in enumerate(cells):
        for column_index, value in enumerate(row):
            if value == value:  # not NaN: a cell with a value
                text = f"{value:.0%}" if chart.percent else f"{value:g}"
                color = "white" if value > middle else "#1a202c"
                axes.text(column_index, row_index, text, ha="center", va="center", fontsize=7, color=color)
    formatter = ticker.PercentFormatter(xmax=1.0, decimals=0) if chart.percent else None
    axes.figure.colorbar(image, ax=axes, format=formatter, shrink=0.8)


def _draw(axes: Any, chart: Chart) -> None:
    if chart.kind == "heatmap":
        _draw_heatmap(axes, chart)
        return
    if chart.kind == "line":
        for index, series in enumerate(chart.series):
            x = list(series.x) if _is_dates(series.x) else [str(value) for value in series.x]
            y = [float("nan") if value is None else value for value in series.y]
            axes.plot(x, y, label=series.name, color=PALETTE[index % len(PALETTE)], linewidth=1.6)
        if _is_dates(chart.series[0].x):
            locator = mdates.AutoDateLocator(maxticks=10)
            axes.xaxis.set_major_locator(locator)
            axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        return
    labels = [str(value) for value in chart.series[0].x]
    positions = list(range(len(labels)))
    width = 0.8 / len(chart.series)
    for index, series in enumerate(chart.series):
        if [str(value) for value in series.x] != labels:
            raise ValueError(f"chart {chart.title!r}: bar series must share their x values")
        values = [0 if value is None else value for value in series.y]
        offsets = [p - 0.4 + width * (index + 0.5) for p in positions]
        color = PALETTE[index % len(PALETTE)]
        if chart.kind == "bar":
            axes.bar(offsets, values, width=width, label=series.name, color=color)
        else:
            axes.barh(offsets, values, height=width, label=series.name, color=color)
    if chart.kind == "bar":
        crowded = len(labels) > 8
        axes.set_xticks(positions, labels, rotation=45 if crowded else 0, ha="right" if crowded else "center")
    else:
        axes.set_yticks(positions, labels)
        axes.invert_yaxis()  # first label on top, as a ranking reads


def render_svg(chart: Chart) -> str:
    """The chart as an `<svg>` element to put inline in HTML (no XML prolog or DOCTYPE)."""
    buffer = io.StringIO()
    with matplotlib.rc_context(_RC):
        _figure(chart).savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _METADATA.sub("", _PROLOG.sub("", buffer.getvalue(), count=1), count=1)


def render_png(chart: Chart, path: Path, dpi: int = 150) -> Path:
    """The chart as a PNG file at `path` (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(_RC):
        _figure(chart).savefig(path, format="png", dpi=dpi, metadata={"Software": None})
    return path


_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1a202c; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #4a5568; margin-top: 0; } .note { color: #4a5568; }
svg { max-width: 100%; height: auto; display: block; }
table { border-collapse: collapse; font-size: 12px; margin: .5rem 0; }
th, td { border-bottom: 1px solid #e2e8f0; padding: .15rem .6rem; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
details { margin: .3rem 0 1rem; } summary { cursor: pointer; color: #2b6cb0; }
"""


def _cell(value: Any) -> str:
    css = ' class="number"' if isinstance(value, int | float) and not isinstance(value, bool) else ""
    return f"<td{css}>{html.escape('NULL' if value is None else str(value))}</td>"


def html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in table.columns)
    body = "".join("<tr>" + "".join(_cell(value) for value in row) + "</tr>" for row in table.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_page(title: str, sections: Sequence[Section], subtitle: str = "") -> str:
    """One self-contained HTML document: inline styles and SVG, each section's rows in a folded table."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if subtitle:
        parts.append(f'<p class="meta">{html.escape(subtitle)}</p>')
    for section in sections:
        parts.append(f"<section><h2>{html.escape(section.title)}</h2>")
        if section.note:
            parts.append(f'<p class="note">{html.escape(section.note)}</p>')
        parts += [f"<figure>{render_svg(chart)}</figure>" for chart in section.charts]
        if section.table is not None:
            rows = len(section.table.rows)
            parts.append(
                f"<details><summary>the {rows} row{'' if rows == 1 else 's'} behind the chart</summary>"
                f"{html_table(section.table)}</details>"
            )
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


@dataclass
class Report:
    """Sections gathered one by one, written as one page (and, on request, each chart as a PNG)."""

    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)

    def add(self, section: Section) -> None:
        self.sections.append(section)

    def charts(self) -> list[Chart]:
        return [chart for section in self.sections for chart in section.charts]

    def write_html(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html_page(self.title, self.sections, self.subtitle), encoding="utf-8")
        return path

    def write_pngs(self, directory: Path) -> list[Path]:
        return [render_png(chart, directory / f"{slug(chart.title)}.png") for chart in self.charts()]


def slug(text: str) -> str:
    """A file name from a title: `Daily active users` -> `daily-active-users`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chart"
