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


# Disguises a scraped or LLM-rewritten dataset carries (the adversary's set).


class _Unhinted(ast.NodeTransformer):
    # like the matcher's own hint remover (``data._contamination``) on purpose, and kept apart
    # from it: a disguise that called the matcher's code would test the matcher against itself
    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.returns = None
        self.generic_visit(node)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is None:
            return ast.Pass()
        return ast.Assign([node.target], node.value, lineno=node.lineno)


def strip_type_hints(code: str) -> str:
    """Annotations of arguments, returns and assignments removed; ``from typing`` imports kept
    (a rewrite rarely cleans them up). Re-emitted by ``ast.unparse``."""
    tree = ast.fix_missing_locations(_Unhinted().visit(ast.parse(code)))
    return ast.unparse(tree) + "\n"


class _Hinted(ast.NodeTransformer):
    def visit_arg(self, node: ast.arg) -> ast.arg:
        if node.annotation is None and node.arg not in ("self", "cls"):
            node.annotation = ast.Name("Any")
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        if node.returns is None:
            node.returns = ast.Name("Any")
        self.generic_visit(node)
        return node


def add_type_hints(code: str) -> str:
    """``Any`` on every argument and return that has no annotation."""
    tree = _Hinted().visit(ast.parse(code))
    return "from typing import Any\n\n" + ast.unparse(tree) + "\n"


def _append_target(stmt: ast.stmt) -> tuple[str, ast.expr] | None:
    """(list name, appended value) of ``name.append(value)``."""
    if (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and stmt.value.func.attr == "append"
        and isinstance(stmt.value.func.value, ast.Name)
        and len(stmt.value.args) == 1
    ):
        return stmt.value.func.value.id, stmt.value.args[0]
    return None


def _loop_as_comprehension(loop: ast.For) -> tuple[str, ast.ListComp] | None:
    """``for x in xs: [if c:] out.append(e)`` as (``out``, ``[e for x in xs if c]``)."""
    if loop.orelse or len(loop.body) != 1:
        return None
    body, conds = loop.body[0], []
    if isinstance(body, ast.If) and not body.orelse and len(body.body) == 1:
        conds, body = [body.test], body.body[0]
    found = _append_target(body)
    if found is None:
        return None
    name, value = found
    gen = ast.comprehension(target=loop.target, iter=loop.iter, ifs=conds, is_async=0)
    return name, ast.ListComp(elt=value, generators=[gen])


