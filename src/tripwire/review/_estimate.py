"""What a reviewed sample says about the whole set: a share with its interval, from strata
reviewed in full (the records the checks were least sure about) and strata sampled at random.

The share is the stratified estimator ``sum_h (N_h / N) p_h``; its variance sums
``(N_h / N)^2 (1 - n_h / N_h) p_h (1 - p_h) / n_h`` over the sampled strata (a stratum reviewed
in full adds none). The interval is Korn and Graubard's (1998): Clopper-Pearson on the effective
sample size ``p (1 - p) / v``, which stays inside [0, 1] and is not too narrow when defects are
rare, unlike the normal interval. The effective size is capped at what a simple random sample
of the same size holds (``n / (1 - f)``, ``f`` the sampling fraction), which also stands for it
when no variance shows (every sampled record alike). With one stratum and a negligible sampling
fraction it is exactly Clopper-Pearson (``tests/review`` checks it against statsmodels).

Precision and recall of the automated checks are ratios of two such totals (records the checks
removed that reviewers would drop, over all they would drop); their interval comes from a
bootstrap that resamples within each random stratum, keeping each stratum's size fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as sps


@dataclass(frozen=True)
class Stratum:
    """One stratum of a population and the labels of its reviewed members."""

    name: str
    size: int
    """Records in the stratum (``N_h``)."""
    labels: tuple[bool, ...]
    """Reviewed members: True where the record is bad (has the property measured)."""
    census: bool = False
    """Chosen deliberately and reviewed in full (the least-sure records), not at random."""


@dataclass(frozen=True)
class Share:
    """An estimated share with its two-sided interval."""

    estimate: float
    low: float
    high: float
    reviewed: int
    """Labels it rests on."""
    population: int
    """Records it speaks for (strata without any label are left out: see ``unreviewed``)."""
    unreviewed: int
    """Records in strata nobody has reviewed yet (not covered by the estimate)."""
    effective_n: float
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def clopper_pearson(x: float, n: float, confidence: float) -> tuple[float, float]:
    """The exact binomial interval, for a (possibly fractional) count ``x`` of ``n``."""
    a = (1 - confidence) / 2
    low = 0.0 if x <= 0 else float(sps.beta.ppf(a, x, n - x + 1))
    high = 1.0 if x >= n else float(sps.beta.ppf(1 - a, x + 1, n - x))
    return low, high


def stratified_share(strata: Sequence[Stratum], confidence: float = 0.95) -> Share:
    """The share of bad records over the strata that have labels, with its interval."""
    covered = [s for s in strata if s.labels and s.size > 0]
    unreviewed = sum(s.size for s in strata if not s.labels)
    total = sum(s.size for s in covered)
    reviewed = sum(len(s.labels) for s in covered)
    if total == 0:
        return Share(float("nan"), 0.0, 1.0, 0, 0, unreviewed, 0.0, confidence)
    p = var = 0.0
    sampled = drawn_from = 0
    for s in covered:
        w = s.size / total
        p_h = sum(s.labels) / len(s.labels)
        p += w * p_h
        if not s.census:
            n_h = len(s.labels)
            sampled += n_h
            drawn_from += s.size
            fpc = max(0.0, 1 - n_h / s.size)
            var += w * w * fpc * p_h * (1 - p_h) / n_h
    if sampled == 0:  # everything reviewed in full: the share is known exactly
        return Share(p, p, p, reviewed, total, unreviewed, float("inf"), confidence)
    # Never more effective labels than a simple random sample of the same size would hold (with
    # its finite population correction): strata whose labels all agree show no variance, which
    # is chance, not evidence (Korn and Graubard truncate the effective size the same way).
    most = sampled / max(1e-12, 1 - sampled / drawn_from) if sampled < drawn_from else float("inf")
    n_eff = min(most, p * (1 - p) / var) if var > 0 else most
    if not np.isfinite(n_eff):  # every random stratum reviewed in full: the share is exact
        return Share(p, p, p, reviewed, total, unreviewed, n_eff, confidence)
    low, high = clopper_pearson(p * n_eff, n_eff, confidence)
    # the interval cannot exclude what the census part already shows for certain
    return Share(p, min(low, p), max(high, p), reviewed, total, unreviewed, n_eff, confidence)


@dataclass(frozen=True)
class Ratio:
    estimate: float
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _total(strata: Sequence[Stratum], draws: list[np.ndarray] | None = None) -> float:
    """Estimated number of bad records in the strata (``sum N_h p_h``)."""
    out = 0.0
    for k, s in enumerate(strata):
        labels = draws[k] if draws is not None else np.asarray(s.labels, dtype=float)
        if len(labels):
            out += s.size * float(np.mean(labels))
    return out


def recall(
    caught: Sequence[Stratum],
    missed: Sequence[Stratum],
    confidence: float = 0.95,
    reps: int = 2000,
    seed: int = 0,
) -> Ratio:
    """Share of all bad records that are in ``caught`` (the removed strata), from the bad
    records estimated in ``caught`` and in ``missed`` (the kept strata); stratified bootstrap."""
    c = [s for s in caught if s.labels]
    m = [s for s in missed if s.labels]
    a, b = _total(c), _total(m)
    if a + b == 0:
        return Ratio(float("nan"), 0.0, 1.0)
    rng = np.random.default_rng(seed)
    stats = np.empty(reps)
    groups = [np.asarray(s.labels, dtype=float) for s in (*c, *m)]
    census = [s.census for s in (*c, *m)]
    for r in range(reps):
        draws = [
            g if fixed else g[rng.integers(0, len(g), len(g))]
            for g, fixed in zip(groups, census, strict=True)
        ]
        ta, tb = _total(c, draws[: len(c)]), _total(m, draws[len(c) :])
        stats[r] = ta / (ta + tb) if ta + tb > 0 else np.nan
    alpha = (1 - confidence) / 2
    lo, hi = np.nanquantile(stats, [alpha, 1 - alpha])
    return Ratio(a / (a + b), float(lo), float(hi))
