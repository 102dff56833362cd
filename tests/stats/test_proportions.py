"""The paired pass/fail statistics against independent implementations, and their error rates
computed exactly over every possible table (not sampled)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from tripwire.stats import (
    Margin,
    adjust_p_values,
    adjust_slices,
    compare_slice,
    design_effect,
    mcnemar_exact,
    paired_bootstrap,
    paired_diff,
    paired_difference_interval,
    paired_difference_p_value,
)

ALPHA = 0.05
Z = float(sps.norm.ppf(1 - ALPHA))


def _random_tables(count: int, seed: int = 0) -> list[tuple[int, int, int]]:
    """(x, y, n) with the corners the issue names: no discordance, n < 10, all one way."""
    rng = np.random.default_rng(seed)
    out = [(0, 0, 3), (0, 0, 1), (3, 0, 3), (0, 3, 3), (0, 0, 164), (5, 0, 5), (1, 1, 2)]
    while len(out) < count:
        n = int(rng.choice([2, 5, 9, 20, 60, 164, 400]))
        p = rng.dirichlet([1, 1, 2])
        x, y, _ = rng.multinomial(n, p)
        out.append((int(x), int(y), n))
    return out


# --- an independent Tango: numeric constrained MLE and root finding --------------------------
def _constrained_var(x: int, y: int, n: int, d: float) -> float:
    """n * Var((x - y) / n) at p_x - p_y = d, with p_y maximising the likelihood numerically."""
    lo, hi = max(0.0, -d), min(1.0, (1 - d) / 2)
    if hi - lo < 1e-12:
        q = lo
    else:

        def nll(q: float) -> float:
            px, rest = q + d, 1 - 2 * q - d
            return -special.xlogy(x, px) - special.xlogy(y, q) - special.xlogy(n - x - y, rest)

        q = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded",
                                     options={"xatol": 1e-13}).x  # fmt: skip
    return n * (2 * q + d - d * d)


def _independent_interval(x: int, y: int, n: int, cc: float) -> tuple[float, float]:
    def stat(d: float, shift: float) -> float:
        v = _constrained_var(x, y, n, d)
        num = x - y - n * d + shift
        if v > 1e-300:
            return num / np.sqrt(v)
        return 0.0 if num == 0 else np.copysign(np.inf, num)

    est = (x - y) / n
    edge = 1 - 1e-12
    hi = edge if stat(edge, cc) >= -Z else optimize.brentq(lambda d: stat(d, cc) + Z, est, edge)
    lo = -edge if stat(-edge, -cc) <= Z else optimize.brentq(lambda d: stat(d, -cc) - Z, -edge, est)
    return lo, hi


def _clopper_pearson_upper(k: int, n: int) -> float:
    # statsmodels' two-sided "beta" interval at 2 alpha: its upper end is the one-sided bound
    return 1.0 if k == n else proportion_confint(k, n, alpha=2 * ALPHA, method="beta")[1]


@pytest.mark.parametrize("cc", [0.0, 1.0])
def test_interval_matches_an_independent_implementation(cc: float) -> None:
    tables = _random_tables(200)
    x, y, n = (np.array(v) for v in zip(*tables, strict=True))
    lo, hi = paired_difference_interval(x, y, n, ALPHA, continuity=cc)
    for k, (a, b, m) in enumerate(tables):
        score = _independent_interval(a, b, m, cc)
        ref = (max(score[0], -_clopper_pearson_upper(b, m)),
               min(score[1], _clopper_pearson_upper(a, m)))  # fmt: skip
        assert lo[k] == pytest.approx(ref[0], abs=1e-6), (a, b, m)
        assert hi[k] == pytest.approx(ref[1], abs=1e-6), (a, b, m)
        assert lo[k] <= (a - b) / m <= hi[k]


def test_one_way_discordance_reduces_to_wilson_from_statsmodels() -> None:
    # with y = 0 the constrained p_y is 0 at the upper bound, and the statistic is Wilson's
    # (which stays under the exact cap without a continuity correction)
    for x, n in [(0, 3), (0, 164), (2, 9), (7, 20), (20, 20), (30, 400)]:
        _, hi = paired_difference_interval(x, 0, n, ALPHA, continuity=0.0)
        _, wilson_hi = proportion_confint(x, n, alpha=2 * ALPHA, method="wilson")
        assert float(hi) == pytest.approx(min(wilson_hi, _clopper_pearson_upper(x, n)), abs=1e-9)
        lo, _ = paired_difference_interval(0, x, n, ALPHA, continuity=0.0)
        assert float(lo) == pytest.approx(-float(hi), abs=1e-9)


def test_p_value_and_interval_agree() -> None:
    for x, y, n in _random_tables(150, seed=1):
        lo, _ = paired_difference_interval(x, y, n, ALPHA)
        for d0 in (-0.5, -0.1, 0.0, 0.02, 0.1):
            p = float(paired_difference_p_value(x, y, n, d0))
            if abs(float(lo) - d0) > 1e-7:
                assert (p < ALPHA) == (float(lo) > d0), (x, y, n, d0, p, lo)


def test_mcnemar_matches_statsmodels_and_scipy() -> None:
    rng = np.random.default_rng(2)
    for _ in range(300):
        n = int(rng.choice([1, 3, 9, 40, 164]))
        base = (rng.random(n) < rng.random()).astype(float)
        cand = np.where(rng.random(n) < rng.random(), 1 - base, base)
        if n < 2:
            continue
        worse, better, p = mcnemar_exact(base, cand)
        table = [[0, worse], [better, 0]]
        two_sided = mcnemar(table, exact=True).pvalue
        reverse = mcnemar_exact(cand, base)[2]
        assert min(1.0, 2 * min(p, reverse)) == pytest.approx(two_sided, abs=1e-12)
        if worse + better:
            scipy_p = sps.binomtest(worse, worse + better, 0.5, alternative="greater").pvalue
            assert p == pytest.approx(scipy_p, abs=1e-12)


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_corrections_match_statsmodels(method: str) -> None:
    rng = np.random.default_rng(3)
    name = {"holm": "holm", "bh": "fdr_bh"}[method]
    for _ in range(200):
        p = rng.random(int(rng.integers(1, 12))) ** 3
        ours = adjust_p_values(list(p), method)  # type: ignore[arg-type]
        assert ours == pytest.approx(list(multipletests(p, method=name)[1]), abs=1e-12)


def test_paired_t_and_bootstrap_match_scipy() -> None:
    rng = np.random.default_rng(4)
    for _ in range(50):
        n = int(rng.integers(3, 60))
        base = rng.normal(2, 0.5, n)
        cand = base + rng.normal(0.05, 0.1, n)
        est = paired_diff(base, cand)
        t = sps.ttest_rel(cand, base)
        assert est.delta / est.se == pytest.approx(t.statistic)
    base = rng.normal(2, 0.5, 300)
    cand = base + rng.normal(0.05, 0.2, 300)
    ours = np.quantile(paired_bootstrap(base, cand, n_boot=4000, seed=1), [0.05, 0.95])
    ref = sps.bootstrap((cand, base), lambda c, b, axis: np.mean(c - b, axis=axis), paired=True,
                        confidence_level=0.9, method="percentile", n_resamples=4000,
                        random_state=1).confidence_interval  # fmt: skip
    assert ours == pytest.approx([ref.low, ref.high], abs=0.006)


# --- the cases: no pass from nothing ---------------------------------------------------
def _binary(base: list[int], cand: list[int], clusters=None, margin: float = 0.02):  # type: ignore[no-untyped-def]
    res = compare_slice("all", "pass", base, cand, higher_is_better=True, binary=True,
                        clusters=clusters, margin=Margin(margin))  # fmt: skip
    return adjust_slices([res], ALPHA)[0]


def test_three_identical_items_are_inconclusive() -> None:
    res = _binary([1, 0, 1], [1, 0, 1])
    assert res.status == "inconclusive" and not res.regressed
    assert res.ci_low < -0.5 and res.ci_high > 0.5  # not [0, 0]
    assert (res.worse, res.better) == (0, 0)
    assert res.mde > res.margin and "past the margin" in res.note


def test_five_tasks_two_samples_are_inconclusive() -> None:
    base = [1, 1, 0, 0, 1, 1, 1, 1, 0, 0]
    res = _binary(base, base, clusters=[t for t in range(5) for _ in range(2)])
    assert res.status == "inconclusive"
    assert res.effective_n == pytest.approx(5)  # no discordance: each task counts once
    assert res.test == "paired_score_cc+design_effect"


@pytest.mark.parametrize("n", [0, 1, 9])
def test_every_pass_fail_corner(n: int) -> None:
    for base, cand in (([1] * n, [1] * n), ([0] * n, [0] * n), ([1] * n, [0] * n)):
        if n < 2:  # nothing to compare: reported as such, never a verdict (nor a crash)
            res = _binary(base, cand)
            assert res.status == "inconclusive" and (res.ci_low, res.ci_high) == (-1.0, 1.0)
            continue
        res = _binary(base, cand)
        assert res.status != "pass"
        assert res.ci_low <= res.delta <= res.ci_high


def test_agreement_on_enough_items_passes() -> None:
    assert _binary([1] * 149, [1] * 149).status == "pass"
    assert _binary([1] * 148, [1] * 148).status == "inconclusive"
    # HumanEval's 164 problems can show a 2-point margin only if the models hardly disagree
    one_loss = _binary([1] * 164, [0] + [1] * 163)
    assert one_loss.status == "inconclusive" and (one_loss.worse, one_loss.better) == (1, 0)


def test_scores_need_ten_items_for_any_verdict() -> None:
    for n, want in ((3, "inconclusive"), (9, "inconclusive"), (10, "pass")):
        base = np.linspace(1.0, 2.0, n)
        res = compare_slice("s", "bpb", base, base.copy(), higher_is_better=False,
                            margin=Margin(0.01, relative=True))  # fmt: skip
        assert res.status == want, (n, res)
    worse = compare_slice("s", "bpb", [1.0, 2, 3], [2.0, 3, 4], higher_is_better=False)
    assert worse.status == "inconclusive" and worse.p_value == 1.0
    assert "at least 10" in worse.note
    clustered = compare_slice("s", "bpb", np.ones(40), np.ones(40), higher_is_better=False,
                              clusters=np.repeat(np.arange(8), 5))  # fmt: skip
    assert clustered.status == "inconclusive" and "8 tasks" in clustered.note


def test_design_effect() -> None:
    # perfectly correlated samples within a task: the task is the unit
    diffs = np.repeat([1, 0, -1, 0, 1, 0, 0, 0, 0, 0], 4)
    assert design_effect(diffs, np.repeat(np.arange(10), 4)) == pytest.approx(4 * 10 / 9, rel=0.01)
    # independent samples: about 1, never below
    rng = np.random.default_rng(5)
    d = rng.choice([-1, 0, 1], size=400, p=[0.1, 0.8, 0.1])
    assert 1.0 <= design_effect(d, np.repeat(np.arange(100), 4)) < 1.6
    assert design_effect(np.zeros(12), np.repeat(np.arange(4), 3)) == 3.0


# --- error rates, exactly: every table of n items weighed by its probability -------------------
def _tables(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    keep = x + y <= n
    return x[keep].astype(float), y[keep].astype(float)


def _weights(n: int, x: np.ndarray, y: np.ndarray, px: float, py: float) -> np.ndarray:
    rest = n - x - y
    log = (special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(y + 1)
           - special.gammaln(rest + 1) + special.xlogy(x, px) + special.xlogy(y, py)
           + special.xlogy(rest, max(1 - px - py, 0.0)))  # fmt: skip
    return np.exp(log)


def _scenarios(step: float) -> list[tuple[float, float]]:
    """(p_x, p_y) cells for pass rates 0.05..0.95 differing by up to 0.3, from the most to the
    least correlated pair of models."""
    out = []
    for base in np.arange(0.05, 0.951, step):
        for drop in (-0.3, -0.1, -0.02, 0.0, 0.02, 0.05, 0.1, 0.3):
            cand = base - drop
            if not 0.05 - 1e-9 <= cand <= 0.95 + 1e-9:
                continue
            lo, hi = max(0.0, base + cand - 1), min(base, cand)
            for t in (0.0, 0.5, 0.9, 0.97, 1.0):
                both = lo + (hi - lo) * t
                px, py = base - both, cand - both
                if px + py > 1e-9:
                    out.append((px, py))
    return out


@pytest.mark.parametrize("n", [10, 30, 100, 400])
def test_coverage_and_one_sided_errors_exactly(n: int) -> None:
    x, y = _tables(n)
    lo, hi = paired_difference_interval(x, y, n, ALPHA)
    worst = 0.0
    for px, py in _scenarios(0.15 if n == 400 else 0.1):
        w = _weights(n, x, y, px, py)
        d = px - py
        above, below = w[lo > d + 1e-12].sum(), w[hi < d - 1e-12].sum()
        assert 1 - above - below >= 1 - 2 * ALPHA, (n, px, py)
        worst = max(worst, above, below)
    assert worst <= ALPHA
    assert worst > ALPHA / 5  # not absurdly conservative either


@pytest.mark.parametrize("margin", [0.02, 0.05])
@pytest.mark.parametrize("n", [30, 164])
def test_false_verdict_rates_at_the_margin_through_compare(n: int, margin: float) -> None:
    # the decision `compare_slice` makes on every table, checked against the vectorised bounds
    # on a sample of them, then weighed exactly at a true degradation equal to the margin
    x, y = _tables(n)
    lo, hi = paired_difference_interval(y, x, n, ALPHA)  # candidate - baseline: gains - losses
    rng = np.random.default_rng(6)
    for k in rng.choice(len(x), size=20, replace=False):
        loss, gain = int(x[k]), int(y[k])
        base = [1] * loss + [0] * gain + [1] * (n - loss - gain)
        cand = [0] * loss + [1] * gain + [1] * (n - loss - gain)
        res = _binary(base, cand, margin=margin)
        assert res.ci_low == pytest.approx(lo[k], abs=1e-9)
        assert (res.status == "pass") == (-lo[k] < margin)
        assert res.regressed == (-hi[k] > margin)
    # only the discordant cells matter; how the rest split between pass and fail does not
    for discordance in (margin, 0.1, 0.3):
        px = (discordance + margin) / 2  # losses - gains = margin: degraded by the margin
        py = px - margin
        w = _weights(n, x, y, px, py)
        false_pass = w[-lo < margin].sum()
        false_regression = w[-hi > margin].sum()
        assert false_pass <= ALPHA and false_regression <= ALPHA, (px, py)


def _clustered(rng, tasks: int, k: int, drop: float, greedy: bool):  # type: ignore[no-untyped-def]
    """Tasks of varying difficulty, ``k`` samples each (identical when ``greedy``); the
    candidate's pass rate on these tasks is lower by exactly ``drop``."""
    p = rng.beta(2, 2, size=tasks)
    draws = (tasks, 1) if greedy else (tasks, k)
    base = np.broadcast_to(rng.random(draws) < p[:, None], (tasks, k))
    lose = np.broadcast_to(rng.random(draws) < drop / np.mean(p), (tasks, k))
    cand = base & ~lose
    return base.ravel().astype(int), cand.ravel().astype(int), np.repeat(np.arange(tasks), k)


@pytest.mark.parametrize(("tasks", "k"), [(5, 4), (30, 2), (100, 5)])
def test_few_clusters_keep_their_error_rates(tasks: int, k: int) -> None:
    rng = np.random.default_rng(7)
    sims, margin = 400, 0.05
    tol = 3 * (ALPHA * (1 - ALPHA) / sims) ** 0.5
    for greedy in (False, True):
        false_pass = false_regression = 0
        for _ in range(sims):
            res = _binary(*_clustered(rng, tasks, k, margin, greedy), margin)
            false_pass += res.status == "pass"
            false_regression += res.regressed
        assert false_pass / sims <= ALPHA + tol, (tasks, greedy)
        assert false_regression / sims <= ALPHA + tol, (tasks, greedy)
    if tasks == 100:  # and not so conservative that nothing passes: equal models pass
        passes = sum(_binary(*_clustered(rng, tasks, k, 0.0, False), margin).status == "pass"
                     for _ in range(50))  # fmt: skip
        assert passes == 50
