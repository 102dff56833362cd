"""Forest plot of per-slice deltas with confidence intervals, as inline SVG.

One panel per (suite, metric), because metrics have different units; one row per slice. The
dashed red tick on each row is where that slice's margin is crossed (margins may be relative, so
they differ per slice); the grey line is no change.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from markupsafe import Markup

from tripwire.report._gate_display import SuiteSlice, margin_delta, needs_attention, status_tone
from tripwire.stats import SliceComparison

MAX_ROWS = 60
_ROW_IN, _TITLE_IN, _TICKS_IN, _LEGEND_IN, _XLABEL_IN = 0.26, 0.3, 0.3, 0.35, 0.2
_LABEL_CHARS = 48
_LIMIT = 1e12  # far past any metric's delta, far below where axis arithmetic overflows
_COLOURS = {
    "bad": "#b42318",
    "warn": "#e08a00",
    "ok": "#067647",
    "improved": "#3e6fb0",
    "muted": "#5f6b76",
}
_NAMES = {"bad": "regressed", "warn": "inconclusive", "ok": "no regression", "improved": "improved"}


def _plottable(x: float) -> bool:
    """Finite and of a size an axis can span: a hand-edited 1e308 makes matplotlib's axis
    range overflow (a singular transform); such a value stays in the tables, not the plot."""
    return math.isfinite(x) and abs(x) <= _LIMIT


def _label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def _shown(rows: Sequence[SuiteSlice]) -> list[SuiteSlice]:
    """Rows with a plottable delta; past ``MAX_ROWS`` the ones needing attention win."""
    finite = [r for r in rows if _plottable(r.c.delta)]
    if len(finite) <= MAX_ROWS:
        return finite
    ranked = sorted(finite, key=lambda r: not needs_attention(r.c))
    keep = {id(r) for r in ranked[:MAX_ROWS]}
    return [r for r in finite if id(r) in keep]


def _panels(rows: list[SuiteSlice]) -> list[tuple[tuple[str, str], list[SliceComparison]]]:
    panels: dict[tuple[str, str], list[SliceComparison]] = {}
    for r in rows:
        panels.setdefault((r.suite, r.c.metric), []).append(r.c)
    return list(panels.items())


def forest_svg(rows: Sequence[SuiteSlice]) -> Markup | None:
    """The plot as an ``<svg>`` element, or None when no slice has a delta to plot.

    Slice names are untrusted: they reach the SVG only as matplotlib ``<text>`` content, which
    it XML-escapes, and math parsing is off so a ``$`` in a name cannot break rendering.
    """
    shown = _shown(rows)
    if not shown:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    panels = _panels(shown)
    # fixed layout in inches (constrained layout measures every label and doubled the cost)
    label_w = 0.6 + 0.062 * max(len(_label(r.c.slice)) for r in shown)
    heights = [_ROW_IN * len(p) + 0.25 for _, p in panels]
    total = sum(heights) + len(panels) * (_TITLE_IN + _TICKS_IN) + _LEGEND_IN + _XLABEL_IN
    width = label_w + 6.0
    rc = {"svg.fonttype": "none", "text.parse_math": False, "svg.hashsalt": "tripwire-forest"}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(width, total))
        top = total - _LEGEND_IN
        tones: set[str] = set()
        axes = []
        for ((suite, metric), prow), h in zip(panels, heights, strict=True):
            top -= _TITLE_IN + h
            ax = fig.add_axes((label_w / width, top / total, 5.8 / width, h / total))
            top -= _TICKS_IN
            axes.append(ax)
            ys = np.arange(len(prow))[::-1]
            colours = [_COLOURS[status_tone(r.status)] for r in prow]
            tones.update(status_tone(r.status) for r in prow)
            ci = [
                (y, r, c)
                for y, r, c in zip(ys, prow, colours, strict=True)
                if _plottable(r.ci_low) and _plottable(r.ci_high)
            ]
            if ci:
                ax.hlines(
                    [y for y, _, _ in ci],
                    [r.ci_low for _, r, _ in ci],
                    [r.ci_high for _, r, _ in ci],
                    colors=[c for _, _, c in ci],
                    lw=2,
                )
            ax.scatter([r.delta for r in prow], ys, c=colours, s=22, zorder=3)
            marg = [
                (y, margin_delta(r))
                for y, r in zip(ys, prow, strict=True)
                if _plottable(margin_delta(r))
            ]
            if marg:
                ax.vlines(
                    [m for _, m in marg],
                    [y - 0.4 for y, _ in marg],
                    [y + 0.4 for y, _ in marg],
                    colors="#b42318",
                    linestyles="--",
                    lw=1,
                )
            ax.axvline(0.0, color="#5f6b76", lw=0.8)
            ax.set_yticks(ys, [_label(r.slice) for r in prow], fontsize=8)
            ax.set_ylim(-0.7, len(prow) - 0.3)
            better = "higher" if prow[0].higher_is_better else "lower"
            ax.set_title(f"{_label(suite)} · {_label(metric)} ({better} is better)", fontsize=9)
            ax.tick_params(axis="x", labelsize=8)
            ax.grid(axis="x", color="#d8dee4", lw=0.5)
        axes[-1].set_xlabel("delta = candidate - baseline (bar: confidence interval)", fontsize=8)
        handles = [
            Line2D([], [], color=_COLOURS[t], marker="o", lw=2, label=_NAMES[t])
            for t in _NAMES
            if t in tones
        ]
        handles.append(Line2D([], [], color="#b42318", ls="--", lw=1, label="margin"))
        fig.legend(
            handles=handles, loc="upper center", ncols=len(handles), fontsize=8, frameon=False
        )
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = svg.replace(
        "<svg ", '<svg class="plot forest" role="img" style="max-width:100%;height:auto" ', 1
    )
    return Markup(svg)  # our own SVG: matplotlib escaped its text nodes
