"""Pretrained-model stage 1: a real 49k-token vocabulary changed three ways (grown with code
tokens, ids reassigned, normalizer changed), each audited, repaired and gated; and the
single-model audit of the base (what its vocabulary offers to calibrate under-training on)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tripwire.artifacts import ArtifactKind, Manifest, ensure_manifest
from tripwire.demo._gating import gate_line, register
from tripwire.demo._real import Clock, gate_real
from tripwire.demo._stage import StageContext, StageResult
from tripwire.faults import Fault, add_tokens, change_normalizer, reassign_ids
from tripwire.tokens import audit, audit_model, repair

# Code tokens a team might add for its language mix (none is one token in SmolLM2's vocabulary).
CODE_TOKENS = ("    return self.", "def __init__(self", "#include <stdio.h>", "console.log(",
               "my $self = shift;", "    } else {")  # fmt: skip
# Frequent code words, given each other's ids (the incident's remap that never happened).
KEYWORDS = (" def", " return", " if", " for", " in", " import", " self", " while")

VARIANTS: dict[str, tuple[str, Callable[[Path, Path], Fault]]] = {
    "grown": (
        f"{len(CODE_TOKENS)} code tokens added, table grown with random rows",
        lambda ref, dst: add_tokens(ref, dst, CODE_TOKENS, "random", std=1.0),
    ),
    "reassigned": (
        f"ids of {len(KEYWORDS)} code keywords rotated, rows not remapped",
        lambda ref, dst: reassign_ids(ref, dst, KEYWORDS),
    ),
    "normalizer": (
        "a lowercasing normalizer added (code is case-sensitive)",
        lambda ref, dst: change_normalizer(ref, dst),
    ),
}
# What each variant must come to: (gate on the change, gate on its repair).
EXPECTED = {"grown": ("block", "not block"), "reassigned": ("block", "not block"),
            "normalizer": ("block", "block")}  # fmt: skip


COLUMNS = ["change", "audit", "findings", "gate", "audit after repair", "gate after repair",
           "as expected"]  # fmt: skip


def _variant_data(v: dict) -> dict:
    return {"what": v["what"], "audit": v["before"].to_dict(),
            "repaired_audit": v["after"].to_dict(), "gate": v["gates"]["candidate"]["verdict"],
            "gate_repaired": v["gates"]["remedy"]["verdict"]}  # fmt: skip


def _meets(verdict: str, want: str) -> bool:
    if want.startswith("not "):
        return verdict != want[4:]
    return verdict == want


def _variant(ctx: StageContext, name: str, clock: Clock) -> dict:
    ref, work = ctx.reference, ctx.workdir / "tokens"
    what, make = VARIANTS[name]
    with clock.step(f"{name}: make"):
        fault = make(ref, work / name)
        Manifest.build(fault.path, ArtifactKind.MODEL, name=f"smollm2-{name}",
                       parents=[ensure_manifest(ref, ArtifactKind.MODEL).id],
                       command=f"demo: {what}").write(fault.path)  # fmt: skip
        register(ctx, fault.path)
    with clock.step(f"{name}: audit"):
        before = audit(ref, fault.path, progress=ctx.progress)
    with clock.step(f"{name}: repair"):
        fixed = repair(ref, fault.path, work / f"{name}-repaired", progress=ctx.progress)
        after = audit(ref, fixed.path, progress=ctx.progress)
        register(ctx, fixed.path)
    with clock.step(f"{name}: gate both"):
        gates = {"candidate": gate_real(ctx, ref, fault.path),
                 "remedy": gate_real(ctx, ref, fixed.path)}  # fmt: skip
    blocking = [f"{f.code} ({len(f.token_ids)} ids)" for f in before.findings
                if f.severity != "info"]  # fmt: skip
    return {"what": what, "fault": fault, "before": before, "after": after, "fixed": fixed,
            "gates": gates, "findings": blocking}  # fmt: skip


def run(ctx: StageContext) -> StageResult:
    clock = Clock()
    (ctx.workdir / "tokens").mkdir(parents=True, exist_ok=True)
    with clock.step("single-model audit"):
        single = audit_model(ctx.reference, progress=ctx.progress)
    done = {name: _variant(ctx, name, clock) for name in VARIANTS}
    rows, ok = [], True
    for name, v in done.items():
        want_change, want_fix = EXPECTED[name]
        verdicts = (v["gates"]["candidate"]["verdict"], v["gates"]["remedy"]["verdict"])
        met = _meets(verdicts[0], want_change) and _meets(verdicts[1], want_fix)
        ok = ok and met
        rc = v["gates"]["candidate"]["root_cause"] or {}
        rows.append([name, str(v["before"].verdict), "; ".join(v["findings"][:3]) or "-",
                     f"{verdicts[0]} ({rc.get('code', '-')})", str(v["after"].verdict),
                     verdicts[1], "yes" if met else "NO"])  # fmt: skip
    kinds = (
        "tokens.undertrained",
        "tokens.reserved",
        "tokens.beyond_vocabulary",
        "tokens.unreachable",
        "tokens.norm_tail",
    )
    calibration = [f for f in single.findings if f.code.startswith(kinds)]
    lines = [
        *(f"{name}: {v['what']}" for name, v in done.items()),
        *(f"single-model audit of the base: {f.code}: {f.message}" for f in calibration),
        *(gate_line(f"on {name}", v["gates"]["candidate"]) for name, v in done.items()),
        clock.line(),
    ]
    reassigned = done["reassigned"]
    return StageResult(
        name="tokens",
        title="A real vocabulary changed three ways, audited, repaired and gated",
        ok=ok,
        lines=lines,
        columns=[
            "change",
            "audit",
            "findings",
            "gate",
            "audit after repair",
            "gate after repair",
            "as expected",
        ],
        rows=rows,
        data={
            "gates": reassigned["gates"],
            "injected": reassigned["what"],
            "remedy": f"tripwire tokens repair {ctx.reference} {reassigned['fault'].path} "
            f"--out {reassigned['fixed'].path}",
            "variants": {
                n: {
                    "what": v["what"],
                    "audit": v["before"].to_dict(),
                    "repaired_audit": v["after"].to_dict(),
                    "gate": v["gates"]["candidate"]["verdict"],
                    "gate_repaired": v["gates"]["remedy"]["verdict"],
                }
                for n, v in done.items()
            },
            "single_model_audit": single.to_dict(),
            "seconds": clock.seconds,
        },
    )
