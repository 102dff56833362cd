"""Row correspondence: does each candidate token's row still hold that token's baseline row?

A clean fine-tune moves every row a little; "ids reassigned, embeddings not remapped" leaves a
token holding another token's row. The check first compares rows matched by string (one
vectorised pass), then the row at the same index (what a remap without moving the table leaves
behind), and runs a nearest-neighbour search only over the rows still unexplained.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import torch

from tripwire.progress import Progress, no_progress
from tripwire.tokens._matrix import (
    RowReader,
    chunk_rows,
    nearest_rows,
    relative_distance,
    rows_f32,
    single_threaded,
)

# The tolerance is a multiple of the typical drift, within these bounds: trained rows of
# different tokens sit at relative distance 0.25 or more from each other even in tiny models.
_DRIFT_MULTIPLE = 4.0
TOLERANCE_MIN = 0.05
TOLERANCE_MAX = 0.2
# Nearest-neighbour search runs over at most this many unexplained rows, and at most as many as
# this many floating-point operations allow (a few seconds on 2 cores): rows past it are still
# reported, as rows that match no baseline row nearby.
NN_LIMIT = 4096
NN_FLOPS = 1.5e11
# Rows the search must explain by one offset before the rest are tried at it (a swap or two
# never makes a shift).
_OFFSET_MIN = 32


@dataclass
class Correspondence:
    """Which candidate rows hold which baseline rows, for one matrix."""

    matrix: str
    """``input`` or ``output``."""
    compared: int = 0
    drift: float = 0.0
    """Median relative distance between a candidate row and the baseline row it holds."""
    tolerance: float = TOLERANCE_MIN
    matched: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Candidate ids whose row is their own token's baseline row (within the tolerance)."""
    drifted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Candidate ids beyond the tolerance whose nearest baseline row is still their own."""
    remapped: dict[int, int] = field(default_factory=dict)
    """Candidate id -> baseline id whose row it holds instead of its own."""
    unexplained: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Candidate ids whose row matches no baseline row (re-initialised, or not searched)."""
    not_searched: int = 0


def correspond(
    base: torch.Tensor,
    cand: torch.Tensor,
    cand_ids: np.ndarray,
    base_ids: np.ndarray,
    *,
    matrix: str = "input",
    progress: Progress = no_progress,
) -> Correspondence:
    """Compare ``cand[cand_ids[k]]`` with ``base[base_ids[k]]`` (the same token string)."""
    n = len(cand_ids)
    result = Correspondence(matrix=matrix, compared=n)
    if n == 0:
        return result
    with single_threaded():
        own, same = _distances(base, cand, cand_ids, base_ids, matrix, progress)
    best = np.fmin(own, same)
    # A NaN or infinite row (either side) has no distance: it must not turn the median, and so
    # the tolerance, into NaN (every row would then look re-initialised), nor be searched for.
    finite = np.isfinite(best)
    result.drift = float(np.median(best[finite])) if finite.any() else 0.0
    tol = float(np.clip(_DRIFT_MULTIPLE * result.drift, TOLERANCE_MIN, TOLERANCE_MAX))
    result.tolerance = tol
    ok = own <= tol
    by_index = ~ok & (same <= tol) & (same < own)
    result.matched = cand_ids[ok]
    result.remapped = {int(c): int(c) for c in cand_ids[by_index]}
    rest = np.nonzero(~ok & ~by_index & finite)[0]
    broken = cand_ids[~ok & ~by_index & ~finite]
    limit = min(NN_LIMIT, max(64, int(NN_FLOPS / (2 * base.shape[0] * base.shape[1]))))
    result.not_searched = max(0, len(rest) - limit)
    searched, skipped = rest[:limit], rest[limit:]
    drifted, left = [], [skipped]
    offsets: list[int] = []
    if len(searched):
        queries = rows_f32(cand, cand_ids[searched])
        near_ids, near_rel = nearest_rows(base, queries, k=3)
        own_base = torch.from_numpy(base_ids[searched])
        is_own = near_ids[:, 0] == own_base
        close = near_rel[:, 0] <= tol
        drifted.append(cand_ids[searched[is_own.numpy()]])
        moved = (~is_own & close).numpy()
        left.append(searched[~is_own.numpy() & ~moved])
        claims = _assign(near_ids[moved], near_rel[moved], tol)
        for k, b in zip(searched[moved], claims, strict=True):
            result.remapped[int(cand_ids[k])] = int(b)
            offsets.append(int(b) - int(base_ids[k]))
    rest_left = np.concatenate([np.zeros(0, dtype=np.int64), *left])
    found = _by_offset(base, cand, cand_ids, base_ids, rest_left, offsets, tol)
    result.remapped.update(found)
    unexplained = [cand_ids[rest_left][~np.isin(cand_ids[rest_left], list(found))], broken]
    result.drifted = np.sort(np.concatenate([np.zeros(0, dtype=np.int64), *drifted]))
    result.unexplained = np.sort(np.concatenate([np.zeros(0, dtype=np.int64), *unexplained]))
    return result


