"""Functional check: per-token loss of candidate and baseline on the probe corpus, localised to
the tokens the audit suspects.

The two tokenizers may segment differently, so losses are compared per character: each
predicted token's loss is spread over the characters it covers, and any span can then be
compared between the two models.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
from tokenizers import Encoding

from tripwire.artifacts import Checkpoint
from tripwire.errors import BadInputError
from tripwire.findings import Finding, Severity
from tripwire.progress import Progress, no_progress
from tripwire.tokens._probe import ProbeText
from tripwire.tokens._vocab import TokenizerView

WARN_RATIO = 1.05
BLOCK_RATIO = 1.20
_MAX_CONTEXT = 512


@torch.no_grad()
def char_nats(model, tok: TokenizerView, text: str, context: int) -> tuple[np.ndarray, Encoding]:  # type: ignore[no-untyped-def]
    """Nats per character of ``text`` under ``model`` (each predicted token's loss spread over
    the characters it covers), and the encoding used. Windows of ``context`` tokens; logits a
    chunk of positions at a time (``tripwire.compute``), whatever the vocabulary."""
    from tripwire.compute._scoring import stream_nll

    enc = tok.encode([text])[0]
    eos = tok.vocab.get(tok.roles().get("eos_token", ""), None)
    stream = ([eos] if eos is not None else []) + list(enc.ids)
    shift = 1 if eos is not None else 0
    nats = np.zeros(len(text), dtype=np.float64)
    losses = stream_nll(model, [stream], window=context, max_tokens=4 * context)[0]
    for k, loss in enumerate(losses.tolist()):
        j = k + 1 - shift  # index into enc of the predicted token
        if j < 0:
            continue
        s, e = enc.offsets[j]
        if e > s:
            nats[s:e] += loss / (e - s)
        elif s > 0:
            nats[s - 1] += loss
    return nats, enc


def _require_fits(ckpt: Checkpoint) -> None:
    """Refuse (``--max-memory``, one line) a model that cannot be scored in the budget."""
    from tripwire.compute import Footprint, current_budget
    from tripwire.compute._scoring import scoring_batch_tokens

    scoring_batch_tokens(Footprint.of(ckpt), current_budget(), _context(ckpt), "--functional")


def _context(ckpt: Checkpoint) -> int:
    n = ckpt.config.get("n_positions") or ckpt.config.get("max_position_embeddings") or 1024
    return min(int(n), _MAX_CONTEXT)


def functional_findings(
    base_ckpt: Checkpoint,
    cand_ckpt: Checkpoint,
    base_tok: TokenizerView,
    cand_tok: TokenizerView,
    probe: list[ProbeText],
    suspects: Iterable[int],
    cand_rows: int,
    progress: Progress = no_progress,
) -> list[Finding]:
    """Loss of both models on the probe; one finding with the localised comparison."""
    if not (base_ckpt.is_causal_lm and cand_ckpt.is_causal_lm):
        return [
            Finding(
                "tokens.functional_skipped",
                Severity.INFO,
                "functional check skipped: it needs two causal LMs",
            )
        ]
    if cand_tok.size > cand_rows:
        return [
            Finding(
                "tokens.functional_skipped",
                Severity.INFO,
                "functional check skipped: the candidate tokenizer emits ids beyond its table",
            )
        ]
    suspects = set(suspects)
    # one model in memory at a time: the baseline scores the whole probe, then the candidate
    per_model = []
    for i, (ckpt, tok) in enumerate(((base_ckpt, base_tok), (cand_ckpt, cand_tok))):
        _require_fits(ckpt)
        try:
            model = ckpt.load_model(causal=True)
        except BadInputError as exc:
            # what keeps it from loading (a config vocab_size that disagrees with the table)
            # is the structural checks' finding to report; the audit's verdict stands
            first = str(exc).strip().splitlines()[0][:300]
            return [
                Finding(
                    "tokens.functional_skipped",
                    Severity.INFO,
                    f"functional check skipped: {'candidate' if i else 'baseline'} {first}",
                )
            ]
        per_model.append([char_nats(model, tok, p.text, _context(ckpt)) for p in probe])
        progress("functional", i + 1, 2)
        del model
    total_b = total_c = span_b = span_c = 0.0
    chars = span_chars = 0
    per_token: dict[int, list[float]] = {}
    for k, p in enumerate(probe):
        nb, _ = per_model[0][k]
        nc, enc = per_model[1][k]
        total_b, total_c, chars = total_b + nb.sum(), total_c + nc.sum(), chars + len(p.text)
        mask = np.zeros(len(p.text), dtype=bool)
        for j, tid in enumerate(enc.ids):
            if tid not in suspects:
                continue
            # The token's own prediction and the next one's (its row is the next one's input).
            s = enc.offsets[j][0]
            e = enc.offsets[j + 1][1] if j + 1 < len(enc.ids) else enc.offsets[j][1]
            mask[s:e] = True
            acc = per_token.setdefault(tid, [0.0, 0.0, 0])
            acc[0] += nb[s:e].sum()
            acc[1] += nc[s:e].sum()
            acc[2] += 1
        span_b, span_c, span_chars = (
            span_b + nb[mask].sum(),
            span_c + nc[mask].sum(),
            span_chars + int(mask.sum()),
        )
    ratio = total_c / max(total_b, 1e-12)
    severity = (
        Severity.BLOCK
        if ratio > BLOCK_RATIO
        else Severity.WARN
        if ratio > WARN_RATIO
        else Severity.INFO
    )
    worse = sorted(
        (t for t, (b, c, _) in per_token.items() if c > 1.5 * b + 1.0),
        key=lambda t: per_token[t][0] - per_token[t][1],
    )
    bpc = 1 / math.log(2)
    message = (
        f"probe loss {total_b * bpc / max(chars, 1):.3f} -> {total_c * bpc / max(chars, 1):.3f} "
        f"bits/char ({ratio - 1:+.1%})"
    )
    if span_chars:
        message += (
            f"; around the {len(per_token)} suspect tokens it uses "
            f"{span_b * bpc / span_chars:.3f} -> {span_c * bpc / span_chars:.3f} bits/char"
        )
    return [
        Finding(
            "tokens.functional_loss",
            severity,
            message,
            token_ids=worse,
            evidence={
                "baseline_bits_per_char": total_b * bpc / max(chars, 1),
                "candidate_bits_per_char": total_c * bpc / max(chars, 1),
                "ratio": ratio,
                "suspect_chars": span_chars,
                "suspect_baseline_nats": span_b,
                "suspect_candidate_nats": span_c,
                "per_token": [
                    {
                        "id": t,
                        "token": cand_tok.text_of(t),
                        "occurrences": int(per_token[t][2]),
                        "baseline_nats": float(per_token[t][0]),
                        "candidate_nats": float(per_token[t][1]),
                    }
                    for t in sorted(per_token, key=lambda t: per_token[t][0] - per_token[t][1])[:30]
                ],
            },
        )
    ]
