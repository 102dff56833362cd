"""Under-trained tokens from one model's weights alone: which rows look like rows that were
never trained (the Magikarp indicator: cosine similarity to the mean of those rows once the
table's first principal component is removed). Which rows those are: ``_calibration``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch

from tripwire.findings import Finding, Severity
from tripwire.tokens._calibration import known_untrained, norm_tails, unreachable
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


_WHAT = {
    "reserved": "reserved/unused",
    "beyond": "past-the-vocabulary (no token has their id)",
    "unreachable": "unreachable (never produced by the tokenizer)",
    "least": "least-norm",
    "greatest": "greatest-norm",
}
_CODE = {
    "reserved": "tokens.reserved_rows",
    "beyond": "tokens.beyond_vocabulary_rows",
    "unreachable": "tokens.unreachable_rows",
    "least": "tokens.norm_tail_rows",
    "greatest": "tokens.norm_tail_rows",
}
_NOTHING = {
    "auto": "no reserved/unused tokens (<|reserved_N|>, [unusedN]), no rows past the vocabulary "
    "and no unreachable tokens to calibrate against",
    "reserved": "no reserved/unused tokens (<|reserved_N|>, [unusedN]) to calibrate against",
    "beyond": "no rows past the tokenizer's vocabulary to calibrate against",
    "unreachable": "no unreachable tokens to calibrate against",
    "norm-tail": "calibrating on the rows at either end of the norm distribution",
}

# The rows at one end of the norm distribution calibrate the search only when they are a group
# of their own: alike (median cosine to their mean) and few (rows as alike as the least alike of
# them, as a share of the table). Measured: real BERT's least-norm rows ([unusedN]) 0.87 and
# 4.8%; SmolLM2-135M's greatest-norm rows (intermediate BPE pieces) 0.55 and 0.19%; taken. Not
# taken: SmolLM2's least-norm rows (common first names) 0.58 and 22%, BERT's greatest-norm rows
# 0.16, the tiny reference's two ends 0.26 / 33% and 0.45 / 10.4%.
NORM_TAIL_MIN_COHERENCE = 0.5
NORM_TAIL_MAX_SHARE = 0.1


def _skipped(message: str, ids: Sequence[int] = (), **evidence: Any) -> Finding:
    return Finding(
        "tokens.undertrained_skipped", Severity.INFO, message, token_ids=ids, evidence=evidence
    )


@dataclass
class _Reference:
    kind: str
    """A key of ``_WHAT``."""
    scored: UndertrainedScores
    known: bool
    """Untrained by construction, not by inference from the weights."""

    @cached_property
    def share(self) -> float:
        """Rows as alike as the least alike reference row, as a share of the table."""
        return float((self.scores >= self.scored.threshold).float().mean())

    @property
    def scores(self) -> torch.Tensor:
        return self.scored.scores

    def describe(self, tok: TokenizerView, norms: torch.Tensor) -> tuple[str, dict[str, Any]]:
        ref = self.scored.reference
        others = np.ones(len(self.scores), dtype=bool)
        others[ref] = False
        ref_norm = float(norms[torch.from_numpy(ref)].median())
        other_norm = float(norms[torch.from_numpy(others)].median()) if others.any() else 0.0
        shown = ", ".join(repr(tok.text_of(int(i))) for i in ref[:4])
        text = (
            f"{len(ref)} {_WHAT[self.kind]} rows (e.g. {shown}): median norm "
            f"{ref_norm:.3f} vs {other_norm:.3f} for other tokens; alike with median cosine "
            f"{self.scored.coherence:.2f} to their mean (first principal component removed)"
        )
        evidence = {
            "calibration": "norm_tail" if not self.known else self.kind,
            "count": len(ref),
            "median_norm": ref_norm,
            "other_median_norm": other_norm,
            "coherence": self.scored.coherence,
            "threshold": self.scored.threshold,
            "share_as_alike": self.share,
        }
        if not self.known:
            evidence["tail"] = self.kind
        return text, evidence

    @property
    def distinct(self) -> bool:
        return (
            self.scored.coherence >= NORM_TAIL_MIN_COHERENCE and self.share <= NORM_TAIL_MAX_SHARE
        )


def _reference(
    tok: TokenizerView, table: torch.Tensor, norms: torch.Tensor, how: str
) -> _Reference | list[Finding]:
    """The rows to compare every row with, or why there are none (as findings)."""
    if how != "norm-tail":
        kind, ids = known_untrained(tok, int(table.shape[0]), how)
        scored = undertrained_scores(table, ids)
        if scored is not None:
            return _Reference(kind, scored, known=True)
        if how != "auto":
            return [_skipped(_NOTHING[how])]
    tails = [
        _Reference(name, scored, known=False)
        for name, seed in norm_tails(tok, norms).items()
        if (scored := undertrained_scores(table, seed)) is not None
    ]
    taken = [t for t in tails if t.distinct]
    if taken:
        return max(taken, key=lambda t: t.scored.coherence)
    described = [t.describe(tok, norms) for t in tails]
    return [
        _skipped(
            f"{_NOTHING[how]}; "
            + "; ".join(
                f"the {text}, and rows as alike as they are make {ev['share_as_alike']:.1%} of "
                "the table"
                for text, ev in described
            )
            + ": neither end is a distinct group of untrained rows, so nothing here looks "
            "untrained",
            sorted({int(i) for t in tails for i in t.scored.reference}),
            tails={ev["tail"]: ev for _, ev in described},
        )
    ]


def undertrained_findings(
    tok: TokenizerView,
    table: torch.Tensor,
    usage: Counter[int],
    norms: torch.Tensor,
    how: str = "auto",
) -> list[Finding]:
    """Single-model mode: tokens whose rows look like the rows known to be untrained (reserved /
    unused tokens, rows past the vocabulary, tokens the tokenizer can never produce), else like
    the rows at one end of the norm distribution when those form a distinct, alike group;
    ``how`` picks one kind (``_calibration.CHOICES``)."""
    chosen = _reference(tok, table, norms, how)
    if isinstance(chosen, list):
        return chosen
    scored, ref = chosen.scored, chosen.scored.reference
    text, evidence = chosen.describe(tok, norms)
    out = [
        Finding(_CODE[chosen.kind], Severity.INFO, text, token_ids=ref.tolist(), evidence=evidence)
    ]
    if scored.coherence < REFERENCE_MIN_COHERENCE:
        out.append(
            _skipped(
                f"the {_WHAT[chosen.kind]} rows are not alike (they look individually "
                "initialised or were trained), so they cannot calibrate an under-training "
                "indicator"
            )
        )
        return out
    ref_scores = scored.scores[torch.from_numpy(ref)]
    odd = ref[(ref_scores < scored.coherence / 2).numpy()]
    if len(odd) and chosen.kind == "reserved":
        out.append(
            Finding(
                "tokens.reserved_rows_trained",
                Severity.INFO,
                f"{len(odd)} reserved/unused rows do not look like the others (repurposed and "
                f"trained?): {', '.join(repr(tok.text_of(int(i))) for i in odd[:6])}",
                token_ids=odd.tolist(),
            )
        )
    mask = (scored.scores >= scored.threshold).numpy()
    if chosen.known:
        # rows known to be untrained are the yardstick, not a finding; rows taken from a norm
        # tail are themselves what was found
        mask[ref] = False
    flagged = np.nonzero(mask[: tok.size])[0]
    order = flagged[np.argsort(-scored.scores[torch.from_numpy(flagged)].numpy())]
    used = [int(i) for i in order if usage.get(int(i))]
    # calibrated on the unreachable tokens, every other token is reachable by construction
    never = (
        [] if chosen.kind == "unreachable" else [i for i in map(int, order) if unreachable(tok, i)]
    )
    shown = ", ".join(repr(tok.text_of(int(i))) for i in (used or order.tolist())[:8])
    yardstick = _WHAT[chosen.kind].split(" (")[0]
    out.append(
        Finding(
            "tokens.undertrained_tokens",
            Severity.WARN if used else Severity.INFO,
            (
                f"{len(order)} other tokens look as untrained as the {yardstick} rows"
                if chosen.known
                else f"{len(order)} tokens look untrained, the {yardstick} rows and those alike"
            )
            + (f" ({len(never)} can never be produced by the tokenizer)" if never else "")
            + (f"; {len(used)} occur in the probe corpus" if used else "")
            + (f": {shown}" if len(order) else ""),
            token_ids=order.tolist(),
            evidence={
                "calibration": evidence["calibration"],
                "threshold": scored.threshold,
                "used_in_probe": used,
                "unreachable": never,
                "examples": [
                    {"id": int(i), "token": tok.text_of(int(i)), "score": float(scored.scores[i])}
                    for i in order[:20]
                ],
            },
        )
    )
    return out
