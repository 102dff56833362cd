"""Python syntax judged in a batch by ruff's parser (``_python_syntax``) must say what
``compile()`` says: on the compiler's own checks that a parser does not see, on CPython's limits,
on ways to silence ruff, and on mutants of real code written by a seeded mutator."""

from __future__ import annotations

import inspect
import random
import warnings

import pytest

from tripwire.data import RulePolicy
from tripwire.data._records import Record
from tripwire.data._ruff import ruff_check
from tripwire.data.checks import RecordContext
from tripwire.data.checks._static import StaticAnalysis

# What a parser accepts and CPython's compiler rejects, CPython's limits, and code both accept.
CASES = [
    "nonlocal x\n",
    "return 1\n",
    "return 1  # noqa\n",
    "return 1  # NoQA: F706\n",
    "# ruff: noqa\nyield 1\n",
    "yield 1\n",
    "break\n",
    "continue\n",
    "await f()\n",
    "def f(a, a): pass\n",
    "def f():\n    from os import *\n",
    "__debug__ = 1\n",
    "def f():\n    x = 1\n    global x\n",
    "x = *a\n",
    "a, *b, *c = d\n",
    "from __future__ import braces\n",
    "import os\nfrom __future__ import annotations\n",
    "'doc'\nfrom __future__ import annotations\n",
    "class A:\n    nonlocal y\n",
    "def f():\n    nonlocal q\n",
    "def f(x):\n    nonlocal x\n",
    "def f():\n    global x\n    nonlocal x\n",
    "async def f():\n    yield from x\n",
    "async def g():\n    yield 1\n    return 2\n",
    "for x in y:\n    pass\nelse:\n    break\n",
    "while 1:\n    def g():\n        break\n",
    "def f():\n    async with x: pass\n",
    "def f():\n    [x async for x in y]\n",
    "async def f():\n    lambda: await x\n",
    "for i in x:\n    try:\n        pass\n    except* E:\n        break\n",
    "def f():\n\tif x:\n        pass\n\tpass\n",
    "x = " + "1" * 5000 + "\n",
    "x = 'a\x00b'\n",
    "\ufeff# coding: utf8\nprint(1)\n",
    "x = " + "(" * 250 + "1" + ")" * 250 + "\n",
    "x = " + "1+" * 3000 + "1\n",
    "x = " + "-" * 3000 + "1\n",
    "x = " + "not " * 3000 + "1\n",
    "x = " + "a." * 20000 + "b\n",
    "".join("    " * i + "for x in y:\n" for i in range(22)) + "    " * 22 + "pass\n",
    "".join(" " * i + "if x:\n" for i in range(105)) + " " * 105 + "pass\n",
    "from __future__ import barry_as_FLUFL\nx = 1 <> 2\n",
    "match x:\n    case a:\n        pass\n    case b:\n        pass\n",
    "type X = int\n",
    'x = f"{d["a"]}"\n',
    "print 'hi'\n",
    "x = 0777\n",
    "def f(*, **k): pass\n",
    "f(**a, *b)\n",
    "[x for x in range(3)] = 1\n",
    # accepted by both
    "x = " + "(" * 150 + "1" + ")" * 150 + "\n",
    "x = " + "1+" * 1000 + "1\n",
    "assert (x, 'msg')\n",
    "x = 1\r\ny = 2\r\n",
    "é = 1\n",
    "async def f():\n    [x async for x in y]\n",
    "def f():\n    return\n    yield\n",
    "".join("    " * i + "if x:\n" for i in range(30)) + "    " * 30 + "pass\n",
    "try:\n    pass\nexcept* E:\n    pass\n",
]


