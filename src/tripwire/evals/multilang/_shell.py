"""Shell (bash), in MultiPL-E's convention: each argument is one word of text, the function
prints its result. Numbers and strings are their text, booleans ``true``/``false``, a list a
space-separated line, a list of lists newline-separated lines. A printed result is compared as
text, except floats, compared as numbers (exactly, or within the check's tolerance) with awk.
What text cannot carry faithfully is skipped: dicts, None, a list's string with whitespace or
empty (the words would run together), a result string ending in a newline (``$(...)`` strips
it), non-ASCII text.

The program is ``prog.sh`` (prompt, completion); bash runs ``tests.sh``, which never runs the
completion's code itself: each test sources ``prog.sh`` in a subshell that has closed the
harness's descriptors 3 and 4 first (bash cannot hide a variable or a descriptor from code in
its own shell). The harness reads the token from descriptor 4 only after every test passed."""

from __future__ import annotations

import json
from typing import Any

from tripwire.evals.multilang._extract import Problem, Skip
from tripwire.evals.multilang._language import CONTROL_MISSED, Language, Table
from tripwire.evals.multilang._lexer import Syntax
from tripwire.evals.multilang._signature import Signature
from tripwire.evals.multilang._values import PyType, is_finite, walk

FILE = "prog.sh"
SCALARS = ("int", "float", "bool", "str")
HARNESS_FILE = "tests.sh"
SPLIT = "\n#--tripwire: the tests file follows--\n"
"""Where the tests' text splits: ``prog.sh`` before it, ``tests.sh`` (the harness bash runs)
after it."""

# A bash function cannot be kept from a variable or a descriptor of its own shell, so no code
# of the completion runs in the harness's shell: each test runs the program in a subshell
# (``$(...)``, as MultiPL-E does for the call) that first closes descriptors 3 and 4 and then
# sources ``prog.sh`` (what it prints at the top level goes to stderr, not into the answer). The
# harness reads the run's token from descriptor 4 only at the end, after every test passed.
HARNESS = r"""
candidate() {
    __TW_NAME__ "$@"
}
__tw_report() { printf '%s' "$1" >&3; }
# the function runs in $(...), a child, whose CPU limit is the sandbox's backstop: a child
# stopped by it (SIGXCPU, or SIGKILL at its hard limit) stops the tests the same way: a timeout,
# not an empty answer
__tw_cpu() { [ "$1" != 152 ] && [ "$1" != 137 ] || kill -XCPU $$; }
__tw_pass() {
    local t=
    IFS= read -r -u 4 t || :
    exec 4<&-
    __tw_report "P$t"
}
__tw_near() {  # got want tolerance (0: exactly) inclusive: as numbers, word by word
    local g w i
    read -r -d '' -a g <<< "$1"
    read -r -d '' -a w <<< "$2"
    [ "${#g[@]}" = "${#w[@]}" ] || return 1
    for i in "${!w[@]}"; do
        [[ "${g[$i]}" =~ ^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$ ]] || return 1
        awk -v g="${g[$i]}" -v w="${w[$i]}" -v t="$3" -v inc="$4" 'BEGIN {
            d = g - w; if (d < 0) d = -d
            if (t == 0) exit !(d == 0)
            exit !(inc ? d <= t : d < t)
        }' || return 1
    done
}
"""

WRONG = {
    False: "__tw_wrong() {\n"
    '    local m="wrong answer: test $1: $2 printed $(printf %q "$3"), expected $4"\n'
    '    __tw_report "F${m:0:400}"\n    exit 1\n}\n',
    True: "__tw_wrong() {\n    __tw_pass\n    exit 0\n}\n",
}
END = {
    False: "__tw_pass\nexit 0\n",
    True: f"__tw_report {json.dumps('F' + CONTROL_MISSED)}\nexit 1\n",
}
RUN = "exec 3>&- 4<&-; . ./prog.sh >&2; candidate"
"""A test's subshell: no harness descriptor, the program, the call."""

DESCRIBE = {"int": "an integer", "float": "a floating point number", "bool": "true or false",
            "str": "a string"}  # fmt: skip


def quote(s: str) -> str:
    """``s`` as one shell word: single quotes, or ``$'...'`` for control characters."""
    if all(" " <= ch <= "~" for ch in s):
        return "'" + s.replace("'", "'\\''") + "'"
    out = []
    for ch in s:
        if ch in "\\'":
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(f"\\x{ord(ch):02x}")
    return "$'" + "".join(out) + "'"


def text(v: Any, t: PyType) -> str:
    """The text of a value: an argument's word, or what the function prints."""
    if t.kind == "bool":
        return "true" if v else "false"
    if t.kind == "float":
        return repr(v)  # an int passed where floats go stays an int (HumanEval/92 tells them apart)
    if t.kind in ("int", "str"):
        return str(v)
    inner = t.args[0] if t.kind == "list" else None
    if inner is not None and inner.kind in ("list", "tuple"):
        return "\n".join(text(row, inner) for row in v)
    parts = t.args if t.kind == "tuple" else [inner] * len(v)
    return " ".join(text(e, a) for e, a in zip(v, parts, strict=True))


def _describe(t: PyType) -> str:
    if t.kind in DESCRIBE:
        return DESCRIBE[t.kind]
    inner = t.args[0] if t.kind == "list" else None
    if inner is not None and inner.kind in ("list", "tuple"):
        return "a newline-separated, space-separated list"
    return "a space-separated list"


