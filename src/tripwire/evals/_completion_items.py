"""Held-out functions cut into (prompt, next line) pairs for the completion suite.

A function start is found per language by a line pattern; the prompt is the code before it,
its signature and first body line; the target is the next non-blank line.
"""

from __future__ import annotations

import codeop
import re
import textwrap
import warnings
from dataclasses import dataclass

FUNCTION_START: dict[str, re.Pattern[str]] = {
    "python": re.compile(r"^\s*(?:async\s+)?def\s+\w+\s*\("),
    "javascript": re.compile(r"^.*\bfunction\b\s*\*?\s*\w*\s*\([^)]*\)\s*\{\s*$"),
    # C: a signature that is not a declaration (no trailing semicolon)
    "c": re.compile(
        r"^(?!.*;\s*$)(?:static\s+|inline\s+)*[A-Za-z_][\w\s*]*\b\w+\s*\(.*\)\s*\{?\s*$"
    ),
    "perl": re.compile(r"^\s*sub\s+\w+"),
    "shell": re.compile(r"^\s*(?:function\s+)?[A-Za-z_][\w-]*\s*\(\)\s*\{?"),
}
_CONTEXT_LINES = 6


@dataclass(frozen=True)
class CompletionItem:
    """Continue ``prompt`` by one line; ``target`` is what the file really says next."""

    item_id: str
    language: str
    prompt: str
    target: str
    function_prefix: str
    """The function's own lines in the prompt (signature on), for the syntax check."""


def completion_items(
    language: str, path: str, text: str, *, max_items: int = 1000
) -> list[CompletionItem]:
    pattern = FUNCTION_START.get(language)
    if pattern is None:
        return []
    lines = text.splitlines(keepends=True)
    out: list[CompletionItem] = []
    for i, line in enumerate(lines):
        if not pattern.match(line) or i + 2 >= len(lines):
            continue
        body = i + 1
        while body < len(lines) and not lines[body].strip():
            body += 1
        nxt = body + 1
        while nxt < len(lines) and not lines[nxt].strip():
            nxt += 1
        if nxt >= len(lines) or len(lines[nxt].strip()) < 4:
            continue
        start = max(0, i - _CONTEXT_LINES)
        prompt = "".join(lines[start:nxt])
        out.append(
            CompletionItem(
                item_id=f"{language}:{path}:{i + 1}",
                language=language,
                prompt=prompt,
                target=lines[nxt].rstrip("\n"),
                function_prefix="".join(lines[i:nxt]),
            )
        )
        if len(out) >= max_items:
            break
    return out


def first_line(completion: str) -> str:
    """The line the model wrote right after the prompt (prompts end with a newline)."""
    return completion.split("\n", 1)[0]


def exact_match(completion: str, target: str) -> bool:
    """Next line equal to the file's, ignoring trailing whitespace."""
    return first_line(completion).rstrip() == target.rstrip()


def python_prefix_valid(code: str) -> bool:
    """True when ``code`` is valid Python so far: complete, or a correct unfinished prefix."""
    lines = code.splitlines()
    if lines and not code.endswith("\n"):
        lines = lines[:-1]  # the last line may be cut mid-token by the length limit
    src = textwrap.dedent("\n".join(lines)) + "\n"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            codeop.compile_command(src, "<completion>", "exec")
    except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError):
        # RecursionError / MemoryError: CPython itself cannot compile code this deep
        return False
    return True


_CLOSERS = {")": "(", "]": "[", "}": "{"}


def _complete_lines(code: str) -> str:
    """``code`` without a last line the length limit may have cut mid-token."""
    lines = code.splitlines()
    if lines and not code.endswith("\n"):
        lines = lines[:-1]
    return "\n".join(lines) + "\n"


def _brackets_prefix_valid(code: str) -> bool:
    """No bracket closes what it did not open (unclosed ones are fine in a prefix)."""
    stack: list[str] = []
    for ch in code:
        if ch in "([{":
            stack.append(ch)
        elif ch in _CLOSERS and (not stack or stack.pop() != _CLOSERS[ch]):
            return False
    return True


def _utf8(code: str) -> bytes:
    """``code`` for a parser; a lone surrogate (a JSON escape such as ``\\ud83d`` in a samples
    file) has no UTF-8 form, so it becomes ``?``, as parsers replace what they cannot read."""
    return code.encode("utf-8", "replace")


def _javascript_prefix_valid(code: str) -> bool:
    from tree_sitter_language_pack import get_parser

    # MISSING nodes are what an unfinished prefix lacks; ERROR nodes are real mistakes. Walked
    # with a stack: a deeply nested completion would exhaust Python's recursion limit.
    stack = [get_parser("javascript").parse(_utf8(code)).root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR":
            return False
        if node.has_error:  # only subtrees holding an ERROR or MISSING node are worth a visit
            stack.extend(node.children)
    return True


def _shell_prefix_valid(code: str) -> bool:
    import subprocess

    r = subprocess.run(["bash", "-n"], input=_utf8(code), capture_output=True, timeout=10)
    return r.returncode == 0 or b"unexpected end of file" in r.stderr


def prefix_valid(code: str, language: str) -> bool | None:
    """Is ``code`` valid so far in ``language`` (None: no checker for it)? A parser decides for
    Python (compile), JavaScript (tree-sitter) and shell (``bash -n``, which runs nothing);
    C and Perl get the bracket check, since their grammars reject much real header code."""
    if language == "python":
        return python_prefix_valid(code)
    body = _complete_lines(code)
    if language == "javascript":
        return _javascript_prefix_valid(body)
    if language == "shell":
        return _shell_prefix_valid(body)
    if language in ("c", "perl"):
        return _brackets_prefix_valid(body)
    return None
