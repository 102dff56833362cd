"""People's side-by-side judgements of two models, as statistics: per question and slice, how
often the candidate won, tied and lost, with intervals, a sign test, and the gate's verdict.

Each item's outcome is the sign of its reviewers' mean judgement (+1 candidate better, -1
baseline better, 0 tie), so an item counts once however many people saw it.

- Shares of wins, ties and losses: Wilson intervals.
- Sign test: ties dropped, wins ~ Binomial(wins + losses, 1/2), two-sided exact p-value (checked
  against scipy's ``binomtest`` and statsmodels' ``sign_test`` in ``tests/review``).
- Net preference ``(wins - losses) / n`` is the difference of two paired proportions (the
  candidate preferred, the baseline preferred; a tie is neither), so the gate judges it with the
  same paired score interval, margin and correction across slices as a pass/fail eval slice
  (``tripwire.stats.compare_slice`` with ``binary=True``): ``regressed`` when the candidate is
  less preferred than the baseline by more than the margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from tripwire.stats import Margin, SliceComparison, adjust_slices, compare_slice

QUESTIONS = ("correctness", "readability", "idiomatic")
"""What reviewers are asked of each pair (A better, tie, B better)."""


@dataclass(frozen=True)
class Judged:
    """One item's outcome on one question."""

    item_id: str
    slices: dict[str, str]
    scores: tuple[int, ...]
    """Each reviewer's judgement, candidate-oriented: +1 better, 0 tie, -1 worse."""

    @property
    def outcome(self) -> int:
        return int(np.sign(sum(self.scores)))


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    z = float(sps.norm.isf((1 - confidence) / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test of wins against losses (ties dropped)."""
    n = wins + losses
    if n == 0:
        return 1.0
    return float(sps.binomtest(wins, n, 0.5).pvalue)


def tally(judged: Sequence[Judged], confidence: float = 0.95) -> dict[str, Any]:
    """Wins, ties and losses of the candidate with Wilson intervals, and the sign test."""
    outcomes = [j.outcome for j in judged]
    n = len(outcomes)
    w, t, lo = outcomes.count(1), outcomes.count(0), outcomes.count(-1)

    def share(k: int) -> dict[str, float]:
        low, high = wilson(k, n, confidence)
        return {"count": k, "share": k / n if n else float("nan"), "low": low, "high": high}

    return {
        "items": n,
        "win": share(w),
        "tie": share(t),
        "loss": share(lo),
        "net_preference": (w - lo) / n if n else float("nan"),
        "sign_test_p": sign_test(w, lo),
    }


def slice_keys(judged: Sequence[Judged], by: Sequence[str] | None = None) -> list[str]:
    """``all`` and each slice the items carry (only the slicings named in ``by``, if given)."""
    keys = {f"{k}={v}" for j in judged for k, v in j.slices.items() if by is None or k in by}
    return ["all", *sorted(keys)]


def in_slice(j: Judged, key: str) -> bool:
    if key == "all":
        return True
    name, _, value = key.partition("=")
    return j.slices.get(name) == value


def gate_slices(
    by_question: dict[str, Sequence[Judged]],
    margins: dict[str, Margin],
    slice_margins: dict[tuple[str, str], Margin],
    alpha: float,
    correction: str,
) -> list[SliceComparison]:
    """Per question (metric) and language, the gate's comparison of net preference: the
    candidate must not be less preferred than the baseline by more than the question's margin
    (default 0.1: ten points of net preference). Holm (or BH) across all of them. Only the
    questions the policy gives margins for are gated (all three when it names none), so a
    small review is not spread over comparisons nobody asked for."""
    asked = {q for q in margins} | {q for q, _ in slice_margins}
    out = []
    for question, judged in by_question.items():
        if asked and question not in asked:
            continue
        for key in slice_keys(judged, by=("language",)):
            part = [j for j in judged if in_slice(j, key)]
            if not part:
                continue
            outcome = np.array([j.outcome for j in part])
            margin = slice_margins.get((question, key), margins.get(question, Margin(0.1)))
            out.append(
                compare_slice(
                    key,
                    question,
                    (outcome < 0).astype(float),
                    (outcome > 0).astype(float),
                    higher_is_better=True,
                    binary=True,
                    margin=margin,
                    alpha=alpha,
                )
            )
    return adjust_slices(out, alpha, correction)  # type: ignore[arg-type]
