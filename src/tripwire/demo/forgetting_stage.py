"""Demo stage 3: an aggressive narrow fine-tune (the incident's bug 3) forgets the languages it
was not trained on; the comparison with its base reports them regressed, with effect sizes and
confidence intervals. The same fine-tune under LwF passes while keeping most of the gain."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np

from tripwire.demo._gating import DEMO_POLICY, gate_line, gate_pair, tuned
from tripwire.demo._stage import StageContext, StageResult
from tripwire.demo.review_eval import human_round
from tripwire.train import TrainConfig, reference_language_data

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
MARGIN = DEMO_POLICY.suites[0].margins["bits_per_byte"]
MOST_OF_THE_GAIN = 0.6


def _gain(cs: list[SimpleNamespace]) -> float:
    c = next(c for c in cs if c.slice == TARGET)
    return -c.delta / c.baseline


def _cells(cs: list[SimpleNamespace]) -> list[str]:
    return [
        f"{c.delta / c.baseline:+.1%} [{c.ci_low / c.baseline:+.1%}, "
        f"{c.ci_high / c.baseline:+.1%}] {c.status}"
        for c in cs
    ]


def _languages(gate: dict) -> list[SimpleNamespace]:
    """The gate's per-language retention slices, named by language."""
    return [
        SimpleNamespace(**{**s, "slice": s["slice"].partition("=")[2]})
        for e in gate["evals"]
        if e["suite"] == "retention"
        for s in e["slices"]
        if s["slice"].startswith("language=")
    ]


def run(ctx: StageContext) -> StageResult:
    """Fine-tune twice (plain, LwF), compare each with the base language by language."""
    work = ctx.workdir / "forgetting"
    work.mkdir(parents=True, exist_ok=True)
    data = reference_language_data(ctx.reference, TARGET, work / f"{TARGET}.jsonl")
    plain = tuned(ctx, data, work / "v2-narrow", AGGRESSIVE)
    lwf = tuned(ctx, data, work / "v2-narrow-lwf", CONTROLLED)
    gates = {"candidate": gate_pair(ctx, ctx.reference, plain),
             "remedy": gate_pair(ctx, ctx.reference, lwf)}  # fmt: skip
    rc = gates["candidate"]["root_cause"] or {}
    gated = (
        gates["candidate"]["verdict"] == "block"
        and rc.get("source") == "eval"
        and gates["remedy"]["verdict"] != "block"
    )
    # The gate's retention comparison is the evidence: per language, paired by chunk.
    results = {
        "aggressive": _languages(gates["candidate"]),
        "lwf": _languages(gates["remedy"]),
    }
    n_chunks = sum(c.n for c in results["aggressive"])
    forgot = {
        name: [c.slice for c in cs if c.slice != TARGET and c.regressed]
        for name, cs in results.items()
    }
    kept = _gain(results["lwf"]) / max(_gain(results["aggressive"]), 1e-9)
    human = human_round(ctx, work, plain)  # people in the loop (#27), scripted judges
    ok = gated and bool(forgot["aggressive"]) and not forgot["lwf"] and kept >= MOST_OF_THE_GAIN
    ok = ok and human.ok
    langs = [c.slice for c in results["aggressive"]]
    lines = [
        f"narrow fine-tune: {TARGET} only, peak lr {AGGRESSIVE.learning_rate:g}, "
        f"{AGGRESSIVE.steps} steps of {AGGRESSIVE.batch_size} x {AGGRESSIVE.context} tokens",
        f"compared with the base on held-out bits/byte, {n_chunks} chunks "
        f"paired, clustered by file, Holm across languages; margin {MARGIN}",
        f"aggressive: {TARGET} {-_gain(results['aggressive']):+.1%}; regressed: "
        f"{', '.join(forgot['aggressive']) or 'none'}",
        f"with LwF (alpha {CONTROLLED.lwf_alpha:g}, T {CONTROLLED.lwf_temperature:g}): "
        f"{TARGET} {-_gain(results['lwf']):+.1%} ({kept:.0%} of the gain); regressed: "
        f"{', '.join(forgot['lwf']) or 'none'}",
        gate_line("on the narrow fine-tune", gates["candidate"]),
        gate_line("on the retrain with LwF", gates["remedy"]),
        *human.lines,
    ]
    mean_other = {
        name: float(np.mean([c.delta / c.baseline for c in cs if c.slice != TARGET]))
        for name, cs in results.items()
    }
    return StageResult(
        name="forgetting",
        title="A narrow fine-tune forgets; forgetting control keeps it",
        ok=ok,
        lines=lines,
        columns=["fine-tune", *(f"{lang} change [90% CI] status" for lang in langs)],
        rows=[[name, *_cells(cs)] for name, cs in results.items()],
        data={
            "gates": gates,
            "injected": (
                f"aggressive narrow fine-tune: {TARGET} only, lr {AGGRESSIVE.learning_rate:g}, "
                f"{AGGRESSIVE.steps} steps, no forgetting control"
            ),
            "remedy": (
                f"tripwire train finetune {ctx.reference} --data {data} --out {lwf} "
                f"--lr {CONTROLLED.learning_rate:g} --steps {CONTROLLED.steps} --regularizer lwf"
            ),
            "target": TARGET,
            "margin": str(MARGIN),
            "models": {"aggressive": str(plain), "lwf": str(lwf)},
            "configs": {"aggressive": AGGRESSIVE.to_dict(), "lwf": CONTROLLED.to_dict()},
            "comparisons": {k: [vars(c) for c in cs] for k, cs in results.items()},
            "regressed": forgot,
            "gain_kept": kept,
            "mean_forgetting": mean_other,
            "human_review": human.data,
        },
    )
