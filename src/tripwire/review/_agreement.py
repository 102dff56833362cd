"""How far reviewers agree beyond chance, on the items two or more of them saw.

- Cohen's kappa for each pair of reviewers over the items both judged:
  ``(p_o - p_e) / (1 - p_e)``, ``p_e`` from each reviewer's own label frequencies.
- Fleiss' kappa over the items judged by the same number ``m`` of reviewers (the most common
  ``m`` of at least two): it needs a fixed number of ratings per item.

Both are checked against statsmodels' ``cohens_kappa`` and ``fleiss_kappa`` in ``tests/review``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from itertools import combinations
from typing import Any


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two raters' labels on the same items: NaN for fewer than 2 items, and
    when both gave one and the same label throughout (chance agreement is then 1 and kappa is
    0/0, as statsmodels and scikit-learn have it: such raters showed no judgement to agree on)."""
    n = len(a)
    if n != len(b):
        raise ValueError("both raters must label the same items")
    if n < 2:
        return float("nan")
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in ca.keys() | cb.keys()) / (n * n)
    if pe >= 1.0:
        return float("nan")
    return (po - pe) / (1 - pe)


def fleiss_kappa(table: Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa from an items x categories table of counts (each row sums to ``m``); NaN
    when every rating is the same category (0/0, as in statsmodels)."""
    rows = [list(r) for r in table]
    if len(rows) < 2:
        return float("nan")
    m = sum(rows[0])
    if m < 2 or any(sum(r) != m for r in rows):
        raise ValueError("every item needs the same number (>= 2) of ratings")
    n = len(rows)
    cats = len(rows[0])
    p_j = [sum(r[j] for r in rows) / (n * m) for j in range(cats)]
    p_i = [(sum(c * c for c in r) - m) / (m * (m - 1)) for r in rows]
    p_bar = sum(p_i) / n
    pe = sum(p * p for p in p_j)
    if pe >= 1.0:
        return float("nan")
    return (p_bar - pe) / (1 - pe)


def _kappa(k: float) -> dict[str, Any]:
    """A kappa as JSON can carry it: NaN (no judgement to agree on) is null, with why."""
    if math.isnan(k):
        return {"kappa": None, "kappa_undefined": "one label throughout: chance agreement is 1"}
    return {"kappa": k}


def kappa_text(entry: dict[str, Any]) -> str:
    """A kappa for people: two decimals, or why there is none."""
    return "undefined (one label throughout)" if entry["kappa"] is None else f"{entry['kappa']:.2f}"


def agreement(
    labels: dict[str, dict[str, Hashable]], categories: Sequence[Hashable]
) -> dict[str, Any]:
    """Agreement on ``labels`` (item -> reviewer -> label): Cohen's kappa per pair of reviewers
    with at least two items in common, Fleiss' kappa on the items with the most common number
    of raters (at least two), and the raw share of overlap items where all agreed."""
    shared = {i: by for i, by in labels.items() if len(by) >= 2}
    pairs = []
    names = sorted({r for by in shared.values() for r in by})
    for r1, r2 in combinations(names, 2):
        both = [i for i, by in shared.items() if r1 in by and r2 in by]
        if len(both) >= 2:
            k = cohen_kappa([shared[i][r1] for i in both], [shared[i][r2] for i in both])
            pairs.append({"reviewers": [r1, r2], "items": len(both), **_kappa(k)})
    fleiss = None
    if shared:
        m = Counter(len(by) for by in shared.values()).most_common(1)[0][0]
        rows = [
            [list(by.values()).count(c) for c in categories]
            for by in shared.values()
            if len(by) == m
        ]
        if len(rows) >= 2:
            fleiss = {"raters": m, "items": len(rows), **_kappa(fleiss_kappa(rows))}
    unanimous = sum(len(set(by.values())) == 1 for by in shared.values())
    return {
        "overlap_items": len(shared),
        "unanimous": unanimous,
        "cohen": pairs,
        "fleiss": fleiss,
    }
