"""The gate report's decision box on a real blocked fine-tune: the root cause's evidence in
sentences and numbers, never raw keys, with the raw JSON behind a toggle."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from tests.gate.conftest import TEST_POLICY
from tripwire.gate import gate
from tripwire.report import render_gate_html

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("gate")]


def test_decision_box_says_the_evidence_in_words(tiny_reference: Path, candidates: dict) -> None:
    d = gate(tiny_reference, candidates["narrow"], policy=TEST_POLICY).to_dict()
    ev = d["root_cause"]["evidence"]
    assert ev["higher_is_better"] is False and ev["regressed"] is True  # bits per byte, worse
    page = render_gate_html(d)
    end = page.index("</details>", page.index("raw-evidence"))
    box = page[page.index('<div class="banner') : end]
    sentences = re.findall(r'<li class="msg">(.*?)</li>', box, re.S)
    assert sentences, box
    first = html.unescape(sentences[0])
    assert f"retention bits_per_byte on {ev['slice']}" in first
    assert f"baseline {ev['baseline']:.4g}, candidate {ev['candidate']:.4g}" in first
    assert "lower is better" in first and "worse beyond the margin, with significance" in first
    assert f"{ev['n']:,} items" in first
    # no raw key/value rows in the box: the keys appear only in the JSON behind the toggle
    visible = box.split("<details", 1)[0]
    for raw in ("higher_is_better", "regressed", "ci_low", "p_value"):
        assert raw not in visible, raw
    raw_json = html.unescape(box.split("<summary>raw evidence (JSON)</summary><pre>", 1)[1])
    assert json.loads(raw_json.split("</pre>", 1)[0]) == ev
