"""Untrained rows: what a new (or re-initialised) candidate row was made from: zeros, the table
mean, the mean of its pieces, a copy, or random initialisation."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import torch

from tripwire.findings import Finding, Severity
from tripwire.tokens._matrix import (
    RowStats,
    nearest_rows,
    rows_f32,
    sample_ids,
)
from tripwire.tokens._vocab import TokenizerView

_ZERO = 1e-3  # of the median row norm
_MEAN = 0.05  # of the median distance of a row from the table mean
_TRAINED_SAMPLE = 256
_TRAINED_POOL = 4096
# The search for copies of unrelated rows scans the whole table per row: at most this many
# floating-point operations (a second or two on 2 cores).
_COPY_FLOPS = 5e10


class RowKind(StrEnum):
    """What a row that is not its token's baseline row was made from."""

    ZERO = "zero"
    MEAN = "mean"
    """The mean of the table (how ``resize_token_embeddings`` initialises new rows)."""
    PIECES = "from_pieces"
    """The mean of the baseline rows of the pieces the baseline tokenizer splits it into."""
    COPIED = "copied"
    """The baseline row of one of the token's pieces."""
    UNRELATED = "copied_unrelated"
    """The baseline row of a token that is none of its pieces: the model reads it as that
    token (and several tokens given one row cannot be told apart)."""
    TRAINED = "trained"
    """Not derived from any baseline row, but shaped like a trained row."""
    RANDOM = "random"
    """Not derived from any baseline row and unlike trained rows: random initialisation."""


@dataclass(frozen=True)
class RowClass:
    kind: RowKind
    source: int | None = None
    """The baseline id a copied row came from."""


