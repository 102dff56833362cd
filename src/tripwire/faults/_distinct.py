"""Pick a subset of code snippets no two of which are near copies (for building clean sets)."""

from __future__ import annotations

from tripwire.data import BandIndex, ngram_hashes, signature, token_ids, tokenize

MAX_JACCARD = 0.5


def distinct(
    codes: list[str], languages: list[str], *, shingle: int = 5, max_jaccard: float = MAX_JACCARD
) -> list[int]:
    """Indices of a greedy subset (in order) in which no pair's exact shingle Jaccard exceeds
    ``max_jaccard``; MinHash LSH only proposes the pairs to compare exactly."""
    lsh = BandIndex(max_jaccard * 0.8, 128)
    shingles: dict[int, set[int]] = {}
    kept: list[int] = []
    for i, (code, lang) in enumerate(zip(codes, languages, strict=True)):
        ids = token_ids(tokenize(code, lang))[0]
        grams = set(ngram_hashes(ids, shingle).tolist())
        sig = signature(ids, shingle=shingle, num_perm=128)
        close = any(
            len(grams & shingles[j]) / max(1, len(grams | shingles[j])) > max_jaccard
            for j in lsh.candidates(sig)
        )
        if close or not grams:
            continue
        shingles[i] = grams
        lsh.insert(i, sig)
        kept.append(i)
    return kept
