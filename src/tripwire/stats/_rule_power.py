"""How often ``compare``'s rule gives each verdict on one slice of ``n`` items, computed exactly.

Pass/fail items. On ``n`` paired items only the discordant ones carry information: ``t`` of them,
``L`` losses (the baseline passed, the candidate failed) and ``t - L`` gains. For a fixed ``n``
and ``t`` the rule's verdict moves one way as ``L`` grows: more losses lower the interval, so a
``regressed`` needs at least some number of losses and a ``pass`` at most some other. Those two
thresholds are found by bisection on ``L`` with the rule's own functions
(``paired_difference_p_value``; a ``pass`` is the same test of ``H0: degradation >= margin``
that the interval's low end inverts), for every ``t`` at once. The chance of each verdict is
then an exact sum over ``t ~ Binomial(n, discordance)`` and ``L | t ~ Binomial(t, losses share)``:
no normal approximation, and the lattice's saw-tooth is in the numbers.

Scores. The paired t test's verdicts under normal differences: the studentized statistic is
noncentral t, so the chances are exact there; fewer than ``MIN_UNITS`` items give no verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special
from scipy import stats as sps

from tripwire.stats._paired import MIN_UNITS
from tripwire.stats._proportions import paired_difference_p_value
from tripwire.stats._quantiles import t_isf

# discordant counts whose binomial weight is below this are left out of the sums (and never
# get thresholds): far below any power or error rate anyone reports
_NEGLIGIBLE = 1e-14


@dataclass(frozen=True)
class Thresholds:
    """Loss counts at which the pass/fail rule decides, for each discordant count ``t``."""

    n: int
    t: np.ndarray
    """Discordant counts covered (a contiguous range)."""
    regress_from: np.ndarray
    """Fewest losses (of ``t``) that make the slice ``regressed``; ``t + 1`` when none do."""
    pass_up_to: np.ndarray
    """Most losses (of ``t``) with which the slice still passes; ``-1`` when none does."""


def _first_true(n: int, t: np.ndarray, decides) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Smallest ``L`` in ``[0, t]`` with ``decides(L, t - L)`` (monotone: False then True), or
    ``t + 1``; bisection on integers for every ``t`` at once."""
    lo, hi = np.full(t.shape, -1), t + 1  # decides(lo) is False, decides(hi) is True
    while np.any(hi - lo > 1):
        mid = (lo + hi) // 2
        active = hi - lo > 1
        safe = np.clip(mid, 0, t)
        ok = decides(safe.astype(np.float64), (t - safe).astype(np.float64)) & active
        hi = np.where(ok, mid, hi)
        lo = np.where(active & ~ok, mid, lo)
    return hi


def binary_thresholds(
    n: int, margin: float, alpha_pass: float, alpha_regress: float, t: np.ndarray | None = None
) -> Thresholds:
    """The rule's thresholds on the loss count at ``n`` items (higher is better): ``regressed``
    when the one-sided p-value of ``H0: losses - gains <= margin`` (shares) is below
    ``alpha_regress`` (the level after the correction across slices), ``pass`` when
    ``H0: losses - gains >= margin`` is rejected at ``alpha_pass`` (the interval's far end is
    under the margin)."""
    ts = np.arange(n + 1) if t is None else np.asarray(t)
    nn = float(n)

    def regresses(loss: np.ndarray, gain: np.ndarray) -> np.ndarray:
        return paired_difference_p_value(loss, gain, nn, margin) < alpha_regress

    def fails_to_pass(loss: np.ndarray, gain: np.ndarray) -> np.ndarray:
        # candidate - baseline = gains - losses; pass: its low end is above -margin
        return ~(paired_difference_p_value(gain, loss, nn, -margin) < alpha_pass)

    # alpha_pass = 0: only the regression thresholds are wanted (the pass test is the costly one)
    pass_up_to = _first_true(n, ts, fails_to_pass) - 1 if alpha_pass > 0 else np.full(ts.shape, -1)
    return Thresholds(n, ts, _first_true(n, ts, regresses), pass_up_to)


def _pmf(t: np.ndarray, n: int, p: float) -> np.ndarray:
    """Binomial probabilities (scipy.special directly: these sums run inside bisections)."""
    if p <= 0 or p >= 1:
        return (t == (n if p >= 1 else 0)).astype(np.float64)
    log = (special.gammaln(n + 1) - special.gammaln(t + 1) - special.gammaln(n - t + 1)
           + t * np.log(p) + (n - t) * np.log1p(-p))  # fmt: skip
    return np.exp(log)


def _at_least(k: np.ndarray, t: np.ndarray, p: float) -> np.ndarray:
    """``P(Binomial(t, p) >= k)``."""
    with np.errstate(invalid="ignore"):
        tail = special.bdtrc(np.maximum(k - 1, 0), t, p)
    return np.where(k <= 0, 1.0, np.where(k > t, 0.0, tail))


def _at_most(k: np.ndarray, t: np.ndarray, p: float) -> np.ndarray:
    """``P(Binomial(t, p) <= k)``."""
    with np.errstate(invalid="ignore"):
        head = special.bdtr(np.clip(k, 0, t), t, p)
    return np.where(k < 0, 0.0, np.where(k >= t, 1.0, head))


