"""Demo stage 1: a tokenizer update without an embedding remap (the incident's bug 1), caught by
`tripwire tokens audit`, fixed by `tripwire tokens repair`, with held-out loss at each step."""

from __future__ import annotations

import json
from pathlib import Path

from tripwire.artifacts import ArtifactKind, Manifest, ensure_manifest, write_json_atomic
from tripwire.demo._gating import gate_line, gate_pair, register
from tripwire.demo._stage import StageContext, StageResult
from tripwire.faults import frequent_tokens, tokenizer_update
from tripwire.findings import Verdict
from tripwire.reference import heldout_losses
from tripwire.tokens import AuditReport, audit, repair

# The update: code tokens added (rows grown with random init) and code keywords, with the most
# frequent tokens of the corpus, given each other's ids, while the embedding table stays as it was.
ADDED = ("    return ", "self.", "    def ", "#include <", "my $", "function ")
KEYWORDS = (" if", " for", " return", " in", " not", " else", "self", " def", " import", " while")
FREQUENT = 40
# The repaired model must come back within this much of the baseline's held-out loss.
REPAIRED_TOLERANCE = 0.05


def heldout_bits_per_byte(model_dir: str | Path, corpus_from: str | Path) -> float:
    """Held-out bits per byte over all languages of a reference model's held-out split (bytes
    do not depend on the tokenizer, so models with different tokenizers compare)."""
    losses = heldout_losses(model_dir, corpus_from)
    nats = sum(h.nats for h in losses.values())
    return nats / 0.6931471805599453 / max(sum(h.bytes for h in losses.values()), 1)


def _cached_baseline(reference: Path, workdir: Path) -> float:
    """The baseline's loss only changes with the reference model: cache it by manifest id."""
    key = ensure_manifest(reference, ArtifactKind.MODEL).id
    cache = workdir / "baseline_loss.json"
    if cache.is_file():
        data = json.loads(cache.read_text(encoding="utf-8"))
        if data.get("id") == key:
            return float(data["bits_per_byte"])
    value = heldout_bits_per_byte(reference, reference)
    write_json_atomic(cache, {"id": key, "bits_per_byte": value})
    return value


def _blocking(report: AuditReport) -> str:
    parts = [
        f"{f.code} ids {list(f.token_ids)[:12]}" for f in report.findings if f.severity == "block"
    ]
    return "; ".join(parts) or "none"


def run(ctx: StageContext) -> StageResult:
    """Break, audit, repair, audit again; held-out loss before, broken and repaired."""
    work = ctx.workdir / "tokens"
    work.mkdir(parents=True, exist_ok=True)
    ref = ctx.reference
    rotated = list(dict.fromkeys([*KEYWORDS, *frequent_tokens(ref, FREQUENT)]))
    fault = tokenizer_update(ref, work / "candidate", add=ADDED, rotate=rotated)
    # The broken release: the reference's tokenizer updated in place, weights untouched.
    Manifest.build(
        fault.path,
        ArtifactKind.MODEL,
        name="v2-tokenizer-update",
        parents=[ensure_manifest(ref, ArtifactKind.MODEL).id],
        command="tokenizer update without embedding remap (demo bug 1)",
    ).write(fault.path)
    register(ctx, fault.path)
    before = audit(ref, fault.path, progress=ctx.progress)
    fixed = repair(ref, fault.path, work / "repaired", progress=ctx.progress)
    after = audit(ref, fixed.path, progress=ctx.progress)
    register(ctx, fixed.path)
    gates = {
        "candidate": gate_pair(ctx, ref, fault.path),
        "remedy": gate_pair(ctx, ref, fixed.path),
    }
    rc = gates["candidate"]["root_cause"] or {}
    gated = (
        gates["candidate"]["verdict"] == "block"
        and rc.get("source") == "tokens"
        and gates["remedy"]["verdict"] != "block"
    )
    ctx.progress("held-out", 0, 3)
    base_loss = _cached_baseline(ref, work)
    ctx.progress("held-out", 1, 3)
    broken_loss = heldout_bits_per_byte(fault.path, ref)
    ctx.progress("held-out", 2, 3)
    repaired_loss = heldout_bits_per_byte(fixed.path, ref)
    ctx.progress("held-out", 3, 3)
    flagged = {i for f in before.findings if f.severity == "block" for i in f.token_ids}
    caught = before.verdict is Verdict.BLOCK and set(fault.token_ids) <= flagged
    recovered = repaired_loss <= base_loss * (1 + REPAIRED_TOLERANCE)
    ok = (
        caught
        and gated
        and after.verdict is not Verdict.BLOCK
        and recovered
        and broken_loss > repaired_loss
    )
    plan = fixed.plan["input"]
    lines = [
        f"tokenizer update: {len(ADDED)} code tokens added with random rows, ids of "
        f"{len(rotated)} tokens reassigned ({len(KEYWORDS)} keywords and the most frequent); "
        f"embedding table not remapped",
        f"audit: {before.verdict} ({_blocking(before)})",
        f"all {len(fault.token_ids)} wrongly embedded ids reported: {'yes' if caught else 'NO'}",
        f"repair: {len(plan['copied'])} rows copied back by token string, "
        f"{len(plan['synthesised'])} synthesised from their pieces -> {fixed.path}",
        f"audit after repair: {after.verdict}",
        gate_line("on the update", gates["candidate"]),
        gate_line("on the repaired model", gates["remedy"]),
    ]
    rows = [
        [
            name,
            verdict,
            f"{loss:.4f}",
            "-" if name == "baseline" else f"{loss / base_loss - 1:+.1%}",
        ]
        for name, verdict, loss in (
            ("baseline", "-", base_loss),
            ("broken", str(before.verdict), broken_loss),
            ("repaired", str(after.verdict), repaired_loss),
        )
    ]
    return StageResult(
        name="tokens",
        title="Tokenizer updated, embeddings not remapped",
        ok=ok,
        lines=lines,
        columns=["model", "audit", "held-out bits/byte", "vs baseline"],
        rows=rows,
        data={
            "gates": gates,
            "injected": (
                f"tokenizer update: {len(ADDED)} code tokens added, ids of {len(rotated)} tokens "
                "reassigned; embedding table not remapped"
            ),
            "remedy": f"tripwire tokens repair {ref} {fault.path} --out {fixed.path}",
            "broken": {"path": str(fault.path), "audit": before.to_dict()},
            "repaired": {
                "path": str(fixed.path),
                "id": fixed.manifest.id,
                "audit": after.to_dict(),
            },
            "expected_token_ids": list(fault.token_ids),
            "heldout_bits_per_byte": {
                "baseline": base_loss,
                "broken": broken_loss,
                "repaired": repaired_loss,
            },
        },
    )
