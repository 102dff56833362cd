"""Exact and near-duplicate detection: MinHash signatures per record (in the workers, see
``_minhash``), one LSH index over all of them (in the driver, fed shard by shard while later
shards are still being checked), clusters, and one kept record per cluster.

Shingles are token n-grams from ``_lexer`` (comments and whitespace gone, so re-indented or
re-commented copies still collide).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tripwire.data._minhash import BandIndex


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


class Deduplicator:
    """Records go in (``add``, in input order); clusters and decisions come out (``finish``).

    Exact copies group by content hash; one representative per group goes into the LSH index,
    and representatives whose estimated Jaccard similarity reaches ``threshold`` join one
    cluster. Only the signatures of representatives are kept (the index is the one part of an
    audit whose memory grows with the input).
    """

    def __init__(self, *, threshold: float, num_perm: int) -> None:
        self.threshold = threshold
        self._index = BandIndex(threshold, num_perm)
        self._min_equal = threshold * num_perm
        self._groups: dict[bytes, list[int]] = {}
        self._sigs: dict[int, np.ndarray] = {}
        self._hashes: dict[int, bytes] = {}
        self._uf = _UnionFind()

    def add_many(self, positions: list[int], contents: list[bytes], sigs: np.ndarray) -> None:
        """``add`` of several records, their bands cut in one numpy call."""
        bands = self._index.bands_of_many(sigs) if len(sigs) else []
        for pos, content, sig, band in zip(positions, contents, sigs, bands, strict=True):
            self.add(pos, content, sig, band)

    def add(
        self, pos: int, content: bytes, sig: np.ndarray, bands: list[bytes] | None = None
    ) -> None:
        self._hashes[pos] = content
        group = self._groups.get(content)
        if group is not None:
            group.append(pos)
            self._uf.union(group[0], pos)
            return
        self._groups[content] = [pos]
        self._sigs[pos] = sig
        for other in self._index.query_insert(pos, sig, bands):
            if self._uf.find(other) == self._uf.find(pos):
                continue  # already one cluster: the comparison cannot change anything
            if np.count_nonzero(self._sigs[other] == sig) >= self._min_equal:
                self._uf.union(other, pos)

    def _similarity(self, a: int, b: int) -> float:
        return float(np.mean(self._sigs[a] == self._sigs[b]))

    def finish(self, rejected: set[int]) -> DedupResult:
        """Decisions, given the positions another check already drops: each cluster keeps its
        first member that nothing else rejects (else its first member), so a broken copy never
        costs the set its good twin, and the choice depends only on input order."""
        members: dict[int, list[int]] = {}
        for pos in self._hashes:
            members.setdefault(self._uf.find(pos), []).append(pos)
        result = DedupResult()
        hashes, groups = self._hashes, self._groups
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
                sim = self._similarity(p, groups[hashes[keep]][0])
                result.decisions[p] = Decision("near_duplicate", keep, round(sim, 3), k)
        return result


def deduplicate(
    entries: Iterable[tuple[int, bytes, np.ndarray, bool]],
    *,
    threshold: float,
    num_perm: int,
) -> DedupResult:
    """Cluster records and choose what to keep; ``entries`` are ``(position, content hash,
    signature, rejected)`` in input order, where ``rejected`` says another check already drops
    the record (see ``Deduplicator``)."""
    dedup = Deduplicator(threshold=threshold, num_perm=num_perm)
    rejected: set[int] = set()
    for pos, content, sig, rej in entries:
        dedup.add(pos, content, sig)
        if rej:
            rejected.add(pos)
    return dedup.finish(rejected)


def decision_evidence(d: Decision, kept_id: Any) -> dict[str, Any]:
    return {"duplicate_of": kept_id, "similarity": d.similarity, "cluster": d.cluster}
