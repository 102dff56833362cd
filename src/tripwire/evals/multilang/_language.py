"""What a target language must provide: its toolchain, how a prompt, a test, an oracle and a
value look in it, and how its program is built and run in the sandbox.

One module per language implements this; ``_translate`` drives it the same way for all.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cache
from typing import Any, ClassVar

from tripwire.evals.multilang._extract import Case, Problem, Skip
from tripwire.evals.multilang._lexer import Syntax
from tripwire.evals.multilang._signature import Signature, signature
from tripwire.evals.multilang._values import NotLiteral, literal

Table = list[tuple[tuple[Any, ...], Any]]
"""An oracle's table: the tests' arguments and the output each expects, first test first."""

PASS_NOTE = "every test passed"
CONTROL_CAUGHT = "the perturbed table was caught"
CONTROL_MISSED = "the perturbed table passed every test: the tests do not check its outputs"


class Language(ABC):
    """A target language (one instance per language; stateless)."""

    name: ClassVar[str]
    """The slice name (``javascript``): matches the ``retention`` suite's language names."""
    suffix: ClassVar[str]
    """The suite is ``humaneval-<suffix>``."""
    tools: ClassVar[tuple[str, ...]]
    """Executables the suite needs on PATH (the first one's version identifies the toolchain)."""
    version_args: ClassVar[tuple[str, ...]] = ("--version",)
    stop: ClassVar[tuple[str, ...]]
    """Where a generation of a completion stops (MultiPL-E's, per language)."""
    syntax: ClassVar[Syntax]
    closing: ClassVar[str] = "}"
    """What closes the function the prompt opened, when the completion left it open (a stop
    sequence such as ``\\n}`` eats the model's own closing)."""
    typed: ClassVar[bool] = True
    """Needs one type per parameter and result (C++, shell); dynamic languages accept values
    of mixed types."""
    words: ClassVar[dict[str, str]] = {}
    """Python words in docstrings and their spelling here (``True`` -> ``true``)."""

    # -- toolchain --------------------------------------------------------------------------
    def missing(self) -> list[str]:
        return [t for t in self.tools if shutil.which(t) is None]

    def toolchain(self) -> str:
        """The toolchain's version line: part of the suite's version and of every program's
        content (so the execution cache never reuses results of another compiler)."""
        return _version(self.tools[0], self.version_args)

    # -- translation ---------------------------------------------------------------------------
    def types(self, problem: Problem) -> Signature | None:
        """The problem's signature; None where a dynamic language takes mixed values."""
        try:
            return signature(problem)
        except Skip:
            if self.typed:
                raise
            return None

    @abstractmethod
    def check(self, problem: Problem, sig: Signature | None) -> None:
        """Raise Skip when a value or type has no faithful form here."""

    @abstractmethod
    def header(self, problem: Problem, sig: Signature | None, comment: list[str]) -> str:
        """The prompt: ``comment`` (the docstring, converted) and the function's opening,
        ending where the model continues with the body."""

    @abstractmethod
    def tests(self, problem: Problem, sig: Signature | None, control: bool) -> str:
        """The tests appended after the function. ``control``: the negative control's
        tests, which report a pass at the first wrong answer and a failure when every test
        passed (the perturbed oracle must be caught)."""

    @abstractmethod
    def oracle(self, problem: Problem, sig: Signature | None, table: Table) -> str:
        """A completion that answers from ``table`` (and closes the function)."""

    @abstractmethod
    def show_call(self, problem: Problem, sig: Signature | None, args: tuple[Any, ...]) -> str:
        """A call as this language writes it (in docstring examples and messages)."""

    @abstractmethod
    def show_value(self, value: Any, t: Any) -> str:
        """A value as this language writes (or, for shell, prints) it."""

    @abstractmethod
    def executable(self, program: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...],
                                                tuple[str, ...]]:  # fmt: skip
        """(files, run command, build command) for a whole program."""

    # -- shared ---------------------------------------------------------------------------------
    def comment(self, problem: Problem, sig: Signature | None) -> list[str]:
        """The docstring's lines with its doctest examples (``>>> f(1)`` and the answer on the
        lines after it) in this language, and Python's True/False/None in its words."""
        lines = problem.docstring.splitlines()
        out: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            stripped = line.strip()
            if stripped.startswith(">>>"):
                answer = []
                j = i + 1
                while j < len(lines) and lines[j].strip() and not _prompt_line(lines[j]):
                    answer.append(lines[j].strip())
                    j += 1
                example = self._example(problem, sig, stripped[3:].strip(), answer)
                if example is not None:
                    indent = line[: len(line) - len(line.lstrip())]
                    out += [indent + e for e in example]
                    i = j
                    continue
            out.append(self._words(line))
            i += 1
        while out and not out[-1].strip():
            out.pop()
        return out

    def _words(self, line: str) -> str:
        for py, here in self.words.items():
            line = re.sub(rf"\b{py}\b", here, line)
        return line

    def _example(
        self, problem: Problem, sig: Signature | None, source: str, answer: list[str]
    ) -> list[str] | None:
        import ast

        try:
            call = ast.parse(source, mode="eval").body
            named = getattr(getattr(call, "func", None), "id", "")
            if not isinstance(call, ast.Call) or named != problem.entry_point:
                return None
            args = tuple(literal(a) for a in call.args)
            if len(args) != len(problem.params) or call.keywords:
                return None
            value = literal(ast.parse(" ".join(answer), mode="eval").body) if answer else None
            shown = [f">>> {self.show_call(problem, sig, args)}"]
            if answer:
                shown.append(self.show_value(value, sig.returns if sig else None))
            return shown
        except (SyntaxError, NotLiteral, Skip, TypeError, ValueError, KeyError):
            return None


def _prompt_line(line: str) -> bool:
    return line.strip().startswith(">>>")


@cache
def _version(tool: str, args: Sequence[str]) -> str:
    try:
        done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{tool}: unknown version ({exc.__class__.__name__})"
    text = (done.stdout or done.stderr).strip()
    return f"{tool} {text.splitlines()[0] if text else 'unknown version'}"


def table(cases: Sequence[Case]) -> Table:
    """The oracle's table: each distinct argument tuple once (by ``repr``: ``1`` and ``1.0``
    are different inputs), with the first output the tests expect for it. A language looks
    entries up first match first; a second, different output for the same inputs makes the
    oracle fail its validation, as it should."""
    out: Table = []
    seen = set()
    for c in cases:
        if repr(c.args) not in seen:
            seen.add(repr(c.args))
            out.append((c.args, c.expected))
    return out
