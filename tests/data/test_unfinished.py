"""``syntax_error`` versus ``truncated``, one rule for every parsed language: functions of the
installed packages broken in the middle (complete code after the error, with or without a final
newline) are syntax errors, never truncated; cut inside an unfinished construct, truncated."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tripwire.data import AuditConfig, analyse, audit
from tripwire.data._unfinished import ends_unfinished
from tripwire.faults import Broken, breakage_set

FENCE = {"python": "python", "javascript": "javascript", "c": "c", "shell": "bash"}


@pytest.fixture(scope="module")
def broken() -> list[Broken]:
    return breakage_set(24, seed=2)


def _verdict(b: Broken) -> str | None:
    a = analyse(b.code, b.language)
    if a.ok:
        return None
    return "truncated" if ends_unfinished(b.code, b.language, a) else "syntax_error"


def test_the_set_covers_languages_and_both_faults(broken):
    kinds = Counter((b.language, b.expected) for b in broken)
    for language in ("python", "c", "javascript"):
        for expected in ("syntax_error", "truncated", None):
            assert kinds[language, expected] >= 3, kinds
    middles = [b for b in broken if b.expected == "syntax_error"]
    assert any(not b.code.endswith("\n") for b in middles)
    assert any(b.code.endswith("\n") for b in broken if b.expected == "truncated")


def test_each_record_gets_the_reason_of_its_fault(broken, tmp_path):
    records = []
    for k, b in enumerate(broken):
        # A cut mid-line inside a closed fence gains a newline and may then parse (``x.ap``):
        # such records are stored as code files, where the cut shows.
        if k % 2 and b.how != "cut mid-line":
            response = f"Here it is:\n\n```{FENCE[b.language]}\n{b.code.rstrip()}\n```\n"
            records.append({"id": k, "prompt": "Finish this.", "response": response})
        else:
            records.append({"id": k, "text": b.code, "language": b.language})
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    audit([data], config=AuditConfig(workers=1, run_tests=False), findings=tmp_path / "f.jsonl")
    rows = [json.loads(x) for x in (tmp_path / "f.jsonl").read_text().splitlines()]
    wrong = []
    for b, row in zip(broken, rows, strict=True):
        faults = {"syntax_error", "truncated"} & set(row["reasons"])
        if faults != ({b.expected} if b.expected else set()):
            wrong.append((b.language, b.how, b.origin, row["reasons"]))
    # one rule read from the text cannot see every author's intent (C's backslash line splice
    # outside a macro is an error to tree-sitter, so a cut after it reads as a syntax error):
    # at most one record in 40 may be misread (measured: 3 of 292 over seeds 0-3, all cuts
    # read as syntax errors; the record is removed either way). The set is drawn from the files
    # this machine has installed, so two misreads may fall in one draw of 72 (npm 11's own
    # packages: a cut inside a trailing comment, a cut after an open callback); the rate
    # itself is held over four draws below.
    assert len(wrong) <= max(2, len(broken) // 40), wrong


def test_the_rule_holds_on_the_text_itself():
    pooled = [b for seed in range(4) for b in breakage_set(24, seed=seed)]
    confusion = Counter((b.expected, _verdict(b)) for b in pooled)
    misread = confusion["syntax_error", "truncated"] + confusion["truncated", "syntax_error"]
    assert misread <= len(pooled) // 40, confusion
    assert confusion[None, None] == sum(b.expected is None for b in pooled)


@pytest.mark.parametrize(
    ("language", "code", "expected"),
    [
        # the case: a ':' or ')' missing on line 11 of 14, no final newline
        ("python", "def f(x):\n" + "    x += 1\n" * 9 + "    if x > 2\n" + "    y = 1\n" * 3, "s"),
        ("python", "def f(x):\n" + "    y = g(x\n" + "    return y\n\nprint(1)", "s"),
        ("python", "def f(x):\n    y = g(x, 1", "t"),
        ("python", "def f(x):\n    '''Doc\n    more", "t"),
        ("python", "def f(x):\n    y = x +", "t"),
        ("javascript", "function a(x) {\n  if (x) {\n    foo(x, 1)", "t"),
        ("javascript", "function a() {\n  if (x) {\n    f();\n  g();\n}\nfunction b() {}", "s"),
        ("javascript", "function a() {\n  /* a comment\n   that goes on\n", "t"),
        ("c", "int a(void) {\n  if (x) {\n    f();\n  return 1;\n}\nint b(void) {}", "s"),
        ("c", "int a(void) {\n#ifdef X\n  f(1,\n", "t"),
        ("shell", 'f() {\n  if [ -n "$x" ]; then\n    echo hi\n  echo bye\n}\ng() {\n  :\n}', "s"),
        ("shell", 'f() {\n  case "$1" in\n  a)\n    echo "hi', "t"),
    ],
)
def test_cut_or_broken_by_example(language, code, expected):
    assert (
        _verdict(Broken(code, language, None, "", ""))
        == {
            "s": "syntax_error",
            "t": "truncated",
        }[expected]
    )
