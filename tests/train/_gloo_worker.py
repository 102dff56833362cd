"""One rank of a real two-process gloo group, for tests/train/test_distributed.py (imports only
``tripwire.train._distributed``, so a rank starts in a few seconds)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from tripwire.errors import BadInputError
from tripwire.train import _distributed


def _outcome(fn) -> str:  # type: ignore[no-untyped-def]
    try:
        return f"ok {fn()!r}"
    except Exception as exc:
        return f"{type(exc).__name__} {exc}"


def rank_main(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world),
                      RANK=str(rank), LOCAL_RANK=str(rank))  # fmt: skip
    dist = _distributed.distributed(torch.device("cpu"))
    _distributed._BUCKET = 5  # several all-reduces, shared and alone
    tensors = [torch.full((n,), float(rank + 1)) for n in (2, 2, 7, 1)]
    dist.sum_(tensors)

    def only_rank0() -> str:
        assert dist.rank == 0
        return "from rank 0"

    def bad_input() -> None:
        raise BadInputError("data.jsonl", "unreadable")

    def crash() -> None:
        raise ValueError("disk full")

    report = {
        "backend": dist.backend,
        "sums": [t.tolist() for t in tensors],
        "ok": _outcome(lambda: dist.from_main(only_rank0)),
        "bad_input": _outcome(lambda: dist.from_main(bad_input)),
        "crash": _outcome(lambda: dist.from_main(crash)),
        "same": _outcome(lambda: dist.same(3, "a constant")),
        "differ": _outcome(lambda: dist.same(rank, "the rank")),
    }
    Path(out, f"rank{rank}.json").write_text(json.dumps(report))
