"""What the detectors watch right now, and what they do not (and why).

A detector that cannot run must never look like one that saw nothing wrong: "0 alerts" means
something only next to what was watched. ``Detector.coverage()`` builds these; replay, the
server's JSON, ``/metrics`` and the dashboard all render the same object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tripwire.monitor._slices import Slice


@dataclass(frozen=True)
class SliceWatch:
    """One live (metric, slice) stream."""

    slice: Slice
    events: int
    """Events this stream has judged since its route's warm-up ended."""
    alerted: bool
    """An alerted stream stops: it has said its one thing until the baseline is reset."""

    def to_dict(self) -> dict[str, Any]:
        return {"slice": self.slice.to_dict(), "slice_label": self.slice.label,
                "events": self.events, "alerted": self.alerted}  # fmt: skip


@dataclass(frozen=True)
class MetricCoverage:
    """One metric on one route whose baseline is frozen."""

    metric: str
    watched: bool
    """A detector exists for it: enough warm-up events had it applicable to trust a baseline."""
    applicable: int
    """Warm-up events where the metric applied (the others had no code, no logprobs, ...)."""
    warmup: int
    min_baseline: int
    slices: tuple[SliceWatch, ...] = ()
    """Slices with a live stream (a watched metric gets one at its slice's next event)."""

    @property
    def reason(self) -> str | None:
        """Why it is not watched; ``None`` when it is."""
        if self.watched:
            return None
        had = f"only {self.applicable}" if self.applicable else "none"
        return (f"{had} of the {self.warmup} warm-up events had this metric applicable; "
                f"a baseline needs {self.min_baseline}")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "state": "watched" if self.watched else "unwatched",
            "applicable_events": self.applicable,
            "reason": self.reason,
            "slices": [s.to_dict() for s in self.slices],
        }


@dataclass(frozen=True)
class RouteCoverage:
    """One route: still warming up (nothing on it is watched), or frozen with its metrics."""

    route: str
    warmup: int
    seen: int
    """Warm-up events seen so far (``warmup`` once frozen)."""
    metrics: tuple[MetricCoverage, ...] = ()
    """Empty while warming up."""

    @property
    def state(self) -> Literal["warming_up", "frozen"]:
        return "frozen" if self.seen >= self.warmup else "warming_up"

    @property
    def needed(self) -> int:
        """Events still to come before this route's detectors start."""
        return max(self.warmup - self.seen, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "state": self.state,
            "warmup_events_seen": self.seen,
            "warmup_events_needed": self.needed,
            "metrics": [m.to_dict() for m in self.metrics],
        }


@dataclass(frozen=True)
class Coverage:
    """Every route the detector has seen, with what is watched on it."""

    routes: tuple[RouteCoverage, ...]
    warmup: int
    min_baseline: int
    judged: int
    """Events at least one detector stream judged: the events an absence of alerts speaks for."""

    @property
    def watched(self) -> bool:
        return self.judged > 0

    @property
    def streams(self) -> int:
        return sum(len(m.slices) for r in self.routes for m in r.metrics)

    def warming_up(self) -> list[RouteCoverage]:
        return [r for r in self.routes if r.state == "warming_up"]

    def unwatched(self) -> list[tuple[str, MetricCoverage]]:
        return [(r.route, m) for r in self.routes for m in r.metrics if not m.watched]

    def notices(self) -> list[str]:
        """One plain-text line per route still warming up and per unwatched metric (no
        markup: the caller escapes for its medium)."""
        lines = []
        for r in self.warming_up():
            lines.append(
                f"route {r.route!r} is still warming up: {r.seen} of {r.warmup} baseline "
                f"events, {r.needed} more needed before it is watched"
            )
        for route, m in self.unwatched():
            lines.append(f"route {route!r}: {m.metric} is not watched: {m.reason}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "watched": self.watched,
            "judged_events": self.judged,
            "streams": self.streams,
            "metrics_watched": sum(m.watched for r in self.routes for m in r.metrics),
            "metrics_unwatched": len(self.unwatched()),
            "routes_warming_up": len(self.warming_up()),
            "warmup": self.warmup,
            "min_baseline": self.min_baseline,
            "routes": [r.to_dict() for r in self.routes],
        }
