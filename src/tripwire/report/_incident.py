"""The demo's incident report: a postmortem page with the timeline, each bug's evidence, the
gate's decision and root cause, the remedy and the gate run that verified it, the bisect chain,
the monitor's alert and the lessons.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tripwire.documents import Fields, as_list
from tripwire.errors import BadInputError
from tripwire.gate import GateResult
from tripwire.report._forest import forest_svg
from tripwire.report._gate_display import brief, slices, verdict_tone
from tripwire.report._html import render_html, write_html

TEMPLATE = "incident.html.j2"
WHERE = "incident report"


def _dict(value: Any, where: str) -> dict[str, Any]:
    return Fields(value, where, WHERE).data


def _list(value: Any, where: str) -> list[Any]:
    return as_list(value, where, WHERE)


def _gate(value: Any, where: str) -> GateResult | None:
    return None if value is None else GateResult.from_dict(Fields(value, where, WHERE))


def _verdict(value: Any) -> dict[str, str]:
    text = "" if value is None else str(value).lower()
    return {"text": text or "—", "tone": verdict_tone(text)}


def _bug(value: Any, where: str) -> dict[str, Any]:
    b = _dict(value, where)
    gate = _gate(b.get("gate"), f"{where}.gate")
    remedy = _dict(b.get("remedy"), f"{where}.remedy")
    fixed = _gate(remedy.get("gate"), f"{where}.remedy.gate")
    return {
        "name": str(b.get("name") or ""),
        "title": str(b.get("title") or b.get("name") or "unnamed bug"),
        "injected": str(b.get("injected") or ""),
        "evidence": [str(e) for e in _list(b.get("evidence"), f"{where}.evidence")],
        "gate": gate,
        "forest": None,
        "remedy": {
            "description": str(remedy.get("description") or ""),
            "command": str(remedy.get("command") or ""),
            "gate": fixed,
            "forest": None,
        }
        if remedy
        else None,
    }


def _bisect(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    b = _dict(value, "bisect")
    first_bad = _dict(b.get("first_bad"), "bisect.first_bad")
    steps = []
    for i, raw in enumerate(_list(b.get("steps"), "bisect.steps")):
        s = _dict(raw, f"bisect.steps[{i}]")
        sid = str(s.get("id") or "")
        steps.append(
            {
                "id": sid,
                "name": str(s.get("name") or sid),
                "verdict": _verdict(s.get("verdict")),
                "first_bad": bool(first_bad) and sid == str(first_bad.get("id")),
            }
        )
    return {
        "good": str(b.get("good") or ""),
        "bad": str(b.get("bad") or ""),
        "steps": steps,
        "first_bad": str(first_bad.get("name") or first_bad.get("id") or "") or None,
    }


def _monitor(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    m = _dict(value, "monitor")
    alert = _dict(m.get("alert"), "monitor.alert")
    return {
        "lines": "\n".join(str(x) for x in _list(m.get("lines"), "monitor.lines")),
        "alert": [(str(k), brief(v, 300)) for k, v in alert.items()],
    }


def _stage(value: Any, where: str) -> dict[str, Any]:
    s = _dict(value, where)
    lines = "\n".join(str(x) for x in _list(s.get("lines"), f"{where}.lines"))
    return {"name": str(s.get("name") or ""), "title": str(s.get("title") or ""),
            "ok": bool(s.get("ok")), "lines": lines}  # fmt: skip


def _languages(reference: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    rows = [_dict(r, "reference.languages[]") for r in _list(reference.get("languages"), "langs")]
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return columns, [[brief(r.get(c, ""), 80) for c in columns] for r in rows]


def _context(incident: Any) -> dict[str, Any]:
    inc = _dict(incident, "the report")
    if not inc.get("title"):
        raise BadInputError(WHERE, "has no 'title' (is this a tripwire demo incident file?)")
    reference = _dict(inc.get("reference"), "reference")
    columns, rows = _languages(reference)
    timeline = []
    for i, raw in enumerate(_list(inc.get("timeline"), "timeline")):
        t = _dict(raw, f"timeline[{i}]")
        timeline.append(
            {
                "step": str(t.get("step", i)),
                "event": str(t.get("event") or ""),
                "model": str(t.get("model") or ""),
                "verdict": _verdict(t.get("verdict")),
            }
        )
    context = {
        "title": str(inc["title"]),
        "generated_at": str(inc.get("generated_at") or ""),
        "version": str(inc.get("tripwire_version") or ""),
        "reference": {k: str(reference.get(k) or "") for k in ("profile", "id", "path")},
        "language_columns": columns,
        "language_rows": rows,
        "summary": str(inc.get("summary") or ""),
        "timeline": timeline,
        "bugs": [_bug(b, f"bugs[{i}]") for i, b in enumerate(_list(inc.get("bugs"), "bugs"))],
        "bisect": _bisect(inc.get("bisect")),
        "monitor": _monitor(inc.get("monitor")),
        "stages": [
            _stage(s, f"stages[{i}]") for i, s in enumerate(_list(inc.get("stages"), "stages"))
        ],
        "lessons": [str(x) for x in _list(inc.get("lessons"), "lessons")],
    }
    # plots last: a malformed field anywhere is reported before seconds are spent drawing
    for bug in context["bugs"]:
        for part in (bug, bug["remedy"]):
            if part and part["gate"]:
                part["forest"] = forest_svg(slices(part["gate"]))
    return context


def render_incident_html(incident: dict[str, Any]) -> str:
    """The postmortem page for the demo's incident (schema in ``tripwire.report``)."""
    return render_html(TEMPLATE, **_context(incident))


def write_incident_html(path: Path, incident: dict[str, Any]) -> None:
    """Render and write atomically; bad input raises before anything is written."""
    write_html(path, TEMPLATE, **_context(incident))
