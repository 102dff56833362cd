"""Test values and their types: what a HumanEval ``check`` passes and expects, as Python values,
and the Python type each target language must express.

Values are read from the check's source with ``ast`` and folded when they are constant
expressions (``3 * 19``, ``'abc' + 'de'``, ``2.0 / 3.0``, ``tuple([1, 2])``): the folded value is
exactly what Python compared, so rendering it as a literal is faithful. Anything else (a name, a
call to a helper) is not a literal and its problem is skipped.
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass
from typing import Any

_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}  # fmt: skip
# folding stays cheap and exact: no 2 ** 10**9, no 'a' * 10**9
_MAX_EXPONENT = 256
_MAX_LENGTH = 100_000


class NotLiteral(Exception):
    """An expression whose value is not a constant of the check's source."""


def literal(node: ast.expr) -> Any:
    """The value of a constant expression (raises NotLiteral naming what is not constant)."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bytes | complex) or node.value is Ellipsis:
            raise NotLiteral(f"a {type(node.value).__name__} constant")
        return node.value
    if isinstance(node, ast.List):
        return [literal(e) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise NotLiteral("a dict unpacking")
        return {literal(k): literal(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = literal(node.operand)
        if not _is_number(value):
            raise NotLiteral("a sign on a non-number")
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _fold(node.op, literal(node.left), literal(node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in ("tuple", "list") and len(node.args) == 1 and not node.keywords:
            inner = literal(node.args[0])
            if isinstance(inner, list | tuple | str):
                return tuple(inner) if node.func.id == "tuple" else list(inner)
        raise NotLiteral(f"a call to {node.func.id}()")
    if isinstance(node, ast.Name):
        raise NotLiteral(f"the name {node.id!r}")
    raise NotLiteral(f"a {type(node).__name__} expression")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _fold(op: ast.operator, a: Any, b: Any) -> Any:
    if isinstance(op, ast.Pow) and (not _is_number(b) or abs(b) > _MAX_EXPONENT):
        raise NotLiteral("a large power")
    if isinstance(op, ast.Mult):
        seq, n = (a, b) if isinstance(a, str | list | tuple) else (b, a)
        if (
            isinstance(seq, str | list | tuple)
            and isinstance(n, int)
            and len(seq) * n > _MAX_LENGTH
        ):
            raise NotLiteral("a long repetition")
    try:
        value = _BINARY[type(op)](a, b)
    except (TypeError, ZeroDivisionError, OverflowError) as exc:
        raise NotLiteral(f"an expression Python rejects ({exc})") from exc
    return value


@dataclass(frozen=True)
class PyType:
    """A Python type as the tests use it: ``int``, ``float``, ``bool``, ``str``, ``none``,
    ``list`` (one element type), ``tuple`` (one type per position), ``dict`` (key, value),
    ``optional`` (a value or None), or ``unknown`` (no value says: the elements of ``[]``)."""

    kind: str
    args: tuple[PyType, ...] = ()

    def __str__(self) -> str:
        if not self.args:
            return self.kind
        return f"{self.kind}[{', '.join(map(str, self.args))}]"

    @property
    def known(self) -> bool:
        """Every part of the type is known (no ``unknown`` inside)."""
        return self.kind != "unknown" and all(a.known for a in self.args)


INT, FLOAT, BOOL, STR, NONE = (PyType(k) for k in ("int", "float", "bool", "str", "none"))
UNKNOWN = PyType("unknown")


class Mixed(Exception):
    """Two values of one position have types no single type of a typed language holds."""


def type_of(value: Any) -> PyType:
    """The type of a test value (bool before int: ``True`` is an int to Python)."""
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    if isinstance(value, str):
        return STR
    if value is None:
        return NONE
    if isinstance(value, list):
        return PyType("list", (unify_all(type_of(v) for v in value),))
    if isinstance(value, tuple):
        return PyType("tuple", tuple(type_of(v) for v in value))
    if isinstance(value, dict):
        keys = unify_all(type_of(k) for k in value)
        return PyType("dict", (keys, unify_all(type_of(v) for v in value.values())))
    raise Mixed(f"a {type(value).__name__} value")


def unify_all(types: Any) -> PyType:
    out = UNKNOWN
    for t in types:
        out = unify(out, t)
    return out


def unify(a: PyType, b: PyType) -> PyType:
    """The one type holding values of both (int and float make float, None makes optional);
    raises Mixed when there is none."""
    if a == b:
        return a
    if a.kind == "unknown":
        return b
    if b.kind == "unknown":
        return a
    if {a.kind, b.kind} == {"int", "float"}:
        return FLOAT
    if a.kind == "none" or b.kind == "none":
        other = b if a.kind == "none" else a
        return other if other.kind == "optional" else PyType("optional", (other,))
    if a.kind == "optional" or b.kind == "optional":
        inner = [t.args[0] if t.kind == "optional" else t for t in (a, b)]
        return PyType("optional", (unify(*inner),))
    if a.kind == b.kind == "tuple" and len(a.args) != len(b.args):
        # tuples of several lengths are used as sequences (HumanEval/148's planets): a list
        return PyType("list", (unify_all((*a.args, *b.args)),))
    if {a.kind, b.kind} == {"list", "tuple"}:
        seq = a if a.kind == "tuple" else b
        other = b if seq is a else a
        return PyType("list", (unify_all((*seq.args, *other.args)),))
    same_shape = a.kind == b.kind == "tuple" and len(a.args) == len(b.args)
    if (a.kind == b.kind and a.kind in ("list", "dict")) or same_shape:
        return PyType(a.kind, tuple(unify(x, y) for x, y in zip(a.args, b.args, strict=True)))
    raise Mixed(f"{a} and {b}")


_HINT_NAMES = {"int": INT, "float": FLOAT, "bool": BOOL, "str": STR, "None": NONE}


def from_hint(node: ast.expr | None) -> PyType:
    """A type hint as a PyType; what it leaves open (``list``, ``Any``, no hint) is unknown,
    for the test values to say."""
    if node is None:
        return UNKNOWN
    if isinstance(node, ast.Constant) and node.value is None:
        return NONE
    if isinstance(node, ast.Name):
        if node.id in _HINT_NAMES:
            return _HINT_NAMES[node.id]
        bare = {"list": ("list", 1), "List": ("list", 1), "dict": ("dict", 2), "Dict": ("dict", 2)}
        if node.id in bare:
            kind, n = bare[node.id]
            return PyType(kind, (UNKNOWN,) * n)
        return UNKNOWN  # Any, tuple of unknown length, a class: the values decide
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        name = node.value.id.lower()
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        inner = [from_hint(p) for p in parts]
        if name == "list" and len(inner) == 1:
            return PyType("list", tuple(inner))
        if name == "dict" and len(inner) == 2:
            return PyType("dict", tuple(inner))
        open_ended = any(isinstance(p, ast.Constant) and p.value is ... for p in parts)
        if name == "tuple" and not open_ended:
            return PyType("tuple", tuple(inner))
        if name == "optional" and len(inner) == 1:
            return PyType("optional", tuple(inner))
    return UNKNOWN


def is_finite(value: Any) -> bool:
    """No inf or nan anywhere in the value (no target literal means the same thing)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(is_finite(v) for v in value)
    if isinstance(value, dict):
        return all(is_finite(k) and is_finite(v) for k, v in value.items())
    return True


