"""``tripwire data review``: a review set made from an audit.

Three parts, chosen before anyone looks, so the estimates stay unbiased:

1. the ``borderline`` records the checks were least sure about (``_borderline``), reviewed in
   full (a census stratum: they speak only for themselves);
2. a stratified random sample of the other kept records, by source and language (and by flag
   for those the audit kept but flagged for review, at least ``per_reason`` of each), as large
   as the precision target needs for their defect rate (``_sampling``);
3. a random sample of the other removed records, ``per_reason`` for each reason (the first
   reason a record was removed for), for the checks' precision per reason.

Items are shown in a seeded random order, and without the audit's verdict: a reviewer who saw
it would tend to agree with it, and precision and recall would look better than they are.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tripwire.artifacts import cannot_write, sha256_file
from tripwire.data import AuditConfig, FieldMap
from tripwire.errors import BadInputError
from tripwire.progress import Progress, no_progress
from tripwire.review._borderline import near_misses, removal_uncertainty
from tripwire.review._records import AuditedRecord, audited_records, read_findings
from tripwire.review._sampling import Target, allocate, draw, sample_size
from tripwire.review._store import DB_NAME, Item, ReviewStore

KIND = "data"


@dataclass(frozen=True)
class DataPlan:
    """How the review set is chosen."""

    target: Target = field(default_factory=Target)
    per_reason: int = 20
    """Removed records sampled per reason (for the checks' precision)."""
    borderline: int = 20
    """Least-sure records reviewed in full."""
    near_misses: bool = True
    """Look for kept records a looser audit would remove (costs a second, looser audit)."""
    overlap: float = 0.0
    """Share of items a second reviewer also sees (for agreement between reviewers)."""
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Created:
    directory: Path
    tokens: dict[str, str]
    """Reviewer -> token, for reviewers added now (empty when an existing review resumes)."""
    resumed: bool
    summary: dict[str, Any]


def assign(
    ids: Sequence[str], names: Sequence[str], overlap: float, seed: int
) -> dict[str, list[str]]:
    """Each item to one reviewer in turn, and a share ``overlap`` of them to the next one as
    well (the items agreement is measured on)."""
    queue: dict[str, list[str]] = {n: [] for n in names}
    if not names:
        return queue
    rng = random.Random(f"{seed}:overlap")
    for k, item in enumerate(ids):
        first = names[k % len(names)]
        queue[first].append(item)
        if len(names) > 1 and rng.random() < overlap:
            queue[names[(k + 1) % len(names)]].append(item)
    return queue


def check_counts(overlap: float, **counts: int) -> None:
    """Refuse a share outside [0, 1] or a negative count (``option_name=value``): a negative
    count would slice the sample from the wrong end."""
    if not 0 <= overlap <= 1:
        raise BadInputError("--overlap", f"must be a share between 0 and 1, got {overlap}")
    for option, n in counts.items():
        if n < 0:
            raise BadInputError(f"--{option.replace('_', '-')}", f"must be 0 or more, got {n}")


def check_out(directory: Path) -> None:
    """Refuse, before any work, a review directory that cannot be made."""
    if directory.exists() and not directory.is_dir():
        raise BadInputError("--out", f"{directory}: is a file, not a review directory")
    problem = cannot_write(directory / DB_NAME)
    if problem is not None:
        raise BadInputError("--out", f"{directory}: {problem}")


def check_reviewers(known: Sequence[str], reviewers: Sequence[str]) -> None:
    """A resumed review keeps its reviewers: a new name would get no queue and no token."""
    new = [r for r in reviewers if r not in known]
    if new:
        raise BadInputError(
            "--reviewer",
            f"{', '.join(map(repr, new))} not in the review being resumed (its reviewers: "
            f"{', '.join(known)}); make a new review to add reviewers",
        )


def _identity(inputs: list[Path], findings: Path, plan: DataPlan) -> dict[str, Any]:
    return {
        "kind": KIND,
        "inputs": [{"path": str(p.resolve()), "sha256": sha256_file(p)} for p in inputs],
        "findings_sha256": sha256_file(findings),
        "plan": plan.to_dict(),
    }


def _item_id(r: AuditedRecord, unique: bool) -> str:
    return r.record_id if unique and "[REDACTED" not in r.record_id else f"record-{r.position + 1}"


def create_data_review(
    directory: str | Path,
    inputs: list[Path],
    findings: Path,
    *,
    reviewers: Sequence[str],
    plan: DataPlan = DataPlan(),
    clean: Path | None = None,
    fields: FieldMap = FieldMap(),
    audit_config: AuditConfig | None = None,
    progress: Progress = no_progress,
) -> Created:
    """Make (or resume) the review set of the audit whose ``findings`` describe ``inputs``.
    ``clean``: the clean copy ``data review import`` rewrites with people's decisions."""
    directory = Path(directory)
    cfg = audit_config or AuditConfig(fields=fields)
    if not reviewers:
        raise BadInputError("--reviewer", "name at least one reviewer")
    if len(set(reviewers)) != len(reviewers) or any(not r.strip() for r in reviewers):
        raise BadInputError("--reviewer", "reviewer names must be distinct and not blank")
    check_counts(plan.overlap, per_reason=plan.per_reason, borderline=plan.borderline)
    identity = _identity(inputs, findings, plan)
    if (directory / DB_NAME).is_file():
        return _resume(directory, identity, reviewers, clean)
    check_out(directory)
    rows = read_findings(findings)
    progress("review", 0, 3)
    records: list[AuditedRecord] = []
    kept_raw: list[bytes] = []
    for raw, rec in audited_records(inputs, rows, cfg.fields, findings, show=set()):
        records.append(rec)
        if rec.keep:
            kept_raw.append(raw)
    progress("review", 1, 3)
    uncertain: dict[int, tuple[float, str]] = {}
    for r in records:
        if not r.keep:
            u = removal_uncertainty(r.reasons, r.details, cfg)
            if u > 0:
                uncertain[r.position] = (u, r.reasons[0])
    if plan.near_misses:
        kept_positions = [r.position for r in records if r.keep]
        for k, (u, check) in near_misses(kept_raw, cfg).items():
            uncertain[kept_positions[k]] = (u, check)
    ranked = sorted(uncertain, key=lambda p: (-uncertain[p][0], p))[: plan.borderline]
    census = set(ranked)
    strata: dict[str, list[int]] = {}
    for r in records:
        if r.position in census:
            name = "borderline|" + ("kept" if r.keep else "removed")
        elif r.keep and r.flags:  # kept, but flagged for people to look at
            name = f"kept|flag={r.flags[0]}"
        elif r.keep:
            name = f"kept|source={r.source}|language={r.language}"
        else:
            name = f"removed|reason={r.reasons[0] if r.reasons else 'unknown'}"
        strata.setdefault(name, []).append(r.position)
    kept_random = {s: m for s, m in strata.items() if s.startswith("kept|")}
    n_kept = sample_size(plan.target, sum(len(m) for m in kept_random.values()))
    counts = allocate({s: len(m) for s, m in kept_random.items()}, n_kept)
    for s, m in strata.items():
        if s.startswith("kept|flag="):  # what the audit asked people to look at, at least
            counts[s] = max(counts[s], min(len(m), plan.per_reason))
        elif s.startswith("removed|"):
            counts[s] = min(len(m), plan.per_reason)
        elif s.startswith("borderline|"):
            counts[s] = len(m)
    members = {s: [str(p) for p in m] for s, m in strata.items()}
    chosen = sorted(int(p) for p in draw(members, counts, plan.seed))
    progress("review", 2, 3)
    by_pos = {r.position: r for r in records}
    ids = [r.record_id for r in records]
    unique = len(set(ids)) == len(ids)
    stratum_of = {p: s for s, m in strata.items() for p in m}
    shown = {
        r.position: r
        for _, r in audited_records(inputs, rows, cfg.fields, findings, show=set(chosen))
        if r.position in chosen
    }
    order = list(chosen)
    random.Random(f"{plan.seed}:order").shuffle(order)
    new_items = []
    for k, p in enumerate(order):
        r = by_pos[p]
        new_items.append(
            Item(
                item_id=_item_id(r, unique),
                position=k,
                stratum=stratum_of[p],
                shown=shown[p].shown,
                hidden={
                    "position": p,
                    "keep": r.keep,
                    "reasons": list(r.reasons),
                    "flags": list(r.flags),
                    "uncertainty": round(uncertain.get(p, (0.0, ""))[0], 4),
                    "near_miss": uncertain[p][1] if r.keep and p in uncertain else None,
                    "raw_sha256": r.raw_sha256,
                    "source": r.source,
                    "language": r.language,
                },
            )
        )
    design = {
        s: {"size": len(m), "sampled": counts.get(s, 0), "census": s.startswith("borderline|")}
        for s, m in sorted(strata.items())
    }
    meta = {
        **identity,
        "findings_path": str(findings.resolve()),
        "clean": str(clean.resolve()) if clean else None,
        "fields": asdict(cfg.fields),
        "audit_config": {
            "near_dup_threshold": cfg.near_dup_threshold,
            "contamination_threshold": cfg.contamination_threshold,
        },
        "records": len(records),
        "kept": sum(r.keep for r in records),
        "design": design,
        "kept_sample_size": n_kept,
    }
    queue = assign([i.item_id for i in new_items], list(reviewers), plan.overlap, plan.seed)
    store = ReviewStore(directory, create=True)
    try:
        tokens = store.populate(meta, new_items, list(reviewers), queue)
    finally:
        store.close()
    progress("review", 3, 3)
    return Created(directory, tokens, False, _summary(meta, len(new_items)))


def _summary(meta: dict[str, Any], items: int) -> dict[str, Any]:
    design = meta["design"]
    return {
        "records": meta["records"],
        "kept": meta["kept"],
        "items": items,
        "borderline": sum(d["sampled"] for s, d in design.items() if d["census"]),
        "kept_sample": sum(d["sampled"] for s, d in design.items() if s.startswith("kept|")),
        "removed_sample": sum(d["sampled"] for s, d in design.items() if s.startswith("removed|")),
        "strata": len(design),
        "target": meta["plan"]["target"],
    }


def _resume(
    directory: Path, identity: dict[str, Any], reviewers: Sequence[str], clean: Path | None
) -> Created:
    store = ReviewStore(directory)
    try:
        meta = store.meta()
        items = len(store.items())
        known = store.reviewer_names()
    finally:
        store.close()

    def same(key: str) -> bool:
        if key == "inputs":  # by content: the files may have moved
            return [i["sha256"] for i in meta.get(key, [])] == [i["sha256"] for i in identity[key]]
        return bool(meta.get(key) == identity[key])

    for key in ("kind", "inputs", "findings_sha256", "plan"):
        if not same(key):
            what = {
                "kind": "another kind of review",
                "inputs": "other inputs",
                "findings_sha256": "another audit",
                "plan": "another plan",
            }[key]
            raise BadInputError(directory, f"holds a review of {what}; pick a new directory")
    check_reviewers(known, reviewers)
    if clean is not None and str(clean.resolve()) != meta.get("clean"):
        where = meta.get("clean") or directory / "clean.jsonl"
        raise BadInputError(
            "--clean",
            f"the review in {directory} writes its clean copy to {where}; give another path "
            "to data review import --clean",
        )
    return Created(directory, {}, True, _summary(meta, items))
