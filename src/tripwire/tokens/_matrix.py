"""Embedding tables as memory-mapped tensors, read in float32 chunks.

A 150k x 4096 bf16 table is 1.2 GB; mapping it (instead of copying it) and converting only the
rows a step needs keeps an audit's memory near the size of the files it reads.
"""

from __future__ import annotations

import contextlib
import json
import math
import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from tripwire.artifacts import Checkpoint
from tripwire.errors import BadInputError

_DTYPES = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
# Rows per float32 chunk: about 64 MB whatever the width. Chunks are read into buffers that are
# reused (a fresh allocation per chunk costs a page fault per 4 KB, which dominates on a VM), and
# large chunks mean few parallel ops (each a thread barrier, costly on a busy machine).
_CHUNK_BYTES = 64 << 20
# Rows the table statistics (mean, median norm) are estimated from.
_STATS_SAMPLE = 8192


def mapped_tensor(ckpt: Checkpoint, name: str) -> torch.Tensor:
    """``name`` as a read-only view of the safetensors file (no copy); other formats load."""
    for path in ckpt.weight_files:
        if path.suffix != ".safetensors":
            break
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
            if name not in header:
                continue
            info = header[name]
            dtype = _DTYPES.get(info["dtype"])
            if dtype is None:
                break
            start, end = info["data_offsets"]
            shape = tuple(info["shape"])
            count = (end - start) // torch.empty((), dtype=dtype).element_size()
            if count != math.prod(shape) or start > end:
                # the view below would fail, or (for no bytes) hand back uninitialised memory
                raise BadInputError(
                    path,
                    f"corrupt safetensors header: {name} has shape {list(shape)} "
                    f"({math.prod(shape)} values) but its data_offsets hold {count}",
                )
            if end == start:
                return torch.empty(shape, dtype=dtype)
            # Copy-on-write mapping: torch wants a writable buffer, and the file stays untouched.
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        return torch.frombuffer(mm, dtype=dtype, count=count, offset=8 + n + start).view(shape)
    return ckpt.read_tensor(name)


def nonfinite_rows(table: torch.Tensor) -> np.ndarray:
    """Ids of the rows holding a NaN or an infinity (an fp16 overflow, a diverged fine-tune):
    one pass, in chunks."""
    if table.ndim != 2 or not table.is_floating_point():
        return np.zeros(0, dtype=np.int64)
    width = int(table.shape[1])
    found = [
        np.nonzero(~torch.isfinite(table[sl]).all(dim=1).numpy())[0] + sl.start
        for sl in row_chunks(int(table.shape[0]), width)
    ]
    return np.concatenate([np.zeros(0, dtype=np.int64), *found]).astype(np.int64)


