"""Sequential change detection over the per-event defect flags, one stream per metric and slice.

Baselines. Each route's first ``warmup`` events (all slices together) set the in-control rate of
each metric *per stratum* (the language an answer is in: languages differ in how often their
answers fail to parse or run long), shrunk towards the route's pooled rate where a stratum has
seen little traffic. Baselines then stay frozen: a fault that starts later cannot leak into them.
A new model version is a new slice measured against its route's baseline, so a bad release is
caught as well as a fault on one machine; to accept a new normal, restart with a fresh database
(or a longer ``warmup``) once the release is known good.

Detectors. From then on every (metric, slice) stream runs a risk-adjusted Bernoulli CUSUM
(``tripwire.stats.stratified_cusum``): each event is scored against its own stratum's rate, so a
shift in the prompt mix moves no statistic, while a rise within strata does. It is tuned to a rise
of ``max((ratio - 1) * p0, min_shift)`` in every stratum, or more when the warm-up saw too few
defects to tell a smaller rise from its own uncertainty (``tripwire.stats.resolvable_shift``).
Its threshold is the smallest whose false-alarm rate, computed exactly on the CUSUM's lattice
(a Markov chain, not a simulation) and averaged over the uncertainty of the warm-up's estimates
(every stratum at the same quantile of its own posterior), is at most ``1 / arl0`` per event of
the stream under the warm-up's mix of strata and under an even mix of the strata it saw at least
``MIN_BASELINE`` times: a prompt-mix shift up to that far keeps the target. The averaging makes
the threshold conservative (false alarms come out below the target) and it costs delay after a
short warm-up; ``warmup`` buys it back. With ``method="msprt"`` the streams give
always-valid (risk-adjusted) p-values instead, and Benjamini-Hochberg across every stream holds
the false discovery rate at ``fdr``.

False alarms across slices. Each event feeds only its own slice's streams, at most one per
metric, so the whole family's false alarms per event are at most ``sum over metrics of 1 /
arl0``, however many slices there are. ``family_arl`` uses that: each stream gets ``arl0 =
family_arl * len(metrics)``, and the family (every slice and metric) then raises at most one
false alarm per ``family_arl`` events on average.

Coverage. A route still in its warm-up, or a metric that applied to fewer than ``MIN_BASELINE``
of its warm-up events, has no detector; ``Detector.coverage()`` says which, so that a missing
detector is never mistaken for a healthy stream. A ``warmup`` below ``MIN_BASELINE`` would
leave every detector off forever and is refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

from tripwire.errors import BadInputError
from tripwire.monitor._checks import FLAGS
from tripwire.monitor._coverage import Coverage, MetricCoverage, RouteCoverage, SliceWatch
from tripwire.monitor._slices import Slice
from tripwire.stats import (
    CusumRun,
    StratifiedCusum,
    adjust_p_values,
    msprt_excess_p_value,
    resolvable_shift,
)
from tripwire.stats import stratified_cusum as design_cusum

Method = Literal["cusum", "msprt"]
MIN_BASELINE = 50
"""Warm-up events where a flag applies before its baseline is trusted (and a detector runs)."""
_PRIOR_DEFECTS = 2.0
"""A stratum's rate is shrunk towards the pooled one with a prior worth this many defects."""