def _trained_cosine(base: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Each row's best cosine with a sample of baseline rows, and the 1st percentile of the same
    measure for trained baseline rows: random vectors fall well below it."""
    pool = sample_ids(int(base.shape[0]), _TRAINED_POOL, seed=1)
    pool_rows = torch.nn.functional.normalize(rows_f32(base, pool), dim=1)
    queries = sample_ids(int(base.shape[0]), _TRAINED_SAMPLE, seed=2)
    sims = torch.nn.functional.normalize(rows_f32(base, queries), dim=1) @ pool_rows.T
    sims[torch.from_numpy(queries)[:, None] == torch.from_numpy(pool)[None, :]] = -1.0
    floor = float(torch.quantile(sims.max(1).values, 0.01))
    best = (torch.nn.functional.normalize(rows, dim=1) @ pool_rows.T).max(1).values
    return best, floor


def classify_rows(
    cand: torch.Tensor,
    ids: np.ndarray,
    base: torch.Tensor,
    base_stats: RowStats,
    pieces: dict[int, list[int]],
    tolerance: float,
    *,
    copies: bool = False,
) -> dict[int, RowClass]:
    """Classify the candidate rows ``ids`` (rows that are not their token's baseline row)
    against the baseline table, all rows at once. A copy is recognised when it copies one of
    the token's pieces; a copy of any other trained row classifies as trained, which is just as
    harmless, unless ``copies`` asks to search the whole baseline table for rows copied from
    unrelated tokens (new tokens: few, and never searched by the row correspondence)."""
    ids = np.asarray([i for i in ids if i < cand.shape[0]], dtype=np.int64)
    if len(ids) == 0:
        return {}
    rows = rows_f32(cand, ids)
    kinds: list[RowKind | None] = [None] * len(ids)
    sources: list[int | None] = [None] * len(ids)
    zero = (rows.norm(dim=1) <= _ZERO * base_stats.median_norm).tolist()
    mean = ((rows - base_stats.mean).norm(dim=1) <= _MEAN * base_stats.median_spread).tolist()
    # (token index, piece id) pairs, to compare every row with its pieces' mean and each piece.
    pairs = [
        (k, p) for k, cid in enumerate(ids.tolist()) for p in pieces.get(cid, []) if p < len(base)
    ]
    from_pieces, copied = [False] * len(ids), [None] * len(ids)
    if pairs:
        ks = torch.tensor([k for k, _ in pairs])
        piece_rows = rows_f32(base, [p for _, p in pairs])
        counts = torch.zeros(len(ids)).index_add_(0, ks, torch.ones(len(pairs)))
        means = torch.zeros_like(rows).index_add_(0, ks, piece_rows) / counts.clamp_min(1)[:, None]
        from_pieces = ((_relative(rows, means) <= tolerance) & (counts > 0)).tolist()
        hits = (_relative(rows[ks], piece_rows) <= tolerance).tolist()
        for (k, p), hit in zip(pairs, hits, strict=True):
            if hit and copied[k] is None:
                copied[k] = p
    for k in range(len(ids)):
        if zero[k]:
            kinds[k] = RowKind.ZERO
        elif mean[k]:
            kinds[k] = RowKind.MEAN
        elif from_pieces[k]:
            kinds[k] = RowKind.PIECES
        elif copied[k] is not None:
            kinds[k], sources[k] = RowKind.COPIED, copied[k]
    rest = [k for k, kind in enumerate(kinds) if kind is None]
    if rest and copies:
        for k, src in _unrelated_copies(base, rows, rest, tolerance).items():
            kinds[k], sources[k] = RowKind.UNRELATED, src
        rest = [k for k, kind in enumerate(kinds) if kind is None]
    if rest:
        best, floor = _trained_cosine(base, rows[torch.tensor(rest)])
        for k, b in zip(rest, best.tolist(), strict=True):
            kinds[k] = RowKind.TRAINED if b >= floor else RowKind.RANDOM
    return {
        int(cid): RowClass(kind, src)
        for cid, kind, src in zip(ids.tolist(), kinds, sources, strict=True)
        if kind is not None
    }


def _unrelated_copies(
    base: torch.Tensor, rows: torch.Tensor, rest: list[int], tolerance: float
) -> dict[int, int]:
    """Row index -> the baseline id whose row it is (within the tolerance), for the first rows
    of ``rest`` the search budget allows."""
    limit = max(64, int(_COPY_FLOPS / (2 * base.shape[0] * base.shape[1])))
    searched = rest[:limit]
    near_ids, near_rel = nearest_rows(base, rows[torch.tensor(searched)], k=1)
    return {
        k: int(i)
        for k, i, d in zip(searched, near_ids[:, 0].tolist(), near_rel[:, 0].tolist(), strict=True)
        if d <= tolerance
    }


def _relative(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    scale = torch.maximum(a.norm(dim=1), b.norm(dim=1)).clamp_min(1e-12)
    return (a - b).norm(dim=1) / scale


_NEW_SEVERITY = {
    RowKind.ZERO: Severity.BLOCK,
    RowKind.RANDOM: Severity.BLOCK,
    RowKind.MEAN: Severity.WARN,
    RowKind.PIECES: Severity.INFO,
    RowKind.COPIED: Severity.INFO,
    RowKind.UNRELATED: Severity.WARN,
    RowKind.TRAINED: Severity.INFO,
}
_NEW_MESSAGE = {
    RowKind.ZERO: "have all-zero rows",
    RowKind.RANDOM: "have random-initialised rows (not derived from any baseline row)",
    RowKind.MEAN: "have mean-initialised rows (all alike: the model cannot tell them apart)",
    RowKind.PIECES: "have rows initialised from the mean of their pieces",
    RowKind.COPIED: "have rows copied from existing tokens",
    RowKind.UNRELATED: "have rows copied from unrelated tokens (they read as those tokens)",
    RowKind.TRAINED: "have rows that look trained (not derived from baseline rows)",
}


def row_class_findings(
    classes: dict[int, RowClass],
    tok: TokenizerView,
    usage: Counter[int],
    *,
    new: bool,
    prefix: str = "",
) -> list[Finding]:
    """One finding per kind. New tokens: random or zero rows block when the probe corpus uses
    them (warn otherwise), mean rows warn. Existing tokens that lost their row block when used."""
    by_kind: dict[RowKind, list[int]] = {}
    for cid, rc in classes.items():
        by_kind.setdefault(rc.kind, []).append(cid)
    out = []
    where = "output-head " if prefix else ""
    for kind, ids in sorted(by_kind.items()):
        ids.sort()
        used = [i for i in ids if usage.get(i)]
        if new:
            severity = _NEW_SEVERITY[kind]
            if severity is Severity.BLOCK and not used:
                severity = Severity.WARN
            code = f"tokens.{prefix}new_rows_{kind}"
            what = f"{len(ids)} new tokens {_NEW_MESSAGE[kind].replace('rows', where + 'rows')}"
        else:
            severity = Severity.BLOCK if used else Severity.WARN
            code = f"tokens.{prefix}rows_reinitialised"
            what = f"{len(ids)} existing tokens lost their {where}row ({kind})"
        shown = ", ".join(repr(tok.text_of(i)) for i in (used or ids)[:6])
        use = f"; {len(used)} occur in the probe corpus" if used else ""
        out.append(
            Finding(
                code,
                severity,
                f"{what}{use}: {shown}",
                token_ids=ids,
                evidence={
                    "kind": str(kind),
                    "used_in_probe": used,
                    "copied_from": {
                        str(i): classes[i].source for i in ids if classes[i].source is not None
                    },
                },
            )
        )
    return out
