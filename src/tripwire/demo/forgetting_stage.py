"""Demo stage 3: an aggressive narrow fine-tune (the incident's bug 3) forgets the languages it
was not trained on; the comparison with its base reports them regressed, with effect sizes and
confidence intervals. The same fine-tune under LwF passes while keeping most of the gain."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from tripwire.artifacts import ArtifactKind, Manifest, ensure_manifest
from tripwire.demo._stage import StageContext, StageResult
from tripwire.errors import BadInputError
from tripwire.stats import Margin, SliceComparison
from tripwire.train import RetentionScorer, TrainConfig, finetune, reference_language_data

TARGET = "python"
# One language, a high learning rate, no protection: what the incident's fine-tune did.
AGGRESSIVE = TrainConfig(
    learning_rate=3e-3,
    steps=100,
    batch_size=16,
    context=128,
    warmup_steps=10,
    checkpoint_every=25,
)
CONTROLLED = replace(AGGRESSIVE, regularizer="lwf", lwf_alpha=2.0, lwf_temperature=2.0)
# The demo's release policy: another language may get at most 5% worse in bits per byte.
MARGIN = Margin(0.05, relative=True)
CHUNKS_PER_LANGUAGE = 150
MOST_OF_THE_GAIN = 0.6


def _tuned(ctx: StageContext, data: Path, name: str, config: TrainConfig) -> Path:
    """Fine-tune once; later runs reuse the checkpoint while base and config are unchanged."""
    out = ctx.workdir / "forgetting" / name
    base_id = ensure_manifest(ctx.reference, ArtifactKind.MODEL).id
    try:
        notes = Manifest.read(out).notes.get("train", {})
        if notes.get("config") == config.to_dict() and notes.get("base", {}).get("id") == base_id:
            return out
    except BadInputError:
        pass
    finetune(ctx.reference, data, out, config, allow_unaudited=True, progress=ctx.progress)
    return out


def _gain(cs: list[SliceComparison]) -> float:
    c = next(c for c in cs if c.slice == TARGET)
    return -c.delta / c.baseline


def _cells(cs: list[SliceComparison]) -> list[str]:
    return [
        f"{c.delta / c.baseline:+.1%} [{c.ci_low / c.baseline:+.1%}, "
        f"{c.ci_high / c.baseline:+.1%}] {c.status}"
        for c in cs
    ]


def run(ctx: StageContext) -> StageResult:
    """Fine-tune twice (plain, LwF), compare each with the base language by language."""
    work = ctx.workdir / "forgetting"
    work.mkdir(parents=True, exist_ok=True)
    data = reference_language_data(ctx.reference, TARGET, work / f"{TARGET}.jsonl")
    plain = _tuned(ctx, data, "aggressive", AGGRESSIVE)
    lwf = _tuned(ctx, data, "controlled", CONTROLLED)
    scorer = RetentionScorer(ctx.reference, max_chunks=CHUNKS_PER_LANGUAGE, progress=ctx.progress)
    chunks = scorer.chunks
    results = {"aggressive": scorer.compare(plain, MARGIN), "lwf": scorer.compare(lwf, MARGIN)}
    forgot = {
        name: [c.slice for c in cs if c.slice != TARGET and c.regressed]
        for name, cs in results.items()
    }
    kept = _gain(results["lwf"]) / max(_gain(results["aggressive"]), 1e-9)
    ok = bool(forgot["aggressive"]) and not forgot["lwf"] and kept >= MOST_OF_THE_GAIN
    langs = [c.slice for c in results["aggressive"]]
    lines = [
        f"narrow fine-tune: {TARGET} only, peak lr {AGGRESSIVE.learning_rate:g}, "
        f"{AGGRESSIVE.steps} steps of {AGGRESSIVE.batch_size} x {AGGRESSIVE.context} tokens",
        f"compared with the base on held-out bits/byte, {sum(map(len, chunks.values()))} chunks "
        f"paired, clustered by file, Holm across languages; margin {MARGIN}",
        f"aggressive: {TARGET} {-_gain(results['aggressive']):+.1%}; regressed: "
        f"{', '.join(forgot['aggressive']) or 'none'}",
        f"with LwF (alpha {CONTROLLED.lwf_alpha:g}, T {CONTROLLED.lwf_temperature:g}): "
        f"{TARGET} {-_gain(results['lwf']):+.1%} ({kept:.0%} of the gain); regressed: "
        f"{', '.join(forgot['lwf']) or 'none'}",
    ]
    mean_other = {
        name: float(np.mean([c.delta / c.baseline for c in cs if c.slice != TARGET]))
        for name, cs in results.items()
    }
    return StageResult(
        name="forgetting",
        title="stage 3: a narrow fine-tune forgets; forgetting control keeps it",
        ok=ok,
        lines=lines,
        columns=["fine-tune", *(f"{lang} change [90% CI] status" for lang in langs)],
        rows=[[name, *_cells(cs)] for name, cs in results.items()],
        data={
            "target": TARGET,
            "margin": str(MARGIN),
            "models": {"aggressive": str(plain), "lwf": str(lwf)},
            "configs": {"aggressive": AGGRESSIVE.to_dict(), "lwf": CONTROLLED.to_dict()},
            "comparisons": {k: [c.to_dict() for c in cs] for k, cs in results.items()},
            "regressed": forgot,
            "gain_kept": kept,
            "mean_forgetting": mean_other,
        },
    )