def chunk_rows(width: int) -> int:
    return max(256, _CHUNK_BYTES // (4 * max(width, 1)))


def row_chunks(n: int, width: int) -> Iterator[slice]:
    step = chunk_rows(width)
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def _contiguous(ids: np.ndarray) -> bool:
    return (
        len(ids) > 0
        and int(ids[-1]) - int(ids[0]) == len(ids) - 1
        and bool((np.diff(ids) == 1).all())
    )


def rows_f32(table: torch.Tensor, ids: np.ndarray | list[int] | slice) -> torch.Tensor:
    """The given rows as a new float32 tensor (for small reads; loops use ``RowReader``).
    Always a copy: the table may be a mapped file, and callers may write into the result."""
    if isinstance(ids, slice):
        return table[ids].to(torch.float32, copy=True)
    ids = np.asarray(ids, dtype=np.int64)
    if _contiguous(ids):
        return table[int(ids[0]) : int(ids[-1]) + 1].to(torch.float32, copy=True)
    return table[torch.from_numpy(ids)].to(torch.float32)


class RowReader:
    """Reads rows of one table as float32 into a reused buffer, one chunk at a time. The
    returned tensor is valid until the next read (callers may modify it in place)."""

    def __init__(self, table: torch.Tensor, rows: int) -> None:
        self.table = table
        shape = (rows, *table.shape[1:])
        self._f32 = torch.empty(shape, dtype=torch.float32)
        self._raw = None if table.dtype == torch.float32 else torch.empty(shape, dtype=table.dtype)

    def read(self, ids: np.ndarray) -> torch.Tensor:
        m = len(ids)
        out = self._f32[:m]
        if _contiguous(ids):
            out.copy_(self.table[int(ids[0]) : int(ids[0]) + m])
        elif self._raw is None:
            torch.index_select(self.table, 0, torch.from_numpy(ids), out=out)
        else:
            raw = self._raw[:m]
            torch.index_select(self.table, 0, torch.from_numpy(ids), out=raw)
            out.copy_(raw)
        return out


@dataclass
class RowStats:
    """Whole-table facts the row checks measure against (computed lazily, one pass each)."""

    table: torch.Tensor

    @property
    def rows(self) -> int:
        return int(self.table.shape[0])

    @property
    def width(self) -> int:
        return int(self.table.shape[1])

    @cached_property
    def _sample(self) -> torch.Tensor:
        sample = rows_f32(self.table, sample_ids(self.rows, _STATS_SAMPLE))
        # one NaN row would make the mean, and every "close to the mean" test, NaN
        return sample[torch.isfinite(sample).all(dim=1)]

    @cached_property
    def mean(self) -> torch.Tensor:
        """The mean row (over a fixed sample of rows in tables larger than the sample)."""
        return self._sample.mean(0)

    @cached_property
    def norms(self) -> torch.Tensor:
        """Every row's norm (one pass over the table)."""
        if not self.rows:
            return torch.zeros(0)
        reader = RowReader(self.table, chunk_rows(self.width))
        return torch.cat(
            [
                torch.linalg.vector_norm(reader.read(np.arange(sl.start, sl.stop)), dim=1)
                for sl in row_chunks(self.rows, self.width)
            ]
        )

    @cached_property
    def median_norm(self) -> float:
        return float(self._sample.norm(dim=1).median()) if self.rows else 0.0

    @cached_property
    def median_spread(self) -> float:
        """Median distance of a row from the table mean: the scale "close to the mean" uses."""
        return float((self._sample - self.mean).norm(dim=1).median()) if self.rows else 0.0


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch ops on one thread. The row passes are memory-bound: a second thread gains
    little, and on a busy machine every parallel op waits at a thread barrier (measured: an
    audit twice as slow with 2 threads as with 1 at load average 7 on 2 cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def sample_ids(n: int, k: int, seed: int = 0) -> np.ndarray:
    """A fixed pseudo-random sample of ``k`` of ``n`` row ids (all of them when ``n <= k``)."""
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))


def relative_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``|a - b| / max(|a|, |b|)`` per row: 0 for equal rows, about 1.4 for unrelated ones,
    symmetric, and defined for zero rows. Overwrites ``b`` (a scratch buffer)."""
    scale = torch.maximum(
        torch.linalg.vector_norm(a, dim=1), torch.linalg.vector_norm(b, dim=1)
    ).clamp_min_(1e-12)
    return torch.linalg.vector_norm(b.sub_(a), dim=1).div_(scale)


def nearest_rows(
    table: torch.Tensor, queries: torch.Tensor, k: int = 3, norms: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` rows of ``table`` nearest (L2) to each query, as (ids, relative distances),
    scanning the table in chunks."""
    k = min(k, int(table.shape[0]))
    q_norm2 = (queries * queries).sum(1, keepdim=True)
    best_d = torch.full((len(queries), k), float("inf"))
    best_i = torch.zeros((len(queries), k), dtype=torch.long)
    reader = RowReader(table, chunk_rows(int(table.shape[1])))
    for sl in row_chunks(int(table.shape[0]), int(table.shape[1])):
        chunk = reader.read(np.arange(sl.start, sl.stop))
        c_norm2 = norms[sl] ** 2 if norms is not None else (chunk * chunk).sum(1)
        d2 = (q_norm2 + c_norm2[None, :] - 2 * queries @ chunk.T).clamp_min(0)
        d, i = torch.topk(d2, min(k, d2.shape[1]), dim=1, largest=False)
        cat_d = torch.cat([best_d, d], 1)
        cat_i = torch.cat([best_i, i + sl.start], 1)
        order = torch.topk(cat_d, k, dim=1, largest=False).indices
        best_d, best_i = cat_d.gather(1, order), cat_i.gather(1, order)
    found = rows_f32(table, best_i.reshape(-1).numpy()).reshape(len(queries), k, -1)
    scale = torch.maximum(queries.norm(dim=1, keepdim=True), found.norm(dim=2)).clamp_min(1e-12)
    return best_i, best_d.sqrt() / scale
