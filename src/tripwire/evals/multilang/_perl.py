"""Perl 5, in MultiPL-E's convention: lists and tuples are array references, dicts hash
references, None ``undef``, booleans 1 and "" (Perl has none). The tests compare by the
expected value's Python type: numbers numerically, strings as strings, booleans by truth,
``undef`` by definedness, containers element by element.

The program is ``prog.pl`` (prompt, completion); perl runs ``tests.pl``, which reads the run's
token from descriptor 4 and closes it before it loads the program with ``do``. The token, the
reporter and the checks are lexicals (``my``, coderefs) of ``tests.pl``, which code compiled from
another file cannot name; the ``B`` module's introspection can still reach them (README)."""

from __future__ import annotations

from typing import Any, ClassVar

from tripwire.evals.multilang._extract import Problem, Skip
from tripwire.evals.multilang._language import CONTROL_MISSED, Language, Table
from tripwire.evals.multilang._lexer import Syntax
from tripwire.evals.multilang._signature import Signature
from tripwire.evals.multilang._values import is_finite, walk

FILE = "prog.pl"
HARNESS_FILE = "tests.pl"
SPLIT = "\n#--tripwire: the tests file follows--\n"
"""Where the tests' text splits: before it, what ends ``prog.pl``; after it, ``tests.pl``, the
harness perl runs."""

# The harness is a file of its own that reads the run's token from descriptor 4 (then closes
# it) before it loads the program (``do``), so no code of the completion runs while the token
# can be read. A file's lexicals are invisible to code compiled from another file: the token,
# the reporter and the checks are ``my`` variables (coderefs) of this file, which no name in
# the program reaches (no sub of the harness is in the symbol table but ``candidate``).
HARNESS = r"""use Scalar::Util ();
my $__tw_pass = do {
    open(my $in, '<&=', 4) or die "descriptor 4: $!";
    local $/;
    my $t = <$in>;
    close($in);
    'P' . (defined $t ? $t : '');
};
open(my $__tw_fh, '>&=', 3) or die "descriptor 3: $!";
my $__tw_report = sub { syswrite($__tw_fh, $_[0]); };
my $__tw_eq;
$__tw_eq = sub {
    my ($g, $w) = @_;
    my ($t, $v) = @$w;
    return !defined($g) if $t eq 'u';
    return 0 if !defined($g);
    return !ref($g) && (($g ? 1 : 0) == $v) if $t eq 'b';
    return !ref($g) && Scalar::Util::looks_like_number($g) && $g == $v if $t eq 'n';
    return !ref($g) && $g eq $v if $t eq 's';
    if ($t eq 'l') {
        return 0 unless ref($g) eq 'ARRAY' && @$g == @$v;
        for my $i (0 .. $#$v) { return 0 unless $__tw_eq->($g->[$i], $v->[$i]); }
        return 1;
    }
    return 0 unless ref($g) eq 'HASH' && keys(%$g) == keys(%$v);
    for my $k (keys %$v) { return 0 unless exists $g->{$k} && $__tw_eq->($g->{$k}, $v->{$k}); }
    return 1;
};
my $__tw_near = sub {
    my ($g, $w, $tol, $inclusive) = @_;
    return 0 unless defined($g) && !ref($g) && Scalar::Util::looks_like_number($g);
    return $inclusive ? abs($g - $w) <= $tol : abs($g - $w) < $tol;
};
my $__tw_show;
$__tw_show = sub {
    my ($x) = @_;
    return 'undef' unless defined $x;
    return '[' . join(', ', map { $__tw_show->($_) } @$x) . ']' if ref($x) eq 'ARRAY';
    return '{' . join(', ', map { "$_ => " . $__tw_show->($x->{$_}) } sort keys %$x) . '}'
        if ref($x) eq 'HASH';
    return "$x" if Scalar::Util::looks_like_number($x);
    return '"' . $x . '"';
};
"""
LOAD = "do './prog.pl';\ndie $@ if $@;\n"

WRONG = {
    False: "my $__tw_wrong = sub {\n    my ($i, $call, $got, $want) = @_;\n"
    '    $__tw_report->(substr("Fwrong answer: test $i: $call returned " . $__tw_show->($got) . '
    '", expected $want", 0, 400));\n    exit 1;\n};\n',
    True: "my $__tw_wrong = sub {\n    $__tw_report->($__tw_pass);\n    exit 0;\n};\n",
}


def string(s: str) -> str:
    out = []
    for ch in s:
        if ch in '\\"$@':
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(f"\\x{{{ord(ch):02x}}}")
    return '"' + "".join(out) + '"'


END = {
    False: "$__tw_report->($__tw_pass);\nexit 0;\n",
    True: f"$__tw_report->({string('F' + CONTROL_MISSED)});\nexit 1;\n",
}


def value(v: Any) -> str:
    if v is None:
        return "undef"
    if isinstance(v, bool):
        return "1" if v else '""'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(e) for e in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{string(k)} => {value(e)}" for k, e in v.items()) + "}"
    raise TypeError(type(v).__name__)


