"""Charts as inline SVG strings, so the report is one self-contained file.

No JavaScript and no chart library: the report must open offline, in any browser, in a mail
attachment or on a file share, and render identically in headless Chromium for the test. Each
function takes plain lists and returns an `<svg>` element sized for one report panel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 760
HEIGHT = 280
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 70, 20, 16, 46
AXIS = "#9aa3ad"
INK = "#26323d"
GRID = "#e7ebef"

Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    """One named line or bar series; `values` align with the chart's categories."""

    name: str
    color: str
    values: Sequence[float | None]


def money(value: float) -> str:
    """$1.2M / $395k / $840: short enough for an axis label."""
    size = abs(value)
    if size >= 1_000_000:
        return f"${value / 1_000_000:.1f}M"
    if size >= 10_000:
        return f"${value / 1_000:.0f}k"
    if size >= 1_000:
        return f"${value / 1_000:.1f}k"
    return f"${value:.0f}"


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2 or 5 times a power of ten apart)."""
    if high <= low:
        high = low + 1
    raw_step = (high - low) / count
    power = 10 ** math.floor(math.log10(raw_step))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw_step)
    start = math.floor(low / step) * step
    ticks = []
    tick = start
    while tick < high + step * 0.999:
        ticks.append(round(tick, 10))
        tick += step
    return ticks


class _Frame:
    """Plot area geometry and the y scale shared by every chart with a value axis."""

    def __init__(self, categories: Sequence[str], low: float, high: float,
                 height: int = HEIGHT) -> None:
        self.categories = list(categories)
        self.height = height
        self.ticks = nice_ticks(low, high)
        self.low, self.high = self.ticks[0], self.ticks[-1]
        self.plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
        self.plot_height = height - MARGIN_TOP - MARGIN_BOTTOM
        self.slot = self.plot_width / max(len(self.categories), 1)

    def y(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return MARGIN_TOP + self.plot_height * (1 - share)

    def x_center(self, index: int) -> float:
        return MARGIN_LEFT + self.slot * (index + 0.5)

    def axes(self, formatter: Formatter) -> list[str]:
        parts = []
        for tick in self.ticks:
            y = self.y(tick)
            parts.append(f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y:.1f}" '
                         f'y2="{y:.1f}" stroke="{GRID}"/>')
            parts.append(f'<text x="{MARGIN_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" '
                         f'class="tick">{escape(formatter(tick))}</text>')
        every = max(1, math.ceil(len(self.categories) / 12))
        for index, label in enumerate(self.categories):
            if index % every == 0:
                parts.append(f'<text x="{self.x_center(index):.1f}" '
                             f'y="{self.height - MARGIN_BOTTOM + 16}" text-anchor="middle" '
                             f'class="tick">{escape(label)}</text>')
        return parts


def _svg(body: Sequence[str], title: str, height: int = HEIGHT,
         legend: Sequence[tuple[str, str]] = ()) -> str:
    items = []
    x = MARGIN_LEFT
    for name, color in legend:
        items.append(f'<rect x="{x}" y="{height - 16}" width="10" height="10" fill="{color}"/>'
                     f'<text x="{x + 14}" y="{height - 7}" class="legend">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
            f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>{"".join(body)}{"".join(items)}</svg>')


def waterfall_by_month(months: Sequence[str], starts: Sequence[float],
                       gains: Sequence[Series], losses: Sequence[Series],
                       ends: Sequence[float], title: str) -> str:
    """Per month, a bridge from starting to ending MRR: gains stacked up, losses down.

    The value axis starts near the lowest MRR shown, not at zero, so month-to-month
    movements (a few percent of MRR) stay visible; the axis labels say where it starts.
    """
    tops = [start + sum(s.values[i] or 0 for s in gains) for i, start in enumerate(starts)]
    low = min([*starts, *ends]) * 0.97 if starts else 0
    frame = _Frame(months, low, max([*tops, 1.0]) * 1.01)
    body = frame.axes(money)
    width = frame.slot * 0.75
    for index in range(len(months)):
        left = frame.x_center(index) - width / 2
        level = starts[index]
        body.append(_bar(left, width / 3, frame.y(frame.low), frame.y(level), "#c5ccd3",
                         f"{months[index]} start {money(level)}"))
        # Three columns per month: start, what came in (rising), what went out (falling).
        for series in gains:
            level = _segment(body, frame, left + width / 3, width / 3, level,
                             series.values[index] or 0, series, months[index])
        for series in losses:
            level = _segment(body, frame, left + width * 2 / 3, width / 3, level,
                             -(series.values[index] or 0), series, months[index])
        y_end = frame.y(ends[index])
        body.append(f'<line x1="{left:.1f}" x2="{left + width:.1f}" y1="{y_end:.1f}" '
                    f'y2="{y_end:.1f}" stroke="{INK}" stroke-width="2"><title>'
                    f'{escape(months[index])} end {money(ends[index])}</title></line>')
    legend = [("start", "#c5ccd3"), *((s.name, s.color) for s in (*gains, *losses)),
              ("end (line)", INK)]
    return _svg(body, title, legend=legend)


def _segment(body: list[str], frame: _Frame, left: float, width: float, level: float,
             change: float, series: Series, month: str) -> float:
    if change:
        body.append(_bar(left, width, frame.y(level), frame.y(level + change), series.color,
                         f"{month} {series.name} {money(abs(change))}"))
    return level + change


def _bar(left: float, width: float, y_a: float, y_b: float, color: str, tip: str) -> str:
    top, bottom = min(y_a, y_b), max(y_a, y_b)
    return (f'<rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" '
            f'height="{max(bottom - top, 0.5):.1f}" fill="{color}"><title>{escape(tip)}</title>'
            f'</rect>')


def line_chart(categories: Sequence[str], series: Sequence[Series], title: str,
               formatter: Formatter = percent, reference: float | None = None) -> str:
    """Lines over the categories; gaps where a value is missing; optional reference line."""
    values = [v for s in series for v in s.values if v is not None]
    if reference is not None:
        values.append(reference)
    frame = _Frame(categories, min(values, default=0), max(values, default=1))
    body = frame.axes(formatter)
    if reference is not None:
        y = frame.y(reference)
        body.append(f'<line x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{y:.1f}" '
                    f'y2="{y:.1f}" stroke="{AXIS}" stroke-dasharray="4 4"/>')
    for line in series:
        runs: list[list[str]] = [[]]
        for index, value in enumerate(line.values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{frame.x_center(index):.1f},{frame.y(value):.1f}")
            body.append(f'<circle cx="{frame.x_center(index):.1f}" cy="{frame.y(value):.1f}" '
                        f'r="2.5" fill="{line.color}"><title>{escape(categories[index])} '
                        f'{escape(line.name)} {escape(formatter(value))}</title></circle>')
        body.extend(f'<polyline points="{" ".join(run)}" fill="none" stroke="{line.color}" '
                    f'stroke-width="2"/>' for run in runs if len(run) > 1)
    return _svg(body, title, legend=[(s.name, s.color) for s in series])


def bar_chart(categories: Sequence[str], series: Sequence[Series], title: str,
              formatter: Formatter = money) -> str:
    """Grouped vertical bars from zero, one group per category."""
    values = [v or 0 for s in series for v in s.values]
    frame = _Frame(categories, min([0.0, *values]), max([*values, 0.0]) or 1.0)
    body = frame.axes(formatter)
    width = frame.slot * 0.7 / max(len(series), 1)
    for index, category in enumerate(categories):
        left = frame.x_center(index) - width * len(series) / 2
        for offset, bars in enumerate(series):
            value = bars.values[index] or 0
            body.append(_bar(left + offset * width, width * 0.92, frame.y(0), frame.y(value),
                             bars.color, f"{category} {bars.name} {formatter(value)}"))
    return _svg(body, title, legend=[(s.name, s.color) for s in series])


def stacked_hbars(categories: Sequence[str], series: Sequence[Series], title: str) -> str:
    """One horizontal 100 % bar per category, split by the series' shares, counts labelled."""
    row = 34
    height = MARGIN_TOP + row * len(categories) + 40
    plot = WIDTH - 140 - MARGIN_RIGHT
    body = []
    for index, category in enumerate(categories):
        y = MARGIN_TOP + index * row
        total = sum(s.values[index] or 0 for s in series) or 1
        body.append(f'<text x="130" y="{y + 18}" text-anchor="end" class="tick">'
                    f'{escape(category)}</text>')
        left = 140.0
        for part in series:
            count = part.values[index] or 0
            width = plot * count / total
            if count:
                body.append(_bar(left, width, y + 4, y + row - 6, part.color,
                                 f"{category} {part.name}: {count:.0f} ({count / total:.0%})"))
                if width > 28:
                    body.append(f'<text x="{left + width / 2:.1f}" y="{y + 21}" '
                                f'text-anchor="middle" class="inbar">{count:.0f}</text>')
            left += width
    return _svg(body, title, height=height, legend=[(s.name, s.color) for s in series])


