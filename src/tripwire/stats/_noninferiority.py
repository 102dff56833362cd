"""Per-slice regression verdicts: is the candidate worse than the baseline by more than a margin?

For each slice the degradation ``D`` (candidate worse than baseline, in the metric's units) is
tested one-sided against the margin ``m``:

- ``regressed``: ``H0: D <= m`` rejected at ``alpha`` after adjustment across slices;
- ``pass``: non-inferiority shown, the one-sided ``1 - alpha`` upper bound of ``D`` is below ``m``;
- ``inconclusive``: neither; the minimum detectable degradation says what the data could see,
  and ``note`` says why.

``ci_low``/``ci_high`` are a two-sided ``1 - 2*alpha`` interval of ``candidate - baseline``, so its
ends are exactly the one-sided bounds the two tests use.

What evidence a verdict needs:

- pass/fail metrics use the paired score interval and test of ``tripwire.stats._proportions``
  (Tango's, continuity-corrected; clustered samples through their design effect). The interval
  is wide when items are few, whatever they show: even when the two models agree on every item,
  a pass at margin ``m`` needs about ``3 / m`` items at alpha 0.05 (149 at a 2-point margin, 99
  at 3 points, 59 at 5), the exact bound for seeing no loss at all.
- continuous metrics use a paired t (cluster-robust with several samples per task) or a paired
  bootstrap, which are valid only when the mean is near normal and say nothing from a spread of
  zero on a handful of items; so they give no verdict at all from fewer than ``min_units``
  independent items (tasks when samples cluster): such a slice is ``inconclusive``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from tripwire.documents import Fields
from tripwire.findings import Outcome
from tripwire.stats._multiple import Correction, adjust_p_values
from tripwire.stats._paired import MIN_UNITS, paired_bootstrap, paired_diff
from tripwire.stats._proportions import (
    design_effect,
    paired_difference_interval,
    paired_difference_p_value,
)
from tripwire.stats._quantiles import t_isf
from tripwire.stats._rule_power import binary_detectable

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
            relative = text.endswith("%")
            value = float(text[:-1]) / 100 if relative else float(text)
        except ValueError:
            raise ValueError(f"margin {text!r} is neither a number nor a percentage") from None
        # a negative margin would call identical models a regression
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"margin {text!r}: expected a finite amount >= 0")
        return cls(value, relative=relative)

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
    status: Outcome
    margin: float
    """The margin in the metric's units."""
    mde: float
    """Smallest degradation this comparison detects with the requested power, at the level the
    correction across slices leaves it (pass/fail: exact, at the discordance seen; capped at 1
    when no degradation would be caught)."""
    clusters: int
    higher_is_better: bool
    test: str
    effective_n: float
    """Independent items the verdict rests on: ``n`` over the design effect for clustered
    pass/fail samples, the number of clusters for clustered scores, else ``n``."""
    worse: int | None = None
    """Pass/fail metrics: items on which the candidate did worse than the baseline ..."""
    better: int | None = None
    """... and better (the discordant pairs; the rest agree and carry no information)."""
    note: str = ""
    """Why the slice is inconclusive (or what its verdict rests on)."""
    alpha: float | None = None
    """The one-sided level of its interval and pass (a sequential look's own level)."""
    look: int | None = None
    """Sequential comparisons: the look (from 1) whose data the verdict rests on."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | Fields, doc: str = "comparison") -> SliceComparison:
        """A slice back from ``to_dict`` (a gate result, an ``eval compare --json`` file)."""
        f = Fields.of(d, doc)
        status = f.enum("status", Outcome)
        alpha = f.number("alpha")
        return cls(
            slice=f.text("slice", "all"),
            metric=f.text("metric"),
            n=f.whole("n"),
            baseline=f.number("baseline"),
            candidate=f.number("candidate"),
            delta=f.number("delta"),
            ci_low=f.number("ci_low"),
            ci_high=f.number("ci_high"),
            p_value=f.number("p_value"),
            regressed=f.flag("regressed", status is Outcome.REGRESSED),
            status=status,
            margin=f.number("margin"),
            mde=f.number("mde"),
            clusters=f.whole("clusters", 0),
            higher_is_better=f.flag("higher_is_better", True),
            test=f.text("test", ""),
            effective_n=f.number("effective_n"),
            worse=f.optional_whole("worse"),
            better=f.optional_whole("better"),
            note=f.text("note", ""),
            alpha=None if math.isnan(alpha) else alpha,
            look=f.optional_whole("look"),
        )

    @property
    def label(self) -> str:
        """``metric@slice``: the name a policy's ``slice_margins`` use."""
        return f"{self.metric}@{self.slice}"


