"""Ways a benchmark item gets into training data disguised, for measuring decontamination.

Each takes Python source and returns the disguised source. They are built on the standard
library's own ``ast`` and ``tokenize`` (not on tripwire's lexer, which the matcher uses), so a
test of the matcher does not share its blind spots.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import random
import tokenize

_KEPT = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | {"self", "cls"}
_NAMES = (
    "alpha",
    "beta",
    "gamma",
    "delta",
    "omega",
    "sigma",
    "theta",
    "kappa",
    "lam",
    "mu",
    "nu",
    "xi",
    "rho",
    "tau",
    "phi",
    "chi",
    "psi",
    "zeta",
    "foo",
    "bar",
    "baz",
    "qux",
    "quux",
    "corge",
    "grault",
    "garply",
    "waldo",
    "fred",
    "plugh",
    "xyzzy",
    "thud",
)


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self.mapping.get(node.arg, node.arg)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.name = self.mapping.get(node.name, node.name)
        self.generic_visit(node)
        return node


def _defined_names(tree: ast.Module) -> list[str]:
    """Names the code itself binds (functions, arguments, assigned variables), in order."""
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            out.append(node.name)
        elif isinstance(node, ast.arg):
            out.append(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.append(node.id)
    return [n for n in dict.fromkeys(out) if n not in _KEPT]


def ast_rename(code: str, rng: random.Random) -> str:
    """Every name the code binds renamed consistently; the docstring (and any example in it
    that uses the old names) is kept. Re-emitted by ``ast.unparse``: comments are lost and
    quotes, spacing and parentheses normalised, the way a formatter would."""
    tree = ast.parse(code)
    pool = list(_NAMES)
    rng.shuffle(pool)
    mapping = {
        name: (pool[i] if i < len(pool) else f"{pool[i % len(pool)]}{i}")
        for i, name in enumerate(_defined_names(tree))
    }
    return ast.unparse(_Renamer(mapping).visit(tree)) + "\n"


def drop_docstrings(code: str) -> str:
    """The code without its docstrings (the string statements that open a def, class or
    module), found with ``tokenize`` so the rest of the text stays byte for byte."""
    tree = ast.parse(code)
    spans: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                spans.append((first.lineno, first.end_lineno or first.lineno))
    lines = code.splitlines(keepends=True)
    drop = {n for a, b in spans for n in range(a, b + 1)}
    return "".join(line for i, line in enumerate(lines, 1) if i not in drop)


def reindent(code: str, width: int = 2) -> str:
    """Every indentation level ``width`` spaces instead of its original width (by the
    tokenizer's INDENT tokens, so continuation lines keep their relative offsets)."""
    levels: list[int] = [0]
    depth_of_line: dict[int, int] = {}
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.INDENT:
            levels.append(len(tok.string.expandtabs(8)))
        elif tok.type == tokenize.DEDENT:
            levels.pop()
        elif tok.type not in (tokenize.NL, tokenize.COMMENT, tokenize.NEWLINE):
            depth_of_line.setdefault(tok.start[0], len(levels) - 1)
    out = []
    for i, line in enumerate(code.splitlines(keepends=True), 1):
        stripped = line.lstrip(" \t")
        if i in depth_of_line and stripped.strip():
            old = len(line) - len(stripped)
            new = depth_of_line[i] * width
            out.append(" " * new + stripped if old >= new or depth_of_line[i] else stripped)
        else:
            out.append(line)
    return "".join(out)


def docstring_as_comments(code: str) -> str:
    """Each docstring turned into ``#`` comment lines at its indentation."""
    tree = ast.parse(code)
    lines = code.splitlines(keepends=True)
    for node in sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)),
        key=lambda n: -n.lineno,
    ):
        first = node.body[0] if node.body else None
        if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)):
            continue
        doc = first.value.value
        if not isinstance(doc, str):
            continue
        indent = " " * first.col_offset
        comment = [f"{indent}# {ln.strip()}\n".replace("# \n", "#\n") for ln in doc.splitlines()]
        lines[first.lineno - 1 : first.end_lineno] = comment
    return "".join(lines)


def head(code: str, share: float) -> str:
    """The first ``share`` of the lines (a partial copy)."""
    lines = code.splitlines(keepends=True)
    return "".join(lines[: max(1, round(len(lines) * share))])


def description(prompt: str) -> str:
    """A prompt's docstring as plain text (what an instruction set asks in words)."""
    tree = ast.parse(prompt)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            doc = ast.get_docstring(node)
            if doc:
                return doc
    return prompt
