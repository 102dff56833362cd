"""Credentials in text: where they are, and the text with each one replaced by a marker.

Every output of a data audit passes record text through ``redact`` before showing it, so a key
found in the data never reaches a report, a findings file or a terminal.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

# (kind, pattern); group 1, when present, is the secret itself, else the whole match is.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)"
        ),
    ),
    ("aws_access_key_id", re.compile(r"\b((?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})\b")),
    (
        "aws_secret_access_key",
        re.compile(
            r"(?i)aws.{0,20}?(?:secret|private).{0,20}?['\"]?\s*[=:]\s*['\"]?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
    ),
    ("github_token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_\w{22,255})\b")),
    ("gitlab_token", re.compile(r"\b(glpat-[A-Za-z0-9_-]{20,})\b")),
    ("slack_token", re.compile(r"\b(xox[abprs]-[A-Za-z0-9-]{10,})\b")),
    ("slack_webhook", re.compile(r"(https://hooks\.slack\.com/services/T\w+/B\w+/\w+)")),
    ("google_api_key", re.compile(r"\b(AIza[0-9A-Za-z_-]{35})\b")),
    ("stripe_key", re.compile(r"\b((?:sk|rk)_live_[0-9a-zA-Z]{24,})\b")),
    ("openai_key", re.compile(r"\b(sk-(?:proj-|ant-[a-z0-9]+-)?[A-Za-z0-9_-]{32,})\b")),
    ("huggingface_token", re.compile(r"\b(hf_[A-Za-z0-9]{34,})\b")),
    ("jwt", re.compile(r"\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})")),
    (
        "password_in_url",
        re.compile(
            r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,15}://[^\s/:@'\"<>]{1,64}:([^\s/@'\"<>]{3,128})@[\w.-]+"
        ),
    ),
    (
        "password_assignment",
        re.compile(
            r"(?i)\b(?:password|passwd|pwd|secret|api_?key|access_?token|auth_?token|secret_?key"
            r"|client_?secret)\b['\"]?\s*[=:]\s*['\"]([^'\"\s]{8,128})['\"]"
        ),
    ),
]
_PLACEHOLDER = re.compile(
    r"(?i)^(?:password|passwd|pass|secret|changeme|example|test|testing|dummy|foo|bar|none|null"
    r"|user|admin|root|guest|pw|pwd|token|key|apikey)\d*$"
    r"|example|your|dummy|placeholder|redacted|xxxx|\*\*\*|<|>|^\$|^%|\{|\}|\(|\\|\.\.\."
)
_CHECKED_ENTROPY = frozenset({"password_assignment", "openai_key"})


# Lower-case literals each pattern cannot match without (a cheap test before the regex).
_PATTERN_ANCHORS: dict[str, tuple[str, ...]] = {
    "private_key": ("private key",),
    "aws_access_key_id": ("akia", "asia", "abia", "acca"),
    "aws_secret_access_key": ("aws",),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "gitlab_token": ("glpat-",),
    "slack_token": ("xox",),
    "slack_webhook": ("hooks.slack",),
    "google_api_key": ("aiza",),
    "stripe_key": ("_live_",),
    "openai_key": ("sk-",),
    "huggingface_token": ("hf_",),
    "jwt": ("eyj",),
    "password_in_url": ("://",),
    "password_assignment": ("passw", "pwd", "secret", "api", "token"),
}

_ALL_ANCHORS = tuple(sorted({a for anchors in _PATTERN_ANCHORS.values() for a in anchors}))


@dataclass(frozen=True)
class SecretHit:
    kind: str
    start: int
    end: int
    """Span of the secret itself (what redaction replaces)."""


def _entropy(s: str) -> float:
    counts = Counter(s)
    return -sum(c / len(s) * math.log2(c / len(s)) for c in counts.values())


def _plausible(kind: str, value: str) -> bool:
    if kind in ("password_in_url", "password_assignment") and _PLACEHOLDER.search(value):
        return False
    if kind in _CHECKED_ENTROPY:
        # Real keys mix cases and digits; identifiers and words do not look random.
        classes = sum(bool(re.search(p, value)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
        if classes < 2 or _entropy(value) < 3.0:
            return False
    return len(set(value)) > 3


_BEFORE, _AFTER = 120, 4000  # how far a match may reach around its anchor


def _windows(lower: str, anchors: tuple[str, ...]) -> list[tuple[int, int]]:
    """Merged spans around every anchor occurrence: the only places a pattern can match."""
    spans = []
    for a in anchors:
        pos = lower.find(a)
        while pos >= 0:
            spans.append((max(0, pos - _BEFORE), pos + _AFTER))
            pos = lower.find(a, pos + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def find_secrets(text: str) -> list[SecretHit]:
    """Every credential-looking span in ``text``, in order, without overlaps."""
    found: set[SecretHit] = set()
    lower = text.lower()
    present = {a for a in _ALL_ANCHORS if a in lower}
    if not present:
        return []  # most code: one C scan per anchor, no pattern run at all
    for kind, pattern in _PATTERNS:
        anchors = _PATTERN_ANCHORS[kind]
        if present.isdisjoint(anchors):
            continue
        for lo, hi in _windows(lower, anchors):
            for m in pattern.finditer(text, lo, hi):
                group = 1 if pattern.groups else 0
                value = m.group(group)
                if value and _plausible(kind, value):
                    found.add(SecretHit(kind, m.start(group), m.end(group)))
    hits = list(found)
    hits.sort(key=lambda h: (h.start, -h.end))
    kept: list[SecretHit] = []
    for h in hits:
        if not kept or h.start >= kept[-1].end:
            kept.append(h)
    return kept


def redact(text: str) -> str:
    """``text`` with every secret replaced by ``[REDACTED:<kind>]``."""
    hits = find_secrets(text)
    if not hits:
        return text
    parts, pos = [], 0
    for h in hits:
        parts += [text[pos : h.start], f"[REDACTED:{h.kind}]"]
        pos = h.end
    parts.append(text[pos:])
    return "".join(parts)


def redact_obj(obj: Any) -> Any:
    """``redact`` applied to every string inside a JSON-like value."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [redact_obj(v) for v in obj]
    return obj
