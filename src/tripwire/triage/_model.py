"""The learned triage: a logistic regression over three views of a report, trained on set A.

- MiniLM sentence embeddings: what the report means, however it is worded.
- Character 3-5-grams (TF-IDF): the encoder is English-only and splits "kompilieren" or
  "NullPointerException" into noise, while shared character runs survive languages and
  identifiers.
- The old rules' hits, one feature per category: where a textbook word is present it helps;
  alone they were right on 29% of outside reports.

Chosen by 5-fold cross-validation over set A's training cores (grouped, so no core is on both
sides; the 700-report version of set A): embeddings alone 64%, + rules 69%, + character grams
78%, all three 81%. On the 815-report version, C from 2 to 8 and balanced class weights were all
within a point of each other; on today's 911 reports the chosen model scores 80% (67% on the
non-English reports).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from tripwire.artifacts import atomic_path, cache_dir
from tripwire.monitor._triage import rule_matches
from tripwire.triage._embed import Encoder, encoder, text_key
from tripwire.triage._guard import clean, refusal
from tripwire.triage._reports import CATEGORIES, NEEDS_REVIEW, Report, training_set

C = 4.0
"""Inverse regularisation, chosen by the same grouped cross-validation (4 and 16 tie)."""
THRESHOLD = 0.35
"""Below this probability for the best category the report goes to a person (``needs_review``);
see benchmarks/triage.py for the accuracy above it and the share it sends to review."""
NEIGHBOURS = 3
_WORD = re.compile(r"[^\W\d_][\w'.-]*[\w]|[^\W\d_]", re.UNICODE)


@dataclass(frozen=True)
class Neighbour:
    text: str
    category: str
    similarity: float


@dataclass(frozen=True)
class Verdict:
    category: str
    """One of the categories, or ``needs_review`` when the model is not confident enough."""
    guess: str
    """The most probable category, even when it was not confident enough to be the verdict."""
    confidence: float
    words: tuple[str, ...] = ()
    """The report's words whose character grams weighed most toward the guess."""
    rules: tuple[str, ...] = ()
    """Rule hits that weighed toward the guess, as ``category: matched words``."""
    neighbours: tuple[Neighbour, ...] = ()
    """The most similar labelled reports (cosine of the sentence embeddings)."""
    reason: str | None = None
    """Why the report could not be read (then the category is ``other``)."""
    probabilities: dict[str, float] = field(default_factory=dict)

    @property
    def evidence(self) -> tuple[str, ...]:
        if self.reason:
            return (self.reason,)
        return self.words + self.rules

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)  # tuples become lists: the dict is what JSON documents carry
        d["words"], d["rules"] = list(self.words), list(self.rules)
        d["neighbours"] = [asdict(n) for n in self.neighbours]
        return d


def _rule_features(texts: Sequence[str]) -> tuple[np.ndarray, list[dict[str, tuple[str, ...]]]]:
    hits = [rule_matches(t) for t in texts]
    rules = [c for c in CATEGORIES if c != "other"]
    # capped: three textbook words are as telling as ten, and a long paste should not dominate
    x = np.array([[min(len(h[c]), 3) / 3 for c in rules] for h in hits], dtype=np.float32)
    return x, hits


def _char_grams() -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True, max_features=20_000
    )


def _fit_path(t: Triager, texts: Sequence[str]) -> Path:
    """Where the fit of exactly these reports, labels and settings is kept."""
    import sklearn

    h = hashlib.sha256(f"{sklearn.__version__}\n{C}\n{_char_grams().get_params()}\n".encode())
    for text, r in zip(texts, t.reports, strict=True):
        h.update(f"{text_key(text)} {r.category}\n".encode())
    h.update(t.embeddings.tobytes())
    return cache_dir() / "triage" / f"fit-{h.hexdigest()[:24]}.npz"


def _save_fit(t: Triager, texts: Sequence[str]) -> None:
    """The fitted numbers only (no pickle): a cache file is data, never code to run."""
    vocab = sorted(t.chars.vocabulary_.items(), key=lambda kv: kv[1])
    with atomic_path(_fit_path(t, texts)) as tmp, open(tmp, "wb") as f:
        np.savez(f, coef=t.model.coef_, intercept=t.model.intercept_,
                 classes=np.array(t.model.classes_, dtype=str), idf=t.chars.idf_,
                 terms=np.array([k for k, _ in vocab], dtype=str))  # fmt: skip


def _load_fit(t: Triager, texts: Sequence[str]) -> bool:
    """Restore a fit saved by ``_save_fit``: retraining costs seconds in every new process
    (each CLI call), loading it milliseconds. False when there is none or it does not fit."""
    path = _fit_path(t, texts)
    if not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as z:
            coef, intercept = z["coef"], z["intercept"]
            classes, idf, terms = z["classes"], z["idf"], z["terms"]
    except (OSError, ValueError, KeyError):
        return False  # damaged: fit again and overwrite it
    if coef.shape != (len(classes), t.embeddings.shape[1] + len(CATEGORIES) - 1 + len(terms)):
        return False
    t.chars.vocabulary_ = {str(term): i for i, term in enumerate(terms)}
    t.chars.idf_ = idf
    t.model.coef_, t.model.intercept_ = coef, intercept
    t.model.classes_ = np.array([str(c) for c in classes], dtype=object)
    t.model.n_features_in_ = coef.shape[1]
    return True


