"""Python static analysis with ruff: one ``ruff check`` per batch of records, not one per record.

ruff has no library API; it is fast when given many files at once (it parses them in parallel),
so a shard's Python records are written as files to a scratch folder (in memory where
``/dev/shm`` exists) and checked in one call. A ``# noqa`` in a record is honoured: it is its
authors' reviewed decision (the findings they silenced in the installed packages are mostly
analyser blind spots: string annotations, names made at run time). Records that are excerpts
of a file (a code record with no import of its own: its names come from the rest of the file)
go to a folder where undefined names are not reported (``per-file-ignores``); every other
record (an answer, a module) is expected to define what it uses.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from tripwire.data._policy import RulePolicy
from tripwire.errors import UnavailableError

EXCERPT_IGNORES = ("F821", "F822")
"""Undefined names: in an excerpt of a file they are defined elsewhere in it."""

COMPILE_RULES = (
    "F404", "F406", "F407", "F621", "F622", "F701", "F702", "F704", "F706",
    "PLE0115", "PLE0117", "PLE0118", "PLE1142", "PLE1700",
)  # fmt: skip
"""Rules whose findings CPython's compiler rejects as syntax (``return`` or ``await`` outside
a function, ``nonlocal`` without a binding, a late ``__future__`` import, two starred targets):
ruff's parser accepts such code and reports it through these rules, so every run selects them,
whatever the policy, to judge syntax (``_python_syntax``); the policy still decides whether
they are findings."""

ANALYSER_CRASHED = "py/analyser-crashed"
"""The finding of a record ruff fails on (not a ruff rule: tripwire's own)."""
OWN_RULES = (ANALYSER_CRASHED,)

_CANARY = "def (:\n"
"""A file every run checks: a run that does not call it a syntax error is not trusted to
judge syntax (a ruff whose output reads differently)."""


@dataclass(frozen=True)
class RuffFinding:
    rule: str
    line: int
    column: int
    message: str
    url: str


@dataclass
class RuffReport:
    """What one ruff run said about one source."""

    findings: list[RuffFinding]
    """The policy's rules' findings (syntax errors left out)."""
    syntax_suspect: bool | None
    """ruff's parser rejected it, or a ``COMPILE_RULES`` rule fired: CPython may reject it
    (``compile()`` decides). None when the run could not be trusted to say (its canary)."""


@cache
def ruff_binary() -> str:
    """The ruff executable installed with tripwire (the ``ruff`` wheel), else one on PATH."""
    try:
        from ruff.__main__ import find_ruff_bin

        return str(find_ruff_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("ruff")
        if found is None:
            raise UnavailableError(
                "ruff", "not installed; the data audit's Python analysis needs: pip install ruff"
            ) from None
        return found


def _scratch_root() -> str | None:
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _selected(rule: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """Whether ruff run with (select, ignore) reports ``rule``: the longest matching prefix
    decides, and ignore wins a tie."""
    chosen = max((p for p in select if rule.startswith(p)), key=len, default=None)
    dropped = max((p for p in ignore if rule.startswith(p)), key=len, default=None)
    return chosen is not None and (dropped is None or len(chosen) > len(dropped))


def _config(select: Sequence[str], ignore: Sequence[str]) -> str:
    select = sorted({*select, *COMPILE_RULES})
    ignore = [p for p in ignore if not any(r.startswith(p) for r in COMPILE_RULES)]
    target = f"py3{min(sys.version_info.minor, 13)}"
    return "\n".join(
        [
            f'target-version = "{target}"',
            "[lint]",
            f"select = {json.dumps(select)}",
            f"ignore = {json.dumps(ignore)}",
            "[lint.per-file-ignores]",
            f'"x/*" = {json.dumps(list(EXCERPT_IGNORES))}',
            "",
        ]
    )


class RuffFailed(UnavailableError):
    """ruff itself could not run (not one record's fault). Raised in worker processes, so it
    pickles with both of its arguments (the base class's constructor takes two)."""

    def __reduce__(self) -> tuple[type[RuffFailed], tuple[str, str]]:
        return type(self), (self.where, self.problem)


@cache
def ruff_refusal(selector: str) -> str | None:
    """Why ruff refuses ``selector`` (a rule code, a prefix of codes, a linter, ``ALL``) in
    its selection, or None when it takes it: asked of ruff itself, whose prefixes are not
    plain string prefixes (``PERF`` is a linter, ``PER`` is nothing), and which refuses
    rules it removed."""
    r = _subprocess(
        [ruff_binary(), "check", "--isolated", "--no-cache", "--exit-zero", "--quiet",
         "--config", f"lint.select = {json.dumps([selector])}", "--stdin-filename", "x.py", "-"],
        stdin=b"",
    )  # fmt: skip
    if r.returncode == 0:
        return None
    why = _last_line(r.stderr.decode("utf-8", "replace"), r.returncode)
    if "selector" in why:
        return f"unknown rule {selector!r}"
    if selector in why:  # "Rule `ANN101` was removed and cannot be selected."
        return f"rule {selector!r}: {why.removeprefix('Cause:').lstrip()}"
    raise RuffFailed("ruff", f"could not run: {why}")


def _last_line(stderr: str, returncode: int) -> str:
    lines = stderr.strip().splitlines()
    return lines[-1].strip() if lines else f"exit status {returncode}"


def _subprocess(
    args: list[str],
    cwd: str | None = None,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """``subprocess.run``, with a ruff that cannot be started told as such (not as a missing
    input file, which an OSError's file name would read as)."""
    try:
        return subprocess.run(args, cwd=cwd, env=env, input=stdin, capture_output=True)
    except OSError as exc:
        raise RuffFailed("ruff", f"could not start {args[0]}: {exc.strerror or exc}") from exc


@cache
def rule_urls() -> dict[str, str]:
    """Rule code -> its documentation page, from ruff's own rule list (read once)."""
    r = _subprocess([ruff_binary(), "rule", "--all", "--output-format", "json"])
    if r.returncode != 0:
        why = _last_line(r.stderr.decode("utf-8", "replace"), r.returncode)
        raise RuffFailed("ruff", f"could not list its rules: {why}")
    return {d["code"]: f"{_DOCS}{d['name']}" for d in json.loads(r.stdout) if d.get("code")}


_DOCS = "https://docs.astral.sh/ruff/rules/"
_LINE = re.compile(r"([ax])/(\d+)\.py:(\d+):(\d+): ([A-Z]+[0-9]+) (?:\[\*\] )?(.*)")
"""One finding of ``--output-format concise``: ``a/12.py:3:5: F401 [*] message``."""
_SYNTAX = re.compile(r"([ax])/(\d+)\.py:\d+:\d+: (?:invalid-syntax|SyntaxError)\b")
"""A syntax error in the same format (``invalid-syntax: ...``; ``SyntaxError: ...`` before
ruff 0.12)."""


def ruff_check(
    codes: Sequence[str], excerpt: Sequence[bool], policy: RulePolicy, threads: int = 0
) -> list[RuffReport]:
    """ruff's findings for each of ``codes`` (Python sources), in one ruff run, and whether
    its parser has doubts about each one's syntax. ``threads``: ruff's (0: its default, one
    per core; the audit gives each worker its share of the cores)."""
    out = [RuffReport([], False) for _ in codes]
    if not codes:
        return out
    urls = rule_urls()
    select, ignore = policy.ruff_selection()
    canary = len(codes)
    with tempfile.TemporaryDirectory(prefix="tripwire-ruff-", dir=_scratch_root()) as tmp:
        os.mkdir(f"{tmp}/a")
        os.mkdir(f"{tmp}/x")
        with open(f"{tmp}/ruff.toml", "w", encoding="utf-8") as f:
            f.write(_config(select, ignore))
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        for k, (code, part) in enumerate(zip([*codes, _CANARY], [*excerpt, False], strict=True)):
            # os-level calls: a buffered file object per record costs more than ruff's parse
            fd = os.open(f"{tmp}/{'x' if part else 'a'}/{k}.py", flags, 0o600)
            try:
                # surrogates (from JSON escapes) cannot be encoded: replaced, as parsers do
                data = memoryview(code.encode("utf-8", "replace"))
                while data:
                    data = data[os.write(fd, data) :]
            finally:
                os.close(fd)
        paths = [f"{'x' if part else 'a'}/{k}.py" for k, part in enumerate([*excerpt, False])]
        text, crashed = _run_isolating(tmp, paths, threads, canary=paths[-1])
        suspect = {int(m.group(2)) for m in _SYNTAX.finditer(text)}
        for m in _LINE.finditer(text):
            k, rule = int(m.group(2)), m.group(5)
            if rule in COMPILE_RULES:
                suspect.add(k)
                if not _selected(rule, select, ignore):
                    continue
            if k == canary:
                continue
            out[k].findings.append(
                RuffFinding(
                    rule, int(m.group(3)), int(m.group(4)), m.group(6), urls.get(rule, _DOCS)
                )
            )
    trusted = canary in suspect
    for k, report in enumerate(out):
        report.syntax_suspect = (k in suspect) if trusted else None
    for k, why in crashed.items():
        if k == canary:  # ruff failing on it alone raised above; a flaky rerun is not a record's
            continue
        out[k] = RuffReport(
            [RuffFinding(ANALYSER_CRASHED, 1, 1, f"ruff could not analyse it: {why}", _DOCS)],
            True,
        )
    return out


_STACK = str(64 << 20)
"""Bytes of stack for ruff's threads: their default (2 MiB) overflows on expressions nested
about 2,000 deep, which CPython still compiles (its limit is near 3,000; deeper records are
compiled, and rejected, before ruff sees them: ``_python_syntax``); 64 MiB reaches 20,000."""


def _run(tmp: str, paths: Sequence[str], threads: int) -> subprocess.CompletedProcess[bytes]:
    return _subprocess(
        [ruff_binary(), "check", "--no-cache", "--config", f"{tmp}/ruff.toml",
         "--output-format", "concise", "--exit-zero", "--quiet", *paths],
        cwd=tmp,
        env={
            **os.environ,
            "NO_COLOR": "1",
            "RUST_MIN_STACK": _STACK,
            **({"RAYON_NUM_THREADS": str(threads)} if threads else {}),
        },
    )  # fmt: skip


def _run_isolating(
    tmp: str, paths: Sequence[str], threads: int, canary: str | None = None
) -> tuple[str, dict[int, str]]:
    """ruff's output for ``paths``, and the files it could not analyse (by index, with why).
    A run that fails is split in halves until the files that make ruff fail are alone: one
    hostile record must not stop the audit, nor hide the findings of the others. ``canary``:
    a file of ``paths`` ruff always analyses; when it fails alone too, ruff itself (its
    binary, its configuration) is broken, and no record is to blame."""
    r = _run(tmp, paths, threads)
    if r.returncode == 0:
        return r.stdout.decode("utf-8", "replace"), {}
    if canary is not None:
        alone = _run(tmp, [canary], threads)
        if alone.returncode != 0:
            why = _last_line(alone.stderr.decode("utf-8", "replace"), alone.returncode)
            raise RuffFailed("ruff", f"could not run: {why}")
    if len(paths) == 1:
        index = int(paths[0].split("/")[1].removesuffix(".py"))
        return "", {index: _last_line(r.stderr.decode("utf-8", "replace"), r.returncode)}
    half = len(paths) // 2
    head, crashed = _run_isolating(tmp, paths[:half], threads)
    tail, more = _run_isolating(tmp, paths[half:], threads)
    return head + tail, {**crashed, **more}
