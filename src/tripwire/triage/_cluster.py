"""Failure patterns, not only labels: reports grouped by meaning across categories, each group
named by what its reports share, tied to the slices it comes from, and flagged when it grows
after a deploy."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from scipy.stats import binomtest
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from tripwire.triage._embed import Encoder, encoder

DISTANCE = 0.55
"""Cosine distance (average linkage) under which reports share a cluster: paraphrases of one
complaint sit near 0.3, unrelated reports of one category near 0.7."""
MIN_SIZE = 2
WINDOW = timedelta(days=1)
"""Growth after a deploy compares this long after it with as long before it."""
ALPHA = 0.05
# identifiers users paste: exception names, dotted library paths, language names
_ERROR = re.compile(r"\b[A-Z]\w*(?:Error|Exception)\b|\bsegfault\b|\bpanic\b", re.IGNORECASE)
_LANGUAGES = {
    "python", "javascript", "typescript", "java", "go", "rust", "kotlin", "swift", "php", "ruby",
    "c#", "c++", "haskell", "elixir", "scala", "sql", "bash",
}  # fmt: skip
_TOKEN = r"(?u)\b[^\W\d][\w.#+]*[\w#+]\b"
# function words of the other languages reports come in (German, Spanish, French): without them
# a cluster of Spanish reports is labelled "la, el, en"
_STOP = ENGLISH_STOP_WORDS | {
    "der", "die", "das", "und", "ist", "nicht", "mit", "ein", "eine", "es", "ich", "zu", "den",
    "von", "auf", "im", "sich", "nur", "noch", "nach", "el", "la", "los", "las", "de", "del",
    "que", "en", "un", "una", "y", "por", "con", "para", "se", "al", "lo", "su", "no",
    "le", "les", "des", "du", "et", "est", "une", "il", "elle", "pas", "qui", "dans",
    "pour", "sur", "au", "avec", "ce", "je",
}  # fmt: skip


@dataclass(frozen=True)
class Item:
    """One report to cluster: its text, triaged category and where it came from."""

    text: str
    category: str
    ts: datetime | None = None
    slice: dict[str, str] = field(default_factory=dict)
    """model_version, deployment, language, ... (whatever the report carried)."""


@dataclass(frozen=True)
class Deploy:
    ts: datetime
    model_version: str
    deployment: str | None = None


@dataclass
class Cluster:
    label: str
    size: int
    members: list[int]
    categories: dict[str, int]
    slices: dict[str, dict[str, int]]
    examples: list[str]
    grew_after: list[dict[str, Any]] = field(default_factory=list)
    """Deploys after which this cluster's reports came faster than before (binomial test)."""


def _label(texts: list[str], members: list[int], tfidf: Any, vocab: np.ndarray, n: int) -> str:
    """Exception names, languages, then the words most particular to the cluster (c-TF-IDF)."""
    found: Counter[str] = Counter()
    for i in members:
        found.update({m.group(0) for m in _ERROR.finditer(texts[i])})
        words = set(re.findall(r"[\w#+]+", texts[i].lower()))
        found.update(lang for lang in _LANGUAGES if lang in words)
    shared = [t for t, c in found.most_common() if c >= max(2, len(members) // 2)]
    weight = np.asarray(tfidf[members].mean(axis=0)).ravel()
    top = [vocab[j] for j in np.argsort(-weight)[: n * 2] if weight[j] > 0]
    terms = list(dict.fromkeys([*shared, *top]))
    return ", ".join(terms[:n])


def _growth(
    times: list[datetime], deploys: Sequence[Deploy], span: tuple[datetime, datetime] | None
) -> list[dict[str, Any]]:
    """Deploys after which these reports came faster, in equal windows on either side, each
    at most ``WINDOW`` and within ``span`` (the reports' first and last): a deploy before the
    first report, or a window running past what was collected, would count time nobody could
    report in as time without reports."""
    out = []
    for d in deploys:
        window = WINDOW if span is None else min(WINDOW, d.ts - span[0], span[1] - d.ts)
        if window <= timedelta(0):
            continue
        before = sum(d.ts - window <= t < d.ts for t in times)
        after = sum(d.ts <= t <= d.ts + window for t in times)  # the last report counts
        if after < 3 or after <= before:
            continue
        # equal windows: without a change each report lands after the deploy with p = 1/2
        p = binomtest(after, before + after, 0.5, alternative="greater").pvalue
        if p < ALPHA:
            out.append({"deploy": d.model_version, "deployment": d.deployment,
                        "at": d.ts.isoformat(), "before": before, "after": after,
                        "p_value": round(float(p), 5)})  # fmt: skip
    return out


def cluster_reports(
    items: Sequence[Item],
    deploys: Sequence[Deploy] = (),
    enc: Encoder | None = None,
    distance: float = DISTANCE,
    label_terms: int = 4,
) -> list[Cluster]:
    """Clusters of at least ``MIN_SIZE`` reports, largest first."""
    if len(items) < MIN_SIZE:
        return []
    texts = [it.text for it in items]
    stamps = [it.ts for it in items if it.ts is not None]
    span = (min(stamps), max(stamps)) if stamps else None
    emb = (enc or encoder()).embed(texts)
    assign = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance
    ).fit_predict(emb)
    words = TfidfVectorizer(token_pattern=_TOKEN, stop_words=sorted(_STOP),
                            sublinear_tf=True, lowercase=False)  # fmt: skip
    try:
        tfidf = words.fit_transform(texts).tocsr()
        vocab = words.get_feature_names_out()
    except ValueError:  # nothing but stop words: labels then come from error names only
        tfidf, vocab = np.zeros((len(texts), 0)), np.array([], dtype=str)
    clusters = []
    for c in set(assign.tolist()):
        members = [i for i, a in enumerate(assign) if a == c]
        if len(members) < MIN_SIZE:
            continue
        slices: dict[str, Counter[str]] = {}
        for i in members:
            for k, v in items[i].slice.items():
                slices.setdefault(k, Counter())[v] += 1
        times = [t for t in (items[i].ts for i in members) if t is not None]
        clusters.append(Cluster(
            label=_label(texts, members, tfidf, vocab, label_terms),
            size=len(members),
            members=members,
            categories=dict(Counter(items[i].category for i in members).most_common()),
            slices={k: dict(v.most_common()) for k, v in slices.items()},
            examples=[texts[i][:200] for i in members[:3]],
            grew_after=_growth(times, deploys, span),
        ))  # fmt: skip
    return sorted(clusters, key=lambda c: -c.size)