def tagged(v: Any) -> str:
    """The expected value with its Python type at every level, for ``__tw_eq``."""
    if v is None:
        return "['u', undef]"
    if isinstance(v, bool):
        return f"['b', {int(v)}]"
    if isinstance(v, int | float):
        return f"['n', {value(v)}]"
    if isinstance(v, str):
        return f"['s', {string(v)}]"
    if isinstance(v, list | tuple):
        return "['l', [" + ", ".join(tagged(e) for e in v) + "]]"
    return "['d', {" + ", ".join(f"{string(k)} => {tagged(e)}" for k, e in v.items()) + "}]"


class Perl(Language):
    name = "perl"
    suffix = "pl"
    tools = ("perl",)
    version_args = ("-e", "print $^V")
    stop = ("\n}",)
    syntax = Syntax("#", None, "'\"", raw_quotes="'", comment_after_space=True)
    typed = False
    words: ClassVar[dict[str, str]] = {"True": "1", "False": '""', "None": "undef"}

    def check(self, problem: Problem, sig: Signature | None) -> None:
        for case in problem.cases:
            both = (case.args, case.expected)
            if not is_finite(both):
                raise Skip("value: float", "inf or nan")
            for v in walk(both):
                if isinstance(v, int) and not isinstance(v, bool) and not -(2**63) <= v < 2**63:
                    raise Skip("value: range", f"{v} does not fit Perl's 64-bit integers")
                if isinstance(v, str) and not v.isascii():
                    raise Skip("value: string", "non-ASCII: Perl strings here are bytes")
            if any(isinstance(d, dict) and not all(isinstance(k, str) for k in d)
                   for d in _containers(both)):  # fmt: skip
                raise Skip("type: dict keys", "hash keys are strings in Perl")

    def header(self, problem: Problem, sig: Signature | None, comment: list[str]) -> str:
        lines = "".join(f"# {ln}".rstrip() + "\n" for ln in comment)
        params = ", ".join(f"${p}" for p in problem.params)
        return f"{lines}sub {problem.entry_point} {{\n    my({params}) = @_;\n"

    def show_call(self, problem: Problem, sig: Signature | None, args: tuple[Any, ...]) -> str:
        return f"{problem.entry_point}({', '.join(value(a) for a in args)})"

    def show_value(self, v: Any, t: Any) -> str:
        return value(v)

    def tests(self, problem: Problem, sig: Signature | None, control: bool) -> str:
        """``1;`` ending ``prog.pl``, then (after :data:`SPLIT`) the harness file, which loads
        it and calls the function."""
        out = ["1;\n", SPLIT, HARNESS, WRONG[control], LOAD,
               f"my $candidate = sub {{ return {problem.entry_point}(@_); }};\n"]  # fmt: skip
        for i, case in enumerate(problem.cases, 1):
            call = f"$candidate->({', '.join(value(a) for a in case.args)})"
            want = value(case.expected)
            if case.check == "approx":
                ok = f"$__tw_near->($__tw_got, {want}, {case.tolerance!r}, {int(case.inclusive)})"
            else:
                ok = f"$__tw_eq->($__tw_got, {tagged(case.expected)})"
            shown = string(self.show_call(problem, sig, case.args))
            wrong = f"$__tw_wrong->({i}, {shown}, $__tw_got, {string(want)})"
            out.append(f"{'my ' if i == 1 else ''}$__tw_got = {call};\n{wrong} unless {ok};\n")
        out.append(END[control])
        return "".join(out)

    def oracle(self, problem: Problem, sig: Signature | None, table: Table) -> str:
        rows = "".join(f"        [{value(list(args))}, {value(out)}],\n" for args, out in table)
        return (
            "    my $__tw_key;\n"
            "    $__tw_key = sub {\n"
            "        my ($x) = @_;\n"
            "        return 'u' unless defined $x;\n"
            "        return '[' . join(',', map { $__tw_key->($_) } @$x) . ']'"
            " if ref($x) eq 'ARRAY';\n"
            "        return '{' . join(',', map { \"$_:\" . $__tw_key->($x->{$_}) } sort keys %$x)"
            " . '}' if ref($x) eq 'HASH';\n"
            "        return 's' . length($x) . ':' . $x;\n    };\n"
            f"    my @__tw_table = (\n{rows}    );\n"
            "    my $__tw_want = $__tw_key->([@_]);\n"
            "    for my $row (@__tw_table) {\n"
            "        return $row->[1] if $__tw_key->($row->[0]) eq $__tw_want;\n    }\n"
            '    die "no table entry for $__tw_want";\n}\n'
        )

    def executable(self, program: str):  # type: ignore[no-untyped-def]
        """Two files: ``prog.pl`` (prompt and completion), checked by ``perl -c``, and
        ``tests.pl``, the harness perl runs, which loads it."""
        source, _, harness = program.rpartition(SPLIT)
        files = ((FILE, source), (HARNESS_FILE, harness))
        return files, ("perl", HARNESS_FILE), ("perl", "-c", FILE)


def _containers(v: Any) -> Any:
    if isinstance(v, dict):
        yield v
        for e in v.values():
            yield from _containers(e)
    elif isinstance(v, list | tuple):
        for e in v:
            yield from _containers(e)