class _Comprehender(ast.NodeTransformer):
    """``out = []`` followed by an appending loop becomes ``out = [... for ...]``; a list
    comprehension assigned to a name becomes the loop."""

    def __init__(self, to_loops: bool) -> None:
        self.to_loops = to_loops

    def _body(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in body:
            prev = out[-1] if out else None
            if not self.to_loops and isinstance(stmt, ast.For) and isinstance(prev, ast.Assign):
                found = _loop_as_comprehension(stmt)
                target = prev.targets[0]
                if (
                    found
                    and isinstance(target, ast.Name)
                    and target.id == found[0]
                    and isinstance(prev.value, ast.List)
                    and not prev.value.elts
                ):
                    prev.value = found[1]
                    continue
            if self.to_loops and _is_listcomp_assign(stmt):
                out.extend(_comprehension_as_loop(stmt))  # type: ignore[arg-type]
                continue
            out.append(stmt)
        return out

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            value = getattr(node, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                setattr(node, field, self._body(value))
        return node


def _is_listcomp_assign(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and isinstance(stmt.value, ast.ListComp)
    )


def _comprehension_as_loop(stmt: ast.Assign) -> list[ast.stmt]:
    name = stmt.targets[0].id  # type: ignore[attr-defined]
    comp: ast.ListComp = stmt.value  # type: ignore[assignment]
    inner: ast.stmt = ast.Expr(
        ast.Call(ast.Attribute(ast.Name(name), "append"), [comp.elt], []),
    )
    for gen in reversed(comp.generators):
        for cond in reversed(gen.ifs):
            inner = ast.If(cond, [inner], [])
        inner = ast.For(gen.target, gen.iter, [inner], [])
    return [ast.Assign([ast.Name(name)], ast.List([])), inner]


def loops_as_comprehensions(code: str) -> str:
    """Appending loops rewritten as list comprehensions (``ast.unparse`` emits the result)."""
    tree = ast.fix_missing_locations(_Comprehender(False).visit(ast.parse(code)))
    return ast.unparse(tree) + "\n"


def comprehensions_as_loops(code: str) -> str:
    """List comprehensions assigned to a name rewritten as appending loops."""
    tree = ast.fix_missing_locations(_Comprehender(True).visit(ast.parse(code)))
    return ast.unparse(tree) + "\n"


def _free_names(stmt: ast.stmt) -> tuple[set[str], set[str]]:
    """(names read, names bound) anywhere in ``stmt``."""
    read, bound = set(), set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else read).add(node.id)
    return read, bound


def reorder_independent(code: str) -> str:
    """Adjacent simple assignments that neither read nor rebind each other's names swapped."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        i = 0
        while i + 1 < len(body):
            a, b = body[i], body[i + 1]
            if isinstance(a, ast.Assign | ast.AugAssign) and isinstance(
                b, ast.Assign | ast.AugAssign
            ):
                ra, ba = _free_names(a)
                rb, bb = _free_names(b)
                if not (ba & (rb | bb)) and not (bb & ra):
                    body[i], body[i + 1] = b, a
                    i += 2
                    continue
            i += 1
    return ast.unparse(tree) + "\n"


def wrap_lines(code: str, width: int = 40) -> str:
    """A formatter's wrapping (black, ruff format) at a narrow width: every bracket of a long
    line opened onto its own lines, one element a line, with a magic trailing comma."""
    out: list[str] = []
    for line in code.splitlines():
        out.extend(_wrap(line, width))
    return "\n".join(out) + "\n"


def _wrap(line: str, width: int) -> list[str]:
    if len(line) <= width or line.lstrip().startswith(("#", '"', "'")):
        return [line]
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline))
    except (tokenize.TokenError, SyntaxError):
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    # the first bracket at depth 0 whose contents hold a top-level comma
    depth, opened = 0, None
    for k, tok in enumerate(toks):
        if tok.string in "([{" and tok.type == tokenize.OP:
            if depth == 0 and opened is None:
                opened = k
            depth += 1
        elif tok.string in ")]}" and tok.type == tokenize.OP:
            depth -= 1
            if depth == 0 and opened is not None:
                return _split_bracket(line.strip(), toks, opened, k, indent)
    return [line]


def _split_bracket(
    text: str, toks: list[tokenize.TokenInfo], lo: int, hi: int, indent: str
) -> list[str]:
    start, end = toks[lo].end[1], toks[hi].start[1]
    inner, depth, parts, last = text[start:end], 0, [], 0
    for k in range(lo + 1, hi):
        s = toks[k].string
        if toks[k].type == tokenize.OP and s in "([{":
            depth += 1
        elif toks[k].type == tokenize.OP and s in ")]}":
            depth -= 1
        elif s == "," and depth == 0:
            cut = toks[k].start[1] - start
            parts.append(inner[last:cut].strip())
            last = cut + 1
    parts.append(inner[last:].strip())
    parts = [p for p in parts if p]
    if not parts or any(p.startswith(("for ", "if ")) for p in parts):
        return [indent + text]
    inside = [f"{indent}    {p}," for p in parts]
    return [indent + text[:start], *inside, indent + text[end:]]


def strip_doctest_prompts(code: str) -> str:
    """``>>> `` and ``... `` prompts removed from every line (examples left as bare calls)."""
    out = []
    for line in code.splitlines(keepends=True):
        body = line.lstrip()
        for prompt in (">>> ", "... ", ">>>"):
            if body.startswith(prompt):
                line = line[: len(line) - len(body)] + body[len(prompt) :]
                break
        out.append(line)
    return "".join(out)


def doctests_as_asserts(code: str) -> str:
    """Each ``>>> call`` with its expected line taken out of the docstring and appended after
    the code as ``assert call == expected``."""
    lines = code.splitlines()
    kept, asserts = [], []
    k = 0
    while k < len(lines):
        body = lines[k].strip()
        if body.startswith(">>>"):
            call = body[3:].strip()
            nxt = lines[k + 1].strip() if k + 1 < len(lines) else ""
            if nxt and not nxt.startswith(">>>") and not nxt.endswith('"""'):
                asserts.append(f"assert {call} == {nxt}")
                k += 2
                continue
            asserts.append(f"assert {call}")
            k += 1
            continue
        kept.append(lines[k])
        k += 1
    return "\n".join(kept) + "\n\n\n" + "\n".join(asserts) + "\n"


def with_tests(code: str, test: str, entry_point: str) -> str:
    """The item followed by its benchmark's test code and the call that runs it (how
    execution-checked datasets store a sample)."""
    return f"{code}\n\n{test}\n\ncheck({entry_point})\n"


def minify(code: str) -> str:
    """Docstrings and comments dropped, one-space indents, and every run of simple statements
    joined onto one line with semicolons (a compound statement's body of simple statements
    goes on its header's line)."""
    tree = ast.parse(drop_docstrings(code))
    return "\n".join(_mini(tree.body, 0)) + "\n"


def _mini(body: list[ast.stmt], depth: int) -> list[str]:
    pad = " " * depth
    out: list[str] = []
    run: list[str] = []
    for stmt in body:
        if _is_compound(stmt):
            if run:
                out.append(pad + ";".join(run))
                run = []
            out.extend(_mini_compound(stmt, depth))
        else:
            run.append(ast.unparse(stmt))
    if run:
        out.append(pad + ";".join(run))
    return out


def _is_compound(stmt: ast.stmt) -> bool:
    return hasattr(stmt, "body") and isinstance(stmt.body, list)


def _mini_compound(stmt: ast.stmt, depth: int) -> list[str]:
    body: list[ast.stmt] = stmt.body  # type: ignore[attr-defined]
    orelse: list[ast.stmt] = getattr(stmt, "orelse", []) or []
    if (
        isinstance(stmt, ast.If | ast.For | ast.While | ast.FunctionDef)
        and not orelse
        and not (isinstance(stmt, ast.FunctionDef) and stmt.decorator_list)
    ):
        shell = ast.unparse(_with_body(stmt, [ast.Pass()])).splitlines()
        header = shell[0] if len(shell) == 2 else None
        if header and not any(map(_is_compound, body)):
            return [" " * depth + header + ";".join(ast.unparse(s) for s in body)[:]]
    full = ast.unparse(stmt).splitlines()
    header = full[0]
    if len(full) > 1 and not orelse and not isinstance(stmt, ast.Try | ast.ClassDef):
        return [" " * depth + header, *_mini(body, depth + 1)]
    return [" " * depth + line for line in ast.unparse(stmt).splitlines()]


def _with_body(stmt: ast.stmt, body: list[ast.stmt]) -> ast.stmt:
    import copy

    shell = copy.copy(stmt)
    shell.body = body  # type: ignore[attr-defined]
    return shell


def number_lines(code: str, start: int = 1) -> str:
    """Each line prefixed with its number, as a code viewer or a forum post copies it."""
    lines = code.splitlines()
    w = len(str(start + len(lines)))
    return "".join(f"{n:>{w}}: {line}\n" for n, line in enumerate(lines, start))


def notebook(code: str, prose: str = "") -> str:
    """A Jupyter notebook (nbformat 4 JSON) with an optional markdown cell and the code as a
    code cell, as a scraped ``.ipynb`` file holds it."""
    import json

    def src(text: str) -> list[str]:
        return text.splitlines(keepends=True)

    cells = []
    if prose:
        cells.append({"cell_type": "markdown", "metadata": {}, "source": src(prose)})
    cells.append(
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "outputs": [],
            "source": src(code),
        }
    )
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1) + "\n"


