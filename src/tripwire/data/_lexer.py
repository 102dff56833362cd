"""A small code lexer shared by dedup and decontamination: comments out, whitespace out.

It is not a parser: one regular expression per comment style splits code into identifiers,
numbers, strings and operators, which is all that code-aware shingles need, and it never fails.
"""

from __future__ import annotations

import builtins
import hashlib
import keyword
import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain

import numpy as np

_STRING = (
    r'"""[\s\S]*?(?:"""|\Z)'
    r"|'''[\s\S]*?(?:'''|\Z)"
    r'|"(?:\\.|[^"\\\n])*"?'
    r"|'(?:\\.|[^'\\\n])*'?"
    r"|`(?:\\.|[^`\\])*`?"
)
# Shell, Perl and Ruby quotes may span lines; elsewhere an unclosed quote ends at the line end.
_MULTILINE_STRING = r'"(?:\\.|[^"\\])*"?' + r"|'(?:\\.|[^'\\])*'?"
_COMMENTS = {
    "hash": r"#[^\n]*",
    "shellish": r"#[^\n]*",
    "c": r"//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)",
    "both": r"#[^\n]*|//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)",
}
_OPERATORS = (
    r"===|!==|\*\*=|<<=|>>=|\.\.\.|==|!=|<=|>=|->|=>|::|\+\+|--|&&|\|\||<<|>>|\*\*|:="
    r"|[-+*/%&|^]=|\S"
)

# Comments and strings come before operators, so their insides are never tokens (names and
# strings cannot start alike, so names go first: they are most tokens; then the punctuation that
# starts no longer operator, which is most of the rest and would otherwise fail every operator
# alternative first). One capturing group
# around everything but comments: findall then yields "" for a comment. Leading whitespace is
# consumed in the same match rather than failed at character by character (indentation).
_PATTERN = r"\s*(?:(?:{comment})|([A-Za-z_][\w$]*|[()\[\]{{}},;]|{string}|\$\w+|\d[\w.]*|{ops}))"
_QUOTES = ("'", '"', "`")

HASH_COMMENT_LANGUAGES = frozenset({"python", "r", "yaml"})
SHELLISH_LANGUAGES = frozenset({"shell", "perl", "ruby"})
C_COMMENT_LANGUAGES = frozenset(
    {"c", "cpp", "javascript", "typescript", "java", "go", "rust", "csharp", "kotlin", "swift"}
)

# Names a renaming does not touch: keywords and builtins keep their meaning across copies.
_PYTHON_KEPT = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {"self", "cls"}
_OTHER_KEPT_WORDS = """
    function return var let const if else for while do switch case break continue new this
    class struct typedef static void int char long short unsigned signed float double bool
    true false null nullptr undefined sizeof public private protected import export from
    package sub my our use local fi then elif esac done in echo self try catch throw typeof
    instanceof async await yield default extern enum union goto register volatile inline
"""
_OTHER_KEPT = frozenset(_OTHER_KEPT_WORDS.split())
_MEMBER_OPS = frozenset({".", "->"})


@lru_cache(maxsize=4)
def _regex(style: str) -> re.Pattern[str]:
    return re.compile(
        _PATTERN.format(comment=_COMMENTS[style], string=_strings(style), ops=_OPERATORS)
    )


def _strings(style: str) -> str:
    return _MULTILINE_STRING if style == "shellish" else _STRING


def comment_style(language: str | None) -> str:
    """Which comment syntax to strip: ``hash``, ``c``, or ``both`` when the language is unknown."""
    if language in HASH_COMMENT_LANGUAGES:
        return "hash"
    if language in SHELLISH_LANGUAGES:
        return "shellish"
    if language in C_COMMENT_LANGUAGES:
        return "c"
    return "both"


def tokenize(code: str, language: str | None = None) -> list[str]:
    """Identifiers, numbers, strings (quotes kept) and operators of ``code``; no comments."""
    return list(filter(None, _regex(comment_style(language)).findall(code)))


def token_lines(code: str, language: str | None = None) -> list[int]:
    """The 1-based line each token of ``tokenize(code, language)`` starts on (slower)."""
    lines, line, pos = [], 1, 0
    for m in _regex(comment_style(language)).finditer(code):
        if m.group(1):
            start = m.start(1)
            line += code.count("\n", pos, start)
            pos = start
            lines.append(line)
    return lines


