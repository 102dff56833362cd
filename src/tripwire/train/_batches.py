"""Packed token streams and the batches drawn from them, task and replay rows mixed.

Every batch is a pure function of (seed, step): a resumed run draws exactly the batches the
uninterrupted run would have, with no sampler state to save.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from tripwire.errors import BadInputError
from tripwire.train._formats import Example

IGNORE = -100
"""Label of positions that carry no loss (prompts, padding)."""


@dataclass(frozen=True)
class Batch:
    """One training step's rows."""

    input_ids: torch.Tensor
    """[rows, context] model inputs."""
    labels: torch.Tensor
    """[rows, context] next-token targets, ``IGNORE`` where no loss is taken."""
    valid: torch.Tensor
    """[rows, context] True where the input is real data rather than end padding."""
    replay_rows: int
    """How many of the rows (the last ones) came from the replay stream."""

    def to(self, device: torch.device) -> Batch:
        return Batch(
            self.input_ids.to(device),
            self.labels.to(device),
            self.valid.to(device),
            self.replay_rows,
        )


def _unreachable(ex: Example, context: int) -> str | None:
    """Why an example drawn only from its start has no target inside its first window (its
    prompt fills the context: it would train on nothing, a loss of 0), or None."""
    if any(ex.mask[:context]):
        return None
    first = ex.mask.index(True) if any(ex.mask) else len(ex.mask)
    return (
        f"nothing to train on within the context: the prompt takes {first} tokens of "
        f"--context {context}; shorten the prompt or raise --context"
    )


class PackedStream:
    """Examples joined as ``eos ex eos ex ... eos``, with the window starts one may draw.

    A window may start anywhere inside a code example (files are longer than the context) but
    only at the start of an instruction or chat example, so every response is seen with its
    prompt. An instruction or chat example whose prompt fills the context is left out (named in
    ``left_out``, which the run reports); a stream left with nothing to train on is bad input.
    """

    def __init__(
        self, examples: list[Example], eos_id: int, pad_id: int, context: int, anywhere: list[bool]
    ) -> None:
        ids: list[int] = [eos_id]
        mask: list[bool] = [False]
        starts: list[torch.Tensor] = []
        self.left_out: list[str] = []
        """Where each example left out is, with why (``FILE:LINE: ...``)."""
        for ex, free in zip(examples, anywhere, strict=True):
            why = None if free else _unreachable(ex, context)
            if why is not None:
                self.left_out.append(f"{ex.where or 'data'}: {why}")
                continue
            begin = len(ids) - 1  # the window's first input is the eos before the example
            ids += ex.ids
            mask += ex.mask
            ids.append(eos_id)
            mask.append(bool(ex.mask[-1]) if ex.mask else False)
            if free:
                starts.append(torch.arange(begin, max(begin + 1, len(ids) - context)))
            else:
                starts.append(torch.tensor([begin]))
        if self.left_out and not starts:
            where, _, why = self.left_out[0].partition(": ")
            raise BadInputError(where, why)
        real = len(ids)
        # pad so a window from any start is whole; padding is never a target
        ids += [pad_id] * (context + 1)
        mask += [False] * (context + 1)
        self.ids = torch.tensor(ids, dtype=torch.long)
        self.targets = torch.where(torch.tensor(mask), self.ids, IGNORE)
        self.real = torch.arange(len(ids)) < real
        self.starts = torch.cat(starts) if starts else torch.tensor([0])
        self.context = context

    @property
    def trained_tokens(self) -> int:
        return int((self.targets != IGNORE).sum())

    def windows(self, count: int, gen: torch.Generator) -> tuple[torch.Tensor, ...]:
        """``count`` random windows: inputs, labels and validity, each [count, context]."""
        pick = self.starts[torch.randint(0, len(self.starts), (count,), generator=gen)]
        offsets = pick[:, None] + torch.arange(self.context + 1)[None, :]
        ids, targets, real = self.ids[offsets], self.targets[offsets], self.real[offsets]
        return ids[:, :-1], targets[:, 1:], real[:, :-1]


def replay_rows_at(step: int, batch_size: int, ratio: float) -> int:
    """Replay rows in batch ``step``: the running share of replay rows tracks ``ratio`` exactly,
    so a ratio that is not a multiple of 1/batch_size alternates between floor and ceil."""
    if ratio <= 0:
        return 0

    def upto(n: int) -> int:
        return math.floor(n * batch_size * ratio + 1e-9)

    return min(batch_size - 1, upto(step + 1) - upto(step))


def step_generator(seed: int, step: int, stream: int = 0) -> torch.Generator:
    """The random source of one step's draws from one stream."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step) * 4 + stream)


def make_batch(
    step: int,
    seed: int,
    batch_size: int,
    task: PackedStream,
    replay: PackedStream | None,
    ratio: float,
) -> Batch:
    n_replay = replay_rows_at(step, batch_size, ratio) if replay is not None else 0
    parts = [task.windows(batch_size - n_replay, step_generator(seed, step, 0))]
    if n_replay and replay is not None:
        parts.append(replay.windows(n_replay, step_generator(seed, step, 1)))
    ids, labels, valid = (torch.cat(p) for p in zip(*parts, strict=True))
    return Batch(ids, labels, valid, n_replay)
