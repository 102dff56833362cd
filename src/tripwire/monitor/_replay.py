"""``tripwire monitor replay``: the live detectors run offline over a recorded stream.

``EVENTS.jsonl`` holds one JSON object per line: events (the ``POST /v1/events`` shape, ``type``
omitted or ``"event"``), and optionally ``{"type": "deploy", ...}`` and ``{"type": "feedback",
...}`` lines in stream order.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tripwire.artifacts import Registry
from tripwire.errors import BadInputError
from tripwire.monitor._detect import DetectorConfig
from tripwire.monitor._monitor import Monitor
from tripwire.monitor._schema import Deploy, Event, Feedback
from tripwire.progress import Progress, no_progress

Record = Event | Deploy | Feedback
_ADAPTERS = {"event": TypeAdapter(Event), "deploy": TypeAdapter(Deploy),
             "feedback": TypeAdapter(Feedback)}  # fmt: skip


def validation_problem(exc: ValidationError, whole: str = "record") -> str:
    """A pydantic error as one line: the first problem and the field it is at (``whole`` when
    it is the input itself)."""
    e = exc.errors()[0]
    where = ".".join(str(p) for p in e["loc"]) or whole
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    msg = e["msg"]
    if e["type"] == "string_pattern_mismatch":  # the only pattern: no NUL (PostgreSQL refuses it)
        msg = "must not contain NUL characters"
    elif e["type"] == "json_invalid":
        msg = f"not valid JSON ({e.get('ctx', {}).get('error', 'parse error')})"
    return f"{where}: {msg}{more}"


def read_stream(path: Path) -> Iterator[Record]:
    """Validated records of a stream file; the first bad line raises naming ``file:line``."""
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise BadInputError(path, f"cannot read: {exc.strerror}") from exc
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInputError(where, f"not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise BadInputError(where, "expected a JSON object")
            kind = obj.get("type", "event")
            adapter = _ADAPTERS.get(kind) if isinstance(kind, str) else None
            if adapter is None:
                raise BadInputError(where, f"unknown type {kind!r} (event, deploy, feedback)")
            try:
                yield adapter.validate_python(obj)
            except ValidationError as exc:
                raise BadInputError(where, validation_problem(exc)) from exc


def _lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for _ in fh)


def replay(
    path: Path,
    config: DetectorConfig | None = None,
    registry: Registry | None = None,
    progress: Progress = no_progress,
) -> dict[str, Any]:
    """Run checks and detectors over a recorded stream: ``{"alerts": [...], ...}``, with
    ``coverage`` (what was watched at the end of the stream) and ``watched`` (whether any
    detector judged any event: without it, no alerts means nothing was checked)."""
    monitor = Monitor(config or DetectorConfig(), registry)
    total = _lines(path) if path.is_file() else 0
    flagged: Counter[str] = Counter()
    events = 0
    for i, record in enumerate(read_stream(path), 1):
        if isinstance(record, Event):
            result, _ = monitor.ingest(record)
            flagged.update(result.defects)
            events += 1
        elif isinstance(record, Deploy):
            monitor.deploy(record)
        else:
            monitor.feedback(record)
        if i % 500 == 0 or i == total:
            progress("replay", i, total)
    coverage = monitor.detector.coverage()
    return {
        # the one verdict vocabulary (tripwire.findings.Verdict): an alert blocks (exit 1);
        # nothing watched is a warning, since no alert then means nothing was checked
        "verdict": "block" if monitor.alerts else ("pass" if coverage.watched else "warn"),
        "alerts": monitor.alerts,
        "watched": coverage.watched,
        "events": events,
        "judged_events": coverage.judged,
        "deploys": len(monitor.deploys),
        "flagged": dict(sorted(flagged.items())),
        "feedback_categories": dict(sorted(monitor.feedback_counts.items())),
        "streams": monitor.detector.streams(),
        "baseline_rates": monitor.detector.baseline_rates(),
        "coverage": coverage.to_dict(),
        "coverage_notices": coverage.notices(),
        "config": monitor.config.to_dict(),
    }
