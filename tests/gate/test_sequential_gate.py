"""`tripwire gate --sequential` on the real pairs: a clean candidate is cleared on a part of the
suite, forgetting is still blocked, and every output says what was used and why it stopped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gate.conftest import TEST_POLICY
from tripwire.cli import main
from tripwire.evals import SequentialPlan
from tripwire.gate import gate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("gate")]


def test_identical_candidate_is_cleared_before_the_budget(
    tiny_reference: Path, candidates: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    md, html, out = tmp_path / "gate.md", tmp_path / "gate.html", tmp_path / "gate.json"
    code = main(["gate", "--baseline", str(tiny_reference), "--candidate",
                 str(candidates["identical"]), "--sequential", "--looks", "3", "--json", str(out),
                 "--markdown", str(md), "--report", str(html), "--no-cache"])  # fmt: skip
    d = json.loads(out.read_text())
    assert code == 0 and d["verdict"] == "pass"
    suite = d["evals"][0]
    seq = suite["sequential"]
    # retention, 60 chunks per language by default: a byte-identical model passes every slice
    # at the first look that gives each language the 10 items a verdict needs
    assert seq["stopped"] == "every slice decided" and seq["items_used"] < seq["budget_items"]
    assert suite["items"] == seq["items_used"]
    assert all(s["look"] == seq["looks_done"] and s["mde"] > 0 for s in suite["slices"])
    assert "sequential: every slice decided" in md.read_text()
    assert "MDE" in html.read_text() and "every slice decided" in html.read_text()
    # the terminal: the MDE column, and the items used with where and why it stopped
    printed = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "MDE" in printed
    assert f"retention: {seq['items_used']} items" in printed
    assert (f"sequential: every slice decided at look {seq['looks_done']} of 3, after "
            f"{seq['items_used']} of {seq['budget_items']} items") in printed  # fmt: skip


def test_forgetting_is_still_blocked_sequentially(tiny_reference: Path, candidates: dict) -> None:
    d = gate(tiny_reference, candidates["narrow"], policy=TEST_POLICY,
             sequential=SequentialPlan(looks=3)).to_dict()  # fmt: skip
    assert d["verdict"] == "block" and d["root_cause"]["code"] == "eval.regression"
    suite = d["evals"][0]
    regressed = [s for s in suite["slices"] if s["status"] == "regressed"]
    assert regressed and all(s["look"] is not None for s in regressed)
    assert "look" in d["root_cause"]["message"]