@dataclass(frozen=True)
class DetectorConfig:
    arl0: float = 100_000.0
    """CUSUM: mean events of one stream between false alarms while nothing changes."""
    warmup: int = 500
    """Events per route that set the baseline rates."""
    ratio: float = 3.0
    """The rise tuned for is to ``ratio`` times the baseline rate ..."""
    min_shift: float = 0.003
    """... or by this much, whichever is larger (rare defects: a rise from ~0)."""
    method: Method = "cusum"
    fdr: float = 0.01
    """mSPRT: false discovery rate across all streams."""
    tau: float = 0.05
    """mSPRT: spread of the normal mixture over the rate change."""
    metrics: tuple[str, ...] = FLAGS
    family_arl: float | None = None
    """CUSUM: mean events (all traffic) between false alarms on any slice and metric; when set
    it overrides ``arl0`` with ``family_arl * len(metrics)`` per stream."""

    def __post_init__(self) -> None:
        # settings that would leave every detector off are errors, never a quiet "0 alerts"
        if self.warmup < MIN_BASELINE:
            raise BadInputError("warmup", f"{self.warmup} is below the {MIN_BASELINE} events a "
                                "baseline needs: no detector would ever start")  # fmt: skip
        if not self.metrics:
            raise BadInputError("metrics", "empty: no detector would ever start")
        if self.method not in ("cusum", "msprt"):
            raise BadInputError("method", f"unknown method {self.method!r} (cusum, msprt)")
        if self.arl0 <= 1 or (self.family_arl is not None and self.family_arl <= 1):
            raise BadInputError("arl0", "arl0 and family_arl must be > 1")
        if not 0 < self.fdr < 1:
            raise BadInputError("fdr", f"must be in (0, 1), got {self.fdr}")

    @property
    def stream_arl0(self) -> float:
        """The ARL0 each stream's threshold is set from."""
        if self.family_arl is not None:
            return self.family_arl * len(self.metrics)
        return self.arl0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stream_arl0": self.stream_arl0}


@dataclass
class _Baseline:
    events: int = 0
    n: dict[tuple[str, str], int] = field(default_factory=dict)
    x: dict[tuple[str, str], int] = field(default_factory=dict)
    """Per (metric, stratum): events where the flag applied, and defects among them."""
    frozen: bool = False

    def totals(self, metric: str) -> tuple[int, int]:
        n = sum(v for (m, _), v in self.n.items() if m == metric)
        x = sum(v for (m, _), v in self.x.items() if m == metric)
        return n, x

    def trusted(self, metric: str) -> bool:
        """Whether ``metric`` gets a detector on this route (the one place that decides)."""
        return self.frozen and self.totals(metric)[0] >= MIN_BASELINE


@dataclass(frozen=True)
class _Design:
    """One route and metric's in-control rates per stratum and the CUSUM built on them."""

    cusum: StratifiedCusum
    pooled: float
    pooled_alternative: float
    rates: dict[str, float]
    alternatives: dict[str, float]

    def rate(self, stratum: str) -> float:
        return self.rates.get(stratum, self.pooled)

    def steps(self, stratum: str) -> tuple[int, int]:
        if stratum in self.rates:
            return self.cusum.steps(self.rates[stratum], self.alternatives[stratum])
        return self.cusum.steps(self.pooled, self.pooled_alternative)


@dataclass
class _Stream:
    design: _Design
    run: CusumRun
    steps: dict[str, tuple[int, int]] = field(default_factory=dict)
    n: int = 0
    excess: float = 0.0
    variance: float = 0.0
    """Since the stream started: summed ``x - p0`` and ``p0 (1 - p0)`` (the mSPRT's inputs)."""
    seg_start: int = -1
    """Global index of the first event after the statistic last stood at zero."""
    seg_n: int = 0
    seg_x: int = 0
    seg_expected: float = 0.0
    seg_ts: datetime | None = None
    p_value: float = 1.0
    alerted: bool = False

    def step(self, stratum: str, defect: bool) -> int:
        s = self.steps.get(stratum)
        if s is None:
            s = self.steps[stratum] = self.design.steps(stratum)
        return s[0] if defect else s[1]


@dataclass(frozen=True)
class Alarm:
    """A detector crossing: which stream, when, and what changed."""

    metric: str
    slice: Slice
    event_index: int
    change_index: int
    baseline_rate: float
    """The rate expected since the change had nothing changed (the events' own strata)."""
    rate_after_change: float
    events_since_change: int
    defects_since_change: int
    statistic_nats: float
    threshold_nats: float
    p_value: float
    method: str
    change_ts: datetime | None = None
    alarm_ts: datetime | None = None

    @property
    def effect(self) -> float:
        return self.rate_after_change - self.baseline_rate

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "slice": self.slice.to_dict(),
            "slice_label": self.slice.label,
            "event_index": self.event_index,
            "change_index": self.change_index,
            "effect": round(self.effect, 6),
            "baseline_rate": round(self.baseline_rate, 6),
            "rate_after_change": round(self.rate_after_change, 6),
            "rate_ratio": round(self.rate_after_change / self.baseline_rate, 3),
            "events_since_change": self.events_since_change,
            "defects_since_change": self.defects_since_change,
            "statistic_nats": round(self.statistic_nats, 3),
            "threshold_nats": round(self.threshold_nats, 3),
            "p_value": self.p_value,
            "method": self.method,
            "change_ts": self.change_ts.isoformat() if self.change_ts else None,
            "alarm_ts": self.alarm_ts.isoformat() if self.alarm_ts else None,
        }


