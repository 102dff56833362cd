"""Programs in other languages: files, a compiler, a run command; the tests report a pass on
descriptor 3 with the run's token, read from descriptor 4. Real toolchains (node, g++, bash, perl),
real confinement."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tripwire.sandbox import Executable, Limits, Sandbox

# node's V8 reserves about 1 GB of address space before it runs a line
LIMITS = Limits(wall_s=10.0, cpu_s=2.0, memory_bytes=2 * 1024**3, nprocs=16)


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(workers=2, limits=LIMITS) as sandbox:
        yield sandbox


PASS_JS = (
    "{ const b = Buffer.alloc(64); const n = require('fs').readSync(4, b, 0, 64, null);\n"
    "  require('fs').writeSync(3, 'P' + b.toString('latin1', 0, n)); }\n"
)
CASES = {
    "node": ("p.js", "function f(x) { return x + 1; }\n", (
        "if (f(1) !== 2) { require('fs').writeSync(3, 'Fwrong answer: f(1) = ' + f(1)); "
        "process.exit(1); }\n" + PASS_JS), ("node", "p.js"), ()),
    "g++": ("p.cpp", "long f(long x) { return x + 1; }\n", (
        "#include <cstdlib>\n#include <cstring>\n#include <unistd.h>\n"
        "int main() {\n  if (f(1) != 2) { write(3, \"Fwrong answer\", 13); return 1; }\n"
        "  char t[64]; ssize_t n = read(4, t, sizeof t);\n"
        "  write(3, \"P\", 1); write(3, t, n > 0 ? n : 0); return 0;\n}\n"),
        ("./a.out",), ("g++", "-o", "a.out", "p.cpp")),
    "bash": ("p.sh", "f() { echo $(( $1 + 1 )); }\n", (
        "[ \"$(f 1)\" = 2 ] || { printf 'Fwrong answer' >&3; exit 1; }\n"
        "read -r -u 4 t; printf 'P%s' \"$t\" >&3\n"), ("bash", "p.sh"), ()),
    "perl": ("p.pl", "sub f { return $_[0] + 1; }\n", (
        "open(my $fh, '>&=', 3) or die;\n"
        "if (f(1) != 2) { print $fh 'Fwrong answer'; exit 1; }\n"
        "open(my $in, '<&=', 4) or die; my $t = <$in>;\n"
        "print $fh 'P' . $t; close $fh;\n"), ("perl", "p.pl"), ()),
}  # fmt: skip


def _job(tool: str, body: str | None = None, **kw) -> Executable:  # type: ignore[no-untyped-def]
    name, program, tests, run, build = CASES[tool]
    return Executable(((name, (program if body is None else body) + tests),), run, build, **kw)


@pytest.mark.parametrize("tool", sorted(CASES))
def test_each_toolchain_passes_a_right_program_and_fails_a_wrong_one(box, tool):
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed here")
    right, wrong = box.run_many([_job(tool), _job(tool, CASES[tool][1].replace("+ 1", "+ 2"))])
    assert right.verdict == "passed", right
    assert wrong.verdict == "failed" and wrong.message.startswith("wrong answer"), wrong


def test_compile_errors_crashes_and_loops_are_told_apart(box):
    compile_error = _job("g++", "long f(long x) { return y; }\n")
    crash = _job("node", "function f(x) { throw new Error('boom'); }\n")
    quick = Limits(wall_s=10, cpu_s=0.5, memory_bytes=2 * 1024**3)
    loop = _job("node", "function f(x) { while (true) {} }\n", limits=quick)
    forged_exit = _job("bash", "f() { exit 0; }\n")
    a, b, c, d = box.run_many([compile_error, crash, loop, forged_exit])
    assert a.verdict == "failed" and a.message.startswith("compile error:") and "y" in a.message
    assert b.verdict == "failed" and "exited with status" in b.message and "boom" in b.output
    assert c.verdict == "timeout" and "CPU limit of 0.5s" in c.message, c
    assert d.verdict == "failed", d  # exit 0 before the tests reported: no pass


def test_programs_cannot_read_the_benchmark_or_write_outside(tmp_path):
    program = (
        "const fs = require('fs');\n"
        "let read = false;\n"
        "try { fs.readdirSync(require.resolve.paths('x')[0]); } catch (e) {}\n"
        "for (const p of ['/proc/1/cmdline', '/root', '" + str(tmp_path) + "']) {\n"
        "  try { fs.readdirSync(p); read = true; } catch (e) {}\n"
        "  try { fs.readFileSync(p); read = true; } catch (e) {}\n"
        "}\n"
        "try { fs.writeFileSync('/tmp/tripwire-escape', 'x'); read = true; } catch (e) {}\n"
        "if (!read) { const b = Buffer.alloc(64); const n = fs.readSync(4, b, 0, 64, null);\n"
        "  fs.writeSync(3, 'P' + b.toString('latin1', 0, n)); }\n"
    )
    (tmp_path / "secret.txt").write_text("s3cret")
    with Sandbox(workers=1, limits=LIMITS) as fresh:
        r = fresh.run(Executable((("p.js", program),), ("node", "p.js")))
    assert r.verdict == "passed", r  # every read and write outside was refused


def test_the_compiler_is_not_the_programs_cpu_time(box):
    r = box.run(_job("g++"))
    assert r.verdict == "passed" and r.build_cpu_s > 0.01, r
    assert r.cpu_s < r.build_cpu_s  # a two-line program runs in far less than g++ takes
