"""Per-slice regression verdicts: is the candidate worse than the baseline by more than a margin?

For each slice the degradation ``D`` (candidate worse than baseline, in the metric's units) is
tested one-sided against the margin ``m``:

- ``regressed``: ``H0: D <= m`` rejected at ``alpha`` after adjustment across slices;
- ``pass``: non-inferiority shown, the one-sided ``1 - alpha`` upper bound of ``D`` is below ``m``;
- ``inconclusive``: neither; the minimum detectable degradation says what the data could see.

``ci_low``/``ci_high`` are a two-sided ``1 - 2*alpha`` interval of ``candidate - baseline``, so its
ends are exactly the one-sided bounds the two tests use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from tripwire.stats._multiple import Correction, adjust_p_values
from tripwire.stats._paired import mcnemar_exact, paired_bootstrap, paired_diff

Status = Literal["pass", "regressed", "inconclusive"]
Method = Literal["t", "bootstrap"]


@dataclass(frozen=True)
class Margin:
    """How much worse a candidate may be before it counts as a regression."""

    value: float
    relative: bool = False
    """When true, ``value`` is a fraction of the baseline's mean (``0.01`` = 1%)."""

    def absolute(self, baseline: float) -> float:
        return abs(baseline) * self.value if self.relative else self.value

    @classmethod
    def parse(cls, text: str) -> Margin:
        """``"0.02"`` is absolute, ``"1%"`` relative to the baseline."""
        text = text.strip()
        try:
            if text.endswith("%"):
                return cls(float(text[:-1]) / 100, relative=True)
            return cls(float(text))
        except ValueError:
            raise ValueError(f"margin {text!r} is neither a number nor a percentage") from None

    def __str__(self) -> str:
        return f"{self.value * 100:g}%" if self.relative else f"{self.value:g}"


@dataclass(frozen=True)
class SliceComparison:
    """The verdict for one slice and metric (the ``slices`` entries of ``eval compare --json``)."""

    slice: str
    metric: str
    n: int
    baseline: float
    candidate: float
    delta: float
    """``candidate - baseline`` in the metric's units."""
    ci_low: float
    ci_high: float
    p_value: float
    """One-sided p-value of ``H0: degradation <= margin``, adjusted across slices."""
    regressed: bool
    status: Status
    margin: float
    """The margin in the metric's units."""
    mde: float
    """Smallest degradation this comparison detects with the requested power."""
    clusters: int
    higher_is_better: bool
    test: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sf(t: float, df: float) -> float:
    return float(sps.t.sf(t, df)) if np.isfinite(df) else float(sps.norm.sf(t))


def _ppf(q: float, df: float) -> float:
    return float(sps.t.ppf(q, df)) if np.isfinite(df) else float(sps.norm.ppf(q))


def compare_slice(
    slice_name: str,
    metric: str,
    baseline: ArrayLike,
    candidate: ArrayLike,
    *,
    higher_is_better: bool,
    binary: bool = False,
    clusters: ArrayLike | None = None,
    margin: Margin = Margin(0.0),
    alpha: float = 0.05,
    method: Method = "t",
    power: float = 0.8,
    seed: int = 0,
) -> SliceComparison:
    """Compare one slice, item by item (p-value not yet adjusted for other slices)."""
    est = paired_diff(baseline, candidate, clusters)
    sign = -1.0 if higher_is_better else 1.0
    degradation = sign * est.delta
    m = margin.absolute(est.baseline)
    crit = _ppf(1 - alpha, est.df)
    if method == "bootstrap":
        boot = paired_bootstrap(baseline, candidate, clusters, seed=seed)
        lo, hi = (float(x) for x in np.quantile(boot, [alpha, 1 - alpha]))
        p = float((np.sum(sign * boot <= m) + 1) / (len(boot) + 1))
        test = "paired_bootstrap"
    else:
        lo, hi = est.delta - crit * est.se, est.delta + crit * est.se
        if est.se > 0:
            p = _sf((degradation - m) / est.se, est.df)
        else:
            p = 0.0 if degradation > m else 1.0
        test = "cluster_robust_t" if clusters is not None else "paired_t"
        if binary and clusters is None:
            # intersection-union: a regression needs both the exact test and the margin test
            p = max(p, mcnemar_exact(baseline, candidate)[2] if higher_is_better else 1.0)
            test = "mcnemar_exact+paired_t"
    deg_upper = max(sign * lo, sign * hi)
    status: Status = "pass" if deg_upper < m else "inconclusive"
    mde = m + (crit + _ppf(power, est.df)) * est.se
    return SliceComparison(
        slice=slice_name,
        metric=metric,
        n=est.n,
        baseline=est.baseline,
        candidate=est.candidate,
        delta=est.delta,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        regressed=False,
        status=status,
        margin=m,
        mde=mde,
        clusters=est.clusters,
        higher_is_better=higher_is_better,
        test=test,
    )


def adjust_slices(
    comparisons: Sequence[SliceComparison], alpha: float = 0.05, correction: Correction = "holm"
) -> list[SliceComparison]:
    """Adjust p-values across slices and settle each slice's status."""
    adjusted = adjust_p_values([c.p_value for c in comparisons], correction)
    out = []
    for c, p in zip(comparisons, adjusted, strict=True):
        regressed = p < alpha
        status: Status = "regressed" if regressed else c.status
        out.append(replace(c, p_value=p, regressed=regressed, status=status))
    return out


def overall_verdict(comparisons: Sequence[SliceComparison]) -> str:
    """``regression`` if any slice regressed, else ``inconclusive`` if any is, else ``pass``."""
    if any(c.regressed for c in comparisons):
        return "regression"
    if any(c.status == "inconclusive" for c in comparisons):
        return "inconclusive"
    return "pass"
