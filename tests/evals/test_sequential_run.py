"""Comparisons that stop when decided, on the tiny reference model: the order, early stopping,
and an interrupted comparison resumed to the same verdict."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from tripwire.cli import main
from tripwire.evals import HFBackend, ScoringFailed, SequentialPlan, compare_models, get_suite
from tripwire.evals._sequential_run import DECIDED, look_sizes, stratified_order
from tripwire.evals._types import Task
from tripwire.reference import degrade_language
from tripwire.stats import Margin

PER_LANGUAGE = 20  # 100 items over 5 languages; a score slice needs 10 for a verdict


def test_the_order_is_seeded_and_every_prefix_holds_each_slice_in_proportion() -> None:
    sizes = (("py", 50), ("c", 30), ("sh", 20))
    tasks = [Task(f"{lang}-{i}", "", slices={"language": lang}) for lang, k in sizes
             for i in range(k)]  # fmt: skip
    order = stratified_order(tasks, seed=1)
    assert order == stratified_order(tasks, seed=1) != stratified_order(tasks, seed=2)
    assert sorted(t.task_id for t in order) == sorted(t.task_id for t in tasks)
    for end in range(1, len(order) + 1):
        counts = Counter(t.slices["language"] for t in order[:end])
        for lang, total in sizes:
            assert abs(counts[lang] - end * total / 100) <= 1, (end, lang)
    assert look_sizes(100, 5) == [20, 40, 60, 80, 100]
    assert look_sizes(3, 5) == [1, 2, 3]


@pytest.fixture(scope="module")
def degraded(tiny_reference: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seq") / "python-degraded"
    degrade_language(tiny_reference, out, "python")
    return out


def _compare(base: Path, cand: Path, out: Path | None = None, looks: int = 5):  # type: ignore[no-untyped-def]
    suite = get_suite("retention", corpus=base, max_per_language=PER_LANGUAGE)
    # the baseline's run is the cached one (shared by every comparison here); the candidate's
    # goes where the test says
    dirs = {"candidate": out / "cand"} if out else None
    return compare_models(suite, {"baseline": HFBackend(base), "candidate": HFBackend(cand)},
                          plan=SequentialPlan(looks=looks, seed=3), out=dirs,
                          margins={"bits_per_byte": Margin(0.03, relative=True)})  # fmt: skip


def test_a_model_against_itself_stops_once_every_slice_passes(tiny_reference: Path) -> None:
    res = _compare(tiny_reference, tiny_reference)
    seq = res.sequential
    assert res.verdict == "pass" and seq["stopped"] == DECIDED
    # every language slice reaches the 10 items a score verdict needs at look 3 (12 each)
    assert seq["looks_done"] == 3 and seq["items_used"] == 60 < seq["budget_items"] == 100
    assert res.items == 60 and all(s.look is not None and s.look <= 3 for s in res.slices)
    assert [lk["items"] for lk in seq["looks"]] == [20, 40, 60]
    assert all(lk["alpha"] < 0.05 for lk in seq["looks"])  # every look is stricter than alpha


def test_an_interrupted_comparison_resumes_to_the_same_verdict(
    tiny_reference: Path, degraded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _compare(tiny_reference, degraded, tmp_path / "whole")
    # the same comparison, cut off in the middle of the candidate's second batch
    from tripwire.evals._sequential_run import _ModelRun

    real = _ModelRun.score
    calls = Counter()

    def cut(self, tasks, progress, limits):  # type: ignore[no-untyped-def]
        calls[self.role] += 1
        if self.role == "candidate" and calls["candidate"] == 2:
            tasks = list(tasks)
            real(self, tasks[: len(tasks) // 2], progress, limits)  # half of it got scored
            raise ScoringFailed(self.role, RuntimeError("power cut"))
        return real(self, tasks, progress, limits)

    monkeypatch.setattr(_ModelRun, "score", cut)
    with pytest.raises(ScoringFailed, match="power cut"):
        _compare(tiny_reference, degraded, tmp_path / "cut")
    monkeypatch.setattr(_ModelRun, "score", real)
    resumed = _compare(tiny_reference, degraded, tmp_path / "cut")

    def shape(r):  # type: ignore[no-untyped-def]
        d = r.to_dict()
        return {k: v for k, v in d.items() if k not in ("baseline", "candidate")}

    def same(a, b) -> bool:  # type: ignore[no-untyped-def]
        # scores agree to floating-point tolerance: a resumed run batches its texts differently
        # (other padding widths, other matmul shapes); everything else agrees exactly
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-9)
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        return a == b

    assert same(shape(resumed), shape(whole)), (shape(resumed), shape(whole))
    python = next(s for s in resumed.slices if s.slice == "language=python")
    assert python.delta > 0  # the degraded language is worse
    # nothing scored twice: every result line is a distinct item
    lines = (tmp_path / "cut" / "cand" / "results.jsonl").read_text().splitlines()
    keys = [(r["task_id"], r["sample_idx"]) for r in map(json.loads, lines)]
    assert len(keys) == len(set(keys)) == resumed.sequential["items_used"]


def test_compare_models_command(tiny_reference: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cmp.json"
    args = ["eval", "compare-models", f"hf:{tiny_reference}", f"hf:{tiny_reference}", "--suite",
            "retention", "--max-per-language", str(PER_LANGUAGE), "--margin", "3%"]  # fmt: skip
    assert main([*args, "--sequential", "--order-seed", "3", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["verdict"] == "pass" and data["sequential"]["stopped"] == DECIDED
    assert data["items"] == data["sequential"]["items_used"] < data["sequential"]["budget_items"]
    assert main([*args, "--sequential"]) == 0
    printed = capsys.readouterr().out
    assert "sequential: every slice decided" in printed and "MDE" in printed
    assert main([*args, "--sequential", "--spending", "linear"]) == 2
    assert "--spending" in capsys.readouterr().err
