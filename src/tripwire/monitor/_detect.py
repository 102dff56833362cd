"""Sequential change detection over the per-event defect flags, one stream per metric and slice.

Baselines. Each route's first ``warmup`` events (all slices together) count each metric's defects
*per stratum* (the language an answer is in: languages differ in how often their answers fail to
parse or run long). Then they stay frozen: a fault that starts later cannot leak into them. A new
model version is a new slice measured against its route's baseline; to accept a new normal,
restart with a fresh database once the release is known good. A stratum is judged once it had
``MIN_STRATUM`` warm-up events where the metric applied; events of other strata (a language the
warm-up barely saw) are not judged at all rather than against a rate nobody measured, and
``coverage()`` lists them.

Robust rates. A warm-up estimate is never used as is: each stratum is designed and calibrated at
``tripwire.stats.robust_rate`` (the Jeffreys posterior's upper quantile, about the 95th percentile
at ARL0 1e5), and tuned to shifts no smaller than the warm-up can resolve
(``tripwire.stats.smallest_shift``). Zero refusals in 500 warm-up events is taken as about 0.5%,
not 0.1%.

Detectors. Every (metric, slice) stream runs a bank of risk-adjusted Bernoulli CUSUMs
(``tripwire.stats.cusum_bank``), one per corrupted share on a x4 grid from the smallest resolvable
one to 50%: each event is scored against its own language's rate, so a shift in the prompt mix
moves no statistic while a rise within languages does. Slices are the four dimensions (model
version x deployment x hardware x route), plus one more level per ``slice_by`` entry refining
them (default: the language), so a fault in Go answers on one hardware pool is watched on its own
stream and not diluted by the pool's other languages.

The guarantee. Per stream: while every judged language's true rate is at most its robust rate,
the stream raises at most one false alarm per ``stream_arl0`` of its events on average, exact on
the CUSUM's lattice (a Markov chain, not a simulation) under the warm-up's language mix and under
every single-language mix (any mix lies between: a bank holds it at each). Averaged over warm-ups
(the robust rate can come out low by chance) the false-alarm rate stays at or under the same
target: computed exactly over every warm-up outcome and simulated in the tests and
``benchmarks/monitor.py``. For the family: each event feeds at most one stream per metric and
level, so false alarms anywhere are at most ``metrics x levels / stream_arl0`` per event, however
many slices there are; ``family_arl`` sets ``stream_arl0 = family_arl x metrics x levels``, and
the whole family then raises at most one false alarm per ``family_arl`` events.

With ``method="msprt"`` the streams give always-valid (risk-adjusted) p-values against the robust
rates instead (``stats._mixture``: exact Bernoulli likelihood ratios, valid at any rate), and
Benjamini-Hochberg across every stream holds the false discovery rate at
``fdr``. A route still in its warm-up, or a metric that applied to fewer than ``MIN_BASELINE`` of
its warm-up events, has no detector; ``Detector.coverage()`` says which.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

from tripwire.errors import BadInputError
from tripwire.monitor._checks import ANSWER_MARK, FLAGS
from tripwire.monitor._coverage import (
    Coverage,
    LanguageWatch,
    MetricCoverage,
    RouteCoverage,
    SliceWatch,
)
from tripwire.monitor._schema import ATTRIBUTE_NAME
from tripwire.monitor._slices import DIMENSIONS, Slice
from tripwire.stats import (
    CusumBank,
    RiskAdjustedMixture,
    adjust_p_values,
    cusum_bank,
    msprt_p_value,
    robust_rate,
    smallest_shift,
)

Method = Literal["cusum", "msprt"]
MIN_BASELINE = 50
"""Warm-up events where a flag applies before its baseline is trusted (and a detector runs)."""
MIN_STRATUM = 20
"""Warm-up events of one language (where the flag applied) before that language is judged."""
LANGUAGE = "language"
"""The ``slice_by`` name of the answer's language (the stratum its baseline is conditional on)."""
OUTCOME_METRICS = frozenset({"empty_or_refusal"})
"""Metrics whose defect decides the answer's language (a refusal or an empty answer has no
code fence): an answer's own language is not a stratum for them, or every refusal would sit in
the no-language stratum, where refusals are the norm, and a rise in refusals would only be a
shift in the mix of strata, which the detectors ignore by design."""


