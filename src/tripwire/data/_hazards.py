"""Static analysis of a batch of records, one finding shape for every language: ruff for
Python (one run per batch), tree-sitter rules for the languages ``_hazard_rules`` covers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tripwire.data._hazard_rules import FINDERS, RULES, python_evasions, python_sql
from tripwire.data._hazard_tree import SQL, Tree
from tripwire.data._policy import RulePolicy, default_of
from tripwire.data._python_context import python_context
from tripwire.data._ruff import RuffFinding, ruff_check

_WEAK_HASH_RULES = frozenset({"S303", "S324"})


@dataclass(frozen=True)
class StaticFinding:
    rule: str
    line: int
    message: str
    url: str
    column: int = 0
    benign: str | None = None
    """Why a finding of a rule that drops by default is only flagged here: the command is
    written out in full (ruff's "seems safe"), eval/exec of the record's own values, a
    pickle round trip, a name in a string annotation or in a module that writes its own
    globals (``_python_context``)."""

    @property
    def kind(self) -> str:
        return default_of(self.rule).kind


def analysable(language: str | None) -> bool:
    return language == "python" or language in FINDERS


def _python_password_hashes(code: str, found: list[RuffFinding]) -> list[StaticFinding]:
    """A weak hash ruff found (S303/S324) that hashes a password: its own rule, dropped."""
    lines = {f.line for f in found if f.rule in _WEAK_HASH_RULES}
    if not lines:
        return []
    tree = Tree(code, "python")
    out = []
    for call in tree.nodes("call"):
        line = tree.line(call)
        if line in lines and tree.about_passwords(call):
            lines.discard(line)
            rule = RULES["py/weak-password-hash"]
            out.append(StaticFinding(rule.id, line, rule.summary, rule.url))
    return out


def _sql_words(code: str) -> bool:
    # unrolled: a generator over the words costs more than the scans
    return (
        "SELECT" in code
        or "select " in code
        or "INSERT" in code
        or "insert into" in code
        or "UPDATE" in code
        or "DELETE" in code
        or "delete from" in code
    )


def _python_sql(code: str, found: list[RuffFinding]) -> list[StaticFinding]:
    """SQL built across statements: looked for only in the few records with SQL in them (a
    substring scan, then the SQL shape, then the tree)."""
    if not _sql_words(code) or any(f.rule == "S608" for f in found):
        return []
    if not SQL.search(code):
        return []
    tree = Tree(code, "python")
    rule = RULES["py/sql-injection"]
    return [
        StaticFinding(rule.id, tree.line(node), message, rule.url)
        for _, node, message in python_sql(tree)
    ][:1]


def _switch_on(code: str) -> bool:
    """``verify`` off or ``shell`` on is spelled out somewhere (a keyword dictionary's value)."""
    return ("verify" in code and "False" in code) or ("shell" in code and "True" in code)


def _evasion_hint(code: str) -> bool:
    """A spelling one of ``python_evasions``'s shapes needs. ``getattr`` is everywhere in real
    code; only ``getattr(os, "system")`` and its kin count, so the command's name must be
    there too."""
    return (
        "__import__(" in code
        or "import_module(" in code
        or ("getattr(" in code and ("system" in code or "popen" in code))
        or ("**" in code and ("verify" in code or "shell" in code) and _switch_on(code))
        or ".verify = False" in code
    )


def _python_evasions(code: str) -> list[StaticFinding]:
    """Hazards reached indirectly (``python_evasions``): looked for only in records with one
    of the few spellings that reach them (a substring scan first)."""
    if not _evasion_hint(code):
        return []
    tree = Tree(code, "python")
    return [
        StaticFinding(rule_id, tree.line(node), message, RULES[rule_id].url)
        for rule_id, node, message in python_evasions(tree)
    ]


def _from_ruff(f: RuffFinding) -> StaticFinding:
    benign = "the command is written out in full" if "seems safe" in f.message else None
    return StaticFinding(f.rule, f.line, f.message, f.url, f.column, benign)


def tree_hazards(code: str, language: str) -> list[StaticFinding]:
    """The tree-sitter rules' findings for ``code`` in ``language`` (one of ``FINDERS``)."""
    tree = Tree(code, language)
    out = []
    for rule_id, node, message in FINDERS[language](tree):
        out.append(StaticFinding(rule_id, tree.line(node), message, RULES[rule_id].url))
    out.sort(key=lambda f: (f.line, f.rule))
    return out


def analyse_batch(
    codes: Sequence[str],
    languages: Sequence[str],
    excerpt: Sequence[bool],
    policy: RulePolicy,
    threads: int = 0,
    ruffed: Sequence[list[RuffFinding] | None] | None = None,
) -> list[list[StaticFinding]]:
    """Every finding for each record (before the policy says what each does). ``ruffed``: a
    record's ruff findings where an earlier run of the same policy has them (None: run ruff)."""
    out: list[list[StaticFinding]] = [[] for _ in codes]
    python = [k for k, lang in enumerate(languages) if lang == "python"]
    known = ruffed or [None] * len(codes)
    todo = [k for k in python if known[k] is None]
    reports = ruff_check([codes[k] for k in todo], [excerpt[k] for k in todo], policy, threads)
    ran = {k: r.findings for k, r in zip(todo, reports, strict=True)}
    for k in python:
        fs = ran[k] if k in ran else known[k] or []
        out[k] = python_context(codes[k], [_from_ruff(f) for f in fs])
        out[k] += _python_password_hashes(codes[k], fs) + _python_sql(codes[k], fs)
        out[k] += _python_evasions(codes[k])
    for k, lang in enumerate(languages):
        if lang in FINDERS:
            out[k] = tree_hazards(codes[k], lang)
    return out
