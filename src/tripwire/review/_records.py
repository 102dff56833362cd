"""An audited data set, record by record: each input record beside its row of the audit's
findings, read through the data audit's public API (``tripwire.data``), with what a reviewer may
see of it (secrets redacted) and what they must not (the audit's verdict).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tripwire.data import FieldMap, input_files, plan_shards, read_shard, redact
from tripwire.errors import BadInputError

SHOWN_CHARS = 20_000
"""A record longer than this is cut for the page (the clean copy keeps it whole)."""


@dataclass(frozen=True)
class AuditedRecord:
    position: int
    """0-based position in the whole input (the audit's order)."""
    record_id: str
    keep: bool
    reasons: tuple[str, ...]
    details: dict[str, Any]
    flags: tuple[str, ...]
    """What the audit kept but flagged for people to look at (``off_topic``, ``lint``, ...)."""
    source: str
    language: str
    kind: str
    raw_sha256: str
    shown: dict[str, Any] = field(default_factory=dict)


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "\n... (cut for review)"


def read_findings(path: Path) -> list[dict[str, Any]]:
    """The audit's findings rows; BadInputError names the line of the first one that is not."""
    rows = []
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BadInputError(f"{path}:{n}", f"not JSON ({exc.msg})") from exc
                except RecursionError as exc:
                    raise BadInputError(f"{path}:{n}", "JSON nested too deeply to read") from exc
                if not isinstance(row, dict) or not {"id", "keep", "reasons"} <= row.keys():
                    raise BadInputError(f"{path}:{n}", "not a tripwire data audit findings line")
                rows.append(row)
    except OSError as exc:
        raise BadInputError(path, f"cannot read the findings ({exc.strerror or exc})") from exc
    return rows


def audited_records(
    inputs: list[Path],
    findings: list[dict[str, Any]],
    fields: FieldMap,
    where: Path,
    show: set[int] | None = None,
) -> Iterator[tuple[bytes, AuditedRecord]]:
    """Each input record (its original bytes) with its findings row, in input order; what a
    reviewer sees is filled in only for the positions in ``show`` (all when None), so a large
    set is read twice rather than held in memory."""
    shards = plan_shards(input_files(list(inputs)), 1 << 22)
    position = 0
    for shard in shards:
        for raw, rec in read_shard(shard, fields):
            if position >= len(findings):
                raise BadInputError(
                    where,
                    f"has {len(findings)} rows but the inputs have more "
                    "records: it is not these inputs' audit",
                )
            row = findings[position]
            rid = str(row["id"])
            if "[REDACTED" not in rid and str(rec.id) != rid:
                raise BadInputError(
                    where,
                    f"row {position + 1} is record {rid!r} but the input "
                    f"has {rec.id!r} there: it is not these inputs' audit",
                )
            language = rec.language or (rec.fence_tags[0] if rec.fence_tags else None)
            if show is not None and position not in show:
                shown: dict[str, Any] = {}
            elif rec.kind == "invalid" or not (rec.code or rec.prompt):
                shown = {"text": _cut(redact(raw.decode("utf-8", "replace")))}
            else:
                shown = {"prompt": _cut(redact(rec.prompt)), "code": _cut(redact(rec.code))}
            yield (
                raw,
                AuditedRecord(
                    position=position,
                    record_id=rid,
                    keep=bool(row["keep"]),
                    reasons=tuple(row.get("reasons") or ()),
                    details=dict(row.get("details") or {}),
                    flags=tuple(row.get("flags") or ()),
                    source=str(rec.source or "unknown"),
                    language=str(language or "unknown"),
                    kind=rec.kind,
                    raw_sha256=hashlib.sha256(raw).hexdigest(),
                    shown={
                        "record_id": rid,
                        "source": str(rec.source or ""),
                        "language": str(language or ""),
                        "kind": rec.kind,
                        **shown,
                    },
                ),
            )
            position += 1
    if position != len(findings):
        raise BadInputError(
            where,
            f"has {len(findings)} rows but the inputs have {position} "
            "records: it is not these inputs' audit",
        )


def iter_raw(inputs: list[Path], fields: FieldMap) -> Iterator[bytes]:
    """Every input record's original bytes, in input order (what a clean copy is made of)."""
    for shard in plan_shards(input_files(list(inputs)), 1 << 22):
        for raw, _ in read_shard(shard, fields):
            yield raw
