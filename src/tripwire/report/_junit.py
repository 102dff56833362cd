"""A gate result as JUnit XML, so CI systems list each check and each eval slice as a test.

Testcases: one per check (``lineage``, ``tokens``, ``data``, ``eval:<suite>``; a check that did
not run is ``skipped``) and one per eval slice x metric. Blocking findings and regressed slices
are ``<failure>``s; warnings and inconclusive slices go to ``<system-out>``.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from tripwire.findings import Finding, Outcome, Severity, Verdict
from tripwire.report._gate_display import (
    SuiteSlice,
    as_result,
    brief,
    ci_text,
    fmt,
    slices,
    source_of,
)

if TYPE_CHECKING:
    from tripwire.gate import GateResult

SUITE_NAME = "tripwire.gate"
_ALWAYS = ("lineage", "tokens", "data")
# XML 1.0 cannot carry these at all, escaped or not; untrusted text may contain them
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(value: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _findings_of(check: str, findings: list[Finding]) -> list[Finding]:
    """Findings a check produced: same source, or ``eval`` findings naming the check's suite."""
    suite = check.partition(":")[2]
    return [
        f
        for f in findings
        if source_of(f) == check
        or (suite and source_of(f) == "eval" and str(f.evidence.get("suite", "")) == suite)
    ]


def _line(f: Finding) -> str:
    return f"[{f.severity}] {f.code}: {brief(f.message, 500)}"


def _case(suite: ET.Element, classname: str, name: str, seconds: float | None) -> ET.Element:
    """A testcase; ``time`` only where it was measured (a slice is decided inside its suite's
    comparison, whose time its ``eval:<suite>`` case carries), never a made-up 0."""
    case = ET.SubElement(suite, "testcase", classname=clean(classname), name=clean(name))
    if seconds is not None and math.isfinite(seconds):
        case.set("time", f"{seconds:.3f}")
    return case


def _check_case(
    suite: ET.Element, g: GateResult, check: str, ran: bool, seconds: float | None
) -> bool:
    case = _case(suite, SUITE_NAME, check, seconds if ran else 0.0)
    if not ran:
        ET.SubElement(case, "skipped", message=f"{check} was not needed for this change")
        return False
    found = _findings_of(check, g.findings)
    blocking = [_line(f) for f in found if f.severity is Severity.BLOCK]
    evals = next((s for s in g.evals if f"eval:{s.suite}" == check), None)
    if evals is not None and evals.verdict is Verdict.BLOCK:
        regressed = [c.label for c in evals.slices if c.status is Outcome.REGRESSED]
        if regressed:  # a suite that could not run blocks through its finding, not a slice
            names = ", ".join(regressed)
            blocking.append(f"[block] regression: {len(regressed)} slice(s): {names}")
    if blocking:
        failure = ET.SubElement(case, "failure", message=clean(blocking[0]), type="block")
        failure.text = clean("\n".join(blocking))
    notes = [f"{c.component}: {c.detail} ({', '.join(c.files)})" for c in g.lineage.changes]
    notes = notes if check == "lineage" else []
    notes += [_line(f) for f in found if f.severity is not Severity.BLOCK]
    if notes:
        ET.SubElement(case, "system-out").text = clean("\n".join(notes))
    return bool(blocking)


def _slice_case(suite: ET.Element, row: SuiteSlice) -> bool:
    c = row.c
    case = _case(suite, f"{SUITE_NAME}.eval.{row.suite}", c.label, None)
    summary = (
        f"{c.label}: {fmt(c.baseline)} -> {fmt(c.candidate)} "
        f"(delta {fmt(c.delta, True)}, CI {ci_text(c)}, margin {fmt(c.margin)}, "
        f"p {fmt(c.p_value)}, n {c.n}): {c.status}"
    )
    failed = c.status is Outcome.REGRESSED
    if failed:
        ET.SubElement(case, "failure", message=clean(summary), type="regression").text = clean(
            summary
        )
    else:
        ET.SubElement(case, "system-out").text = clean(summary)
    return failed


def gate_junit(result: GateResult | dict[str, Any]) -> str:
    """The XML document (``<testsuites>`` holding one ``<testsuite name="tripwire.gate">``)."""
    g = as_result(result)
    root = ET.Element("testsuites", name="tripwire")
    suite = ET.SubElement(root, "testsuite", name=SUITE_NAME)
    props = ET.SubElement(suite, "properties")
    for key, value in [
        ("verdict", g.verdict),
        *((f"baseline.{k}", v) for k, v in g.baseline.items()),
        *((f"candidate.{k}", v) for k, v in g.candidate.items()),
        ("root_cause", g.root_cause.code if g.root_cause else ""),
        ("remedy", g.root_cause.remedy if g.root_cause else ""),
        ("cached", str(g.cached).lower()),
    ]:
        ET.SubElement(props, "property", name=clean(key), value=clean(value))
    checks = list(dict.fromkeys([*_ALWAYS, *g.checks_run, *(f"eval:{s.suite}" for s in g.evals)]))
    # a finding from a source no check is named after must still reach CI
    sources = dict.fromkeys(source_of(f) for f in g.findings)
    checks += [src for src in sources if src not in checks and src != "eval"]
    failures = skipped = 0
    timed = g.check_seconds
    for check in checks:
        ran = check in g.checks_run or check in sources or check not in _ALWAYS
        took = timed.get(check)
        failures += _check_case(suite, g, check, ran, float(took) if took is not None else None)
        skipped += not ran
    rows = slices(g)
    for row in rows:
        failures += _slice_case(suite, row)
    tests = len(checks) + len(rows)
    seconds = f"{g.seconds:.3f}" if math.isfinite(g.seconds) else "0"
    for element in (root, suite):
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", "0")
        element.set("time", seconds)
    suite.set("skipped", str(skipped))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