def heatmap(rows: Sequence[str], columns: Sequence[str],
            cells: dict[tuple[int, int], float], title: str) -> str:
    """A cohort-style grid: rows × columns, each cell coloured and labelled by its fraction."""
    cell_w = min(44.0, (WIDTH - 110) / max(len(columns), 1))
    cell_h = 20
    height = MARGIN_TOP + 20 + cell_h * len(rows) + 10
    body = [f'<text x="{110 + i * cell_w + cell_w / 2:.1f}" y="{MARGIN_TOP + 10}" '
            f'text-anchor="middle" class="tick">{escape(c)}</text>' for i, c in enumerate(columns)]
    for r, label in enumerate(rows):
        y = MARGIN_TOP + 20 + r * cell_h
        body.append(f'<text x="102" y="{y + 14}" text-anchor="end" class="tick">'
                    f'{escape(label)}</text>')
        for c in range(len(columns)):
            value = cells.get((r, c))
            if value is None:
                continue
            x = 110 + c * cell_w
            body.append(f'<rect x="{x:.1f}" y="{y}" width="{cell_w - 1:.1f}" '
                        f'height="{cell_h - 1}" fill="{_retention_color(value)}"><title>'
                        f'{escape(label)} +{escape(columns[c])}: {value:.0%}</title></rect>'
                        f'<text x="{x + cell_w / 2:.1f}" y="{y + 14}" text-anchor="middle" '
                        f'class="cell">{value * 100:.0f}</text>')
    return _svg(body, title, height=height)


def _retention_color(value: float) -> str:
    """Red at 50 % or less, through amber, to green at 100 % and above."""
    share = min(max((value - 0.5) / 0.5, 0.0), 1.0)
    red, green = (220, 90, 80), (60, 160, 100)
    mixed = (round(a + (b - a) * share) for a, b in zip(red, green, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*mixed)