def markdown_answer(code: str) -> str:
    """The code in a fenced block of an assistant's markdown answer, with prose around it."""
    return (
        "Sure! Here is an implementation that solves the problem.\n\n```python\n"
        f"{code.rstrip()}\n```\n\nThe function runs in linear time. Let me know if you have"
        " any questions!\n"
    )


def split_turns(code: str) -> tuple[str, str]:
    """The code cut in two at a line boundary near its middle: (first turn, second turn)."""
    lines = code.splitlines(keepends=True)
    half = len(lines) // 2
    return "".join(lines[:half]), "".join(lines[half:])


_HOMOGLYPHS = str.maketrans(
    "aeopcxyiAEOPCXHKMT",
    (
        "\u0430\u0435\u043e\u0440\u0441\u0445\u0443\u0456\u0410\u0415\u041e\u0420\u0421\u0425\u041d\u041a\u041c\u0422"
    ),
)


def homoglyph_rename(code: str, rng: random.Random, share: float = 1.0) -> str:
    """Latin letters of the names the code binds swapped for Cyrillic look-alikes (each name
    with probability ``share``): the text looks the same and still runs."""
    names = _defined_names(ast.parse(code))
    mapping = {n: n.translate(_HOMOGLYPHS) for n in names if rng.random() < share}
    return _retoken(code, mapping)


