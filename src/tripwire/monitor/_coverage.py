"""What the detectors watch right now, and what they do not (and why).

A detector that cannot run must never look like one that saw nothing wrong: "0 alerts" means
something only next to what was watched. ``Detector.coverage()`` builds these; replay, the
server's JSON, ``/metrics`` and the dashboard all render the same object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tripwire.monitor._slices import Slice

SPARSE_EVENTS = 10
"""A slice that judged fewer events than this cannot have alarmed on a moderate rise: a chart
needs 3 to 6 defects in a row at the default ARL0 just to cross on its largest shift."""
SPARSE_SLICES = 20
"""Sparse slices on one route before their events are called out (a few fresh slices are
every new deployment's first minutes)."""
LISTED_ROUTES = 10
"""Routes still warming up named one by one; the rest are summed up in one line."""


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
class LanguageWatch:
    """One language (stratum) of one metric on a route past its warm-up."""

    language: str
    """``""``: answers with no code block and no requested language."""
    watched: bool
    warmup_events: int
    """Warm-up events in this language where the metric applied."""
    warmup_defects: int
    rate: float | None
    """The warm-up's estimate (Jeffreys mean), when watched."""
    robust_rate: float | None
    """The rate its detectors are designed and calibrated at (never below the estimate)."""
    smallest_shift: float | None
    """The smallest corrupted share of answers its detectors are tuned to."""
    skipped: int
    """Events since the warm-up not judged because the language is not watched."""
    min_stratum: int

    @property
    def reason(self) -> str | None:
        if self.watched:
            return None
        if self.warmup_events < self.min_stratum:
            return (f"{self.warmup_events} warm-up events in this language; "
                    f"a language needs {self.min_stratum}")  # fmt: skip
        return "its warm-up rate leaves nothing to rise to"

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "state": "watched" if self.watched else "unwatched",
            "warmup_events": self.warmup_events,
            "warmup_defects": self.warmup_defects,
            "rate": None if self.rate is None else round(self.rate, 6),
            "robust_rate": None if self.robust_rate is None else round(self.robust_rate, 6),
            "smallest_shift": None
            if self.smallest_shift is None
            else round(self.smallest_shift, 6),
            "skipped_events": self.skipped,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class MetricCoverage:
    """One metric on one route whose baseline is frozen."""

    metric: str
    watched: bool
    """A detector exists for it: enough warm-up events had it applicable to trust a baseline,
    in at least one language."""
    applicable: int
    """Warm-up events where the metric applied (the others had no code, no logprobs, ...)."""
    warmup: int
    min_baseline: int
    slices: tuple[SliceWatch, ...] = ()
    """Slices with a live stream (a watched metric gets one at its slice's next event)."""
    languages: tuple[LanguageWatch, ...] = ()

    @property
    def reason(self) -> str | None:
        """Why it is not watched; ``None`` when it is."""
        if self.watched:
            return None
        if self.applicable >= self.min_baseline:
            stratum = self.languages[0].min_stratum if self.languages else 20
            return (f"no language had {stratum} of the {self.warmup} warm-up events where "
                    "this metric applied")  # fmt: skip
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
            "languages": [lang.to_dict() for lang in self.languages],
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
    min_stratum: int = 20

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

    def skipped_languages(self) -> list[tuple[str, str, int, int]]:
        """``(route, language, warm-up events, events skipped since)`` for every language whose
        answers arrived after the warm-up but are not judged (the largest counts over metrics)."""
        out = []
        for r in self.routes:
            seen: dict[str, tuple[int, int]] = {}
            for m in r.metrics:
                for lang in m.languages:
                    if not lang.watched and lang.skipped:
                        n, k = seen.get(lang.language, (0, 0))
                        seen[lang.language] = (max(n, lang.warmup_events), max(k, lang.skipped))
            out += [(r.route, lang, n, k) for lang, (n, k) in sorted(seen.items())]
        return out

    def sparse_slices(self) -> list[tuple[str, str, int, int, int]]:
        """``(route, metric, slices, their events, judged events)`` for each route where most
        judged events fell in many slices too small to alarm: a slice coordinate that changes
        every few events (a pod or request id sent as ``hardware``) switches detection off
        while every event still counts as judged. The metric with the most such events."""
        out = []
        for r in self.routes:
            worst = None
            for m in r.metrics:
                whole = [w for w in m.slices if not w.slice.extra]
                sparse = [w.events for w in whole if w.events < SPARSE_EVENTS]
                judged = sum(w.events for w in whole)
                row = (r.route, m.metric, len(sparse), sum(sparse), judged)
                if len(sparse) >= SPARSE_SLICES and 2 * sum(sparse) > judged:
                    worst = max(worst or row, row, key=lambda t: t[3])
            out += [worst] if worst else []
        return out

    def notices(self) -> list[str]:
        """One plain-text line per route still warming up, per unwatched metric and per
        language whose answers go unjudged (no markup: the caller escapes for its medium)."""
        lines = []
        warming = self.warming_up()
        for r in warming[:LISTED_ROUTES]:
            lines.append(
                f"route {r.route!r} is still warming up: {r.seen} of {r.warmup} baseline "
                f"events, {r.needed} more needed before it is watched"
            )
        if len(warming) > LISTED_ROUTES:
            rest = warming[LISTED_ROUTES:]
            # one line, not one per route: a route name with a request id in it makes thousands
            lines.append(
                f"{len(rest)} more routes are still warming up ({sum(r.seen for r in rest)} "
                "events among them, none judged): a route name that changes per request never "
                "finishes a warm-up"
            )
        for route, metric, slices, events, judged in self.sparse_slices():
            lines.append(
                f"route {route!r}: {events} of the {judged} events judged for {metric} fell in "
                f"{slices} slices of fewer than {SPARSE_EVENTS} events each, too few for a "
                "detector to alarm: a slice coordinate that changes every few events (a pod, "
                "request or build id as hardware, deployment or model_version?) switches "
                "detection off"
            )
        for route, m in self.unwatched():
            lines.append(f"route {route!r}: {m.metric} is not watched: {m.reason}")
        for route, language, n, k in self.skipped_languages():
            lines.append(
                f"route {route!r}: answers in {language or '(no language)'!s} are not watched "
                f"({n} warm-up events, a language needs {self.min_stratum}): {k} since"
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "watched": self.watched,
            "judged_events": self.judged,
            "streams": self.streams,
            "metrics_watched": sum(m.watched for r in self.routes for m in r.metrics),
            "metrics_unwatched": len(self.unwatched()),
            "routes_warming_up": len(self.warming_up()),
            "languages_skipped": len(self.skipped_languages()),
            "routes_sparse": len(self.sparse_slices()),
            "warmup": self.warmup,
            "min_baseline": self.min_baseline,
            "routes": [r.to_dict() for r in self.routes],
        }
