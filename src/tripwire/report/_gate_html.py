"""The HTML report of one gate run: decision, eval slices with a forest plot, findings, lineage."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tripwire.report._forest import forest_svg
from tripwire.report._gate_display import as_result, slices
from tripwire.report._html import render_html, write_html
from tripwire.report._lineage_svg import lineage_svg

if TYPE_CHECKING:
    from tripwire.gate import GateResult

TEMPLATE = "gate.html.j2"


def _context(result: GateResult | dict[str, Any]) -> dict[str, Any]:
    g = as_result(result)
    return {"g": g, "forest": forest_svg(slices(g)), "lineage": lineage_svg(g.lineage)}


def render_gate_html(result: GateResult | dict[str, Any]) -> str:
    """The report of a gate result (or its ``to_dict()``) as one self-contained page."""
    return render_html(TEMPLATE, **_context(result))


def write_gate_html(path: Path, result: GateResult | dict[str, Any]) -> None:
    """Render and write atomically; bad input raises before anything is written."""
    write_html(path, TEMPLATE, **_context(result))
