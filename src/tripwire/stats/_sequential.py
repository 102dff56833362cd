"""Sequential change detection on rates: Bernoulli CUSUMs (plain and risk-adjusted banks); the
mixture-SPRT p-values are in ``_mixture``.

The CUSUM is Page's log-likelihood-ratio CUSUM for a rate moving from ``p0`` to ``p1``, in the
integer form of Reynolds & Stoumbos (2000): the log-likelihood ratios of an event with and
without the defect are rounded to whole multiples of one lattice unit. On that lattice the
in-control run length is an absorbing Markov chain whose mean is solved exactly, so a threshold
meets a target mean run length between false alarms (ARL0) instead of the conservative ``h =
log(ARL0)`` bound (Lorden's ``ARL0 >= e^h``).

The risk-adjusted CUSUM (Steiner, Cook, Farewell & Treasure, 2000) scores each event against its
own stratum's in-control rate ``p0_s`` (here: the language an answer is in), so a shift in the
mix of strata moves no statistic while more defects within strata do. The alternative is a
corrupted share ``f``: ``p1_s = p0_s + (1 - p0_s) f`` (what a serving fault that breaks a share of
answers does), so an event without the defect steps down by the same ``-log(1 - f)`` in every
stratum. Because the size of a real rise is unknown, a ``CusumBank`` runs one chart per shift on a
grid (Lorden & Pollak's multi-chart idea); each chart gets ``1 / K`` of the false-alarm budget.

Baselines estimated from a warm-up are never taken at face value: see ``_warmup`` for the rates
and shifts a finite warm-up supports, and ``cusum_bank`` for the guarantee they give together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
from scipy.linalg import solve_banded
from threadpoolctl import ThreadpoolController

_MAX_STATES = 60_000
"""Lattice states a threshold may span; a coarser unit is used beyond (efficiency, not safety:
every threshold is exact for the lattice it runs on)."""
_STEP_TOLERANCE = 0.05
"""Relative rounding error allowed on every lattice step (finer units cost states)."""
_DRIFT_TOLERANCE = 0.2
"""Relative error allowed on each stratum's in-control drift by the rounding."""


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def lattice_arl(atoms: Sequence[tuple[float, int]], h: int) -> float:
    """Mean steps to the first ``S >= h`` of ``S = max(0, S + k)`` started at 0, where each step
    draws ``k`` from ``atoms`` (``(probability, k)`` pairs) independently; ``inf`` when ``h``
    cannot be reached.

    Solved in renewal form: the run is a sequence of excursions from 0, so the mean is the mean
    excursion length over the chance that an excursion reaches ``h`` (Wald's identity). Both are
    bounded, well-conditioned linear systems, where solving for the mean run length directly
    (``(I - P) L = 1``) is nearly singular once it is large (``MatrixRankWarning``, or wrong
    signs, past about 1e13).
    """
    if h <= 0:
        return 1.0
    atoms = [(float(p), int(k)) for p, k in atoms if p > 0]
    direct = sum(p for p, k in atoms if k >= h)
    inner = [(p, k) for p, k in atoms if 0 < k < h]
    if h == 1 or not inner:
        return 1.0 / direct if direct > 0 else math.inf
    n = h - 1  # states 1..h-1 at indices 0..h-2
    # (I - P) over the states 1..h-1 is banded (a step moves at most max |k|), so LAPACK's
    # banded LU solves it in O(n x bandwidth^2): a threshold search makes a dozen of these per
    # chart, and a sparse factorisation's set-up cost dominated the monitor's warm-up designs
    lower = max([0] + [-k for _, k in atoms if -n < k < 0])
    upper = max([0] + [k for _, k in atoms if 0 < k < n])
    band = np.zeros((lower + upper + 1, n))
    band[upper] = 1.0
    top = np.zeros(n)
    i = np.arange(1, h)
    for p, k in atoms:
        j = i + k
        top[j >= h] += p
        if k == 0:
            band[upper] -= p
        elif -n < k < n:
            inside = (j >= 1) & (j < h)
            band[upper - k, (j[inside] - 1)] -= p  # row i-1, column j-1: ab[u + row - col, col]
    # one BLAS thread: OpenBLAS splits a band's tiny updates over threads, which took 100x
    # longer (0.55 s for one solve) whenever the other core was busy
    try:  # singular: some states never leave (no step down and none up): never alarms
        with _blas().limit(limits=1, user_api="blas"):
            sol = solve_banded((lower, upper), band, np.column_stack([top, np.ones(n)]),
                               check_finite=False)  # fmt: skip
    except np.linalg.LinAlgError:
        return math.inf
    reach = direct + sum(p * sol[k - 1, 0] for p, k in inner)
    length = 1.0 + sum(p * sol[k - 1, 1] for p, k in inner)
    if not (math.isfinite(reach) and math.isfinite(length)) or reach <= length * 1e-300:
        return math.inf
    return float(length / reach)


