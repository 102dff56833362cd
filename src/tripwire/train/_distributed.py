"""One fine-tune as several processes (``torchrun``, ``accelerate launch``): who this process
is, the process group, and the few collectives training needs.

The launcher says a run is distributed: it sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``
(torchrun and ``accelerate launch`` both do). Nothing else decides it, so ``tripwire train``
runs unchanged under either. Every rank draws the whole global batch (a pure function of seed
and step) and runs its own rows of it (``shard``); gradients are summed over ranks, so a step is
the single-process step of the same global batch up to float rounding. Rank 0 alone writes
(state, checkpoint, manifests, registry); a failure on any rank ends the run (the launcher stops
the others), and a failure of rank 0 while it writes is raised on every rank.

Nothing here imports torch at module level: the CLI asks ``launched()`` before loading it.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from tripwire.errors import BadInputError, UnavailableError, UserError

T = TypeVar("T")
_BUCKET = 16 * 2**20
"""Elements summed in one all-reduce at most (64 MiB of float32)."""


@dataclass(frozen=True)
class Launch:
    """This process's place in the run, as the launcher set it in the environment."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes, shows progress and reports."""
        return self.rank == 0


def launched() -> Launch:
    """What ``torchrun`` / ``accelerate launch`` told this process (one process when unset)."""

    def read(name: str, default: int) -> int:
        value = os.environ.get(name, "")
        try:
            return int(value) if value else default
        except ValueError:
            raise BadInputError(name, f"must be an integer, got {value!r}") from None

    world = read("WORLD_SIZE", 1)
    rank = read("RANK", 0)
    if world < 1 or not 0 <= rank < world:
        raise BadInputError("RANK", f"{rank} is not a rank of WORLD_SIZE {world}")
    return Launch(rank, world, read("LOCAL_RANK", rank))


class Distributed:
    """The process group of a launched run, or (``world_size`` 1) a stand-in whose collectives
    do nothing, so training code reads the same either way."""

    def __init__(self, launch: Launch, backend: str | None) -> None:
        self.launch = launch
        self.backend = backend
        """``gloo`` or ``nccl``; None in one process."""

    @property
    def rank(self) -> int:
        return self.launch.rank

    @property
    def world_size(self) -> int:
        return self.launch.world_size

    @property
    def is_main(self) -> bool:
        return self.launch.is_main

    @property
    def enabled(self) -> bool:
        """Several processes (collectives communicate); False: one, they do nothing."""
        return self.launch.distributed

    def describe(self) -> dict[str, Any]:
        """Where the run ran, for its manifest and JSON."""
        return {"world_size": self.world_size, "backend": self.backend}

    def shard(self, rows: int) -> slice:
        """This rank's contiguous share of ``rows`` (sizes differ by at most one)."""
        return slice(self.rank * rows // self.world_size, (self.rank + 1) * rows // self.world_size)

    def barrier(self) -> None:
        if self.enabled:
            import torch.distributed as dist

            dist.barrier()

    def sum_(self, tensors: list[Any]) -> None:
        """Sum each tensor over ranks, in place: small tensors share one all-reduce (through a
        flat buffer of up to ``_BUCKET`` elements), a large one is reduced where it is."""
        if not self.enabled:
            return
        import torch
        import torch.distributed as dist

        def flush(bucket: list[Any]) -> None:
            if len(bucket) == 1:
                dist.all_reduce(bucket[0])
                return
            flat = torch.cat([t.reshape(-1) for t in bucket])
            dist.all_reduce(flat)
            for t, part in zip(bucket, flat.split([t.numel() for t in bucket]), strict=True):
                t.copy_(part.view_as(t))

        bucket: list[Any] = []
        size = 0
        for t in tensors:
            if bucket and size + t.numel() > _BUCKET:
                flush(bucket)
                bucket, size = [], 0
            bucket.append(t)
            size += t.numel()
        if bucket:
            flush(bucket)

    def sum_floats(self, values: list[float], device: Any) -> list[float]:
        if not self.enabled:
            return values
        import torch

        buf = torch.tensor(values, dtype=torch.float64, device=device)
        self.sum_([buf])
        return [float(v) for v in buf.cpu()]

    def same(self, value: Any, what: str) -> Any:
        """``value``, checked to be equal on every rank (a rank that read other saved state
        than rank 0 must not train on)."""
        if not self.enabled:
            return value
        import torch.distributed as dist

        values: list[Any] = [None] * self.world_size
        dist.all_gather_object(values, value)
        if any(v != values[0] for v in values):
            raise RuntimeError(
                f"ranks disagree on {what} ({values}); the output's parent directory must be "
                "one that every rank sees"
            )
        return value

    def from_main(self, fn: Callable[[], T]) -> T:
        """``fn()`` run on rank 0 only, its result (or its error, raised again) on every rank:
        for work that writes or that every rank needs once (hashing, auditing, saving)."""
        outcome: list[Any] = [None]
        error: Exception | None = None
        if self.is_main:
            try:
                outcome = [("ok", fn())]
            except UserError as exc:
                error, outcome = exc, [("user", type(exc), exc.where, exc.problem)]
            except Exception as exc:
                error, outcome = exc, [("error", f"{type(exc).__name__}: {exc}")]
        if self.enabled:
            import torch.distributed as dist

            dist.broadcast_object_list(outcome, src=0)
        if error is not None:
            raise error  # rank 0: its own error, traceback and all
        kind, *rest = outcome[0]
        if kind == "ok":
            return rest[0]
        if kind == "user":
            raise rest[0](rest[1], rest[2])  # the same one-line error and exit code everywhere
        raise RuntimeError(f"rank 0 failed: {rest[0]}")


_CURRENT: Distributed | None = None


def backend_for(device: Any) -> str:
    """NCCL between GPUs, gloo between CPU processes."""
    return "nccl" if getattr(device, "type", str(device)) == "cuda" else "gloo"


def distributed(device: Any = None) -> Distributed:
    """This process's ``Distributed``, joining the process group on first use when launched
    as several (``device``: where this rank trains, which picks the backend)."""
    global _CURRENT
    launch = launched()
    if _CURRENT is not None and _CURRENT.launch == launch:
        return _CURRENT
    if not launch.distributed:
        _CURRENT = Distributed(launch, None)
        return _CURRENT
    import torch.distributed as dist

    if not dist.is_available():
        raise UnavailableError("WORLD_SIZE", "this torch build has no torch.distributed")
    if not dist.is_initialized():
        # the other ranks wait while rank 0 alone audits and hashes the data or writes the
        # model: longer than torch's default (10 minutes under NCCL) for big inputs
        wait = read_seconds("TRIPWIRE_DIST_TIMEOUT", 3600)
        dist.init_process_group(backend=backend_for(device), timeout=timedelta(seconds=wait))
        atexit.register(_destroy)
    _CURRENT = Distributed(launch, str(dist.get_backend()))
    return _CURRENT


def read_seconds(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    try:
        seconds = float(value) if value else default
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise BadInputError(name, f"must be a positive number of seconds, got {value!r}")
    return seconds


def _destroy() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def rank_device(device: Any, launch: Launch) -> Any:
    """A rank's GPU: ``cuda`` means ``cuda:LOCAL_RANK`` under a launcher (one GPU a rank)."""
    import torch

    if launch.distributed and device.type == "cuda":
        if device.index is None:
            device = torch.device("cuda", launch.local_rank)
        torch.cuda.set_device(device)  # NCCL's communicator binds to the current device
    return device
