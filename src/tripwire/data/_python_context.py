"""Context ruff does not weigh, for the Python rules that drop a record by default: whether the
finding shows harm in *this* code. A finding whose context shows none is kept and flagged
(``StaticFinding.benign`` says why), never silently dropped from the findings.

- ``eval``/``exec`` (S307, S102) is injection when a value from outside the record reaches it:
  ``input()``, ``sys.argv``, a request, the environment, a socket or a file read, or a parameter
  of a function the record never calls (its caller is outside: the function is the program's
  interface), directly or through the record's own assignments and calls. Code generation that
  evaluates strings the module builds itself for its own callers is not.
- ``pickle``/``marshal`` loads (S301, S302) of what the same code dumped is a round trip
  (tests, caches), not deserialization of foreign data.
- A string built like SQL (S608) in code that runs no query (no ``execute``, ``cursor``,
  ``read_sql``, ``raw``...) is a message or a docstring that says "select ... from".
- An undefined name (F821) inside a string, or in an annotation under ``from __future__ import
  annotations``, is never evaluated at run time; in a module that writes its own namespace
  (``globals()``, ``__dict__``, ``exec``, a module ``__getattr__``) names exist that no analyser
  sees; code that catches ``NameError`` expects a name that may not exist (``get_ipython``);
  ``__path__`` is defined in a package's ``__init__``, a file name the record does not carry;
  a Python 2 builtin (``long``, ``unicode``) in code that tests the version is its Python 2 arm.
- Django's ``extra``/``RawSQL`` rules (S610, S611) fire on any ``.extra(`` call: outside code
  that mentions Django they are another library's method.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from tripwire.data._hazard_tree import Tree

if TYPE_CHECKING:
    from tripwire.data._hazards import StaticFinding

_EVAL = frozenset({"S102", "S307"})
_LOADS = frozenset({"S301", "S302"})
_UNDEFINED = frozenset({"F821"})
_SQL = frozenset({"S608"})
_DJANGO = frozenset({"S610", "S611"})
_WEIGHED = _EVAL | _LOADS | _UNDEFINED | _SQL | _DJANGO
_RUNS_SQL = re.compile(r"\b(?:execute\w*|raw|read_sql\w*|cursor|mogrify)\s*\(")
_SELF_WRITING_HINTS = ("globals()", "vars()", "__dict__", "sys.modules[", "__getattr__", "exec")
_OUTSIDE = re.compile(
    r"\binput\s*\(|\bargv\b|\brequest\b|\benviron\b|\bgetenv\b|\.recv\w*\s*\(|\bstdin\b"
    r"|\.read\w*\s*\(|\burlopen\s*\(|\bform\b|\bparams\b"
)
_SELF_WRITING = re.compile(
    r"\bglobals\(\)\s*(?:\[|\.update|\.setdefault)|\bvars\(\)\s*\[|__dict__\.update"
    r"|sys\.modules\[__name__\]|^def __getattr__|^exec\s*\(|globals\(\)\)",
    re.MULTILINE,
)
_PY2_NAME = re.compile(
    r"`(?:unicode|long|basestring|xrange|unichr|raw_input|execfile|reload|cmp|buffer|file"
    r"|reduce|apply|intern|coerce)`"
)
"""Builtins Python 3 removed, as ruff's F821 message quotes them."""
_VERSION_SWITCH = re.compile(
    r"\b(?:PY2|PY3|PY3K|is_py2|is_py3|PY_3|IS_PY3|six|version_info|sys\.version|__unicode__)\b"
)
"""Code written for Python 2 and 3 at once: a version test, ``six``, a ``__unicode__``."""
_PARAMS = frozenset(
    {"identifier", "typed_parameter", "default_parameter", "typed_default_parameter"}
)


