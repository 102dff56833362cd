"""The output step every engine runs per shard, after dedup: join the shard's check results with
the driver's dedup decisions and test results, write the shard's slice of the findings and of
the clean set, and gather its part of the counts and of the report's sample (which the driver
merges in input order, after concatenating the slices).

Like the per-shard check step it takes and returns plain data, so Ray runs it too.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tripwire.data._collect import Collector
from tripwire.data._failing_tests import failing
from tripwire.data._readers import Shard, read_raw
from tripwire.data._records import FieldMap, parse_record
from tripwire.data._result import AuditResult
from tripwire.data._secrets import might_hold_secret, redact_obj
from tripwire.data._workdir import ShardFile, WorkDir

_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
"""``json.dumps(obj, ensure_ascii=False)`` without building an encoder per record."""


@dataclass(frozen=True)
class WriteTask:
    shard: Shard
    workdir: str
    fields: FieldMap
    offset: int
    """Position (in the whole input) of the shard's first record."""
    duplicates: dict[int, tuple[str, dict[str, Any]]]
    """Ordinal in the shard -> (``exact_duplicate`` or ``near_duplicate``, evidence)."""
    shown: dict[int, int]
    """Position -> shown cluster, for this shard's members of the clusters the report shows."""
    findings: bool
    clean: bool
    flagged: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """Ordinal in the shard -> set-level flags the driver decided (``out_of_domain``, ...)."""


@dataclass
class ShardOutput:
    number: int
    result: AuditResult
    """Record counts of this shard only."""
    collector: Collector


def records_rows(wd: WorkDir, shard: Shard) -> list[dict[str, Any]]:
    """The check step's row per record of ``shard``."""
    rows: list[dict[str, Any]] = json.loads(wd.file(shard, ShardFile.RECORDS).read_text("utf-8"))
    return rows


def _text_of(raw: bytes, line: int, fields: FieldMap) -> str:
    """What the report shows of a record: its prompt and code, or the raw line if it has none."""
    try:
        rec = parse_record(json.loads(raw), line, line, fields, raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return raw.decode("utf-8", "replace")
    if not rec.code and not rec.prompt:
        return raw.decode("utf-8", "replace")
    return f"{rec.prompt}\n{rec.code}" if rec.kind == "instruction" else rec.code


@contextlib.contextmanager
def _maybe_open(path: Path, wanted: bool, mode: str) -> Iterator[IO[Any] | None]:
    if not wanted:
        yield None
        return
    with open(path, mode) as f:
        yield f


def write_shard(task: WriteTask) -> ShardOutput:
    """Write ``task.shard``'s findings and clean slices; returns its counts and report part."""
    shard, wd = task.shard, WorkDir(Path(task.workdir))
    fails = dict(failing(wd, shard))
    collector = Collector(task.shown)
    result = AuditResult()
    with (
        _maybe_open(wd.file(shard, ShardFile.FINDINGS), task.findings, "w") as ff,
        _maybe_open(wd.file(shard, ShardFile.CLEAN), task.clean, "wb") as cf,
    ):
        rows = zip(read_raw(shard, task.fields), records_rows(wd, shard), strict=True)
        for ordinal, (raw, row) in enumerate(rows):
            pos = task.offset + ordinal
            reasons = row["reasons"]
            if ordinal in fails:
                reasons["failing_tests"] = fails[ordinal]
            dup = task.duplicates.get(ordinal)
            if dup is not None:
                reasons[dup[0]] = dup[1]
            flags = row.get("flags") or {}
            if ordinal in task.flagged:
                flags = {**flags, **task.flagged[ordinal]}
            keep = not reasons
            result.records += 1
            result.bytes += len(raw) + 1
            line = {"id": row["id"], "keep": keep, "reasons": list(reasons), "details": reasons}
            if flags:
                line["flags"] = flags
            encoded = _ENCODE(line)
            if might_hold_secret(encoded.encode()):
                # Evidence added after the check step (a failing test's message, the id of
                # the record a duplicate copies) is redacted here, as the line is written;
                # everything downstream (counts, report, summary, terminal) reads this line.
                line = redact_obj(line)
                encoded = _ENCODE(line)
                row = {**row, "id": line["id"]}
                reasons = line["details"]
                flags = line.get("flags", {})
            for reason in reasons:
                result.count(reason, row["id"])
            for flag in flags:
                result.count_flag(flag, row["id"])
            if ff is not None:
                ff.write(encoded + "\n")
            if keep:
                result.kept += 1
                if cf is not None:
                    cf.write(raw + b"\n")
            shown = {**reasons, **flags} if flags else reasons
            wanted = collector.wants(pos, row, shown)
            collector.add(
                pos, row, shown, _text_of(raw, row["line"], task.fields) if wanted else None
            )
    return ShardOutput(shard.number, result, collector)
