"""Batches of reports from files and requests: every item gets a result, in order, so a bad
line or item costs nothing but itself."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from tripwire.triage._reports import NEEDS_REVIEW

Engine = Literal["model", "rules"]
ENGINES: tuple[str, ...] = ("model", "rules")


def parse_line(line: str) -> tuple[object, str | None]:
    """A JSONL line's report text: an object's ``text`` or a bare JSON string; else the reason
    it has none."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"not JSON ({exc.msg}, column {exc.colno})"
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


def triage_lines(lines: Iterable[str], engine: Engine = "model") -> list[dict[str, Any]]:
    """Each non-blank line of a JSONL stream, triaged; ``line`` numbers count from 1."""
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    parsed = [parse_line(line) for _, line in numbered]
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
