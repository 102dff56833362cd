"""The demo's two human steps on the tiny model: the data stage's reviewed sample agrees with
what the checks left behind, and the forgetting stage's scripted human evaluation judges the
narrow fine-tune worse outside Python, which the gate's `human` suite blocks. Both are cached:
a second run makes no new decisions and generates nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gate.conftest import candidates  # noqa: F401 - session fixture
from tests.review.conftest import Audited
from tripwire.data import AuditConfig
from tripwire.demo import StageContext
from tripwire.demo.review_data import review_sample
from tripwire.demo.review_eval import human_round
from tripwire.review import ReviewStore

pytestmark = pytest.mark.slow


def test_demo_data_review_agrees_with_the_checks(
    audited: Audited, tiny_reference: Path, tmp_path: Path
) -> None:
    ctx = StageContext(tiny_reference, tmp_path)
    config = AuditConfig(allow_sources=audited.planted.allow_sources, run_tests=False)
    first = review_sample(ctx, tmp_path, audited.dataset, audited.planted, audited.findings, config)
    assert first.ok, first.lines
    d = first.data["kept_defect_rate"]
    assert d["low"] <= first.data["true_kept_defect_rate"] <= d["high"]
    assert (tmp_path / "clean.reviewed.jsonl").is_file()
    decisions = len(ReviewStore(first.data["directory"]).history())
    again = review_sample(ctx, tmp_path, audited.dataset, audited.planted, audited.findings, config)
    assert again.lines == first.lines
    assert len(ReviewStore(first.data["directory"]).history()) == decisions


def test_demo_human_round_judges_the_narrow_fine_tune_worse(
    tiny_reference: Path,
    candidates: dict[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    ctx = StageContext(tiny_reference, tmp_path)
    judged = human_round(ctx, tmp_path, candidates["narrow"])
    assert judged.ok, judged.lines
    assert judged.data["gate"]["verdict"] in ("warn", "block")
    again = human_round(ctx, tmp_path, candidates["narrow"])
    assert again.lines == judged.lines