def _sf(t: float, df: float) -> float:
    return float(sps.t.sf(t, df)) if np.isfinite(df) else float(sps.norm.sf(t))


def _isf(q: float, df: float) -> float:
    """Upper ``q`` quantile (isf, not ppf(1 - q): exact for the tiny levels of early looks)."""
    return t_isf(q, df)


@dataclass(frozen=True)
class _Bounds:
    """What a slice's test found, before the verdict words."""

    lo: float
    hi: float
    p: float
    mde: float
    effective_n: float
    test: str
    worse: int | None = None
    better: int | None = None


def _binary(
    base: np.ndarray,
    cand: np.ndarray,
    clusters: ArrayLike | None,
    sign: float,
    m: float,
    alpha: float,
    power: float,
    mde_alpha: float,
) -> _Bounds:
    """Pass/fail items: the paired score interval and test, on effective counts."""
    diff = (cand > 0.5).astype(np.float64) - (base > 0.5)
    gain, loss, n = int(np.sum(diff > 0)), int(np.sum(diff < 0)), len(diff)
    deff = design_effect(diff, clusters) if clusters is not None else 1.0
    g, lo_, n_eff = gain / deff, loss / deff, n / deff
    low, high = (float(v) for v in paired_difference_interval(g, lo_, n_eff, alpha))
    # the degradation's cells: losses when higher is better, gains when it is not
    worse, better = (lo_, g) if sign < 0 else (g, lo_)
    p = float(paired_difference_p_value(worse, better, n_eff, m))
    # the degradation the rule catches with `power`, at the discordance seen (or the
    # degradation itself where larger), exactly (see _rule_power)
    mde = binary_detectable(n_eff, (g + lo_) / n_eff, m, mde_alpha, power)
    test = "paired_score_cc" + ("+design_effect" if clusters is not None else "")
    return _Bounds(low, high, p, mde, n_eff, test, *((loss, gain) if sign < 0 else (gain, loss)))


