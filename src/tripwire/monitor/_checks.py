"""Online checks run on every served completion, each reduced to a defect flag per event.

A flag is True (defect), False (checked, fine) or None (not applicable: no code block, no
logprobs, ...); detectors watch the rate of True among the events where a flag applies.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tripwire.monitor._schema import Event
from tripwire.monitor._syntax import needs_subprocess, syntax_problems

# Scripts of letters that code answers in English legitimately carry: Latin, and Greek for math.
DEFAULT_SCRIPTS = frozenset({"LATIN", "GREEK"})
FLAGS = (
    "syntax_error",
    "truncated",
    "unexpected_script",
    "empty_or_refusal",
    "not_top1",
    "low_prob",
)
"""The per-event defect flags, in display order."""
VALUES = ("chars", "completion_tokens", "latency_ms")
"""Continuous per-event values kept for the dashboard's series (not alerted on: they move with
the prompt mix, which is harmless)."""

_FENCE = re.compile(r"^[ \t]{0,3}(```+|~~~+)[ \t]*([\w+#.-]*)[^\n]*$", re.MULTILINE)
_REFUSAL = re.compile(
    r"^\W*(?:I'?m sorry|I am sorry|I apologi[sz]e|I can(?:no|')t (?:help|assist|comply|do that)"
    r"|I (?:won't|will not) (?:help|assist)|As an AI\b)",
    re.IGNORECASE,
)
_KEPT_PROBLEMS = 3
"""Syntax problems kept per answer (the evidence shown); checking stops once they are found."""
_SUBPROCESSES = 8
"""``bash -n`` processes at most per answer (about 4 ms each)."""
_LOW_PROB = math.log(0.01)
_LOW_PROB_SHARE = 0.05
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@cache
def _normalizer() -> Callable[[object], str | None]:
    # imported on first use (tripwire.data is heavy), then once: this runs for every event
    from tripwire.data import normalize_language

    return normalize_language


@dataclass(frozen=True)
class CodeBlock:
    language: str | None
    code: str
    closed: bool
    line: int
    """1-based line of the block's first code line in the completion."""


def code_blocks(text: str, default_language: str | None = None) -> list[CodeBlock]:
    """Fenced code blocks with their tags; the whole text as one block when it has no fences
    and the request named a language (a plain completion endpoint answers with bare code)."""
    normalize_language = _normalizer()
    fences = list(_FENCE.finditer(text))
    if not fences:
        if default_language and text.strip():
            return [CodeBlock(normalize_language(default_language), text, True, 1)]
        return []
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(fences):
        opening = fences[i]
        marker = opening.group(1)
        tag = normalize_language(opening.group(2)) or normalize_language(default_language)
        line = text.count("\n", 0, opening.end()) + 2
        start = opening.end() + 1
        close = next(
            (j for j in range(i + 1, len(fences))
             if fences[j].group(1).startswith(marker[:3]) and not fences[j].group(2)),
            None,
        )  # fmt: skip
        if close is None:
            blocks.append(CodeBlock(tag, text[start:], False, line))
            break
        blocks.append(CodeBlock(tag, text[start : fences[close].start()], True, line))
        i = close + 1
    return blocks


def unexpected_characters(text: str, allowed: frozenset[str] = DEFAULT_SCRIPTS) -> list[str]:
    """Up to five offending characters: letters or marks from scripts outside ``allowed``,
    replacement characters, control, private-use and unassigned code points."""
    found: list[str] = []
    if text.isascii():  # the common case, in C: only stray control characters can be wrong
        for ch in _ASCII_CONTROL.findall(text):
            if ch not in found:
                found.append(ch)
        return found[:5]
    for ch in text:
        if ch.isascii() and (ch.isprintable() or ch in _ALLOWED_CONTROLS):
            continue
        cat = unicodedata.category(ch)
        if cat[0] in "LM":
            name = unicodedata.name(ch, "")
            script = name.split(" ", 1)[0] if name else "UNKNOWN"
            bad = script not in allowed
        else:
            bad = cat in ("Cc", "Co", "Cn", "Cs") or ch == "\ufffd"
            bad = bad and ch not in _ALLOWED_CONTROLS
        if bad and ch not in found:
            found.append(ch)
            if len(found) == 5:
                break
    return found


