"""The forest plot and the lineage graph on their own."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tripwire.gate import GateResult, Lineage
from tripwire.report._forest import MAX_ROWS, forest_svg
from tripwire.report._gate_display import slices
from tripwire.report._lineage_svg import lineage_svg

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_forest_keeps_regressed_slices_when_there_are_too_many(gate_results):
    result = gate_results["pass"]
    suite = result["evals"][0]
    template = suite["slices"][1]
    suite["slices"] = [{**template, "slice": f"file=f{i:03d}.py"} for i in range(MAX_ROWS + 20)]
    suite["slices"][-1].update(slice="file=the-broken-one.py", status="regressed", regressed=True)
    texts = _texts(forest_svg(slices(GateResult.from_dict(result))))
    assert "file=the-broken-one.py" in texts
    assert sum(t.startswith("file=") for t in texts) == MAX_ROWS
    assert "regressed" in texts and "margin" in texts  # the legend


def test_forest_draws_one_panel_per_suite_and_metric(gate_results):
    texts = _texts(forest_svg(slices(GateResult.from_dict(gate_results["data"]))))
    assert "retention · bits_per_byte (lower is better)" in texts
    assert "humaneval · pass (higher is better)" in texts


def test_nothing_to_plot_gives_no_plot(gate_results):
    result = gate_results["tokens"]
    for s in result["evals"][0]["slices"]:
        s["delta"] = None
    assert forest_svg(slices(GateResult.from_dict(result))) is None
    assert lineage_svg(Lineage.from_dict({"nodes": [], "edges": []})) is None


def test_lineage_puts_each_generation_in_its_own_column(gate_results):
    lineage = gate_results["eval"]["lineage"]
    root = ET.fromstring(str(lineage_svg(Lineage.from_dict(lineage))))
    x = {
        g.find(f"{SVG}title").text.split(" (")[0]: float(g.find(f"{SVG}rect").get("x"))
        for g in root.iter(f"{SVG}g")
    }
    assert x["ref-small-init"] < x["ref-small"] < x["ref-small-ft-narrow"]
    assert x["finetune.jsonl"] == x["ref-small"]  # an input sits next to what it fed
