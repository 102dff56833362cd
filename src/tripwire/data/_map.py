"""The per-shard step every engine runs: read a shard, check each record, compute its dedup
signature, and write the shard's results next to the outputs (then its completion marker).

It takes and returns plain data, so a local process pool and Ray run it alike.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tripwire.data._benchmarks import load_benchmark
from tripwire.data._config import AuditConfig
from tripwire.data._contamination import ContaminationIndex
from tripwire.data._dedup import content_hash, signature
from tripwire.data._readers import Shard, read_shard
from tripwire.data._secrets import redact_obj
from tripwire.data._workdir import WorkDir
from tripwire.data.checks import (
    BadFormat,
    BenchmarkContamination,
    CheckRunner,
    LanguageMismatch,
    LowQuality,
    NotCode,
    RecordCheck,
    Secret,
    SourceNotAllowed,
    SyntaxErrorCheck,
    Truncated,
)

MAP_STAGE = "map"
# A record with one of these has no runnable code: running its tests would only repeat them.
NOT_RUNNABLE = frozenset(
    {"bad_format", "not_code", "language_mismatch", "truncated", "syntax_error"}
)


@dataclass(frozen=True)
class ShardTask:
    shard: Shard
    config: AuditConfig
    workdir: str
    key: str
    """Configuration hash the shard's marker must carry."""


@lru_cache(maxsize=2)
def contamination_index(benchmarks: tuple[str, ...], threshold: float) -> ContaminationIndex:
    items = [item for spec in benchmarks for item in load_benchmark(spec)]
    return ContaminationIndex(items, threshold=threshold)


def build_checks(config: AuditConfig) -> list[RecordCheck]:
    """The record checks in the order they run."""
    index = contamination_index(config.benchmarks, config.contamination_threshold)
    return [
        BadFormat(),
        SourceNotAllowed(config.allow_sources),
        Secret(),
        NotCode(),
        LanguageMismatch(),
        Truncated(),
        SyntaxErrorCheck(),
        LowQuality(),
        BenchmarkContamination(index),
    ]


@lru_cache(maxsize=2)
def _runner_checks(config: AuditConfig) -> tuple[RecordCheck, ...]:
    return tuple(build_checks(config))


def run_shard(task: ShardTask) -> dict[str, Any]:
    """Process one shard; returns its summary (also stored in its completion marker)."""
    cfg = task.config
    wd = WorkDir(Path(task.workdir))
    runner = CheckRunner(list(_runner_checks(cfg)))
    t0 = time.perf_counter()
    ordinals: list[int] = []
    rejected: list[bool] = []
    sigs: list[np.ndarray] = []
    hashes: list[bytes] = []
    n = nbytes = tests = 0
    rec_path, tests_path = wd.file(task.shard, "records.jsonl"), wd.file(task.shard, "tests.jsonl")
    with (
        open(rec_path, "w", encoding="utf-8") as out,
        open(tests_path, "w", encoding="utf-8") as tf,
    ):
        for ordinal, (raw, record) in enumerate(read_shard(task.shard, cfg.fields)):
            n += 1
            nbytes += len(raw) + 1
            ctx = runner.run(record)
            reasons = ctx.reasons
            if "secret" in reasons:
                reasons = redact_obj(reasons)
            has_code = bool(record.code.strip())
            row = {
                "id": record.id,
                "line": record.line,
                "kind": record.kind,
                "language": ctx.language,
                "chars": len(record.code),
                "lines": record.code.count("\n") + 1 if has_code else 0,
                "source": record.source,
                "reasons": reasons,
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            if has_code:
                ordinals.append(ordinal)
                rejected.append(bool(reasons))
                hashes.append(content_hash(ctx.shingle_text()))
                sigs.append(
                    signature(ctx.token_ids()[0], shingle=cfg.shingle_size, num_perm=cfg.num_perm)
                )
            runnable = NOT_RUNNABLE.isdisjoint(reasons) and ctx.language in ("python", None)
            if cfg.run_tests and record.tests and has_code and runnable:
                tf.write(
                    json.dumps({"o": ordinal, "program": record.code, "tests": record.tests}) + "\n"
                )
                tests += 1
    np.savez(
        wd.file(task.shard, "sigs.npz"),
        ordinals=np.array(ordinals, dtype=np.int64),
        sigs=np.stack(sigs) if sigs else np.zeros((0, cfg.num_perm), dtype=np.uint32),
        hashes=np.array(hashes, dtype="S16"),
        rejected=np.array(rejected, dtype=bool),
    )
    summary = {
        "records": n,
        "bytes": nbytes,
        "tests": tests,
        "seconds": round(time.perf_counter() - t0, 3),
        "checks": {
            k: {"hits": v.hits, "seconds": round(v.seconds, 3)} for k, v in runner.stats.items()
        },
    }
    wd.mark(task.shard, MAP_STAGE, task.key, summary)
    return summary
