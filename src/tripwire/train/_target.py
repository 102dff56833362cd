"""What a fine-tune learned, measured on data like its own: a held-out split of the fine-tuning
data, never trained on, scored by base and tuned model alike.

The base's held-out corpus (the standard library, for Python) says what a model forgot; it is
the wrong yardstick for what it learned. A fine-tune on networkx modules that improved held-out
networkx by 18% could look like no gain at all on the standard library. So a share of the
fine-tuning records (``TrainConfig.target_heldout``, 10% by default, at least 3) is set aside:
those whose ids hash lowest (the same split on every run; a record keeps its side as others
come and go), and the target
gain is the paired change in bits per byte on those records, per language.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tripwire.artifacts import sha256_json
from tripwire.progress import Progress, no_progress
from tripwire.stats import SliceComparison
from tripwire.train._data import TrainRecord

MIN_RECORDS = 20
"""Fewer fine-tuning records than this are all trained on (a split would leave too little)."""
MIN_HELDOUT = 3


@dataclass(frozen=True)
class TargetSplit:
    """The records set aside to measure the target gain on, and how they were chosen."""

    path: str
    fraction: float
    trained: int
    heldout: tuple[TrainRecord, ...]
    why_none: str = ""
    """Why nothing was held out (too few records, or the split is off); "" when some were."""

    def describe(self) -> str:
        if not self.heldout:
            return f"no held-out split of {self.path}: {self.why_none}"
        return (f"the held-out {self.fraction:.0%} of {self.path} ({len(self.heldout)} records, "
                f"chosen by a hash of the record id, not trained on)")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "fraction": self.fraction,
            "records_trained": self.trained,
            "records_heldout": len(self.heldout),
            # the ids themselves only while they are few; their hash always
            **({"heldout_ids": [r.id for r in self.heldout]} if len(self.heldout) <= 200 else {}),
            "heldout_ids_sha256": sha256_json(sorted(r.id for r in self.heldout)),
            "by": "sha256 of the record id (the lowest-hashing records)",
            **({"why_none": self.why_none} if self.why_none else {}),
        }


def _score(record_id: str) -> float:
    digest = hashlib.sha256(f"target-split:{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def target_text(record: TrainRecord) -> str:
    """What the model is trained to write: the code, the response, the assistant's turns."""
    if record.kind == "code":
        return record.text
    if record.kind == "instruction":
        return record.response
    return "\n".join(c for role, c in record.messages if role == "assistant")


def split_target(records: list[TrainRecord], path: Path, fraction: float) -> tuple[
    list[TrainRecord], TargetSplit
]:  # fmt: skip
    """``(records to train on, the split)``. Pre-tokenized records are never held out (there
    is no text to score them by)."""
    if fraction <= 0:
        return records, TargetSplit(str(path), fraction, len(records), (), "--target-heldout 0")
    if len(records) < MIN_RECORDS:
        why = f"{len(records)} records (a split needs {MIN_RECORDS})"
        return records, TargetSplit(str(path), fraction, len(records), (), why)
    # the `fraction` of records (at least MIN_HELDOUT) whose ids hash lowest: a fixed share
    # even of a small set, and a record keeps its side as others come and go
    eligible = sorted((r for r in records if r.kind != "tokens" and target_text(r).strip()),
                      key=lambda r: _score(r.id))  # fmt: skip
    k = max(MIN_HELDOUT, round(fraction * len(records)))
    if len(eligible) < k:
        why = f"only {len(eligible)} records have text to score (at least {k} needed)"
        return records, TargetSplit(str(path), fraction, len(records), (), why)
    held = eligible[:k]
    keep = {id(r) for r in held}
    # a copy of a held-out record (the same file given twice, a JSONL and a Parquet export of
    # one set) is not trained on either: the gain would be measured on text the model saw
    seen = {target_text(r) for r in held}
    train = [r for r in records if id(r) not in keep and target_text(r) not in seen]
    if not train:
        why = "every record copies a held-out one (nothing would be left to train on)"
        return records, TargetSplit(str(path), fraction, len(records), (), why)
    return train, TargetSplit(str(path), fraction, len(train), tuple(held))


def target_gain(
    base: str | Path,
    tuned: str | Path,
    split: TargetSplit,
    context: int,
    *,
    device: str | None = None,
    progress: Progress = no_progress,
) -> list[SliceComparison]:
    """Paired bits per byte of base and tuned model on the held-out records, one comparison
    per language (``slice``), record by record (``delta < 0``: the fine-tune improved it)."""
    from tripwire.artifacts import Checkpoint
    from tripwire.train._forgetting import Chunk, chunk_bits_per_byte, compare_languages
    from tripwire.train._model import load_tuned

    chunks: dict[str, list[Chunk]] = {}
    for i, r in enumerate(split.heldout):
        lang = r.language or "unknown"
        chunks.setdefault(lang, []).append(Chunk(lang, i, target_text(r)))
    tokenizer = Checkpoint.open(base).load_tokenizer()
    scores = []
    for step, model_dir in enumerate((base, tuned)):
        progress("target", step, 2)
        model = load_tuned(model_dir, device)
        scores.append({lang: chunk_bits_per_byte(model, tokenizer, cs, context)
                       for lang, cs in chunks.items()})  # fmt: skip
        del model  # one model in memory at a time
    progress("target", 2, 2)
    return compare_languages(chunks, scores[0], scores[1])
