"""Pretrained-model stage 3: HumanEval through the model's chat template (greedy, executed in
the sandbox) on the base and on a fine-tuned candidate, then ``eval compare`` of the two."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from tripwire.demo._real import Clock
from tripwire.demo._stage import StageContext, StageResult
from tripwire.evals import GenerationConfig, HFBackend, HumanEval, cached_eval, compare_runs
from tripwire.train import merged_checkpoint

MAX_NEW_TOKENS = 512
# The candidate: the LoRA fine-tune with forgetting control, from the fine-tune stage.
CANDIDATE = "lora-lwf"


def _score(ctx: StageContext, model: Path, box: Any, label: str) -> Any:
    backend = HFBackend(merged_checkpoint(model))
    backend.with_config(GenerationConfig(max_new_tokens=MAX_NEW_TOKENS))

    def step(task: str, done: float, total: float) -> None:
        ctx.progress(f"humaneval {label} {task}", done, total)

    run = cached_eval(HumanEval(), backend, box, n=1, progress=step)
    backend.release()
    return run


def _summary(run: Any) -> dict[str, Any]:
    methods = Counter(r.extraction.get("method", "none") for r in run.results)
    # the exception's name (messages go on with the failing line, which differs per task)
    messages = Counter((r.message.split(":")[0].split() or ["?"])[0] for r in run.results
                       if r.verdict != "passed")  # fmt: skip
    return {
        "pass@1": run.summary["pass_at_k"].get("pass@1"),
        "verdicts": run.summary["verdicts"],
        "extraction": dict(methods),
        "failures": dict(messages.most_common(6)),
        "run": str(run.path),
        "generate_and_execute_s": run.summary["seconds"]["evaluate"],
    }


def run(ctx: StageContext) -> StageResult:
    from tripwire.sandbox import Sandbox

    clock = Clock()
    # the fine-tune stage's folder, beside this stage's own
    candidate = ctx.workdir.parent / "finetune" / CANDIDATE
    runs = {}
    with Sandbox() as box:
        with clock.step("humaneval base"):
            runs["base"] = _score(ctx, ctx.reference, box, "base")
        if (candidate / "config.json").is_file():
            with clock.step(f"humaneval {CANDIDATE}"):
                runs[CANDIDATE] = _score(ctx, candidate, box, CANDIDATE)
    summaries = {name: _summary(r) for name, r in runs.items()}
    lines = [
        f"{name}: pass@1 {s['pass@1']:.3f} ({s['verdicts']['passed']}/164), code taken from "
        f"{', '.join(f'{k} {v}' for k, v in s['extraction'].items())}; commonest failures: "
        f"{', '.join(f'{k} x{v}' for k, v in s['failures'].items())}"
        for name, s in summaries.items()
    ]
    comparison = None
    if CANDIDATE in runs:
        comparison = compare_runs(runs["base"].path, runs[CANDIDATE].path).to_dict()
        top = next(s for s in comparison["slices"] if s["slice"] == "all")
        lines.append(
            f"eval compare base vs {CANDIDATE}: {comparison['outcome']} (pass {top['baseline']:.3f}"
            f" -> {top['candidate']:.3f}, CI [{top['ci_low']:+.3f}, {top['ci_high']:+.3f}], "
            f"{top['status']}: {top.get('note') or ''})"
        )
    lines.append(clock.line())
    rows = [[name, f"{s['pass@1']:.3f}", str(s["verdicts"]["passed"]),
             ", ".join(f"{k} {v}" for k, v in s["extraction"].items()),
             f"{s['generate_and_execute_s']:.0f}s"] for name, s in summaries.items()]  # fmt: skip
    return StageResult(
        name="humaneval",
        title="HumanEval through the chat template, executed; base vs fine-tuned candidate",
        ok=summaries["base"]["pass@1"] is not None,
        lines=lines,
        columns=["model", "pass@1", "passed", "code extracted from", "generate + execute"],
        rows=rows,
        data={"runs": summaries, "compare": comparison, "seconds": clock.seconds},
    )
