"""Python syntax for a batch of records: ruff's parser where it agrees with CPython's,
``compile()`` for the rest.

``compile()`` is the judge of Python syntax (``_parsing``), but building CPython's code objects
for every record was a quarter of the data audit's CPU time. ruff's parser, a full grammar that
also reports the compiler's own checks through ``_ruff.COMPILE_RULES``, already reads each
shard's Python in the static analysis's one parallel run. So:

- a record ruff accepts is taken as parsing (parser ``ruff``);
- a record ruff doubts is compiled: CPython's message, and whether the input ran out, are what
  the findings quote and what tells cut code from broken code;
- a record on which the two parsers are known to differ is compiled before ruff sees it
  (``needs_compile``): CPython's limits (nesting that exhausts its recursion, 200 nested
  brackets, 20 nested blocks, 100 indentation levels, integer literals past 4,300 digits),
  tabs, ``except*`` blocks with ``break``/``return``, an async generator returning a value,
  null bytes, a leading byte-order mark, text that is not UTF-8, and records whose ``noqa`` or
  ``ruff:`` comments could silence ruff's compile-error rules. Nesting deep enough to overflow
  ruff's own stack is far past CPython's limit, so ruff is never given what would crash it.

Checked against ``compile()`` on the 50k functions of the data-audit benchmark, on the 35,512
whole ``.py`` files of the standard library and installed packages (which found the
byte-order mark), and on mutants of real code (``tests/data/test_python_syntax.py``): the
verdicts agree on every one.
"""

from __future__ import annotations

import re

_NESTING = 2_900
"""Brackets, operators and the keywords that nest (``not``, ``else``, ``await``) a record may
hold before CPython's compiler could run out of recursion (it fails near 2,990 levels)."""
_BLOCKS = 20
"""CPython's limit of statically nested loops, ``try`` and ``with`` blocks."""
_BRACKETS = 200
"""CPython's tokenizer's limit of nested brackets."""
_NOT_NESTING = (
    bytes(range(ord("0"), ord("9") + 1))
    + bytes(range(ord("A"), ord("Z") + 1))
    + bytes(range(ord("a"), ord("z") + 1))
    + b" \n_\"'#,"
)
_DEEP = b"\n" + b" " * _BLOCKS
_DEEPEST = b"\n" + b" " * 99
_EXCEPT_STAR = re.compile(rb"except[\s\\]*\*")
_LONG_INT = re.compile(rb"\d{4300}")


def needs_compile(code: str) -> bool:
    """Whether ``code`` is one of the records ruff's verdict on syntax cannot stand for."""
    try:
        data = code.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON escapes
        return True
    if b"\0" in data or b"\t" in data or b"\f" in data or b"barry_as_FLUFL" in data:
        return True
    if data.startswith(b"\xef\xbb\xbf"):  # a byte-order mark: ruff skips it, compile() does not
        return True
    if b"except" in data and b"*" in data and _EXCEPT_STAR.search(data):
        return True
    if b"async" in data and b"yield" in data:
        return True
    if len(data) >= _BRACKETS and (
        data.count(b"(") + data.count(b"[") + data.count(b"{") >= _BRACKETS
    ):
        return True
    if len(data) >= _NESTING:  # the count below never exceeds the length
        nesting = len(data.translate(None, _NOT_NESTING))
        nesting += data.count(b"not") + data.count(b"else") + data.count(b"await")
        if nesting >= _NESTING or (len(data) >= 4300 and _LONG_INT.search(data)):
            return True
    if _DEEP in data:  # nesting that deep shows in the indentation
        if _DEEPEST in data:
            return True
        blocks = data.count(b"for") + data.count(b"while") + data.count(b"try")
        if blocks + data.count(b"with") >= _BLOCKS:  # `while(x):` needs no space
            return True
    low = data.lower()  # a case-insensitive regex costs ten times more
    return b"noqa" in low or b"ruff" in low
