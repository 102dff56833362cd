"""How a gate result (``tripwire.gate.GateResult``) is shown: tones, number formats, the slices
that need attention, finding counts and remedy commands, shared by the HTML, markdown and JUnit
renderers so they word a result the same way. A renderer given a plain dict (a ``gate --json``
file) reads it with ``GateResult.from_dict`` first, which names any malformed field.

Everything here is still untrusted text: escaping is each renderer's job (autoescape for HTML,
markdown escaping, XML serialisation).
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from tripwire.findings import Finding, Outcome, Verdict

if TYPE_CHECKING:
    from tripwire.gate import GateResult, SuiteOutcome
    from tripwire.stats import SliceComparison

WHERE = "gate result"
SEVERITIES = ("block", "warn", "info")
_STATUS_TONE = {Outcome.REGRESSED: "bad", Outcome.INCONCLUSIVE: "warn", Outcome.PASS: "ok"}
_VERDICT_TONE = {Verdict.BLOCK: "bad", Verdict.WARN: "warn", Verdict.PASS: "ok"}
# where a remedy's shell command starts: `tripwire` and one of its command groups
_COMMAND = re.compile(
    r"(?:^|\s)(tripwire (?:tokens|data|train|registry|eval|gate|reference|monitor|demo)\b.*)$",
    re.DOTALL,
)


def as_result(value: GateResult | dict[str, Any]) -> GateResult:
    """The typed result; a dict is read as a ``gate --json`` document (``BadInputError`` when it
    is not one)."""
    from tripwire.gate import GateResult

    return value if isinstance(value, GateResult) else GateResult.from_dict(value, WHERE)


def verdict_tone(verdict: Any) -> str:
    """CSS class of a verdict (``bad``, ``warn``, ``ok``; ``muted`` for anything else)."""
    try:
        return _VERDICT_TONE[Verdict(str(verdict or "").lower())]
    except ValueError:
        return "muted"


def status_tone(status: Outcome) -> str:
    return _STATUS_TONE[status]


def fmt(value: float | None, signed: bool = False) -> str:
    """Four significant digits; ``n/a`` for NaN or nothing."""
    if value is None or not math.isfinite(value):
        if value is None or math.isnan(value):
            return "n/a"
        return "+inf" if value > 0 else "-inf"
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


def evidence_json(evidence: dict[str, Any]) -> str:
    """The raw evidence, for the report's toggle."""
    return json.dumps(evidence, indent=2, sort_keys=True, default=str)


class SuiteSlice(NamedTuple):
    """A slice with the suite it belongs to (slices do not carry it)."""

    suite: str
    c: SliceComparison


def ci_text(c: SliceComparison) -> str:
    return f"[{fmt(c.ci_low, True)}, {fmt(c.ci_high, True)}]"


def n_text(c: SliceComparison) -> str:
    """Items, and the look that decided a sequential slice."""
    return str(c.n) if c.look is None else f"{c.n} (look {c.look})"


def margin_delta(c: SliceComparison) -> float:
    """The delta at which the margin is crossed (negative when higher is better)."""
    return -abs(c.margin) if c.higher_is_better else abs(c.margin)


def needs_attention(c: SliceComparison) -> bool:
    return c.status is not Outcome.PASS


def slices(g: GateResult) -> list[SuiteSlice]:
    return [SuiteSlice(o.suite, c) for o in g.evals for c in o.slices]


def attention(g: GateResult) -> list[SuiteSlice]:
    """Regressed slices first, then inconclusive ones."""
    rows = [r for r in slices(g) if needs_attention(r.c)]
    return sorted(rows, key=lambda r: r.c.status is not Outcome.REGRESSED)


def source_of(f: Finding) -> str:
    return f.source or f.code


def counts(g: GateResult) -> list[tuple[str, dict[str, int]]]:
    """Findings per source and severity, sources in first-seen order."""
    out: dict[str, dict[str, int]] = {}
    for f in g.findings:
        row = out.setdefault(source_of(f), dict.fromkeys(SEVERITIES, 0))
        row[f.severity] += 1
    return list(out.items())


def items_used(o: SuiteOutcome) -> int | None:
    """Items (tasks) the suite's verdicts rest on; None when it compared nothing."""
    return o.comparison.items if o.comparison is not None and o.slices else None


def items_text(o: SuiteOutcome) -> str:
    """Items used, and for a sequential comparison where it stopped and why."""
    items = items_used(o)
    used = "n/a" if items is None else f"{items} items"
    seq = o.comparison.sequential if o.comparison is not None else None
    if not seq:
        return used
    return f"{used}; sequential: {seq.get('why') or seq.get('stopped') or 'stopped'}"


def seconds_text(g: GateResult) -> str:
    return "n/a" if not math.isfinite(g.seconds) else f"{g.seconds:.1f} s"


def training_json(g: GateResult) -> str | None:
    training = g.lineage.training
    return pretty_json(training.to_note()) if training else None


def remedy_parts(remedy: str) -> tuple[str, str]:
    """``(prose, command)``: a remedy reads "roll back and investigate: tripwire registry
    rollback ...", and only the command belongs in a block a reader copies into a shell."""
    found = _COMMAND.search(remedy)
    if found is None:
        return remedy.strip(), ""
    prose = remedy[: found.start()].strip().rstrip(":").strip()
    return prose, found.group(1).strip()


# what the templates call (see _html.py)
TEMPLATE_GLOBALS = {
    f.__name__: f
    for f in (verdict_tone, status_tone, fmt, pretty_json, evidence_json, ci_text, n_text,
              slices, attention, counts, items_text, items_used, seconds_text, training_json,
              source_of)
}  # fmt: skip
