"""The code to run, taken from a chat model's answer, the way code-eval harnesses take it.

An instruct model answers in prose with fenced code blocks. The code evaluated is the first
fenced block that defines the task's entry point; failing that, the whole answer (which then
fails unless it is plain code). What was taken is recorded with the result, so a reader can
tell a wrong function from an answer the extraction could not use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# An opening fence (``` or ~~~, with an optional info string such as `python`), its body, and
# the closing fence of the same kind, or the end of the answer when the model stopped inside.
_FENCE = re.compile(
    r"^[ \t]*(?P<fence>`{3,}|~{3,})[^\n`]*\n(?P<body>.*?)(?:^[ \t]*(?P=fence)[ \t]*$|\Z)",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Extraction:
    """What was taken from an answer."""

    code: str
    method: str
    """``fenced_block`` (the block defining the entry point) or ``whole_answer``."""
    block: int | None
    """Index of the block taken among the answer's fenced blocks (None: the whole answer)."""
    blocks: int
    """Fenced blocks in the answer."""
    closed: bool = True
    """False when the block taken runs to the end of the answer (the model stopped inside)."""
    end: int = -1
    """Where the block taken ends in the answer (its closing fence's end; -1: not closed)."""

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "block": self.block, "blocks": self.blocks,
                "closed": self.closed}  # fmt: skip


def _defines(code: str, entry_point: str) -> bool:
    # blanks within the line only: ``\s*`` after ``^`` would rescan every following blank line
    # from each line start, quadratic in an answer of thousands of newlines
    return re.search(rf"^[ \t\f]*(?:async[ \t]+)?def[ \t]+{re.escape(entry_point)}[ \t]*\(",
                     code, re.MULTILINE) is not None  # fmt: skip


def extract_code(answer: str, entry_point: str | None) -> Extraction:
    """The fenced block of ``answer`` that defines ``entry_point`` (the first, if several),
    else the whole answer."""
    blocks = list(_FENCE.finditer(answer))
    if entry_point:
        for k, m in enumerate(blocks):
            if _defines(m.group("body"), entry_point):
                closed = m.group(0).rstrip().endswith(m.group("fence"))
                end = m.end() if closed else -1
                return Extraction(m.group("body"), "fenced_block", k, len(blocks), closed, end)
    return Extraction(answer, "whole_answer", None, len(blocks))


def answer_complete(answer: str, entry_point: str | None) -> int | None:
    """Where generation may stop: the end of the first closed block defining the entry point
    (whatever follows cannot change what is extracted), or None while there is none."""
    if not entry_point or answer.count("```") + answer.count("~~~") < 2:
        return None
    found = extract_code(answer, entry_point)
    return found.end if found.method == "fenced_block" and found.closed else None
