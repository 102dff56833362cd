"""Does code parse in a given language? One analysis shared by the syntax and truncation checks.

Which parser decides, per language:

- Python: ``compile()`` (the real parser; tree-sitter's Python grammar accepts Python 2 and
  some invalid code). In the audit, ruff's parser settles first the records of a batch it
  accepts and can be trusted on (``_python_syntax``); the rest come here.
- Shell: ``bash -n``, which parses without executing anything; tree-sitter-bash when no bash.
- C, C++ and Perl: their tree-sitter grammars cannot follow macro-heavy headers or some Perl
  (about half of the real headers on a Linux machine parse with errors), so only what the
  grammar's tokens show for certain counts: delimiters that do not pair up.
- Every other language with a grammar: any tree-sitter error or missing token.
"""

from __future__ import annotations

import codeop
import os
import re
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

GRAMMARS: dict[str, str] = {
    "python": "python",
    "javascript": "javascript",
    "typescript": "typescript",
    "c": "c",
    "cpp": "cpp",
    "java": "java",
    "go": "go",
    "rust": "rust",
    "ruby": "ruby",
    "perl": "perl",
    "shell": "bash",
    "php": "php",
}
DELIMITER_ONLY = frozenset({"c", "cpp", "perl"})
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {v: k for k, v in _OPEN.items()}
_PY_EOF = ("unexpected EOF", "unterminated triple-quoted")