def _unit(
    exact: Sequence[tuple[float, float]], rates: Sequence[float], arl0: float
) -> float | None:
    """The coarsest lattice unit (a finer one costs states) that rounds every stratum's steps
    ``(up, down)`` within ``_STEP_TOLERANCE`` and keeps its in-control drift at ``rates`` within
    ``_DRIFT_TOLERANCE`` of the exact one (a chart tuned to a small shift drifts down only a
    little, and rounding must not turn that into a drift up); ``None`` when that would take more
    than ``_MAX_STATES`` states up to ``log(arl0)``."""
    smallest = min(min(u, -d) for u, d in exact)
    finest = math.floor(_MAX_STATES * smallest / max(math.log(arl0), 1.0))
    for k in range(1, min(finest, 4096) + 1):
        unit = smallest / k
        ok = True
        for (u, d), p in zip(exact, rates, strict=True):
            ru, rd = max(1, round(u / unit)), min(-1, round(d / unit))
            drift = p * u + (1 - p) * d
            error = p * (ru * unit - u) + (1 - p) * (rd * unit - d)
            rounding = max(abs(ru * unit - u) / u, abs(rd * unit - d) / -d)
            if rounding > _STEP_TOLERANCE or abs(error) > _DRIFT_TOLERANCE * abs(drift):
                ok = False
                break
        if ok:
            return unit
    return None


def _calibrate(cases: Sequence[Sequence[tuple[float, int]]], arl0: float, unit: float) -> int:
    """The smallest threshold (lattice steps) whose false-alarm rate ``1 / ARL`` is at most
    ``1 / arl0`` under every case (a list of atoms each)."""

    def rate(h: int) -> float:
        return max(1.0 / lattice_arl(atoms, h) for atoms in cases)

    target = 1.0 / arl0
    # Lorden's bound e^h >= ARL0 holds for exact log-likelihood ratios: a bracket near it
    hi = max(2, math.ceil(math.log(arl0) / unit))
    f_hi = rate(hi)
    lo, f_lo = 1, rate(1)
    while f_hi > target:
        if hi >= 4 * _MAX_STATES:
            raise ValueError(f"no threshold within {hi} lattice steps reaches ARL0 {arl0:g}")
        lo, f_lo, hi = hi, f_hi, 2 * hi
        f_hi = rate(hi)
    if f_lo <= target:
        return lo
    # false position on log(rate), which is close to linear in h (a handful of solves), with a
    # bisection whenever a step failed to halve the bracket, so it never crawls
    halve = False
    while hi - lo > 1:
        if halve or not (f_hi > 0 and f_lo > 0):
            mid = (lo + hi) // 2
        else:
            t = (math.log(f_lo) - math.log(target)) / (math.log(f_lo) - math.log(f_hi))
            mid = min(hi - 1, max(lo + 1, round(lo + t * (hi - lo))))
        width = hi - lo
        f_mid = rate(mid)
        if f_mid <= target:
            hi, f_hi = mid, f_mid
        else:
            lo, f_lo = mid, f_mid
        halve = not halve and 2 * (hi - lo) > width
    return hi


def _bernoulli_arl(p0: float, m: int, h: int) -> float:
    """Mean events to the first ``S >= h`` of ``S = max(0, S + m*x - 1)``, x ~ Bernoulli(p0)."""
    return lattice_arl(((1 - p0, -1), (p0, m - 1)), h)


