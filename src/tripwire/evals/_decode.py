"""Batched decoding with a KV cache in which every sequence stops on its own.

``model.generate`` on a batch runs until its longest sequence ends: a sequence that emitted its
end-of-turn token keeps being computed (as padding) until the last one finishes. Here a
sequence leaves the batch as soon as it ends (an end-of-sequence id, a stop check that says the
text is complete, or its token limit), and its rows of the KV cache are dropped, so each step
costs only the sequences still running.

Jobs are sorted by prompt length and batched so that prompts + new tokens of a batch fit the KV
budget; prompts are left-padded, with position ids counted from each prompt's first real token.
Sampling draws from a generator of each job's own (seeded by the job, not the batch), so a
sample does not depend on what it was batched with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from tripwire.compute._chunked import cache_argument, logits_to_keep_argument
from tripwire.progress import Progress, no_progress

MAX_ROWS = 64
"""Sequences decoded together at most: past this a CPU gains nothing per token."""


@dataclass(frozen=True)
class DecodeJob:
    """One completion to generate."""

    key: Any
    prompt_ids: Sequence[int]
    max_new_tokens: int
    stop: Callable[[str], int | None] | None = None
    """Given the text so far, where it ends (a stop sequence's start, or the end of a complete
    answer), or None to go on."""
    seed: int = 0


@dataclass(frozen=True)
class Decoded:
    key: Any
    text: str
    new_tokens: int
    reason: str
    """``eos``, ``stop`` or ``length``."""


def job_seed(*parts: object) -> int:
    """A stable 63-bit seed from anything printable (Python's ``hash`` is salted per run)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def kv_batches(
    jobs: Sequence[DecodeJob], kv_bytes_per_token: int, act_bytes_per_token: int, budget: int,
    max_rows: int = MAX_ROWS,
) -> list[list[int]]:  # fmt: skip
    """Job indices batched so each batch's cache (rows x (longest prompt + most new tokens)) and
    prefill activations fit ``budget`` bytes; longest prompts first."""
    order = sorted(range(len(jobs)), key=lambda i: (-len(jobs[i].prompt_ids), i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        trial = [*current, i]
        prompt = max(len(jobs[j].prompt_ids) for j in trial)
        new = max(jobs[j].max_new_tokens for j in trial)
        cost = len(trial) * ((prompt + new) * kv_bytes_per_token + prompt * act_bytes_per_token)
        if current and (cost > budget or len(trial) > max_rows):
            batches.append(current)
            current = [i]
        else:
            current = trial
    if current:
        batches.append(current)
    return batches


def _choose(
    logits: torch.Tensor, temperature: float, top_p: float, gens: list[torch.Generator]
) -> torch.Tensor:
    if temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_p, idx = probs.sort(dim=-1, descending=True)
        # keep the smallest prefix whose mass reaches top_p (the first token always)
        drop = sorted_p.cumsum(-1) - sorted_p >= top_p
        sorted_p = sorted_p.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, idx, sorted_p)
    picks = [torch.multinomial(probs[r].cpu(), 1, generator=gens[r]) for r in range(len(gens))]
    return torch.cat(picks).to(logits.device)


def decode(
    model: Any,
    tokenizer: Any,
    jobs: Sequence[DecodeJob],
    *,
    eos_ids: set[int],
    pad_id: int,
    temperature: float = 0.0,
    top_p: float = 1.0,
    batches: list[list[int]] | None = None,
    progress: Progress = no_progress,
) -> Iterator[Decoded]:
    """Generate every job (in ``batches``, default one batch), yielding each as it ends."""
    batches = batches if batches is not None else [list(range(len(jobs)))]
    total, finished = len(jobs), 0
    with torch.inference_mode():
        for batch in batches:
            for result in _decode_batch(model, tokenizer, [jobs[i] for i in batch], eos_ids,
                                        pad_id, temperature, top_p):  # fmt: skip
                finished += 1
                progress("generate", finished, total)
                yield result


def _decode_batch(
    model: Any, tokenizer: Any, jobs: list[DecodeJob], eos_ids: set[int], pad_id: int,
    temperature: float, top_p: float,
) -> Iterator[Decoded]:  # fmt: skip
    device = next(model.parameters()).device
    width = max(len(j.prompt_ids) for j in jobs)
    ids = torch.full((len(jobs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(jobs), width), dtype=torch.long)
    for r, j in enumerate(jobs):
        ids[r, width - len(j.prompt_ids) :] = torch.as_tensor(list(j.prompt_ids))
        mask[r, width - len(j.prompt_ids) :] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    gens = [torch.Generator().manual_seed(j.seed) for j in jobs]
    cache_name = cache_argument(model)
    keep_last = logits_to_keep_argument(model)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True,
                **keep_last)  # fmt: skip
    cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None)
    logits = out.logits[:, -1, :]
    alive = list(range(len(jobs)))  # job index of each row still in the batch
    generated: list[list[int]] = [[] for _ in jobs]
    next_pos = positions[:, -1] + 1
    while alive:
        chosen = _choose(logits, temperature, top_p, [gens[a] for a in alive]).tolist()
        keep: list[int] = []
        for row, (a, token) in enumerate(zip(alive, chosen, strict=True)):
            job = jobs[a]
            if token in eos_ids:
                yield Decoded(job.key, _text(tokenizer, generated[a]), len(generated[a]), "eos")
                continue
            generated[a].append(token)
            end = None
            if job.stop is not None:
                text = _text(tokenizer, generated[a])
                end = job.stop(text)
                if end is not None:
                    yield Decoded(job.key, text[:end], len(generated[a]), "stop")
                    continue
            if len(generated[a]) >= job.max_new_tokens:
                text = _text(tokenizer, generated[a])
                yield Decoded(job.key, text, len(generated[a]), "length")
                continue
            keep.append(row)
        if not keep:
            return
        if len(keep) < len(alive):
            index = torch.tensor(keep, device=device)
            cache.batch_select_indices(index)
            mask, next_pos = mask[index], next_pos[index]
            chosen = [chosen[k] for k in keep]
            alive = [alive[k] for k in keep]
        step = torch.tensor(chosen, device=device)[:, None]
        mask = torch.cat([mask, mask.new_ones((len(alive), 1))], dim=1)
        out = model(input_ids=step, attention_mask=mask, position_ids=next_pos[:, None],
                    use_cache=True, **{cache_name: cache})  # fmt: skip
        cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None) or cache
        logits = out.logits[:, -1, :]
        next_pos = next_pos + 1


def _text(tokenizer: Any, ids: list[int]) -> str:
    return tokenizer.decode(ids, skip_special_tokens=True)
