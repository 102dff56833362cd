"""The record-check contract: a check implements one method; the runner owns the loop.

A check looks at one record (through a ``RecordContext`` that caches what several checks need:
the syntax analysis, the detected language) and returns evidence when it finds its fault. The
runner applies checks in order, skips a check when an earlier reason makes it moot (prose has no
syntax), and counts hits and time per check. It runs a batch of records one check at a time, so a
check can first do work for the whole batch at once (``prepare``) where numpy's cost per call
would dominate doing it record by record.

A record whose text (code, prompt and a chat's other turns) is longer than ``MAX_RECORD_CHARS``
counts as having no code: no check that needs code sees it, and it is never tokenized, parsed,
linted, deduplicated or decontaminated (one such record cost gigabytes of memory). ``low_quality``
removes it (``too_long``); the secrets scan, which reads the raw record, still looks at all of it.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from tripwire.data._languages import Detection, detect_language
from tripwire.data._lexer import token_ids, token_ids_many, tokenize
from tripwire.data._parsing import SyntaxAnalysis, analyse
from tripwire.data._reasons import BY_CODE, FLAGS
from tripwire.data._records import Record

if TYPE_CHECKING:
    from tripwire.data._config import AuditConfig

Evidence = dict[str, Any]

MAX_RECORD_CHARS = 1_000_000
"""Characters of text (code + prompt + a chat's other turns) past which a record is removed
unchecked. A 128k-token context holds about 500k characters of code (~4 per token), so no
training example is this long; past it a record is a minified bundle or a data dump, and the
tokenizer, parsers and linters would take gigabytes and minutes over it."""


class RecordContext:
    """One record plus what checks found so far and computations they share."""

    def __init__(self, record: Record) -> None:
        self.record = record
        self.reasons: dict[str, Evidence] = {}
        self.flags: dict[str, Evidence] = {}
        """Findings for a reviewer that do not remove the record (``FLAGS``)."""
        self.prepared: dict[str, Any] = {}
        """What a check's ``prepare`` found for this record, by the check's code."""
        self._analyses: dict[str, SyntaxAnalysis] = {}
        self._detection: Detection | None = None
        self._tokens: list[str] | None = None
        self._ids: tuple[np.ndarray, np.ndarray] | None = None
        self.language: str | None = record.language or next(iter(record.fence_tags), None)
        """The language code checks judge the code as; None when unknown."""
        self.chars = len(record.code) + len(record.prompt) + len(record.context)
        """Characters of text the checks would read (``MAX_RECORD_CHARS``)."""

    def too_long(self) -> bool:
        return self.chars > MAX_RECORD_CHARS

    def analysis(self, language: str) -> SyntaxAnalysis:
        if language not in self._analyses:
            self._analyses[language] = analyse(self.record.code, language)
        return self._analyses[language]

    def analysed(self) -> frozenset[str]:
        """The languages whose analysis is known."""
        return frozenset(self._analyses)

    def settle_analysis(self, analysis: SyntaxAnalysis) -> None:
        """Take ``analysis`` as the code's in its language (a batch's parser found it)."""
        self._analyses[analysis.language] = analysis

    def shingle_text(self) -> str:
        """What dedup and decontamination compare: the prompt (if any) and the code."""
        rec = self.record
        return f"{rec.prompt}\n{rec.code}" if rec.prompt else rec.code

    def tokens(self) -> list[str]:
        if self._tokens is None:
            self._tokens = tokenize(self.shingle_text(), self.language)
        return self._tokens

    def token_ids(self) -> tuple[np.ndarray, np.ndarray]:
        """(token ids, canonical token ids) of ``tokens()`` (see ``_lexer.token_ids``)."""
        if self._ids is None:
            self._ids = token_ids(self.tokens(), self.language)
        return self._ids

    def has_code(self) -> bool:
        """Code the checks look at: none when the record is too long to check (``too_long``)."""
        code = self.record.code
        return bool(code) and not self.too_long() and not code.isspace()

    def detection(self) -> Detection:
        if self._detection is None:
            self._detection = detect_language(self.record.code)
        return self._detection


def compute_token_ids(contexts: Sequence[RecordContext]) -> None:
    """Fill ``token_ids()`` of every context that has code, in one batch (same values)."""
    todo = [ctx for ctx in contexts if ctx._ids is None and ctx.has_code()]
    if todo:
        many = token_ids_many([ctx.tokens() for ctx in todo], [ctx.language for ctx in todo])
        for ctx, ids in zip(todo, many, strict=True):
            ctx._ids = ids


class RecordCheck(ABC):
    """A check of one record; subclasses set ``code`` and implement ``check``."""

    code: ClassVar[str]
    skip_if: ClassVar[frozenset[str]] = frozenset()
    """Reason codes that make this check moot for a record."""
    needs_code: ClassVar[bool] = True
    """Skip records that carry no code."""
    emits: ClassVar[tuple[str, ...]] = ()
    """Other codes (reasons or ``FLAGS``) this check gives, through ``outcomes``."""

    @abstractmethod
    def check(self, ctx: RecordContext) -> Evidence | None:
        """Evidence of the fault (a JSON-ready dict), or None when the record is fine."""

    def outcomes(self, ctx: RecordContext) -> dict[str, Evidence]:
        """Evidence per code, for a check that gives several codes (``emits``)."""
        evidence = self.check(ctx)
        return {} if evidence is None else {self.code: evidence}

    def begin(self, contexts: Sequence[RecordContext]) -> None:
        """Work for a whole batch before any check runs (what it finds may serve earlier
        checks: the static analysis's ruff run also settles Python syntax)."""
        return None

    def prepare(self, contexts: Sequence[RecordContext]) -> None:
        """Work for a whole batch, done before ``check`` runs on each of ``contexts``."""
        return None

    def arguments(self) -> dict[str, Any]:
        """The arguments this check was built with (recorded in the audit configuration)."""
        return {}

    @classmethod
    def from_config(cls, config: AuditConfig) -> RecordCheck:
        """The check as an audit with ``config`` runs it (a check with settings overrides)."""
        return cls()


_REGISTRY: dict[str, type[RecordCheck]] = {}


def record_check(code: str) -> Callable[[type[RecordCheck]], type[RecordCheck]]:
    """Register a check class under its reason code (the one place a check is registered);
    the code must be a record check's row of the reasons table (``tripwire.data._reasons``),
    which says what it means, whether it blocks and when it runs."""

    def register(cls: type[RecordCheck]) -> type[RecordCheck]:
        if code in _REGISTRY:
            raise ValueError(f"record check {code!r} registered twice")
        reason = BY_CODE.get(code)
        if reason is None or reason.run is None:
            raise ValueError(f"record check {code!r} has no run position in the reasons table")
        unknown = [c for c in cls.emits if c not in BY_CODE]
        if unknown:
            raise ValueError(f"record check {code!r} emits codes not in the table: {unknown}")
        cls.code = code
        _REGISTRY[code] = cls
        return cls

    return register


def registered_checks() -> dict[str, type[RecordCheck]]:
    """Reason code -> check class, for every check module (imported by ``tripwire.data.checks``)."""
    return dict(_REGISTRY)


@dataclass
class CheckStats:
    hits: int = 0
    seconds: float = 0.0


@dataclass
class CheckRunner:
    """Applies checks in order to each record; keeps per-check counts and timings."""

    checks: list[RecordCheck]
    stats: dict[str, CheckStats] = field(default_factory=dict)

    def count_reused(self, reasons: dict[str, Evidence]) -> None:
        """Count the hits of a record whose results were reused (a copy of one checked)."""
        for code in reasons:
            self.stats.setdefault(code, CheckStats()).hits += 1

    def run(self, record: Record) -> RecordContext:
        return self.run_batch([record])[0]

    def run_batch(self, records: Sequence[Record]) -> list[RecordContext]:
        """Every check on every record; a check's result for a record depends only on that
        record, so running check by check gives what running record by record would."""
        contexts = [RecordContext(r) for r in records]
        with_code = [ctx for ctx in contexts if ctx.has_code()]
        clock = time.perf_counter
        for chk in self.checks:
            t0 = clock()
            chk.begin(contexts)
            self.stats.setdefault(chk.code, CheckStats()).seconds += clock() - t0
        for chk in self.checks:
            todo = with_code if chk.needs_code else contexts
            if chk.skip_if:
                todo = [ctx for ctx in todo if chk.skip_if.isdisjoint(ctx.reasons)]
            t0 = clock()
            chk.prepare(todo)
            hits = 0
            if chk.emits:
                for ctx in todo:
                    for code, evidence in chk.outcomes(ctx).items():
                        (ctx.flags if code in FLAGS else ctx.reasons)[code] = evidence
                        self.stats.setdefault(code, CheckStats()).hits += code != chk.code
                        hits += code == chk.code
            else:
                for ctx in todo:
                    evidence = chk.check(ctx)
                    if evidence is not None:
                        hits += 1
                        ctx.reasons[chk.code] = evidence
            st = self.stats.get(chk.code)
            if st is None:
                st = self.stats[chk.code] = CheckStats()
            st.seconds += clock() - t0
            st.hits += hits
        return contexts
