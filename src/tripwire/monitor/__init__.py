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
from tripwire.monitor._app import MAX_BODY, create_app
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
from tripwire.monitor._coverage import (
    Coverage,
    LanguageWatch,
    MetricCoverage,
    RouteCoverage,
    SliceWatch,
)
from tripwire.monitor._detect import (
    MIN_BASELINE,
    MIN_STRATUM,
    Alarm,
    Detector,
    DetectorConfig,
    parse_slice_by,
)
from tripwire.monitor._monitor import Monitor, TriagedFeedback, triage_feedback
from tripwire.monitor._replay import read_stream, replay
from tripwire.monitor._schema import FEEDBACK_CATEGORIES, Deploy, Event, EventBatch, Feedback
from tripwire.monitor._service import ServerConfig, Service
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
    "MAX_BODY",
    "MIN_BASELINE",
    "MIN_STRATUM",
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
    "LanguageWatch",
    "MetricCoverage",
    "Monitor",
    "Rollback",
    "RouteCoverage",
    "ServerConfig",
    "Service",
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
    "parse_slice_by",
    "read_stream",
    "replay",
    "rollback_target",
    "run_canaries",
    "simulate",
    "triage",
    "triage_feedback",
    "unexpected_characters",
]
