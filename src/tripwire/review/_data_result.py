"""What people's decisions on a data review add up to, and the clean copy that honours them.

- Each reviewed record's label is its reviewers' majority (a tie drops it: people who disagree
  make the record doubtful); its reason the most common one given.
- The kept data's defect rate: the share of kept records reviewers would drop, over the kept
  strata (``_estimate``); the checks' precision: the share of removed records reviewers would
  drop too; their recall: the removed share of all records reviewers would drop.
- The clean copy is the audit's kept records, less those reviewers dropped, plus those they
  kept, byte for byte in input order; a record removed for a secret is never restored (accept
  the secret with ``data audit --allow-secrets`` and audit again). Its manifest records every
  decision: who decided what, when, and where it came from.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from tripwire.artifacts import (
    ArtifactKind,
    Manifest,
    atomic_path,
    cannot_write,
    ensure_manifest,
    sha256_file,
)
from tripwire.data import FieldMap
from tripwire.errors import BadInputError
from tripwire.review._agreement import agreement
from tripwire.review._estimate import Stratum, recall, stratified_share
from tripwire.review._records import iter_raw, read_findings
from tripwire.review._store import Decision, Item, ReviewStore

NEVER_RESTORED = frozenset({"secret"})


def label_of(found: list[Decision]) -> dict[str, Any]:
    """The item's label from its reviewers' latest decisions."""
    votes = Counter(d.answer["decision"] for d in found)
    decision = "keep" if votes["keep"] > votes["drop"] else "drop"
    reasons = Counter(d.answer["reason"] for d in found if d.answer["decision"] == "drop")
    return {
        "decision": decision,
        "reason": reasons.most_common(1)[0][0] if decision == "drop" and reasons else "",
        "reviewers": sorted(d.reviewer for d in found),
        "unanimous": len(votes) == 1,
    }


def item_labels(store: ReviewStore) -> dict[str, dict[str, Any]]:
    by_item: dict[str, list[Decision]] = {}
    for d in store.latest().values():
        by_item.setdefault(d.item_id, []).append(d)
    return {i: label_of(ds) for i, ds in by_item.items()}


def _strata(
    design: dict[str, Any], items: list[Item], labels: dict[str, dict[str, Any]], prefix: str
) -> list[Stratum]:
    out = []
    for name, d in design.items():
        if not (name.startswith(prefix) or name == f"borderline|{prefix.rstrip('|')}"):
            continue
        got = tuple(
            labels[i.item_id]["decision"] == "drop"
            for i in items
            if i.stratum == name and i.item_id in labels
        )
        out.append(Stratum(name, d["size"], got, d["census"]))
    return out


def _per_reason(
    design: dict[str, Any], items: list[Item], labels: dict[str, Any], confidence: float
) -> dict[str, Any]:
    out = {}
    reasons = sorted(
        {n.partition("reason=")[2] for n in design if n.startswith("removed|")}
        | {
            i.hidden["reasons"][0]
            for i in items
            if i.stratum == "borderline|removed" and i.hidden["reasons"]
        }
    )
    for reason in reasons:
        strata = []
        name = f"removed|reason={reason}"
        if name in design:
            got = tuple(
                labels[i.item_id]["decision"] == "drop"
                for i in items
                if i.stratum == name and i.item_id in labels
            )
            strata.append(Stratum(name, design[name]["size"], got))
        border = [
            i
            for i in items
            if i.stratum == "borderline|removed" and i.hidden["reasons"][:1] == [reason]
        ]
        if border:
            got = tuple(
                labels[i.item_id]["decision"] == "drop" for i in border if i.item_id in labels
            )
            strata.append(Stratum("borderline", len(border), got, census=True))
        out[reason] = stratified_share(strata, confidence).to_dict()
    return out


def data_results(store: ReviewStore) -> dict[str, Any]:
    """Progress, estimates, the checks' precision and recall, and agreement so far."""
    meta, items = store.meta(), store.items()
    design = meta["design"]
    confidence = meta["plan"]["target"]["confidence"]
    latest = store.latest()
    labels = item_labels(store)
    kept = _strata(design, items, labels, "kept|")
    removed = _strata(design, items, labels, "removed|")
    defect = stratified_share(kept, confidence)
    precision = stratified_share(removed, confidence)
    confusion = Counter(
        f"audit_{'keep' if i.hidden['keep'] else 'drop'}|review_{labels[i.item_id]['decision']}"
        for i in items
        if i.item_id in labels
    )
    votes: dict[str, dict[str, str]] = {}
    for (item_id, reviewer), d in latest.items():
        votes.setdefault(item_id, {})[reviewer] = d.answer["decision"]
    counts = store.counts()
    notes: dict[str, list[str]] = {}
    for (item_id, reviewer), d in sorted(latest.items()):
        if d.answer.get("note"):
            notes.setdefault(item_id, []).append(f"{reviewer}: {d.answer['note']}")
    overruled = [
        {
            "item_id": i.item_id,
            "record_id": i.shown.get("record_id"),
            "audit": "keep" if i.hidden["keep"] else "drop: " + ", ".join(i.hidden["reasons"]),
            "review": labels[i.item_id]["decision"],
            "reason": labels[i.item_id]["reason"],
            "notes": notes.get(i.item_id, []),
        }
        for i in items
        if i.item_id in labels and (labels[i.item_id]["decision"] == "keep") != i.hidden["keep"]
    ]
    return {
        "kind": "data",
        "overruled": overruled,
        "items": len(items),
        "decided": len(labels),
        "reviewers": {
            r: {"assigned": len(store.queue(r)), "decided": counts.get(r, 0)}
            for r in store.reviewer_names()
        },
        "kept_defect_rate": defect.to_dict(),
        "target": meta["plan"]["target"],
        "checks": {
            "precision": precision.to_dict(),
            "recall": recall(removed, kept, confidence).to_dict(),
            "precision_by_reason": _per_reason(design, items, labels, confidence),
        },
        "confusion": dict(sorted(confusion.items())),
        "agreement": agreement(votes, ["keep", "drop"]),
        "records": meta["records"],
        "kept": meta["kept"],
    }