def stratum_for(metric: str, stratum: str) -> str:
    """The stratum an event's ``metric`` is judged in: the request's language as given; the
    answer's (``ANSWER_MARK`` and a language) except for ``OUTCOME_METRICS``, which then go
    to the no-language stratum."""
    if not stratum.startswith(ANSWER_MARK):
        return stratum
    return "" if metric in OUTCOME_METRICS else stratum[len(ANSWER_MARK) :]


_MAX_RATE = 0.95
"""A language whose robust rate is above this has nothing left to rise to: not judged."""


def parse_slice_by(spec: str) -> tuple[str, ...]:
    """``"language,customer"`` -> one refining level (``"none"`` -> none): the names it adds to
    the four dimensions, in order, without repeats."""
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if names == ["none"]:
        return ()
    for n in names:
        if not ATTRIBUTE_NAME.fullmatch(n):
            raise BadInputError("--slice-by", f"{n!r} is not an attribute name")
    added = tuple(dict.fromkeys(n for n in names if n not in DIMENSIONS))
    if not added:
        raise BadInputError("--slice-by", f"{spec!r} adds nothing: {', '.join(DIMENSIONS)} are "
                            "always slice dimensions")  # fmt: skip
    return added


@dataclass(frozen=True)
class DetectorConfig:
    arl0: float = 100_000.0
    """CUSUM: mean events of one stream between false alarms while nothing changes."""
    warmup: int = 2000
    """Events per route that set the baseline rates (a longer warm-up resolves smaller rises:
    500 events leave a rare language's rate too uncertain to see +15 points quickly)."""
    min_shift: float = 0.003
    """The smallest corrupted share of answers any chart is tuned to."""
    method: Method = "cusum"
    fdr: float = 0.01
    """mSPRT: false discovery rate across all streams."""
    metrics: tuple[str, ...] = FLAGS
    family_arl: float | None = None
    """CUSUM: mean events (all traffic) between false alarms on any slice and metric; when set
    it overrides ``arl0`` with ``family_arl * len(metrics) * levels`` per stream."""
    slice_by: tuple[tuple[str, ...], ...] = ((LANGUAGE,),)
    """Refining levels: each names attributes (``language``, or an event's ``attributes`` key)
    that split every four-dimension slice further; each adds one stream per metric per event."""

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
        if not 0 < self.min_shift < 0.5:
            raise BadInputError("min_shift", f"must be in (0, 0.5), got {self.min_shift}")
        for level in self.slice_by:
            if not level or any(n in DIMENSIONS or not ATTRIBUTE_NAME.fullmatch(n) for n in level):
                raise BadInputError("slice_by", f"{level!r}: attribute names beyond "
                                    f"{', '.join(DIMENSIONS)}")  # fmt: skip

    @property
    def levels(self) -> int:
        """Streams per metric each event feeds: the slice itself and each refining level."""
        return 1 + len(self.slice_by)

    @property
    def stream_arl0(self) -> float:
        """The ARL0 each stream's threshold is set from."""
        if self.family_arl is not None:
            return self.family_arl * len(self.metrics) * self.levels
        return self.arl0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "stream_arl0": self.stream_arl0, "levels": self.levels}


@dataclass
class _Baseline:
    events: int = 0
    n: Counter[tuple[str, str]] = field(default_factory=Counter)
    x: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Per (metric, stratum): warm-up events where the flag applied, and defects among them."""
    frozen: bool = False
    unjudged: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Per (metric, stratum): events since the warm-up in strata too rare to judge."""

    def totals(self, metric: str) -> tuple[int, int]:
        n = sum(v for (m, _), v in self.n.items() if m == metric)
        x = sum(v for (m, _), v in self.x.items() if m == metric)
        return n, x

    def trusted(self, metric: str) -> bool:
        """Whether ``metric`` gets a detector on this route (the one place that decides)."""
        return self.frozen and self.totals(metric)[0] >= MIN_BASELINE

    def strata(self, metric: str) -> list[str]:
        return sorted(s for m, s in self.n if m == metric)


