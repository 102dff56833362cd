"""Sequential change detection on rates: Bernoulli CUSUMs (plain and risk-adjusted) and
mixture-SPRT p-values.

The CUSUM is Page's log-likelihood-ratio CUSUM for a rate moving from ``p0`` to ``p1``, in the
integer form of Reynolds & Stoumbos (2000): with ``B = -log((1-p1)/(1-p0))`` as the unit, an
event without the defect steps down by 1 and one with it steps up by ``m = round(log(p1/p0)/B
+ 1)``. On that lattice the in-control run length is an absorbing Markov chain whose mean is
solved exactly (a sparse linear system), so the threshold meets a target mean run length between
false alarms (ARL0) instead of the conservative ``h = log(ARL0)`` bound.

The risk-adjusted CUSUM (Steiner, Cook, Farewell & Treasure, 2000) scores each event against its
own stratum's in-control rate ``p0_s`` (here: the language an answer is in), so a shift in the
mix of strata moves no statistic while more defects within strata do. The alternative is an
additive rise ``p0_s + shift`` (what a serving fault that corrupts a share of answers does).
Its threshold is calibrated exactly on a common lattice, under one or more mixes of strata, and
averaged over the uncertainty of rates estimated from a finite warm-up.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve

_MAX_STATES = 20_000  # beyond this the lattice is refined no further: p0 is then < ~1e-5
# Quantiles (as CDF intervals) of the baseline rate's posterior that the risk-adjusted threshold
# is averaged over; finer in the upper tail, where an underestimated baseline costs false alarms.
_EDGES = (0.0, 0.25, 0.5, 0.75, 0.9, 0.97, 0.99, 0.997, 0.999, 0.9997, 0.9999, 1.0)


def lattice_arl(atoms: Sequence[tuple[float, int]], h: int) -> float:
    """Mean steps to the first ``S >= h`` of ``S = max(0, S + k)`` started at 0, where each step
    draws ``k`` from ``atoms`` (``(probability, k)`` pairs) independently."""
    if h <= 0:
        return 1.0
    i = np.arange(h)
    rows, cols, vals = [i], [i], [np.ones(h)]
    for p, k in atoms:
        j = np.maximum(i + k, 0)
        keep = j < h
        rows.append(i[keep])
        cols.append(j[keep])
        vals.append(np.full(int(keep.sum()), -p))
    a = sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(h, h)
    )
    return float(spsolve(a, np.ones(h))[0])


def _bernoulli_arl(p0: float, m: int, h: int) -> float:
    """Mean events to the first ``S >= h`` of ``S = max(0, S + m*x - 1)``, x ~ Bernoulli(p0)."""
    return lattice_arl(((1 - p0, -1), (p0, m - 1)), h)


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
        return siegmund_delay(self.h, self.drift(rate))


def siegmund_delay(h: float, drift: float) -> float:
    """Siegmund's approximation of a CUSUM's mean delay: ``(h + e^-h - 1) / drift`` for a
    threshold of ``h`` nats and a mean increment of ``drift`` nats per event (inf if <= 0)."""
    if drift <= 0:
        return math.inf
    return (h + math.exp(-h) - 1) / drift


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


@dataclass(frozen=True)
class StratifiedCusum:
    """A risk-adjusted Bernoulli CUSUM: an event of stratum ``s`` adds the lattice-rounded
    log-likelihood ratio of ``alternatives[s]`` against ``rates[s]``."""

    rates: tuple[float, ...]
    """In-control rate of each stratum (by index)."""
    alternatives: tuple[float, ...]
    """The rate each stratum is tuned to detect."""
    weights: tuple[float, ...]
    """Share of each stratum in the default mix (the warm-up's)."""
    unit: float
    """Size of one lattice step in nats."""
    threshold: int
    """Alarm when the statistic reaches this many lattice steps."""
    arl0: float
    """Mean events between false alarms under the worst calibration mix, exact on the lattice
    and averaged over the baseline's estimation uncertainty (``1 / E[1 / ARL]``)."""

    @property
    def h(self) -> float:
        return self.threshold * self.unit

    def steps(self, p0: float, p1: float) -> tuple[int, int]:
        """Lattice steps ``(defect, no defect)`` for an event scored ``p1`` against ``p0``."""
        return _steps(p0, p1, self.unit)

    def _all_steps(self) -> list[tuple[int, int]]:
        return [self.steps(p0, p1) for p0, p1 in zip(self.rates, self.alternatives, strict=True)]

    def drift(self, rates: Sequence[float], weights: Sequence[float] | None = None) -> float:
        """Mean increment per event, in nats, when stratum ``s`` has true rate ``rates[s]``."""
        w = self.weights if weights is None else weights
        return self.unit * sum(
            wi * (r * up + (1 - r) * down)
            for wi, r, (up, down) in zip(w, rates, self._all_steps(), strict=True)
        )

    def expected_delay(
        self, rates: Sequence[float], weights: Sequence[float] | None = None
    ) -> float:
        """Siegmund's approximation of the mean delay once stratum ``s`` runs at ``rates[s]``."""
        return siegmund_delay(self.h, self.drift(rates, weights))

    def arl(self, rates: Sequence[float], weights: Sequence[float] | None = None) -> float:
        """Exact (on the lattice) mean events to an alarm from a zero start, strata drawn from
        ``weights`` (default: the calibration mix) and stratum ``s`` running at ``rates[s]``:
        the in-control ARL at the baseline rates, the zero-start delay at shifted ones."""
        w = self.weights if weights is None else weights
        return lattice_arl(_atoms(self._all_steps(), rates, w), self.threshold)


def _steps(p0: float, p1: float, unit: float) -> tuple[int, int]:
    up = round(math.log(p1 / p0) / unit)
    down = -max(1, round(-math.log((1 - p1) / (1 - p0)) / unit))
    return up, down


def _atoms(
    steps: Sequence[tuple[int, int]], true: Sequence[float], weights: Sequence[float]
) -> list[tuple[float, int]]:
    out: dict[int, float] = {}
    for (up, down), p, w in zip(steps, true, weights, strict=True):
        out[up] = out.get(up, 0.0) + w * p
        out[down] = out.get(down, 0.0) + w * (1 - p)
    return [(p, k) for k, p in out.items() if p > 0]


def _lattice_unit(rates: Sequence[float], alternatives: Sequence[float]) -> float:
    """The no-defect decrements of every stratum as whole steps, within 10% (finer steps cost
    lattice states, so the coarsest that fits)."""
    downs = [-math.log((1 - p1) / (1 - p0)) for p0, p1 in zip(rates, alternatives, strict=True)]
    smallest = min(downs)
    for k in range(1, 5):
        unit = smallest / k
        if all(abs(d / unit - round(d / unit)) <= 0.1 * round(d / unit) for d in downs):
            return unit
    return smallest / 5


def _posterior_nodes(posteriors: Sequence[tuple[float, float]]) -> list[tuple[float, list[float]]]:
    """``(weight, rates)``: every stratum at the same quantile of its own Beta posterior (the
    comonotone coupling: errors that add up rather than cancel across strata), each interval of
    ``_EDGES`` at its upper end (the false-alarm rate grows with the rates, so this errs high),
    the last one at its midpoint."""
    from scipy.special import betaincinv

    out = []
    for lo, hi in itertools.pairwise(_EDGES):
        q = hi if hi < 1 else (lo + hi) / 2
        out.append((hi - lo, [min(float(betaincinv(a, b, q)), 0.999) for a, b in posteriors]))
    return out


def resolvable_shift(
    defects: int, events: int, p0: float | None = None, quantile: float = 0.999
) -> float:
    """The smallest rise over a warm-up's estimated rate ``p0`` (default: the Jeffreys mean of
    ``defects`` in ``events``) that a CUSUM can be tuned to without treating the estimate's own
    uncertainty as a change.

    A Bernoulli CUSUM for ``p0 -> p1`` drifts upward at any rate above the logarithmic mean
    ``(p1 - p0) / log(p1 / p0)``; when that lies inside the baseline's plausible range (its
    Jeffreys posterior below ``quantile``), no threshold short of a very long one holds ARL0.
    This is the rise that puts the logarithmic mean at that quantile: large after a short,
    defect-free warm-up, zero once the warm-up has seen a few dozen defects.
    """
    from scipy.optimize import brentq
    from scipy.special import betaincinv

    a, b = defects + 0.5, events - defects + 0.5
    q = float(betaincinv(a, b, quantile))
    base = a / (a + b) if p0 is None else p0
    if base >= q:
        return 0.0

    def excess(p1: float) -> float:
        return (p1 - base) / math.log(p1 / base) - q

    top = 0.999
    if excess(top) <= 0:
        return top - base
    return float(brentq(excess, base * (1 + 1e-9), top, xtol=1e-9)) - base


@lru_cache(maxsize=256)
def stratified_cusum(
    rates: tuple[float, ...],
    alternatives: tuple[float, ...],
    mixes: tuple[tuple[float, ...], ...],
    arl0: float,
    posteriors: tuple[tuple[float, float], ...] | None = None,
) -> StratifiedCusum:
    """The smallest-threshold risk-adjusted CUSUM for ``rates[s] -> alternatives[s]`` whose
    false-alarm rate is at most ``1 / arl0`` per event under every mix of strata in ``mixes``
    (the first is the design's default mix).

    ``posteriors`` (Beta ``(a, b)`` per stratum) says the rates were estimated from a warm-up:
    the false-alarm rate is then averaged over those posteriors, every stratum at the same
    quantile of its own, so a baseline that came out low by chance, or a stratum the warm-up saw
    little of, does not silently shorten the run length between false alarms.
    """
    if not rates or not len(rates) == len(alternatives):
        raise ValueError("need one alternative per stratum")
    if not mixes or any(len(w) != len(rates) or not math.isclose(sum(w), 1.0) for w in mixes):
        raise ValueError("every mix needs one weight per stratum, summing to 1")
    if not all(0 < p0 < p1 < 1 for p0, p1 in zip(rates, alternatives, strict=True)):
        raise ValueError(f"need 0 < rate < alternative < 1 (got {rates}, {alternatives})")
    if arl0 <= 1:
        raise ValueError(f"arl0 must exceed 1 (got {arl0})")
    unit = _lattice_unit(rates, alternatives)
    steps = [_steps(p0, p1, unit) for p0, p1 in zip(rates, alternatives, strict=True)]
    nodes = [(1.0, list(rates))] if posteriors is None else _posterior_nodes(posteriors)
    cases = [[(w, _atoms(steps, true, mix)) for w, true in nodes] for mix in mixes]

    def false_alarm_rate(h: int) -> float:
        return max(sum(w / lattice_arl(atoms, h) for w, atoms in case) for case in cases)

    target = 1 / arl0
    top = max(k for case in cases for _, atoms in case for _, k in atoms)
    lo, hi = 1, min(_MAX_STATES, math.ceil(math.log(arl0) / unit) + top)
    f_hi = false_alarm_rate(hi)
    while f_hi > target and hi < _MAX_STATES:  # the posteriors' upper tails can need more
        lo, hi = hi, min(_MAX_STATES, 2 * hi)
        f_hi = false_alarm_rate(hi)
    if f_hi > target:
        lo = hi
    f_lo = false_alarm_rate(lo)
    # false position on log(rate), which is close to linear in h: a handful of solves
    while hi - lo > 1:
        t = (math.log(f_lo) - math.log(target)) / (math.log(f_lo) - math.log(f_hi))
        mid = min(hi - 1, max(lo + 1, round(lo + t * (hi - lo))))
        f_mid = false_alarm_rate(mid)
        if f_mid <= target:
            hi, f_hi = mid, f_mid
        else:
            lo, f_lo = mid, f_mid
    return StratifiedCusum(rates, alternatives, mixes[0], unit, hi, 1 / f_hi)


@dataclass
class CusumRun:
    """The running statistic of one CUSUM over one stream."""

    threshold: int
    statistic: int = 0
    observed: int = 0
    """Events seen so far."""
    last_zero: int = 0
    """Events seen when the statistic was last at zero: the change-point estimate."""

    def add(self, step: int) -> bool:
        """Add one event's lattice step; True when the statistic reaches the threshold."""
        self.observed += 1
        self.statistic = max(0, self.statistic + step)
        if self.statistic == 0:
            self.last_zero = self.observed
        return self.statistic >= self.threshold

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
    run = CusumRun(design.threshold)
    for i, v in enumerate(np.asarray(x, dtype=bool)):
        if run.add(design.increment(bool(v))):
            return CusumAlarm(i, run.last_zero)
    return None


def msprt_excess_p_value(excess: float, variance: float, n: int, tau: float = 0.05) -> float:
    """Always-valid p-value for ``H0: E[x_i] = p_i`` after ``n`` events, from the summed excess
    ``sum(x_i - p_i)`` and the summed null variance ``sum(p_i (1 - p_i))``.

    Robbins' normal-mixture SPRT on the mean excess with a N(0, tau^2) mixing distribution
    (Johari et al., 2017); with per-event ``p_i`` it is the risk-adjusted form. ``1/Lambda`` may
    be read at any stopping time; the running minimum over looks stays valid.
    """
    if n <= 0 or variance <= 0:
        return 1.0
    nt2 = n * n * tau * tau
    log_lambda = 0.5 * math.log(variance / (variance + nt2)) + nt2 * excess**2 / (
        2 * variance * (variance + nt2)
    )
    return float(min(1.0, math.exp(-log_lambda)))


def msprt_p_value(successes: int, n: int, p0: float, tau: float = 0.05) -> float:
    """Always-valid p-value for ``H0: rate = p0`` after ``n`` events (one look); see
    ``msprt_excess_p_value``."""
    return msprt_excess_p_value(successes - n * p0, n * p0 * (1 - p0), n, tau)


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
