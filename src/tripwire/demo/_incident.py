"""The postmortem: the demo's stage results assembled into the incident report's document."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tripwire import __version__
from tripwire.demo._stage import StageResult

_BUGS = ("tokens", "data", "forgetting")
_LESSONS = [
    "Version every component: the tokenizer, the training data and its configuration are part of "
    "the release, and the gate reads what changed from their manifests.",
    "Audit the tokenizer against the embedding table whenever either changes; re-aligning them "
    "is a mechanical repair once the mismatch is named.",
    "Never train on data that has not passed the audit; the fine-tuning command refuses it unless "
    "told otherwise, and the gate audits the recorded training set again.",
    "Fine-tune with forgetting control (replay, EWC, LwF, lower rates) and measure every language "
    "and task the model served before, not just the one being improved.",
    "Gate every release against the control with paired statistics per slice; keep a known-good "
    "version to roll back to, and bisect the lineage when a regression slips through.",
    "Monitor production continuously: the serving path can corrupt outputs that offline "
    "evaluation never sees.",
]


def _verdict(gate: dict[str, Any]) -> str:
    return str(gate.get("verdict", "-"))


def _summary(
    reference: dict[str, Any],
    bugs: list[dict[str, Any]],
    caught: int,
    fixed: int,
    clean: int,
    bisect: Any,
    monitor: Any,
    stages: list[dict[str, Any]],
) -> str:
    """What the run showed, in a few sentences: only what ran (``--only``, the pretrained
    model's flow) is claimed."""
    model = (f"the {reference.get('profile')} reference code model"
             if reference.get("profile") != "smollm2" else "SmolLM2-135M-Instruct")  # fmt: skip
    parts = []
    if bugs:
        which = ", ".join(b["name"] for b in bugs)
        parts.append(
            f"{len(bugs)} of the incident's three bugs ({which}) were injected into {model}. "
            f"The release gate blocked {caught} of {len(bugs)} bad candidates with a root cause "
            f"each; {fixed} of {len(bugs)} remedies were not blocked ({clean} passed outright, "
            f"{fixed - clean} with warnings the release policy accepts)."
        )
    else:
        parts.append(f"No bug stage ran on {model} in this run.")
    if bisect:
        parts.append("Bisection found the first bad version in a lineage.")
    if monitor:
        parts.append("The production monitor flagged corrupted serving output.")
    if stages:
        parts.append("Also run: " + "; ".join(s["title"] for s in stages) + ".")
    return " ".join(parts)


def incident_document(reference: dict[str, Any], results: list[StageResult]) -> dict[str, Any]:
    """The incident report's input (see ``tripwire.report.render_incident_html``)."""
    by_name = {r.name: r for r in results}
    bugs = []
    timeline: list[dict[str, Any]] = [
        {"step": 1, "event": "reference model released and marked known-good", "model": "v1",
         "verdict": None},
    ]  # fmt: skip
    for name in _BUGS:
        r = by_name.get(name)
        if r is None or "gates" not in r.data:
            continue
        gates = r.data["gates"]
        cand, fix = gates["candidate"], gates["remedy"]
        rc = cand.get("root_cause") or {}
        bugs.append(
            {
                "name": name,
                "title": r.title,
                "injected": r.data.get("injected", ""),
                "evidence": r.lines,
                "gate": cand,
                "remedy": {
                    "description": rc.get("remedy", ""),
                    "command": r.data.get("remedy", ""),
                    "gate": fix,
                },
            }
        )
        step = len(timeline) + 1
        timeline += [
            {"step": step, "event": f"candidate: {r.data.get('injected', name)}",
             "model": cand["candidate"]["name"], "verdict": _verdict(cand)},
            {"step": step + 1, "event": f"remedy: {r.data.get('remedy', '')}",
             "model": fix["candidate"]["name"], "verdict": _verdict(fix)},
        ]  # fmt: skip
    bisect = None
    if "bisect" in by_name:
        d = by_name["bisect"].data
        bisect = {k: d[k] for k in ("good", "bad", "steps", "first_bad")}
        timeline.append(
            {"step": len(timeline) + 1, "event": f"bisect over {len(d['steps'])} nightly versions "
             f"({d['gate_runs']} gate runs)", "model": (d["first_bad"] or {}).get("name", "-"),
             "verdict": "block" if d["first_bad"] else "pass"}
        )  # fmt: skip
    monitor = None
    if "monitor" in by_name:
        m = by_name["monitor"]
        alerts = m.data.get("alerts") or []
        monitor = {"lines": m.lines, "alert": alerts[0] if alerts else None}
        timeline.append(
            {"step": len(timeline) + 1, "event": "production monitor replay: "
             + (m.lines[0] if m.lines else ""), "model": "v2",
             "verdict": "block" if alerts else "pass"}
        )  # fmt: skip
    # stages with no section of their own (the pretrained model's HumanEval), shown as they ran
    shown = {*_BUGS, "bisect", "monitor"}
    stages = [{"name": r.name, "title": r.title, "ok": r.ok, "lines": r.lines}
              for r in results if r.name not in shown]  # fmt: skip
    caught = sum(1 for b in bugs if b["gate"]["verdict"] == "block")
    fixed = sum(1 for b in bugs if b["remedy"]["gate"]["verdict"] != "block")
    clean = sum(1 for b in bugs if b["remedy"]["gate"]["verdict"] == "pass")
    return {
        "title": "Postmortem: a code model that silently got worse, reproduced and caught",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tripwire_version": __version__,
        "reference": reference,
        "summary": _summary(reference, bugs, caught, fixed, clean, bisect, monitor, stages),
        "timeline": timeline,
        "bugs": bugs,
        "bisect": bisect,
        "monitor": monitor,
        "stages": stages,
        "lessons": _LESSONS,
    }
