"""One optimizer step's losses, with memory bounded whatever the vocabulary or batch.

A batch is run in micro-batches of rows (gradients accumulate; each micro-batch's sums are
divided by the whole batch's counts, so the gradient is the one of the whole batch), and the
output head runs over chunks of positions whose logits are recomputed in the backward pass
instead of kept (``tripwire.compute._chunked.chunked_loss``): a step holds one micro-batch's
activations and one chunk of logits, never rows x context x vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from tripwire.compute._chunked import chunked_loss, split_model
from tripwire.train._batches import IGNORE, Batch


@dataclass
class CausalParts:
    """A causal LM (or a PEFT model around one) as trunk and head. ``split`` False (a model
    whose forward does more after its head, see ``split_model``): the trunk is the whole model
    and the head the identity, so the loss is right, only not chunked."""

    model: Any
    split: bool = True

    @classmethod
    def of(cls, model: Any) -> CausalParts:
        parts = cls(model)
        return cls(model, split_model(parts.inner).split)

    @property
    def inner(self) -> Any:
        get = getattr(self.model, "get_base_model", None)
        return get() if callable(get) else self.model

    def hidden(self, ids: torch.Tensor) -> torch.Tensor:
        if not self.split:
            return self.model(input_ids=ids, use_cache=False).logits
        return self.inner.base_model(input_ids=ids, use_cache=False)[0]

    def head(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.inner.get_output_embeddings()(hidden) if self.split else hidden

    @property
    def vocab(self) -> int:
        return int(self.inner.get_output_embeddings().weight.shape[0])


def chunk_positions(vocab: int, chunk_bytes: int) -> int:
    """Positions per chunk: their logits, softmaxes and gradients in about ``chunk_bytes``."""
    return max(16, chunk_bytes // (6 * 4 * max(vocab, 1)))


@dataclass(frozen=True)
class StepLoss:
    task: float
    """Mean next-token loss over the batch's labelled positions."""
    lwf: float
    """LwF's term (0 without LwF)."""


def backward_step(
    parts: CausalParts,
    batch: Batch,
    *,
    micro_rows: int,
    chunk_bytes: int,
    lwf: Any = None,
    ddp: Any = None,
) -> StepLoss:
    """Accumulate the gradient of the batch's task loss (and LwF's term when ``lwf``, an
    ``LwF`` whose teacher is a ``Teacher``) into the trainable weights; returns the values.

    ``ddp`` (a ``_ddp.DDPStep``, under a launcher): this rank runs its share of the rows and the
    gradients and values are summed over ranks, so both are the whole batch's."""
    labelled = max(int((batch.labels != IGNORE).sum()), 1)
    valid_total = float(batch.valid.sum().clamp(min=1))
    step = chunk_positions(parts.vocab, chunk_bytes)
    shard = ddp.shard(batch.input_ids.shape[0]) if ddp is not None else slice(0, None)
    starts = range(shard.start, shard.stop or batch.input_ids.shape[0], micro_rows)
    task = kl = 0.0
    for i, r in enumerate(starts):
        rows = slice(r, min(r + micro_rows, starts.stop))
        keep = (batch.labels[rows] != IGNORE) | (
            batch.valid[rows] if lwf is not None else torch.zeros_like(batch.valid[rows])
        )
        totals = (labelled, valid_total)
        if ddp is not None:  # every rank runs every micro-batch: DDP syncs on the last one
            terms = ddp.backward(batch, rows, keep, lwf, totals, step, sync=i == len(starts) - 1)
        elif not bool(keep.any()):
            continue
        else:
            terms = micro_terms(parts, batch, rows, keep, lwf, totals, step)
            terms.sum().backward()
        task += float(terms[0].detach())
        kl += float(terms[1].detach())
    if ddp is not None:
        task, kl = ddp.dist.sum_floats([task, kl], batch.input_ids.device)
    return StepLoss(task, kl)


def micro_terms(
    parts: CausalParts,
    batch: Batch,
    rows: slice,
    keep: torch.Tensor,
    lwf: Any,
    totals: tuple[int, float],
    step: int,
) -> torch.Tensor:
    """[task loss, LwF term] of one micro-batch, each divided by the whole batch's count."""
    labelled, valid_total = totals
    ids = batch.input_ids[rows]
    hidden = parts.hidden(ids)[keep]
    goal, mask = batch.labels[rows][keep], batch.valid[rows][keep].float()
    teacher = None
    if lwf is not None:
        with torch.no_grad():
            teacher = lwf.teacher.hidden(ids)[keep]

    def per_chunk(logits: torch.Tensor, part: slice) -> torch.Tensor:
        ce = F.cross_entropy(logits, goal[part], ignore_index=IGNORE, reduction="sum")
        if teacher is None:
            return torch.stack([ce / labelled, ce.new_zeros(())])
        with torch.no_grad():
            target = lwf.teacher.logits(teacher[part]).float()
        return torch.stack([ce / labelled, lwf.kl_sum(logits, target, mask[part]) / valid_total])

    return chunked_loss(hidden, parts.head, per_chunk, step)


def window_loss(
    parts: CausalParts, ids: torch.Tensor, labels: torch.Tensor, chunk_bytes: int
) -> torch.Tensor:
    """Mean next-token loss of one batch of windows (differentiable), logits a chunk at a time."""
    keep = labels != IGNORE
    count = max(int(keep.sum()), 1)
    if not bool(keep.any()):
        return parts.hidden(ids).sum() * 0.0
    hidden, goal = parts.hidden(ids)[keep], labels[keep]

    def per_chunk(logits: torch.Tensor, part: slice) -> torch.Tensor:
        return F.cross_entropy(logits, goal[part], reduction="sum") / count

    return chunked_loss(hidden, parts.head, per_chunk, chunk_positions(parts.vocab, chunk_bytes))
