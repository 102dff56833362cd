"""The one result shape every check returns, so gate, reports and monitor treat them alike, and
the words results are judged in: a ``Verdict`` is a decision (pass / warn / block), an ``Outcome``
is what a statistical comparison showed (pass / inconclusive / regressed). A program's execution
result (passed / failed / timeout / error, ``tripwire.sandbox``) is neither: it is the evidence
a comparison's metrics are computed from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from tripwire.documents import Fields


class Severity(StrEnum):
    """How much a finding matters to a release decision."""

    INFO = "info"
    WARN = "warn"
    BLOCK = "block"


class Verdict(StrEnum):
    """The decision a set of findings adds up to."""

    PASS = "pass"
    WARN = "warn"
    BLOCK = "block"

    @property
    def exit_code(self) -> int:
        """0 for pass or warnings only, 1 for blocking findings (the CLI contract)."""
        return 1 if self is Verdict.BLOCK else 0


class Outcome(StrEnum):
    """What a paired comparison showed, per slice and over all of them (``eval compare``, the
    gate's suites, human review): the statistics' own word, which ``verdict`` turns into the
    decision every ``--json`` leads with."""

    PASS = "pass"
    """Non-inferiority shown: the candidate is not worse by more than the margin."""
    INCONCLUSIVE = "inconclusive"
    """Neither shown: the data cannot rule a regression in or out."""
    REGRESSED = "regressed"
    """Worse by more than the margin, after the correction across slices."""

    @property
    def verdict(self) -> Verdict:
        return _OUTCOME_VERDICT[self]


_OUTCOME_VERDICT = {
    Outcome.PASS: Verdict.PASS,
    Outcome.INCONCLUSIVE: Verdict.WARN,
    Outcome.REGRESSED: Verdict.BLOCK,
}


@dataclass(frozen=True)
class Finding:
    """One observation a check made about an artifact."""

    code: str
    """Stable snake_case identifier of the kind of finding (e.g. ``ids_remapped``)."""

    severity: Severity
    """``info``, ``warn`` or ``block``."""

    message: str
    """One human sentence saying what was found."""

    token_ids: Sequence[int] = ()
    """Candidate token ids the finding concerns, when it is about tokens."""

    record_ids: Sequence[str] = ()
    """Dataset record ids the finding concerns, when it is about records."""

    evidence: dict[str, Any] = field(default_factory=dict)
    """Machine-readable numbers and examples that back the message."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; keys are snake_case and stable. ``token_ids`` and ``record_ids``
        appear only when the finding names some: a data finding has no tokens, an eval
        finding neither."""
        out = asdict(self)
        out["severity"] = str(self.severity)
        out["token_ids"] = [int(i) for i in self.token_ids]
        out["record_ids"] = [str(i) for i in self.record_ids]
        for key in ("token_ids", "record_ids"):
            if not out[key]:
                del out[key]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any] | Fields, doc: str = "findings") -> Finding:
        """A finding back from ``to_dict`` (a cached gate result, a findings file); a wrong
        shape is ``BadInputError`` naming the field."""
        f = Fields.of(d, doc)
        return cls(
            f.text("code"),
            f.enum("severity", Severity),
            f.text("message", ""),
            tuple(f.wholes("token_ids")),
            tuple(str(i) for i in f.items("record_ids")),
            f.mapping("evidence"),
        )

    @property
    def source(self) -> str | None:
        """The check that made it, where its code says (``tokens``, ``data``, ``eval``,
        ``lineage``: the gate prefixes each capability's codes); None for an unprefixed code."""
        head, dot, _ = self.code.partition(".")
        return head if dot else None


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    """The worst severity among findings, as a verdict."""
    worst = Verdict.PASS
    for f in findings:
        if f.severity is Severity.BLOCK:
            return Verdict.BLOCK
        if f.severity is Severity.WARN:
            worst = Verdict.WARN
    return worst


def report_dict(findings: Sequence[Finding], **extra: Any) -> dict[str, Any]:
    """The ``{"verdict": ..., "findings": [...]}`` shape every ``--json`` writes."""
    return {
        "verdict": str(verdict_of(findings)),
        "findings": [f.to_dict() for f in findings],
        **extra,
    }
