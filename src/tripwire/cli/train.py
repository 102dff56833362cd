"""`tripwire train`: fine-tune with forgetting control, then measure what was forgotten."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from tripwire.cli import _memory
from tripwire.cli._output import command_line, context, emit_json, err, out, progress_bar, quiet
from tripwire.errors import BadInputError
from tripwire.findings import Severity, report_dict, verdict_of

if TYPE_CHECKING:
    from tripwire.stats import SliceComparison

app = typer.Typer(no_args_is_help=True, help="Fine-tune with forgetting control.")

FINETUNE_EPILOG = (
    "Example: tripwire train finetune ./base --data python.jsonl --out ./tuned "
    "--lr 1e-3 --steps 200 --regularizer lwf --replay-ratio 0.1 --json tuned.json"
)


def retention_table(comparisons: list[SliceComparison], targets: list[str]) -> Table:
    t = Table(title="held-out bits per byte, tuned vs base (change > 0: worse)")
    for col in ("language", "role", "base", "tuned", "change", "rel", "90% CI", "p", "status"):
        t.add_column(col, justify="left" if col in ("language", "role", "status") else "right")
    for c in comparisons:
        target = c.slice in targets
        # a target's direction is worth a word only where the statistics settled the comparison:
        # "gain" on an inconclusive or regressed slice would contradict the --json status
        settled = target and c.status == "pass"
        status = ("gain" if c.delta < 0 else "no gain") if settled else str(c.status)
        if c.status == "inconclusive":
            status += f" ({c.n} tasks)"
        colour = "green" if status in ("gain", "pass") else "red" if c.regressed else "yellow"
        t.add_row(
            c.slice,
            "target" if target else "other",
            f"{c.baseline:.3f}",
            f"{c.candidate:.3f}",
            f"{c.delta:+.3f}",
            f"{c.delta / c.baseline:+.1%}" if c.baseline else "-",
            f"[{c.ci_low:+.3f}, {c.ci_high:+.3f}]",
            f"{c.p_value:.2g}",
            f"[{colour}]{status}[/]",
        )
    return t


def _eval_corpus(base: Path, given: Path | None) -> Path | None:
    from tripwire.reference import CORPUS_DIR, corpus_of

    if given is not None:
        if corpus_of(given) is None:
            raise BadInputError(given, f"not a reference model (no {CORPUS_DIR}/heldout.jsonl)")
        return given
    return base if corpus_of(base) is not None else None


def _one(option: str, given: list[Path]) -> Path:
    if len(given) > 1:
        raise BadInputError(
            option,
            f"given {len(given)} times ({', '.join(map(str, given))}); it takes one file or "
            "folder: put the files in one folder",
        )
    return given[0]


# TrainConfig's default, written out: importing tripwire.train here would load torch for every
# command (tests/train/test_targets.py checks that the two agree)
EWC_LAMBDA = 3000.0


@app.command("finetune", epilog=FINETUNE_EPILOG)
def finetune_cmd(
    ctx: typer.Context,
    base: Path = typer.Argument(..., help="Local Hugging Face causal LM directory."),
    data_given: list[Path] = typer.Option(
        ..., "--data", metavar="PATH", help="JSONL/Parquet file or folder to train on."
    ),
    out_dir: Path = typer.Option(..., "--out", help="Output checkpoint directory."),
    method: str = typer.Option("full", help="full | lora."),
    regularizer: str = typer.Option("none", help="none | ewc | lwf | l2sp."),
    ewc_lambda: float = typer.Option(
        EWC_LAMBDA,
        help="EWC strength: lambda x the estimated rise of general data's loss (nats/token) is "
        "added to the task loss; the same default suits models of any size.",
    ),
    fisher_samples: int = typer.Option(64, help="Windows of general data for the EWC Fisher."),
    lwf_alpha: float = typer.Option(1.0, help="LwF strength (weight of the KL term)."),
    lwf_temperature: float = typer.Option(2.0, help="LwF softmax temperature."),
    l2sp_alpha: float = typer.Option(0.01, help="L2-SP strength."),
    replay_given: list[Path] = typer.Option(
        [],
        "--replay",
        metavar="PATH",
        show_default=False,
        help="General data for replay and the EWC Fisher (default: the base's "
        "reference corpus train split, if it has one).",
    ),
    replay_ratio: float = typer.Option(0.0, help="Share of every batch drawn from --replay."),
    target_heldout: float = typer.Option(
        0.1,
        help="Share of the --data records held out (not trained on) to measure the target gain "
        "on; 0: train on all and measure on the base's held-out corpus.",
    ),
    lr: float = typer.Option(5e-5, "--lr", help="Peak learning rate."),
    steps: int = typer.Option(200, help="Optimizer steps."),
    batch_size: int = typer.Option(8, help="Rows per step (replay rows included)."),
    context_len: int = typer.Option(0, "--context", help="Tokens per row (0: the model's)."),
    warmup_steps: int = typer.Option(10, help="Linear warm-up steps."),
    decay: str = typer.Option("cosine", help="cosine | linear | constant after warm-up."),
    min_lr_ratio: float = typer.Option(0.1, help="Final learning rate / peak."),
    weight_decay: float = typer.Option(0.0, help="AdamW weight decay."),
    grad_clip: float = typer.Option(1.0, help="Max gradient norm (0: no clipping)."),
    seed: int = typer.Option(0, help="Seed of batches, dropout and adapter initialisation."),
    checkpoint_every: int = typer.Option(50, help="Save training state every N steps (0: off)."),
    gradient_checkpointing: bool = typer.Option(
        False,
        "--gradient-checkpointing",
        help="Recompute each block's activations in the backward pass (less memory, ~1/3 "
        "more compute; the same weights come out).",
    ),
    max_memory: str | None = _memory.option(),
    prompt_format: str = typer.Option("plain", help="plain | alpaca | chatml (instruction/chat)."),
    lora_r: int = typer.Option(8, help="LoRA rank."),
    lora_alpha: float = typer.Option(16.0, help="LoRA alpha."),
    lora_dropout: float = typer.Option(0.0, help="LoRA dropout."),
    lora_target: list[str] = typer.Option(
        [], help="Module to adapt (repeatable; default: PEFT's)."
    ),
    lora_bias: str = typer.Option("none", help="Biases trained too: none | all | lora_only."),
    lora_save: str = typer.Option("merged", help="merged (a checkpoint) | adapter."),
    lora_plus_ratio: float = typer.Option(
        1.0, help="LoRA+: the B matrices learn this many times faster (1: plain LoRA)."
    ),
    lora_rslora: bool = typer.Option(
        False, "--lora-rslora", help="Rank-stabilised LoRA: scale adapters by alpha/sqrt(r)."
    ),
    lora_dora: bool = typer.Option(
        False, "--lora-dora", help="DoRA: learn each weight's magnitude apart from its direction."
    ),
    lora_init: str = typer.Option(
        "default",
        "--lora-init",
        help="Adapter start: default (A random, B zero) or pissa (top singular directions; "
        "merged saves only).",
    ),
    allow_unaudited: bool = typer.Option(
        False, help="Train even on data that `tripwire data audit` blocks."
    ),
    restart: bool = typer.Option(False, help="Discard saved training state instead of resuming."),
    device: str | None = typer.Option(None, help="Torch device (default: cuda if available)."),
    evaluate: bool = typer.Option(True, "--eval/--no-eval", help="Measure forgetting afterwards."),
    eval_corpus: Path | None = typer.Option(
        None, help="Reference model whose held-out split measures forgetting (default: BASE)."
    ),
    eval_chunks: int = typer.Option(0, help="Held-out chunks per language (0: all)."),
    margin: str = typer.Option("1%", help="Worsening tolerated before a language regresses."),
    json_path: Path | None = typer.Option(None, "--json", help="Write results ('-': stdout)."),
) -> None:
    """Fine-tune BASE on --data and report, per language, the gain and the forgetting.

    Exit 0 when no language outside the data's own regressed, 1 when one did (the checkpoint is
    written either way), 2 on bad input (tokenizer mismatch, data the audit blocks, ...).

    Runs unchanged as several processes: torchrun --nproc-per-node N -m tripwire train finetune
    ... (or accelerate launch): --batch-size is the global batch, split over the ranks; rank 0
    writes the model and the report.
    """
    # a repeated option would otherwise keep its last value alone: half the data, silently
    data = _one("--data", data_given)
    replay = _one("--replay", replay_given) if replay_given else None
    from tripwire.stats import Margin
    from tripwire.train import (
        TrainConfig,
        finetune,
        forgetting_report,
        launched,
        retention_findings,
    )
    from tripwire.train._target import target_gain

    config = TrainConfig(
        method=method,
        regularizer=regularizer,
        learning_rate=lr,
        steps=steps,
        batch_size=batch_size,
        context=context_len,
        warmup_steps=warmup_steps,
        decay=decay,
        min_lr_ratio=min_lr_ratio,
        weight_decay=weight_decay,
        grad_clip=grad_clip,
        seed=seed,
        checkpoint_every=checkpoint_every,
        gradient_checkpointing=gradient_checkpointing,
        prompt_format=prompt_format,
        replay_ratio=replay_ratio,
        target_heldout=target_heldout,
        ewc_lambda=ewc_lambda,
        fisher_samples=fisher_samples,
        lwf_alpha=lwf_alpha,
        lwf_temperature=lwf_temperature,
        l2sp_alpha=l2sp_alpha,
        lora_r=lora_r,
        lora_alpha=lora_alpha,
        lora_dropout=lora_dropout,
        lora_targets=tuple(lora_target),
        lora_bias=lora_bias,
        lora_save=lora_save,
        lora_plus_ratio=lora_plus_ratio,
        lora_rslora=lora_rslora,
        lora_dora=lora_dora,
        lora_init=lora_init,
    )
    try:
        tolerance = Margin.parse(margin)
    except ValueError as exc:
        raise BadInputError("--margin", str(exc)) from exc
    corpus = _eval_corpus(base, eval_corpus) if evaluate else None
    ctx.with_resource(_memory.budget(max_memory))  # for the whole command
    # under torchrun / accelerate launch, rank 0 alone shows progress, registers and reports
    main_rank = launched().is_main
    with progress_bar(main_rank and not quiet(json_path)) as progress:
        result = finetune(
            base,
            data,
            out_dir,
            config,
            replay=replay,
            allow_unaudited=allow_unaudited,
            restart=restart,
            registry=context(ctx).registry() if main_rank else None,
            progress=progress,
            command=command_line(),
            device=device,
        )
        if not main_rank:
            raise typer.Exit(0)  # trained its share; rank 0 wrote the model and evaluates it
        split = result.target_split
        target = (
            target_gain(base, out_dir, split, result.context, device=device, progress=progress)
            if evaluate and split is not None and split.heldout
            else []
        )
        comparisons = (
            forgetting_report(
                base,
                out_dir,
                corpus_from=corpus,
                max_chunks=eval_chunks or None,
                margin=tolerance,
                progress=progress,
                device=device,
            )
            if corpus is not None
            else []
        )
    for notice in result.notices:
        err.print(f"[yellow]notice:[/] {escape(notice)}", highlight=False, soft_wrap=True)
    if evaluate and corpus is None:
        err.print(
            "[yellow]notice:[/] forgetting not measured: BASE is not a reference model; "
            "pass --eval-corpus REFERENCE_DIR"
        )
    targets = result.target_languages
    measured_on = split.describe() if split is not None else ""
    findings = retention_findings(comparisons, targets, target, measured_on)
    verdict = verdict_of(findings)
    if not quiet(json_path):
        loss = result.loop.task_loss
        out.print(
            f"model: {result.path}  id: {result.manifest.id[:12]}  "
            f"task loss {loss[0]:.3f} -> {loss[-1]:.3f} in {result.seconds:.0f}s"
        )
        if target:
            out.print(f"target gain measured on {measured_on}", highlight=False)
            out.print(retention_table(target, [c.slice for c in target]))
        elif evaluate and split is not None:
            err.print(f"[yellow]notice:[/] target gain on the base's corpus: {measured_on}",
                      highlight=False)  # fmt: skip
        if comparisons:
            out.print(retention_table(comparisons, targets))
            for f in findings:
                if f.severity != Severity.INFO or f.code == "train.target_gain":
                    out.print(f"{f.severity}: {f.message}", highlight=False)
            out.print(f"verdict: {verdict}")
    payload: dict[str, Any] = report_dict(
        findings,
        model=result.to_dict(),
        retention=[c.to_dict() for c in comparisons],
        target={"measured_on": measured_on, "slices": [c.to_dict() for c in target]},
    )
    emit_json(json_path, payload)
    raise typer.Exit(verdict.exit_code)
