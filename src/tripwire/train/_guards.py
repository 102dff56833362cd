"""What a fine-tune refuses before it spends any compute.

- data stamped for another tokenizer, or pre-tokenized ids outside the model's vocabulary (the
  incident's bug 1, on the training side);
- data that ``tripwire data audit`` would block (benchmark contamination, credentials), unless
  the caller accepts unaudited data.
"""

from __future__ import annotations

from pathlib import Path

from tripwire.artifacts import Checkpoint, Manifest, sha256_file
from tripwire.errors import BadInputError
from tripwire.findings import Severity
from tripwire.train._data import TrainRecord

STAMP_KEY = "tokenizer_sha256"


def tokenizer_sha256(ckpt: Checkpoint) -> str | None:
    """The model's tokenizer identity: sha256 of its tokenizer.json (None when it has none)."""
    path = ckpt.path / "tokenizer.json"
    return sha256_file(path) if path.is_file() else None


def data_stamp(data: Path) -> str | None:
    """The tokenizer stamp in the data's manifest notes, if it has a manifest with one."""
    try:
        notes = Manifest.read(data).notes
    except BadInputError:
        return None
    stamp = notes.get(STAMP_KEY)
    return str(stamp) if stamp else None


def check_tokenizer(ckpt: Checkpoint, data: Path, records: list[TrainRecord]) -> None:
    """Refuse data tokenized for another tokenizer; raw text without a stamp is fine (it is
    tokenized with the model's own tokenizer)."""
    stamp = data_stamp(data)
    if stamp is not None:
        mine = tokenizer_sha256(ckpt)
        if mine is None:
            raise BadInputError(
                data,
                f"carries a tokenizer stamp ({stamp[:12]}) but the model "
                "has no tokenizer.json to check it against",
            )
        if stamp != mine:
            raise BadInputError(
                data,
                f"tokenizer stamp {stamp[:12]} does not match the model's "
                f"tokenizer {mine[:12]}; re-tokenize the data for this "
                "model",
            )
    vocab = ckpt.vocab_size
    if vocab is None:
        return
    for rec in records:
        if rec.kind == "tokens" and (max(rec.input_ids) >= vocab or min(rec.input_ids) < 0):
            bad = next(i for i in rec.input_ids if i >= vocab or i < 0)
            raise BadInputError(
                rec.where,
                f"token id {bad} is outside the model's vocabulary "
                f"(size {vocab}); the data was tokenized for another "
                "model",
            )


def check_audit(data: Path) -> None:
    """Refuse data the data audit blocks. Only the blocking checks decide this verdict, so the
    records' own tests are not run here (they can only make findings that warn)."""
    from tripwire.data import AuditConfig, audit

    result, _ = audit([data], config=AuditConfig(run_tests=False, workers=1))
    blocking = [f for f in result.findings() if f.severity == Severity.BLOCK]
    if blocking:
        what = "; ".join(f"{f.message} (e.g. {', '.join(f.record_ids[:3])})" for f in blocking)
        raise BadInputError(
            data,
            f"tripwire data audit blocks this data: {what}; clean it "
            "(tripwire data audit --clean) or pass --allow-unaudited",
        )
