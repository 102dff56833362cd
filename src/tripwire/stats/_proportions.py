"""The difference of two paired proportions: Tango's score interval and test.

On ``n`` paired pass/fail items, ``x`` items pass only on the first model and ``y`` only on the
second; the difference of pass rates ``p_x - p_y`` is estimated by ``(x - y) / n``. Its score
statistic (Tango 1998) uses the variance under the value tested, with the cell probability
re-estimated under that value (the constrained maximum likelihood, a closed-form root), so the
interval stays honest where the Wald interval collapses: with no discordant pair it is
``±z²/(n + z²)`` wide, not zero.

A continuity correction of one count (McNemar's) is applied: without it the one-sided error
reaches 0.07-0.09 at small n. The correction is costly where models rarely disagree, so each end
is also capped by the exact (Clopper-Pearson) bound of the one cell it can come from: ``p_x - p_y``
is at most ``p_x``. With no discordant item a pass at a 2-point margin then needs 149 items
instead of 222. Whether the capped interval keeps its promise is checked exactly, not taken from
theory: over every table of n = 10 to 400 items, pass rates of 0.05 to 0.95 and dependence from
none to full, each one-sided error stays at or under ``alpha`` where the two rates differ by up to
0.3, and the two-sided coverage stays at or above ``1 - 2 alpha`` everywhere
(``benchmarks/paired_coverage.py`` prints the table; ``tests/stats/test_proportions.py`` checks it).

Several samples per task are not independent. Their design effect (the cluster-robust variance of
the mean difference over its variance as independent items, Rao and Scott 1992) divides every
count before the interval is computed, and is never taken below 1; with no discordant sample it
cannot be estimated and is taken at its worst, the mean number of samples per task.

The functions take arrays and broadcast, so the coverage benchmark computes the interval of every
possible table in one call.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

CONTINUITY = 1.0
"""Counts by which the score statistic's numerator is moved towards the value tested."""
_BISECTIONS = 64


def _score(x: np.ndarray, y: np.ndarray, n: np.ndarray, d: np.ndarray, shift: float) -> np.ndarray:
    """Tango's statistic for ``p_x - p_y = d``, numerator moved by ``shift`` counts."""
    # Constrained MLE of p_y: the positive root of 2n q^2 - B q - y d (1 - d) = 0.
    b = x * (1 + d) + y * (1 - d) - 2 * n * d
    q = (b + np.sqrt(np.maximum(b * b + 8 * n * y * d * (1 - d), 0.0))) / (4 * n)
    var = np.maximum(n * (2 * q + d * (1 - d)), 0.0)
    num = x - y - n * d + shift
    with np.errstate(divide="ignore", invalid="ignore"):
        z = num / np.sqrt(var)
    degenerate = np.where(num == 0, 0.0, np.copysign(np.inf, num))
    return np.where(var > 0, z, degenerate)


def _arrays(x: ArrayLike, y: ArrayLike, n: ArrayLike) -> tuple[np.ndarray, ...]:
    x, y, n = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, y, n)))
    if np.any(n <= 0) or np.any(x < 0) or np.any(y < 0) or np.any(x + y > n * (1 + 1e-12)):
        raise ValueError("need 0 <= x, y and x + y <= n, n > 0")
    return x, y, n


def paired_difference_interval(
    x: ArrayLike,
    y: ArrayLike,
    n: ArrayLike,
    alpha: float = 0.05,
    continuity: float = CONTINUITY,
    exact_cap: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)``: each a one-sided ``1 - alpha`` bound of ``p_x - p_y``, so together a
    two-sided ``1 - 2 alpha`` interval. Counts may be fractional (effective counts).
    ``continuity=0, exact_cap=False`` is Tango's published interval."""
    x, y, n = _arrays(x, y, n)
    z = float(sps.norm.isf(alpha))  # isf: exact for the tiny levels of early sequential looks
    est = (x - y) / n
    # The statistic falls as d rises: bisect for where it crosses -z above the estimate and +z
    # below it (the test of each bound moves its numerator towards that bound by `continuity`).
    inside, outside = est.copy(), np.ones_like(est)
    for _ in range(_BISECTIONS):
        mid = (inside + outside) / 2
        ok = _score(x, y, n, mid, +continuity) >= -z
        inside, outside = np.where(ok, mid, inside), np.where(ok, outside, mid)
    high = inside
    inside, outside = est.copy(), -np.ones_like(est)
    for _ in range(_BISECTIONS):
        mid = (inside + outside) / 2
        ok = _score(x, y, n, mid, -continuity) <= z
        inside, outside = np.where(ok, mid, inside), np.where(ok, outside, mid)
    if not exact_cap:
        return inside, high
    return np.maximum(inside, -_exact_upper(y, n, alpha)), np.minimum(
        high, _exact_upper(x, n, alpha)
    )


def _exact_upper(k: np.ndarray, n: np.ndarray, alpha: float) -> np.ndarray:
    """Clopper-Pearson one-sided upper bound of a rate from ``k`` of ``n`` (counts may be
    fractional: the beta quantile is continuous in them)."""
    with np.errstate(invalid="ignore"):
        bound = sps.beta.isf(alpha, k + 1, np.maximum(n - k, 1e-12))
    return np.where(k >= n, 1.0, bound)


def paired_difference_p_value(
    x: ArrayLike, y: ArrayLike, n: ArrayLike, d0: ArrayLike, continuity: float = CONTINUITY
) -> np.ndarray:
    """One-sided p-value of ``H0: p_x - p_y <= d0`` against ``p_x - p_y > d0``; below ``alpha``
    exactly when ``d0`` lies under the interval's low end."""
    x, y, n = _arrays(x, y, n)
    d = np.clip(np.asarray(d0, dtype=np.float64), -1 + 1e-12, 1 - 1e-12)
    score = sps.norm.sf(_score(x, y, n, d, -continuity))
    # the cap's test: p_y < -d0 shown exactly (only possible for d0 < 0); P(Bin(n, -d0) <= y)
    exact = np.ones_like(score)
    if np.any(d < 0):  # skipped for a margin above zero (the regression test): beta is costly
        with np.errstate(invalid="ignore"):
            exact = np.where(d < 0, sps.beta.sf(-d, y + 1, np.maximum(n - y, 1e-12)), 1.0)
    return np.minimum(score, np.where(y >= n, 1.0, exact))


def design_effect(diffs: ArrayLike, clusters: ArrayLike) -> float:
    """Cluster-robust (CR1) variance of the mean of ``diffs`` (values in -1, 0, 1) over its
    variance as independent paired items; at least 1. Without a discordant item it cannot be
    estimated and is the mean cluster size, the worst case."""
    d = np.asarray(diffs, dtype=np.float64)
    _, inverse = np.unique(np.asarray(clusters), return_inverse=True)
    g = int(inverse.max()) + 1
    n = len(d)
    discordant = float(np.mean(d != 0))
    independent = (discordant - d.mean() ** 2) / n
    if independent <= 0 or g < 2:
        return n / g
    resid = np.bincount(inverse, weights=d - d.mean(), minlength=g)
    robust = g / (g - 1) * float(np.sum(resid**2)) / n**2
    return max(1.0, robust / independent)
