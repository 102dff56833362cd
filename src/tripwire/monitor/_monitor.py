"""The monitor's state machine: events in, checks and detectors run, alerts out. The server and
``replay`` both drive one, so a recorded stream replayed offline raises the alerts the live
service raised."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tripwire.artifacts import Registry
from tripwire.monitor._alerts import safe_alert
from tripwire.monitor._checks import DEFAULT_SCRIPTS, CheckResult, check_event
from tripwire.monitor._detect import Detector, DetectorConfig
from tripwire.monitor._schema import Deploy, Event, Feedback
from tripwire.monitor._slices import Slice
from tripwire.monitor._triage import triage


@dataclass(frozen=True)
class TriagedFeedback:
    feedback: Feedback
    category: str
    evidence: tuple[str, ...]
    source: str
    """``reporter`` when the sender chose the category, ``triage`` when the text decided it."""


def triage_feedback(fb: Feedback, engine: str = "rules") -> TriagedFeedback:
    """``engine``: ``rules`` (the regular expressions) or ``model`` (tripwire.triage's learned
    classifier, which may answer ``needs_review``)."""
    if engine == "model":
        from tripwire.triage import classify

        v = classify([fb.text])[0]
        if fb.category is not None:
            return TriagedFeedback(fb, fb.category, v.evidence, "reporter")
        return TriagedFeedback(fb, v.category, v.evidence, "triage")
    if fb.category is not None:
        return TriagedFeedback(fb, fb.category, triage(fb.text).evidence, "reporter")
    t = triage(fb.text)
    return TriagedFeedback(fb, t.category, t.evidence, "triage")


@dataclass
class Monitor:
    config: DetectorConfig = field(default_factory=DetectorConfig)
    registry: Registry | None = None
    allowed_scripts: frozenset[str] = DEFAULT_SCRIPTS
    deploys: list[Deploy] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    feedback_counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.detector = Detector(self.config)

    def check(self, event: Event) -> CheckResult:
        return check_event(event, self.allowed_scripts)

    def observe(self, event: Event, result: CheckResult) -> list[dict[str, Any]]:
        """Feed one checked event to the detectors; the alerts it raised."""
        alarms = self.detector.observe(
            Slice.of(event), result.flags, event.ts, result.stratum, event.attributes
        )
        new = [safe_alert(a, self.deploys, self.registry)[0] for a in alarms]
        self.alerts.extend(new)
        return new

    def ingest(self, event: Event) -> tuple[CheckResult, list[dict[str, Any]]]:
        result = self.check(event)
        return result, self.observe(event, result)

    def deploy(self, d: Deploy) -> None:
        self.deploys.append(d)

    def feedback(self, fb: Feedback) -> TriagedFeedback:
        t = triage_feedback(fb)
        self.feedback_counts[t.category] += 1
        return t
