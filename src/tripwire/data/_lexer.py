"""A small code lexer shared by dedup and decontamination: comments out, whitespace out.

It is not a parser: one regular expression per comment style splits code into identifiers,
numbers, strings and operators, which is all that code-aware shingles need, and it never fails.
"""

from __future__ import annotations

import builtins
import hashlib
import keyword
import re
from functools import lru_cache

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

# Comments and strings come first, so their insides are never tokens.
# One capturing group around everything but comments: findall then yields "" for a comment.
_PATTERN = r"(?:{comment})|({string}|[A-Za-z_][\w$]*|\$\w+|\d[\w.]*|{ops})"
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
        line += code.count("\n", pos, m.start())
        pos = m.start()
        if m.group(1):
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


_TOKEN_INFO: dict[str, tuple[int, int, int]] = {}
"""token -> (id, canonical id for Python, canonical id elsewhere), filled as tokens are met."""
_MAX_CACHED = 2_000_000


def _stable_id(tok: str) -> int:
    return int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")


_ID_I, _ID_S = _stable_id("I"), _stable_id("S")


def _info(tok: str) -> tuple[int, int, int]:
    info = _TOKEN_INFO.get(tok)
    if info is None:
        if len(_TOKEN_INFO) > _MAX_CACHED:
            _TOKEN_INFO.clear()
        tid = _stable_id(tok)
        first = tok[0]
        if first.isalpha() or first == "_":
            info = (
                tid,
                tid if tok in _PYTHON_KEPT else _ID_I,
                tid if tok in _PYTHON_KEPT or tok in _OTHER_KEPT else _ID_I,
            )
        elif first in _QUOTES:
            info = (tid, _ID_S, _ID_S)
        elif first == "$" and len(tok) > 1:
            info = (tid, _ID_I, _ID_I)
        else:
            info = (tid, tid, tid)
        _TOKEN_INFO[tok] = info
    return info


_MEMBER_IDS = np.array([_stable_id(t) for t in _MEMBER_OPS], dtype=np.uint64)


_IDS: dict[str, int] = {}
_CANON_PY: dict[str, int] = {}
_CANON: dict[str, int] = {}


def token_ids(tokens: list[str], language: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(ids, canonical ids) of ``tokens``: the same as hashing ``tokens`` and
    ``canonical(tokens, language)``, with per-token caches (set and map work run in C)."""
    if not tokens:
        empty = np.zeros(0, dtype=np.uint64)
        return empty, empty
    if len(_IDS) > _MAX_CACHED:
        _IDS.clear(), _CANON_PY.clear(), _CANON.clear()
    for tok in set(tokens).difference(_IDS):
        _IDS[tok], _CANON_PY[tok], _CANON[tok] = _info(tok)
    n = len(tokens)
    ids = np.fromiter(map(_IDS.__getitem__, tokens), dtype=np.uint64, count=n)
    table = _CANON_PY if language == "python" else _CANON
    canon = np.fromiter(map(table.__getitem__, tokens), dtype=np.uint64, count=n)
    prev = ids[:-1]
    after_member = np.zeros(n, dtype=bool)
    after_member[1:] = (prev == _MEMBER_IDS[0]) | (prev == _MEMBER_IDS[1])
    canon[after_member] = ids[after_member]
    return ids, canon


_MIX = np.uint64(0x9E3779B97F4A7C15)


def ngram_hashes(tokens: list[str] | np.ndarray, n: int) -> np.ndarray:
    """Stable 32-bit hashes of every ``n``-token window (one window for shorter sequences);
    ``tokens`` are strings or ids from ``token_ids``."""
    if not len(tokens):
        return np.zeros(0, dtype=np.uint64)
    ids = tokens if isinstance(tokens, np.ndarray) else token_ids(tokens)[0]
    width = min(n, len(ids))
    count = len(ids) - width + 1
    with np.errstate(over="ignore"):
        h = ids[:count].copy()
        for k in range(1, width):
            h = h * _MIX + ids[k : k + count]
        h ^= h >> np.uint64(29)
        h *= _MIX
        h ^= h >> np.uint64(32)
    return h & np.uint64(0xFFFFFFFF)


@lru_cache(maxsize=4)
def _comment_regex(style: str) -> re.Pattern[str]:
    # Strings are matched too, so a '#' or '//' inside a string is not taken for a comment.
    return re.compile(f"({_COMMENTS[style]})|{_strings(style)}")


def strip_comments(code: str, language: str | None = None, *, strings: bool = False) -> str:
    """``code`` without comments (and without string literals when ``strings``); the newlines
    inside what is removed are kept, so line numbers stay."""

    def keep(m: re.Match[str]) -> str:
        if m.group(1) or strings:
            return "\n" * m.group().count("\n")
        return m.group()

    return _comment_regex(comment_style(language)).sub(keep, code)
