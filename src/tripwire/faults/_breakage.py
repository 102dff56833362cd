"""Real code broken in the middle or cut short, for measuring ``syntax_error`` against
``truncated``: functions of the installed packages (Python, and the JavaScript, C and shell
files some of them ship), each either intact, with one ``:`` or ``)`` deleted from a line in its
middle (complete code after it), or cut inside an unfinished construct.
"""

from __future__ import annotations

import ast
import random
import re
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from tripwire.data import analyse, parse_tree

_TREE_DEFS = {
    "javascript": ("function_declaration", "method_definition", "function_expression"),
    "c": ("function_definition",),
    "shell": ("function_definition",),
}
_SUFFIX = {"python": ".py", "javascript": ".js", "c": ".c", "shell": ".sh"}
_OPENS_LINE = re.compile(r"[(\[{,:=+\-*/]|\b(?:then|do|and|or)\s*$|\\$")


@dataclass(frozen=True)
class Broken:
    code: str
    language: str
    expected: str | None
    """``syntax_error``, ``truncated`` or None (intact)."""
    how: str
    origin: str


_MAX_BYTES = 300_000
"""Larger files are mostly generated (Cython's C output): people's code is in the rest."""


_MAX_LINE = 300


def _python_functions(path: Path, lo: int, hi: int) -> list[str]:
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return []
    lines = source.splitlines(keepends=True)
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.end_lineno:
            seg = "".join(lines[node.lineno - 1 : node.end_lineno])
            if lo <= seg.count("\n") <= hi and "\t" not in seg:
                out.append(seg)
    return out


def _tree_functions(path: Path, language: str, lo: int, hi: int) -> list[str]:
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    if language == "shell" and lo <= source.count("\n") <= hi:
        return [source]  # packages ship few shell files, most of them short scripts
    data = source.encode()
    out, todo = [], [(parse_tree(source, language).root_node, 0)]
    while todo:
        node, depth = todo.pop()
        if node.type in _TREE_DEFS[language] and not node.has_error:
            text = data[node.start_byte : node.end_byte].decode()
            if lo <= text.count("\n") + 1 <= hi:
                out.append(text + "\n")
                continue
        if depth < 4:  # methods and functions assigned to properties sit a few levels down
            todo.extend((child, depth + 1) for child in reversed(node.children))
    return out


def installed_functions(
    language: str, want: int, rng: random.Random, lo: int = 12, hi: int = 60
) -> list[tuple[str, str]]:
    """(code, origin) of up to ``want`` functions of ``lo``-``hi`` lines from the installed
    packages' files of ``language``, files visited in an order drawn by ``rng``."""
    roots = [Path(sysconfig.get_paths()["purelib"])]
    if language == "javascript":  # the packages ship mostly minified bundles; npm's are sources
        from tripwire.reference import javascript_roots  # torch-free, but only needed here

        roots += [r for r in javascript_roots() if r.is_dir()]
    files = sorted(f for root in roots for f in root.rglob("*" + _SUFFIX[language]))
    # one draw from ``rng`` whatever the number of files, so what the caller draws next does
    # not depend on the packages installed here
    random.Random(rng.random()).shuffle(files)
    files = [f for f in files if f.stat().st_size <= _MAX_BYTES]
    out: list[tuple[str, str]] = []
    for path in files:
        root = next(r for r in roots if path.is_relative_to(r))
        rel = str(path.relative_to(root))
        funcs = (
            _python_functions(path, lo, hi)
            if language == "python"
            else _tree_functions(path, language, lo, hi)
        )
        # minified bundles (one 10,000-character "line") are not code a person wrote: their
        # "line 9 of 14" is most of the file
        funcs = [f for f in funcs if max(map(len, f.splitlines()), default=0) <= _MAX_LINE]
        out += [(f, f"{language}:{rel}") for f in funcs[:3]]  # a few per file: many authors
        if len(out) >= want:
            break
    return out


def break_middle(code: str, language: str, rng: random.Random) -> tuple[str, str] | None:
    """Delete a line-ending ``:`` (Python) or a ``)`` from a line in the middle third, so that
    complete code follows the error; None when no such place breaks the parse."""
    lines = code.split("\n")
    n = len([ln for ln in lines if ln.strip()])
    middle = list(range(n // 3, max(n // 3 + 1, 2 * n // 3)))
    rng.shuffle(middle)
    for i in middle:
        line = lines[i]
        choices = []
        if language == "python" and line.rstrip().endswith(":"):
            choices.append((line.rstrip()[:-1], "deleted a block colon"))
        if ")" in line:
            at = line.rindex(")")
            choices.append((line[:at] + line[at + 1 :], "deleted a closing parenthesis"))
        for new, how in choices:
            broken = "\n".join([*lines[:i], new, *lines[i + 1 :]])
            if not analyse(broken, language).ok:
                return broken, f"{how} (line {i + 1} of {n})"
    return None


def cut_open(code: str, language: str, rng: random.Random) -> tuple[str, str] | None:
    """Cut after a line (newline kept) that leaves a construct open: an opener, a comma, an
    operator, a block colon; None when the code has no such line past its first."""
    lines = code.split("\n")
    spots = [
        i
        for i in range(1, len(lines) - 2)
        if _OPENS_LINE.search(lines[i].rstrip()) and lines[i].strip()
    ]
    rng.shuffle(spots)
    for i in spots:
        cut = "\n".join(lines[: i + 1]) + "\n"
        if not analyse(cut, language).ok:
            return cut, f"cut after an open line ({i + 1} of {len(lines)})"
    return None


def cut_mid_line(code: str, language: str, rng: random.Random) -> tuple[str, str] | None:
    """Cut inside a line in the middle 30-90% of the text (no final newline), where the cut
    leaves the code unparseable (a length limit mid-expression)."""
    for _ in range(30):
        at = rng.randint(int(len(code) * 0.3), int(len(code) * 0.9))
        head = code[:at].rstrip(" \t")
        if not head or head.endswith("\n") or code[at : at + 1] in ("\n", ""):
            continue
        if not analyse(head, language).ok:
            return head, "cut mid-line"
    return None


_KINDS = ("intact", "middle", "open", "mid-line")


def breakage_set(per_language: int, seed: int = 0) -> list[Broken]:
    """Up to ``per_language`` functions per language, taken in turn intact, broken in the
    middle (every other one without a final newline), cut after an open line and cut
    mid-line (a function that offers no place for its turn's fault is skipped)."""
    rng = random.Random(seed)
    out: list[Broken] = []
    plants = {"middle": break_middle, "open": cut_open, "mid-line": cut_mid_line}
    for language in ("python", "javascript", "c", "shell"):
        made = 0
        for code, origin in installed_functions(language, 3 * per_language, rng):
            if made >= per_language:
                break
            if not analyse(code, language).ok:
                continue
            kind = _KINDS[made % len(_KINDS)]
            if kind == "intact":
                out.append(Broken(code, language, None, "intact", origin))
                made += 1
                continue
            got = plants[kind](code, language, rng)
            if got is None:
                continue
            text, how = got
            if kind == "middle" and made % 8 == 1:
                text = text.rstrip("\n")  # no final newline, the way many records are stored
            expected = "syntax_error" if kind == "middle" else "truncated"
            out.append(Broken(text, language, expected, how, origin))
            made += 1
    return out
