"""Find benchmark items inside records, however they were disguised.

Both sides are lexed and canonicalised (comments, docstrings and all strings dropped, renameable
identifiers collapsed to one symbol), then cut into token n-grams. An item is found in a record
when most of the item's n-grams occur in the record: that holds for verbatim copies, copies
inside larger files, re-indented or re-commented copies and copies with renamed identifiers,
while unrelated code shares only the generic n-grams, which are left out of the index (those
found in several items).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tripwire.data._benchmarks import BenchmarkItem
from tripwire.data._lexer import (
    canonical,
    ngram_hashes,
    ngram_hashes_many,
    token_ids,
    token_lines,
    tokenize,
)

NGRAM = 10
MIN_NGRAMS = 8
"""Items with fewer distinctive n-grams than this are too generic to look for."""
MAX_ITEMS_PER_NGRAM = 2
THRESHOLD = 0.7
"""Share of an item's n-grams a record must contain (unrelated code on this machine peaks at
0.6 against HumanEval's shortest items; disguised copies keep nearly all of them)."""


@dataclass(frozen=True)
class Match:
    item: BenchmarkItem
    containment: float
    """Share of the item's distinctive n-grams found in the record."""
    first_line: int
    last_line: int
    """Lines of the record the matched n-grams span."""


class ContaminationIndex:
    """An inverted index from canonical n-grams to the benchmark items that contain them."""

    def __init__(self, items: list[BenchmarkItem], *, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        grams: list[np.ndarray] = []
        df: Counter[int] = Counter()
        for item in items:
            g = np.unique(
                ngram_hashes(canonical(tokenize(item.text, item.language), item.language), NGRAM)
            )
            grams.append(g)
            df.update(g.tolist())
        owners: dict[int, list[int]] = defaultdict(list)
        self.items: list[BenchmarkItem] = []
        self.sizes: list[int] = []
        self.skipped: list[str] = []
        for item, g in zip(items, grams, strict=True):
            distinctive = [h for h in g.tolist() if df[h] <= MAX_ITEMS_PER_NGRAM]
            if len(distinctive) < MIN_NGRAMS:
                self.skipped.append(f"{item.benchmark}/{item.item_id}")
                continue
            k = len(self.items)
            self.items.append(item)
            self.sizes.append(len(distinctive))
            for h in distinctive:
                owners[h].append(k)
        self._owners = dict(owners)
        self._keys = frozenset(owners)
        self._sorted_keys = np.array(sorted(owners), dtype=np.uint64)

    def __len__(self) -> int:
        return len(self.items)

    def match(self, text: str, language: str | None = None) -> list[Match]:
        """Items found in ``text``, best first."""
        if not len(self._keys) or not text:
            return []
        return self.match_ids(token_ids(tokenize(text, language), language)[1], text, language)

    def match_many(
        self, canons: Sequence[np.ndarray], texts: Sequence[str], languages: Sequence[str | None]
    ) -> list[list[Match]]:
        """``match_ids`` of each record of a batch: one membership test over the whole batch's
        n-grams finds the few records that share any with an item; only those are matched."""
        out: list[list[Match]] = [[] for _ in canons]
        if not len(self._keys) or not len(canons):
            return out
        grams = ngram_hashes_many(canons, NGRAM)
        counts = np.fromiter(map(len, grams), dtype=np.intp, count=len(grams))
        flat = np.concatenate(grams)
        at = np.minimum(np.searchsorted(self._sorted_keys, flat), len(self._sorted_keys) - 1)
        found = np.concatenate(([0], np.cumsum(self._sorted_keys[at] == flat)))
        ends = np.cumsum(counts)
        for k in np.flatnonzero(found[ends] > found[ends - counts]).tolist():
            out[k] = self.match_ids(canons[k], texts[k], languages[k])
        return out

    def match_ids(self, canon: np.ndarray, text: str, language: str | None) -> list[Match]:
        """``match`` given the canonical token ids of ``text`` (``token_ids(...)[1]``)."""
        if not len(self._keys) or not len(canon):
            return []
        # A record's n-grams are few (hundreds): one set probe each beats any numpy call.
        grams = ngram_hashes(canon, NGRAM).tolist()
        if self._keys.isdisjoint(grams):
            return []
        owners = self._owners
        per_item: dict[int, set[int]] = defaultdict(set)
        spans: dict[int, list[int]] = defaultdict(list)
        for pos, h in enumerate(grams):
            if h not in owners:
                continue
            for k in owners[h]:
                per_item[k].add(h)
                spans[k].append(pos)
        out = []
        lines: list[int] = []
        for k, found in per_item.items():
            c = len(found) / self.sizes[k]
            if c >= self.threshold:
                lines = lines or token_lines(text, language)
                first, last = min(spans[k]), max(spans[k])
                end = min(last + NGRAM - 1, len(lines) - 1)
                out.append(Match(self.items[k], round(c, 3), lines[first], lines[end]))
        out.sort(key=lambda m: -m.containment)
        return out
