"""Log-probabilities of given targets without holding vocabulary-sized logits for a batch.

A causal LM is run as its trunk (embeddings and blocks, ending in the final norm) and its head
(the output projection). The trunk's hidden states are small (hidden size per position); the
head's output is vocabulary-sized per position, so it is computed a chunk of positions at a
time, only where there is a target, and reduced to one number per position at once. Peak memory
is then one chunk's logits, whatever the vocabulary, context or batch.

Splitting is checked, not assumed: on first use the split model's logits are compared with the
model's own forward pass on a short probe. Architectures whose forward does more after the
head (logit soft-capping, scaling) fail the check and are run whole, a few positions at a time.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

CHUNK_BYTES = 128 * 2**20
"""Logits held at once while scoring: about this many bytes (float32, times the copies the
log-softmax makes)."""


def cache_argument(model: torch.nn.Module) -> str:
    """What the model's forward calls its KV cache: ``cache`` (transformers 5.x) or
    ``past_key_values`` (earlier)."""
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def logits_to_keep_argument(model: torch.nn.Module) -> dict[str, int]:
    """The keyword that makes the forward pass compute logits for the last position only
    (named ``logits_to_keep`` since transformers 4.50, ``num_logits_to_keep`` before)."""
    params = inspect.signature(model.forward).parameters
    for name in ("logits_to_keep", "num_logits_to_keep"):
        if name in params:
            return {name: 1}
    return {}


@dataclass
class SplitModel:
    """A causal LM as trunk + head, or (``split`` False) run whole."""

    model: Any
    split: bool

    @property
    def head(self) -> torch.nn.Module:
        return self.model.get_output_embeddings()

    def trunk(self, input_ids: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        """Hidden states after the final norm, [rows, positions, hidden]."""
        out = self.model.base_model(input_ids=input_ids, use_cache=False, **kwargs)
        return out[0]

    def chunk_positions(self, vocab: int, chunk_bytes: int = CHUNK_BYTES) -> int:
        return max(16, chunk_bytes // (3 * 4 * max(vocab, 1)))


def split_model(model: Any) -> SplitModel:
    """``model`` as trunk + head when that reproduces its logits (checked once per model)."""
    cached = getattr(model, "_tripwire_split", None)
    if cached is not None:
        return SplitModel(model, cached)
    ok = False
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    base = getattr(model, "base_model", None)
    if head is not None and base is not None and base is not model:
        device = next(model.parameters()).device
        vocab = int(head.weight.shape[0])
        probe = torch.arange(1, 7, device=device).remainder(vocab)[None, :]
        with torch.no_grad():
            try:
                whole = model(input_ids=probe, use_cache=False).logits.float()
                parts = head(SplitModel(model, True).trunk(probe)).float()
                ok = parts.shape == whole.shape and torch.allclose(parts, whole, atol=1e-4,
                                                                   rtol=1e-3)  # fmt: skip
            except (TypeError, ValueError, RuntimeError, AttributeError):
                ok = False
    with contextlib.suppress(AttributeError):  # remembered on the model: checked once
        model._tripwire_split = ok
    return SplitModel(model, ok)


def target_nll(
    model: Any,
    input_ids: torch.Tensor,
    targets: torch.Tensor,
    *,
    chunk_bytes: int = CHUNK_BYTES,
) -> torch.Tensor:
    """Negative log-likelihood (nats, float32) of ``targets`` [rows, positions] given
    ``input_ids`` [rows, positions] (right-padded; a target < 0 is not scored and gets 0).
    Vocabulary-sized logits exist for one chunk of scored positions at a time."""
    sm = split_model(model)
    valid = targets >= 0
    out = torch.zeros(targets.shape, dtype=torch.float32, device=targets.device)
    if not bool(valid.any()):
        return out
    if not sm.split:
        return _whole_nll(model, input_ids, targets, valid, chunk_bytes)
    hidden = sm.trunk(input_ids)
    picked = hidden[valid]  # [n, hidden]: only positions with a target reach the head
    goal = targets[valid]
    step = sm.chunk_positions(int(sm.head.weight.shape[0]), chunk_bytes)
    nll = torch.empty(goal.shape[0], dtype=torch.float32, device=goal.device)
    for s in range(0, goal.shape[0], step):
        logits = sm.head(picked[s : s + step]).float()
        nll[s : s + step] = F.cross_entropy(logits, goal[s : s + step], reduction="none")
    out[valid] = nll
    return out


def _whole_nll(
    model: Any, input_ids: torch.Tensor, targets: torch.Tensor, valid: torch.Tensor,
    chunk_bytes: int,
) -> torch.Tensor:  # fmt: skip
    """The model run whole, as few rows at a time as keep its logits within ``chunk_bytes``
    (one row at least)."""
    out = torch.zeros(targets.shape, dtype=torch.float32, device=targets.device)
    per_row = 3 * 4 * int(input_ids.shape[1]) * int(model.config.vocab_size)
    rows = max(1, chunk_bytes // max(per_row, 1))
    for r in range(0, input_ids.shape[0], rows):
        logits = model(input_ids=input_ids[r : r + rows], use_cache=False).logits.float()
        out[r : r + rows] = (
            F.cross_entropy(
                logits.transpose(1, 2), targets[r : r + rows].clamp(min=0), reduction="none"
            )
            * valid[r : r + rows]
        )
    return out


def chunked_loss(
    hidden: torch.Tensor,
    head: Callable[[torch.Tensor], torch.Tensor],
    per_chunk: Callable[[torch.Tensor, slice], torch.Tensor],
    positions: int,
) -> torch.Tensor:
    """Sum over chunks of ``per_chunk(logits of the chunk, the chunk's slice)``, differentiable,
    with each chunk's logits recomputed in the backward pass instead of kept (activation
    checkpointing per chunk): training holds one chunk of logits, not a batch's.

    ``hidden``: [n, hidden] positions to score; ``per_chunk`` returns a scalar."""
    from torch.utils.checkpoint import checkpoint

    total = hidden.new_zeros((), dtype=torch.float32)
    for s in range(0, hidden.shape[0], positions):
        part = slice(s, s + positions)

        def run(h: torch.Tensor, part: slice = part) -> torch.Tensor:
            return per_chunk(head(h).float(), part)

        if hidden.requires_grad:
            total = total + checkpoint(run, hidden[part], use_reentrant=False)
        else:
            total = total + run(hidden[part])
    return total
