"""Pick a subset of code snippets no two of which are near copies (for building clean sets)."""

from __future__ import annotations

from datasketch import LeanMinHash, MinHashLSH

from tripwire.data._dedup import SEED, signature
from tripwire.data._lexer import ngram_hashes, tokenize

MAX_JACCARD = 0.5


def distinct(
    codes: list[str], languages: list[str], *, shingle: int = 5, max_jaccard: float = MAX_JACCARD
) -> list[int]:
    """Indices of a greedy subset (in order) in which no pair's exact shingle Jaccard exceeds
    ``max_jaccard``; MinHash LSH only proposes the pairs to compare exactly."""
    lsh = MinHashLSH(threshold=max_jaccard * 0.8, num_perm=128)
    shingles: dict[int, set[int]] = {}
    kept: list[int] = []
    for i, (code, lang) in enumerate(zip(codes, languages, strict=True)):
        toks = tokenize(code, lang)
        grams = set(ngram_hashes(toks, shingle).tolist())
        mh = LeanMinHash(
            seed=SEED, hashvalues=signature(toks, shingle=shingle, num_perm=128), scheme="affine32"
        )
        close = any(
            len(grams & shingles[j]) / max(1, len(grams | shingles[j])) > max_jaccard
            for j in lsh.query(mh)
        )
        if close or not grams:
            continue
        shingles[i] = grams
        lsh.insert(i, mh, check_duplication=False)
        kept.append(i)
    return kept