def canonical(tokens: list[str], language: str | None = None) -> list[str]:
    """Tokens with every renameable identifier as ``I`` and every string as ``S``.

    Two copies of a function that differ only in local names, comments, docstrings or layout
    have the same canonical sequence. Names after ``.`` or ``->`` (attributes, methods) stay:
    renaming a function's variables does not rename the library methods it calls.
    """
    kept = _PYTHON_KEPT if language == "python" else _OTHER_KEPT | _PYTHON_KEPT
    out = []
    previous = ""
    for tok in tokens:
        first = tok[0]
        if first.isalpha() or first == "_":
            out.append(tok if tok in kept or previous in _MEMBER_OPS else "I")
        elif first in _QUOTES or (first in "$" and len(tok) > 1):
            out.append("S" if first in _QUOTES else "I")
        else:
            out.append(tok)
        previous = tok
    return out


_MAX_CACHED = 2_000_000


def _stable_id(tok: str) -> int:
    return int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")


_ID_I, _ID_S = _stable_id("I"), _stable_id("S")
STRING_ID = _ID_S
"""The canonical id of every string literal (``canonical`` turns each into ``S``)."""


def _info(tok: str) -> tuple[int, int, int]:
    """(id, canonical id for Python, canonical id elsewhere) of one token."""
    tid = _stable_id(tok)
    first = tok[0]
    if first.isalpha() or first == "_":
        return (
            tid,
            tid if tok in _PYTHON_KEPT else _ID_I,
            tid if tok in _PYTHON_KEPT or tok in _OTHER_KEPT else _ID_I,
        )
    if first in _QUOTES:
        return (tid, _ID_S, _ID_S)
    if first == "$" and len(tok) > 1:
        return (tid, _ID_I, _ID_I)
    return (tid, tid, tid)


_MEMBER_IDS = np.array([_stable_id(t) for t in _MEMBER_OPS], dtype=np.uint64)


class _TokenTable(dict[str, int]):
    """token -> column of ``cols``: (id, canonical id for Python, canonical id elsewhere); a
    token is hashed the first time it is met, so a record costs one dict lookup per token."""

    def __init__(self) -> None:
        super().__init__()
        self.cols = np.zeros((3, 4096), dtype=np.uint64)
        self._new: list[tuple[int, int, int]] = []
        """Columns of tokens met since ``columns()`` last ran (numpy is slow one cell at a time)."""

    def __missing__(self, tok: str) -> int:
        n = len(self)
        self._new.append(_info(tok))
        self[tok] = n
        return n

    def columns(self) -> np.ndarray:
        """``cols`` with every token looked up so far."""
        if self._new:
            n = len(self)
            if n > self.cols.shape[1]:
                grown = np.zeros((3, max(n, 2 * self.cols.shape[1])), dtype=np.uint64)
                grown[:, : self.cols.shape[1]] = self.cols
                self.cols = grown
            self.cols[:, n - len(self._new) : n] = np.array(self._new, dtype=np.uint64).T
            self._new.clear()
        return self.cols

    def clear(self) -> None:
        super().clear()
        self._new.clear()


_TABLE = _TokenTable()


