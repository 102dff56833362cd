"""What one input record is: its shape (code file, instruction pair, chat), its code, and the
format problems found while reading it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from tripwire.data._languages import normalize_language
from tripwire.data._secrets import suspect_strings
from tripwire.errors import BadInputError

SHAPELESS = "it has"
"""Begins the fields a record of no known shape has, in its problem (``audit`` then names
``--field``)."""
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
    other_shapes: bool = False
    """Also read the shapes other tools write when a record has none of the fields above:
    Alpaca/Dolly (``instruction``, ``input``/``context``, ``output``), ShareGPT
    (``conversations`` of ``from``/``value``), OpenAI chat's content parts and tool calls, and
    a language in ``lang`` (Hugging Face code exports). On for the audit, its review and
    training (which reads the same columns through :func:`known_shape` and :func:`chat_turns`),
    off for ``FieldMap()`` itself."""

    @classmethod
    def parse(cls, pairs: list[str]) -> FieldMap:
        """``["text=content", "id=task_id"]`` -> a FieldMap that also reads other tools'
        shapes; unknown names are bad input."""
        names = {f.name for f in fields(cls) if f.type == "str"}
        mapping: dict[str, str] = {}
        for pair in pairs:
            ours, sep, theirs = pair.partition("=")
            if not sep or ours not in names or not theirs:
                raise BadInputError(
                    "--field", f"expected NAME=COLUMN with NAME in {sorted(names)}, got {pair!r}"
                )
            mapping[ours] = theirs
        return cls(**mapping, other_shapes=True)


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
    context: str = ""
    """A chat's system, developer and tool turns: text the model trains on beside the prompt,
    where a benchmark item can hide (decontamination reads it)."""
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


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type (``null``, ``number``), as a user wrote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


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
    if isinstance(value, bytes):  # a Parquet binary cell that is not UTF-8 (``_readers``)
        problems.append(f"field {key!r} is binary data, not UTF-8 text")
        return None
    if not isinstance(value, str):
        problems.append(f"field {key!r} is a JSON {json_type(value)}, expected a string")
        return None
    return value


ROLE_ALIASES = {
    "human": "user",
    "gpt": "assistant",
    "chatgpt": "assistant",
    "model": "assistant",
    "observation": "tool",
    "function_call": "function",
}
"""ShareGPT's speakers (``from``) as the chat roles they are."""


def _parts_text(content: Any) -> Any:
    """OpenAI's content as a list of parts (``{"type": "text", "text": ...}``): its text
    parts joined; any other value as it is."""
    if not isinstance(content, list):
        return content
    texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
    return "\n".join(t for t in texts if isinstance(t, str))


def _calls_tool(turn: dict[str, Any], content: Any) -> bool:
    """An assistant turn that only calls tools (OpenAI ``tool_calls``/``function_call``)."""
    calls = turn.get("tool_calls") or turn.get("function_call")
    return bool(calls) and not (isinstance(content, str) and content.strip())


def _chat(rec: Record, messages: Any, fm: FieldMap) -> None:
    if not isinstance(messages, list) or not messages:
        rec.problems.append(f"field {fm.messages!r} must be a non-empty list of turns")
        return
    user: list[str] = []
    assistant: list[str] = []
    context: list[str] = []
    previous = None
    for n, turn in enumerate(messages):
        if not isinstance(turn, dict):
            rec.problems.append(f"turn {n} is not an object")
            continue
        role, content = turn.get(fm.role), turn.get(fm.content)
        if fm.other_shapes:
            role = ROLE_ALIASES.get(role, role) if isinstance(role, str) else role
            content = _parts_text(content)
        if not isinstance(role, str) or role not in CHAT_ROLES:  # a list role is unhashable
            rec.problems.append(f"turn {n} has unknown role {role!r}")
            continue
        if fm.other_shapes and _calls_tool(turn, content):
            previous = role  # the answer comes in a later turn, after the tool's
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
        else:
            context.append(content)
    rec.context = "\n".join(context)
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


