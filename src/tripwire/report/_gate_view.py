"""A gate result dict (``GateResult.to_dict()``), checked and flattened once, so the HTML,
markdown and JUnit renderers read the same rows and word statuses the same way.

Everything here is still untrusted text: escaping is each renderer's job (autoescape for HTML,
markdown escaping, XML serialisation).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from tripwire.errors import BadInputError
from tripwire.report import _shape as shape

WHERE = "gate result"

# Statuses the stats layer writes plus the ones the gate schema names; anything else is shown
# as given, in a neutral colour, rather than refused.
_STATUS_TONE = {
    "regressed": "bad",
    "inconclusive": "warn",
    "ok": "ok",
    "pass": "ok",
    "improved": "improved",
}
_VERDICT_TONE = {"block": "bad", "warn": "warn", "pass": "ok"}
SEVERITIES = ("block", "warn", "info")


def verdict_tone(verdict: str | None) -> str:
    """CSS class of a verdict (``bad``, ``warn``, ``ok``; ``muted`` for anything unknown)."""
    return _VERDICT_TONE.get(str(verdict or "").lower(), "muted")


def as_dict(value: Any, where: str) -> dict[str, Any]:
    return shape.as_dict(value, where, WHERE)


def as_list(value: Any, where: str) -> list[Any]:
    return shape.as_list(value, where, WHERE)


def number(value: Any) -> float:
    """A float, or NaN for anything missing or not numeric (shown as ``n/a``)."""
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def fmt(value: float, signed: bool = False) -> str:
    """Four significant digits; ``n/a`` for NaN."""
    if not math.isfinite(value):
        return "n/a" if math.isnan(value) else ("+inf" if value > 0 else "-inf")
    return f"{value:+.4g}" if signed else f"{value:.4g}"


def brief(value: Any, limit: int = 120) -> str:
    """One line of an evidence value: strings as they are, everything else as JSON."""
    if isinstance(value, float):
        return fmt(value)
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


@dataclass(frozen=True)
class SliceRow:
    """One slice x metric of one eval suite."""

    suite: str
    slice: str
    metric: str
    n: int | None
    baseline: float
    candidate: float
    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    margin: float
    higher_is_better: bool
    status: str
    regressed: bool
    note: str = ""
    """Why an inconclusive slice is so (what its evidence could not rule out)."""
    mde: float = math.nan
    """The degradation the slice catches with 80% power (what its items could see)."""
    look: int | None = None
    """Sequential comparisons: the look whose data decided it (or the last one)."""

    @property
    def tone(self) -> str:
        return _STATUS_TONE.get(self.status, "muted")

    @property
    def label(self) -> str:
        """``metric@slice``: the name the policy's ``slice_margins`` use."""
        return f"{self.metric}@{self.slice}"

    @property
    def margin_delta(self) -> float:
        """The delta at which the margin is crossed (negative when higher is better)."""
        return -abs(self.margin) if self.higher_is_better else abs(self.margin)

    @property
    def needs_attention(self) -> bool:
        return self.status in ("regressed", "inconclusive")

    @property
    def ci_text(self) -> str:
        return f"[{fmt(self.ci_low, True)}, {fmt(self.ci_high, True)}]"

    def cell(self, name: str) -> str:
        """A formatted number (``baseline``, ``candidate``, ``delta``, ``p_value``, ``margin``,
        ``mde``)."""
        return fmt(getattr(self, name), signed=name == "delta")

    @property
    def n_text(self) -> str:
        """Items, and the look that decided a sequential slice."""
        n = "n/a" if self.n is None else str(self.n)
        return n if self.look is None else f"{n} (look {self.look})"


@dataclass(frozen=True)
class SuiteView:
    suite: str
    verdict: str
    alpha: float
    correction: str
    baseline_run: str
    candidate_run: str
    slices: list[SliceRow]
    items: int | None = None
    """Items (tasks) the verdicts rest on."""
    sequential: dict[str, Any] | None = None
    """A sequential comparison's record: its looks, where it stopped and why."""

    @property
    def tone(self) -> str:
        return verdict_tone(self.verdict)

    @property
    def items_text(self) -> str:
        """Items used, and for a sequential comparison where it stopped and why."""
        used = "n/a" if self.items is None else f"{self.items} items"
        seq = self.sequential
        if not seq:
            return used
        return f"{used}; sequential: {seq.get('why') or seq.get('stopped') or 'stopped'}"


