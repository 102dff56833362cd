"""Training records from the files ``tripwire data audit`` reads (JSONL / Parquet, through the
data package's readers), plus pre-tokenized records (``input_ids``) that only training accepts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tripwire.artifacts import write_text_atomic
from tripwire.errors import BadInputError


@dataclass(frozen=True)
class TrainRecord:
    """One training example, in the shape its record had."""

    id: str
    kind: str
    """``code``, ``instruction``, ``chat`` or ``tokens`` (pre-tokenized)."""
    text: str = ""
    prompt: str = ""
    response: str = ""
    messages: tuple[tuple[str, str], ...] = ()
    """(role, content) turns."""
    input_ids: tuple[int, ...] = ()
    loss_mask: tuple[bool, ...] | None = None
    """Pre-tokenized records only: which ids are trained on (default: all)."""
    language: str | None = None
    """Declared language (normalised), when the record names one."""
    where: str = field(default="", compare=False)
    """``file:line`` for error messages."""


def _tokens(obj: dict[str, Any], rid: str, where: str) -> TrainRecord:
    ids = obj["input_ids"]
    if (
        not isinstance(ids, list)
        or not ids
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    ):
        raise BadInputError(where, "input_ids must be a non-empty list of integers")
    mask = obj.get("loss_mask")
    if mask is not None and (
        not isinstance(mask, list)
        or len(mask) != len(ids)
        # "false" or 0.5 as a flag would train on every id it meant to mask
        or not all(m in (0, 1) and not isinstance(m, float) for m in mask)
    ):
        raise BadInputError(
            where, "loss_mask must be a list of booleans (or 0/1) as long as input_ids"
        )
    return TrainRecord(
        rid,
        "tokens",
        input_ids=tuple(ids),
        loss_mask=None if mask is None else tuple(bool(m) for m in mask),
        where=where,
    )


def _from_json(obj: Any, rec: Any, fields: Any, where: str) -> TrainRecord:
    from tripwire.data import chat_turns, known_shape

    rid = str(rec.id)
    if isinstance(obj, dict) and "input_ids" in obj:
        return replace(_tokens(obj, rid, where), language=rec.language)
    if rec.kind == "invalid" or (rec.problems and rec.kind != "code"):
        raise BadInputError(where, f"unusable {rec.kind} record: {'; '.join(rec.problems)}")
    # the columns the audit read this record by (Alpaca's output, ShareGPT's conversations)
    obj, fm = known_shape(obj, fields)
    if rec.kind == "code":
        text = obj.get(fm.text)
        if not isinstance(text, str):
            # 5, null or a list is a wrong type, not an empty text: say which, so it can be fixed
            got = "null" if text is None else type(text).__name__
            raise BadInputError(where, f"{fm.text!r} must be a string, got {got}")
        if not text.strip():
            raise BadInputError(where, f"empty {fm.text!r}")
        return TrainRecord(rid, "code", text=text, language=rec.language, where=where)
    if rec.kind == "instruction":
        return TrainRecord(
            rid,
            "instruction",
            prompt=obj[fm.prompt],
            response=obj[fm.response],
            language=rec.language,
            where=where,
        )
    turns = chat_turns(obj, fm)
    return TrainRecord(rid, "chat", messages=turns, language=rec.language, where=where)


def read_records(paths: list[Path]) -> list[TrainRecord]:
    """Every record of ``paths`` (files or folders); any unusable record is bad input, since a
    fine-tune should not silently train on a fraction of what it was given."""
    from tripwire.data import FieldMap, input_files, plan_shards, read_shard

    # the shapes the audit reads, so a set that passes the audit trains on the text it checked
    fields = FieldMap(other_shapes=True)
    records: list[TrainRecord] = []
    for shard in plan_shards(input_files(list(paths))):
        for raw, rec in read_shard(shard, fields):
            where = f"{shard.path}:{rec.line}"
            try:
                obj = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise BadInputError(where, f"malformed JSON: {exc}") from exc
            except RecursionError:  # nested thousands deep: the audit calls it bad_format too
                raise BadInputError(where, "malformed JSON: nested too deeply") from None
            except ValueError:  # an integer past Python's digit limit (sys.set_int_max_str_digits)
                raise BadInputError(where, "JSON number too long to read") from None
            records.append(_from_json(obj, rec, fields, where))
    if not records:
        raise BadInputError(", ".join(map(str, paths)), "no records")
    return records


def reference_language_data(
    reference: str | Path, language: str, out: str | Path, limit: int | None = None
) -> Path:
    """One language of a reference model's training split, as a code-file JSONL at ``out``
    (the narrow fine-tune set of the benchmark and the demo)."""
    from tripwire.reference import CORPUS_DIR, corpus_of

    src = corpus_of(reference, "train")
    if src is None:
        raise BadInputError(reference, f"not a reference model (no {CORPUS_DIR}/train.jsonl)")
    lines = []
    with open(src, encoding="utf-8") as f:
        for line in f:
            if json.loads(line)["language"] == language:
                lines.append(line.rstrip("\n"))
            if limit is not None and len(lines) == limit:
                break
    if not lines:
        raise BadInputError(src, f"has no {language} files")
    text = "\n".join(lines) + "\n"
    out = Path(out)
    if not out.is_file() or out.read_text(encoding="utf-8") != text:
        write_text_atomic(out, text)
    return out
