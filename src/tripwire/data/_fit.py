"""Does an answer fit its instruction? Scored with a causal language model (the reference model
or the user's base model, a local Hugging Face folder).

For each instruction/chat record, the mean negative log-likelihood per token of its answer
(``nll``) is taken three ways: after its own instruction, after ``OTHERS`` other instructions
of the same set (drawn with a fixed seed), and after none. Two scores come of it:

- ``contrast`` = mean NLL after the others - NLL after its own: how much more its own
  instruction explains the answer than another's (a likelihood-ratio test of the pairing);
- ``ifd`` = NLL after its own / NLL after none: the instruction-following difficulty of Li et
  al. ("From Quantity to Quality", 2024), near or above 1 when the instruction does not help.

``benchmarks/data_fit.py`` measures both on answers swapped between instructions; the audit
flags with ``contrast`` (the better one there), below a threshold from the set itself: the
robust z-score of the set's scores under -3.5 (median and MAD), and never above 0 (an answer
its own instruction explains better than others' is not off topic, whatever the set).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tripwire.errors import BadInputError

OTHERS = 3
Z = 3.5
_PROMPT_TOKENS = 96
_ANSWER_TOKENS = 160


@dataclass(frozen=True)
class FitScores:
    own: np.ndarray
    others: np.ndarray
    none: np.ndarray

    @property
    def contrast(self) -> np.ndarray:
        return self.others - self.own

    @property
    def ifd(self) -> np.ndarray:
        return self.own / np.maximum(self.none, 1e-9)


class AnswerScorer:
    """Mean answer NLL under a local causal LM, batched (padded to the longest in a batch)."""

    def __init__(self, model_dir: str | Path, batch_size: int = 16) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - torch and transformers are dependencies
            raise BadInputError("--model", f"needs torch and transformers: {exc}") from exc
        path = Path(model_dir)
        if not (path / "config.json").is_file():
            raise BadInputError(path, "not a Hugging Face model folder (no config.json)")
        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True).eval()
        limit = getattr(self.model.config, "n_positions", None) or getattr(
            self.model.config, "max_position_embeddings", 1024
        )
        self.prompt_tokens = min(_PROMPT_TOKENS, limit // 3)
        self.answer_tokens = min(_ANSWER_TOKENS, limit - self.prompt_tokens - 1)
        self.batch_size = batch_size
        self.pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else 0

    def _ids(self, text: str, limit: int, tail: bool) -> list[int]:
        ids: list[int] = self.tok(text, add_special_tokens=False)["input_ids"]
        return ids[-limit:] if tail else ids[:limit]

    def nll(self, prompts: Sequence[str], answers: Sequence[str]) -> np.ndarray:
        """Mean NLL per answer token of each answer after its prompt (nats)."""
        out = np.zeros(len(answers))
        pairs = []
        for p, a in zip(prompts, answers, strict=True):
            head = self._ids(f"{p}\n", self.prompt_tokens, tail=True) if p else []
            pairs.append((head, self._ids(a, self.answer_tokens, tail=False)))
        torch = self.torch
        order = sorted(range(len(pairs)), key=lambda k: len(pairs[k][0]) + len(pairs[k][1]))
        for lo in range(0, len(order), self.batch_size):
            batch = order[lo : lo + self.batch_size]
            width = max(len(pairs[k][0]) + len(pairs[k][1]) for k in batch)
            ids = torch.full((len(batch), width), self.pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            target = torch.zeros((len(batch), width), dtype=torch.bool)
            for row, k in enumerate(batch):
                head, answer = pairs[k]
                seq = head + answer
                ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
                mask[row, : len(seq)] = 1
                target[row, len(head) : len(seq)] = True
            with torch.no_grad():
                logits = self.model(input_ids=ids, attention_mask=mask).logits.float()
            logp = torch.log_softmax(logits[:, :-1], dim=-1)
            tok_logp = logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
            t = target[:, 1:]
            for row, k in enumerate(batch):
                n = int(t[row].sum())
                out[k] = -float(tok_logp[row][t[row]].sum()) / n if n else math.nan
        return out

    def scores(self, prompts: Sequence[str], answers: Sequence[str], seed: int = 0) -> FitScores:
        n = len(prompts)
        own = self.nll(prompts, answers)
        none = self.nll([""] * n, answers)
        rng = random.Random(seed)
        others = np.zeros(n)
        draws = min(OTHERS, n - 1)
        for _ in range(draws):
            picked = [rng.choice([j for j in range(n) if j != i]) if n > 1 else i for i in range(n)]
            others += self.nll([prompts[j] for j in picked], answers)
        others = others / max(draws, 1)
        return FitScores(own, others, none)


def off_topic(scores: FitScores, z: float = Z) -> tuple[np.ndarray, dict[str, Any]]:
    """Indices of the answers that fit their instruction least (the set's own low tail of
    ``contrast``), and the calibration."""
    c = scores.contrast
    ok = np.isfinite(c)
    if ok.sum() < 20:
        return np.zeros(0, dtype=np.int64), {"records": int(ok.sum()), "threshold": None}
    median = float(np.median(c[ok]))
    mad = float(np.median(np.abs(c[ok] - median))) * 1.4826
    threshold = min(0.0, median - z * max(mad, 1e-6))
    flagged = np.flatnonzero(ok & (c < threshold))
    return flagged, {"threshold": round(threshold, 4), "median": round(median, 4)}
