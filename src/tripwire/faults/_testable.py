"""Real functions with real tests, for planting ``failing_tests``: self-contained top-level
functions of the Python standard library, tests written from what the real function returns,
and mutants (one operator or constant changed) that the sandbox confirms fail those tests.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib
import inspect
import io
import itertools
import random
import re
import signal
import symtable
import textwrap
import threading
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass

# Pure-Python standard library modules of text and number helpers (no I/O, no processes).
MODULES = (
    "colorsys",
    "bisect",
    "heapq",
    "textwrap",
    "string",
    "calendar",
    "fnmatch",
    "posixpath",
    "ntpath",
    "shlex",
    "html",
    "statistics",
    "fractions",
    "difflib",
    "base64",
    "quopri",
    "graphlib",
    "ipaddress",
    "urllib.parse",
    "email.utils",
    "reprlib",
    "datetime",
    "_pydecimal",
    "_strptime",
    "http.cookiejar",
    "http.cookies",
    "email._parseaddr",
    "email.quoprimime",
    "email.base64mime",
    "encodings.idna",
    "encodings.punycode",
    "nturl2path",
    "sre_parse",
    "sre_compile",
    "pickletools",
    "json.encoder",
    "json.decoder",
    "xml.sax.saxutils",
    "tokenize",
    "keyword",
    "numbers",
    "pprint",
    "functools",
    "locale",
)
_INPUTS: tuple[object, ...] = (
    0,
    1,
    2,
    7,
    10,
    -3,
    100,
    0.5,
    0.25,
    0.75,
    "hello world",
    "a,b,c",
    "  padded  ",
    "",
    "CamelCase",
    [3, 1, 2],
    [],
    [1, 2, 3, 4, 5],
    (1, 2),
)
# Builtins through which a self-contained function could touch the outside world.
_IMPURE = frozenset(
    {
        "open",
        "print",
        "input",
        "exec",
        "eval",
        "compile",
        "__import__",
        "exit",
        "quit",
        "breakpoint",
        "help",
        "globals",
        "locals",
        "vars",
        "setattr",
        "delattr",
    }
)
_CALL_SECONDS = 0.2
_ADDRESS = re.compile(r"id=\d{6,}|0x[0-9a-f]{6,}")
_MUTATIONS = {
    "+": "-",
    "-": "+",
    "*": "+",
    "<": "<=",
    "<=": "<",
    ">": ">=",
    ">=": ">",
    "==": "!=",
    "!=": "==",
    "and": "or",
    "or": "and",
    "True": "False",
    "False": "True",
    "//": "/",
    "%": "//",
}


@dataclass(frozen=True)
class TestableFunction:
    module: str
    name: str
    source: str
    tests: str
    """``assert`` lines written from the real function's results."""
    doc: str


def _self_contained(src: str, name: str) -> bool:
    try:
        table = symtable.symtable(src, "<fn>", "exec")
    except SyntaxError:
        return False
    fn = next((c for c in table.get_children() if c.get_name() == name), None)
    if fn is None:
        return False

    def free(t: symtable.SymbolTable) -> set[str]:
        names = {s.get_name() for s in t.get_symbols() if s.is_global() and s.is_referenced()}
        for child in t.get_children():
            names |= free(child)
        return names

    names = free(fn)
    return names <= set(dir(builtins)) and not names & _IMPURE


def _literal(value: object) -> str | None:
    text = repr(value)
    if _ADDRESS.search(text):
        return None  # an object's id or address differs in the process that runs the test
    try:
        return text if ast.literal_eval(text) == value and len(text) < 200 else None
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


