"""The training loop: seeded batches, warm-up and decay, clipping, penalties, checkpoints."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from tripwire.compute._chunked import CHUNK_BYTES
from tripwire.errors import BadInputError
from tripwire.progress import Progress, no_progress
from tripwire.train._batches import PackedStream, make_batch
from tripwire.train._config import TrainConfig
from tripwire.train._distributed import Distributed
from tripwire.train._regularizers import LwF, Regularizer, trainable
from tripwire.train._state import TrainState
from tripwire.train._step import CausalParts, backward_step


def lr_factor(step: int, config: TrainConfig) -> float:
    """Multiplier of the peak learning rate at ``step`` (0-based)."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.decay == "constant":
        return 1.0
    span = max(1, config.steps - config.warmup_steps - 1)
    frac = min(1.0, (step - config.warmup_steps) / span)
    shape = 0.5 * (1 + math.cos(math.pi * frac)) if config.decay == "cosine" else 1.0 - frac
    return config.min_lr_ratio + (1.0 - config.min_lr_ratio) * shape


# LoRA+ speeds up the adapters' second factor (PEFT names it lora_B, lora_embedding_B).
_LORA_B = ("lora_B.", "lora_embedding_B.")


def param_groups(model: torch.nn.Module, config: TrainConfig) -> list[dict[str, Any]]:
    """The optimizer's parameter groups, each with ``lr_scale`` (its multiple of the scheduled
    learning rate): under LoRA+ the B matrices learn ``lora_plus_ratio`` times faster.

    PEFT's ``create_loraplus_optimizer`` is not used: it also speeds up every bias and norm
    weight and pins embedding adapters to a fixed rate, which is not the method in the paper.
    """
    params = trainable(model)
    lora_plus = config.method == "lora" and config.lora_plus_ratio != 1.0
    fast = [p for n, p in params.items() if lora_plus and any(k in n for k in _LORA_B)]
    fast_ids = {id(p) for p in fast}
    groups = [{"params": [p for p in params.values() if id(p) not in fast_ids], "lr_scale": 1.0}]
    if fast:
        groups.append({"params": fast, "lr_scale": config.lora_plus_ratio})
    return groups


@dataclass
class LoopResult:
    task_loss: list[float] = field(default_factory=list)
    penalty: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    resumed_from: int = 0
    """Step the run continued from (0: a fresh start)."""

    def history(self) -> dict[str, list[float]]:
        return {"task_loss": self.task_loss, "penalty": self.penalty, "grad_norm": self.grad_norm}


def _check_finite(step: int, config: TrainConfig, task: float, penalty: float, norm: float) -> None:
    """Stop the run, blaming the learning rate, when the step's loss or gradient norm is not a
    finite number (the run diverged: every later step and the saved model would be nan)."""
    for what, value in (("loss", task), ("regularizer penalty", penalty), ("gradient norm", norm)):
        if not math.isfinite(value):
            became = "NaN" if math.isnan(value) else "infinite"
            raise BadInputError(
                f"--lr {config.learning_rate:g}",
                f"the {what} became {became} at step {step + 1} (training diverged; "
                "try a lower --lr)",
            )


def train_loop(
    model: torch.nn.Module,
    config: TrainConfig,
    task: PackedStream,
    replay: PackedStream | None,
    regularizer: Regularizer | None,
    state: TrainState | None,
    progress: Progress = no_progress,
    *,
    micro_rows: int | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    dist: Distributed | None = None,
) -> LoopResult:
    """Run (or resume) ``config.steps`` optimizer steps on ``model`` in place.

    ``micro_rows``: rows run through the model at once (gradients accumulate over the batch;
    default the whole batch); ``chunk_bytes``: the logits held at once (see ``_step``).
    ``dist`` (several ranks): each runs its rows of every global batch under DDP, and only
    rank 0 saves the training state."""
    params = list(trainable(model).values())
    parts = CausalParts.of(model)
    lwf = (
        regularizer
        if isinstance(regularizer, LwF) and hasattr(regularizer.teacher, "hidden")
        else None
    )
    optimizer = torch.optim.AdamW(
        param_groups(model, config), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    result = LoopResult()
    start = 0
    saved = state.latest() if state is not None else None
    if state is not None and saved is not None:
        start, history = state.load(saved, model, optimizer)
        result = LoopResult(**history, resumed_from=start)
    ddp = None
    if dist is not None and dist.enabled:
        from tripwire.train._ddp import DDPStep

        start = dist.same(start, "the step to resume from")
        if regularizer is not None and isinstance(regularizer, LwF) and lwf is None:
            raise ValueError("under a launcher, an LwF teacher must be a train._model.Teacher")
        if config.batch_size < dist.world_size:
            raise ValueError(f"batch of {config.batch_size} rows for {dist.world_size} ranks")
        ddp = DDPStep(model, dist)
    writes = dist is None or dist.is_main
    model.train()
    device = params[0].device
    progress("train", start, config.steps)
    for step in range(start, config.steps):
        torch.manual_seed(config.seed * 7919 + step)  # dropout, if the model has any
        batch = make_batch(step, config.seed, config.batch_size, task, replay, config.replay_ratio)
        batch = batch.to(device)
        for group in optimizer.param_groups:
            group["lr"] = config.learning_rate * group["lr_scale"] * lr_factor(step, config)
        optimizer.zero_grad(set_to_none=True)
        loss = backward_step(parts, batch, micro_rows=micro_rows or config.batch_size,
                             chunk_bytes=chunk_bytes, lwf=lwf, ddp=ddp)  # fmt: skip
        penalty = loss.lwf
        if regularizer is not None and lwf is None:
            # weight-space penalties (EWC, L2-SP) need no logits; an LwF teacher given as a
            # plain function of ids gets the whole batch's logits
            logits = (
                model(input_ids=batch.input_ids).logits if isinstance(regularizer, LwF) else None
            )
            term = regularizer.penalty(model, batch, logits)  # type: ignore[arg-type]
            term.backward()
            penalty += float(term.detach())
        clip = config.grad_clip if config.grad_clip > 0 else math.inf
        norm = torch.nn.utils.clip_grad_norm_(params, clip)
        # checked before the optimizer steps: a non-finite loss or gradient would turn every
        # weight into nan, and the run would go on to save, register and evaluate that model
        _check_finite(step, config, loss.task, penalty, float(norm))
        optimizer.step()
        result.task_loss.append(loss.task)
        result.penalty.append(penalty)
        result.grad_norm.append(float(norm))
        done = step + 1
        if (
            writes
            and state is not None
            and config.checkpoint_every
            and done % config.checkpoint_every == 0
        ):
            state.save(done, model, optimizer, result.history())
        progress("train", done, config.steps)
    model.eval()
    return result
