"""Tokenizer diff, component by component, and how differently the two segment the probe."""

from __future__ import annotations

import bisect
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tripwire.errors import UserError
from tripwire.findings import Finding, Severity
from tripwire.tokens._probe import ProbeText
from tripwire.tokens._vocab import TokenizerView

# Components whose change re-segments ordinary text the model was trained on.
_BLOCKING_COMPONENTS = {"normalizer": "normalization", "pre_tokenizer": "pre-tokenization"}
_WARNING_COMPONENTS = {"decoder": "decoding", "post_processor": "post-processing"}
# More unexplained re-segmentation than this (share of probe characters) blocks.
SEGMENTATION_BLOCK_SHARE = 0.005
_EXAMPLES = 8


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


# The value an option of a tokenizer model takes when tokenizer.json leaves it out, where that
# is not "off": WordPiece without a continuing_subword_prefix uses "##", so there a missing
# prefix and "" differ.
_MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "WordPiece": {"unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100},
}  # fmt: skip


def _option(model: dict[str, Any], key: str) -> Any:
    """``model``'s option ``key``, with None, "" and false all read as None: each turns the
    option off (the same tokenizer converted from vocab.json + merges.txt writes "" for the BPE
    prefix and suffix that its tokenizer.json wrote as null)."""
    value = model.get(key, _MODEL_DEFAULTS.get(str(model.get("type")), {}).get(key))
    # `is False`, not `== False`: 0 (Unigram's unk_id) is an id, not "off"
    return None if value is None or value is False or value == "" else value


def _merges(raw: dict[str, Any]) -> list[Any]:
    return (raw.get("model") or {}).get("merges") or []


def _merge_pairs(merges: list[Any]) -> list[tuple[str, ...]]:
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in merges]


def component_findings(base: TokenizerView, cand: TokenizerView) -> list[Finding]:
    """Normalizer, pre-tokenizer, model, merges, decoder, post-processor, chat template."""
    out: list[Finding] = []
    for key, what in {**_BLOCKING_COMPONENTS, **_WARNING_COMPONENTS}.items():
        b, c = base.raw.get(key), cand.raw.get(key)
        if _canon(b) != _canon(c):
            block = key in _BLOCKING_COMPONENTS
            out.append(
                Finding(
                    f"tokens.{key}_changed",
                    Severity.BLOCK if block else Severity.WARN,
                    f"{what} changed: the candidate "
                    + (
                        "segments text differently from how the model was trained"
                        if block
                        else "renders tokens differently"
                    ),
                    evidence={"baseline": b, "candidate": c},
                )
            )
    bm, cm = dict(base.raw.get("model") or {}), dict(cand.raw.get("model") or {})
    if bm.get("type") != cm.get("type"):
        out.append(
            Finding(
                "tokens.tokenizer_model_changed",
                Severity.BLOCK,
                f"tokenizer model changed from {bm.get('type')} to {cm.get('type')}",
            )
        )
    else:
        options = sorted(
            k
            for k in bm.keys() | cm.keys()
            if k not in ("vocab", "merges") and _canon(_option(bm, k)) != _canon(_option(cm, k))
        )
        if options:
            out.append(
                Finding(
                    "tokens.tokenizer_model_options_changed",
                    Severity.WARN,
                    f"{bm.get('type')} options changed: {', '.join(options)}",
                    evidence={k: [bm.get(k), cm.get(k)] for k in options},
                )
            )
    out.extend(_merge_findings(base, cand))
    if base.chat_template() != cand.chat_template():
        out.append(
            Finding(
                "tokens.chat_template_changed",
                Severity.WARN,
                "the chat template changed: prompts are rendered differently",
            )
        )
    return out


def _merge_findings(base: TokenizerView, cand: TokenizerView) -> list[Finding]:
    bm, cm = _merges(base.raw), _merges(cand.raw)
    if bm == cm:
        return []
    bpairs, cpairs = _merge_pairs(bm), _merge_pairs(cm)
    if bpairs == cpairs:
        return []  # the same merges, written in the other format ("a b" vs ["a", "b"])
    if cpairs[: len(bpairs)] == bpairs:
        return [
            Finding(
                "tokens.merges_changed",
                Severity.INFO,
                f"{len(cm) - len(bm)} merges appended (existing merges unchanged)",
                evidence={"appended": len(cm) - len(bm)},
            )
        ]
    bset, cset = set(bpairs), set(cpairs)
    # Merge order is priority: the baseline's merges applied in another order segment the text
    # the model was trained on differently, wherever two of them compete (the probe may hold
    # none of those words), as a changed pre-tokenizer does.
    reordered = [m for m in bpairs if m in cset] != [m for m in cpairs if m in bset]
    return [
        Finding(
            "tokens.merges_changed",
            Severity.BLOCK if reordered else Severity.WARN,
            f"merges {'reordered' if reordered else 'replaced'}: {len(bset - cset)} removed, "
            f"{len(cset - bset)} added"
            + (" (the baseline's merges apply in another order)" if reordered else ""),
            evidence={
                "removed": len(bset - cset),
                "added": len(cset - bset),
                "reordered": reordered,
            },
        )
    ]


