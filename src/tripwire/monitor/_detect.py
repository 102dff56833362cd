"""Sequential change detection over the per-event defect flags, one stream per metric and slice.

Each route's first ``warmup`` events (all slices together) set the in-control rate ``p0`` of
each metric; from then on every (metric, slice) stream runs a Bernoulli CUSUM tuned to a rise
to ``max(ratio * p0, p0 + min_shift)`` with its threshold set from the target ARL0 (mean events
between false alarms), or, with ``method="msprt"``, always-valid p-values whose
Benjamini-Hochberg adjustment across every stream is held at ``fdr`` (false discoveries
controlled across slices). A new model version is a new slice measured against its route's
baseline, so a bad release is caught as well as a fault on one machine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

from tripwire.monitor._checks import FLAGS
from tripwire.monitor._slices import Slice
from tripwire.stats import (
    BernoulliCusum,
    CusumRun,
    adjust_p_values,
    bernoulli_cusum,
    msprt_p_value,
)

Method = Literal["cusum", "msprt"]
_MIN_BASELINE = 50  # events where a flag applies before its baseline is trusted


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Baseline:
    events: int = 0
    n: dict[str, int] = field(default_factory=dict)
    x: dict[str, int] = field(default_factory=dict)
    frozen: bool = False


@dataclass
class _Stream:
    design: BernoulliCusum
    run: CusumRun
    n: int = 0
    x: int = 0
    seg_start: int = -1
    """Global index of the first event after the statistic last stood at zero."""
    seg_n: int = 0
    seg_x: int = 0
    seg_ts: datetime | None = None
    p_value: float = 1.0
    alerted: bool = False


@dataclass(frozen=True)
class Alarm:
    """A detector crossing: which stream, when, and what changed."""

    metric: str
    slice: Slice
    event_index: int
    change_index: int
    baseline_rate: float
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
        self._streams: dict[tuple[str, Slice], _Stream] = {}
        self.observed = 0

    def baseline_rates(self) -> dict[str, dict[str, float]]:
        """Per route, the in-control rate of each metric (only routes past warm-up)."""
        return {
            route: {m: self._p0(b, m) for m in b.n if b.n[m] >= _MIN_BASELINE}
            for route, b in self._baselines.items()
            if b.frozen
        }

    def streams(self) -> int:
        return len(self._streams)

    @staticmethod
    def _p0(b: _Baseline, metric: str) -> float:
        # Jeffreys-style estimate: never zero, so a defect unseen in warm-up can still alarm
        return (b.x.get(metric, 0) + 0.5) / (b.n.get(metric, 0) + 1)

    def _stream(self, metric: str, sl: Slice, b: _Baseline) -> _Stream | None:
        key = (metric, sl)
        s = self._streams.get(key)
        if s is None:
            if b.n.get(metric, 0) < _MIN_BASELINE:
                return None
            p0 = self._p0(b, metric)
            p1 = min(max(p0 * self.config.ratio, p0 + self.config.min_shift), 0.999)
            if p1 <= p0:
                return None
            design = bernoulli_cusum(round(p0, 8), round(p1, 8), self.config.arl0)
            s = self._streams[key] = _Stream(design, CusumRun(design))
        return s

    def observe(
        self, sl: Slice, flags: dict[str, bool | None], ts: datetime | None = None
    ) -> list[Alarm]:
        index = self.observed
        self.observed += 1
        b = self._baselines.setdefault(sl.route, _Baseline())
        if not b.frozen:
            b.events += 1
            for m in self.config.metrics:
                v = flags.get(m)
                if v is not None:
                    b.n[m] = b.n.get(m, 0) + 1
                    b.x[m] = b.x.get(m, 0) + int(v)
            b.frozen = b.events >= self.config.warmup
            return []
        alarms = []
        for m in self.config.metrics:
            v = flags.get(m)
            if v is None:
                continue
            s = self._stream(m, sl, b)
            if s is None or s.alerted:
                continue
            crossed = self._update(s, index, bool(v), ts)
            if self.config.method == "msprt":
                crossed = self._fdr_rejects(m, sl)
            if crossed:
                s.alerted = True
                alarms.append(self._alarm(m, sl, s, index, ts))
        return alarms

    def _update(self, s: _Stream, index: int, defect: bool, ts: datetime | None) -> bool:
        if s.seg_start < 0:
            s.seg_start, s.seg_ts = index, ts
        s.n += 1
        s.x += defect
        s.seg_n += 1
        s.seg_x += defect
        crossed = s.run.update(defect)
        if s.run.statistic == 0:
            s.seg_start, s.seg_n, s.seg_x = -1, 0, 0
        if self.config.method == "msprt":
            s.p_value = min(s.p_value, msprt_p_value(s.x, s.n, s.design.p0, self.config.tau))
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
            start, n, x, start_ts = index, 1, 1, ts
        else:
            start, n, x, start_ts = s.seg_start, s.seg_n, s.seg_x, s.seg_ts
        p0 = s.design.p0
        return Alarm(
            metric=metric,
            slice=sl,
            event_index=index,
            change_index=start,
            baseline_rate=p0,
            rate_after_change=x / n,
            events_since_change=n,
            defects_since_change=x,
            statistic_nats=s.run.statistic * s.design.unit,
            threshold_nats=s.design.h,
            p_value=float(np.format_float_scientific(msprt_p_value(x, n, p0, self.config.tau), 3)),
            method=self.config.method,
            change_ts=start_ts,
            alarm_ts=ts,
        )
