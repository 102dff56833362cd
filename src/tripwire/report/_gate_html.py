"""The HTML report of one gate run: decision, eval slices with a forest plot, findings, lineage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tripwire.report._forest import forest_svg
from tripwire.report._gate_view import gate_view
from tripwire.report._html import render_html, write_html
from tripwire.report._lineage_svg import lineage_svg

TEMPLATE = "gate.html.j2"


def _context(result: dict[str, Any]) -> dict[str, Any]:
    g = gate_view(result)
    return {"g": g, "forest": forest_svg(g.slices), "lineage": lineage_svg(g.lineage)}


def render_gate_html(result: dict[str, Any]) -> str:
    """The report of a gate result (``GateResult.to_dict()``) as one self-contained page."""
    return render_html(TEMPLATE, **_context(result))


def write_gate_html(path: Path, result: dict[str, Any]) -> None:
    """Render and write atomically; bad input raises before anything is written."""
    write_html(path, TEMPLATE, **_context(result))