@dataclass(frozen=True)
class FindingRow:
    source: str
    code: str
    severity: str
    message: str
    token_ids: list[Any]
    record_ids: list[Any]
    evidence: dict[str, Any]

    @property
    def evidence_json(self) -> str:
        return pretty_json(self.evidence)


@dataclass(frozen=True)
class Change:
    """One component that differs between baseline and candidate."""

    component: str
    files: list[str]
    detail: str


# where a remedy's shell command starts: `tripwire` and one of its command groups
_COMMAND = re.compile(
    r"(?:^|\s)(tripwire (?:tokens|data|train|registry|eval|gate|reference|monitor|demo)\b.*)$",
    re.DOTALL,
)


@dataclass(frozen=True)
class RootCause:
    source: str
    code: str
    message: str
    evidence: dict[str, Any]
    remedy: str

    @property
    def evidence_items(self) -> list[tuple[str, str]]:
        return [(str(k), brief(v)) for k, v in self.evidence.items()]

    @property
    def evidence_sentences(self) -> list[str]:
        """The evidence in words and numbers (``tripwire.report._evidence``)."""
        from tripwire.report._evidence import evidence_sentences

        return evidence_sentences(self.evidence)

    @property
    def evidence_json(self) -> str:
        """The raw evidence, for the report's toggle."""
        return json.dumps(self.evidence, indent=2, sort_keys=True, default=str)

    @property
    def remedy_parts(self) -> tuple[str, str]:
        """``(prose, command)``: a remedy reads "roll back and investigate: tripwire registry
        rollback ...", and only the command belongs in a block a reader copies into a shell."""
        found = _COMMAND.search(self.remedy)
        if found is None:
            return self.remedy.strip(), ""
        prose = self.remedy[: found.start()].strip().rstrip(":").strip()
        return prose, found.group(1).strip()


@dataclass(frozen=True)
class GateView:
    """What every gate renderer shows, in display order."""

    verdict: str
    exit_code: int | None
    baseline: dict[str, str]
    candidate: dict[str, str]
    root_cause: RootCause | None
    findings: list[FindingRow]
    suites: list[SuiteView]
    changes: list[Change]
    lineage: dict[str, Any]
    policy: dict[str, Any]
    checks_run: list[str]
    cached: bool
    seconds: float

    @property
    def tone(self) -> str:
        return verdict_tone(self.verdict)

    @property
    def slices(self) -> list[SliceRow]:
        return [row for s in self.suites for row in s.slices]

    @property
    def attention(self) -> list[SliceRow]:
        """Regressed slices first, then inconclusive ones."""
        rows = [r for r in self.slices if r.needs_attention]
        return sorted(rows, key=lambda r: r.status != "regressed")

    @property
    def counts(self) -> list[tuple[str, dict[str, int]]]:
        """Findings per source and severity, sources in first-seen order."""
        out: dict[str, dict[str, int]] = {}
        for f in self.findings:
            row = out.setdefault(f.source, dict.fromkeys(SEVERITIES, 0))
            row[f.severity] = row.get(f.severity, 0) + 1
        return list(out.items())

    @property
    def seconds_text(self) -> str:
        return "n/a" if not math.isfinite(self.seconds) else f"{self.seconds:.1f} s"

    @property
    def policy_json(self) -> str:
        return pretty_json(self.policy)

    @property
    def training_json(self) -> str | None:
        training = self.lineage.get("training")
        return pretty_json(training) if training else None


def _model(value: Any, where: str) -> dict[str, str]:
    data = as_dict(value, where)
    return {k: str(data.get(k) or "") for k in ("path", "id", "name")}