def walk(value: Any) -> Any:
    """Every scalar inside a value (keys of dicts included)."""
    if isinstance(value, list | tuple):
        for v in value:
            yield from walk(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from walk(k)
            yield from walk(v)
    else:
        yield value


def sample(t: PyType) -> Any:
    """Some value of type ``t`` (what a perturbed ``None`` or empty container becomes)."""
    simple = {"int": 0, "float": 0.0, "bool": True, "str": "x", "unknown": 0, "none": 0}
    if t.kind in simple:
        return simple[t.kind]
    if t.kind == "optional":
        return sample(t.args[0])
    if t.kind == "list":
        return [sample(t.args[0])]
    if t.kind == "tuple":
        return tuple(sample(a) for a in t.args)
    return {sample(t.args[0]): sample(t.args[1])}


def perturb(value: Any, t: PyType | None = None, tolerance: float = 0.0) -> Any:
    """A value of the same type that no faithful comparison takes for ``value``: a number moved
    by more than ``tolerance``, a string lengthened, a bool flipped, None given a value, a
    container's first part perturbed (or a part added to an empty one). ``t``: the type the
    value must keep (None: the value's own)."""
    t = t or type_of(value)
    if t.kind == "optional":
        t = t.args[0] if value is not None else t
    if value is None:
        return sample(t.args[0] if t.kind == "optional" else t)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        step = 1 + 2 * tolerance
        return value + (step if isinstance(value, float) or t.kind == "float" else int(step))
    if isinstance(value, str):
        return value + "x"
    args = t.args if t.kind in ("list", "tuple", "dict") else type_of(value).args
    if isinstance(value, list):
        inner = args[0] if args else UNKNOWN
        return [perturb(value[0], inner), *value[1:]] if value else [sample(inner)]
    if isinstance(value, tuple):
        return (perturb(value[0], args[0] if args else None), *value[1:]) if value else (0,)
    if isinstance(value, dict):
        if not value:
            return {sample(args[0]): sample(args[1])} if args else {"x": 0}
        first = next(iter(value))
        return {**value, first: perturb(value[first], args[1] if args else None)}
    raise TypeError(f"cannot perturb a {type(value).__name__}")
