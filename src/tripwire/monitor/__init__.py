"""Production monitor: ingestion API, online checks, feedback triage, sequential change
detection per metric and slice, alerts with rollback targets, dashboard, canaries, replay.

```python
from pathlib import Path
from tripwire.monitor import DetectorConfig, replay

report = replay(Path("EVENTS.jsonl"), DetectorConfig(arl0=100_000))
for alert in report["alerts"]:
    print(alert["message"])
for line in report["coverage_notices"]:  # what was not watched: no alert says nothing there
    print(line)
```
"""

from tripwire.monitor._alerts import KNOWN_GOOD, Rollback, build_alert, rollback_target
from tripwire.monitor._app import ServerConfig, create_app
from tripwire.monitor._canary import (
    CanaryAnswer,
    CanaryRound,
    Endpoint,
    compare_round,
    run_canaries,
)
from tripwire.monitor._checks import (
    DEFAULT_SCRIPTS,
    FLAGS,
    CheckResult,
    CodeBlock,
    check_event,
    code_blocks,
    unexpected_characters,
)
from tripwire.monitor._coverage import Coverage, MetricCoverage, RouteCoverage, SliceWatch
from tripwire.monitor._detect import MIN_BASELINE, Alarm, Detector, DetectorConfig
from tripwire.monitor._monitor import Monitor, TriagedFeedback, triage_feedback
from tripwire.monitor._replay import read_stream, replay
from tripwire.monitor._schema import FEEDBACK_CATEGORIES, Deploy, Event, EventBatch, Feedback
from tripwire.monitor._simulate import Fault, Traffic, simulate
from tripwire.monitor._slices import DIMENSIONS, Slice
from tripwire.monitor._store import Store
from tripwire.monitor._triage import Triage, triage

__all__ = [
    "DEFAULT_SCRIPTS",
    "DIMENSIONS",
    "FEEDBACK_CATEGORIES",
    "FLAGS",
    "KNOWN_GOOD",
    "MIN_BASELINE",
    "Alarm",
    "CanaryAnswer",
    "CanaryRound",
    "CheckResult",
    "CodeBlock",
    "Coverage",
    "Deploy",
    "Detector",
    "DetectorConfig",
    "Endpoint",
    "Event",
    "EventBatch",
    "Fault",
    "Feedback",
    "MetricCoverage",
    "Monitor",
    "Rollback",
    "RouteCoverage",
    "ServerConfig",
    "Slice",
    "SliceWatch",
    "Store",
    "Traffic",
    "Triage",
    "TriagedFeedback",
    "build_alert",
    "check_event",
    "code_blocks",
    "compare_round",
    "create_app",
    "read_stream",
    "replay",
    "rollback_target",
    "run_canaries",
    "simulate",
    "triage",
    "triage_feedback",
    "unexpected_characters",
]
