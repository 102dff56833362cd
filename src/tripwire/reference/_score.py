"""Held-out loss of any causal-LM checkpoint on a reference model's held-out split."""

from __future__ import annotations

from pathlib import Path

from tripwire.artifacts import Checkpoint
from tripwire.reference._build import load_reference_corpus
from tripwire.reference._heldout import HeldoutLoss, encode_stream, heldout_bytes, model_nats

WINDOW = 2048
"""Held-out text is scored in windows of the model's context, at most this many tokens."""


def heldout_losses(
    model_dir: str | Path, corpus_from: str | Path | None = None, *, context: int | None = None
) -> dict[str, HeldoutLoss]:
    """Per-language held-out loss of ``model_dir`` on the held-out files of ``corpus_from``
    (a reference model directory; defaults to ``model_dir`` itself)."""
    import torch

    from tripwire.compute import Footprint, current_budget
    from tripwire.compute._scoring import scoring_batch_tokens

    ckpt = Checkpoint.open(model_dir)
    ctx = context or int(
        ckpt.config.get("n_positions") or ckpt.config.get("max_position_embeddings", 128)
    )
    # a real model's context (8k) is no window to score in: cap it like the retention suite
    ctx = min(ctx, WINDOW)
    # sized (and refused, one line) by the memory budget before the model is loaded
    max_tokens = scoring_batch_tokens(Footprint.of(ckpt), current_budget(), ctx, "held-out scoring")
    files = load_reference_corpus(corpus_from or model_dir, "heldout")
    model = ckpt.load_model(causal=True)
    tokenizer = ckpt.load_tokenizer()
    out = {}
    with torch.inference_mode():
        for lang, sources in files.items():
            texts = [f.text for f in sources]
            stream = encode_stream(tokenizer, texts)
            nats = model_nats(model, stream, ctx, batch_size=max(1, max_tokens // ctx))
            out[lang] = HeldoutLoss(lang, len(stream) - 1, heldout_bytes(texts), nats)
    return out
