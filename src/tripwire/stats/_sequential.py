"""Sequential change detection on rates: Bernoulli CUSUM and mixture-SPRT p-values.

The CUSUM is Page's log-likelihood-ratio CUSUM for a rate moving from ``p0`` to ``p1``, in the
integer form of Reynolds & Stoumbos (2000): with ``B = -log((1-p1)/(1-p0))`` as the unit, an
event without the defect steps down by 1 and one with it steps up by ``m = round(log(p1/p0)/B
+ 1)``. On that lattice the in-control run length is an absorbing Markov chain whose mean is
solved exactly (a sparse linear system), so the threshold meets a target mean run length between
false alarms (ARL0) instead of the conservative ``h = log(ARL0)`` bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve

_MAX_STATES = 20_000  # beyond this the lattice is refined no further: p0 is then < ~1e-5


def _bernoulli_arl(p0: float, m: int, h: int) -> float:
    """Mean events to the first ``S >= h`` of ``S = max(0, S + m*x - 1)``, x ~ Bernoulli(p0)."""
    if h <= 0:
        return 1.0
    n = h
    rows, cols, vals = [], [], []
    for i in range(n):
        rows.append(i)
        cols.append(i)
        vals.append(1.0)
        down = max(i - 1, 0)
        rows.append(i)
        cols.append(down)
        vals.append(-(1 - p0))
        up = i + m - 1
        if up < n:
            rows.append(i)
            cols.append(up)
            vals.append(-p0)
    a = sparse.csc_matrix((vals, (rows, cols)), shape=(n, n))
    arl = spsolve(a, np.ones(n))
    return float(arl[0])


@dataclass(frozen=True)
class BernoulliCusum:
    """A CUSUM designed to detect a rate rising from ``p0`` to ``p1``."""

    p0: float
    """The in-control rate."""
    p1: float
    """The rate it is tuned to detect (the lattice moves it slightly: see ``effective_p1``)."""
    unit: float
    """Size of one lattice step in nats (``-log((1-p1)/(1-p0))``)."""
    up: int
    """Lattice steps an event with the defect adds."""
    threshold: int
    """Alarm when the statistic reaches this many lattice steps."""
    arl0: float
    """Mean events between false alarms while the rate stays ``p0`` (exact on the lattice)."""

    @property
    def h(self) -> float:
        """The threshold in nats of log-likelihood ratio."""
        return self.threshold * self.unit

    def increment(self, defect: bool) -> int:
        return self.up - 1 if defect else -1

    def drift(self, rate: float) -> float:
        """Mean increment per event, in nats, when the true rate is ``rate``."""
        return (rate * self.up - 1) * self.unit

    def expected_delay(self, rate: float) -> float:
        """Siegmund's approximation of the mean detection delay after the rate moves to
        ``rate`` (``(h + e^-h - 1) / drift``; Lorden's ``h / drift`` as h grows); infinite when
        the statistic does not drift upward at that rate."""
        d = self.drift(rate)
        if d <= 0:
            return math.inf
        return (self.h + math.exp(-self.h) - 1) / d


@lru_cache(maxsize=1024)
def bernoulli_cusum(p0: float, p1: float, arl0: float) -> BernoulliCusum:
    """The smallest-threshold CUSUM for ``p0 -> p1`` whose in-control ARL is at least ``arl0``."""
    if not 0 < p0 < p1 < 1:
        raise ValueError(f"need 0 < p0 < p1 < 1 (got p0={p0}, p1={p1})")
    if arl0 <= 1:
        raise ValueError(f"arl0 must exceed 1 (got {arl0})")
    unit = -math.log((1 - p1) / (1 - p0))
    up = max(2, round(math.log(p1 / p0) / unit + 1))
    # Wald's bound e^h >= ARL0 gives an upper bracket for the bisection
    hi = max(up + 1, math.ceil(math.log(arl0) / unit) + up)
    hi = min(hi, _MAX_STATES)
    lo = 1
    if _bernoulli_arl(p0, up, hi) < arl0:
        lo = hi
    while lo < hi:
        mid = (lo + hi) // 2
        if _bernoulli_arl(p0, up, mid) >= arl0:
            hi = mid
        else:
            lo = mid + 1
    return BernoulliCusum(p0, p1, unit, up, lo, _bernoulli_arl(p0, up, lo))


@dataclass
class CusumRun:
    """The running statistic of one CUSUM over one stream."""

    design: BernoulliCusum
    statistic: int = 0
    observed: int = 0
    """Events seen so far."""
    last_zero: int = 0
    """Events seen when the statistic was last at zero: the change-point estimate."""

    def update(self, defect: bool) -> bool:
        """Add one event; True when the statistic reaches the threshold."""
        self.observed += 1
        self.statistic = max(0, self.statistic + self.design.increment(defect))
        if self.statistic == 0:
            self.last_zero = self.observed
        return self.statistic >= self.design.threshold

    def reset(self) -> None:
        self.statistic = 0
        self.last_zero = self.observed


@dataclass(frozen=True)
class CusumAlarm:
    alarm: int
    """0-based index of the event at which the statistic crossed."""
    change: int
    """0-based index of the first event after the estimated change point."""


def cusum_first_alarm(x: Sequence[bool] | np.ndarray, design: BernoulliCusum) -> CusumAlarm | None:
    """Run a CUSUM over a whole 0/1 sequence; the first alarm and its change-point estimate."""
    run = CusumRun(design)
    for i, v in enumerate(np.asarray(x, dtype=bool)):
        if run.update(bool(v)):
            return CusumAlarm(i, run.last_zero)
    return None


def msprt_p_value(successes: int, n: int, p0: float, tau: float = 0.05) -> float:
    """Always-valid p-value for ``H0: rate = p0`` after ``n`` events (one look).

    Robbins' normal-mixture SPRT on the mean with a N(p0, tau^2) mixing distribution and the
    null variance ``p0(1-p0)`` (Johari et al., 2017). ``1/Lambda`` may be read at any stopping
    time; the running minimum over looks (``msprt_p_values``) stays valid.
    """
    if n <= 0:
        return 1.0
    v = p0 * (1 - p0)
    mean = successes / n
    t2 = tau * tau
    log_lambda = 0.5 * math.log(v / (v + n * t2)) + (n * n * t2 * (mean - p0) ** 2) / (
        2 * v * (v + n * t2)
    )
    return float(min(1.0, math.exp(-log_lambda)))


def msprt_p_values(x: Sequence[bool] | np.ndarray, p0: float, tau: float = 0.05) -> np.ndarray:
    """The running always-valid p-value after every event of a 0/1 sequence."""
    arr = np.asarray(x, dtype=np.float64)
    n = np.arange(1, len(arr) + 1, dtype=np.float64)
    mean = np.cumsum(arr) / n
    v = p0 * (1 - p0)
    t2 = tau * tau
    log_lambda = 0.5 * np.log(v / (v + n * t2)) + (n * n * t2 * (mean - p0) ** 2) / (
        2 * v * (v + n * t2)
    )
    return np.minimum.accumulate(np.minimum(1.0, np.exp(-log_lambda)))


def kl_bernoulli(p: float, q: float) -> float:
    """KL(Bernoulli(p) || Bernoulli(q)) in nats: the per-event information for a shift."""
    out = 0.0
    if p > 0:
        out += p * math.log(p / q)
    if p < 1:
        out += (1 - p) * math.log((1 - p) / (1 - q))
    return out