def token_ids(tokens: list[str], language: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(ids, canonical ids) of ``tokens``: the same as hashing ``tokens`` and
    ``canonical(tokens, language)``."""
    return token_ids_many([tokens], [language])[0]


def token_ids_many(
    token_lists: Sequence[list[str]], languages: Sequence[str | None]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[token_ids(tokens, language) for ...]`` with one set of numpy calls for the whole batch
    (on a record of a few hundred tokens, numpy's cost per call is most of the work)."""
    lengths = np.fromiter(map(len, token_lists), dtype=np.intp, count=len(token_lists))
    total = int(lengths.sum())
    if len(_TABLE) + total > _MAX_CACHED:
        _TABLE.clear()  # columns are indexed below: never clear while this batch is looked up
    at = np.fromiter(
        map(_TABLE.__getitem__, chain.from_iterable(token_lists)), dtype=np.intp, count=total
    )
    cols = _TABLE.columns()
    ids = cols[0][at]
    row = np.array([1 if lang == "python" else 2 for lang in languages], dtype=np.intp)
    canon = cols[np.repeat(row, lengths), at]
    starts = np.cumsum(lengths) - lengths
    if total > 1:
        prev = ids[:-1]
        after_member = (prev == _MEMBER_IDS[0]) | (prev == _MEMBER_IDS[1])
        # a record's first token follows the previous record's last one, not a member operator
        firsts = starts[(starts > 0) & (starts < total)]
        after_member[firsts - 1] = False
        canon[1:][after_member] = ids[1:][after_member]  # attribute names are never renamed
    return [
        (ids[a : a + n], canon[a : a + n])
        for a, n in zip(starts.tolist(), lengths.tolist(), strict=True)
    ]


_MIX_INT = 0x9E3779B97F4A7C15
_MIX = np.uint64(_MIX_INT)


@lru_cache(maxsize=64)
def _mix_power(k: int) -> np.uint64:
    """``MIX**k`` mod 2**64, computed on Python ints (a numpy scalar power costs a call each
    time, and only array arithmetic wraps silently)."""
    return np.uint64(pow(_MIX_INT, k, 1 << 64))


def _window_sums(ids: np.ndarray, width: int) -> np.ndarray:
    """``sum(ids[i + k] * MIX**(width - 1 - k) for k < width)`` for every window start ``i``
    (mod 2**64), built by doubling: windows of ``a + b`` tokens from windows of ``a`` and ``b``,
    so ``log2(width)`` passes over the array instead of ``width``."""
    total: np.ndarray | None = None  # windows of `done` tokens
    done = 0
    block, size = ids, 1  # windows of `size` tokens
    left = width
    while True:
        if left & 1:
            if total is None:
                total, done = block, size
            else:
                count = len(ids) - done - size + 1
                total = total[:count] * _mix_power(size) + block[done : done + count]
                done += size
        left >>= 1
        if not left:
            return total if total is not None else block
        count = len(ids) - 2 * size + 1
        block = block[:count] * _mix_power(size) + block[size : size + count]
        size *= 2


_SHIFT_29, _SHIFT_32, _LOW_32 = np.uint64(29), np.uint64(32), np.uint64(0xFFFFFFFF)


def ngram_hashes(tokens: list[str] | np.ndarray, n: int) -> np.ndarray:
    """Stable 32-bit hashes of every ``n``-token window (one window for shorter sequences);
    ``tokens`` are strings or ids from ``token_ids``."""
    if not len(tokens):
        return np.zeros(0, dtype=np.uint64)
    ids = tokens if isinstance(tokens, np.ndarray) else token_ids(tokens)[0]
    # uint64 array arithmetic wraps around without a warning: no np.errstate needed (its
    # context manager costs more than the arithmetic on a record's few hundred tokens).
    h = _window_sums(ids, min(n, len(ids)))
    if h is ids:
        h = h.copy()  # one-token windows: the sums are the ids themselves
    return _finish(h)


def _finish(h: np.ndarray) -> np.ndarray:
    """Window sums to well-mixed 32-bit hashes (``h`` is overwritten)."""
    h ^= h >> _SHIFT_29
    h *= _MIX
    h ^= h >> _SHIFT_32
    return h & _LOW_32


def ngram_hashes_many(id_arrays: Sequence[np.ndarray], n: int) -> list[np.ndarray]:
    """``[ngram_hashes(ids, n) for ids in id_arrays]`` with one set of numpy calls for the
    windows of every array of at least ``n`` ids (windows that would span two arrays are
    dropped); shorter arrays, which have a single window, are hashed one by one."""
    lengths = np.fromiter(map(len, id_arrays), dtype=np.intp, count=len(id_arrays))
    out: list[np.ndarray] = [np.zeros(0, dtype=np.uint64)] * len(id_arrays)
    for k in np.flatnonzero((lengths > 0) & (lengths < n)).tolist():
        out[k] = ngram_hashes(id_arrays[k], n)
    full = np.flatnonzero(lengths >= n)
    if not len(full):
        return out
    ids = np.concatenate([id_arrays[k] for k in full.tolist()])
    sizes = lengths[full]
    ends = np.repeat(np.cumsum(sizes), sizes)[: len(ids) - n + 1]
    within = np.arange(len(ends)) + n <= ends
    hashes = _finish(_window_sums(ids, n)[within])
    bounds = np.cumsum(sizes - n + 1).tolist()
    for k, lo, hi in zip(full.tolist(), [0, *bounds[:-1]], bounds, strict=True):
        out[k] = hashes[lo:hi]
    return out


@lru_cache(maxsize=4)
def comment_regex(style: str) -> re.Pattern[str]:
    """Comments (group 1) or string literals: a '#' or '//' inside a string is no comment."""
    return re.compile(f"({_COMMENTS[style]})|{_strings(style)}")


@lru_cache(maxsize=4)
def bare_comment_regex(style: str) -> re.Pattern[str]:
    """Comments alone, blind to strings (a '#' in a string reads as one): a fraction of
    ``comment_regex``'s cost, for where a stray match costs nothing."""
    return re.compile(_COMMENTS[style])


def strip_comments(code: str, language: str | None = None, *, strings: bool = False) -> str:
    """``code`` without comments (and without string literals when ``strings``); the newlines
    inside what is removed are kept, so line numbers stay."""

    def keep(m: re.Match[str]) -> str:
        if m.group(1) or strings:
            return "\n" * m.group().count("\n")
        return m.group()

    return comment_regex(comment_style(language)).sub(keep, code)
