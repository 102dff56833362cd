"""The data stage's expert review (issue #27): a review set drawn from the audit of the
contaminated set, decided by two scripted experts who know what was planted, brought back like
any reviewers' decisions; the reviewed sample's estimate of the kept data's defect rate must
agree with what the checks left behind (the planted faults the audit kept).

Cached like the other stages: the review directory resumes, and experts only decide what they
have not decided yet.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tripwire.data import REASONS, AuditConfig
from tripwire.demo._stage import StageContext
from tripwire.faults import ContaminatedSet
from tripwire.review import (
    DataPlan,
    ReviewStore,
    Target,
    apply_data_review,
    create_data_review,
    import_decisions,
)

EXPERTS = ("expert-a", "expert-b")
PLAN = DataPlan(
    target=Target(margin=0.05, confidence=0.95, expected=0.1),
    per_reason=5,
    borderline=10,
    overlap=0.2,
)


@dataclass
class Reviewed:
    ok: bool
    lines: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def _decision(fault: str | None) -> dict[str, str]:
    if fault is None:
        return {"decision": "keep", "reason": "", "note": ""}
    return {"decision": "drop", "reason": fault if fault in REASONS else "other", "note": ""}


def review_sample(
    ctx: StageContext,
    work: Path,
    dataset: Path,
    planted: ContaminatedSet,
    findings: Path,
    config: AuditConfig,
) -> Reviewed:
    """Review a sample of the audited set and compare its estimate with the truth."""
    # one review folder per audit (by its findings' content): a rerun after the audit changed
    # starts a new review instead of refusing the old one
    folder = work / f"review-{hashlib.sha256(findings.read_bytes()).hexdigest()[:12]}"
    made = create_data_review(
        folder,
        [dataset],
        findings,
        reviewers=list(EXPERTS),
        plan=PLAN,
        clean=work / "clean.reviewed.jsonl",
        audit_config=config,
    )
    store = ReviewStore(made.directory)
    decided = {(d.item_id, d.reviewer) for d in store.history()}
    rows = []
    for item in store.items():
        answer = _decision(planted.items[item.hidden["position"]].fault)
        for who in EXPERTS:
            if item.item_id in store.queue(who) and (item.item_id, who) not in decided:
                rows.append({"item_id": item.item_id, "reviewer": who, "answer": answer})
    if rows:  # recorded as a file and imported, as decisions from another tool would be
        recorded = folder / "expert-decisions.jsonl"
        recorded.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        import_decisions(store, [recorded])
    results = apply_data_review(store, work / "clean.reviewed.jsonl", "tripwire demo")
    with open(findings, encoding="utf-8") as f:
        kept = [planted.items[p].fault for p, line in enumerate(f) if json.loads(line)["keep"]]
    missed = sum(fault is not None for fault in kept)
    truth = missed / max(1, len(kept))
    d = results["kept_defect_rate"]
    agrees = d["low"] <= truth <= d["high"]
    c = results["checks"]
    lines = [
        f"expert review: {results['decided']} of {made.summary['records']} records reviewed "
        f"({made.summary['borderline']} the checks were least sure of, a stratified sample of "
        f"{made.summary['kept_sample']} kept and {made.summary['removed_sample']} removed)",
        f"estimated defect rate of the kept data: {d['estimate']:.1%} [{d['low']:.1%}, "
        f"{d['high']:.1%}] (95%); the checks left {missed} planted faults in {len(kept)} kept "
        f"records ({truth:.1%}): {'agrees' if agrees else 'DISAGREES'}",
        f"checks against the experts: precision {c['precision']['estimate']:.1%} "
        f"[{c['precision']['low']:.1%}, {c['precision']['high']:.1%}], recall "
        f"{c['recall']['estimate']:.1%} [{c['recall']['low']:.1%}, {c['recall']['high']:.1%}]",
    ]
    return Reviewed(
        ok=agrees,
        lines=lines,
        data={
            "kept_defect_rate": d,
            "true_kept_defect_rate": truth,
            "precision": c["precision"],
            "recall": c["recall"],
            "agreement": results["agreement"],
            "clean": results["clean"],
            "directory": str(made.directory),
        },
    )
