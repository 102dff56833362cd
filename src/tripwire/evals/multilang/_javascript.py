"""JavaScript (node): MultiPL-E's shape. Python lists and tuples become arrays, dicts objects
with string keys, None ``undefined`` (a result of ``null`` counts too), numbers numbers; the
tests compare structurally and strictly (``true`` is not ``1``)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from tripwire.evals.multilang._extract import Problem, Skip
from tripwire.evals.multilang._language import CONTROL_MISSED, Language, Table
from tripwire.evals.multilang._lexer import Syntax
from tripwire.evals.multilang._signature import Signature
from tripwire.evals.multilang._values import is_finite, walk

MAX_SAFE = 2**53 - 1
FILE = "prog.js"

HARNESS = r"""
const __twFs = require('fs');
function __twEq(got, want) {
  if (want === undefined) return got === undefined || got === null;
  if (Array.isArray(want)) {
    return Array.isArray(got) && got.length === want.length &&
      want.every((w, i) => __twEq(got[i], w));
  }
  if (typeof want === 'object') {
    if (got === null || typeof got !== 'object' || Array.isArray(got)) return false;
    const keys = Object.keys(want);
    return Object.keys(got).length === keys.length &&
      keys.every((k) => Object.prototype.hasOwnProperty.call(got, k) && __twEq(got[k], want[k]));
  }
  return got === want;
}
function __twNear(got, want, tol, inclusive) {
  if (typeof got !== 'number') return false;
  return inclusive ? Math.abs(got - want) <= tol : Math.abs(got - want) < tol;
}
function __twShow(v) {
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s;
  } catch (e) {
    return String(v);
  }
}
function __twReport(text) { __twFs.writeSync(3, text); }
"""

WRONG = {
    False: "function __twWrong(i, call, got, want) {\n"
    "  __twReport(('Fwrong answer: test ' + i + ': ' + call + ' returned ' + __twShow(got) +\n"
    "    ', expected ' + want).slice(0, 400));\n  process.exit(1);\n}\n",
    True: "function __twWrong(i, call, got, want) {\n"
    "  __twReport('P' + process.env.TRIPWIRE_PASS_TOKEN);\n  process.exit(0);\n}\n",
}
END = {
    False: "__twReport('P' + process.env.TRIPWIRE_PASS_TOKEN);\n",
    True: f"__twReport({json.dumps('F' + CONTROL_MISSED)});\nprocess.exit(1);\n",
}


def value(v: Any) -> str:
    if v is None:
        return "undefined"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(e) for e in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {value(e)}" for k, e in v.items()) + "}"
    raise TypeError(type(v).__name__)


class JavaScript(Language):
    name = "javascript"
    suffix = "js"
    tools = ("node",)
    stop = ("\nfunction ", "\n/*", "\n//", "\nconsole.log")
    syntax = Syntax("//", ("/*", "*/"), "'\"`", regex_literals=True)
    typed = False
    words: ClassVar[dict[str, str]] = {"True": "true", "False": "false", "None": "undefined"}

    def check(self, problem: Problem, sig: Signature | None) -> None:
        for case in problem.cases:
            for v in walk((case.args, case.expected)):
                if isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_SAFE:
                    raise Skip("value: range", f"{v} is beyond JavaScript's exact integers")
                if isinstance(v, str) and any(ord(ch) > 0xFFFF for ch in v):
                    raise Skip("value: string", "characters beyond the BMP count twice in JS")
            if not is_finite((case.args, case.expected)):
                raise Skip("value: float", "inf or nan")
            for d in _dicts((case.args, case.expected)):
                if not all(isinstance(k, str) for k in d):
                    raise Skip("type: dict keys", "object keys are strings in JavaScript")

    def header(self, problem: Problem, sig: Signature | None, comment: list[str]) -> str:
        lines = "".join(f"// {ln}".rstrip() + "\n" for ln in comment)
        return f"{lines}function {problem.entry_point}({', '.join(problem.params)}){{\n"

    def show_call(self, problem: Problem, sig: Signature | None, args: tuple[Any, ...]) -> str:
        return f"{problem.entry_point}({', '.join(value(a) for a in args)})"

    def show_value(self, v: Any, t: Any) -> str:
        return value(v)

    def tests(self, problem: Problem, sig: Signature | None, control: bool) -> str:
        out = [HARNESS, WRONG[control], f"const candidate = {problem.entry_point};\nlet __twGot;\n"]
        for i, case in enumerate(problem.cases, 1):
            call = f"candidate({', '.join(value(a) for a in case.args)})"
            want = value(case.expected)
            if case.check == "approx":
                ok = f"__twNear(__twGot, {want}, {case.tolerance!r}, {str(case.inclusive).lower()})"
            else:
                ok = f"__twEq(__twGot, {want})"
            shown = json.dumps(self.show_call(problem, sig, case.args))
            out.append(f"__twGot = {call};\nif (!{ok}) __twWrong({i}, {shown}, __twGot, "
                       f"{json.dumps(want)});\n")  # fmt: skip
        out.append(END[control])
        return "".join(out)

    def oracle(self, problem: Problem, sig: Signature | None, table: Table) -> str:
        rows = "".join(f"    [{value(list(args))}, {value(out)}],\n" for args, out in table)
        return (
            "  const __twTable = new Map();\n"
            f"  for (const [__twArgs, __twOut] of [\n{rows}  ]) {{\n"
            "    const __twKey = JSON.stringify(__twArgs);\n"
            "    if (!__twTable.has(__twKey)) __twTable.set(__twKey, __twOut);\n  }\n"
            f"  const __twKey = JSON.stringify([{', '.join(problem.params)}]);\n"
            "  if (!__twTable.has(__twKey)) throw new Error('no table entry for ' + __twKey);\n"
            "  return __twTable.get(__twKey);\n}\n"
        )

    def executable(self, program: str):  # type: ignore[no-untyped-def]
        return ((FILE, program),), ("node", FILE), ("node", "--check", FILE)


def _dicts(v: Any) -> Any:
    if isinstance(v, dict):
        yield v
        for e in v.values():
            yield from _dicts(e)
    elif isinstance(v, list | tuple):
        for e in v:
            yield from _dicts(e)