class Detector:
    """Feed events in order with ``observe``; it returns the alarms each event raised."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        self._baselines: dict[str, _Baseline] = {}
        self._designs: dict[tuple[str, str], _Design | None] = {}
        self._streams: dict[tuple[str, Slice], _Stream] = {}
        self.observed = 0
        self.judged = 0
        """Events at least one stream judged (the rest fell in a warm-up or were unwatched)."""

    def baseline_rates(self) -> dict[str, dict[str, float]]:
        """Per route, the pooled in-control rate of each metric (only routes past warm-up)."""
        out: dict[str, dict[str, float]] = {}
        for route, b in self._baselines.items():
            if b.frozen:
                trusted = [m for m in self.config.metrics if b.trusted(m)]
                out[route] = {m: _pooled(*b.totals(m)) for m in trusted}
        return out

    def streams(self) -> int:
        return len(self._streams)

    def coverage(self) -> Coverage:
        """Per route: still warming up (and for how many more events), or which metrics are
        watched on which slices and which are not, with the reason."""
        live: dict[tuple[str, str], list[SliceWatch]] = {}
        for (metric, sl), s in self._streams.items():
            live.setdefault((sl.route, metric), []).append(SliceWatch(sl, s.n, s.alerted))
        routes = []
        warmup = self.config.warmup
        for route, b in sorted(self._baselines.items()):
            metrics = []
            for m in self.config.metrics if b.frozen else ():
                slices = tuple(sorted(live.get((route, m), []), key=_by_slice))
                n = b.totals(m)[0]
                metrics.append(MetricCoverage(m, b.trusted(m), n, warmup, MIN_BASELINE, slices))
            routes.append(RouteCoverage(route, warmup, b.events, tuple(metrics)))
        return Coverage(tuple(routes), warmup, MIN_BASELINE, self.judged)

    def _design(self, route: str, metric: str, b: _Baseline) -> _Design | None:
        key = (route, metric)
        if key in self._designs:
            return self._designs[key]
        n, x = b.totals(metric)
        design = None
        if b.trusted(metric):
            pooled = _pooled(n, x)
            shift = max((self.config.ratio - 1) * pooled, self.config.min_shift,
                        resolvable_shift(x, n))  # fmt: skip
            shift = min(shift, 0.999 - pooled)
            prior = _PRIOR_DEFECTS / pooled
            strata = sorted(st for m, st in b.n if m == metric)
            rates, alternatives, posteriors = {}, {}, []
            for st in strata:
                ns, xs = b.n[(metric, st)], b.x.get((metric, st), 0)
                a, b_ = xs + prior * pooled, ns - xs + prior * (1 - pooled)
                posteriors.append((round(a, 6), round(b_, 6)))
                rates[st] = a / (a + b_)
                alternatives[st] = min(rates[st] + shift, 0.999)
            warm = tuple(b.n[(metric, st)] / n for st in strata)
            # robust to the prompt mix moving as far as an even mix of the well-seen strata
            seen = [b.n[(metric, st)] >= MIN_BASELINE for st in strata]
            even = tuple(v / sum(seen) for v in seen)
            cusum = design_cusum(
                tuple(round(rates[st], 7) for st in strata),
                tuple(round(alternatives[st], 7) for st in strata),
                (warm, even),
                self.config.stream_arl0,
                tuple(posteriors),
            )
            design = _Design(cusum, pooled, min(pooled + shift, 0.999), rates, alternatives)
        self._designs[key] = design
        return design

    def _stream(self, metric: str, sl: Slice, b: _Baseline) -> _Stream | None:
        key = (metric, sl)
        s = self._streams.get(key)
        if s is None:
            design = self._design(sl.route, metric, b)
            if design is None:
                return None
            s = self._streams[key] = _Stream(design, CusumRun(design.cusum.threshold))
        return s

    def observe(
        self,
        sl: Slice,
        flags: dict[str, bool | None],
        ts: datetime | None = None,
        stratum: str = "",
    ) -> list[Alarm]:
        """One event of slice ``sl`` with its defect flags; ``stratum`` is the class its
        baseline rate is conditional on (the answer's language; ``""`` when unknown)."""
        index = self.observed
        self.observed += 1
        b = self._baselines.setdefault(sl.route, _Baseline())
        if not b.frozen:
            b.events += 1
            for m in self.config.metrics:
                v = flags.get(m)
                if v is not None:
                    b.n[(m, stratum)] = b.n.get((m, stratum), 0) + 1
                    b.x[(m, stratum)] = b.x.get((m, stratum), 0) + int(v)
            b.frozen = b.events >= self.config.warmup
            return []
        alarms = []
        judged = False
        for m in self.config.metrics:
            v = flags.get(m)
            if v is None:
                continue
            s = self._stream(m, sl, b)
            if s is None or s.alerted:
                continue
            judged = True
            crossed = self._update(s, index, stratum, bool(v), ts)
            if self.config.method == "msprt":
                crossed = self._fdr_rejects(m, sl)
            if crossed:
                s.alerted = True
                alarms.append(self._alarm(m, sl, s, index, ts))
        self.judged += judged
        return alarms

    def _update(
        self, s: _Stream, index: int, stratum: str, defect: bool, ts: datetime | None
    ) -> bool:
        p0 = s.design.rate(stratum)
        if s.seg_start < 0:
            s.seg_start, s.seg_ts = index, ts
        s.n += 1
        s.excess += defect - p0
        s.variance += p0 * (1 - p0)
        s.seg_n += 1
        s.seg_x += defect
        s.seg_expected += p0
        crossed = s.run.add(s.step(stratum, defect))
        if s.run.statistic == 0:
            s.seg_start, s.seg_n, s.seg_x, s.seg_expected = -1, 0, 0, 0.0
        if self.config.method == "msprt":
            p = msprt_excess_p_value(s.excess, s.variance, s.n, self.config.tau)
            s.p_value = min(s.p_value, p)
        return crossed

    def _fdr_rejects(self, metric: str, sl: Slice) -> bool:
        keys = [k for k, s in self._streams.items() if not s.alerted]
        if (metric, sl) not in keys:
            return False
        p = [self._streams[k].p_value for k in keys]
        if min(p) > self.config.fdr:
            return False
        adjusted = adjust_p_values(p, "bh")
        return adjusted[keys.index((metric, sl))] <= self.config.fdr

    def _alarm(self, metric: str, sl: Slice, s: _Stream, index: int, ts: datetime | None) -> Alarm:
        if s.seg_n == 0:  # msprt can reject while the CUSUM stands at zero
            p0 = s.design.pooled
            start, n, x, expected, start_ts = index, 1, 1, p0, ts
        else:
            start, n, x, start_ts = s.seg_start, s.seg_n, s.seg_x, s.seg_ts
            expected = s.seg_expected
        base = expected / n
        variance = base * (1 - base) * n
        p_value = msprt_excess_p_value(x - expected, variance, n, self.config.tau)
        return Alarm(
            metric=metric,
            slice=sl,
            event_index=index,
            change_index=start,
            baseline_rate=base,
            rate_after_change=x / n,
            events_since_change=n,
            defects_since_change=x,
            statistic_nats=s.run.statistic * s.design.cusum.unit,
            threshold_nats=s.design.cusum.h,
            p_value=float(np.format_float_scientific(p_value, 3)),
            method=self.config.method,
            change_ts=start_ts,
            alarm_ts=ts,
        )


def _by_slice(w: SliceWatch) -> Slice:
    return w.slice


def _pooled(n: int, x: int) -> float:
    # Jeffreys posterior mean: never zero, so a defect unseen in warm-up can still alarm
    return (x + 0.5) / (n + 1)
