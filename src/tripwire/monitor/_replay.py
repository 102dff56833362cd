"""``tripwire monitor replay``: the live detectors run offline over a recorded stream.

``EVENTS.jsonl`` holds one JSON object per line: events (the ``POST /v1/events`` shape, ``type``
omitted or ``"event"``), and optionally ``{"type": "deploy", ...}`` and ``{"type": "feedback",
...}`` lines in stream order.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
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
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "string_pattern_mismatch":  # the only pattern: no NUL (PostgreSQL refuses it)
        msg = "must not contain NUL characters"
    elif e["type"] == "json_invalid":
        msg = f"not valid JSON ({e.get('ctx', {}).get('error', 'parse error')})"
    return f"{where}: {msg}{more}"


def _text(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        why = f"not UTF-8 text (byte 0x{bad} at byte {exc.start + 1} of the line)"
        raise BadInputError(where, why) from exc


def _record(line: str, where: str) -> Record:
    try:
        obj = json.loads(line)
    except RecursionError as exc:
        raise BadInputError(where, "JSON nested too deeply to read") from exc
    except json.JSONDecodeError as exc:
        # a CSV export or a pretty-printed document fails here, on its first line
        raise BadInputError(where, f"not valid JSON ({exc.msg}): expected one JSON object per "
                            "line (JSON Lines)") from exc  # fmt: skip
    except ValueError as exc:  # an integer past Python's digit limit (sys.set_int_max_str_digits)
        raise BadInputError(where, "JSON number too long to read") from exc
    if not isinstance(obj, dict):
        raise BadInputError(where, "expected a JSON object")
    kind = obj.get("type", "event")
    adapter = _ADAPTERS.get(kind) if isinstance(kind, str) else None
    if adapter is None:
        raise BadInputError(where, f"unknown type {kind!r} (event, deploy, feedback)")
    try:
        return adapter.validate_python(obj)
    except ValidationError as exc:
        raise BadInputError(where, validation_problem(exc)) from exc


def read_stream(path: Path) -> Iterator[Record]:
    """Validated records of a stream file; the first bad line raises naming ``file:line``, and
    so does a file without any record (an export that wrote nothing is not a quiet stream)."""
    for _, record in _numbered(path):
        yield record


def _numbered(path: Path) -> Iterator[tuple[int, Record]]:
    """``read_stream`` with each record's line number (blank lines hold none)."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise BadInputError(path, f"cannot read: {exc.strerror}") from exc
    records = 0
    with fh:
        try:
            for lineno, raw in enumerate(fh, 1):
                where = f"{path}:{lineno}"
                line = _text(raw.removeprefix(b"\xef\xbb\xbf") if lineno == 1 else raw, where)
                if line.strip():
                    records += 1
                    yield lineno, _record(line, where)
        except OSError as exc:  # a directory, a device that refuses reads
            raise BadInputError(path, f"cannot read: {exc.strerror}") from exc
    if not records:
        raise BadInputError(path, "no records: the file is empty")


# Servers a few seconds apart log the same minute in slightly different orders; more than this
# behind the latest time seen is a stream that was not recorded in time order.
OUT_OF_ORDER_SLACK = timedelta(minutes=5)


class _Order:
    """Records whose time is well before one already seen: replay judges a stream in file
    order, as the server judges events in arrival order, so a stream concatenated from several
    logs is judged in an order it was never served in (and change points are dated wrong)."""

    def __init__(self) -> None:
        self.latest: datetime | None = None
        self.count = 0
        self.first_line = 0
        self.most = timedelta(0)

    def see(self, ts: datetime, line: int) -> None:
        if self.latest is None or ts > self.latest:
            self.latest = ts
            return
        behind = self.latest - ts
        if behind > OUT_OF_ORDER_SLACK:
            self.count += 1
            self.first_line = self.first_line or line
            self.most = max(self.most, behind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.count,
            "first_line": self.first_line or None,
            "most_behind_seconds": round(self.most.total_seconds()),
        }


def _content(event: Event) -> int:
    # a resend carries the same answer; its time may be restamped at sending, so ts is left out
    return hash(event.model_dump_json(exclude={"ts"}))


class _Reused:
    """Events skipped for repeating an earlier id with a different answer: not resends. An id
    counter that restarts with each client process makes every event of a new release repeat
    one of the old release's ids, and the release is then never judged."""

    def __init__(self) -> None:
        self.count = 0
        self.first_line = 0
        self.first_id = ""

    def see(self, event_id: str, line: int) -> None:
        self.count += 1
        if not self.first_line:
            self.first_line, self.first_id = line, event_id

    def to_dict(self) -> dict[str, Any]:
        return {"events": self.count, "first_line": self.first_line or None,
                "first_id": self.first_id or None}  # fmt: skip

    def notices(self) -> list[str]:
        if not self.count:
            return []
        return [f"{self.count} events repeat an earlier event_id with a different answer (first "
                f"at line {self.first_line}, id {self.first_id!r}): not resends, yet skipped as "
                "the server skips them, so never judged; ids must be unique per event (an id "
                "counter that restarts?)"]  # fmt: skip


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
    events = duplicates = 0
    seen: dict[str, int] = {}
    reused = _Reused()
    order = _Order()
    for i, record in _numbered(path):
        if "ts" in record.model_fields_set:  # a record without one is stamped "now"
            order.see(record.ts, i)
        if isinstance(record, Event):
            # as the server stores them: an event whose id came before is a resend, skipped
            if record.event_id:
                content = _content(record)
                if record.event_id in seen:
                    duplicates += 1
                    if seen[record.event_id] != content:
                        reused.see(record.event_id, i)
                    continue
                seen[record.event_id] = content
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
        "duplicates": duplicates,
        "out_of_order": order.to_dict(),
        "reused_ids": reused.to_dict(),
        "judged_events": coverage.judged,
        "deploys": len(monitor.deploys),
        "flagged": dict(sorted(flagged.items())),
        "feedback_categories": dict(sorted(monitor.feedback_counts.items())),
        "streams": monitor.detector.streams(),
        "baseline_rates": monitor.detector.baseline_rates(),
        "coverage": coverage.to_dict(),
        "coverage_notices": reused.notices() + coverage.notices(),
        "config": monitor.config.to_dict(),
    }
