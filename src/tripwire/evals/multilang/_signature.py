"""The types of a problem's parameters and result: the Python hints where the prompt has them
(most HumanEval prompts have none), refined by every value the tests pass and expect, the way
MultiPL-E types its translations. ``int`` and ``float`` values make ``float``; ``None`` and a
value make ``optional``; values no single type holds (``[4, {}, 'a']``) make no signature, which
only the statically typed languages need."""

from __future__ import annotations

from dataclasses import dataclass

from tripwire.evals.multilang._extract import Problem, Skip
from tripwire.evals.multilang._values import FLOAT, Mixed, PyType, from_hint, type_of, unify


@dataclass(frozen=True)
class Signature:
    params: tuple[PyType, ...]
    returns: PyType


def signature(problem: Problem) -> Signature:
    """The problem's types (raises Skip ``type: mixed`` when a position's values share none,
    ``type: unknown`` when nothing says what a part is, such as the elements of ``[]``)."""
    params = []
    for i, (name, hint) in enumerate(zip(problem.params, problem.param_hints, strict=True)):
        t = _unified(from_hint(hint), (type_of(c.args[i]) for c in problem.cases), name)
        params.append(t)
    result = (FLOAT if c.check == "approx" else type_of(c.expected) for c in problem.cases)
    returns = _unified(from_hint(problem.return_hint), result, "the result")
    for name, t in (*zip(problem.params, params, strict=True), ("the result", returns)):
        if not t.known:
            raise Skip("type: unknown", f"{name}: {t} (no test value says what it holds)")
    return Signature(tuple(params), returns)


def _unified(hint: PyType, values: object, what: str) -> PyType:
    t = hint
    try:
        for v in values:  # type: ignore[attr-defined]
            t = unify(t, v)
    except Mixed as exc:
        raise Skip("type: mixed", f"{what}: values of types {exc}") from exc
    return t
