"""Paired estimates of a candidate-minus-baseline difference, with standard errors.

Pure functions over arrays. Items may carry a cluster id (a task with several samples); then the
standard error is cluster-robust (CR1), because samples of one task are not independent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

MIN_UNITS = 10
"""Continuous metrics: fewest independent items (tasks when samples cluster) for any verdict;
the t interval's validity rests on the mean being near normal, which a handful of items is not."""


@dataclass(frozen=True)
class PairedDiff:
    """Mean of ``candidate - baseline`` over paired items, with its sampling uncertainty."""

    n: int
    """Number of paired items."""
    clusters: int
    """Independent units (tasks); equals ``n`` without clustering."""
    baseline: float
    candidate: float
    delta: float
    """Mean of candidate minus baseline."""
    se: float
    df: float
    """Degrees of freedom of the t reference distribution (``inf`` for a normal)."""


def _as_pair(baseline: ArrayLike, candidate: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    b = np.asarray(baseline, dtype=np.float64)
    c = np.asarray(candidate, dtype=np.float64)
    if b.shape != c.shape or b.ndim != 1:
        raise ValueError(f"paired arrays must be 1-D and equal length ({b.shape} vs {c.shape})")
    if len(b) < 2:
        raise ValueError("need at least two paired items")
    return b, c


def paired_diff(
    baseline: ArrayLike, candidate: ArrayLike, clusters: ArrayLike | None = None
) -> PairedDiff:
    """Mean paired difference with a plain (paired t) or cluster-robust standard error."""
    b, c = _as_pair(baseline, candidate)
    d = c - b
    n = len(d)
    if clusters is None:
        se = float(d.std(ddof=1) / np.sqrt(n))
        return PairedDiff(n, n, float(b.mean()), float(c.mean()), float(d.mean()), se, n - 1.0)
    groups = np.asarray(clusters)
    if groups.shape != d.shape:
        raise ValueError("clusters must label every paired item")
    _, inverse = np.unique(groups, return_inverse=True)
    g = int(inverse.max()) + 1
    if g < 2:
        raise ValueError("need at least two clusters")
    resid_sums = np.bincount(inverse, weights=d - d.mean(), minlength=g)
    # CR1: sandwich variance of a mean with the small-sample factor G/(G-1)
    var = g / (g - 1) * float(np.sum(resid_sums**2)) / n**2
    return PairedDiff(n, g, float(b.mean()), float(c.mean()), float(d.mean()), var**0.5, g - 1.0)


def mcnemar_exact(baseline: ArrayLike, candidate: ArrayLike) -> tuple[int, int, float]:
    """Exact one-sided McNemar test that the candidate fails more often than the baseline.

    Returns ``(b, c, p)``: b items the baseline passed and the candidate failed, c the reverse,
    and ``P(X >= b)`` for ``X ~ Binomial(b + c, 1/2)``.
    """
    base, cand = _as_pair(baseline, candidate)
    base_pass, cand_pass = base > 0.5, cand > 0.5
    worse = int(np.sum(base_pass & ~cand_pass))
    better = int(np.sum(~base_pass & cand_pass))
    if worse + better == 0:
        return worse, better, 1.0
    p = float(sps.binomtest(worse, worse + better, 0.5, alternative="greater").pvalue)
    return worse, better, p


def paired_bootstrap(
    baseline: ArrayLike,
    candidate: ArrayLike,
    clusters: ArrayLike | None = None,
    *,
    n_boot: int = 2000,
    seed: int = 0,
) -> np.ndarray:
    """Bootstrap distribution of the mean paired difference, resampling clusters (or items)."""
    b, c = _as_pair(baseline, candidate)
    d = c - b
    rng = np.random.default_rng(seed)
    if clusters is None:
        idx = rng.integers(0, len(d), size=(n_boot, len(d)))
        return d[idx].mean(axis=1)
    _, inverse = np.unique(np.asarray(clusters), return_inverse=True)
    g = int(inverse.max()) + 1
    sums = np.bincount(inverse, weights=d, minlength=g)
    counts = np.bincount(inverse, minlength=g).astype(np.float64)
    pick = rng.integers(0, g, size=(n_boot, g))
    return sums[pick].sum(axis=1) / counts[pick].sum(axis=1)