def _check_inputs(meta: dict[str, Any]) -> list[Path]:
    paths = [Path(i["path"]) for i in meta["inputs"]]
    for p, i in zip(paths, meta["inputs"], strict=True):
        if not p.is_file() or sha256_file(p) != i["sha256"]:
            raise BadInputError(
                p, "changed (or gone) since the review was made; review the new audit instead"
            )
    return paths


def _clean_target(store: ReviewStore, meta: dict[str, Any], clean: Path | None) -> Path:
    target = clean or (Path(meta["clean"]) if meta.get("clean") else None)
    return store.directory / "clean.jsonl" if target is None else target


def check_apply(store: ReviewStore, clean: Path | None = None) -> None:
    """BadInputError, before any decision is imported, when ``apply_data_review`` could not
    write the clean copy: its inputs changed, or the copy's path cannot be written."""
    meta = store.meta()
    inputs = _check_inputs(meta)
    target = _clean_target(store, meta, clean)
    sources = {p.resolve() for p in inputs} | {Path(meta["findings_path"]).resolve()}
    if target.resolve() in sources:  # overwritten, the review could never be applied again
        raise BadInputError("--clean", f"{target} is what the review was made from")
    problem = f"{target}: is a folder" if target.is_dir() else cannot_write(target)
    if problem is not None:
        raise BadInputError("--clean", problem)


def apply_data_review(
    store: ReviewStore, clean: Path | None = None, command: str = ""
) -> dict[str, Any]:
    """Write the clean copy with people's decisions, and its manifest; return the results
    (``data_results``) with what changed in the copy."""
    meta = store.meta()
    results = data_results(store)
    target = _clean_target(store, meta, clean)
    inputs = _check_inputs(meta)
    findings = read_findings(Path(meta["findings_path"]))
    labels = item_labels(store)
    items = {i.item_id: i for i in store.items()}
    override: dict[int, bool] = {}
    restored, dropped, refused = [], [], []
    for item_id, label in labels.items():
        h = items[item_id].hidden
        keep = label["decision"] == "keep"
        if keep and NEVER_RESTORED & set(h["reasons"]):
            refused.append(item_id)
            continue
        if keep != h["keep"]:
            override[h["position"]] = keep
            (restored if keep else dropped).append(item_id)
    written = 0
    with atomic_path(target) as tmp, open(tmp, "wb") as out:
        for pos, raw in enumerate(iter_raw(inputs, FieldMap(**meta["fields"]))):
            if override.get(pos, bool(findings[pos]["keep"])):
                out.write(raw + b"\n")
                written += 1
    history = [
        {
            "item_id": d.item_id,
            "record_id": items[d.item_id].shown.get("record_id"),
            "reviewer": d.reviewer,
            **d.answer,
            "decided_at": d.decided_at,
            "source": d.source,
        }
        for d in store.history()
    ]
    parents = [ensure_manifest(p, ArtifactKind.DATASET).id for p in inputs]
    manifest = Manifest.build(
        target,
        ArtifactKind.DATASET,
        parents=parents,
        command=command,
        notes={
            "review": {
                "directory": str(store.directory.resolve()),
                "audit_findings_sha256": meta["findings_sha256"],
                "restored": sorted(restored),
                "dropped": sorted(dropped),
                "not_restored_secret": sorted(refused),
                "kept_defect_rate": results["kept_defect_rate"],
                "decisions": history,
            }
        },
    )
    manifest.write(target)
    results["clean"] = {
        "path": str(target),
        "records": written,
        "restored": sorted(restored),
        "dropped": sorted(dropped),
        "not_restored_secret": sorted(refused),
        "manifest_id": manifest.id,
    }
    return results
