"""Which rows single-model mode calibrates its under-trained search on: rows known to be
untrained (reserved / unused tokens, rows past the tokenizer's vocabulary, tokens no text can
produce), else the rows at either end of the norm distribution, taken only when they form a
distinct, alike group (``_undertrained`` decides)."""

from __future__ import annotations

from typing import Literal

import torch

from tripwire.tokens._vocab import TokenizerView

Known = Literal["reserved", "beyond", "unreachable"]
CHOICES = ("auto", "reserved", "beyond", "unreachable", "norm-tail")
"""What ``tokens audit --calibrate`` takes; ``auto`` tries them in this order."""

# Magikarp's authors found StarCoder2's untrained tokens by starting from the rows of least L2
# norm; that many rows from each end of the norm distribution seed the search.
NORM_TAIL_SEED = 16


def known_untrained(tok: TokenizerView, rows: int, how: str = "auto") -> tuple[Known, list[int]]:
    """Rows untrained by construction (a reserved name, no token, no text that produces them),
    of the kind ``how`` names or, for ``auto``, the first kind this model has two of; an empty
    list when there are none."""
    kinds: tuple[Known, ...] = ("reserved", "beyond", "unreachable")
    for kind in kinds if how == "auto" else [k for k in kinds if k == how]:
        if kind == "reserved":
            ids = tok.reserved_ids()
        elif kind == "beyond":
            ids = beyond_vocabulary(tok, rows)
        else:
            ids = unreachable_ids(tok)
        if len(ids) >= 2:
            return kind, ids
    return "reserved", []


def beyond_vocabulary(tok: TokenizerView, rows: int) -> list[int]:
    """Rows past every id the tokenizer can emit (tables padded to a multiple of 64 or 128):
    no input ever selects them and no target is ever one of them."""
    return list(range(tok.size, rows))


def norm_tails(tok: TokenizerView, norms: torch.Tensor) -> dict[str, list[int]]:
    """The ``NORM_TAIL_SEED`` rows of least and of greatest norm, added and special tokens left
    out (a ``[MASK]`` row is small because of how it is trained, not because it was not).
    Untrained rows sit at one end or the other: shrunk by weight decay (BERT's ``[unusedN]``),
    or pushed out by the output softmax that only ever lowers their logits (SmolLM2's
    intermediate BPE pieces such as `` strugg``)."""
    added = {a["id"] for a in tok.added.values() if isinstance(a.get("id"), int)}
    order = [i for i in torch.argsort(norms[: tok.size]).tolist() if i not in added]
    return {
        "least": sorted(order[:NORM_TAIL_SEED]),
        "greatest": sorted(order[-NORM_TAIL_SEED:]),
    }


def unreachable(tok: TokenizerView, token_id: int) -> bool:
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
        return [i for i in ids if unreachable(tok, i)]
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
