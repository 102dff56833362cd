"""C++ (g++, C++17): MultiPL-E's shape with ``double`` for Python's float (its precision).
int -> ``long``, str -> ``std::string``, list -> ``std::vector``, tuple -> ``std::tuple``, dict
-> ``std::map``, Optional -> ``std::optional``. The tests compare with ``==`` (exact, as Python's
``==``) or within the check's tolerance. The prompt includes a fixed set of standard headers
(what model code commonly uses; ``bits/stdc++.h`` would cost three times the compile time).

One file: main() reads the run's token from descriptor 4 (and closes it) before the first test,
into a static defined after the completion, so the function cannot name it. C++ cannot keep it
from a hostile program: a static initializer of its own runs before main() and can read
descriptor 4, and any code can read the process's memory (README)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from tripwire.evals.multilang._extract import Problem, Skip
from tripwire.evals.multilang._language import CONTROL_MISSED, Language, Table
from tripwire.evals.multilang._lexer import Syntax
from tripwire.evals.multilang._signature import Signature
from tripwire.evals.multilang._values import PyType, is_finite, walk

FILE = "prog.cpp"
HEADERS = ("algorithm", "climits", "cmath", "cstdlib", "map", "numeric", "optional", "set",
           "sstream", "string", "tuple", "unordered_map", "unordered_set", "vector")  # fmt: skip
# C++ keywords a Python parameter may be called (HumanEval/160's `operator`): renamed with _
_KEYWORDS = """alignas alignof and and_eq asm auto bitand bitor bool break case catch char char16_t
char32_t class compl const constexpr const_cast continue decltype default delete do double
dynamic_cast else enum explicit export extern false float for friend goto if inline int long
mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected public
register reinterpret_cast return short signed sizeof static static_assert static_cast struct
switch template this thread_local throw true try typedef typeid typename union unsigned using
virtual void volatile wchar_t while xor xor_eq main"""
KEYWORDS = frozenset(_KEYWORDS.split())

# The run's token is read from descriptor 4 (then closed) at the start of main(), into a static
# of the tests: defined after the completion, it has no name the completion's code can use (a
# C++ program can still read its own memory, or read descriptor 4 from a static initializer of
# its own, which runs before main(): see the README).
HARNESS = r"""
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>
static std::string __tw_token;
static void __tw_read_token() {
  char b[64];
  ssize_t n;
  while (__tw_token.size() < 64 && (n = read(4, b, sizeof b)) != 0) {
    if (n > 0) __tw_token.append(b, (size_t)n);
    else if (errno != EINTR) break;
  }
  close(4);
}
static void __tw_report(const std::string& s) { ssize_t r = write(3, s.data(), s.size()); (void)r; }
static std::string __tw_show(bool v) { return v ? "true" : "false"; }
static std::string __tw_show(long v) { return std::to_string(v); }
static std::string __tw_show(double v) {
  std::ostringstream o;
  o.precision(17);
  o << v;
  return o.str();
}
static std::string __tw_show(const std::string& v) { return "\"" + v + "\""; }
template <class T> std::string __tw_show(const std::optional<T>& v);
template <class T> std::string __tw_show(const std::vector<T>& v);
template <class K, class V> std::string __tw_show(const std::map<K, V>& v);
template <class... T> std::string __tw_show(const std::tuple<T...>& v);
template <class T> std::string __tw_show(const std::optional<T>& v) {
  return v ? __tw_show(*v) : std::string("std::nullopt");
}
template <class T> std::string __tw_show(const std::vector<T>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); i++) s += (i ? ", " : "") + __tw_show((T)v[i]);
  return s + "}";
}
template <class K, class V> std::string __tw_show(const std::map<K, V>& v) {
  std::string s = "{";
  for (const auto& kv : v)
    s += (s.size() > 1 ? ", {" : "{") + __tw_show(kv.first) + ", " + __tw_show(kv.second) + "}";
  return s + "}";
}
template <class... T> std::string __tw_show(const std::tuple<T...>& v) {
  std::string s;
  std::apply([&](const auto&... e) { ((s += (s.empty() ? "" : ", ") + __tw_show(e)), ...); }, v);
  return "{" + s + "}";
}
"""

WRONG = {
    False: "static void __tw_wrong(int i, const char* call, const std::string& got, "
    "const char* want) {\n"
    '  __tw_report(("Fwrong answer: test " + std::to_string(i) + ": " + call + " returned " + got'
    ' + ", expected " + want).substr(0, 400));\n  std::exit(1);\n}\n',
    True: "static void __tw_wrong(int, const char*, const std::string&, const char*) {\n"
    '  __tw_report("P" + __tw_token);\n  std::exit(0);\n}\n',
}
END = {
    False: '  __tw_report("P" + __tw_token);\n  return 0;\n',
    True: f"  __tw_report({json.dumps('F' + CONTROL_MISSED)});\n  return 1;\n",
}


def ctype(t: PyType) -> str:
    simple = {"int": "long", "float": "double", "bool": "bool", "str": "std::string"}
    if t.kind in simple:
        return simple[t.kind]
    inner = [ctype(a) for a in t.args]
    if t.kind == "list":
        return f"std::vector<{inner[0]}>"
    if t.kind == "tuple":
        return f"std::tuple<{', '.join(inner)}>"
    if t.kind == "dict":
        return f"std::map<{inner[0]}, {inner[1]}>"
    if t.kind == "optional":
        return f"std::optional<{inner[0]}>"
    raise Skip("type: not expressible", f"{t} has no C++ type")


def string(s: str) -> str:
    out = []
    for ch in s:
        if ch in '\\"?':
            out.append("\\" + ch)  # \? keeps trigraphs out of -std=c++17
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):03o}")
    return '"' + "".join(out) + '"'


def value(v: Any, t: PyType) -> str:
    """``v`` as a C++ expression of exactly type ``t``."""
    k = t.kind
    if k == "optional":
        inner = "std::nullopt" if v is None else value(v, t.args[0])
        return f"std::optional<{ctype(t.args[0])}>({inner})"
    if k == "bool":
        return "true" if v else "false"
    if k == "int":
        return f"{v}L" if v != -(2**63) else "(-9223372036854775807L - 1)"
    if k == "float":
        return repr(float(v))
    if k == "str":
        return f"std::string({string(v)})"
    if k == "list":
        return f"{ctype(t)}({{{', '.join(value(e, t.args[0]) for e in v)}}})"
    if k == "tuple":
        return f"{ctype(t)}({', '.join(value(e, a) for e, a in zip(v, t.args, strict=True))})"
    if k == "dict":
        pairs = ", ".join(f"{{{value(a, t.args[0])}, {value(b, t.args[1])}}}" for a, b in v.items())
        return f"{ctype(t)}({{{pairs}}})"
    raise Skip("type: not expressible", f"{t} has no C++ type")


def _candidate(problem: Problem, sig: Signature) -> str:
    """``candidate`` as a lambda of the prompt's exact signature: a plain ``auto candidate =
    strlen`` is ambiguous with the C library's ``strlen``."""
    params = ", ".join(f"{ctype(t)} a{i}" for i, t in enumerate(sig.params))
    args = ", ".join(f"a{i}" for i in range(len(sig.params)))
    return (f"  auto candidate = []({params}) -> {ctype(sig.returns)} "
            f"{{ return {problem.entry_point}({args}); }};\n")  # fmt: skip


