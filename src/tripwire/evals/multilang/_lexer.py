"""How far a program's brackets are closed, read by a small lexer that skips strings and
comments: whether a completion closed the function its prompt opened, and whether it ended
inside an open construct (a completion cut by the token limit).

Approximate by design (no regex literal of Perl, no heredoc of shell): it never decides a
verdict. It only chooses whether to add the function's closing brace (a stop sequence such as
``\\n}`` eats it) and relabels a compile error as ``incomplete`` when the text ended open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PAIRS = {")": "(", "]": "[", "}": "{"}


@dataclass(frozen=True)
class Syntax:
    """What the lexer needs to know about a language."""

    line_comment: str
    block_comment: tuple[str, str] | None = None
    quotes: str = "'\""
    brackets: str = "([{"
    """Which opening brackets are tracked (a closer pops only its own opener, so shell's case
    patterns, ``a)``, close nothing)."""
    raw_quotes: str = ""
    """Quotes inside which a backslash escapes nothing (shell's single quotes)."""
    comment_after_space: bool = False
    """``#`` starts a comment only at the start of a word (shell's and Perl's ``$#``)."""
    regex_literals: bool = False
    """JavaScript: a ``/`` where an expression starts opens a regex literal."""
    keywords: tuple[tuple[str, str], ...] = ()
    """Words that open and close blocks (shell's ``if``/``fi``, ``do``/``done``)."""


@dataclass(frozen=True)
class Balance:
    open: tuple[str, ...]
    """The brackets still open at the end, outermost first."""
    inside: str | None
    """``string`` or ``comment`` when the text ends inside one, else None."""

    @property
    def closed(self) -> bool:
        return not self.open and self.inside is None


_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^")


def scan(text: str, syntax: Syntax) -> Balance:
    """The brackets open at the end of ``text`` and whether it ends in a string or comment."""
    stack: list[str] = []
    closers = {c: o for c, o in _PAIRS.items() if o in syntax.brackets}
    i, n = 0, len(text)
    last = ""  # the last significant character (for regex literals)
    while i < n:
        c = text[i]
        if text.startswith(syntax.line_comment, i) and (
            not syntax.comment_after_space or i == 0 or text[i - 1] in " \t\n;"
        ):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if syntax.block_comment and text.startswith(syntax.block_comment[0], i):
            end = text.find(syntax.block_comment[1], i + len(syntax.block_comment[0]))
            if end < 0:
                return Balance(tuple(stack), "comment")
            i = end + len(syntax.block_comment[1])
            continue
        regex = syntax.regex_literals and c == "/" and (last in _REGEX_BEFORE or last == "")
        if c in syntax.quotes or regex:
            end = _string_end(text, i, "/" if regex else c, c in syntax.raw_quotes)
            if end < 0:
                return Balance(tuple(stack), "string")
            i, last = end, c
            continue
        if (
            syntax.keywords
            and (c.isalpha() or c == "_")
            and (i == 0 or text[i - 1] in _WORD_BEFORE)
        ):
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            _keyword(text[i:j], stack, syntax.keywords)
            i, last = j, text[j - 1]
            continue
        if c in syntax.brackets:
            stack.append(c)
        elif c in closers and stack and stack[-1] == closers[c]:
            stack.pop()
        if not c.isspace():
            last = c
        i += 1
    return Balance(tuple(stack), None)


_WORD_BEFORE = set(" \t\n;&|(){}")


def _keyword(word: str, stack: list[str], keywords: tuple[tuple[str, str], ...]) -> None:
    for opener, closer in keywords:
        if word == opener:
            stack.append(opener)
        elif word == closer and stack and stack[-1] == opener:
            stack.pop()


def _string_end(text: str, start: int, quote: str, raw: bool) -> int:
    """Index after the string (or regex) opened at ``start``; -1 when it never closes."""
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\" and not raw:
            i += 2
            continue
        if c == quote:
            return i + 1
        if quote == "/" and c == "\n":
            return i  # not a regex after all (a division): stop at the line's end
        i += 1
    return -1


_CLOSED_AT_COLUMN_0 = re.compile(r"^\}", re.MULTILINE)


def closes_at_column_0(completion: str) -> bool:
    """The completion has a line starting with ``}``: by the convention of every prompt here
    (the function opens on an unindented line), that is the function's own closing."""
    return bool(_CLOSED_AT_COLUMN_0.search(completion))
