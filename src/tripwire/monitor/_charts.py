"""The dashboard's charts, laid out on the server: the page draws them without a script and
without a token, and a single time bucket still shows (a dot and a level segment), where a
polyline through one point draws nothing."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 1000, 240, 56, 12, 16, 36
MAX_LINES = 8
MAX_BUCKETS = 80


@dataclass(frozen=True)
class Line:
    name: str
    color: str
    points: str
    """``x,y x,y ...`` for a polyline (two points at least: one bucket is drawn as a level)."""
    dots: tuple[tuple[float, float, str], ...]
    """``(x, y, tooltip)`` per bucket."""


@dataclass(frozen=True)
class Chart:
    lines: tuple[Line, ...]
    y_max: float
    y_ticks: tuple[tuple[float, str], ...]
    x_ticks: tuple[tuple[float, str], ...]
    hidden: int
    """Series not drawn (only the ``MAX_LINES`` largest are)."""
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: int = HEIGHT - BOTTOM


def bucket_for(first_minute: int | None, last_minute: int | None) -> int:
    """Minutes per bucket so that the whole span fits in ``MAX_BUCKETS`` buckets."""
    if first_minute is None or last_minute is None:
        return 1
    return max(1, math.ceil((last_minute - first_minute + 1) / MAX_BUCKETS))


def _minute_label(minute: float) -> str:
    return datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%d %H:%M")


def _nice(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * exp >= v:
            return m * exp
    return 10 * exp


def line_chart(
    series: dict[str, list[tuple[int, float, str]]], bucket_minutes: int, percent: bool
) -> Chart | None:
    """``series``: name -> ``(minute, value, tooltip)`` points; ``None`` when there are none."""
    named = sorted(series.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    shown = sorted(named[:MAX_LINES])
    if not shown:
        return None
    xs = [m for _, pts in shown for m, _, _ in pts]
    x0, x1 = min(xs), max(xs) + bucket_minutes
    y_max = _nice(max((v for _, pts in shown for _, v, _ in pts), default=0.0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(minute: float) -> float:
        return round(LEFT + (minute - x0) / (x1 - x0) * plot_w, 1)

    def y_of(v: float) -> float:
        return round(TOP + plot_h - v / y_max * plot_h, 1)

    lines = []
    for i, (name, pts) in enumerate(shown):
        pts = sorted(pts)
        dots = tuple((x_of(m + bucket_minutes / 2), y_of(v), tip) for m, v, tip in pts)
        if len(pts) == 1:  # a level across its bucket, so one bucket is still a line
            m, v, _ = pts[0]
            coords = [(x_of(m), y_of(v)), (x_of(m + bucket_minutes), y_of(v))]
        else:
            coords = [(x, y) for x, y, _ in dots]
        points = " ".join(f"{x},{y}" for x, y in coords)
        lines.append(Line(name, COLORS[i % len(COLORS)], points, dots))
    fmt = (lambda v: f"{v:.1%}") if percent else (lambda v: f"{v:g}")
    y_ticks = tuple((y_of(y_max * k / 4), fmt(y_max * k / 4)) for k in range(5))
    x_ticks = tuple((x_of(m), _minute_label(m)) for m in _ticks(x0, x1))
    return Chart(tuple(lines), y_max, y_ticks, x_ticks, max(len(named) - MAX_LINES, 0))


def _ticks(x0: float, x1: float, n: int = 4) -> list[float]:
    return [x0 + (x1 - x0) * k / n for k in range(n + 1)]


def rate_chart(points: Sequence[dict[str, Any]], bucket_minutes: int) -> Chart | None:
    """Defect rate per slice and bucket, from ``Store.series`` rows."""
    series: dict[str, list[tuple[int, float, str]]] = {}
    for p in points:
        rate = p["defects"] / p["n"] if p["n"] else 0.0
        tip = f"{p['slice']}: {p['defects']} of {p['n']} ({rate:.2%})"
        series.setdefault(p["slice"], []).append((p["minute"], rate, tip))
    return line_chart(series, bucket_minutes, percent=True)


def count_chart(points: Sequence[dict[str, Any]], bucket_minutes: int) -> Chart | None:
    """Feedback reports per category and bucket, from ``Store.feedback_counts`` rows."""
    series: dict[str, list[tuple[int, float, str]]] = {}
    for p in points:
        tip = f"{p['category']}: {p['count']}"
        series.setdefault(p["category"], []).append((p["minute"], float(p["count"]), tip))
    return line_chart(series, bucket_minutes, percent=False)
