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


def read_text(path: Path) -> str:
    """A file's text (a UTF-8 BOM, as Windows tools write one, dropped); BadInputError names
    the line of the first byte that is not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInputError(path, f"cannot read it ({exc.strerror or exc})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadInputError(f"{path}:{line}", f"not UTF-8 text (byte {exc.start})") from exc


def load_json(text: str, where: str | Path) -> Any:
    """Parsed JSON; BadInputError for text that is not JSON, or nests too deeply to parse."""
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise BadInputError(where, "not JSON this reader can take (nested too deeply)") from exc
    except ValueError as exc:
        raise BadInputError(where, f"not JSON ({exc})") from exc


def check_review_id(found: Any, review_id: str, where: str | Path) -> None:
    """An export carries the id of the review it came from: two reviews of one suite share item
    ids and reviewer names, and only this tells their decisions apart."""
    if found is not None and review_id and found != review_id:
        raise BadInputError(
            where, f"comes from another review ({found!r}; this one is {review_id!r})"
        )


def write_native(items: list[Item], kind: str, path: Path, review_id: str = "") -> None:
    """tripwire's own JSONL: one item per line, the decisions file's shape in its header."""
    from tripwire.artifacts import write_text_atomic

    header = {
        "format": NATIVE_FORMAT,
        "kind": kind,
        "review_id": review_id,
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


def read_native(path: Path, kind: str = "", review_id: str = "") -> list[Incoming]:
    """Decision lines: ``{"item_id", "reviewer", "answer", "decided_at"?}`` (a header line with
    ``format`` and item lines from an export are skipped, once the header is this review's)."""
    out = []
    for n, line in enumerate(read_text(path).split("\n"), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        row = load_json(line, where)
        if not isinstance(row, dict):
            raise BadInputError(where, "expected a JSON object")
        if "format" in row:
            if kind and row.get("kind") not in (None, kind):
                raise BadInputError(
                    where, f"a {row.get('kind')} review's file, not this {kind} review's"
                )
            check_review_id(row.get("review_id") or None, review_id, where)
            continue
        if "shown" in row:
            continue
        if not isinstance(row.get("item_id"), str) or not isinstance(row.get("reviewer"), str):
            raise BadInputError(where, "a decision needs string fields item_id and reviewer")
        out.append(
            Incoming(
                row["item_id"], row["reviewer"], row.get("answer"), row.get("decided_at"), where
            )
        )
    return out
