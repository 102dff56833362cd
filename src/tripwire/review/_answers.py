"""What a reviewer may answer, checked the same way whether it comes from the review page or
from a file another tool wrote.

- data review: ``{"decision": "keep" | "drop", "reason": <audit reason code> | "other" | "",
  "note": str}``; a drop needs a reason.
- eval review: ``{"correctness" | "readability" | "idiomatic": "A" | "tie" | "B", "note": str}``;
  every question answered. A and B are as shown: which one is the candidate is hidden.
"""

from __future__ import annotations

from typing import Any

from tripwire.data import REASONS
from tripwire.review._pairwise import QUESTIONS

DECISIONS = ("keep", "drop")
DROP_REASONS = (*REASONS, "other")
CHOICES = ("A", "tie", "B")
NOTE_CHARS = 2000


def _note(answer: dict[str, Any]) -> str:
    note = answer.get("note") or ""
    if not isinstance(note, str):
        raise ValueError("the note must be text")
    return note[:NOTE_CHARS]


def check_answer(kind: str, answer: Any) -> dict[str, Any]:
    """The answer in its stored form; ValueError says what is wrong with it."""
    if not isinstance(answer, dict):
        raise ValueError("an answer must be an object")
    if kind == "data":
        decision = answer.get("decision")
        if decision not in DECISIONS:
            raise ValueError(f"decision must be keep or drop, got {decision!r}")
        reason = answer.get("reason") or ""
        if reason and reason not in DROP_REASONS:
            raise ValueError(f"unknown reason {reason!r} (one of {', '.join(DROP_REASONS)})")
        if decision == "drop" and not reason:
            raise ValueError("a drop needs a reason")
        return {"decision": decision, "reason": reason, "note": _note(answer)}
    if kind == "eval":
        out: dict[str, Any] = {}
        for q in QUESTIONS:
            v = answer.get(q)
            if v not in CHOICES:
                raise ValueError(f"{q} must be A, tie or B, got {v!r}")
            out[q] = v
        out["note"] = _note(answer)
        return out
    raise ValueError(f"unknown review kind {kind!r}")
