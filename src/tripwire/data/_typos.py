"""Undefined names in a snippet: only a near-miss of a name the snippet itself uses counts.

A snippet without imports (an answer's few lines, a function cut from a file) uses names
defined elsewhere; ruff rightly calls them undefined, but that is the excerpt, not a bug. An
undefined name used once and one edit away from another name of the same snippet (``totl``
beside ``total``, ``reslt`` beside ``result``) is a typo: the code cannot run as written.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tripwire.data._hazards import StaticFinding

_NAME = re.compile(r"[A-Za-z_]\w*\Z")
_KEYWORDS = frozenset(keyword.kwlist)
_UNDEFINED = re.compile(r"Undefined name `([^`]+)`")


def _deletions(name: str) -> set[str]:
    return {name[:k] + name[k + 1 :] for k in range(len(name))}


def near_misses(tokens: list[str]) -> set[str]:
    """Names used once that are one insertion, deletion or substitution away from another name
    of the same code (three characters or more; a plural ``s`` is not a typo: ``item`` and
    ``items`` are usually two names)."""
    names = Counter(t for t in tokens if _NAME.match(t) and t not in _KEYWORDS)
    others = {n for n in names if len(n) >= 3}
    variants: dict[str, set[str]] = {}
    for n in others:
        for d in _deletions(n):
            variants.setdefault(d, set()).add(n)
    out = set()
    for n, c in names.items():
        if c != 1 or len(n) < 3:
            continue
        near = set(variants.get(n, ()))  # n is another name less one character
        for d in _deletions(n):
            if d in others:
                near.add(d)  # another name is n less one character
            near |= variants.get(d, set())  # one character differs
        near.discard(n)
        if any(not (a + "s" == b or b + "s" == a) for a, b in ((n, m) for m in near)):
            out.add(n)
    return out


def undefined_near_misses(findings: list[StaticFinding], typos: set[str]) -> list[StaticFinding]:
    """F821 findings on an answer's snippet: a near-miss stands; any other name is the
    snippet's context, defined outside it (flagged, with the reason). Measured: reading a
    lower-case name as a plain value as a bug too removed 1.8% of the stdlib functions given
    as answers (module constants, decorators imported at the top of their file)."""
    out = []
    for f in findings:
        m = _UNDEFINED.match(f.message) if f.rule == "F821" else None
        if m and m.group(1) not in typos and f.benign is None:
            f = dataclasses.replace(f, benign="a snippet's name, defined outside it")
        out.append(f)
    return out