def _slice(suite: str, value: Any, where: str) -> SliceRow:
    s = as_dict(value, where)
    regressed = bool(s.get("regressed"))
    status = str(s.get("status") or ("regressed" if regressed else "")).lower()
    n = s.get("n")
    return SliceRow(
        suite=suite,
        slice=str(s.get("slice", "all")),
        metric=str(s.get("metric", "?")),
        n=int(n) if isinstance(n, int | float) and math.isfinite(n) else None,
        baseline=number(s.get("baseline")),
        candidate=number(s.get("candidate")),
        delta=number(s.get("delta")),
        ci_low=number(s.get("ci_low")),
        ci_high=number(s.get("ci_high")),
        p_value=number(s.get("p_value")),
        margin=number(s.get("margin")),
        higher_is_better=bool(s.get("higher_is_better", True)),
        status=status,
        regressed=regressed,
        note=str(s.get("note") or ""),
        mde=number(s.get("mde")),
        look=s["look"] if isinstance(s.get("look"), int) else None,
    )


def _suite(value: Any, where: str) -> SuiteView:
    e = as_dict(value, where)
    name = str(e.get("suite", "?"))
    rows = as_list(e.get("slices"), f"{where}.slices")
    return SuiteView(
        suite=name,
        verdict=str(e.get("verdict") or "").lower(),
        alpha=number(e.get("alpha")),
        correction=str(e.get("correction") or ""),
        baseline_run=str(e.get("baseline_run") or ""),
        candidate_run=str(e.get("candidate_run") or ""),
        slices=[_slice(name, s, f"{where}.slices[{i}]") for i, s in enumerate(rows)],
        items=e["items"] if isinstance(e.get("items"), int) and e.get("slices") else None,
        sequential=as_dict(e["sequential"], f"{where}.sequential") if e.get("sequential") else None,
    )


def _finding(value: Any, where: str) -> FindingRow:
    f = as_dict(value, where)
    return FindingRow(
        source=str(f.get("source") or "other"),
        code=str(f.get("code") or "?"),
        severity=str(f.get("severity") or "info").lower(),
        message=str(f.get("message") or ""),
        token_ids=as_list(f.get("token_ids"), f"{where}.token_ids"),
        record_ids=as_list(f.get("record_ids"), f"{where}.record_ids"),
        evidence=as_dict(f.get("evidence"), f"{where}.evidence"),
    )


def _change(value: Any, where: str) -> Change:
    c = as_dict(value, where)
    return Change(
        component=str(c.get("component") or "other"),
        files=[str(f) for f in as_list(c.get("files"), f"{where}.files")],
        detail=str(c.get("detail") or ""),
    )


def _root_cause(value: Any) -> RootCause | None:
    if value is None:
        return None
    rc = as_dict(value, "root_cause")
    return RootCause(
        source=str(rc.get("source") or ""),
        code=str(rc.get("code") or ""),
        message=str(rc.get("message") or ""),
        evidence=as_dict(rc.get("evidence"), "root_cause.evidence"),
        remedy=str(rc.get("remedy") or ""),
    )


def gate_view(result: Any) -> GateView:
    """Check the shape of a gate result and flatten it; ``BadInputError`` when it is not one."""
    r = as_dict(result, "the result")
    if not r.get("verdict"):
        raise BadInputError(WHERE, "has no 'verdict' (is this a tripwire gate --json file?)")
    lineage = as_dict(r.get("lineage"), "lineage")
    findings = as_list(r.get("findings"), "findings")
    evals = as_list(r.get("evals"), "evals")
    exit_code = r.get("exit_code")
    return GateView(
        verdict=str(r["verdict"]).lower(),
        exit_code=exit_code if isinstance(exit_code, int) else None,
        baseline=_model(r.get("baseline"), "baseline"),
        candidate=_model(r.get("candidate"), "candidate"),
        root_cause=_root_cause(r.get("root_cause")),
        findings=[_finding(f, f"findings[{i}]") for i, f in enumerate(findings)],
        suites=[_suite(e, f"evals[{i}]") for i, e in enumerate(evals)],
        changes=[
            _change(c, f"lineage.changes[{i}]")
            for i, c in enumerate(as_list(lineage.get("changes"), "lineage.changes"))
        ],
        lineage=lineage,
        policy=as_dict(r.get("policy"), "policy"),
        checks_run=[str(c) for c in as_list(r.get("checks_run"), "checks_run")],
        cached=bool(r.get("cached")),
        seconds=number(r.get("seconds")),
    )