def _name(name: str) -> str:
    return name + "_" if name in KEYWORDS else name


class Cpp(Language):
    name = "cpp"
    suffix = "cpp"
    tools = ("g++",)
    stop = ("\n}",)
    syntax = Syntax("//", ("/*", "*/"), "'\"")
    words: ClassVar[dict[str, str]] = {"True": "true", "False": "false", "None": "std::nullopt"}

    def check(self, problem: Problem, sig: Signature | None) -> None:
        assert sig is not None
        for t in (*sig.params, sig.returns):
            ctype(t)
        for case in problem.cases:
            both = (case.args, case.expected)
            if not is_finite(both):
                raise Skip("value: float", "inf or nan")
            for v in walk(both):
                if isinstance(v, int) and not isinstance(v, bool) and not -(2**63) <= v < 2**63:
                    raise Skip("value: range", f"{v} does not fit a 64-bit long")
                if isinstance(v, str) and (not v.isascii() or "\0" in v):
                    raise Skip("value: string", "non-ASCII or NUL: C++ strings are bytes")

    def header(self, problem: Problem, sig: Signature | None, comment: list[str]) -> str:
        assert sig is not None
        includes = "".join(f"#include <{h}>\n" for h in HEADERS)
        lines = "".join(f"// {ln}".rstrip() + "\n" for ln in comment)
        params = ", ".join(f"{ctype(t)} {_name(p)}"
                           for p, t in zip(problem.params, sig.params, strict=True))  # fmt: skip
        return f"{includes}{lines}{ctype(sig.returns)} {problem.entry_point}({params}) {{\n"

    def show_call(self, problem: Problem, sig: Signature | None, args: tuple[Any, ...]) -> str:
        assert sig is not None
        shown = ", ".join(value(a, t) for a, t in zip(args, sig.params, strict=True))
        return f"{problem.entry_point}({shown})"

    def show_value(self, v: Any, t: Any) -> str:
        return value(v, t)

    def tests(self, problem: Problem, sig: Signature | None, control: bool) -> str:
        assert sig is not None
        out = [HARNESS, WRONG[control], "int main() {\n  __tw_read_token();\n",
               _candidate(problem, sig)]  # fmt: skip
        for i, case in enumerate(problem.cases, 1):
            args = ", ".join(value(a, t) for a, t in zip(case.args, sig.params, strict=True))
            if case.check == "approx":
                want = repr(float(case.expected))
                ok = f"std::abs(got - {want}) {'<=' if case.inclusive else '<'} {case.tolerance!r}"
            else:
                want = value(case.expected, sig.returns)
                ok = f"got == {want}"
            shown = json.dumps(self.show_call(problem, sig, case.args))
            out.append(f"  {{ auto got = candidate({args});\n    if (!({ok})) __tw_wrong({i}, "
                       f"{shown}, __tw_show(got), {json.dumps(want)}); }}\n")  # fmt: skip
        out += [END[control], "}\n"]
        return "".join(out)

    def oracle(self, problem: Problem, sig: Signature | None, table: Table) -> str:
        assert sig is not None
        out = []
        for args, result in table:
            conds = [f"{_name(p)} == {value(a, t)}"
                     for p, a, t in zip(problem.params, args, sig.params, strict=True)]  # fmt: skip
            when = " && ".join(conds) or "true"
            out.append(f"    if ({when}) return {value(result, sig.returns)};\n")
        return "".join(out) + "    std::abort();  // no table entry\n}\n"

    def executable(self, program: str):  # type: ignore[no-untyped-def]
        return ((FILE, program),), ("./prog",), ("g++", "-std=c++17", "-o", "prog", FILE)
