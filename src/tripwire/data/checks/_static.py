"""``insecure_code`` and ``code_bug`` (removed) and ``lint`` (flagged for review): what the
field's static analysers say about code that parses, under the rule policy (``_policy``).

Python goes to ruff, one run per batch; JavaScript/TypeScript, Go, Java, Rust, C/C++ and shell
to the tree-sitter rules (``_hazard_rules``). Code that does not parse, is cut, or is not in
its declared language is left to those reasons: a linter has nothing sound to say about it.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tripwire.data._hazards import StaticFinding, analysable, analyse_batch
from tripwire.data._lexer import tokenize
from tripwire.data._parsing import SyntaxAnalysis
from tripwire.data._policy import Action, RulePolicy, reason_for
from tripwire.data._python_syntax import needs_compile
from tripwire.data._ruff import ruff_check
from tripwire.data._typos import near_misses, undefined_near_misses
from tripwire.data.checks._base import Evidence, RecordCheck, RecordContext, record_check

if TYPE_CHECKING:
    from tripwire.data._config import AuditConfig

_SHOWN = 5
_IMPORT = re.compile(r"^(?:import|from)\s", re.MULTILINE)
_RUFF = "insecure_code:ruff"
"""Where ``begin`` leaves a record's ruff findings for ``prepare``."""


def is_excerpt(ctx: RecordContext) -> bool:
    """Python with no import of its own is a piece of a larger program (a file's function, an
    answer's snippet): its other names are defined elsewhere. Only a near-miss of one of its
    own names is then an undefined name (``near_misses``)."""
    return ctx.language == "python" and not has_import(ctx.record.code)


def has_import(code: str) -> bool:
    """An ``import``/``from`` statement at the start of a line (substring scans: a multi-line
    regex costs more than the rest of the check on most records)."""
    if code.startswith(("import", "from")) and _IMPORT.match(code):
        return True
    for word in ("\nimport", "\nfrom"):
        at = code.find(word)
        while at >= 0:
            if _IMPORT.match(code, at + 1):
                return True
            at = code.find(word, at + 1)
    return False


def _roles(ctx: RecordContext) -> tuple[bool, bool]:
    """(a file's excerpt, an answer's snippet). An answer's snippet is checked for undefined
    names (``_typos`` says which count); a file's excerpt is not: it is not meant to run alone,
    its names are in the file."""
    excerpt = is_excerpt(ctx)
    snippet = excerpt and ctx.record.kind != "code"
    return excerpt and not snippet, snippet


def _shown(findings: list[StaticFinding]) -> Evidence:
    return {
        "count": len(findings),
        "rules": dict(Counter(f.rule for f in findings).most_common()),
        "findings": [
            {"rule": f.rule, "kind": f.kind, "line": f.line, "message": f.message, "url": f.url}
            | ({"not_dropped": f.benign} if f.benign else {})
            for f in findings[:_SHOWN]
        ],
    }


@record_check("insecure_code")
class StaticAnalysis(RecordCheck):
    skip_if = frozenset({"not_code", "language_mismatch", "truncated", "syntax_error"})
    emits = ("code_bug", "lint")

    def __init__(self, policy: RulePolicy | None = None, threads: int = 0) -> None:
        self.policy = policy or RulePolicy()
        self.threads = threads
        """ruff's threads per run (the worker's share of the cores; 0: ruff's default)."""

    @classmethod
    def from_config(cls, config: AuditConfig) -> RecordCheck:
        # each worker's ruff gets the worker's share of the cores: more threads than cores
        # only take turns
        return cls(config.rule_policy(), max(1, (os.cpu_count() or 1) // config.worker_count))

    def arguments(self) -> dict[str, Any]:
        return {"rules": self.policy.to_dict()}

    def begin(self, contexts: Sequence[RecordContext]) -> None:
        """One ruff run over the batch's Python before any check: its findings wait for
        ``prepare``, and its parser settles the syntax of the records it accepts, so only the
        few it doubts are compiled (``_python_syntax``)."""
        python = [ctx for ctx in contexts if ctx.language == "python" and ctx.has_code()]
        # what ruff cannot judge is compiled first (every Python record is, by ``not_code``),
        # and what compiles joins this run: one ruff run per batch, and ruff never reads
        # what CPython's limits reject
        trusted = [not needs_compile(ctx.record.code) for ctx in python]
        todo = [
            ctx for ctx, ok in zip(python, trusted, strict=True) if ok or ctx.analysis("python").ok
        ]
        reports = ruff_check(
            [ctx.record.code for ctx in todo],
            [file_excerpt for file_excerpt, _ in map(_roles, todo)],
            self.policy,
            self.threads,
        )
        for ctx, report in zip(todo, reports, strict=True):
            ctx.prepared[_RUFF] = report.findings
            if report.syntax_suspect is False and "python" not in ctx.analysed():
                ctx.settle_analysis(SyntaxAnalysis("python", "ruff"))

    def prepare(self, contexts: Sequence[RecordContext]) -> None:
        todo = [ctx for ctx in contexts if analysable(ctx.language)]
        roles = [_roles(ctx) for ctx in todo]
        found = analyse_batch(
            [ctx.record.code for ctx in todo],
            [ctx.language or "" for ctx in todo],
            [file_excerpt for file_excerpt, _ in roles],
            self.policy,
            self.threads,
            [ctx.prepared.get(_RUFF) if ctx.language == "python" else None for ctx in todo],
        )
        for ctx, fs, (_, s) in zip(todo, found, roles, strict=True):
            if s and any(f.rule == "F821" for f in fs):
                typos = near_misses(tokenize(ctx.record.code, "python"))
                fs = undefined_near_misses(fs, typos)
            ctx.prepared[self.code] = fs

    def check(self, ctx: RecordContext) -> Evidence | None:
        return self.outcomes(ctx).get(self.code)

    def outcomes(self, ctx: RecordContext) -> dict[str, Evidence]:
        if not analysable(ctx.language):
            return {}
        found: list[StaticFinding] | None = ctx.prepared.get(self.code)
        if found is None:  # not prepared (a check run on its own)
            self.prepare([ctx])
            found = ctx.prepared[self.code]
        by_code: dict[str, list[StaticFinding]] = {}
        for f in found:
            action = self.policy.action(f.rule, benign=f.benign is not None)
            if action is Action.IGNORE:
                continue
            code = reason_for(f.kind) if action is Action.DROP else "lint"
            by_code.setdefault(code, []).append(f)
        return {code: _shown(fs) for code, fs in by_code.items()}