def python_context(code: str, findings: list[StaticFinding]) -> list[StaticFinding]:
    """``findings`` with ``benign`` set where the context shows no harm."""
    if not any(f.rule in _WEIGHED for f in findings):
        return findings
    tree: Tree | None = None
    lines = code.splitlines()
    out = []
    for f in findings:
        why = None
        if f.rule in _DJANGO and "django" not in code:
            why = "not Django: another library's extra()/RawSQL"
        elif f.rule in _SQL and not _RUNS_SQL.search(code):
            why = "no query is run in this code (an SQL-looking message or docstring)"
        elif f.rule in _LOADS and re.search(r"\bdumps?\s*\(", code):
            why = "it loads what the same code dumped (a round trip)"
        elif f.rule in _UNDEFINED:
            line = lines[f.line - 1] if 0 < f.line <= len(lines) else ""
            before = line[: max(0, f.column - 1)]
            if (before.count('"') + before.count("'")) % 2 == 1:
                why = "the name is inside a string (an annotation, not run)"
            elif _POSTPONED in code and _annotation(line, before):
                why = "an annotation, not evaluated (from __future__ import annotations)"
            elif "`__path__`" in f.message:
                why = "a package's __init__ module, which the import system gives __path__"
            elif _PY2_NAME.search(f.message) and _VERSION_SWITCH.search(code):
                why = "a Python 2 name in code that runs on both (it checks the version)"
            elif "NameError" in code:
                why = "the code catches the NameError (a name that may not exist)"
            elif _self_writing(code):
                why = "the module defines names at run time (globals(), __dict__, exec)"
        elif f.rule in _EVAL:
            if tree is None:
                tree = Tree(code, "python")
            if not _outside_reaches(tree, f.line):
                why = "it evaluates the code's own values; no input reaches it"
        out.append(dataclasses.replace(f, benign=why) if why else f)
    return out


_POSTPONED = "from __future__ import annotations"


def _annotation(line: str, before: str) -> bool:
    """Whether the text before a name on its line puts it in an annotation: after ``->``, after
    a parameter's ``:`` in a ``def`` line, or in ``name: ...`` at the start of a statement."""
    if "->" in before:
        return True
    stripped = line.lstrip()
    if stripped.startswith(("def ", "async def ")) and "(" in before:
        return before.rstrip().endswith((":", "[", ",", "|")) or ":" in before.split("(", 1)[1]
    return re.match(r"\s*[\w.]+\s*:\s*", before) is not None and "=" not in before


def _self_writing(code: str) -> bool:
    # substring scans first: the multi-line pattern alone costs more than the rest
    return any(h in code for h in _SELF_WRITING_HINTS) and bool(_SELF_WRITING.search(code))


def _outside_reaches(tree: Tree, line: int) -> bool:
    calls = [
        c
        for c in tree.nodes("call")
        if tree.line(c) == line
        and tree.text(c.child_by_field_name("function") or c)
        in (
            "eval",
            "exec",
            "builtins.eval",
            "builtins.exec",
        )
    ]
    if not calls:
        return True  # not found where ruff said: keep ruff's verdict
    for call in calls:
        args = call.child_by_field_name("arguments")
        first = args.named_children[0] if args is not None and args.named_children else None
        if first is None or _from_outside(tree, first, _parameters(tree, call), 0):
            return True
    return False


def _parameters(tree: Tree, node: Any) -> set[str]:
    """Parameters of the functions around ``node`` whose callers are outside the record: the
    function is never called in it, or called with a value from outside."""
    out: set[str] = set()
    func = tree.enclosing(node, "function_definition", "lambda")
    while func is not None:
        params = func.child_by_field_name("parameters")
        names = set()
        for p in params.named_children if params is not None else []:
            name = (
                p
                if p.type == "identifier"
                else p.child_by_field_name("name")
                or (p.named_children[0] if p.named_children else None)
            )
            if name is not None and p.type in _PARAMS | {"list_splat_pattern"}:
                names.add(tree.text(name).lstrip("*"))
        if _called_from_outside(tree, func):
            out |= names
        func = tree.enclosing(func, "function_definition", "lambda")
    return out


def _called_from_outside(tree: Tree, func: Any) -> bool:
    name_node = func.child_by_field_name("name")
    if name_node is None:
        return True
    name = tree.text(name_node)
    calls = [
        c
        for c in tree.nodes("call")
        if tree.text(c.child_by_field_name("function") or c).rsplit(".", 1)[-1] == name
    ]
    if not calls:
        return True
    return any(_OUTSIDE.search(tree.text(c.child_by_field_name("arguments") or c)) for c in calls)


def _from_outside(tree: Tree, node: Any, params: set[str], depth: int) -> bool:
    if node is None or depth > 4:
        return depth > 4
    text = tree.text(node)
    if _OUTSIDE.search(text):
        return True
    if node.type == "call" and tree.text(node.child_by_field_name("function") or node) in (
        "compile",
        "repr",
    ):
        return False
    todo = [node]
    while todo:
        n = todo.pop()
        if n.type == "identifier":
            name = tree.text(n)
            if name in params:
                return True
            for value in tree.bindings.get(name, []):
                if value is None or _from_outside(tree, value, params, depth + 1):
                    return True
        todo += n.named_children
    return False
