"""Held-out loss of any causal-LM checkpoint on a reference model's held-out split."""

from __future__ import annotations

from pathlib import Path

from tripwire.artifacts import Checkpoint
from tripwire.reference._build import load_reference_corpus
from tripwire.reference._heldout import HeldoutLoss, encode_stream, heldout_bytes, model_nats


def heldout_losses(
    model_dir: str | Path, corpus_from: str | Path | None = None, *, context: int | None = None
) -> dict[str, HeldoutLoss]:
    """Per-language held-out loss of ``model_dir`` on the held-out files of ``corpus_from``
    (a reference model directory; defaults to ``model_dir`` itself)."""
    import torch

    ckpt = Checkpoint.open(model_dir)
    model = ckpt.load_model(causal=True)
    tokenizer = ckpt.load_tokenizer()
    ctx = context or int(
        ckpt.config.get("n_positions") or ckpt.config.get("max_position_embeddings", 128)
    )
    files = load_reference_corpus(corpus_from or model_dir, "heldout")
    out = {}
    with torch.inference_mode():
        for lang, sources in files.items():
            texts = [f.text for f in sources]
            stream = encode_stream(tokenizer, texts)
            nats = model_nats(model, stream, ctx)
            out[lang] = HeldoutLoss(lang, len(stream) - 1, heldout_bytes(texts), nats)
    return out
