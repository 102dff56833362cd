"""A training step's loss run under PyTorch DDP, one rank's rows of the global batch at a time.

DDP syncs the gradients of a backward pass that follows a forward of the module it wraps, so
the wrapped module's forward *is* one micro-batch's loss terms (trunk, chunked head, and LwF's
KL against the teacher's outputs for the same rows). Penalties that need no data (EWC, L2-SP)
are computed after the synced backward, outside DDP: they are the same on every rank, and DDP
ignores a backward pass it did not see a forward of. LoRA works the same way: DDP wraps the PEFT
model and syncs only what requires a gradient (the adapters).

Each rank's terms are divided by the whole global batch's counts (labelled tokens, valid
positions), so the sum over ranks of their gradients is the single-process gradient of the
global batch; DDP averages over ranks, so the loss is multiplied by the world size first.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Any

import torch

from tripwire.train._batches import Batch
from tripwire.train._distributed import Distributed
from tripwire.train._regularizers import trainable
from tripwire.train._step import CausalParts, micro_terms


class _StepLoss(torch.nn.Module):
    """The model, with one micro-batch's [task, LwF] terms as its forward."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model
        self.parts = CausalParts.of(model)

    def forward(
        self,
        batch: Batch,
        rows: slice,
        keep: torch.Tensor,
        lwf: Any,
        totals: tuple[int, float],
        step: int,
    ) -> torch.Tensor:
        if not bool(keep.any()):
            # nothing to learn from these rows, but DDP waits for a gradient of every weight
            # from every rank: a zero that reaches them all
            zero = sum(p.sum() for p in trainable(self.model).values()) * 0.0
            return torch.stack([zero, zero])
        return micro_terms(self.parts, batch, rows, keep, lwf, totals, step)


class DDPStep:
    """The model wrapped for one rank; ``backward`` runs one micro-batch of this rank's rows."""

    def __init__(self, model: torch.nn.Module, dist: Distributed) -> None:
        from torch.nn.parallel import DistributedDataParallel

        self.dist = dist
        # no buffer needs syncing before every forward (a causal LM has no batch norm); the
        # option was renamed in torch 2.13
        params = inspect.signature(DistributedDataParallel.__init__).parameters
        quiet = "forward_sync_buffers" if "forward_sync_buffers" in params else "broadcast_buffers"
        # device_ids None: the model and the batch are on this rank's device already (and DDP
        # leaves the Batch argument alone)
        self.ddp = DistributedDataParallel(_StepLoss(model), device_ids=None, **{quiet: False})

    def shard(self, rows: int) -> slice:
        return self.dist.shard(rows)

    def backward(
        self,
        batch: Batch,
        rows: slice,
        keep: torch.Tensor,
        lwf: Any,
        totals: tuple[int, float],
        step: int,
        *,
        sync: bool,
    ) -> torch.Tensor:
        """Accumulate this micro-batch's gradient; ``sync`` (the rank's last micro-batch of the
        step): sum the accumulated gradients over ranks. Returns the terms (this rank's)."""
        with contextlib.nullcontext() if sync else self.ddp.no_sync():
            terms = self.ddp(batch, rows, keep, lwf, totals, step)
            (terms.sum() * self.dist.world_size).backward()
        return terms.detach()
