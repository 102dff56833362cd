"""The gate report and the incident report in real headless Chromium: plots and tables are in
the DOM after scripts ran, injected markup stayed text, and the screenshot shows a page."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.report.scenarios import INJECTION
from tests.support.browser import chromium, render
from tripwire.report import write_gate_html, write_incident_html

HEADER_PX = 120  # the page title and subtitle; the rest of the screenshot must not be blank


def _elements(dom: str, tag: str) -> int:
    return len(re.findall(rf"<{tag}[\s>]", dom))


def _assert_not_blank(png) -> None:
    from matplotlib.image import imread

    pixels = imread(png)[..., :3]
    assert pixels.var() > 0
    body = pixels[HEADER_PX:]
    non_white = (body < 0.95).any(axis=-1)
    assert non_white.mean() > 0.02, "screenshot is white below the header"
    # colour (verdict banner, plot markers), not just black text on white
    assert (np.ptp(body, axis=-1) > 0.2).any()


@pytest.mark.slow
def test_reports_render_in_chromium_with_plots_and_escaped_injections(
    tmp_path, gate_results, incident
):
    chromium()  # skips loudly when there is no browser
    result = gate_results["tokens"]
    result["root_cause"]["message"] += " " + INJECTION
    pages = {
        "gate": (tmp_path / "gate.html", "tripwire gate: block"),
        "incident": (tmp_path / "incident.html", incident["title"]),
    }
    write_gate_html(pages["gate"][0], result)
    write_incident_html(pages["incident"][0], incident)
    for name, (path, title) in pages.items():
        png = tmp_path / f"{name}.png"
        dom = render(path.as_uri(), screenshot=png)
        # had either payload run, the title would now read pwned-script / pwned-img
        assert f"<title>{title}</title>" in dom, name
        assert "pwned" not in dom.split("</title>")[0]
        assert _elements(dom, "script") == 0 and _elements(dom, "img") == 0, name
        assert "&lt;script&gt;document.title='pwned-script'&lt;/script&gt;" in dom
        assert "&lt;img src=x onerror=" in dom
        assert _elements(dom, "svg") >= (2 if name == "gate" else 6), name  # forest (+ lineage)
        assert 'class="plot forest"' in dom
        assert _elements(dom, "table") >= 4 and _elements(dom, "tr") >= 10, name
        if name == "gate":
            assert 'class="plot lineage"' in dom and _elements(dom, "rect") >= 3
        _assert_not_blank(png)