def _retoken(code: str, mapping: dict[str, str]) -> str:
    """``code`` with NAME tokens replaced per ``mapping``, everything else byte for byte."""
    lines = code.splitlines(keepends=True)
    edits = [
        t
        for t in tokenize.generate_tokens(io.StringIO(code).readline)
        if t.type == tokenize.NAME and t.string in mapping
    ]
    for t in reversed(edits):
        row, col = t.start
        line = lines[row - 1]
        lines[row - 1] = line[:col] + mapping[t.string] + line[t.end[1] :]
    return "".join(lines)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest) if rest else name


def _snake(name: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in name)
    return out.lstrip("_") or name


def camel_case(code: str) -> str:
    """Every name the code binds in camelCase (``close_elements`` -> ``closeElements``)."""
    return _retoken(code, {n: _camel(n) for n in _defined_names(ast.parse(code))})


def snake_case(code: str) -> str:
    """Every name the code binds in snake_case (``hasCloseElements`` -> ``has_close_elements``)."""
    return _retoken(code, {n: _snake(n) for n in _defined_names(ast.parse(code))})


def swap_quotes(code: str) -> str:
    """Single-quoted strings double-quoted and back (triple quotes included) where the swap
    needs no escaping."""
    lines = code.splitlines(keepends=True)
    toks = [
        t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type == tokenize.STRING
    ]
    for t in reversed(toks):
        s = t.string
        prefix = len(s) - len(s.lstrip("rbfuRBFU"))
        body = s[prefix:]
        q = body[:3] if body[:3] in ('"""', "'''") else body[0]
        other = q.replace('"', "\0").replace("'", '"').replace("\0", "'")
        inner = body[len(q) : -len(q)]
        if other[0] in inner or "\\" in inner:
            continue
        new = s[:prefix] + other + inner + other
        (r0, c0), (r1, c1) = t.start, t.end
        if r0 == r1:
            lines[r0 - 1] = lines[r0 - 1][:c0] + new + lines[r0 - 1][c1:]
        else:
            lines[r0 - 1] = lines[r0 - 1][:c0] + other + lines[r0 - 1][c0 + prefix + len(q) :]
            lines[r1 - 1] = lines[r1 - 1][: c1 - len(q)] + other + lines[r1 - 1][c1:]
    return "".join(lines)


_REMARKS = ("step", "note: keep it simple", "TODO check edge cases", "see above", "ok")


def comment_every_line(code: str, rng: random.Random) -> str:
    """A ``#`` comment line inserted after every line of code (outside strings)."""
    in_string = _string_lines(code)
    out = []
    for n, line in enumerate(code.splitlines(keepends=True), 1):
        out.append(line)
        if line.strip() and n not in in_string:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# {rng.choice(_REMARKS)}\n")
    return "".join(out)


def _string_lines(code: str) -> set[int]:
    """Lines a multi-line string starts on or runs through (a comment there would be text)."""
    out: set[int] = set()
    for t in tokenize.generate_tokens(io.StringIO(code).readline):
        if t.type == tokenize.STRING and t.end[0] > t.start[0]:
            out.update(range(t.start[0], t.end[0] + 1))
    return out


def html_escaped(code: str) -> str:
    """The code as a scraped web page's text holds it: ``<``, ``>``, ``&`` and quotes as HTML
    entities, inside a ``<pre><code>`` block."""
    import html

    return f"<pre><code>{html.escape(code)}</code></pre>\n"


_ZERO_WIDTH = "\u200b"


def zero_width(code: str, rng: random.Random) -> str:
    """A zero-width space inside every name the code binds longer than two letters: the text
    reads the same, each name is a different string."""
    names = [n for n in _defined_names(ast.parse(code)) if len(n) > 2]
    cut = {n: rng.randrange(1, len(n)) for n in names}
    return _retoken(code, {n: n[: cut[n]] + _ZERO_WIDTH + n[cut[n] :] for n in names})