def known_shape(obj: dict[str, Any], fm: FieldMap) -> tuple[dict[str, Any], FieldMap]:
    """A record in another tool's shape as one in tripwire's and the columns to read it by
    (for a reader of the record's text, e.g. training, after :func:`parse_record` accepted it)."""
    return _recognize(obj, fm, [])


def chat_turns(obj: dict[str, Any], fm: FieldMap) -> tuple[tuple[str, str], ...]:
    """(role, text) of a chat record's turns as the audit reads them: other tools' speakers as
    roles, content parts as their text; a turn that only calls a tool is left out (its answer
    comes in a later turn), as are turns with no text."""
    turns = []
    for t in obj.get(fm.messages) or ():
        if not isinstance(t, dict):
            continue
        role, content = t.get(fm.role), t.get(fm.content)
        if fm.other_shapes:
            role = ROLE_ALIASES.get(role, role) if isinstance(role, str) else role
            content = _parts_text(content)
            if _calls_tool(t, content):
                continue
        if isinstance(role, str) and isinstance(content, str) and content.strip():
            turns.append((role, content))
    return tuple(turns)


def _recognize(
    obj: dict[str, Any], fm: FieldMap, problems: list[str]
) -> tuple[dict[str, Any], FieldMap]:
    """A record in another tool's shape as one in tripwire's (the field names its problems
    name are the record's own); ``obj`` and ``fm`` unchanged when tripwire's fields are there.
    Fields only that shape has are checked here, into ``problems``."""
    if not fm.other_shapes:
        return obj, fm
    if fm.language not in obj and "lang" in obj:
        fm = replace(fm, language="lang")
    if any(k in obj for k in (fm.messages, fm.prompt, fm.text)):
        return obj, fm
    if "instruction" in obj:  # Dolly's answer is tripwire's own ``response``
        fm = replace(fm, prompt="instruction")
        if fm.response not in obj:
            fm = replace(fm, response="output")
        key = next((k for k in ("input", "context") if obj.get(k) is not None), None)
        extra = obj[key] if key else ""
        if not isinstance(extra, str):
            problems.append(f"field {key!r} is a JSON {json_type(extra)}, expected a string")
        elif isinstance(obj["instruction"], str) and extra.strip():
            obj = {**obj, "instruction": f"{obj['instruction']}\n\n{extra}"}
        return obj, fm
    if fm.response in obj:
        return obj, fm
    if "conversations" in obj:
        return obj, replace(fm, messages="conversations", role="from", content="value")
    return obj, fm


def _parse(obj: Any, line: int, default_id: Any, fm: FieldMap) -> Record:
    if not isinstance(obj, dict):
        rec = Record(default_id, line, "invalid")
        hint = (
            " (JSON Lines holds one object per line: jq -c '.[]')"
            if obj and isinstance(obj, list)
            else ""
        )
        rec.problems.append(f"record is a JSON {json_type(obj)}, expected an object{hint}")
        return rec
    shape_problems: list[str] = []
    obj, fm = _recognize(obj, fm, shape_problems)
    rid = obj.get(fm.id, default_id)
    rec = Record(rid if rid is not None else default_id, line, "invalid", problems=shape_problems)
    if not isinstance(rec.id, str | int) or isinstance(rec.id, bool):
        rec.problems.append(
            f"field {fm.id!r} is a JSON {json_type(rec.id)}, expected a string or an integer"
        )
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
            f"no {fm.text!r}, {fm.prompt!r}/{fm.response!r} or {fm.messages!r} field "
            f"({SHAPELESS} {_names(obj)})"
        )
    return rec


def _names(obj: dict[str, Any], shown: int = 6) -> str:
    if not obj:
        return "no fields"
    names = ", ".join(repr(k) for k in list(obj)[:shown])
    return names + (f" and {len(obj) - shown} more" if len(obj) > shown else "")
