"""Under-trained tokens from one model's weights alone: which rows look like the reserved /
unused rows that were never trained (the Magikarp indicator: cosine similarity to the mean
reserved row once the table's first principal component is removed)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

from tripwire.findings import Finding, Severity
from tripwire.tokens._matrix import RowReader, chunk_rows, row_chunks, rows_f32, sample_ids
from tripwire.tokens._vocab import TokenizerView

# Reserved rows this alike (median cosine to their mean) make a usable reference set.
REFERENCE_MIN_COHERENCE = 0.3


@dataclass
class UndertrainedScores:
    """Magikarp-style score of every row: cosine to the mean reference (known-untrained) row,
    first principal component removed; reference rows scored leave-one-out. ``threshold``:
    the least alike reference row's score (outliers left out)."""

    scores: torch.Tensor
    reference: np.ndarray
    threshold: float
    coherence: float


def undertrained_scores(table: torch.Tensor, reference: list[int]) -> UndertrainedScores | None:
    reference = [i for i in reference if i < table.shape[0]]
    if len(reference) < 2:
        return None
    n, d = int(table.shape[0]), int(table.shape[1])
    sample = rows_f32(table, sample_ids(n, 8192, seed=3))
    centred = sample - sample.mean(0)
    with torch.random.fork_rng():
        torch.manual_seed(0)  # svd_lowrank starts from a random matrix: keep scores repeatable
        _, _, v = torch.svd_lowrank(centred, q=min(4, d), niter=4)
    pc = v[:, 0]

    def strip(x: torch.Tensor) -> torch.Tensor:
        return x - (x @ pc)[:, None] * pc[None, :]

    ref = np.asarray(sorted(reference))
    ref_mean = strip(rows_f32(table, ref)).mean(0)
    ref_unit = torch.nn.functional.normalize(ref_mean, dim=0)
    reader = RowReader(table, chunk_rows(d))
    scores = torch.cat(
        [
            torch.nn.functional.normalize(strip(reader.read(np.arange(sl.start, sl.stop))), dim=1)
            @ ref_unit
            for sl in row_chunks(n, d)
        ]
    )
    # A reference row scored against a mean it is part of would look closer to the others than
    # an outside row of the same kind: each is scored leave-one-out.
    members = strip(rows_f32(table, ref))
    others_mean = (members.sum(0, keepdim=True) - members) / (len(ref) - 1)
    ref_scores = torch.nn.functional.cosine_similarity(members, others_mean, dim=1)
    scores[torch.from_numpy(ref)] = ref_scores
    coherence = float(ref_scores.median())
    # as alike as the least alike reference row, leaving out rows that do not belong with the
    # rest (repurposed and trained: see ``reserved_rows_trained``)
    kept = ref_scores[ref_scores >= coherence / 2]
    return UndertrainedScores(
        scores=scores, reference=ref, threshold=float(kept.min()), coherence=coherence
    )


def _unreachable(tok: TokenizerView, token_id: int) -> bool:
    """True when no text makes the tokenizer emit this token (e.g. ``##後``: the pre-tokenizer
    always splits CJK characters off, so they never continue a word)."""
    s = tok.id_to_token[token_id]
    if s is None or s in tok.added:
        return False
    prefix = (tok.raw.get("model") or {}).get("continuing_subword_prefix") or ""
    if tok.model_type == "WordPiece" and prefix and s.startswith(prefix):
        text = "a" + s[len(prefix) :]
        norm = tok.tokenizer.normalizer
        text = norm.normalize_str(text) if norm is not None else text
        pre = tok.tokenizer.pre_tokenizer
        return pre is not None and len(pre.pre_tokenize_str(text)) > 1
    text = tok.tokenizer.decode([token_id], skip_special_tokens=False)
    if not text or "\ufffd" in text:
        return False  # part of a multi-byte character: reachable only inside it
    return tok.pieces(text) != [token_id]


def unreachable_ids(tok: TokenizerView) -> list[int]:
    """Tokens no text makes the tokenizer emit (Land & Bartolo 2024, "Fishing for Magikarp"):
    a token is reachable when its decoded text, alone or after a neutral character, encodes to
    ids that include it. Unreachable tokens never occur in training data, so their rows are
    untrained by construction, in any vocabulary: what single-model mode calibrates on when a
    vocabulary has no reserved tokens. Added and special tokens are left out (they are reached
    by name), as are pieces of a multi-byte character, except the bytes no UTF-8 text contains
    (``never_utf8_bytes``)."""
    ids = [i for i, s in enumerate(tok.id_to_token) if s is not None and s not in tok.added]
    if tok.model_type == "WordPiece":
        return [i for i in ids if _unreachable(tok, i)]
    never = set(never_utf8_bytes(tok))
    texts = tok.tokenizer.decode_batch([[i] for i in ids], skip_special_tokens=False)
    pairs = [(i, t) for i, t in zip(ids, texts, strict=True) if t and "\ufffd" not in t]
    alone = tok.encode([t for _, t in pairs])
    left = [(i, t) for (i, t), e in zip(pairs, alone, strict=True) if list(e.ids) != [i]]
    # a second witness: after a character that splits from anything (metaspace tokenizers
    # prefix a lone word with a space, so a word-internal piece never encodes alone)
    after = tok.encode([_ANCHOR + t for _, t in left])
    found = {i for (i, _), e in zip(left, after, strict=True) if i not in e.ids}
    return sorted(found | never)


