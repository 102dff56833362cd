"""Pretrained-model stage 2: a short, narrow fine-tune (Python only), full and LoRA, each with
and without forgetting control (LwF), gated against the base language by language."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tripwire.demo._gating import gate_line, tuned
from tripwire.demo._real import Clock, gate_real
from tripwire.demo._stage import StageContext, StageResult
from tripwire.train import TrainConfig, reference_language_data

TARGET = "python"
# Sized for a 135M model on two CPU cores: 16 steps of 4 x 128 tokens, at rates that move a
# pretrained model within them (full: 3e-4; LoRA adapters: 3e-3).
FULL = TrainConfig(learning_rate=3e-4, steps=16, batch_size=4, context=128, warmup_steps=2,
                   checkpoint_every=0)  # fmt: skip
LORA = replace(FULL, method="lora", learning_rate=3e-3, lora_r=8, lora_alpha=16.0)
CONFIGS = {
    "full": FULL,
    "full + LwF": replace(FULL, regularizer="lwf", lwf_alpha=2.0),
    "LoRA": LORA,
    "LoRA + LwF": replace(LORA, regularizer="lwf", lwf_alpha=2.0),
}


def _languages(gate: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        s["slice"].partition("=")[2]: s
        for e in gate["evals"]
        if e["suite"] == "retention"
        for s in e["slices"]
        if s["slice"].startswith("language=")
    }


def _cell(s: dict[str, Any]) -> str:
    rel = s["delta"] / s["baseline"] if s["baseline"] else 0.0
    return f"{rel:+.1%} {s['status']}"


def run(ctx: StageContext) -> StageResult:
    clock = Clock()
    work = ctx.workdir  # the stage's own folder; the HumanEval stage finds the models here
    work.mkdir(parents=True, exist_ok=True)
    data = reference_language_data(ctx.reference, TARGET, work / f"{TARGET}.jsonl")
    gates, models = {}, {}
    for name, config in CONFIGS.items():
        slug = name.replace(" + ", "-").lower()
        with clock.step(f"train {name}"):
            models[name] = tuned(ctx, data, work / slug, config)
        with clock.step(f"gate {name}"):
            gates[name] = gate_real(ctx, ctx.reference, models[name])
    per = {name: _languages(g) for name, g in gates.items()}
    langs = sorted({lang for p in per.values() for lang in p}, key=lambda x: (x != TARGET, x))
    rows = [[name, *(_cell(p[lang]) if lang in p else "-" for lang in langs), g["verdict"]]
            for (name, p), g in zip(per.items(), gates.values(), strict=True)]  # fmt: skip
    forgot = {name: [lang for lang, s in p.items() if lang != TARGET and s["regressed"]]
              for name, p in per.items()}  # fmt: skip
    # shown, not required: how many steps forget depends on the machine's corpus
    lines = [
        f"narrow fine-tune: {TARGET} files of the corpus's train split, {FULL.steps} steps of "
        f"{FULL.batch_size} x {FULL.context} tokens; full lr {FULL.learning_rate:g}, LoRA r "
        f"{LORA.lora_r} lr {LORA.learning_rate:g}; LwF alpha 2, T 2",
        *(f"{name}: regressed {', '.join(f) or 'none'}" for name, f in forgot.items()),
        *(gate_line(f"on {name}", g) for name, g in gates.items()),
        clock.line(),
    ]
    ok = all(g["verdict"] in ("pass", "warn", "block") for g in gates.values())
    return StageResult(
        name="forgetting",
        title="A narrow fine-tune of a pretrained model, full and LoRA, with and without LwF",
        ok=ok,
        lines=lines,
        columns=["fine-tune", *(f"{lang} bits/byte change" for lang in langs), "gate"],
        rows=rows,
        data={
            "gates": {"candidate": gates["full"], "remedy": gates["full + LwF"]},
            "injected": f"narrow fine-tune on {TARGET} only, no forgetting control",
            "remedy": f"tripwire train finetune {ctx.reference} --data {data} --regularizer lwf",
            "all_gates": {n: g["verdict"] for n, g in gates.items()},
            "regressed": forgot,
            "models": {n: str(p) for n, p in models.items()},
            "configs": {n: c.to_dict() for n, c in CONFIGS.items()},
            "seconds": clock.seconds,
        },
    )