def _discordant_range(n: int, discordance: float) -> np.ndarray:
    if discordance <= 0:
        return np.zeros(1, dtype=np.int64)
    if discordance >= 1:
        return np.array([n])
    lo = int(sps.binom.ppf(_NEGLIGIBLE, n, discordance))
    hi = int(sps.binom.isf(_NEGLIGIBLE, n, discordance))
    return np.arange(max(lo, 0), min(hi, n) + 1)


@dataclass(frozen=True)
class VerdictChances:
    """The chance of each verdict on one slice."""

    regressed: float
    passed: float

    @property
    def inconclusive(self) -> float:
        return max(0.0, 1.0 - self.regressed - self.passed)


def binary_verdict_chances(
    n: int,
    loss: float,
    gain: float,
    margin: float,
    alpha_pass: float,
    alpha_regress: float,
) -> VerdictChances:
    """Exact chances of ``regressed`` and ``pass`` on ``n`` paired pass/fail items when an item
    is a loss with probability ``loss`` and a gain with probability ``gain``."""
    if n < 1 or loss < 0 or gain < 0 or loss + gain > 1 + 1e-12:
        raise ValueError("need n >= 1, loss, gain >= 0 and loss + gain <= 1")
    disc = min(loss + gain, 1.0)
    t = _discordant_range(n, disc)
    th = binary_thresholds(n, margin, alpha_pass, alpha_regress, t)
    w = _pmf(t, n, disc)
    share = loss / disc if disc > 0 else 0.0
    regressed = np.sum(w * _at_least(th.regress_from, t, share))
    passed = np.sum(w * _at_most(th.pass_up_to, t, share))
    return VerdictChances(float(min(regressed, 1.0)), float(min(passed, 1.0)))


def score_verdict_chances(
    n: int,
    degradation: float,
    sd_diff: float,
    margin: float,
    alpha_pass: float,
    alpha_regress: float,
) -> VerdictChances:
    """Exact chances under normal paired differences (mean ``degradation``, spread ``sd_diff``)
    of the paired t rule: ``regressed`` when ``t = (D - m) / se`` passes the upper
    ``1 - alpha_regress`` quantile, ``pass`` when ``(m - D) / se`` passes ``1 - alpha_pass``."""
    if sd_diff <= 0:
        raise ValueError("need sd_diff > 0")
    if n < MIN_UNITS:
        return VerdictChances(0.0, 0.0)
    df, root = n - 1.0, np.sqrt(n)
    with np.errstate(over="ignore"):  # a spread tiny next to the gap: noncentrality overflows
        ahead = (degradation - margin) / sd_diff * root
    regressed = _nct_sf(t_isf(alpha_regress, df), df, ahead)
    passed = _nct_sf(t_isf(alpha_pass, df), df, -ahead)
    return VerdictChances(regressed, passed)


def _nct_sf(x: float, df: float, nc: float) -> float:
    """``P(T > x)`` for noncentral t. scipy returns NaN past a noncentrality of about 1e9;
    there ``T = (Z + nc) / sqrt(V / df)`` is ``nc / sqrt(V / df)`` to double precision, whose
    tail is a chi-square's (and a certainty when ``nc`` is infinite)."""
    if abs(nc) < 1e8:
        return float(sps.nct.sf(x, df, nc))
    if not np.isfinite(nc):
        return 1.0 if nc > 0 else 0.0
    if (nc > 0) != (x > 0):  # T has nc's sign, x the other (or is 0)
        return 1.0 if nc > 0 else 0.0
    with np.errstate(over="ignore"):
        v = df * (nc / x) ** 2  # T > x  <=>  V < v (nc > 0), V > v (nc < 0)
    return float(sps.chi2.cdf(v, df) if nc > 0 else sps.chi2.sf(v, df))


def binary_detectable(
    n: float, discordance: float, margin: float, level: float, power: float
) -> float:
    """Smallest degradation (loss share minus gain share) that ``n`` pass/fail items catch as
    ``regressed`` at ``level`` with chance ``power``, the models disagreeing on ``discordance``
    of the items (or on the degradation itself, where larger); 1 when none is caught. Counts
    may be effective (fractional) ones: ``n`` is rounded."""
    size = max(round(n), 1)
    # thresholds are found only for the discordant counts a candidate drop gives weight to
    known = np.full(size + 1, -2)

    def regress_from(t: np.ndarray) -> np.ndarray:
        todo = t[known[t] == -2]
        if len(todo):
            known[todo] = binary_thresholds(size, margin, 0.0, level, todo).regress_from
        return known[t]

    def chance(drop: float) -> float:
        disc = min(max(discordance, drop), 1.0)
        # only discordant counts within 8 sd of their mean carry weight (beyond: < 1e-15)
        spread = 8 * np.sqrt(size * disc * (1 - disc)) + 2
        t = np.arange(max(0, int(size * disc - spread)), min(size, int(size * disc + spread)) + 1)
        share = (disc + drop) / (2 * disc)
        return float(np.sum(_pmf(t, size, disc) * _at_least(regress_from(t), t, share)))

    # bracket from the normal approximation (twice its distance past the margin), else all
    guess = (
        margin
        + (sps.norm.isf(level) + sps.norm.isf(1 - power))
        * np.sqrt(max(discordance, margin, 1 / size) / size)
        + 1 / size
    )
    hi = min(1.0, margin + 2 * (guess - margin))
    if chance(hi) < power:
        if chance(1.0) < power:
            return 1.0
        hi = 1.0
    lo = margin
    for _ in range(18):  # to (hi - lo) / 2.6e5: finer than anyone reads it
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if chance(mid) >= power else (mid, hi)
    return hi
