"""Pre-train the small GPT-2-style reference model on the corpus, deterministically for a seed."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from transformers import GPT2Config, GPT2LMHeadModel

from tripwire.progress import Progress, no_progress
from tripwire.reference._profiles import Profile


def new_model(profile: Profile, vocab_size: int, eos_id: int, pad_id: int) -> GPT2LMHeadModel:
    config = GPT2Config(
        vocab_size=vocab_size,
        n_positions=profile.context,
        n_embd=profile.n_embd,
        n_layer=profile.n_layer,
        n_head=profile.n_head,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        tie_word_embeddings=True,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    return GPT2LMHeadModel(config)


def pretrain(
    profile: Profile,
    streams: dict[str, Sequence[int]],
    vocab_size: int,
    eos_id: int,
    pad_id: int,
    seed: int,
    progress: Progress = no_progress,
) -> tuple[GPT2LMHeadModel, list[float]]:
    """Train from scratch; each batch draws windows from every language equally."""
    torch.manual_seed(seed)
    model = new_model(profile, vocab_size, eos_id, pad_id)
    gen = torch.Generator().manual_seed(seed)
    data = [torch.tensor(s, dtype=torch.long) for s in streams.values()]
    span = profile.context
    opt = torch.optim.AdamW(model.parameters(), lr=profile.learning_rate, weight_decay=0.01)

    def lr_at(step: int) -> float:
        if step < profile.warmup_steps:
            return (step + 1) / profile.warmup_steps
        frac = (step - profile.warmup_steps) / max(1, profile.steps - profile.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    losses: list[float] = []
    model.train()
    for step in range(profile.steps):
        rows = []
        for i in range(profile.batch_size):
            s = data[i % len(data)]
            start = int(torch.randint(0, len(s) - span, (1,), generator=gen))
            rows.append(s[start : start + span])
        batch = torch.stack(rows)
        out = model(input_ids=batch, labels=batch)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(out.loss.item())
        progress("train", step + 1, profile.steps)
    model.eval()
    return model, losses
