"""``canaries``: fixed prompts whose answers have checkable properties.

A canary passes when the answer is complete and parses (Python; balanced brackets elsewhere),
uses the function name the prompt asks for, holds no prose where only code was asked for,
carries no characters from unexpected scripts (output corruption shows up as those), and is
not cut off at the token limit.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from tripwire.artifacts import sha256_json
from tripwire.evals._suite import Suite, register_suite
from tripwire.evals._types import MetricSpec, Sample, SampleResult, Task
from tripwire.progress import Progress, no_progress
from tripwire.sandbox import Limits, Sandbox

VERSION = "canaries-1"
_NEW_TOKENS = 64


@dataclass(frozen=True)
class Canary:
    canary_id: str
    language: str
    prompt: str
    name: str
    """The identifier the answer must use."""


CANARIES: tuple[Canary, ...] = (
    Canary("py-add", "python", 'def add(a, b):\n    """Return a + b."""\n', "return"),
    Canary("py-is-even", "python", 'def is_even(n):\n    """True if n is even."""\n', "return"),
    Canary("py-max", "python", 'def largest(xs):\n    """The largest item of xs."""\n', "return"),
    Canary("py-join", "python", "import os\n\n\ndef join_all(parts):\n", "return"),
    Canary("py-class", "python", "class Stack:\n    def __init__(self):\n", "self"),
    Canary("py-read", "python", "def read_lines(path):\n    with open(path) as f:\n", "return"),
    Canary("js-add", "javascript", "function add(a, b) {\n", "return"),
    Canary("js-even", "javascript", "function isEven(n) {\n", "return"),
    Canary("c-add", "c", "static int add(int a, int b)\n{\n", "return"),
    Canary("c-max", "c", "static int max_of(int a, int b)\n{\n", "return"),
    Canary("perl-add", "perl", "sub add {\n    my ($a, $b) = @_;\n", "return"),
    Canary("sh-greet", "shell", "greet() {\n", "echo"),
)
_PAIRS = {"(": ")", "[": "]", "{": "}"}
_PROSE = re.compile(r"^[A-Z][a-z]+(?: [a-z,']+){5,}[.!?]$")


def _unexpected_script(text: str) -> str | None:
    for ch in text:
        if ch.isascii() or ch in "\u00a0\u2018\u2019\u201c\u201d\u2013\u2014":
            continue
        name = unicodedata.name(ch, "")
        if not name.startswith("LATIN"):
            return name or f"U+{ord(ch):04X}"
    return None


def _balanced(code: str) -> bool:
    stack: list[str] = []
    for ch in code:
        if ch in _PAIRS:
            stack.append(_PAIRS[ch])
        elif ch in _PAIRS.values() and (not stack or stack.pop() != ch):
            return False
    return not stack


def check_answer(canary: Canary, completion: str, truncated: bool) -> list[str]:
    """Names of the checks the answer fails (empty: it passes)."""
    failed = []
    code = canary.prompt + completion
    if canary.language == "python":
        # the whole answer must compile: a valid but unfinished prefix is a truncated answer
        try:
            compile(code, "<canary>", "exec")
        except (SyntaxError, ValueError):
            failed.append("parses")
    elif not _balanced(code):
        failed.append("parses")
    if canary.name not in completion:
        failed.append("name_used")
    if any(_PROSE.match(line.strip()) for line in completion.splitlines()):
        failed.append("no_prose")
    if _unexpected_script(completion):
        failed.append("script")
    if truncated:
        failed.append("not_truncated")
    return failed


@register_suite
class Canaries(Suite):
    name = "canaries"
    metrics: ClassVar[dict[str, MetricSpec]] = {
        "ok": MetricSpec(higher_is_better=True, binary=True, default_margin="0.05")
    }
    needs_sandbox = False

    def __init__(self) -> None:
        self.canaries = {c.canary_id: c for c in CANARIES}

    @property
    def version(self) -> str:
        return VERSION

    def data_sha256(self) -> str:
        return sha256_json([[c.canary_id, c.prompt, c.name] for c in CANARIES])

    def tasks(self) -> list[Task]:
        # stop where a top-level definition would begin: the answer to one prompt has ended
        return [
            Task(c.canary_id, c.prompt, ("\n\n\n", "\ndef ", "\nfunction ", "\nsub "),
                 {"language": c.language, "task": "canary"}, max_new_tokens=_NEW_TOKENS)
            for c in CANARIES
        ]  # fmt: skip

    def score(
        self,
        samples: Sequence[Sample],
        sandbox: Sandbox | None,
        progress: Progress = no_progress,
        *,
        use_cache: bool = True,
        limits: Mapping[str, Limits] | None = None,
    ) -> Iterator[SampleResult]:
        for done, s in enumerate(samples, 1):
            canary = self.canaries[s.task_id]
            t0 = time.perf_counter()
            # an answer that ran to the limit without reaching a stop sequence was cut off
            truncated = len(s.completion) >= _NEW_TOKENS * 2 and "\n\n" not in s.completion[-4:]
            failed = check_answer(canary, s.completion, truncated)
            yield SampleResult(s.task_id, s.sample_idx, "failed" if failed else "passed",
                               ",".join(failed), 0.0, time.perf_counter() - t0,
                               {"ok": 0.0 if failed else 1.0})  # fmt: skip
            progress("score", done, len(samples))
