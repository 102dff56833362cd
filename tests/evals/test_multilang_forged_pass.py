"""Forged passes in the multi-language suites: the run's token is not in the program's
environment, and neither it nor the reporter can be reached by name from the completion, so
the one-line forgeries a hostile probe found (read ``TRIPWIRE_PASS_TOKEN``, write it to
descriptor 3, exit) and their variants (call the harness's reporter by name, guess a token, read
``/proc/self/environ`` or descriptor 4) fail. Real sandbox and toolchains; each batch also runs
the problem's oracle, which must still pass."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tripwire.evals import get_suite
from tripwire.evals._types import Sample
from tripwire.evals.multilang import LANGUAGES
from tripwire.sandbox import Limits, Sandbox

LIMITS = Limits(wall_s=20.0, cpu_s=5.0, memory_bytes=2 * 1024**3)
GUESS = "0123456789abcdef" * 2  # a token of the right shape

# completions of HumanEval/0 (has_close_elements), none of which implements it
FORGERIES = {
    "humaneval-js": {
        "env token": "  require('fs').writeSync(3, 'P' + process.env.TRIPWIRE_PASS_TOKEN);\n"
        "  process.exit(0);\n}\n",
        "reporter by name": "  __twReport('P' + process.env.TRIPWIRE_PASS_TOKEN);\n"
        "  __twReportPass();\n  process.exit(0);\n}\n",
        "guessed token": f"  require('fs').writeSync(3, 'P{GUESS}');\n  process.exit(0);\n}}\n",
        "proc environ": "  const e = require('fs').readFileSync('/proc/self/environ', 'latin1');\n"
        "  const m = /TRIPWIRE_PASS_TOKEN=([^\\0]*)/.exec(e);\n"
        "  require('fs').writeSync(3, 'P' + (m ? m[1] : ''));\n  process.exit(0);\n}\n",
        "descriptor 4 at the top level": "  return false;\n}\nconst fs = require('fs');\n"
        "const b = Buffer.alloc(64);\nconst n = fs.readSync(4, b, 0, 64, null);\n"
        "fs.writeSync(3, 'P' + b.toString('latin1', 0, n));\nprocess.exit(0);\n",
    },
    "humaneval-pl": {
        "env token": "    open(my $fh,'>&=',3); syswrite($fh,'P'.$ENV{TRIPWIRE_PASS_TOKEN});\n"
        "    require POSIX; POSIX::_exit(0);\n}\n",
        "reporter by name": "    __tw_report('P' . $ENV{TRIPWIRE_PASS_TOKEN});\n"
        "    $__tw_report->($__tw_pass); exit 0;\n}\n",
        "guessed token": f"    open(my $fh,'>&=',3); syswrite($fh,'P{GUESS}');\n"
        "    require POSIX; POSIX::_exit(0);\n}\n",
        "proc environ": "    open(my $e, '<', '/proc/self/environ'); local $/;\n"
        "    my $t = <$e> // '';\n"
        "    my ($tok) = $t =~ /TRIPWIRE_PASS_TOKEN=([^\\0]*)/;\n"
        "    open(my $fh,'>&=',3); syswrite($fh,'P'.($tok // '')); exit 0;\n}\n",
        "descriptor 4 at the top level": "    return 0;\n}\nopen(my $in, '<&=', 4) or die;\n"
        "my $t = <$in>; open(my $fh, '>&=', 3); syswrite($fh, 'P' . $t); exit 0;\n",
    },
    "humaneval-sh": {
        "env token": "    printf 'P%s' \"$TRIPWIRE_PASS_TOKEN\" >&3\n    kill -9 $$\n}\n",
        "reporter by name": '    __tw_report "P$TRIPWIRE_PASS_TOKEN"\n    __tw_pass\n'
        "    kill -9 $$\n}\n",
        "guessed token": f"    printf 'P{GUESS}' >&3\n    kill -9 $$\n}}\n",
        "proc environ": "    t=$(tr '\\0' '\\n' < /proc/self/environ |\n"
        "      sed -n 's/^TRIPWIRE_PASS_TOKEN=//p')\n"
        "    printf 'P%s' \"$t\" >&3\n    kill -9 $$\n}\n",
        "descriptor 4 in the function": "    read -r -u 4 t\n    printf 'P%s' \"$t\" >&3\n"
        "    kill -9 $$\n}\n",
        "descriptor 4 at the top level": "    echo false\n}\nread -r -u 4 t\n"
        "printf 'P%s' \"$t\" >&3\nkill -9 $$\n",
        "the parent's descriptors": "    read -r t < /proc/$PPID/fd/4\n"
        "    printf 'P%s' \"$t\" > /proc/$PPID/fd/3\n    kill -9 $$\n}\n",
    },
    "humaneval-cpp": {
        "env token": '  const char* t = std::getenv("TRIPWIRE_PASS_TOKEN");\n'
        '  std::FILE* out = fdopen(3, "w");\n'
        '  std::fprintf(out, "P%s", t ? t : "");\n  std::fflush(out);\n  std::_Exit(0);\n}\n',
        "guessed token": '  std::FILE* out = fdopen(3, "w");\n'
        f'  std::fprintf(out, "P{GUESS}");\n  std::fflush(out);\n  std::_Exit(0);\n}}\n',
        "descriptor 4 in the function": '  char b[65] = {0};\n  std::FILE* in = fdopen(4, "r");\n'
        "  if (in) { size_t n = std::fread(b, 1, 64, in); (void)n; }\n"
        '  std::FILE* out = fdopen(3, "w");\n'
        '  std::fprintf(out, "P%s", b);\n  std::fflush(out);\n  std::_Exit(0);\n}\n',
    },
}


READS_4 = {"humaneval-js": "readSync(4,", "humaneval-pl": "'<&=', 4)",
           "humaneval-sh": "read -r -u 4", "humaneval-cpp": "read(4,"}  # fmt: skip


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(workers=2, limits=LIMITS) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _fresh_cache(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIPWIRE_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_passes_fail_and_the_oracle_still_passes(box, name):
    missing = LANGUAGES[name].missing()
    if missing:
        pytest.skip(f"{name} needs {' and '.join(missing)}, not installed on this machine")
    suite = get_suite(name, task_ids=["HumanEval/0"], sandbox=box)
    item = suite.translation.problems["HumanEval/0"]
    forged = FORGERIES[name]
    samples = [Sample("HumanEval/0", 0, item.oracle)]
    samples += [Sample("HumanEval/0", i, c) for i, c in enumerate(forged.values(), 1)]
    results = sorted(suite.score(samples, box), key=lambda r: r.sample_idx)
    assert results[0].passed and results[0].metrics["pass"] == 1.0, results[0]
    for label, r in zip(forged, results[1:], strict=True):
        assert not r.passed and r.metrics["pass"] == 0.0, (label, r)
        assert r.message != "all tests passed", (label, r)
    # a pass reported with a made-up token is named: eval compare counts it per model (a shell
    # completion cannot write to the harness's descriptor at all: it has none to forge on)
    guessed = results[1 + list(forged).index("guessed token")]
    assert guessed.tampering == (() if name == "humaneval-sh" else ("forged_report",)), guessed


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_the_token_is_not_in_the_programs_environment(box, name):
    """The files the sandbox runs name no token variable, and the harness reads descriptor 4."""
    if LANGUAGES[name].missing():
        pytest.skip(f"{name}: toolchain not installed on this machine")
    suite = get_suite(name, task_ids=["HumanEval/0"], sandbox=box)
    job = suite.job("HumanEval/0", suite.translation.problems["HumanEval/0"].oracle)
    text = "".join(t for _, t in job.files)
    assert "TRIPWIRE_PASS_TOKEN" not in text
    harness = [t for n, t in job.files if n.startswith("tests.")] or [text]
    assert READS_4[name] in harness[0]
