"""Reports triage cannot read: answered `other` with a reason, never an exception, so one bad
report in a batch costs nothing but itself."""

from __future__ import annotations

import unicodedata

MAX_BYTES = 1_000_000
"""1 MB and more is a pasted log or file, not a report: refused rather than embedded."""
_ALLOWED_CONTROL = {"\n", "\t", "\r"}
_UNREADABLE_SHARE = 0.1
"""Above this share of control or replacement characters the text is binary, not a typo."""


def _control(c: str) -> bool:
    return c not in _ALLOWED_CONTROL and unicodedata.category(c) in {"Cc", "Cs"}


def refusal(text: object) -> str | None:
    """Why ``text`` cannot be triaged, or None when it can (after ``clean``)."""
    if not isinstance(text, str):
        return f"not text (a {type(text).__name__})"
    if not text.strip():
        return "empty report"
    size = len(text.encode("utf-8", "surrogatepass"))
    if size >= MAX_BYTES:
        return f"report of {size:,} bytes (the limit is under {MAX_BYTES:,})"
    if "\x00" in text:
        return "binary content (NUL bytes)"
    bad = sum(_control(c) or c == "\ufffd" for c in text)
    if bad > _UNREADABLE_SHARE * len(text):
        return f"binary or control characters ({bad} of {len(text)} characters)"
    if not clean(text).strip():
        return "no readable text once control characters are removed"
    return None


def clean(text: str) -> str:
    """The text without stray control characters (an ANSI colour code pasted with a log)."""
    return "".join(c for c in text if not _control(c))