def _check_type(t: PyType, what: str) -> None:
    if t.kind in SCALARS:
        return
    if t.kind in ("dict", "optional", "none"):
        raise Skip("type: not expressible", f"{what} is {t}: no faithful shell text")
    rows = [t.args[0]] if t.kind == "list" else list(t.args)
    for row in rows:
        if row.kind in SCALARS:
            continue
        cells = [row.args[0]] if row.kind == "list" else list(row.args)
        if row.kind not in ("list", "tuple") or any(c.kind not in SCALARS for c in cells):
            raise Skip("type: not expressible", f"{what} is {t}: nested too deep for shell text")
        if any(c.kind == "float" for c in cells):
            raise Skip("type: not expressible", f"{what} is {t}: nested floats")


def _check_value(v: Any, t: PyType, what: str, printed: bool) -> None:
    if t.kind == "str":
        if not v.isascii() or "\0" in v:
            raise Skip("value: string", f"{what}: non-ASCII or NUL in a string")
        if printed and v.endswith("\n"):
            raise Skip("value: string", f"{what}: a printed string ending in a newline")
        return
    if t.kind == "int" and not -(2**63) <= v < 2**63:
        raise Skip("value: range", f"{what}: {v} is beyond bash's 64-bit integers")
    if t.kind in ("list", "tuple"):
        parts = t.args if t.kind == "tuple" else [t.args[0]] * len(v)
        for e, a in zip(v, parts, strict=True):
            if a.kind == "str" and (not e or any(ch.isspace() for ch in e)):
                raise Skip("value: string", f"{what}: a list's string is empty or has spaces")
            if a.kind in ("list", "tuple") and not e:
                raise Skip("value: list", f"{what}: an empty row of a list of lists")
            _check_value(e, a, what, printed)


class Shell(Language):
    name = "shell"
    suffix = "sh"
    tools = ("bash", "awk")
    stop = ("\n}",)
    # a case pattern's lone `)` closes nothing the lexer tracks (it pops only its own opener)
    syntax = Syntax("#", None, "'\"", raw_quotes="'", comment_after_space=True,
                    keywords=(("if", "fi"), ("do", "done"), ("case", "esac")))  # fmt: skip

    def check(self, problem: Problem, sig: Signature | None) -> None:
        assert sig is not None
        for i, t in enumerate(sig.params, 1):
            _check_type(t, f"${i}")
        _check_type(sig.returns, "the result")
        for case in problem.cases:
            if not is_finite((case.args, case.expected)):
                raise Skip("value: float", "inf or nan")
            for i, (a, t) in enumerate(zip(case.args, sig.params, strict=True), 1):
                _check_value(a, t, f"${i}", printed=False)
            _check_value(case.expected, sig.returns, "the result", printed=True)
            if any(isinstance(v, str) and "\0" in v for v in walk(case.args)):
                raise Skip("value: string", "NUL in an argument")

    def header(self, problem: Problem, sig: Signature | None, comment: list[str]) -> str:
        assert sig is not None
        lines = ["#!/bin/bash", *(f"# {ln}".rstrip() for ln in comment), "#"]
        lines += [f"# ${i} is {_describe(t)}" for i, t in enumerate(sig.params, 1)]
        lines.append(f"# Prints {_describe(sig.returns)}.")
        return "\n".join(lines) + f"\n{problem.entry_point}() {{\n"

    def show_call(self, problem: Problem, sig: Signature | None, args: tuple[Any, ...]) -> str:
        assert sig is not None
        words = [quote(text(a, t)) for a, t in zip(args, sig.params, strict=True)]
        return " ".join([problem.entry_point, *words])

    def show_value(self, v: Any, t: Any) -> str:
        return quote(text(v, t))

    def tests(self, problem: Problem, sig: Signature | None, control: bool) -> str:
        assert sig is not None
        out = [SPLIT, HARNESS.replace("__TW_NAME__", problem.entry_point), WRONG[control]]
        for i, case in enumerate(problem.cases, 1):
            words = " ".join(quote(text(a, t)) for a, t in zip(case.args, sig.params, strict=True))
            want = quote(text(case.expected, sig.returns))
            numeric = case.check == "approx" or "float" in str(sig.returns)
            if numeric:
                inclusive = int(case.inclusive)
                ok = f'__tw_near "$__tw_got" {want} {case.tolerance!r} {inclusive}'
            else:
                ok = f'[ "$__tw_got" = {want} ]'
            shown = quote(self.show_call(problem, sig, case.args))
            out.append(f"__tw_got=$({RUN} {words})\n__tw_cpu $?\n"
                       f"{ok} || __tw_wrong {i} {shown} \"$__tw_got\" {quote(want)}\n")  # fmt: skip
        out.append(END[control])
        return "".join(out)

    def oracle(self, problem: Problem, sig: Signature | None, table: Table) -> str:
        assert sig is not None
        out = []
        for args, result in table:
            conds = [f'[ "${i}" = {quote(text(a, t))} ]'
                     for i, (a, t) in enumerate(zip(args, sig.params, strict=True), 1)]  # fmt: skip
            printed = quote(text(result, sig.returns))
            out.append(f"    if {' && '.join(conds) or 'true'}; then printf '%s\\n' {printed}; "
                       "return; fi\n")  # fmt: skip
        return "".join(out) + '    echo "no table entry" >&2\n    return 1\n}\n'

    def executable(self, program: str):  # type: ignore[no-untyped-def]
        """Two files: ``prog.sh`` (prompt and completion), checked by ``bash -n``, and
        ``tests.sh``, the harness bash runs, which sources it in each test's subshell."""
        source, _, harness = program.rpartition(SPLIT)
        files = ((FILE, source), (HARNESS_FILE, harness))
        return files, ("bash", HARNESS_FILE), ("bash", "-n", FILE)