def special_findings(base: TokenizerView, cand: TokenizerView) -> list[Finding]:
    """Special tokens by role (string and id)."""
    out: list[Finding] = []
    br, cr = base.roles(), cand.roles()
    changed = {r: (br.get(r), cr.get(r)) for r in br.keys() | cr.keys() if br.get(r) != cr.get(r)}
    if changed:
        out.append(
            Finding(
                "tokens.special_token_changed",
                Severity.BLOCK,
                "special tokens changed role: "
                + ", ".join(f"{r} {b!r} -> {c!r}" for r, (b, c) in sorted(changed.items())),
                token_ids=sorted({cand.vocab[c] for _, c in changed.values() if c in cand.vocab}),
                evidence={r: list(v) for r, v in changed.items()},
            )
        )
    moved = {
        r: (base.vocab[s], cand.vocab[s])
        for r, s in cr.items()
        if br.get(r) == s and s in base.vocab and s in cand.vocab and base.vocab[s] != cand.vocab[s]
    }
    if moved:
        out.append(
            Finding(
                "tokens.special_token_id_changed",
                Severity.INFO,
                "special token ids changed: "
                + ", ".join(f"{r} {b} -> {c}" for r, (b, c) in sorted(moved.items())),
                token_ids=sorted({c for _, c in moved.values()}),
                evidence={r: list(v) for r, v in moved.items()},
            )
        )
    return out


def vocab_findings(base: TokenizerView, cand: TokenizerView) -> list[Finding]:
    """Tokens added, removed, or whose id changed; added-token flags."""
    out: list[Finding] = []
    added = sorted(i for s, i in cand.vocab.items() if s not in base.vocab)
    removed = sorted(i for s, i in base.vocab.items() if s not in cand.vocab)
    moved = sorted(i for s, i in cand.vocab.items() if s in base.vocab and base.vocab[s] != i)
    if added:
        out.append(
            Finding(
                "tokens.tokens_added",
                Severity.INFO,
                f"{len(added)} tokens added: {_examples(cand, added)}",
                token_ids=added,
            )
        )
    if removed:
        out.append(
            Finding(
                "tokens.tokens_removed",
                Severity.WARN,
                f"{len(removed)} baseline tokens removed: {_examples(base, removed)}",
                evidence={"baseline_ids": removed},
            )
        )
    if moved:
        out.append(
            Finding(
                "tokens.token_ids_changed",
                Severity.INFO,
                f"{len(moved)} tokens kept their string but changed id: {_examples(cand, moved)}",
                token_ids=moved,
            )
        )
    flags = ("special", "normalized", "lstrip", "rstrip", "single_word")
    reflagged = sorted(
        cand.vocab[s]
        for s, a in cand.added.items()
        if s in base.added and any(a.get(f) != base.added[s].get(f) for f in flags)
    )
    if reflagged:
        out.append(
            Finding(
                "tokens.added_tokens_changed",
                Severity.WARN,
                f"{len(reflagged)} added tokens changed their matching flags "
                f"(special/normalized/strip): {_examples(cand, reflagged)}",
                token_ids=reflagged,
            )
        )
    return out


def loader_findings(
    base: TokenizerView, cand: TokenizerView, probe: list[ProbeText]
) -> list[Finding]:
    """What transformers encodes, against tokenizer.json alone: tokenizer_config.json settings
    (GPT-2's ``add_prefix_space``, BERT's ``do_lower_case``, ``add_bos_token``) rebuild parts of
    the tokenizer on load, so a candidate whose JSON is unchanged can still feed the model
    other ids. Blocks when the candidate's loader departs from its tokenizer.json on probe
    texts where the baseline's did not."""
    texts = [p.text for p in probe]
    before, after = _loader_departures(base, texts), _loader_departures(cand, texts)
    if before is None or after is None:
        return []  # transformers cannot load one of them: the tokenizer.json is all there is
    new = sorted(set(after) - set(before))
    if not new:
        return []
    keys = sorted(
        k
        for k in base.config.keys() | cand.config.keys()
        if k != "added_tokens_decoder" and _canon(base.config.get(k)) != _canon(cand.config.get(k))
    )
    first = probe[new[0]]
    return [
        Finding(
            "tokens.loader_encoding_changed",
            Severity.BLOCK,
            f"transformers encodes {len(new)} probe texts differently from the candidate's "
            f"tokenizer.json (the baseline's agreed); tokenizer_config.json changed: "
            f"{', '.join(keys) or 'nothing'}",
            evidence={
                "texts": [probe[i].name for i in new],
                "changed_config_keys": keys,
                "example": {"where": first.name, **after[new[0]]},
            },
        )
    ]


