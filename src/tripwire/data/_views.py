"""The three token streams decontamination compares, for records and benchmark items alike.

- ``code``: canonical tokens (every name a renaming touches becomes one symbol) without strings,
  comments or layout: what survives renaming, re-indenting and docstring removal.
- ``names``: the same tokens with their names kept: a short function copied under its own name
  (``def add(x: int, y: int): return x + y``) is generic as structure but not with its names.
- ``words``: the lower-case words of the prose: docstrings, comments, an instruction's prompt.
  A short benchmark item is mostly its description, and a renaming leaves that intact.

A record's word stream comes from tokens the lexer has already found (its string literals) plus
one scan for comment markers and the words of its prompt, so it costs a small fraction of the
record's lexing. Each stream is a numpy array of stable 64-bit token ids.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tripwire.data._lexer import (
    STRING_ID,
    bare_comment_regex,
    comment_style,
    token_ids,
    token_ids_many,
    token_lines,
    tokenize,
)

CHANNELS = ("code", "names", "words")
_WORD = re.compile(r"[a-z0-9]+")
_EMPTY = np.zeros(0, dtype=np.uint64)


def words(text: str) -> list[str]:
    """Lower-case runs of letters and digits."""
    return _WORD.findall(text.lower())


def word_ids(ws: list[str]) -> np.ndarray:
    return token_ids(ws)[0] if ws else _EMPTY


def many_word_ids(lists: list[list[str]]) -> list[np.ndarray]:
    """``word_ids`` of each list, in one batch (numpy's cost per call dominates short lists)."""
    return [ids for ids, _ in token_ids_many(lists, [None] * len(lists))]


@dataclass(frozen=True)
class Views:
    code: np.ndarray
    names: np.ndarray
    words: np.ndarray
    numbers: np.ndarray | None = None
    """Which of ``words`` are numbers (a table of digits is not a description)."""

    def get(self, channel: str) -> np.ndarray:
        stream: np.ndarray = getattr(self, channel)
        return stream


def code_streams(ids: np.ndarray, canon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code, names) streams from a text's token ids and canonical ids: strings left out."""
    keep = canon != STRING_ID
    return canon[keep], ids[keep]


def many_code_streams(
    pairs: Sequence[tuple[np.ndarray, np.ndarray]],
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``code_streams`` of each (ids, canonical ids) pair, with one mask over the whole batch
    (three numpy calls per record cost more than the masking itself)."""
    if not pairs:
        return [], []
    ids = np.concatenate([i for i, _ in pairs])
    canon = np.concatenate([c for _, c in pairs])
    keep = canon != STRING_ID
    lengths = np.fromiter((len(c) for _, c in pairs), dtype=np.intp, count=len(pairs))
    kept = np.add.reduceat(keep, np.cumsum(lengths) - lengths) if len(keep) else lengths * 0
    kept = np.where(lengths > 0, kept, 0)  # reduceat reads one element for an empty slice
    cuts = np.cumsum(kept)[:-1]
    return np.split(canon[keep], cuts), np.split(ids[keep], cuts)


def item_views(text: str, language: str | None, *, prose: bool) -> Views:
    """The streams of a benchmark item's text; ``prose``: it is all description (no code)."""
    if prose:
        ws = words(text)
        return Views(_EMPTY, _EMPTY, word_ids(ws), np.array([w.isdigit() for w in ws], bool))
    tokens = tokenize(text, language)
    ids, canon = token_ids(tokens, language)
    code, names = code_streams(ids, canon)
    # the same words a record's stream holds: docstrings and other long strings, comments
    ws = record_words(text, "", tokens, canon, language)
    return Views(code, names, word_ids(ws), np.array([w.isdigit() for w in ws], dtype=bool))


_DESCRIBING = 16
"""String literals shorter than this hold data (``'utf-8'``, ``"a"``), not a description."""


def _string_tokens(tokens: list[str], canon: np.ndarray) -> list[int]:
    at: list[int] = np.flatnonzero(canon == STRING_ID).tolist()
    return [i for i in at if len(tokens[i]) >= _DESCRIBING]


def record_words(
    text: str, prompt: str, tokens: list[str], canon: np.ndarray, language: str | None
) -> list[str]:
    """A record's word stream: the words of its prompt (an instruction is prose), of its string
    literals, then of its comments; ``tokens``/``canon`` are ``text``'s."""
    out = words(prompt) if prompt else []
    at = _string_tokens(tokens, canon)
    if at:
        out += words(" ".join([tokens[i] for i in at]))
    found = bare_comment_regex(comment_style(language)).findall(text)
    if found:
        out += words(" ".join(found))
    return out


def record_word_lines(
    text: str, prompt: str, tokens: list[str], canon: np.ndarray, language: str | None
) -> list[int]:
    """The line (in ``text``) of each word ``record_words`` yields, in the same order."""
    out: list[int] = []
    if prompt:
        low = prompt.lower()
        out += [low.count("\n", 0, m.start()) + 1 for m in _WORD.finditer(low)]
    lines = token_lines(text, language)
    for i in _string_tokens(tokens, canon):
        low = tokens[i].lower()
        out += [lines[i] + low.count("\n", 0, m.start()) for m in _WORD.finditer(low)]
    for m in bare_comment_regex(comment_style(language)).finditer(text):
        first = text.count("\n", 0, m.start()) + 1
        low = m.group().lower()
        out += [first + low.count("\n", 0, w.start()) for w in _WORD.finditer(low)]
    return out


def record_code_lines(text: str, canon: np.ndarray, language: str | None) -> list[int]:
    """The line (in ``text``) of each token of the code and names streams."""
    lines = token_lines(text, language)
    keep: list[int] = np.flatnonzero(canon != STRING_ID).tolist()
    return [lines[i] for i in keep]
