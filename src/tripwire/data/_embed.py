"""A record's place among the others: a small vector of its tokens (the hashing trick).

Each token id (``_lexer.token_ids``, already computed for dedup) adds +1 or -1 to one of
``DIMS`` coordinates, both chosen by the id's bits (Weinberger et al., "Feature hashing for
large scale multitask learning", 2009: inner products of such vectors estimate those of the
records' bags of tokens); each coordinate is then damped to ``sign(x) log(1 + |x|)`` so the
brackets every record has do not outweigh its names, and the vector is scaled to length 1.
Records of another language, data files, logs or prose sit far from a set of code. One
``bincount`` per shard; nothing to download, no model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DIMS = 256
_SHIFT = np.uint64(17)


def token_embeddings(id_arrays: Sequence[np.ndarray]) -> np.ndarray:
    """``[len(id_arrays), DIMS]`` float32 rows of length 1 (zeros for an empty array)."""
    n = len(id_arrays)
    out = np.zeros((n, DIMS), dtype=np.float32)
    if not n:
        return out
    lengths = np.fromiter(map(len, id_arrays), dtype=np.intp, count=n)
    if not lengths.sum():
        return out
    ids = np.concatenate(id_arrays)
    rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
    dim = (ids % np.uint64(DIMS)).astype(np.int64)
    sign = np.where((ids >> _SHIFT) & np.uint64(1), 1.0, -1.0)
    sums = np.bincount(rows * DIMS + dim, weights=sign, minlength=n * DIMS).reshape(n, DIMS)
    out[:] = np.sign(sums) * np.log1p(np.abs(sums))
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out
