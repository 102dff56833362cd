"""Exact and near-duplicate detection: MinHash signatures per record (in the workers), one LSH
index over all of them (in the driver), clusters, and one kept record per cluster.

Shingles are token n-grams from ``_lexer`` (comments and whitespace gone, so re-indented or
re-commented copies still collide). Signatures and the LSH index are datasketch's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from tripwire.data._lexer import ngram_hashes

SEED = 1
_SCHEME = "affine32"
_BATCH = 8192


@lru_cache(maxsize=4)
def _template(num_perm: int) -> MinHash:
    return MinHash(num_perm=num_perm, seed=SEED, scheme=_SCHEME)


def signature(tokens: list[str] | np.ndarray, *, shingle: int, num_perm: int) -> np.ndarray:
    """The MinHash signature (uint32, ``num_perm`` values) of a token sequence's n-grams
    (tokens as strings, or their ids from ``_lexer.token_ids``)."""
    tpl = _template(num_perm)
    m = MinHash(
        num_perm=num_perm, seed=SEED, hashfunc=int, permutations=tpl.permutations, scheme=_SCHEME
    )
    grams = np.unique(ngram_hashes(tokens, shingle)).tolist()
    for i in range(0, len(grams), _BATCH):
        m.update_batch(grams[i : i + _BATCH])
    return np.asarray(m.hashvalues, dtype=np.uint32)


def content_hash(text: str) -> bytes:
    """Exact-duplicate key (16 bytes)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass
class Decision:
    code: str
    """``exact_duplicate`` or ``near_duplicate``."""
    of: int
    """Position of the kept record this one duplicates."""
    similarity: float
    cluster: int


@dataclass
class DedupResult:
    decisions: dict[int, Decision] = field(default_factory=dict)
    """Position -> why it is dropped; positions not here are not duplicates."""
    clusters: list[list[int]] = field(default_factory=list)
    """Every cluster with more than one member: positions, kept member first."""


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def deduplicate(
    entries: Iterable[tuple[int, bytes, np.ndarray, bool]],
    *,
    threshold: float,
    num_perm: int,
) -> DedupResult:
    """Cluster records and choose what to keep.

    ``entries`` are ``(position, content hash, signature, rejected)`` in input order, where
    ``rejected`` says another check already drops the record. Exact copies group by hash; one
    representative per group goes into the LSH index, and representatives whose estimated
    Jaccard similarity reaches ``threshold`` join one cluster. Each cluster keeps its first
    member that nothing else rejects (else its first member), so a broken copy never costs the
    set its good twin, and the choice depends only on input order.
    """
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    groups: dict[bytes, list[int]] = {}
    sigs: dict[int, np.ndarray] = {}
    hashes: dict[int, bytes] = {}
    rejected: set[int] = set()
    uf = _UnionFind()
    for pos, h, sig, rej in entries:
        hashes[pos] = h
        if rej:
            rejected.add(pos)
        if h in groups:
            groups[h].append(pos)
            uf.union(groups[h][0], pos)
            continue
        groups[h] = [pos]
        sigs[pos] = sig
        mh = LeanMinHash(seed=SEED, hashvalues=sig, scheme=_SCHEME)
        for other in lsh.query(mh):
            if float(np.mean(sigs[other] == sig)) >= threshold:
                uf.union(other, pos)
        lsh.insert(pos, mh, check_duplication=False)
    members: dict[int, list[int]] = {}
    for pos in hashes:
        members.setdefault(uf.find(pos), []).append(pos)
    result = DedupResult()
    for cluster_members in members.values():
        if len(cluster_members) < 2:
            continue
        cluster_members.sort()
        keep = next((p for p in cluster_members if p not in rejected), cluster_members[0])
        k = len(result.clusters)
        result.clusters.append([keep, *(p for p in cluster_members if p != keep)])
        for p in cluster_members:
            if p == keep:
                continue
            if hashes[p] == hashes[keep]:
                result.decisions[p] = Decision("exact_duplicate", keep, 1.0, k)
                continue
            first_copy = groups[hashes[p]][0]
            if first_copy != p:
                result.decisions[p] = Decision("exact_duplicate", first_copy, 1.0, k)
                continue
            sim = float(np.mean(sigs[p] == sigs[groups[hashes[keep]][0]]))
            result.decisions[p] = Decision("near_duplicate", keep, round(sim, 3), k)
    return result


def decision_evidence(d: Decision, kept_id: Any) -> dict[str, Any]:
    return {"duplicate_of": kept_id, "similarity": d.similarity, "cluster": d.cluster}