@dataclass(frozen=True)
class CheckResult:
    flags: dict[str, bool | None]
    values: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)
    """Evidence for the flags that are set (problems found, offending characters)."""
    stratum: str = ""
    """The class the detectors' baseline rates are conditional on: the language the request
    asked for, else ``ANSWER_MARK`` and the first fenced block's language, else ``""``."""

    @property
    def defects(self) -> list[str]:
        return [k for k, v in self.flags.items() if v]


def _syntax(blocks: list[CodeBlock]) -> tuple[bool | None, list[dict[str, Any]], int]:
    """The flag, the first ``_KEPT_PROBLEMS`` problems, and the blocks not checked.

    Bounded per answer: checking stops once the problems kept are found, and at most
    ``_SUBPROCESSES`` blocks go to ``bash -n``. One 200 kB answer of 12,000 tiny shell blocks
    took a minute of processes; a block past the bound is counted, and an answer with such
    blocks and no problem found is not judged (``None``), rather than passed."""
    checked = False
    problems: list[dict[str, Any]] = []
    processes = unchecked = 0
    for b in blocks:
        if len(problems) >= _KEPT_PROBLEMS:
            break
        if not b.language:
            continue
        if needs_subprocess(b.code, b.language):
            if processes == _SUBPROCESSES:
                unchecked += 1
                continue
            processes += 1
        found = syntax_problems(b.code, b.language)
        if found is None:
            continue
        checked = True
        for p in found[:2]:
            problems.append({"language": b.language, **p, "line": p["line"] + b.line - 1})
    if problems:
        return True, problems[:_KEPT_PROBLEMS], unchecked
    return (None if unchecked or not checked else False), [], unchecked


def _sampler(event: Event) -> tuple[bool | None, bool | None]:
    greedy = event.temperature == 0
    not_top1 = None
    if event.top1 is not None and greedy and event.top1:
        not_top1 = not all(event.top1)
    low_prob = None
    if event.logprobs:
        low = len([lp for lp in event.logprobs if lp < _LOW_PROB])
        low_prob = low > _LOW_PROB_SHARE * len(event.logprobs)
    return not_top1, low_prob


def check_event(event: Event, allowed_scripts: frozenset[str] = DEFAULT_SCRIPTS) -> CheckResult:
    """Every online check on one event."""
    text = event.completion
    blocks = code_blocks(text, event.language)
    odd = unexpected_characters(text, allowed_scripts)
    truncated = (
        event.finish_reason == "length"
        or (event.max_tokens is not None and event.completion_tokens >= event.max_tokens)
        or any(not b.closed for b in blocks)
    )
    # code cut off at the token limit does not parse; that is the truncation flag's business
    syntax, problems, unchecked = (None, [], 0) if truncated else _syntax(blocks)
    empty_or_refusal = not text.strip() or bool(_REFUSAL.match(text))
    not_top1, low_prob = _sampler(event)
    flags = {
        "syntax_error": syntax,
        "truncated": truncated,
        "unexpected_script": bool(odd),
        "empty_or_refusal": empty_or_refusal,
        "not_top1": not_top1,
        "low_prob": low_prob,
    }
    details: dict[str, Any] = {}
    if problems:
        details["syntax"] = problems
    if unchecked:
        details["syntax_not_checked"] = unchecked
    if odd:
        details["characters"] = [
            f"U+{ord(c):04X} {unicodedata.name(c, unicodedata.category(c))}" for c in odd
        ]
    values = {
        "chars": float(len(text)),
        "completion_tokens": float(event.completion_tokens),
        "latency_ms": float(event.latency_ms),
    }
    return CheckResult(flags, values, details, _stratum(event, blocks))


ANSWER_MARK = "|"
"""Starts a stratum taken from the answer's own code fence (the request named no language)."""


def _stratum(event: Event, blocks: list[CodeBlock]) -> str:
    normalize_language = _normalizer()
    # the request's language first: a fault cannot move an event out of its stratum by garbling
    # the fence of the answer
    asked = normalize_language(event.language)
    if asked:
        return asked[:40]
    # The answer's language is an outcome: a refusal has no fence. Marked, so that the metrics
    # it decides are not stratified by it (``_detect.stratum_for``).
    shown = next((b.language for b in blocks if b.language), None)
    return (ANSWER_MARK + shown)[:40] if shown else ""