@dataclass(frozen=True)
class BernoulliCusum:
    """A CUSUM designed to detect a rate rising from a known ``p0`` to a known ``p1``."""

    p0: float
    """The in-control rate."""
    p1: float
    """The rate it is tuned to detect (the lattice moves it slightly)."""
    unit: float
    """Size of one lattice step in nats (``-log((1-p1)/(1-p0))``)."""
    up: int
    """An event with the defect adds ``up - 1`` lattice steps; one without subtracts 1."""
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

    def arl(self, rate: float) -> float:
        """Exact mean events to an alarm from a zero start when the true rate is ``rate``: the
        in-control ARL at ``p0``, the zero-start detection delay at a higher rate."""
        return _bernoulli_arl(rate, self.up, self.threshold)

    def expected_delay(self, rate: float) -> float:
        """Siegmund's approximation of the mean detection delay at ``rate``."""
        return siegmund_delay(self.h, self.drift(rate))


def siegmund_delay(h: float, drift: float) -> float:
    """Siegmund's approximation of a CUSUM's mean delay: ``(h + e^-h - 1) / drift`` for a
    threshold of ``h`` nats and a mean increment of ``drift`` nats per event (inf if <= 0)."""
    if drift <= 0:
        return math.inf
    return (h + math.exp(-h) - 1) / drift


@lru_cache(maxsize=1024)
def bernoulli_cusum(p0: float, p1: float, arl0: float) -> BernoulliCusum:
    """The smallest-threshold CUSUM for a known ``p0 -> p1`` whose in-control ARL is at least
    ``arl0`` (the textbook chart, for comparison with the monitor's robust banks)."""
    if not 0 < p0 < p1 < 1:
        raise ValueError(f"need 0 < p0 < p1 < 1 (got p0={p0}, p1={p1})")
    if arl0 <= 1:
        raise ValueError(f"arl0 must exceed 1 (got {arl0})")
    unit = -math.log((1 - p1) / (1 - p0))
    up = max(2, round(math.log(p1 / p0) / unit + 1))
    threshold = _calibrate([((1 - p0, -1), (p0, up - 1))], arl0, unit)
    return BernoulliCusum(p0, p1, unit, up, threshold, _bernoulli_arl(p0, up, threshold))


@dataclass(frozen=True)
class Chart:
    """One risk-adjusted CUSUM of a bank: tuned to a corrupted share ``shift`` of answers."""

    shift: float
    """The corrupted share it is tuned to (``p1_s = p0_s + (1 - p0_s) * shift``), raised per
    stratum to that stratum's smallest resolvable shift."""
    steps: tuple[tuple[int, int], ...]
    """Per stratum: lattice steps ``(defect, no defect)`` (the rounded log-likelihood ratios)."""
    unit: float
    """Size of one lattice step in nats."""
    threshold: int
    """Alarm when the statistic reaches this many lattice steps."""

    @property
    def h(self) -> float:
        return self.threshold * self.unit

    def atoms(self, rates: Sequence[float], weights: Sequence[float]) -> list[tuple[float, int]]:
        out: dict[int, float] = {}
        for (up, down), p, w in zip(self.steps, rates, weights, strict=True):
            out[up] = out.get(up, 0.0) + w * p
            out[down] = out.get(down, 0.0) + w * (1 - p)
        return [(p, k) for k, p in out.items() if p > 0]

    def arl(self, rates: Sequence[float], weights: Sequence[float]) -> float:
        return lattice_arl(self.atoms(rates, weights), self.threshold)


