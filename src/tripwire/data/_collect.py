"""Gathers, while the outputs stream past, the bounded sample of records a reviewer sees:
examples per reason, duplicate clusters, contamination matches, histograms and a stratified
sample of kept records. Every text it keeps is redacted and cut short.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tripwire.data._secrets import redact

EXAMPLES_PER_REASON = 3
CLUSTERS_SHOWN = 12
CONTAMINATION_SHOWN = 12
SAMPLE_PER_STRATUM = 2
SNIPPET_CHARS = 1500


def snippet(text: str, first_line: int | None = None, last_line: int | None = None) -> str:
    if first_line is not None:
        lines = text.splitlines()
        lo = max(0, first_line - 1)
        text = "\n".join(lines[lo : (last_line or first_line)])
    text = redact(text)
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS] + "\n…"


def length_bucket(chars: int) -> str:
    if chars <= 0:
        return "empty"
    lo = 2 ** int(math.log2(chars))
    return f"{lo}-{2 * lo - 1}"


@dataclass
class ReportData:
    """Everything the HTML report shows (plain data, so it can be rendered or serialised)."""

    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    clusters: list[dict[str, Any]] = field(default_factory=list)
    contamination: list[dict[str, Any]] = field(default_factory=list)
    languages: Counter[str] = field(default_factory=Counter)
    lengths: Counter[str] = field(default_factory=Counter)
    sample: list[dict[str, Any]] = field(default_factory=list)


class Collector:
    """Built per shard (in the workers that write the outputs) and merged in input order: each
    shard keeps at least what the whole input would keep from it, so the merge is exact."""

    def __init__(self, cluster_positions: dict[int, int]) -> None:
        self.data = ReportData()
        self._cluster_of = cluster_positions
        """Position -> index of a shown cluster, for the members whose text is shown."""
        self._cluster_rows: dict[int, list[dict[str, Any]]] = {}
        self._strata: dict[tuple[str, str], list[tuple[int, int, dict[str, Any]]]] = {}

    def wants(self, pos: int, row: dict[str, Any], reasons: dict[str, Any]) -> bool:
        """Whether this record's text is needed (so the caller decodes it only then)."""
        if pos in self._cluster_of:
            return True
        if (
            "benchmark_contamination" in reasons
            and len(self.data.contamination) < CONTAMINATION_SHOWN
        ):
            return True
        if any(len(self.data.examples.get(r, [])) < EXAMPLES_PER_REASON for r in reasons):
            return True
        return not reasons and self._sample_rank(row) is not None

    def _sample_rank(self, row: dict[str, Any]) -> tuple[tuple[str, str], int] | None:
        stratum = (row.get("language") or "unknown", length_bucket(row.get("chars", 0)))
        rank = int.from_bytes(hashlib.sha256(str(row["id"]).encode()).digest()[:8], "big")
        heap = self._strata.get(stratum, [])
        if len(heap) >= SAMPLE_PER_STRATUM and -heap[0][0] <= rank:
            return None
        return stratum, rank

    def add(self, pos: int, row: dict[str, Any], reasons: dict[str, Any], text: str | None) -> None:
        self.data.languages[row.get("language") or "unknown"] += 1
        self.data.lengths[length_bucket(row.get("chars", 0))] += 1
        if text is None:
            return
        rid = row["id"]
        for reason, ev in reasons.items():
            shown = self.data.examples.setdefault(reason, [])
            if len(shown) < EXAMPLES_PER_REASON:
                shown.append({"id": rid, "evidence": ev, "text": snippet(text)})
        if pos in self._cluster_of:
            dup = reasons.get("exact_duplicate") or reasons.get("near_duplicate")
            self._cluster_rows.setdefault(self._cluster_of[pos], []).append(
                {
                    "id": rid,
                    "kept": dup is None,
                    "reason": "exact_duplicate"
                    if "exact_duplicate" in reasons
                    else "near_duplicate"
                    if "near_duplicate" in reasons
                    else "",
                    "similarity": dup["similarity"] if dup else 1.0,
                    "text": snippet(text)[:600],
                }
            )
        contamination = reasons.get("benchmark_contamination")
        if contamination and len(self.data.contamination) < CONTAMINATION_SHOWN:
            m = contamination["matches"][0]
            first, last = m["lines"]
            self.data.contamination.append(
                {
                    "id": rid,
                    "benchmark": m["benchmark"],
                    "item": m["item"],
                    "part": m.get("part", "full"),
                    "matched_on": m.get("matched_on", "code"),
                    "lines": [first, last],
                    "containment": m["containment"],
                    "record_text": snippet(text, first, last),
                    "benchmark_text": "",  # filled in by ``finish``: workers do not ship it
                }
            )
        if not reasons:
            ranked = self._sample_rank(row)
            if ranked is not None:
                stratum, rank = ranked
                entry = {
                    "id": rid,
                    "language": stratum[0],
                    "length": stratum[1],
                    "text": snippet(text),
                }
                self._offer(stratum, rank, pos, entry)

    def _offer(self, stratum: tuple[str, str], rank: int, pos: int, entry: dict[str, Any]) -> None:
        heap = self._strata.setdefault(stratum, [])
        if len(heap) >= SAMPLE_PER_STRATUM and -heap[0][0] <= rank:
            return
        heapq.heappush(heap, (-rank, pos, entry))
        if len(heap) > SAMPLE_PER_STRATUM:
            heapq.heappop(heap)

    def merge(self, later: Collector) -> None:
        """Fold in the collector of the records that follow this one's."""
        data, other = self.data, later.data
        data.languages.update(other.languages)
        data.lengths.update(other.lengths)
        for reason, shown in other.examples.items():
            mine = data.examples.setdefault(reason, [])
            mine += shown[: EXAMPLES_PER_REASON - len(mine)]
        data.contamination += other.contamination[: CONTAMINATION_SHOWN - len(data.contamination)]
        for k, rows in later._cluster_rows.items():
            self._cluster_rows.setdefault(k, []).extend(rows)
        for stratum, heap in later._strata.items():
            for neg_rank, pos, entry in sorted(heap, key=lambda t: t[1]):
                self._offer(stratum, -neg_rank, pos, entry)

    def finish(self, benchmark_text: dict[tuple[str, str, str], str]) -> ReportData:
        """``benchmark_text``: (benchmark, item id, part) -> the text of that part."""
        for shown in self.data.contamination:
            key = (shown["benchmark"], shown["item"], shown["part"])
            shown["benchmark_text"] = benchmark_text.get(key, "")
        self.data.clusters = [
            {"cluster": k, "members": rows} for k, rows in sorted(self._cluster_rows.items())
        ]
        self.data.sample = [
            e
            for _, heap in sorted(self._strata.items())
            for _, _, e in sorted(heap, key=lambda t: t[1])
        ]
        return self.data