def _loader_departures(tok: TokenizerView, texts: list[str]) -> dict[int, dict[str, Any]] | None:
    """Probe text index -> both encodings, where transformers' tokenizer (with and without
    special tokens) encodes a text otherwise than tokenizer.json; None when it does not load."""
    try:
        loaded = tok.ckpt.load_tokenizer()
    except UserError:
        return None
    out = {}
    for special in (False, True):
        backend = tok.tokenizer.encode_batch(texts, add_special_tokens=special)
        try:
            # encode(), not __call__: no warning about texts longer than model_max_length
            mine = [loaded.encode(t, add_special_tokens=special) for t in texts]
        except Exception:  # a loader that cannot encode: nothing to compare, as if absent
            return None
        for i, (ids, enc) in enumerate(zip(mine, backend, strict=True)):
            if i not in out and list(ids) != enc.ids:
                out[i] = {"tokenizer_json": enc.ids[:16], "transformers": list(ids)[:16]}
    return out


def _examples(tok: TokenizerView, ids: Sequence[int], n: int = 6) -> str:
    shown = ", ".join(f"{tok.text_of(i)!r}" for i in ids[:n])
    return shown + (", ..." if len(ids) > n else "")


@dataclass
class Segmentation:
    """How the probe corpus is segmented by both tokenizers."""

    usage: Counter[int] = field(default_factory=Counter)
    """Candidate token id -> occurrences in the probe corpus."""
    baseline_usage: Counter[int] = field(default_factory=Counter)
    chars: int = 0
    changed_chars: int = 0
    unexplained_chars: int = 0
    """Differently segmented characters where no new token is involved."""
    per_language: dict[str, list[int]] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    unexplained_ids: set[int] = field(default_factory=set)

    def finding(self) -> Finding:
        share = self.changed_chars / max(self.chars, 1)
        unexplained = self.unexplained_chars / max(self.chars, 1)
        if unexplained >= SEGMENTATION_BLOCK_SHARE:
            severity = Severity.BLOCK
        elif self.unexplained_chars:
            severity = Severity.WARN
        else:
            severity = Severity.INFO
        return Finding(
            "tokens.segmentation_changed",
            severity,
            f"{share:.1%} of the probe corpus is segmented differently "
            f"({unexplained:.1%} not explained by new tokens)",
            token_ids=sorted(self.unexplained_ids),
            evidence={
                "characters": self.chars,
                "changed_share": round(share, 6),
                "unexplained_share": round(unexplained, 6),
                "per_language": {
                    lang: {"characters": c, "changed_share": round(ch / max(c, 1), 6)}
                    for lang, (c, ch) in self.per_language.items()
                },
                "examples": self.examples,
            },
        )


def _spans(enc: Any) -> list[tuple[int, int, str, int]]:
    return [(s, e, t, i) for (s, e), t, i in zip(enc.offsets, enc.tokens, enc.ids, strict=True)]


def segmentation(base: TokenizerView, cand: TokenizerView, probe: list[ProbeText]) -> Segmentation:
    """Re-encode the probe with both tokenizers and compare segment by segment (between the
    character offsets where both put a token boundary), by token string."""
    seg = Segmentation()
    texts = [p.text for p in probe]
    for p, eb, ec in zip(probe, base.encode(texts), cand.encode(texts), strict=True):
        seg.usage.update(ec.ids)
        seg.baseline_usage.update(eb.ids)
        sb, sc = _spans(eb), _spans(ec)
        edges_b = {s for s, _, _, _ in sb} | {e for _, e, _, _ in sb}
        edges_c = {s for s, _, _, _ in sc} | {e for _, e, _, _ in sc}
        cuts = sorted((edges_b & edges_c) | {0, len(p.text)})
        groups_b: dict[int, list[tuple[int, int, str, int]]] = {}
        groups_c: dict[int, list[tuple[int, int, str, int]]] = {}
        for spans, groups in ((sb, groups_b), (sc, groups_c)):
            for sp in spans:
                groups.setdefault(bisect.bisect_right(cuts, sp[0]) - 1, []).append(sp)
        # Added tokens are split out before pre-tokenization, which also re-segments their
        # neighbours: a change next to a new token is explained by it.
        with_new = {k for k, g in groups_c.items() if any(t not in base.vocab for _, _, t, _ in g)}
        changed = 0
        for k in groups_b.keys() | groups_c.keys():
            gb, gc = groups_b.get(k, []), groups_c.get(k, [])
            if [x[:3] for x in gb] == [x[:3] for x in gc]:
                continue
            start, end = cuts[k], cuts[k + 1] if k + 1 < len(cuts) else len(p.text)
            changed += end - start
            if not with_new & {k - 1, k, k + 1}:
                seg.unexplained_chars += end - start
                seg.unexplained_ids.update(i for *_, i in gc)
                if len(seg.examples) < _EXAMPLES:
                    seg.examples.append(
                        {
                            "where": p.name,
                            "text": p.text[start:end],
                            "baseline": [t for _, _, t, _ in gb],
                            "candidate": [t for _, _, t, _ in gc],
                        }
                    )
        seg.chars += len(p.text)
        seg.changed_chars += changed
        c, ch = seg.per_language.get(p.language, [0, 0])
        seg.per_language[p.language] = [c + len(p.text), ch + changed]
    return seg
