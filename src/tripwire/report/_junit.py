"""A gate result as JUnit XML, so CI systems list each check and each eval slice as a test.

Testcases: one per check (``lineage``, ``tokens``, ``data``, ``eval:<suite>``; a check that did
not run is ``skipped``) and one per eval slice x metric. Blocking findings and regressed slices
are ``<failure>``s; warnings and inconclusive slices go to ``<system-out>``.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import Any

from tripwire.report._gate_view import FindingRow, GateView, SliceRow, brief, gate_view

SUITE_NAME = "tripwire.gate"
_ALWAYS = ("lineage", "tokens", "data")
# XML 1.0 cannot carry these at all, escaped or not; untrusted text may contain them
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(value: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _findings_of(check: str, findings: list[FindingRow]) -> list[FindingRow]:
    """Findings a check produced: same source, or ``eval`` findings naming the check's suite."""
    suite = check.partition(":")[2]
    return [
        f
        for f in findings
        if f.source == check
        or (suite and f.source == "eval" and str(f.evidence.get("suite", "")) == suite)
    ]


def _line(f: FindingRow) -> str:
    return f"[{f.severity}] {f.code}: {brief(f.message, 500)}"


def _case(suite: ET.Element, classname: str, name: str, seconds: float | None) -> ET.Element:
    """A testcase; ``time`` only where it was measured (a slice is decided inside its suite's
    comparison, whose time its ``eval:<suite>`` case carries), never a made-up 0."""
    case = ET.SubElement(suite, "testcase", classname=clean(classname), name=clean(name))
    if seconds is not None and math.isfinite(seconds):
        case.set("time", f"{seconds:.3f}")
    return case


def _check_case(
    suite: ET.Element, g: GateView, check: str, ran: bool, seconds: float | None
) -> bool:
    case = _case(suite, SUITE_NAME, check, seconds if ran else 0.0)
    if not ran:
        ET.SubElement(case, "skipped", message=f"{check} was not needed for this change")
        return False
    found = _findings_of(check, g.findings)
    blocking = [_line(f) for f in found if f.severity == "block"]
    evals = next((s for s in g.suites if f"eval:{s.suite}" == check), None)
    if evals is not None and evals.verdict == "block":
        regressed = [r.label for r in evals.slices if r.regressed or r.status == "regressed"]
        if regressed:  # a suite that could not run blocks through its finding, not a slice
            names = ", ".join(regressed)
            blocking.append(f"[block] regression: {len(regressed)} slice(s): {names}")
    if blocking:
        failure = ET.SubElement(case, "failure", message=clean(blocking[0]), type="block")
        failure.text = clean("\n".join(blocking))
    notes = [f"{c.component}: {c.detail} ({', '.join(c.files)})" for c in g.changes]
    notes = notes if check == "lineage" else []
    notes += [_line(f) for f in found if f.severity != "block"]
    if notes:
        ET.SubElement(case, "system-out").text = clean("\n".join(notes))
    return bool(blocking)


def _slice_case(suite: ET.Element, row: SliceRow) -> bool:
    case = _case(suite, f"{SUITE_NAME}.eval.{row.suite}", row.label, None)
    summary = (
        f"{row.metric}@{row.slice}: {row.cell('baseline')} -> {row.cell('candidate')} "
        f"(delta {row.cell('delta')}, CI {row.ci_text}, margin {row.cell('margin')}, "
        f"p {row.cell('p_value')}, n {row.n if row.n is not None else 'n/a'}): {row.status}"
    )
    failed = row.regressed or row.status == "regressed"
    if failed:
        ET.SubElement(case, "failure", message=clean(summary), type="regression").text = clean(
            summary
        )
    else:
        ET.SubElement(case, "system-out").text = clean(summary)
    return failed


def gate_junit(result: dict[str, Any]) -> str:
    """The XML document (``<testsuites>`` holding one ``<testsuite name="tripwire.gate">``)."""
    g = gate_view(result)
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
    checks = list(dict.fromkeys([*_ALWAYS, *g.checks_run, *(f"eval:{s.suite}" for s in g.suites)]))
    # a finding from a source no check is named after must still reach CI
    sources = dict.fromkeys(f.source for f in g.findings)
    checks += [src for src in sources if src not in checks and src != "eval"]
    failures = skipped = 0
    timed = result.get("check_seconds") if isinstance(result, dict) else None
    timed = timed if isinstance(timed, dict) else {}
    for check in checks:
        ran = check in g.checks_run or check in sources or check not in _ALWAYS
        took = timed.get(check)
        failures += _check_case(suite, g, check, ran, float(took) if took is not None else None)
        skipped += not ran
    for row in g.slices:
        failures += _slice_case(suite, row)
    tests = len(checks) + len(g.slices)
    seconds = f"{g.seconds:.3f}" if math.isfinite(g.seconds) else "0"
    for element in (root, suite):
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", "0")
        element.set("time", seconds)
    suite.set("skipped", str(skipped))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
