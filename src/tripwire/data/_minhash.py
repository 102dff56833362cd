"""MinHash signatures of token shingles, and the banded LSH index that finds candidate pairs.

Signatures are rensa's R-MinHash (Rust; a variant of C-MinHash, which replaces ``num_perm``
independent permutations by circulant shifts of two) over the 32-bit shingle hashes of
``_lexer.ngram_hashes``: the share of equal values estimates the Jaccard similarity of two
shingle sets without bias and with no more spread than classic MinHash (on 428 similar pairs of
installed Python functions: mean error -0.003, standard deviation 0.032 against the exact
Jaccard; datasketch's MinHash gave -0.002 and 0.042), at a tenth of numpy's cost.

The index cuts a signature into ``bands`` of ``rows`` values; two signatures are candidates when
one band is equal. Bands and rows are the ones datasketch's ``MinHashLSH`` picks for a threshold
(fewest false positives plus false negatives), so other tools (the benchmark's datatrove run) can
be given the same banding.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rensa import RMinHash

from tripwire.data._lexer import ngram_hashes

SEED = 1


def signature(tokens: list[str] | np.ndarray, *, shingle: int, num_perm: int) -> np.ndarray:
    """The MinHash signature (uint32, ``num_perm`` values) of a token sequence's n-grams
    (tokens as strings, or their ids from ``_lexer.token_ids``); all 0xFFFFFFFF when empty."""
    return signatures([ngram_hashes(tokens, shingle)], num_perm=num_perm)[0]


# rensa computes large batches on a Rust (rayon) thread pool, which does not survive fork():
# a worker forked from a process that used the pool waits for it forever (a hang the demo hit,
# where audits run one after another in one process). Batches this small stay on the calling
# thread; a test forks after a large batch to keep it that way.
_BATCH = 32


def signatures(grams: list[np.ndarray], *, num_perm: int) -> np.ndarray:
    """The signatures (rows of a ``len(grams) x num_perm`` uint32 matrix) of several records'
    n-gram hashes (``_lexer.ngram_hashes``), a few records per call into rensa, since
    converting its digests to numpy costs more per call than computing them."""
    if not grams:
        return np.zeros((0, num_perm), dtype=np.uint32)
    if len(grams) > _BATCH:
        return np.concatenate(
            [signatures(grams[i : i + _BATCH], num_perm=num_perm)
             for i in range(0, len(grams), _BATCH)]
        )  # fmt: skip
    rows = np.zeros(len(grams) + 1, dtype=np.uint64)
    np.cumsum([len(g) for g in grams], out=rows[1:])
    flat = np.concatenate(grams).astype(np.uint64, copy=False)
    digest = RMinHash.digest_matrix_from_flat_token_hashes(flat, rows, num_perm, SEED)
    return np.array(digest.to_rows(), dtype=np.uint32).reshape(len(grams), num_perm)


@lru_cache(maxsize=16)
def bands_and_rows(threshold: float, num_perm: int) -> tuple[int, int]:
    """The banding that minimises the mean of the false-positive and false-negative areas under
    the LSH S-curve ``1 - (1 - s**rows)**bands`` (datasketch's ``MinHashLSH`` choice).

    The curve is a polynomial of degree ``bands * rows <= num_perm`` in ``s``, so Gauss-Legendre
    quadrature with ``num_perm`` nodes integrates it exactly (no scipy import at start-up)."""
    x, w = np.polynomial.legendre.leggauss(num_perm)

    def nodes(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
        return (hi - lo) / 2 * x + (hi + lo) / 2, (hi - lo) / 2 * w

    below, w_below = nodes(0.0, threshold)
    above, w_above = nodes(threshold, 1.0)
    best, choice = float("inf"), (0, 0)
    for rows in range(1, num_perm + 1):
        bands = np.arange(1, num_perm // rows + 1)[:, None]
        false_pos = (1 - (1 - below**rows) ** bands) @ w_below
        false_neg = ((1 - above**rows) ** bands) @ w_above
        error = 0.5 * false_pos + 0.5 * false_neg
        k = int(np.argmin(error))
        # datasketch scans bands outermost and keeps the first strict minimum
        if error[k] < best or (error[k] == best and k + 1 < choice[0]):
            best, choice = float(error[k]), (k + 1, rows)
    return choice


class BandIndex:
    """Keys by band value; a signature's candidates are the keys that share a band with it."""

    def __init__(self, threshold: float, num_perm: int) -> None:
        self.bands, self.rows = bands_and_rows(threshold, num_perm)
        self._tables: list[dict[bytes, list[int]]] = [{} for _ in range(self.bands)]
        self._band = np.dtype((np.void, 4 * self.rows))
        """One band's values as one opaque item: ``tolist`` gives each band's bytes."""

    def _bands(self, sig: np.ndarray) -> list[bytes]:
        used = np.ascontiguousarray(sig[: self.bands * self.rows], dtype=np.uint32)
        bands: list[bytes] = used.view(self._band).tolist()
        return bands

    def candidates(self, sig: np.ndarray) -> set[int]:
        found: set[int] = set()
        for table, band in zip(self._tables, self._bands(sig), strict=True):
            found.update(table.get(band, ()))
        return found

    def insert(self, key: int, sig: np.ndarray) -> None:
        for table, band in zip(self._tables, self._bands(sig), strict=True):
            table.setdefault(band, []).append(key)

    def bands_of_many(self, sigs: np.ndarray) -> list[list[bytes]]:
        """``_bands`` of each row of a signature matrix, in one view and one ``tolist``."""
        used = np.ascontiguousarray(sigs[:, : self.bands * self.rows], dtype=np.uint32)
        rows: list[list[bytes]] = used.view(self._band).tolist()
        return rows

    def query_insert(self, key: int, sig: np.ndarray, bands: list[bytes] | None = None) -> set[int]:
        """``candidates`` then ``insert``, hashing the bands once (``bands``: already cut)."""
        found: set[int] = set()
        for table, band in zip(self._tables, bands or self._bands(sig), strict=True):
            members = table.get(band)
            if members is None:
                table[band] = [key]
            else:
                found.update(members)
                members.append(key)
        return found
