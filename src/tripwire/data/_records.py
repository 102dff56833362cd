"""What one input record is: its shape (code file, instruction pair, chat), its code, and the
format problems found while reading it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from typing import Any

from tripwire.data._languages import normalize_language
from tripwire.data._secrets import suspect_strings
from tripwire.errors import BadInputError

CHAT_ROLES = frozenset({"system", "user", "assistant", "tool", "function", "developer"})


@dataclass(frozen=True)
class FieldMap:
    """Column names in the input, for datasets that do not use tripwire's names."""

    id: str = "id"
    text: str = "text"
    prompt: str = "prompt"
    response: str = "response"
    tests: str = "tests"
    language: str = "language"
    source: str = "source"
    messages: str = "messages"
    role: str = "role"
    content: str = "content"

    @classmethod
    def parse(cls, pairs: list[str]) -> FieldMap:
        """``["text=content", "id=task_id"]`` -> a FieldMap; unknown names are bad input."""
        names = {f.name for f in fields(cls)}
        mapping: dict[str, str] = {}
        for pair in pairs:
            ours, sep, theirs = pair.partition("=")
            if not sep or ours not in names or not theirs:
                raise BadInputError(
                    "--field", f"expected NAME=COLUMN with NAME in {sorted(names)}, got {pair!r}"
                )
            mapping[ours] = theirs
        return cls(**mapping)


@dataclass
class Record:
    """One input record, parsed; ``code`` is what the code checks look at."""

    id: Any
    line: int
    """1-based line (JSONL) or row (Parquet) in its file."""
    kind: str
    """``code``, ``instruction``, ``chat``, or ``invalid`` when its shape is unknown."""
    code: str = ""
    prompt: str = ""
    tests: str | None = None
    language: str | None = None
    """Declared language (normalised), from the record's language field."""
    fence_tags: list[str] = field(default_factory=list)
    """Normalised languages named by the code fences the code came from."""
    unclosed_fence: int | None = None
    """Line (within the response) of a code fence that is never closed."""
    source: str | None = None
    problems: list[str] = field(default_factory=list)
    """Format problems (``bad_format`` evidence)."""
    suspects: tuple[tuple[str, str, str], ...] = ()
    """(JSON path, text, key) of the strings of the raw record that could hold a secret: every
    field, turn, id and source, not only the code (``_secrets.suspect_strings``)."""


_FENCE = re.compile(r"^[ \t]{0,3}(```+|~~~+)[ \t]*([\w+#.-]*)[^\n]*$", re.MULTILINE)


def extract_code(text: str) -> tuple[str, list[str], int | None]:
    """Code inside the fenced blocks of ``text`` (all of it when there are no fences).

    Returns (code, fence language tags, line of an unclosed fence or None).
    """
    fences = list(_FENCE.finditer(text))
    if not fences:
        return text, [], None
    blocks: list[str] = []
    tags: list[str] = []
    i = 0
    while i < len(fences):
        opening = fences[i]
        marker = opening.group(1)
        start = opening.end() + 1
        closing = next(
            (
                j
                for j in range(i + 1, len(fences))
                if fences[j].group(1).startswith(marker[:3]) and not fences[j].group(2)
            ),
            None,
        )
        tag = normalize_language(opening.group(2))
        if tag:
            tags.append(tag)
        if closing is None:
            blocks.append(text[start:])
            return "\n".join(blocks), tags, text.count("\n", 0, opening.start()) + 1
        blocks.append(text[start : fences[closing].start()])
        i = closing + 1
    return "\n".join(blocks), tags, None


def _string(
    obj: dict[str, Any], key: str, problems: list[str], *, required: bool, lines: bool = False
) -> str | None:
    if key not in obj or obj[key] is None:
        if required:
            problems.append(f"missing field {key!r}")
        return None
    value = obj[key]
    if lines and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    if not isinstance(value, str):
        problems.append(f"field {key!r} is {type(value).__name__}, expected a string")
        return None
    return value


def _chat(rec: Record, messages: Any, fm: FieldMap) -> None:
    if not isinstance(messages, list) or not messages:
        rec.problems.append(f"field {fm.messages!r} must be a non-empty list of turns")
        return
    user: list[str] = []
    assistant: list[str] = []
    previous = None
    for n, turn in enumerate(messages):
        if not isinstance(turn, dict):
            rec.problems.append(f"turn {n} is not an object")
            continue
        role, content = turn.get(fm.role), turn.get(fm.content)
        if role not in CHAT_ROLES:
            rec.problems.append(f"turn {n} has unknown role {role!r}")
            continue
        if not isinstance(content, str) or not content.strip():
            rec.problems.append(f"turn {n} ({role}) has no text content")
            continue
        if role == previous and role in ("user", "assistant"):
            rec.problems.append(f"turns {n - 1} and {n} are both {role}")
        previous = role
        if role == "user":
            user.append(content)
        elif role == "assistant":
            assistant.append(content)
    if not assistant:
        rec.problems.append("no assistant turn")
    elif previous != "assistant":
        rec.problems.append("last turn is not the assistant's")
    rec.prompt = "\n".join(user)
    if assistant:
        rec.code, rec.fence_tags, rec.unclosed_fence = extract_code("\n".join(assistant))


def parse_record(
    obj: Any, line: int, default_id: Any, fm: FieldMap, raw: bytes | None = None
) -> Record:
    """Build a Record from one decoded JSON value (``raw``: the bytes it was decoded from);
    shape problems become ``problems``."""
    rec = _parse(obj, line, default_id, fm)
    if raw is None:
        raw = json.dumps(obj, ensure_ascii=False, default=str).encode()
    rec.suspects = suspect_strings(raw, obj)
    return rec


def _parse(obj: Any, line: int, default_id: Any, fm: FieldMap) -> Record:
    if not isinstance(obj, dict):
        rec = Record(default_id, line, "invalid")
        rec.problems.append(f"record is a JSON {type(obj).__name__}, expected an object")
        return rec
    rid = obj.get(fm.id, default_id)
    rec = Record(rid if rid is not None else default_id, line, "invalid")
    if not isinstance(rec.id, str | int) or isinstance(rec.id, bool):
        rec.problems.append(f"field {fm.id!r} is {type(rec.id).__name__}, expected string or int")
        rec.id = default_id
    lang = obj.get(fm.language)
    if lang is not None and not isinstance(lang, str):
        rec.problems.append(f"field {fm.language!r} is not a string")
    rec.language = normalize_language(lang)
    source = obj.get(fm.source)
    rec.source = source if isinstance(source, str) else None
    if fm.messages in obj:
        rec.kind = "chat"
        _chat(rec, obj[fm.messages], fm)
    elif fm.prompt in obj or fm.response in obj:
        rec.kind = "instruction"
        rec.prompt = _string(obj, fm.prompt, rec.problems, required=True) or ""
        response = _string(obj, fm.response, rec.problems, required=True)
        if response is not None and not response.strip():
            rec.problems.append("empty response")
        elif response is not None:
            rec.code, rec.fence_tags, rec.unclosed_fence = extract_code(response)
        rec.tests = _string(obj, fm.tests, rec.problems, required=False, lines=True)
    elif fm.text in obj:
        rec.kind = "code"
        text = _string(obj, fm.text, rec.problems, required=True)
        if text is not None and not text.strip():
            rec.problems.append(f"empty {fm.text!r}")
        elif text is not None:
            rec.code = text
    else:
        rec.problems.append(
            f"no {fm.text!r}, {fm.prompt!r}/{fm.response!r} or {fm.messages!r} field"
        )
    return rec