@dataclass(frozen=True)
class CusumBank:
    """Risk-adjusted Bernoulli CUSUMs on one stream, one per shift on a grid; the stream alarms
    when any chart crosses. Built by ``cusum_bank``."""

    rates: tuple[float, ...]
    """The in-control rate of each stratum the charts are designed and calibrated at (robust
    upper bounds when estimated: ``robust_rate``)."""
    mixes: tuple[tuple[float, ...], ...]
    """Mixes of strata the thresholds are exact under (the first is the design's own)."""
    arl0: float
    """Target mean events between false alarms of the whole bank."""
    charts: tuple[Chart, ...]

    def false_alarm_rate(
        self, rates: Sequence[float] | None = None, weights: Sequence[float] | None = None
    ) -> float:
        """Alarms per event when stratum ``s`` runs at ``rates[s]`` (default: the design's) in
        the mix ``weights``: the sum over charts, an upper bound for the bank."""
        r = self.rates if rates is None else rates
        w = self.mixes[0] if weights is None else weights
        return sum(1.0 / c.arl(r, w) for c in self.charts)

    def delay(self, rates: Sequence[float], weights: Sequence[float] | None = None) -> float:
        """Mean events to an alarm from a zero start once stratum ``s`` runs at ``rates[s]``:
        the best chart's exact delay (an upper bound for the bank)."""
        w = self.mixes[0] if weights is None else weights
        return min(c.arl(rates, w) for c in self.charts)


def _shifts(floor: float, grid: float, top: float) -> list[float]:
    out = [floor]
    while out[-1] * grid < top:
        out.append(out[-1] * grid)
    if out[-1] < top / math.sqrt(grid):
        out.append(top)
    return out


@lru_cache(maxsize=512)
def cusum_bank(
    rates: tuple[float, ...],
    floors: tuple[float, ...],
    mixes: tuple[tuple[float, ...], ...],
    arl0: float,
    grid: float = 4.0,
    top: float = 0.5,
) -> CusumBank:
    """Charts tuned to corrupted shares ``min(floors) * grid^k`` up to ``top`` (each stratum's
    share raised to its own floor), each with the smallest threshold whose false-alarm rate is at
    most ``1 / (K * arl0)`` at ``rates`` under every mix in ``mixes``, so the bank's is at most
    ``1 / arl0`` (a union bound over its ``K`` charts).

    The guarantee: while every stratum's true rate is at most ``rates[s]``, the bank raises at
    most one false alarm per ``arl0`` events on average, under each of ``mixes`` (exact on the
    lattice; a mix between them mixes charts that each hold it). The ARL only falls as a rate
    rises, so with robust baselines (``robust_rate``) this is what the warm-up can promise.
    """
    if not rates or len(rates) != len(floors):
        raise ValueError("need one floor per stratum")
    if not mixes or any(len(w) != len(rates) or not math.isclose(sum(w), 1.0) for w in mixes):
        raise ValueError("every mix needs one weight per stratum, summing to 1")
    if not all(0 < p < 1 for p in rates) or not all(0 < f < 1 for f in floors):
        raise ValueError(f"need rates and floors in (0, 1) (got {rates}, {floors})")
    if arl0 <= 1:
        raise ValueError(f"arl0 must exceed 1 (got {arl0})")
    designs = []
    for f in _shifts(min(floors), grid, max(top, max(floors))):
        per = [max(f, floor) for floor in floors]
        p1 = [p + (1 - p) * s for p, s in zip(rates, per, strict=True)]
        exact = [
            (math.log(b / a), math.log((1 - b) / (1 - a))) for a, b in zip(rates, p1, strict=True)
        ]
        unit = _unit(exact, rates, arl0 * 8)
        if unit is not None:  # else a shift too small for a lattice: its chart would take ages
            steps = tuple((max(1, round(u / unit)), min(-1, round(d / unit))) for u, d in exact)
            designs.append(Chart(f, steps, unit, 0))
    if not designs:
        raise ValueError(f"no chart fits a lattice for rates {rates} and floors {floors}")
    budget = arl0 * len(designs)
    charts = []
    for chart in designs:
        cases = [chart.atoms(rates, w) for w in mixes]
        charts.append(
            Chart(chart.shift, chart.steps, chart.unit, _calibrate(cases, budget, chart.unit))
        )
    return CusumBank(rates, mixes, arl0, tuple(charts))


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


def kl_bernoulli(p: float, q: float) -> float:
    """KL(Bernoulli(p) || Bernoulli(q)) in nats: the per-event information for a shift."""
    out = 0.0
    if p > 0:
        out += p * math.log(p / q)
    if p < 1:
        out += (1 - p) * math.log((1 - p) / (1 - q))
    return out
