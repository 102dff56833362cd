"""Batches of reports from files and requests: every item gets a result, in order, so a bad
line or item costs nothing but itself."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from tripwire.triage._cluster import Deploy, Item, cluster_reports
from tripwire.triage._reports import NEEDS_REVIEW

Engine = Literal["model", "rules"]
ENGINES: tuple[str, ...] = ("model", "rules")


SLICE_KEYS = ("model_version", "deployment", "hardware", "route", "language")


def parse_line(line: str) -> tuple[object, str | None]:
    """A JSONL line's report text: an object's ``text`` or a bare JSON string; else the reason
    it has none."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"not JSON ({exc.msg}, column {exc.colno})"
    except RecursionError:
        return None, "JSON nested too deeply to read"
    except ValueError:  # an integer past Python's digit limit (sys.set_int_max_str_digits)
        return None, "JSON number too long to read"
    return report_text(item)


def report_text(item: object) -> tuple[object, str | None]:
    if isinstance(item, dict):
        if "text" not in item:
            return None, "object without a 'text' field"
        return item["text"], None
    if isinstance(item, str):
        return item, None
    return None, f"expected an object with 'text' or a string, got {type(item).__name__}"


def triage_many(items: Sequence[object], engine: Engine = "model") -> list[dict[str, Any]]:
    """One result dict per item (``category``, ``confidence``, ``evidence``, ``reason``...)."""
    if engine == "rules":
        from tripwire.monitor._triage import triage
        from tripwire.triage._guard import clean, refusal

        results = []
        for item in items:
            why = refusal(item)
            if why is not None:
                results.append({"category": "other", "evidence": [why], "reason": why})
                continue
            t = triage(clean(str(item)))
            results.append({"category": t.category, "evidence": list(t.evidence),
                            "reason": None})  # fmt: skip
        return results
    from tripwire.triage._model import classify

    return [v.to_dict() | {"evidence": list(v.evidence)} for v in classify(items)]


def _ts(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


@dataclass
class Stream:
    """A JSONL file of reports, with the deploys it records (``{"type": "deploy", ...}``)."""

    lines: list[tuple[int, object, str | None]] = field(default_factory=list)
    """(line number, report text, reason it is unreadable)"""
    meta: list[tuple[datetime | None, dict[str, str]]] = field(default_factory=list)
    deploys: list[Deploy] = field(default_factory=list)


def read_stream(lines: Iterable[str]) -> Stream:
    s = Stream()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):  # ValueError: also a too-long integer; parse_line says
            obj = None
        if isinstance(obj, dict) and obj.get("type") == "deploy":
            ts = _ts(obj.get("ts"))
            if ts is not None and isinstance(obj.get("model_version"), str):
                s.deploys.append(Deploy(ts, obj["model_version"], obj.get("deployment")))
                continue
        text, why = parse_line(line)
        s.lines.append((n, text, why))
        fields = obj if isinstance(obj, dict) else {}
        sl = {k: str(fields[k]) for k in SLICE_KEYS if isinstance(fields.get(k), str)}
        s.meta.append((_ts(fields.get("ts")), sl))
    return s


def clusters_of(stream: Stream, results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Clusters of the readable reports, members given as line numbers."""
    keep = [i for i, r in enumerate(results) if not r.get("reason")]
    items = [
        Item(str(stream.lines[i][1]), results[i]["category"], stream.meta[i][0], stream.meta[i][1])
        for i in keep
    ]
    out = []
    for c in cluster_reports(items, stream.deploys):
        d = asdict(c)
        d["members"] = [stream.lines[keep[m]][0] for m in c.members]
        out.append(d)
    return out


def triage_lines(lines: Iterable[str], engine: Engine = "model") -> list[dict[str, Any]]:
    """Each non-blank line of a JSONL stream, triaged; ``line`` numbers count from 1."""
    return triage_stream(read_stream(lines), engine)


def triage_stream(stream: Stream, engine: Engine = "model") -> list[dict[str, Any]]:
    numbered = [(n, None) for n, _, _ in stream.lines]
    parsed = [(text, why) for _, text, why in stream.lines]
    texts = [text for text, why in parsed if why is None]
    verdicts = iter(triage_many(texts, engine))
    results = []
    for (n, _), (_, why) in zip(numbered, parsed, strict=True):
        if why is None:
            results.append({"line": n, **next(verdicts)})
        else:
            reason = f"line {n}: {why}"
            results.append({"line": n, "category": "other", "evidence": [reason],
                            "reason": reason})  # fmt: skip
    return results


def summary(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts per category; ``needs_review`` and unreadable reports counted apart."""
    counts = Counter(r["category"] for r in results)
    return {
        "reports": len(results),
        "categories": {c: n for c, n in counts.most_common() if c != NEEDS_REVIEW},
        "needs_review": counts.get(NEEDS_REVIEW, 0),
        "unreadable": sum(1 for r in results if r.get("reason")),
    }
