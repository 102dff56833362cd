"""Penalties that keep a fine-tuned model near what its base knew: EWC, LwF and L2-SP.

Each takes the model, the step's batch and the logits the task loss was computed from, and
returns a scalar added to the task loss. Anchors are the *starting* trainable weights, taken
before any saved training state is loaded, so a resumed run penalises the same distance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from tripwire.train._batches import IGNORE, Batch

FISHER_ESTIMATOR = (
    "empirical Fisher, per sample: the gradient of the mean next-token loss on the observed "
    "tokens of one window of general data, squared, averaged over windows; not rescaled, so "
    "the penalty is in the task loss's units (nats per token) whatever the model's size"
)


class Regularizer(Protocol):
    name: str

    def penalty(self, model: torch.nn.Module, batch: Batch, logits: torch.Tensor) -> torch.Tensor:
        """The term added to the task loss at this step."""
        ...


def trainable(model: torch.nn.Module) -> dict[str, torch.nn.Parameter]:
    """The parameters the optimizer updates, by name (tied weights appear once)."""
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def _anchors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in trainable(model).items()}


def token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the labelled positions (0 when none is labelled)."""
    flat = labels.reshape(-1)
    total = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]).float(), flat, ignore_index=IGNORE, reduction="sum"
    )
    return total / max(int((flat != IGNORE).sum()), 1)


class L2SP:
    """``alpha / 2 * sum (theta - theta_0)^2`` over the trainable weights."""

    name = "l2sp"

    def __init__(self, model: torch.nn.Module, alpha: float) -> None:
        self.alpha = alpha
        self.start = _anchors(model)

    def penalty(self, model: torch.nn.Module, batch: Batch, logits: torch.Tensor) -> torch.Tensor:
        params = trainable(model)
        total = sum(((params[n] - a) ** 2).sum() for n, a in self.start.items())
        return 0.5 * self.alpha * torch.as_tensor(total)


class EWC:
    """``lambda / 2 * sum F (theta - theta_0)^2`` with a diagonal Fisher ``F``."""

    name = "ewc"

    def __init__(self, model: torch.nn.Module, fisher: dict[str, torch.Tensor], lam: float) -> None:
        self.lam = lam
        self.start = _anchors(model)
        missing = self.start.keys() - fisher.keys()
        if missing:
            raise ValueError(f"Fisher has no entry for {sorted(missing)[:3]}")
        self.fisher = fisher

    def penalty(self, model: torch.nn.Module, batch: Batch, logits: torch.Tensor) -> torch.Tensor:
        params = trainable(model)
        total = sum((self.fisher[n] * (params[n] - a) ** 2).sum() for n, a in self.start.items())
        return 0.5 * self.lam * torch.as_tensor(total)


def estimate_fisher(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    chunk_bytes: int = 128 * 2**20,
    dist: Any = None,
) -> dict[str, torch.Tensor]:
    """Diagonal Fisher of the trainable weights (see ``FISHER_ESTIMATOR``), one window a row.

    ``dist`` (a ``_distributed.Distributed``, under a launcher): each rank takes its share of
    the windows and the squared gradients are summed over ranks before the mean, so every rank
    holds the Fisher of all the windows, as one process would.

    Not rescaled, on purpose: ``1/2 sum F (theta - theta_0)^2`` is then the quadratic estimate
    of how much the mean per-token loss on general data rises, in the same nats as the task
    loss, so one ``lambda`` means the same trade on a 0.4M- and a 135M-parameter model. (Scaled
    to mean 1, as before, the penalty grew with the number of parameters: the Fisher's trace
    is about the same, 7 to 8, on the tiny and small reference models, 0.4M and 2.6M
    parameters, so the mean-1 penalty was 6x stronger on the larger one at the same lambda.)
    """
    from tripwire.train._step import CausalParts, window_loss

    params = trainable(model)
    fisher = {n: torch.zeros_like(p) for n, p in params.items()}
    device = next(iter(params.values())).device
    inputs, labels = inputs.to(device), labels.to(device)
    was_training = model.training
    model.eval()  # no dropout: the Fisher of the model as it is
    parts = CausalParts.of(model)
    mine = dist.shard(len(inputs)) if dist is not None else slice(0, len(inputs))
    for i in range(len(inputs))[mine]:
        model.zero_grad(set_to_none=True)
        # logits a chunk of positions at a time (a real vocabulary x context does not fit)
        window_loss(parts, inputs[i : i + 1], labels[i : i + 1], chunk_bytes).backward()
        for n, p in params.items():
            if p.grad is not None:
                fisher[n] += p.grad.detach() ** 2
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    if dist is not None:
        dist.sum_(list(fisher.values()))
    return {n: f / max(len(inputs), 1) for n, f in fisher.items()}


class LwF:
    """``alpha * T^2 * KL(p_base,T || p_model,T)``, averaged over the real tokens of the batch.

    ``teacher`` returns the frozen base model's logits for the batch's inputs.
    """

    name = "lwf"

    def __init__(
        self, teacher: Callable[[torch.Tensor], torch.Tensor], alpha: float, temperature: float
    ) -> None:
        self.teacher = teacher
        self.alpha = alpha
        self.temperature = temperature

    def penalty(self, model: torch.nn.Module, batch: Batch, logits: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            teacher = self.teacher(batch.input_ids).float()
        valid = batch.valid.to(torch.float32)
        return self.kl_sum(logits, teacher, valid) / valid.sum().clamp(min=1.0)

    def kl_sum(
        self, logits: torch.Tensor, teacher_logits: torch.Tensor, valid: torch.Tensor
    ) -> torch.Tensor:
        """``alpha * T^2 * sum KL`` over the positions where ``valid`` is 1 (any leading shape,
        vocabulary last): the training loop sums it a chunk of positions at a time."""
        t = self.temperature
        target = F.log_softmax(teacher_logits.float() / t, dim=-1)
        student = F.log_softmax(logits.float() / t, dim=-1)
        kl = (target.exp() * (target - student)).sum(-1)
        return self.alpha * t * t * (kl * valid.to(kl.dtype)).sum()