@contextlib.contextmanager
def _time_limit() -> Iterator[None]:
    """Stop a call that loops on an input it was never meant for (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, _CALL_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _tests_for(fn: object, name: str, arity: int) -> list[str]:
    lines, outputs = [], set()
    combos = list(itertools.product(_INPUTS, repeat=arity))
    random.Random(f"{name}/{arity}").shuffle(combos)
    for args in combos[:400]:
        try:
            with _time_limit():
                result = fn(*[a.copy() if isinstance(a, list) else a for a in args])  # type: ignore[operator]
        except Exception:
            continue
        shown = _literal(result)
        call = ", ".join(map(repr, args))
        if shown is None or len(lines) >= 6:
            continue
        lines.append(f"assert {name}({call}) == {shown}")
        outputs.add(shown)
    return lines if len(lines) >= 3 and len(outputs) >= 2 else []


def testable_functions(limit: int = 200) -> list[TestableFunction]:
    """Self-contained stdlib functions of one to three positional arguments, with tests."""
    found: list[TestableFunction] = []
    for modname in MODULES:
        try:
            mod = importlib.import_module(modname)
            tree = ast.parse(inspect.getsource(mod))
        except (ImportError, OSError, TypeError, SyntaxError):
            continue
        src_lines = inspect.getsource(mod).splitlines(keepends=True)
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.decorator_list:
                continue
            a = node.args
            arity = len(a.args) - len(a.defaults)
            if a.vararg or a.kwarg or a.posonlyargs or not 1 <= arity <= 3:
                continue
            if any(
                isinstance(n, ast.Import | ast.ImportFrom | ast.Global | ast.Nonlocal)
                for n in ast.walk(node)
            ):
                continue  # a local import could reach anything
            src = textwrap.dedent("".join(src_lines[node.lineno - 1 : node.end_lineno]))
            if not 3 <= src.count("\n") <= 40 or not _self_contained(src, node.name):
                continue
            fn = getattr(mod, node.name, None)
            if not callable(fn) or getattr(fn, "__module__", None) != mod.__name__:
                continue  # replaced by a C accelerator: the source is not what runs
            tests = _tests_for(fn, node.name, arity)
            if tests:
                doc = (ast.get_docstring(node) or "").strip().split("\n")[0]
                found.append(
                    TestableFunction(modname, node.name, src, "\n".join(tests) + "\n", doc)
                )
            if len(found) >= limit:
                return found
    return found


def mutants(src: str, rng: random.Random, tries: int = 4) -> list[str]:
    """Versions of ``src`` with one operator, keyword or integer constant changed."""
    toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    spots = [
        t
        for t in toks
        if (t.type in (tokenize.OP, tokenize.NAME) and t.string in _MUTATIONS)
        or (t.type == tokenize.NUMBER and t.string.isdigit())
    ]
    rng.shuffle(spots)
    lines = src.splitlines(keepends=True)
    out = []
    for t in spots[:tries]:
        new = str(int(t.string) + 1) if t.type == tokenize.NUMBER else _MUTATIONS[t.string]
        (row, col), (_, end) = t.start, t.end
        changed = list(lines)
        changed[row - 1] = lines[row - 1][:col] + new + lines[row - 1][end:]
        out.append("".join(changed))
    return out


# Mining calls real stdlib functions on made-up inputs; a few of them build gigantic values in C
# code no alarm can interrupt (found by OOM-killed test workers), so it runs in a child process
# with its own memory and CPU limits, where such a call fails alone with MemoryError.
_MINING_MEMORY = 3 << 30
_MINING_CPU_SECONDS = 300


def _mine_isolated() -> None:
    """Child-process entry: limit memory and CPU, mine, print JSON on stdout."""
    import json
    import resource
    import sys

    resource.setrlimit(resource.RLIMIT_AS, (_MINING_MEMORY, _MINING_MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (_MINING_CPU_SECONDS, _MINING_CPU_SECONDS))
    sys.stdout.write(json.dumps([f.__dict__ for f in testable_functions()]))


def cached_testable_functions() -> list[TestableFunction]:
    """``testable_functions()``, cached per interpreter version (mining takes ~20 s)."""
    import json
    import subprocess
    import sys

    from filelock import FileLock

    from tripwire.artifacts import cache_dir, write_json_atomic
    from tripwire.errors import BadInputError

    path = cache_dir() / "data" / f"testable-{sys.version_info[0]}.{sys.version_info[1]}-v1.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):  # concurrent audits wait for one mining run
        try:
            return [TestableFunction(**d) for d in json.loads(path.read_text())]
        except (OSError, ValueError, TypeError):
            pass
        code = "from tripwire.faults._testable import _mine_isolated; _mine_isolated()"
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["killed"])[-1]
            raise BadInputError("testable functions", f"mining the standard library failed: {last}")
        found = [TestableFunction(**d) for d in json.loads(proc.stdout)]
        write_json_atomic(path, [f.__dict__ for f in found])
        return found
