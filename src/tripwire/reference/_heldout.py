"""Held-out log-likelihood per language, for a model and for a unigram baseline.

Bits per byte divides by UTF-8 bytes of the text, so models with different tokenizers compare.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class HeldoutLoss:
    """Total negative log-likelihood of one language's held-out text."""

    language: str
    tokens: int
    bytes: int
    nats: float

    @property
    def nats_per_token(self) -> float:
        return self.nats / max(self.tokens, 1)

    @property
    def bits_per_byte(self) -> float:
        return self.nats / math.log(2) / max(self.bytes, 1)


def encode_stream(tokenizer, texts: Sequence[str]) -> list[int]:  # type: ignore[no-untyped-def]
    """``eos text eos text ... eos``: every file predicted from a clean start."""
    eos = tokenizer.eos_token_id
    stream = [eos]
    for enc in tokenizer.backend_tokenizer.encode_batch(list(texts)):
        stream.extend(enc.ids)
        stream.append(eos)
    return stream


def stream_windows(stream: Sequence[int], context: int) -> torch.Tensor:
    """Non-overlapping windows of ``context + 1`` ids, each sharing one id with the next, so
    every id after the first is a prediction target exactly once (the last window is padded
    with -1, which the scorer ignores)."""
    import torch

    ids = torch.tensor(stream, dtype=torch.long)
    n_targets = len(ids) - 1
    n_windows = max(1, math.ceil(n_targets / context))
    padded = torch.full((n_windows * context + 1,), -1, dtype=torch.long)
    padded[: len(ids)] = ids
    return padded.unfold(0, context + 1, context)


def model_nats(model, stream: Sequence[int], context: int, batch_size: int = 16) -> float:  # type: ignore[no-untyped-def]
    """Total nats the model assigns to every target in ``stream``, in the windows of
    :func:`stream_windows` (up to ``batch_size`` windows' worth of tokens a batch; logits a
    chunk of positions at a time, see ``tripwire.compute``)."""
    import torch

    from tripwire.compute._scoring import stream_nll

    with torch.no_grad():
        nll = stream_nll(model, [stream], window=context, max_tokens=batch_size * context)
    return float(nll[0].sum())


def unigram_counts(streams: Sequence[Sequence[int]], vocab_size: int) -> np.ndarray:
    """Add-one smoothed token counts over training streams."""
    counts = np.ones(vocab_size, dtype=np.float64)
    for s in streams:
        counts += np.bincount(np.asarray(s, dtype=np.int64), minlength=vocab_size)[:vocab_size]
    return counts


def unigram_nats(counts: np.ndarray, stream: Sequence[int]) -> float:
    """Total nats a unigram model with ``counts`` assigns to every target in ``stream``."""
    logp = np.log(counts / counts.sum())
    return float(-logp[np.asarray(stream[1:], dtype=np.int64)].sum())


def heldout_bytes(texts: Sequence[str]) -> int:
    """Bytes the targets of ``encode_stream(texts)`` cover (each eos counts as one byte)."""
    return sum(len(t.encode("utf-8")) + 1 for t in texts)
