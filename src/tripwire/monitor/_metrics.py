"""Prometheus text exposition of the monitor's counters (no client library needed)."""

from __future__ import annotations

import re
from collections import Counter

from tripwire.monitor._coverage import Coverage
from tripwire.monitor._slices import DIMENSIONS, Slice


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


_RESERVED = frozenset({"check", "metric", "category", "route", *DIMENSIONS})


def _label_name(name: str, fixed: frozenset[str] = frozenset()) -> str:
    """A refining attribute as a Prometheus label name (``[a-zA-Z_][a-zA-Z0-9_]*``), kept apart
    from the labels the exposition sets itself."""
    clean = re.sub(r"[^a-zA-Z0-9_]", "_", name)
    return f"slice_{clean}" if clean in _RESERVED or clean in fixed else clean


def _labels(pairs: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs.items()) + "}"


def _slice_labels(sl: Slice) -> dict[str, str]:
    return {**sl.base.to_dict(), **{_label_name(k): v for k, v in sl.extra}}


class Counters:
    """What ``/metrics`` exposes; updated as events, feedback and alerts arrive."""

    def __init__(self) -> None:
        self.events: Counter[Slice] = Counter()
        self.defects: Counter[tuple[str, Slice]] = Counter()
        self.feedback: Counter[str] = Counter()
        self.alerts: Counter[tuple[str, Slice]] = Counter()

    def event(self, sl: Slice, flags: dict[str, bool | None]) -> None:
        self.events[sl] += 1
        for metric, v in flags.items():
            if v:
                self.defects[(metric, sl)] += 1

    def render(self, coverage: Coverage | None = None) -> str:
        lines = [
            "# HELP tripwire_monitor_events_total Completions received, per slice.",
            "# TYPE tripwire_monitor_events_total counter",
        ]
        for sl, n in sorted(self.events.items()):
            lines.append(f"tripwire_monitor_events_total{_labels(sl.to_dict())} {n}")
        lines += [
            "# HELP tripwire_monitor_defects_total Completions an online check flagged.",
            "# TYPE tripwire_monitor_defects_total counter",
        ]
        for (metric, sl), n in sorted(self.defects.items()):
            labels = _labels({"check": metric, **sl.to_dict()})
            lines.append(f"tripwire_monitor_defects_total{labels} {n}")
        lines += [
            "# HELP tripwire_monitor_feedback_total User feedback reports, per triaged category.",
            "# TYPE tripwire_monitor_feedback_total counter",
        ]
        for category, n in sorted(self.feedback.items()):
            lines.append(f"tripwire_monitor_feedback_total{_labels({'category': category})} {n}")
        lines += [
            "# HELP tripwire_monitor_alerts_total Change alerts raised, per metric and slice.",
            "# TYPE tripwire_monitor_alerts_total counter",
        ]
        for (metric, sl), n in sorted(self.alerts.items()):
            labels = _labels({"metric": metric, **_slice_labels(sl)})
            lines.append(f"tripwire_monitor_alerts_total{labels} {n}")
        if coverage is not None:
            lines += _coverage(coverage)
        return "\n".join(lines) + "\n"


def _coverage(coverage: Coverage) -> list[str]:
    """Gauges to alert on the monitor itself: an unwatched metric raises no alert of its own."""
    lines = [
        "# HELP tripwire_monitor_warmup_events_needed Events a route still needs before its "
        "detectors start (0: watching).",
        "# TYPE tripwire_monitor_warmup_events_needed gauge",
    ]
    for r in coverage.routes:
        lines.append(f"tripwire_monitor_warmup_events_needed{_labels({'route': r.route})} "
                     f"{r.needed}")  # fmt: skip
    lines += [
        "# HELP tripwire_monitor_metric_watched 1 when a metric has a detector on a route past "
        "its warm-up, 0 when too few warm-up events had it applicable.",
        "# TYPE tripwire_monitor_metric_watched gauge",
    ]
    for r in coverage.routes:
        for m in r.metrics:
            labels = _labels({"route": r.route, "metric": m.metric})
            lines.append(f"tripwire_monitor_metric_watched{labels} {int(m.watched)}")
    return lines


def slice_of_alert(alert: dict[str, object]) -> Slice:
    sl = alert["slice"]
    assert isinstance(sl, dict)
    return Slice.from_dict(sl)
