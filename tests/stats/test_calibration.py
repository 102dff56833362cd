"""Calibration of the regression verdicts on simulated paired data of known effect."""

from __future__ import annotations

import numpy as np
import pytest

from tripwire.stats import (
    Margin,
    adjust_slices,
    compare_slice,
    overall_outcome,
)

ALPHA = 0.05
SIMS = 1500
# three standard errors of a Monte Carlo rate near alpha
TOL = 3 * (ALPHA * (1 - ALPHA) / SIMS) ** 0.5


def _pass_fail_pair(rng: np.random.Generator, n: int, drop: float) -> tuple[np.ndarray, np.ndarray]:
    """Items of varying difficulty; the candidate loses each baseline pass with prob drop/p."""
    difficulty = rng.beta(2, 2, size=n)
    base = rng.random(n) < difficulty
    # correlated candidate: mostly the same outcome, plus symmetric noise
    flip = rng.random(n) < 0.1
    cand = np.where(flip, rng.random(n) < difficulty, base)
    if drop:
        lose = rng.random(n) < drop / max(base.mean(), 1e-9)
        cand = cand & ~(base & lose)
    return base.astype(float), cand.astype(float)


def _regression_rate(make, sims: int = SIMS, **kw) -> float:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(12345)
    hits = 0
    for _ in range(sims):
        base, cand, clusters = make(rng)
        res = adjust_slices([compare_slice("s", "m", base, cand, clusters=clusters, **kw)], ALPHA)
        hits += res[0].regressed
    return hits / sims


def test_false_regression_rate_binary_under_no_effect() -> None:
    rate = _regression_rate(
        lambda rng: (*_pass_fail_pair(rng, 164, 0.0), None), higher_is_better=True, binary=True
    )
    assert rate <= ALPHA + TOL


def test_false_regression_rate_clustered_samples_under_no_effect() -> None:
    def make(rng: np.random.Generator):  # type: ignore[no-untyped-def]
        tasks = np.repeat(np.arange(60), 5)
        task_effect = rng.normal(scale=1.0, size=60)[tasks]  # samples of a task move together
        base = task_effect + rng.normal(scale=0.3, size=300)
        cand = base + rng.normal(scale=0.5, size=60)[tasks] + rng.normal(scale=0.1, size=300)
        return base, cand, tasks

    robust = _regression_rate(make, higher_is_better=True)
    assert robust <= ALPHA + TOL
    # ignoring the clusters treats 300 samples as independent and raises false alarms a lot
    rng = np.random.default_rng(7)
    naive_hits = 0
    for _ in range(400):
        base, cand, _tasks = make(rng)
        res = adjust_slices([compare_slice("s", "m", base, cand, higher_is_better=True)], ALPHA)
        naive_hits += res[0].regressed
    assert naive_hits / 400 > 2 * ALPHA


def test_false_regression_rate_with_margin_at_the_margin() -> None:
    # a true degradation exactly equal to the margin must be flagged at most alpha of the time
    def make(rng: np.random.Generator):  # type: ignore[no-untyped-def]
        base = rng.normal(1.0, 0.3, size=120)
        return base, base + 0.02 + rng.normal(scale=0.05, size=120), None

    rate = _regression_rate(make, higher_is_better=False, margin=Margin(0.02))
    assert rate <= ALPHA + TOL


def test_family_wise_error_across_slices_with_holm() -> None:
    rng = np.random.default_rng(99)
    family_hits = 0
    for _ in range(600):
        comps = []
        for s in range(5):
            base = rng.normal(2.0, 0.5, size=80)
            comps.append(
                compare_slice(
                    f"s{s}",
                    "bpb",
                    base,
                    base + rng.normal(scale=0.1, size=80),
                    higher_is_better=False,
                )
            )
        family_hits += any(c.regressed for c in adjust_slices(comps, ALPHA, "holm"))
    assert family_hits / 600 <= ALPHA + 3 * (ALPHA * (1 - ALPHA) / 600) ** 0.5


def test_verdicts_identical_degraded_and_underpowered() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(2.0, 0.4, size=200)
    same = compare_slice("python", "bpb", base, base.copy(), higher_is_better=False,
                         margin=Margin(0.01, relative=True))  # fmt: skip
    worse = compare_slice("perl", "bpb", base, base * 1.15 + rng.normal(scale=0.02, size=200),
                          higher_is_better=False, margin=Margin(0.01, relative=True))  # fmt: skip
    few = compare_slice("c", "bpb", base[:5], base[:5] + rng.normal(scale=0.3, size=5),
                        higher_is_better=False, margin=Margin(0.01, relative=True))  # fmt: skip
    out = {c.slice: c for c in adjust_slices([same, worse, few], ALPHA)}
    assert out["python"].status == "pass" and out["python"].delta == 0
    assert out["perl"].status == "regressed" and out["perl"].ci_low > 0
    assert out["c"].status == "inconclusive" and out["c"].mde > out["c"].margin
    assert overall_outcome(list(out.values())) == "regressed"
    assert overall_outcome([out["python"], out["c"]]) == "inconclusive"
    assert overall_outcome([out["python"]]) == "pass"


def test_bootstrap_method_agrees_with_t_on_clear_cases() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(2.0, 0.4, size=150)
    cand = base + 0.2 + rng.normal(scale=0.05, size=150)
    t = compare_slice("s", "bpb", base, cand, higher_is_better=False)
    b = compare_slice("s", "bpb", base, cand, higher_is_better=False, method="bootstrap")
    assert t.p_value < 1e-6 and b.p_value < 0.001
    assert b.ci_low == pytest.approx(t.ci_low, abs=0.01)
    assert b.test == "paired_bootstrap"


def test_margin_parsing() -> None:
    assert Margin.parse("1%") == Margin(0.01, relative=True)
    assert Margin.parse("0.02") == Margin(0.02)
    assert Margin.parse("1%").absolute(2.0) == pytest.approx(0.02)
    with pytest.raises(ValueError, match="neither"):
        Margin.parse("lots")
    # a negative margin called identical runs a regression (exit 1); nan/inf decided nothing
    for text in ("-1", "-5%", "nan", "inf", "-0.01"):
        with pytest.raises(ValueError, match="finite amount >= 0"):
            Margin.parse(text)
    assert Margin.parse("0") == Margin(0.0)
