"""JavaScript (node): MultiPL-E's shape. Python lists and tuples become arrays, dicts objects
with string keys, None ``undefined`` (a result of ``null`` counts too), numbers numbers; the
tests compare structurally and strictly (``true`` is not ``1``).

The program is ``prog.js`` (prompt, completion, ``module.exports`` of the function); node runs
``tests.js``, which reads the run's token from descriptor 4 and closes it before it ``require``s
the program, and keeps the token, the reporter and the checks in one closure. No name in the
program reaches them; what a hostile program can still do (``v8``/``inspector``, patching what
it returns) is in the README."""

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
HARNESS_FILE = "tests.js"
SPLIT = "\n//--tripwire: the tests file follows--\n"
"""Where the tests' text splits: before it, what ends ``prog.js`` (its export); after it,
``tests.js``, the harness node runs."""

# The harness is a module of its own that reads the run's token from descriptor 4 (then closes
# it) before it loads the program, so no code of the completion runs while the token can be
# read. The token lives in a Buffer of its own (never the shared pool, never a string), the
# reporter and every function the checks use are locals of one closure, captured before the
# program is loaded (a program that rebinds Array.isArray or fs.writeSync does not change them).
HARNESS = r"""'use strict';
(function () {
  const __twFs = require('fs');
  const __twWriteSync = __twFs.writeSync, __twExit = process.exit.bind(process);
  const __twPass = Buffer.alloc(65);
  __twPass[0] = 0x50;  // 'P'
  let __twN = 1;
  for (;;) {
    let r;
    try {
      r = __twFs.readSync(4, __twPass, __twN, __twPass.length - __twN, null);
    } catch (e) {
      if (e.code === 'EAGAIN') continue;
      throw e;
    }
    if (r === 0) break;
    __twN += r;
    if (__twN === __twPass.length) break;
  }
  __twFs.closeSync(4);
  const __twIsArray = Array.isArray, __twKeys = Object.keys, __twApply = Reflect.apply;
  const __twHasOwn = Object.prototype.hasOwnProperty, __twAbs = Math.abs;
  const __twJson = JSON.stringify, __twString = String;
  function __twReport(text) { __twWriteSync(3, text); }
  function __twReportPass() { __twWriteSync(3, __twPass, 0, __twN); }
  function __twEq(got, want) {
    if (want === undefined) return got === undefined || got === null;
    if (__twIsArray(want)) {
      if (!__twIsArray(got) || got.length !== want.length) return false;
      for (let i = 0; i < want.length; i++) if (!__twEq(got[i], want[i])) return false;
      return true;
    }
    if (typeof want === 'object') {
      if (got === null || typeof got !== 'object' || __twIsArray(got)) return false;
      const keys = __twKeys(want);
      if (__twKeys(got).length !== keys.length) return false;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        if (!__twApply(__twHasOwn, got, [k]) || !__twEq(got[k], want[k])) return false;
      }
      return true;
    }
    return got === want;
  }
  function __twNear(got, want, tol, inclusive) {
    if (typeof got !== 'number') return false;
    return inclusive ? __twAbs(got - want) <= tol : __twAbs(got - want) < tol;
  }
  function __twShow(v) {
    try {
      const s = __twJson(v);
      return s === undefined ? __twString(v) : s;
    } catch (e) {
      return __twString(v);
    }
  }
"""

WRONG = {
    False: "  function __twWrong(i, call, got, want) {\n"
    "    const m = 'Fwrong answer: test ' + i + ': ' + call + ' returned ' + __twShow(got) +\n"
    "      ', expected ' + want;\n"
    "    __twReport(m.length > 400 ? m.slice(0, 400) : m);\n    __twExit(1);\n  }\n",
    True: "  function __twWrong(i, call, got, want) {\n"
    "    __twReportPass();\n    __twExit(0);\n  }\n",
}
END = {
    False: "  __twReportPass();\n  __twExit(0);\n})();\n",
    True: f"  __twReport({json.dumps('F' + CONTROL_MISSED)});\n  __twExit(1);\n}})();\n",
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
        """``module.exports`` of the function, then (after :data:`SPLIT`) the harness module,
        which loads the program and calls the function from its own closure."""
        out = [f"module.exports = {problem.entry_point};\n", SPLIT, HARNESS, WRONG[control],
               "  const candidate = require('./prog.js');\n  let __twGot;\n"]  # fmt: skip
        for i, case in enumerate(problem.cases, 1):
            call = f"candidate({', '.join(value(a) for a in case.args)})"
            want = value(case.expected)
            if case.check == "approx":
                ok = f"__twNear(__twGot, {want}, {case.tolerance!r}, {str(case.inclusive).lower()})"
            else:
                ok = f"__twEq(__twGot, {want})"
            shown = json.dumps(self.show_call(problem, sig, case.args))
            out.append(f"  __twGot = {call};\n  if (!{ok}) return __twWrong({i}, {shown}, "
                       f"__twGot, {json.dumps(want)});\n")  # fmt: skip
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
        """Two files: ``prog.js`` (prompt, completion, its export), checked by ``node --check``,
        and ``tests.js``, the harness node runs, which loads it."""
        source, _, harness = program.rpartition(SPLIT)
        files = ((FILE, source), (HARNESS_FILE, harness))
        return files, ("node", HARNESS_FILE), ("node", "--check", FILE)


def _dicts(v: Any) -> Any:
    if isinstance(v, dict):
        yield v
        for e in v.values():
            yield from _dicts(e)
    elif isinstance(v, list | tuple):
        for e in v:
            yield from _dicts(e)
