"""Geometry of the overview's small SVG charts, computed here and drawn by the templates.

Pure functions over numbers: no markup is built in Python, so every label that reaches the
page (a source name, a day) goes through the template engine's escaping like any other
text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    cls: str
    title: str


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass
class Chart:
    width: int
    height: int
    left: int
    bottom: int  # y of the baseline
    rects: list[Rect] = field(default_factory=list)
    yticks: list[Tick] = field(default_factory=list)
    xticks: list[Tick] = field(default_factory=list)
    points: str = ""  # polyline points, for line charts
    dots: list[tuple[float, float, str]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, label)
    empty: bool = False


def nice_max(v: float) -> float:
    """A round axis maximum at or above ``v`` (1, 2, 2.5, 5 x 10^n)."""
    if v <= 0:
        return 1.0
    exp = math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        top = m * 10**exp
        if top >= v:
            return float(top)
    return float(10 ** (exp + 1))


def _fmt(v: float) -> str:
    if v >= 1_000_000:
        return f"{v / 1_000_000:g}M"
    if v >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


def _day_label(d: date, n_days: int) -> str:
    return d.strftime("%d %b") if n_days <= 14 else d.strftime("%d/%m")


def _x_ticks(days: list[date], x_of, max_labels: int = 8) -> list[Tick]:
    step = max(1, math.ceil(len(days) / max_labels))
    return [Tick(x_of(i), _day_label(d, len(days))) for i, d in enumerate(days) if i % step == 0]


def stacked_bars(
    days: list[date],
    series: dict[str, list[int]],
    classes: dict[str, str],
    *,
    width: int = 560,
    height: int = 170,
    unit: str = "items",
) -> Chart:
    """One bar per day, one segment per series (in ``series`` order)."""
    left, right, top, bottom_pad = 40, 8, 10, 22
    bottom = height - bottom_pad
    chart = Chart(width, height, left, bottom)
    totals = [sum(vals[i] for vals in series.values()) for i in range(len(days))]
    chart.empty = not any(totals)
    top_v = nice_max(max(totals, default=0))
    plot_h = bottom - top
    slot = (width - left - right) / max(len(days), 1)
    bar_w = max(2.0, slot * 0.72)

    def x_of(i: int) -> float:
        return left + slot * i + (slot - bar_w) / 2

    for i, d in enumerate(days):
        y = float(bottom)
        for name, vals in series.items():
            v = vals[i]
            if not v:
                continue
            h = plot_h * v / top_v
            y -= h
            chart.rects.append(
                Rect(
                    round(x_of(i), 1),
                    round(y, 1),
                    round(bar_w, 1),
                    round(h, 1),
                    classes.get(name, "s-other"),
                    f"{d.isoformat()} {name}: {v:,} {unit}",
                )
            )
    chart.yticks = [Tick(bottom - plot_h * f, _fmt(top_v * f)) for f in (0, 0.5, 1)]
    chart.xticks = [Tick(t.pos + bar_w / 2, t.label) for t in _x_ticks(days, x_of)]
    chart.legend = [(classes.get(n, "s-other"), n) for n in series]
    return chart


def rate_line(
    days: list[date],
    rates: list[float | None],
    counts: list[int],
    *,
    width: int = 560,
    height: int = 170,
) -> Chart:
    """A share (0..1) per day as a line over faint bars of the day's volume."""
    left, right, top, bottom_pad = 40, 8, 10, 22
    bottom = height - bottom_pad
    chart = Chart(width, height, left, bottom)
    chart.empty = not any(counts)
    plot_h = bottom - top
    slot = (width - left - right) / max(len(days), 1)
    top_c = max(counts, default=0) or 1

    def x_of(i: int) -> float:
        return left + slot * i + slot / 2

    pts = []
    for i, d in enumerate(days):
        if counts[i]:
            h = plot_h * 0.5 * counts[i] / top_c  # volume: the lower half, for scale only
            chart.rects.append(
                Rect(
                    round(x_of(i) - slot * 0.36, 1),
                    round(bottom - h, 1),
                    round(slot * 0.72, 1),
                    round(h, 1),
                    "volume",
                    f"{d.isoformat()}: {counts[i]:,} articles",
                )
            )
        r = rates[i]
        if r is not None:
            x, y = round(x_of(i), 1), round(bottom - plot_h * r, 1)
            pts.append(f"{x},{y}")
            chart.dots.append((x, y, f"{d.isoformat()}: {r:.0%} duplicates"))
    chart.points = " ".join(pts)
    chart.yticks = [Tick(bottom - plot_h * f, f"{f:.0%}") for f in (0, 0.5, 1)]
    chart.xticks = _x_ticks(days, x_of)
    return chart


def run_strip(statuses: list[str], durations: list[float], *, width: int = 96, height: int = 18):
    """Recent runs of one stage, oldest left: bar height is duration, colour is status."""
    n = max(len(statuses), 1)
    slot = width / 12
    top = max(durations, default=0) or 1
    out = []
    for i, (st, sec) in enumerate(zip(statuses, durations, strict=False)):
        h = max(2.0, (height - 2) * (sec or 0) / top)
        out.append(
            Rect(
                round(width - slot * (n - i), 1),
                round(height - h, 1),
                round(slot * 0.7, 1),
                round(h, 1),
                f"run-{st}",
                f"{st}, {sec:.2f}s",
            )
        )
    return out