def _by_offset(
    base: torch.Tensor,
    cand: torch.Tensor,
    cand_ids: np.ndarray,
    base_ids: np.ndarray,
    rest: np.ndarray,
    offsets: list[int],
    tol: float,
) -> dict[int, int]:
    """A table shifted by a few rows (grown at the front, or a row dropped) moves every token to
    the row ``offset`` away from its own. When most rows the search explained share one offset,
    the rows past the search's budget are tried at it too: they would otherwise read as
    re-initialised. Candidate id -> baseline id, for the rows ``rest`` (positions) it explains."""
    if not len(rest) or not offsets:
        return {}
    offset, count = Counter(offsets).most_common(1)[0]
    if count < max(_OFFSET_MIN, len(offsets) // 2):
        return {}
    target = base_ids[rest] + offset
    ok = (target >= 0) & (target < base.shape[0])
    rest, target = rest[ok], target[ok]
    out: dict[int, int] = {}
    step = chunk_rows(int(base.shape[1]))
    for start in range(0, len(rest), step):
        sl = slice(start, start + step)
        dist = relative_distance(rows_f32(cand, cand_ids[rest[sl]]), rows_f32(base, target[sl]))
        hit = (dist <= tol).numpy()
        out.update(zip(cand_ids[rest[sl]][hit].tolist(), target[sl][hit].tolist(), strict=True))
    return out


def _distances(
    base: torch.Tensor,
    cand: torch.Tensor,
    cand_ids: np.ndarray,
    base_ids: np.ndarray,
    matrix: str,
    progress: Progress,
) -> tuple[np.ndarray, np.ndarray]:
    """Relative distance of each candidate row to its string's baseline row, and to the
    baseline row at the same index where the ids differ (inf elsewhere), chunk by chunk."""
    n = len(cand_ids)
    own = np.empty(n, dtype=np.float32)
    same = np.full(n, np.inf, dtype=np.float32)
    same_ok = (cand_ids != base_ids) & (cand_ids < base.shape[0])
    step = chunk_rows(int(base.shape[1]))
    read_c, read_b = RowReader(cand, step), RowReader(base, step)
    for start in range(0, n, step):
        sl = slice(start, min(n, start + step))
        c = read_c.read(cand_ids[sl])
        sel = np.nonzero(same_ok[sl])[0]
        if len(sel):
            # The row at the same index: what an id reassignment without remapping leaves.
            same[start + sel] = relative_distance(
                c[torch.from_numpy(sel)], rows_f32(base, cand_ids[sl][sel])
            ).numpy()
        own[sl] = relative_distance(c, read_b.read(base_ids[sl])).numpy()
        progress(f"rows ({matrix})", sl.stop, n)
    return own, same


def _assign(near_ids: torch.Tensor, near_rel: torch.Tensor, tol: float) -> list[int]:
    """One baseline row per candidate row: the nearest, unless several rows claim the same one,
    in which case an assignment over their near neighbours decides."""
    first = near_ids[:, 0].tolist()
    if len(set(first)) == len(first):
        return first
    from scipy.optimize import linear_sum_assignment  # rare path; scipy is slow to import

    pool = sorted(set(near_ids.reshape(-1).tolist()))
    col = {b: j for j, b in enumerate(pool)}
    cost = np.full((len(first), len(pool)), 1e6)
    for r in range(len(first)):
        for b, d in zip(near_ids[r].tolist(), near_rel[r].tolist(), strict=True):
            if d <= tol:
                cost[r, col[b]] = d
    rows, cols = linear_sum_assignment(cost)
    out = list(first)
    for r, j in zip(rows, cols, strict=True):
        if cost[r, j] < 1e6:
            out[r] = pool[j]
    return out
