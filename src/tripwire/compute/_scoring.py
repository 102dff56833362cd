"""Score token streams with a causal LM: every target's negative log-likelihood, in windows of
at most ``window`` tokens (see ``_batching``), batched by tokens, logits a chunk at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tripwire.compute._batching import Piece, split_windows, token_batches
from tripwire.compute._budget import MemoryBudget
from tripwire.compute._footprint import RUNTIME_BYTES, Footprint, require_fits
from tripwire.progress import Progress, no_progress

MAX_BATCH_TOKENS = 16_384
"""Tokens per batch at most, whatever the budget: past a few thousand a CPU gains nothing from
bigger batches, and a GPU little."""


def scoring_batch_tokens(
    footprint: Footprint, budget: MemoryBudget, window: int, what: str = "scoring"
) -> int:
    """Tokens per scoring batch the budget allows beside the weights (refuses, one line, when
    not even one window of ``window`` tokens fits)."""
    from tripwire.compute._chunked import CHUNK_BYTES  # torch: imported when scoring

    per_token = footprint.forward_bytes_per_token(window)
    fixed = {"for its weights": footprint.weight_bytes, "for the logits of a chunk": CHUNK_BYTES}
    require_fits(what, {**fixed, f"for one window of {window} tokens": per_token * window},
                 budget, hint="raise --max-memory or lower the window")  # fmt: skip
    spare = budget.bytes - RUNTIME_BYTES - sum(fixed.values())
    return int(max(window, min(MAX_BATCH_TOKENS, spare // per_token)))


def stream_nll(
    model: Any,
    streams: Sequence[Sequence[int]],
    *,
    window: int,
    max_tokens: int,
    overlap: int = 0,
    pad_id: int = 0,
    progress: Progress = no_progress,
    task: str = "score",
) -> list[np.ndarray]:
    """For each stream, the nats of each of its targets (ids 1..n-1, each predicted from the ids
    before it within its window): float64 arrays of length ``len(stream) - 1``."""
    import torch

    from tripwire.compute._chunked import target_nll

    pieces: list[Piece] = []
    for i, s in enumerate(streams):
        pieces += split_windows(i, len(s), window, overlap)
    out = [np.zeros(max(len(s) - 1, 0), dtype=np.float64) for s in streams]
    device = next(model.parameters()).device
    batches = token_batches(pieces, max_tokens)
    done = 0
    for batch in batches:
        width = max(pieces[i].length for i in batch)
        inputs = torch.full((len(batch), width), pad_id, dtype=torch.long)
        targets = torch.full((len(batch), width), -1, dtype=torch.long)
        for row, i in enumerate(batch):
            p = pieces[i]
            ids = torch.as_tensor(streams[p.text][p.start : p.end], dtype=torch.long)
            inputs[row, : p.length] = ids[:-1]
            targets[row, p.skip : p.length] = ids[1 + p.skip :]
        nll = target_nll(model, inputs.to(device), targets.to(device)).double().cpu().numpy()
        for row, i in enumerate(batch):
            p = pieces[i]
            # target k of the piece is target start + k of the stream (0-based over ids[1:])
            out[p.text][p.start + p.skip : p.start + p.length] = nll[row, p.skip : p.length]
        done += len(batch)
        progress(task, done, len(pieces))
    return out