# Bytes that no UTF-8 text contains: the lead bytes of overlong encodings and of code points past
# U+10FFFF (RFC 3629).
_NEVER_UTF8 = (0xC0, 0xC1, *range(0xF5, 0x100))


def _byte_level(tok: TokenizerView) -> bool:
    decoder = tok.raw.get("decoder") or {}
    parts = decoder.get("decoders") or [decoder]
    return any(isinstance(d, dict) and d.get("type") == "ByteLevel" for d in parts)


def never_utf8_bytes(tok: TokenizerView) -> list[int]:
    """A byte-level vocabulary's tokens for bytes no UTF-8 text contains (GPT-2 and Llama 3
    keep all 256 bytes): no text produces them, so their rows are untrained in any model. They
    decode to a replacement character, which the decode/re-encode test above cannot tell from
    half of a real character."""
    if not _byte_level(tok):
        return []
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = bytes_to_unicode()
    ids = (tok.vocab.get(chars[b]) for b in _NEVER_UTF8 if chars[b] not in tok.added)
    return sorted(i for i in ids if i is not None)


_ANCHOR = "\u00ab"


def _calibration(tok: TokenizerView) -> tuple[str, list[int]]:
    """The rows known to be untrained: reserved/unused tokens where the vocabulary has them,
    else the unreachable tokens."""
    reserved = tok.reserved_ids()
    if len(reserved) >= 2:
        return "reserved", reserved
    return "unreachable", unreachable_ids(tok)


_WHAT = {
    "reserved": "reserved/unused",
    "unreachable": "unreachable (never produced by the tokenizer)",
}


def undertrained_findings(
    tok: TokenizerView, table: torch.Tensor, usage: Counter[int], norms: torch.Tensor
) -> list[Finding]:
    """Single-model mode: tokens whose rows look like the rows known to be untrained (reserved /
    unused tokens, else the tokens the tokenizer can never produce)."""
    kind, reference = _calibration(tok)
    scored = undertrained_scores(table, reference)
    if scored is None:
        return [
            Finding(
                "tokens.undertrained_skipped",
                Severity.INFO,
                "no reserved/unused tokens (<|reserved_N|>, [unusedN]) and no unreachable tokens "
                "to calibrate against",
            )
        ]
    ref = scored.reference
    is_ref = np.zeros(len(scored.scores), dtype=bool)
    is_ref[ref] = True
    others = ~is_ref
    ref_norm = float(norms[torch.from_numpy(ref)].median())
    other_norm = float(norms[torch.from_numpy(others)].median()) if others.any() else 0.0
    shown = ", ".join(repr(tok.text_of(int(i))) for i in ref[:4])
    out = [
        Finding(
            "tokens.reserved_rows" if kind == "reserved" else "tokens.unreachable_rows",
            Severity.INFO,
            f"{len(ref)} {_WHAT[kind]} rows (e.g. {shown}): median norm "
            f"{ref_norm:.3f} vs {other_norm:.3f} for other tokens; alike with median cosine "
            f"{scored.coherence:.2f} to their mean (first principal component removed)",
            token_ids=ref.tolist(),
            evidence={
                "calibration": kind,
                "count": len(ref),
                "median_norm": ref_norm,
                "other_median_norm": other_norm,
                "coherence": scored.coherence,
                "threshold": scored.threshold,
            },
        )
    ]
    if scored.coherence < REFERENCE_MIN_COHERENCE:
        out.append(
            Finding(
                "tokens.undertrained_skipped",
                Severity.INFO,
                f"the {_WHAT[kind]} rows are not alike (they look individually initialised or "
                "were trained), so they cannot calibrate an under-training indicator",
            )
        )
        return out
    ref_scores = scored.scores[torch.from_numpy(ref)]
    odd = ref[(ref_scores < scored.coherence / 2).numpy()]
    if len(odd) and kind == "reserved":
        out.append(
            Finding(
                "tokens.reserved_rows_trained",
                Severity.INFO,
                f"{len(odd)} reserved/unused rows do not look like the others (repurposed and "
                f"trained?): {', '.join(repr(tok.text_of(int(i))) for i in odd[:6])}",
                token_ids=odd.tolist(),
            )
        )
    flagged_mask = (scored.scores >= scored.threshold).numpy() & others
    flagged = np.nonzero(flagged_mask)[0]
    order = flagged[np.argsort(-scored.scores[torch.from_numpy(flagged)].numpy())]
    used = [int(i) for i in order if usage.get(int(i))]
    # calibrated on the unreachable tokens, every other token is reachable by construction
    unreachable = (
        [] if kind == "unreachable" else [i for i in map(int, order) if _unreachable(tok, i)]
    )
    shown = ", ".join(repr(tok.text_of(int(i))) for i in (used or order.tolist())[:8])
    out.append(
        Finding(
            "tokens.undertrained_tokens",
            Severity.WARN if used else Severity.INFO,
            f"{len(order)} other tokens look as untrained as the {_WHAT[kind].split(' (')[0]} rows"
            + (
                f" ({len(unreachable)} can never be produced by the tokenizer)"
                if unreachable
                else ""
            )
            + (f"; {len(used)} occur in the probe corpus" if used else "")
            + (f": {shown}" if len(order) else ""),
            token_ids=order.tolist(),
            evidence={
                "threshold": scored.threshold,
                "used_in_probe": used,
                "unreachable": unreachable,
                "examples": [
                    {"id": int(i), "token": tok.text_of(int(i)), "score": float(scored.scores[i])}
                    for i in order[:20]
                ],
            },
        )
    )
    return out