@dataclass(frozen=True)
class _Design:
    """One route and metric's judged strata and the bank for every stream of a level."""

    coarse: CusumBank
    strata: tuple[str, ...]
    point: dict[str, float]
    """The warm-up's own estimate per stratum (Jeffreys mean): what an alert reports."""
    robust: dict[str, float]
    """The rate each stratum is designed and calibrated at."""
    floors: dict[str, float]
    steps: dict[str, tuple[tuple[int, ...], tuple[int, ...]]]
    """Per stratum, the coarse bank's lattice steps per chart: (defect, no defect)."""


@dataclass
class _Stream:
    bank: CusumBank
    steps: dict[str, tuple[tuple[int, ...], tuple[int, ...]]]
    thresholds: tuple[int, ...]
    stats: list[int]
    start: list[tuple[int, datetime | None, int, int, float] | None]
    """Per chart: where its statistic last left zero (global index, time, and this stream's
    events, defects and expected defects before it): the change-point estimate."""
    n: int = 0
    x: int = 0
    expected: float = 0.0
    mixture: RiskAdjustedMixture = field(default_factory=RiskAdjustedMixture)
    """The mSPRT since the stream started, against each event's robust rate."""
    alerted: bool = False

    @property
    def p_value(self) -> float:
        return self.mixture.p_value


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
    tuned_shift: float = 0.0
    """The corrupted share the crossing chart was tuned to."""

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
            "tuned_shift": round(self.tuned_shift, 6),
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
        self._streams: dict[tuple[str, int, Slice], _Stream] = {}
        self.observed = 0
        self.judged = 0
        """Events at least one stream judged (the rest fell in a warm-up or were unwatched)."""

    def baseline_rates(self) -> dict[str, dict[str, float]]:
        """Per route, the pooled in-control rate of each metric (only routes past warm-up)."""
        out: dict[str, dict[str, float]] = {}
        for route, b in self._baselines.items():
            if b.frozen:
                trusted = [m for m in self.config.metrics if b.trusted(m)]
                out[route] = {m: _jeffreys(*b.totals(m)) for m in trusted}
        return out

    def streams(self) -> int:
        return len(self._streams)

    def coverage(self) -> Coverage:
        """Per route: still warming up (and for how many more events), or which metrics are
        watched on which slices and languages and which are not, with the reason."""
        live: dict[tuple[str, str], list[SliceWatch]] = {}
        for (metric, _level, sl), s in self._streams.items():
            live.setdefault((sl.route, metric), []).append(SliceWatch(sl, s.n, s.alerted))
        routes = []
        warmup = self.config.warmup
        for route, b in sorted(self._baselines.items()):
            metrics = []
            for m in self.config.metrics if b.frozen else ():
                slices = tuple(sorted(live.get((route, m), []), key=_by_slice))
                design = self._design(route, m, b)
                languages = self._languages(m, b, design)
                metrics.append(MetricCoverage(m, design is not None, b.totals(m)[0], warmup,
                                              MIN_BASELINE, slices, languages))  # fmt: skip
            routes.append(RouteCoverage(route, warmup, b.events, tuple(metrics)))
        return Coverage(tuple(routes), warmup, MIN_BASELINE, self.judged, MIN_STRATUM)

    def _languages(
        self, metric: str, b: _Baseline, design: _Design | None
    ) -> tuple[LanguageWatch, ...]:
        out = []
        for st in sorted(set(b.strata(metric)) | {s for m, s in b.unjudged if m == metric}):
            n, x = b.n[(metric, st)], b.x[(metric, st)]
            judged = design is not None and st in design.steps
            out.append(LanguageWatch(
                st, judged, n, x, design.point[st] if judged else None,
                design.robust[st] if judged else None, design.floors[st] if judged else None,
                b.unjudged[(metric, st)], MIN_STRATUM,
            ))  # fmt: skip
        return tuple(out)

    def _design(self, route: str, metric: str, b: _Baseline) -> _Design | None:
        key = (route, metric)
        if key in self._designs:
            return self._designs[key]
        design = None
        if b.trusted(metric):
            arl0 = self.config.stream_arl0
            point, robust, floors = {}, {}, {}
            for st in b.strata(metric):
                n, x = b.n[(metric, st)], b.x[(metric, st)]
                if n < MIN_STRATUM:
                    continue
                r = robust_rate(x, n, arl0)
                if r > _MAX_RATE:
                    continue
                point[st], robust[st] = _jeffreys(n, x), round(r, 7)
                floors[st] = round(smallest_shift(x, n, r, arl0, self.config.min_shift), 6)
            strata = tuple(point)
            if strata:
                total = sum(b.n[(metric, st)] for st in strata)
                warm = tuple(b.n[(metric, st)] / total for st in strata)
                vertices = tuple(tuple(float(i == j) for j in range(len(strata)))
                                 for i in range(len(strata)))  # fmt: skip
                mixes = tuple(dict.fromkeys((warm, *vertices)))
                bank = cusum_bank(tuple(robust[s] for s in strata),
                                  tuple(floors[s] for s in strata), mixes, arl0)  # fmt: skip
                design = _Design(bank, strata, point, robust, floors, _bank_steps(bank, strata))
        self._designs[key] = design
        return design

    def _language_bank(self, design: _Design, stratum: str) -> CusumBank:
        # one language alone: its own bank (the coarse bank's vertex, calibrated by itself)
        return cusum_bank((design.robust[stratum],), (design.floors[stratum],), ((1.0,),),
                          self.config.stream_arl0)  # fmt: skip

    def _new_stream(self, design: _Design, stratum: str | None) -> _Stream:
        if stratum is None:
            bank, steps = design.coarse, design.steps
        else:
            bank = self._language_bank(design, stratum)
            steps = _bank_steps(bank, (stratum,))
        k = len(bank.charts)
        thresholds = tuple(c.threshold for c in bank.charts)
        return _Stream(bank, steps, thresholds, [0] * k, [None] * k)

    def observe(
        self,
        sl: Slice,
        flags: Mapping[str, bool | None],
        ts: datetime | None = None,
        stratum: str = "",
        attributes: Mapping[str, str] | None = None,
    ) -> list[Alarm]:
        """One event of slice ``sl`` with its defect flags; ``stratum`` is the class its
        baseline rate is conditional on (``CheckResult.stratum``; ``""`` when unknown), and
        ``attributes`` the event's own (for ``slice_by`` levels that name them)."""
        index = self.observed
        self.observed += 1
        b = self._baselines.get(sl.route)
        if b is None:
            b = self._baselines[sl.route] = _Baseline()
        if not b.frozen:
            b.events += 1
            for m in self.config.metrics:
                v = flags.get(m)
                if v is not None:
                    st = stratum_for(m, stratum)
                    b.n[(m, st)] += 1
                    b.x[(m, st)] += bool(v)
            b.frozen = b.events >= self.config.warmup
            return []
        keys_of: dict[str, list[Slice]] = {}
        alarms: list[Alarm] = []
        judged = False
        msprt = self.config.method == "msprt"
        for m in self.config.metrics:
            v = flags.get(m)
            if v is None:
                continue
            design = self._designs.get((sl.route, m), False)
            if design is False:
                design = self._design(sl.route, m, b)
            if design is None:
                continue
            st = stratum_for(m, stratum)
            if st not in design.steps:
                b.unjudged[(m, st)] += 1
                continue
            judged = True
            p0, robust = design.point[st], design.robust[st]
            defect = bool(v)
            keys = keys_of.get(st)
            if keys is None:
                keys = keys_of[st] = self._level_keys(sl, st, attributes)
            for level, key in enumerate(keys):
                s = self._streams.get((m, level, key))
                if s is None:
                    s = self._new_stream(design, st if self._by_language(level) else None)
                    self._streams[(m, level, key)] = s
                if s.alerted:
                    continue
                crossed = self._update(s, index, st, defect, p0, robust, ts)
                if msprt:
                    crossed = -1 if self._fdr_rejects((m, level, key)) else None
                if crossed is not None:
                    s.alerted = True
                    alarms.append(self._alarm(m, key, s, crossed, index, ts))
        self.judged += judged
        return alarms

    def _by_language(self, level: int) -> bool:
        return level > 0 and LANGUAGE in self.config.slice_by[level - 1]

    def _level_keys(
        self, sl: Slice, stratum: str, attributes: Mapping[str, str] | None
    ) -> list[Slice]:
        keys = [sl]
        for names in self.config.slice_by:
            pairs = tuple((n, stratum if n == LANGUAGE else (attributes or {}).get(n, ""))
                          for n in names)  # fmt: skip
            keys.append(sl.refine(pairs))
        return keys

    def _update(
        self, s: _Stream, index: int, stratum: str, defect: bool, p0: float, robust: float,
        ts: datetime | None,
    ) -> int | None:  # fmt: skip
        """Add one event; the index of the chart that crossed, if any."""
        stats, start, thresholds = s.stats, s.start, s.thresholds
        crossed = None
        for k, step in enumerate(s.steps[stratum][0 if defect else 1]):
            before = stats[k]
            after = before + step
            if after <= 0:
                if before:
                    stats[k] = 0
                    start[k] = None
            else:
                if not before:
                    start[k] = (index, ts, s.n, s.x, s.expected)
                stats[k] = after
                if after >= thresholds[k] and crossed is None:
                    crossed = k
        s.n += 1
        s.x += defect
        s.expected += p0
        if self.config.method == "msprt":
            # one-sided: fewer defects than the robust rate (the usual case) is no evidence;
            # a p-value above the FDR level can reject nothing, however BH ranks it
            s.mixture.add(defect, robust, watch_below=self.config.fdr)
        return crossed

    def _fdr_rejects(self, key: tuple[str, int, Slice]) -> bool:
        if self._streams[key].p_value > self.config.fdr:
            return False  # a BH-adjusted p-value is never below the raw one
        keys = [k for k, s in self._streams.items() if not s.alerted]
        if key not in keys:
            return False
        p = [self._streams[k].p_value for k in keys]
        if min(p) > self.config.fdr:
            return False
        adjusted = adjust_p_values(p, "bh")
        return adjusted[keys.index(key)] <= self.config.fdr

    def _alarm(
        self, metric: str, sl: Slice, s: _Stream, chart: int, index: int, ts: datetime | None
    ) -> Alarm:
        k = max(chart, 0)
        # msprt: the longest excursion of any chart is the best guess of where the change began
        seg = s.start[k] if chart >= 0 else min((st for st in s.start if st), default=None,
                                                key=lambda st: st[0])  # fmt: skip
        if seg is None:  # msprt can reject while every CUSUM stands at zero: the whole stream
            seg = (index - s.n + 1, None, 0, 0, 0.0)
        start, start_ts, n0, x0, e0 = seg
        n, x, expected = s.n - n0, s.x - x0, s.expected - e0
        base = expected / n
        p_value = msprt_p_value(x, n, base, two_sided=False)
        c = s.bank.charts[k]
        stat = s.stats[k] * c.unit
        return Alarm(
            metric=metric,
            slice=sl,
            event_index=index,
            change_index=start,
            baseline_rate=base,
            rate_after_change=x / n,
            events_since_change=n,
            defects_since_change=x,
            statistic_nats=stat,
            threshold_nats=c.h,
            p_value=float(np.format_float_scientific(p_value, 3)),
            method=self.config.method,
            change_ts=start_ts,
            alarm_ts=ts,
            tuned_shift=c.shift,
        )


def _bank_steps(
    bank: CusumBank, strata: tuple[str, ...]
) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    return {
        st: (tuple(c.steps[i][0] for c in bank.charts), tuple(c.steps[i][1] for c in bank.charts))
        for i, st in enumerate(strata)
    }


def _by_slice(w: SliceWatch) -> Slice:
    return w.slice


def _jeffreys(n: int, x: int) -> float:
    # Jeffreys posterior mean: never zero, so an alert's baseline is never a division by zero
    return (x + 0.5) / (n + 1)
