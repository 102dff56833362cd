"""Records far from the rest of their set, with the threshold taken from the set itself.

Distance: one minus the cosine similarity of a record's vector (``_embed``) to the nearest of a
few centres of the set (k-means on a sample, so a set of several languages has a centre for
each; a centre that gathers under ``MIN_SHARE`` of the sample is dropped: a few dozen planted
data files would otherwise get a centre of their own and stop looking foreign). Threshold: the
robust z-score of Iglewicz and Hoaglin (median and MAD of the set's own distances; a record is
an outlier above 3.5), which a set with no outliers passes almost whole and which does not move
when the outliers themselves are many or extreme.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CENTRES = 8
SAMPLE = 4000
MIN_SHARE = 0.05
Z = 3.5


@dataclass(frozen=True)
class Outliers:
    distance: np.ndarray
    """Per record: 1 - cosine to the nearest centre."""
    threshold: float
    """The distance above which a record is flagged (median + Z * 1.4826 * MAD)."""
    median: float
    flagged: np.ndarray
    """Indices of the records above the threshold."""


def _centres(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    sample = x[rng.choice(len(x), size=min(SAMPLE, len(x)), replace=False)]
    k = min(k, len(sample))
    c = sample[rng.choice(len(sample), size=k, replace=False)]
    for _ in range(10):  # spherical k-means: assign by cosine, centre = normalised mean
        near = np.argmax(sample @ c.T, axis=1)
        for j in range(k):
            members = sample[near == j]
            if len(members):
                m = members.sum(axis=0)
                c[j] = m / max(float(np.linalg.norm(m)), 1e-12)
    near = np.argmax(sample @ c.T, axis=1)
    share = np.bincount(near, minlength=k) / len(sample)
    return c[share >= MIN_SHARE] if (share >= MIN_SHARE).any() else c


def outliers(vectors: np.ndarray, z: float = Z, seed: int = 0) -> Outliers:
    """Which rows of ``vectors`` (unit rows) are far from the rest (``Z`` robust z-scores)."""
    n = len(vectors)
    if n < 20:  # too few to say what the set is like
        return Outliers(np.zeros(n), float("inf"), 0.0, np.zeros(0, dtype=np.int64))
    x = vectors.astype(np.float32)
    c = _centres(x, CENTRES, np.random.default_rng(seed))
    distance = 1.0 - np.max(x @ c.T, axis=1)
    median = float(np.median(distance))
    mad = float(np.median(np.abs(distance - median))) * 1.4826
    threshold = median + z * max(mad, 1e-6)
    return Outliers(distance, threshold, median, np.flatnonzero(distance > threshold))