def _continuous(
    base: np.ndarray,
    cand: np.ndarray,
    clusters: ArrayLike | None,
    sign: float,
    m: float,
    alpha: float,
    power: float,
    mde_alpha: float,
    method: Method,
    seed: int,
) -> _Bounds:
    est = paired_diff(base, cand, clusters)
    degradation = sign * est.delta
    crit = _isf(alpha, est.df)
    mde = m + (_isf(mde_alpha, est.df) + _isf(1 - power, est.df)) * est.se
    if method == "bootstrap":
        boot = paired_bootstrap(base, cand, clusters, seed=seed)
        lo, hi = (float(x) for x in np.quantile(boot, [alpha, 1 - alpha]))
        p = float((np.sum(sign * boot <= m) + 1) / (len(boot) + 1))
        return _Bounds(lo, hi, p, mde, est.clusters, "paired_bootstrap")
    lo, hi = est.delta - crit * est.se, est.delta + crit * est.se
    # a zero spread on enough items is evidence (identical scores); too few items are ruled out
    # by the caller
    p = _sf((degradation - m) / est.se, est.df) if est.se > 0 else float(degradation <= m)
    test = "cluster_robust_t" if clusters is not None else "paired_t"
    return _Bounds(lo, hi, p, mde, est.clusters, test)


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
    min_units: int = MIN_UNITS,
    mde_alpha: float | None = None,
) -> SliceComparison:
    """Compare one slice, item by item (p-value not yet adjusted for other slices).

    ``binary`` metrics (values 0/1) always use the paired score interval; ``method`` chooses
    between the paired t and the bootstrap for continuous ones. ``mde_alpha``: the level this
    slice's regression test faces after the correction across slices (``regression_level``;
    default ``alpha``), at which the minimum detectable degradation is computed."""
    too_few = _too_few(slice_name, metric, baseline, candidate, clusters, margin, alpha,
                       higher_is_better, binary)  # fmt: skip
    if too_few is not None:
        return too_few
    est = paired_diff(baseline, candidate, clusters)
    base, cand = np.asarray(baseline, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
    sign = -1.0 if higher_is_better else 1.0
    m = margin.absolute(est.baseline)
    if binary:
        bounds = _binary(base, cand, clusters, sign, m, alpha, power, mde_alpha or alpha)
    else:
        bounds = _continuous(
            base, cand, clusters, sign, m, alpha, power, mde_alpha or alpha, method, seed
        )
    deg_upper = max(sign * bounds.lo, sign * bounds.hi)
    status = Outcome.PASS if deg_upper < m else Outcome.INCONCLUSIVE
    p, note = bounds.p, ""
    units = "tasks" if clusters is not None else "items"
    if not binary and est.clusters < min_units:
        # no verdict either way: the interval's validity rests on more items than this
        status, p = Outcome.INCONCLUSIVE, 1.0
        note = f"{est.clusters} {units}: a verdict on a score needs at least {min_units}"
    elif status is Outcome.INCONCLUSIVE:
        note = (
            f"the interval reaches a degradation of {deg_upper:.3g}, past the margin {m:.3g} "
            f"({bounds.effective_n:.0f} effective {units}; detects about {bounds.mde:.3g})"
        )
    return SliceComparison(
        slice=slice_name,
        metric=metric,
        n=est.n,
        baseline=est.baseline,
        candidate=est.candidate,
        delta=est.delta,
        ci_low=bounds.lo,
        ci_high=bounds.hi,
        p_value=p,
        regressed=False,
        status=status,
        margin=m,
        mde=bounds.mde,
        clusters=est.clusters,
        higher_is_better=higher_is_better,
        test=bounds.test,
        effective_n=bounds.effective_n,
        worse=bounds.worse,
        better=bounds.better,
        note=note,
        alpha=alpha,
    )


def _too_few(
    slice_name: str, metric: str, baseline: ArrayLike, candidate: ArrayLike,
    clusters: ArrayLike | None, margin: Margin, alpha: float, higher_is_better: bool,
    binary: bool,
) -> SliceComparison | None:  # fmt: skip
    """An inconclusive comparison, with the reason, for a slice of fewer than two items (or
    tasks): a slice a review or a small run left nearly empty is reported, not a crash."""
    base = np.asarray(baseline, dtype=np.float64)
    cand = np.asarray(candidate, dtype=np.float64)
    units = len(np.unique(np.asarray(clusters))) if clusters is not None else len(base)
    if units >= 2 or base.shape != cand.shape:
        return None  # enough to compare (or a caller's error, which paired_diff names)
    word = "tasks" if clusters is not None else "items"
    mean = float(base.mean()) if len(base) else 0.0
    # nothing is ruled out: a difference of pass rates lies in [-1, 1], a score's anywhere
    # (finite bounds, so the JSON stays standard)
    wide = 1.0 if binary else sys.float_info.max
    return SliceComparison(
        slice=slice_name, metric=metric, n=len(base), baseline=mean,
        candidate=float(cand.mean()) if len(cand) else 0.0,
        delta=float((cand - base).mean()) if len(base) else 0.0,
        ci_low=-wide, ci_high=wide, p_value=1.0, regressed=False,
        status=Outcome.INCONCLUSIVE, margin=margin.absolute(mean),
        mde=wide, clusters=units, higher_is_better=higher_is_better, test="none",
        effective_n=float(units), note=f"{units} {word}: a comparison needs at least 2",
        alpha=alpha,
    )  # fmt: skip


def adjust_slices(
    comparisons: Sequence[SliceComparison],
    alpha: float = 0.05,
    correction: Correction = "holm",
    family: int | None = None,
) -> list[SliceComparison]:
    """Adjust p-values across slices and settle each slice's status (``family``: slices the
    correction is over, when some are not compared yet; see ``adjust_p_values``)."""
    adjusted = adjust_p_values([c.p_value for c in comparisons], correction, family)
    out = []
    for c, p in zip(comparisons, adjusted, strict=True):
        regressed = p < alpha
        status = Outcome.REGRESSED if regressed else c.status
        out.append(replace(c, p_value=p, regressed=regressed, status=status))
    return out


def overall_outcome(comparisons: Sequence[SliceComparison]) -> Outcome:
    """``regressed`` if any slice regressed, else ``inconclusive`` if any is, else ``pass``."""
    if any(c.regressed for c in comparisons):
        return Outcome.REGRESSED
    if any(c.status is Outcome.INCONCLUSIVE for c in comparisons):
        return Outcome.INCONCLUSIVE
    return Outcome.PASS