@dataclass
class SyntaxAnalysis:
    """What the language's parser said about a piece of code."""

    language: str
    parser: str
    """``compile``, ``ruff`` (Python a batch's ruff run accepted), ``bash -n``, ``tree-sitter``
    or ``tree-sitter delimiters``; ``none`` when the language has no parser here."""
    problems: list[dict[str, Any]] = field(default_factory=list)
    """``{"line", "column", "message"}`` of the first few problems, in order."""
    eof: bool = False
    """The parser ran out of input inside a construct: it wanted more text, not other text
    (``_unfinished`` decides whether that makes the text cut rather than broken)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def supported(self) -> bool:
        return self.parser != "none"


@cache
def _parser(grammar: str) -> Any:
    from tree_sitter_language_pack import get_parser

    return get_parser(grammar)  # type: ignore[arg-type]


def parse_tree(code: str, language: str) -> Any:
    """The tree-sitter tree of ``code`` in ``language`` (one of ``GRAMMARS``)."""
    return _parser(GRAMMARS[language]).parse(code.encode("utf-8", "replace"))


def leaves(tree: Any) -> Iterator[Any]:
    """Every leaf node of a tree-sitter tree, in source order."""
    cursor = tree.walk()
    while True:
        if cursor.node.child_count == 0:
            yield cursor.node
        if cursor.goto_first_child() or cursor.goto_next_sibling():
            continue
        while cursor.goto_parent():
            if cursor.goto_next_sibling():
                break
        else:
            return


_FILENAME = "<record>"
_QUIET: list[Any] = []
"""The warnings filter that silences what compiling records warns about, once installed."""


def _quiet_records() -> None:
    """Ignore warnings the compiler raises for records (invalid escapes, ``is`` with a literal:
    style, not syntax). A filter for their file name alone leaves every other warning as it
    was, and costs one list lookup per record where ``catch_warnings`` costs a fifth of the
    compile; it is installed again if something (a test harness) reset the filters."""
    if not _QUIET or _QUIET[0] not in warnings.filters:
        warnings.filterwarnings("ignore", module=re.escape(_FILENAME) + r"\Z")
        _QUIET[:] = [warnings.filters[0]]


# Compiling with this flag, the parser says "incomplete input" when it failed only because the
# input ended (what ``codeop`` uses to tell an unfinished interactive line from a wrong one).
_INCOMPLETE_FLAGS = codeop.PyCF_ALLOW_INCOMPLETE_INPUT | codeop.PyCF_DONT_IMPLY_DEDENT


def _python(code: str) -> SyntaxAnalysis:
    out = SyntaxAnalysis("python", "compile")
    _quiet_records()
    try:
        compile(code, _FILENAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        line = exc.lineno or 0
        out.problems.append({"line": line, "column": exc.offset or 0, "message": str(exc.msg)})
        out.eof = _python_incomplete(code)
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        out.problems.append({"line": 0, "column": 0, "message": str(exc) or type(exc).__name__})
    return out


def _python_incomplete(code: str) -> bool:
    try:
        compile(code, _FILENAME, "exec", _INCOMPLETE_FLAGS, dont_inherit=True)
    except SyntaxError as exc:  # 3.13 raises a subclass named _IncompleteInputError
        return exc.msg == "incomplete input" or type(exc).__name__ == "_IncompleteInputError"
    except (ValueError, RecursionError, MemoryError):
        return False
    return False


_BASH = shutil.which("bash")


def _shell(code: str) -> SyntaxAnalysis:
    out = SyntaxAnalysis("shell", "bash -n")
    try:
        r = subprocess.run(
            [_BASH or "bash", "-n", "/dev/stdin"],
            input=code.encode("utf-8", "replace"),
            capture_output=True,
            timeout=20,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
        )
    except subprocess.TimeoutExpired:
        out.problems.append({"line": 0, "column": 0, "message": "bash -n did not finish"})
        return out
    if r.returncode < 0 or (r.returncode and not r.stderr.strip()):
        # bash itself crashed (50,000 nested `$(` overflow its parser's stack): the code did
        # not parse, whatever the empty error output says
        why = f"signal {-r.returncode}" if r.returncode < 0 else f"status {r.returncode}"
        out.problems.append({"line": 0, "column": 0, "message": f"bash -n crashed ({why})"})
        return out
    if r.returncode:
        for raw in r.stderr.decode("utf-8", "replace").splitlines()[:3]:
            # "/dev/stdin: line 12: syntax error: unexpected end of file"
            parts = raw.split(": ", 2)
            line = int(parts[1][5:]) if len(parts) == 3 and parts[1].startswith("line ") else 0
            out.problems.append({"line": line, "column": 0, "message": parts[-1]})
            out.eof = out.eof or "unexpected end of file" in raw or "unexpected EOF" in raw
    return out


def _error_nodes(node: Any, out: list[Any], limit: int = 3) -> None:
    if len(out) >= limit:
        return
    if node.type == "ERROR" or node.is_missing:
        out.append(node)
        return
    if node.has_error:
        for child in node.children:
            _error_nodes(child, out, limit)


def _tree_sitter(code: str, language: str) -> SyntaxAnalysis:
    data = code.encode("utf-8", "replace")
    tree = _parser(GRAMMARS[language]).parse(data)
    if language in DELIMITER_ONLY:
        return _delimiters(tree, language)
    out = SyntaxAnalysis(language, "tree-sitter")
    nodes: list[Any] = []
    _error_nodes(tree.root_node, nodes)
    for n in nodes:
        row, col = n.start_point
        what = f"missing {n.type!r}" if n.is_missing else "unexpected " + _snippet(data, n)
        out.problems.append(
            {"line": row + 1, "column": col + 1, "message": what, "end_line": n.end_point[0] + 1}
        )
    if nodes:  # error recovery that reaches the last line: the first error is where input ran out
        stripped = data.rstrip()
        out.eof = nodes[0].end_byte >= stripped.rfind(b"\n") + 1
    return out


def _snippet(data: bytes, node: Any) -> str:
    text = data[node.start_byte : node.end_byte].decode("utf-8", "replace")
    first = text.strip().split("\n", 1)[0]
    return repr(first[:40])


def _delimiters(tree: Any, language: str) -> SyntaxAnalysis:
    """Pair up the grammar's bracket tokens; strings, comments and regexes are already leaves.

    A closer pairs with the nearest opener of its kind; openers it skips over were never
    closed, and are reported where they stand (the deleted ``)`` in the middle, not the ``}``
    at the end that no longer pairs)."""
    out = SyntaxAnalysis(language, "tree-sitter delimiters")
    stack: list[tuple[str, tuple[int, int]]] = []
    found: list[tuple[int, int, str]] = []
    for node in leaves(tree):
        if node.is_named or node.is_missing:
            continue
        t = node.type
        if t in _OPEN:
            stack.append((t, node.start_point))
        elif t in _CLOSE:
            want = _CLOSE[t]
            at = next((i for i in range(len(stack) - 1, -1, -1) if stack[i][0] == want), None)
            if at is None:
                found.append((*node.start_point, f"unmatched {t!r}"))
                continue
            found += [(r, c, f"{o!r} is never closed") for o, (r, c) in stack[at + 1 :]]
            del stack[at:]
    out.eof = bool(stack) and not found  # only openers left: the input ended inside them
    found += [(r, c, f"{o!r} is never closed") for o, (r, c) in stack]
    out.problems = [
        {"line": r + 1, "column": c + 1, "message": msg} for r, c, msg in sorted(found)[:3]
    ]
    return out


def analyse(code: str, language: str) -> SyntaxAnalysis:
    """Parse ``code`` as ``language``; unsupported languages come back with parser ``none``."""
    if language == "python":
        return _python(code)
    if language == "shell" and _BASH:
        return _shell(code)
    if language in GRAMMARS:
        return _tree_sitter(code, language)
    return SyntaxAnalysis(language, "none")


def parses_cleanly(code: str, language: str) -> bool:
    """Strict check used to confirm a language guess: any tree-sitter error counts."""
    if language == "python":
        return _python(code).ok
    grammar = GRAMMARS.get(language)
    if grammar is None:
        return False
    return not _parser(grammar).parse(code.encode("utf-8", "replace")).root_node.has_error