def _embed_cached(enc: Encoder, texts: Sequence[str]) -> np.ndarray:
    """The training set's embeddings, kept on disk so a new process does not spend half a
    minute re-embedding reports that have not changed."""
    weights = enc.path / "model.safetensors"
    key = hashlib.sha256(
        f"{weights.stat().st_size}\n".encode() + "\n".join(map(text_key, texts)).encode()
    ).hexdigest()[:24]
    path = cache_dir() / "triage" / f"minilm-{key}.npy"
    if path.is_file():
        try:
            arr = np.load(path)
            if arr.shape == (len(texts), enc.dim):
                return arr
        except (OSError, ValueError):
            pass  # a damaged cache file is rebuilt below
    arr = enc.embed(texts)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, arr)
    return arr


class Triager:
    """Trained once per process on the labelled reports; ``classify`` takes whole batches."""

    def __init__(
        self,
        reports: Sequence[Report] | None = None,
        enc: Encoder | None = None,
        threshold: float = THRESHOLD,
        reuse_fit: bool = True,
    ) -> None:
        self.reports = list(reports) if reports is not None else training_set()
        self.encoder = enc or encoder()
        self.threshold = threshold
        texts = [r.text for r in self.reports]
        self.embeddings = _embed_cached(self.encoder, texts)
        self.chars = _char_grams()
        self.model = LogisticRegression(C=C, max_iter=3000)
        if not (reuse_fit and _load_fit(self, texts)):
            self.chars.fit(texts)
            x, _ = self._features(texts, self.embeddings)
            self.model.fit(x, [r.category for r in self.reports])
            _save_fit(self, texts)
        self._analyze = self.chars.build_analyzer()
        self.classes: list[str] = list(self.model.classes_)
        n_dim = self.embeddings.shape[1]
        n_rules = len(CATEGORIES) - 1
        self._rule_slice = slice(n_dim, n_dim + n_rules)
        self._char_offset = n_dim + n_rules
        self._vocab = self.chars.vocabulary_

    def _features(self, texts: Sequence[str], emb: np.ndarray) -> tuple[Any, list[dict]]:
        rules, hits = _rule_features(texts)
        x = hstack([csr_matrix(emb), csr_matrix(rules), self.chars.transform(texts)]).tocsr()
        return x, hits

    def classify(self, texts: Sequence[object]) -> list[Verdict]:
        """One verdict per input, in order; unreadable inputs get ``other`` with a reason."""
        out: list[Verdict | None] = [None] * len(texts)
        readable: list[tuple[int, str]] = []
        for i, t in enumerate(texts):
            why = refusal(t)
            if why is None:
                readable.append((i, clean(str(t))))
            else:
                out[i] = Verdict("other", "other", 1.0, reason=why)
        if readable:
            batch = [t for _, t in readable]
            emb = self.encoder.embed(batch)
            x, hits = self._features(batch, emb)
            proba = self.model.predict_proba(x)
            sims = emb @ self.embeddings.T
            for row, (i, text) in enumerate(readable):
                out[i] = self._verdict(text, x[row], proba[row], sims[row], hits[row])
        return [v for v in out if v is not None]

    def _verdict(self, text: str, x: Any, proba: np.ndarray, sims: np.ndarray,
                 hits: dict[str, tuple[str, ...]]) -> Verdict:  # fmt: skip
        k = int(np.argmax(proba))
        guess, conf = self.classes[k], float(proba[k])
        # a feature's pull toward the guess: its value times how much more the guess's
        # weight is than the average class's (a multinomial model's weights are relative)
        coef = self.model.coef_
        pull = coef[k] - coef.mean(axis=0)
        contrib = x.multiply(pull).toarray().ravel()
        rules = tuple(
            f"{cat}: {', '.join(hits[cat])}"
            for j, cat in enumerate(c for c in CATEGORIES if c != "other")
            if hits[cat] and contrib[self._rule_slice][j] > 0
        )
        near = np.argsort(-sims)[:NEIGHBOURS]
        labelled = [self.reports[j] for j in near]
        neighbours = tuple(
            Neighbour(_short(r.text), r.category, round(float(sims[j]), 3))
            for r, j in zip(labelled, near, strict=True)
        )
        return Verdict(
            category=guess if conf >= self.threshold else NEEDS_REVIEW,
            guess=guess,
            confidence=round(conf, 4),
            words=self._top_words(text, contrib),
            rules=rules,
            neighbours=neighbours,
            probabilities={c: round(float(p), 4) for c, p in zip(self.classes, proba, strict=True)},
        )

    def _top_words(self, text: str, contrib: np.ndarray, n: int = 5) -> tuple[str, ...]:
        """The words whose character grams pulled hardest toward the guess."""
        scores: dict[str, float] = {}
        for w in dict.fromkeys(_WORD.findall(text[:5000])):
            if len(w) < 3 or w.lower() in ENGLISH_STOP_WORDS:
                continue  # "the" and "is" carry weight in the model but tell a reader nothing
            idx = [self._vocab[g] for g in self._analyze(w) if g in self._vocab]
            if idx:
                scores[w] = float(sum(contrib[self._char_offset + j] for j in set(idx)))
        best = sorted((s, w) for w, s in scores.items() if s > 0)[::-1][:n]
        return tuple(w for _, w in best)


def _short(text: str, n: int = 160) -> str:
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 1] + "…"


@cache
def triager() -> Triager:
    """The process's one triager (trained on first use: a second or two once embeddings are
    cached on disk)."""
    return Triager()


def classify(texts: Sequence[object]) -> list[Verdict]:
    return triager().classify(texts)