def _compiles(code: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(code, "<record>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


def _batch_verdicts(codes: list[str]) -> list[bool]:
    contexts = [
        RecordContext(Record(id=k, line=k + 1, kind="code", code=c, language="python"))
        for k, c in enumerate(codes)
    ]
    StaticAnalysis(RulePolicy()).begin(contexts)
    return [ctx.analysis("python").ok for ctx in contexts]


def test_hostile_and_limit_cases_agree_with_compile():
    got = _batch_verdicts(CASES)
    wrong = [c[:60] for c, ok in zip(CASES, got, strict=True) if ok != _compiles(c)]
    assert not wrong
    # the cases test something: most are errors (49 on 3.11; newer Pythons accept a few, such
    # as type aliases and nested quotes)
    assert sum(not ok for ok in got) >= 40


def _mutants(n: int, seed: int) -> list[str]:
    """Real functions from the standard library, each broken or twisted by one edit."""
    import argparse
    import email.message
    import json.decoder
    import textwrap

    rng = random.Random(seed)
    sources = [
        inspect.getsource(obj)
        for mod in (argparse, textwrap, json.decoder, email.message)
        for _, obj in inspect.getmembers(mod, inspect.isfunction)
        if obj.__module__ == mod.__name__
    ]
    inserts = [
        "return x", "yield x", "await x", "break", "continue", "nonlocal x", "global x",
        "from os import *", "from __future__ import annotations", "del 1", "x = *y",
        "async with x: pass", "lambda: (yield)", "print 'x'", "a, *b, *c = d",
    ]  # fmt: skip
    out = []
    while len(out) < n:
        lines = rng.choice(sources).splitlines()
        k = rng.randrange(len(lines))
        edit = rng.randrange(6)
        if edit == 0:  # a statement the compiler may reject, at this line's indentation
            pad = lines[k][: len(lines[k]) - len(lines[k].lstrip())]
            lines.insert(k, pad + rng.choice(inserts))
        elif edit == 1 and lines[k]:  # one character gone
            i = rng.randrange(len(lines[k]))
            lines[k] = lines[k][:i] + lines[k][i + 1 :]
        elif edit == 2:  # a line gone
            del lines[k]
        elif edit == 3:  # indentation shifted
            lines[k] = " " + lines[k]
        elif edit == 4:  # an async function, its returns kept
            lines = [ln.replace("def ", "async def ", 1) for ln in lines]
        else:  # the function as a module's body: returns and yields stand outside it
            lines = [ln[4:] if ln.startswith("    ") else ln for ln in lines[1:]]
        out.append("\n".join(lines) + "\n")
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_mutants_of_real_code_agree_with_compile(seed):
    codes = _mutants(300, seed)
    expected = [_compiles(c) for c in codes]
    assert 0.2 < sum(expected) / len(codes) < 0.8  # both verdicts are well represented
    got = _batch_verdicts(codes)
    wrong = [c for c, e, g in zip(codes, expected, got, strict=True) if e != g]
    assert not wrong, wrong[0]


def test_a_ruff_that_cannot_be_trusted_leaves_syntax_to_compile(monkeypatch):
    """A ruff whose output no longer reads as expected (its canary not flagged) settles
    nothing: every record is compiled."""
    from tripwire.data import _ruff

    monkeypatch.setattr(_ruff, "_CANARY", "x = 1\n")
    reports = ruff_check(["x = 1\n", "return 1\n"], [False, False], RulePolicy())
    assert [r.syntax_suspect for r in reports] == [None, None]
    contexts = [
        RecordContext(Record(id=0, line=1, kind="code", code="return 1\n", language="python"))
    ]
    StaticAnalysis(RulePolicy()).begin(contexts)
    assert contexts[0].analysis("python").parser == "compile"
    assert not contexts[0].analysis("python").ok


def test_compile_rules_are_findings_only_where_the_policy_selects_them():
    code = "def f():\n    pass\n\n\nreturn 1\n"
    [default] = ruff_check([code], [False], RulePolicy())
    [ignored] = ruff_check([code], [False], RulePolicy.parse(["F706=ignore"]))
    assert default.syntax_suspect and ignored.syntax_suspect
    assert "F706" in {f.rule for f in default.findings}
    assert "F706" not in {f.rule for f in ignored.findings}


def test_deep_expressions_cpython_compiles_do_not_stop_the_audit(tmp_path):
    """An expression nested 2,800 deep compiles; ruff's threads overflowed their stack on it
    and aborted the whole audit with a traceback. Now it is analysed, and a record ruff still
    cannot read is isolated and flagged while the rest of its batch keeps its findings."""
    import json

    from tripwire.cli import main

    deep = "x = " + "1+" * 2800 + "1\n"
    records = [deep, "x = " + "-" * 2950 + "1\n", "import os\n\nos.system(input())\n"]
    data = tmp_path / "deep.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": k, "text": c, "language": "python"}) + "\n"
            for k, c in enumerate(records)
        )
    )
    findings = tmp_path / "f.jsonl"
    code = main(["data", "audit", str(data), "--findings", str(findings), "--no-tests",
                 "--json", str(tmp_path / "s.json")])  # fmt: skip
    assert code in (0, 1)
    rows = {r["id"]: r for r in map(json.loads, findings.read_text().splitlines())}
    assert "insecure_code" in rows[2]["reasons"]


def test_a_record_ruff_cannot_analyse_is_isolated_and_flagged():
    """ruff aborts on nesting far past CPython's limit (the audit compiles such records first,
    and never gives them to ruff); given one anyway, the batch is split until it stands alone,
    flagged, with compile() to judge its syntax, and the others keep their findings."""
    codes = ["import os\n\nos.system(input())\n", "x = " + "1+" * 300_000 + "1\n", "y = 1\n"]
    reports = ruff_check(codes, [False] * 3, RulePolicy(), threads=1)
    assert "S605" in {f.rule for f in reports[0].findings}
    [crash] = reports[1].findings
    assert crash.rule == "py/analyser-crashed" and "stack overflow" in crash.message
    assert reports[1].syntax_suspect is True  # compile() decides its syntax
    assert reports[2].findings == [] and reports[2].syntax_suspect is False
