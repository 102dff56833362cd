"""Demo stage: a lineage of nightly versions where one step silently reassigned token ids;
`tripwire registry bisect` gates O(log n) of them against the known-good release and names the
first bad one, then the rollback target is the last known-good version."""

from __future__ import annotations

from pathlib import Path

from tripwire.artifacts import KNOWN_GOOD, ArtifactKind, Manifest, ensure_manifest
from tripwire.demo._gating import gate_pair, register
from tripwire.demo._stage import StageContext, StageResult
from tripwire.errors import BadInputError
from tripwire.faults import finetune, reassign_ids
from tripwire.gate import bisect

NIGHTLIES = 5
BAD_AT = 3
# the bad nightly rotates the ids of these code keywords, as a botched tokenizer merge would
ROTATED = (" if", " for", " return", " in", " def")


def _nightly(src: Path, dst: Path, number: int, parent: str) -> Path:
    """One nightly: a short clean fine-tune, except the bad one; cached while its parent is."""
    try:
        if Manifest.read(dst).parents == (parent,):
            return dst
    except BadInputError:
        pass
    if number == BAD_AT:
        reassign_ids(src, dst, ROTATED)
        how = "tokenizer merge reassigned keyword ids (embeddings not remapped)"
    else:
        finetune(src, dst, steps=4, lr=1e-4, seed=number)
        how = "nightly fine-tune: 4 steps at lr 1e-4"
    Manifest.build(
        dst, ArtifactKind.MODEL, name=f"nightly-{number}", parents=[parent], command=how
    ).write(dst)
    return dst


def run(ctx: StageContext) -> StageResult:
    """Build the lineage, register it, bisect it with the gate, and name the rollback target."""
    if ctx.registry is None:
        raise BadInputError("demo", "the bisect stage needs a registry")
    work = ctx.workdir / "nightlies"
    work.mkdir(parents=True, exist_ok=True)
    good_id = register(ctx, ctx.reference)
    if not ctx.registry.marks(good_id, KNOWN_GOOD):
        ctx.registry.mark(good_id, KNOWN_GOOD, note="the released reference model (v1)")
    parent, path = good_id, ctx.reference
    for number in range(1, NIGHTLIES + 1):
        ctx.progress("nightlies", number - 1, NIGHTLIES)
        path = _nightly(path, work / f"nightly-{number}", number, parent)
        parent = register(ctx, path)
    ctx.progress("nightlies", NIGHTLIES, NIGHTLIES)
    gates: dict[str, dict] = {}

    def judge(base: Path, cand: Path) -> str:
        gates[cand.name] = gate_pair(ctx, base, cand)
        return gates[cand.name]["verdict"]

    result = bisect(ctx.registry, good_id, parent, judge)
    rollback = ctx.registry.last_good()
    first = (result.first_bad or {}).get("name")
    ok = first == f"nightly-{BAD_AT}" and rollback is not None and rollback.id == good_id
    first_gate = gates.get(first or "", {})
    rc = first_gate.get("root_cause") or {}
    lines = [
        f"lineage: {ensure_manifest(ctx.reference, ArtifactKind.MODEL).name} (known-good) -> "
        + " -> ".join(f"nightly-{n}" for n in range(1, NIGHTLIES + 1)),
        f"bisect: {result.gate_runs} gate runs for {len(result.chain)} versions; first bad: "
        f"{first or 'none found'}",
        f"its root cause: {rc.get('code', '-')}: {rc.get('message', '-')}",
        f"rollback target (last known-good): "
        f"{rollback.manifest.name if rollback else '-'} ({rollback.id[:12] if rollback else '-'})",
    ]
    return StageResult(
        name="bisect",
        title="Bisect: which version broke it, and what to roll back to",
        ok=ok,
        lines=lines,
        columns=["#", "version", "id", "gate verdict"],
        rows=[
            [str(i), n["name"], n["id"][:12], n["verdict"] or "(not gated)"]
            for i, n in enumerate(result.chain)
        ],
        data={
            "good": result.chain[0]["name"],
            "bad": result.chain[-1]["name"],
            "steps": [
                {"id": n["id"], "name": n["name"], "verdict": n["verdict"]} for n in result.chain
            ],
            "first_bad": result.first_bad,
            "gate_runs": result.gate_runs,
            "gates": gates,
            "rollback": {"id": rollback.id, "name": rollback.manifest.name} if rollback else None,
        },
    )
