"""What leaves a review for another tool and what comes back, whatever the tool.

An exported item carries only what a reviewer may see (``shown``) and its ``item_id``; never
the audit's verdict or which answer is the candidate's. What comes back is a list of
``Incoming`` decisions that ``_importer`` checks as a whole before any is applied.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tripwire.errors import BadInputError
from tripwire.review._store import Item

NATIVE_FORMAT = "tripwire-review-decisions"


@dataclass(frozen=True)
class Incoming:
    """One decision read from a file, before it is checked."""

    item_id: str
    reviewer: str
    """The reviewer as the file names them (a name, an e-mail, a tool's user id)."""
    answer: dict[str, Any]
    decided_at: str | None
    where: str
    """Where in the file it came from, for error messages."""


def fields_of(kind: str, item: Item) -> dict[str, str]:
    """The item's text fields, flat, as the other tools get them."""
    s = item.shown
    if kind == "data":
        return {
            "item_id": item.item_id,
            "prompt": s.get("prompt", ""),
            "code": s.get("code", s.get("text", "")),
            "language": s.get("language", ""),
            "source": s.get("source", ""),
            "kind": s.get("kind", ""),
        }
    return {
        "item_id": item.item_id,
        "prompt": s["prompt"],
        "answer_a": s["A"],
        "answer_b": s["B"],
        "language": s.get("language", ""),
    }


def reviewer_uuid(review_id: str, name: str) -> str:
    """The stable UUID tripwire gives a reviewer in tools that name users by UUID (Argilla)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tripwire-review:{review_id}:{name}"))


def write_native(items: list[Item], kind: str, path: Path) -> None:
    """tripwire's own JSONL: one item per line, the decisions file's shape in its header."""
    from tripwire.artifacts import write_text_atomic

    header = {
        "format": NATIVE_FORMAT,
        "kind": kind,
        "decision_line": {
            "item_id": "...",
            "reviewer": "...",
            "answer": {},
            "decided_at": "ISO 8601 (optional)",
        },
    }
    lines = [json.dumps(header)] + [
        json.dumps({"item_id": i.item_id, "shown": fields_of(kind, i)}, ensure_ascii=False)
        for i in items
    ]
    write_text_atomic(path, "\n".join(lines) + "\n")


def read_native(path: Path) -> list[Incoming]:
    """Decision lines: ``{"item_id", "reviewer", "answer", "decided_at"?}`` (a header line with
    ``format`` and item lines from an export are skipped)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInputError(where, f"not JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise BadInputError(where, "expected a JSON object")
            if "format" in row or "shown" in row:
                continue
            if not isinstance(row.get("item_id"), str) or not isinstance(row.get("reviewer"), str):
                raise BadInputError(where, "a decision needs string fields item_id and reviewer")
            out.append(
                Incoming(
                    row["item_id"], row["reviewer"], row.get("answer"), row.get("decided_at"), where
                )
            )
    return out
