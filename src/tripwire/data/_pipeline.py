"""``audit()``: the whole data audit, as stages over shards.

1. map (parallel, on the chosen engine): per-record checks and dedup signatures per shard;
2. tests (driver, sandbox pool): instruction records' own tests;
3. dedup (driver): one LSH index over every signature, clusters, one record kept per cluster;
4. write (driver, streaming in input order): findings, the clean set, the report's sample.

Stages 1 and 2 leave completion markers per shard, so a re-run with the same outputs resumes.
Memory is bounded by a shard, except the dedup index (one signature per record).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from tripwire.artifacts import atomic_path
from tripwire.data._collect import CLUSTERS_SHOWN, Collector, ReportData
from tripwire.data._config import AuditConfig
from tripwire.data._dedup import DedupResult, decision_evidence, deduplicate
from tripwire.data._engines import Engine, get_engine
from tripwire.data._failing_tests import failing, run_tests
from tripwire.data._map import MAP_STAGE, ShardTask, build_checks, contamination_index, run_shard
from tripwire.data._readers import Shard, input_files, plan_shards, read_shard
from tripwire.data._records import FieldMap, parse_record
from tripwire.data._result import AuditResult
from tripwire.data._workdir import WorkDir
from tripwire.progress import Progress, no_progress


def _records_rows(wd: WorkDir, shard: Shard) -> Iterator[dict[str, Any]]:
    with open(wd.file(shard, "records.jsonl"), encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def _run_map(
    shards: list[Shard],
    wd: WorkDir,
    key: str,
    config: AuditConfig,
    engine: Engine,
    progress: Progress,
) -> tuple[dict[int, dict[str, Any]], int]:
    """Run the per-shard step where no valid marker exists; returns every shard's summary."""
    todo = [
        ShardTask(s, config, str(wd.path), key)
        for s in shards
        if wd.done(s, MAP_STAGE, key) is None
    ]
    resumed = len(shards) - len(todo)
    progress("audit", resumed, len(shards))
    for n, _ in enumerate(engine.map(run_shard, todo), 1):
        progress("audit", resumed + n, len(shards))
    return {s.number: wd.done(s, MAP_STAGE, key) or {} for s in shards}, resumed


def _ids_of(
    shards: list[Shard], wd: WorkDir, offsets: dict[int, int], positions: set[int]
) -> dict[int, Any]:
    """Record ids of the kept cluster members (findings name what a duplicate duplicates)."""
    ids: dict[int, Any] = {}
    if not positions:
        return ids
    for s in shards:
        lo = offsets[s.number]
        for ordinal, row in enumerate(_records_rows(wd, s)):
            if lo + ordinal in positions:
                ids[lo + ordinal] = row["id"]
    return ids


def _dedup(
    shards: list[Shard], wd: WorkDir, offsets: dict[int, int], config: AuditConfig
) -> DedupResult:
    def entries() -> Iterator[tuple[int, bytes, np.ndarray, bool]]:
        for s in shards:
            fails = {o for o, _ in failing(wd, s)}
            with np.load(wd.file(s, "sigs.npz")) as z:
                ordinals, sigs, hashes, rej = z["ordinals"], z["sigs"], z["hashes"], z["rejected"]
            rows = zip(ordinals.tolist(), sigs, hashes.tolist(), rej.tolist(), strict=True)
            for o, sig, h, rejected in rows:
                yield offsets[s.number] + o, h, sig, rejected or o in fails

    return deduplicate(entries(), threshold=config.near_dup_threshold, num_perm=config.num_perm)


def _text_of(raw: bytes, line: int, fields: FieldMap) -> str:
    try:
        rec = parse_record(json.loads(raw), line, line, fields)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")
    if not rec.code and not rec.prompt:
        return raw.decode("utf-8", "replace")
    return f"{rec.prompt}\n{rec.code}" if rec.kind == "instruction" else rec.code


@contextlib.contextmanager
def _maybe_atomic(path: Path | None, mode: str) -> Iterator[IO[Any] | None]:
    if path is None:
        yield None
        return
    with atomic_path(path) as tmp, open(tmp, mode) as f:
        yield f


def audit(
    inputs: list[Path],
    *,
    config: AuditConfig | None = None,
    findings: Path | None = None,
    clean: Path | None = None,
    progress: Progress = no_progress,
    workdir: Path | None = None,
) -> tuple[AuditResult, ReportData]:
    """Audit ``inputs`` (JSONL/Parquet files or folders); write findings and the clean set.

    Returns the summary and the data the HTML report shows (``render_report`` writes it).
    Re-running with the same outputs (or ``workdir``) skips shards already finished.
    """
    config = config or AuditConfig()
    t0 = time.perf_counter()
    shards = plan_shards(input_files(list(inputs)), config.shard_bytes)
    build_checks(config)  # bad benchmark files fail here, before any work starts
    wd = WorkDir(workdir) if workdir else WorkDir.for_outputs([findings, clean])
    key = config.result_hash()
    try:
        summaries, resumed = _run_map(
            shards, wd, key, config, get_engine(config.engine, config.worker_count), progress
        )
        tests = run_tests(shards, wd, key, config, progress) if config.run_tests else {}
        offsets, total = {}, 0
        for s in shards:
            offsets[s.number] = total
            total += summaries[s.number].get("records", 0)
        progress("dedup", 0, 1)
        dedup = _dedup(shards, wd, offsets, config)
        progress("dedup", 1, 1)
        result = AuditResult(
            shards=len(shards),
            shards_resumed=resumed,
            tests=tests,
            config=config.to_dict(),
            engine=config.engine,
            clusters=len(dedup.clusters),
        )
        for summ in summaries.values():
            for name, st in summ.get("checks", {}).items():
                agg = result.checks.setdefault(name, {"hits": 0, "seconds": 0.0})
                agg["hits"] += st["hits"]
                agg["seconds"] = round(agg["seconds"] + st["seconds"], 3)
        data = _write(shards, wd, offsets, dedup, config, result, findings, clean, progress)
    finally:
        wd.cleanup()
    result.seconds = time.perf_counter() - t0
    result.outputs = {k: str(v) for k, v in (("findings", findings), ("clean", clean)) if v}
    return result, data


def _write(
    shards: list[Shard],
    wd: WorkDir,
    offsets: dict[int, int],
    dedup: DedupResult,
    config: AuditConfig,
    result: AuditResult,
    findings: Path | None,
    clean: Path | None,
    progress: Progress,
) -> ReportData:
    index = contamination_index(config.benchmarks, config.contamination_threshold)
    bench = {(i.benchmark, i.item_id): i.text for i in index.items}
    shown = {pos: k for k, members in enumerate(dedup.clusters[:CLUSTERS_SHOWN]) for pos in members}
    collector = Collector(shown, bench)
    ids = _ids_of(shards, wd, offsets, {d.of for d in dedup.decisions.values()})
    with _maybe_atomic(findings, "w") as ff, _maybe_atomic(clean, "wb") as cf:
        for n, s in enumerate(shards):
            fails = dict(failing(wd, s))
            rows = _records_rows(wd, s)
            for ordinal, ((raw, _rec), row) in enumerate(
                zip(read_shard(s, config.fields), rows, strict=True)
            ):
                pos = offsets[s.number] + ordinal
                reasons = row["reasons"]
                if ordinal in fails:
                    reasons["failing_tests"] = fails[ordinal]
                d = dedup.decisions.get(pos)
                if d is not None:
                    reasons[d.code] = decision_evidence(d, ids.get(d.of, d.of))
                keep = not reasons
                result.records += 1
                result.bytes += len(raw) + 1
                for reason in reasons:
                    result.count(reason, row["id"])
                if ff is not None:
                    line = {
                        "id": row["id"],
                        "keep": keep,
                        "reasons": list(reasons),
                        "details": reasons,
                    }
                    ff.write(json.dumps(line, ensure_ascii=False) + "\n")
                if keep:
                    result.kept += 1
                    if cf is not None:
                        cf.write(raw + b"\n")
                text = (
                    _text_of(raw, row["line"], config.fields)
                    if collector.wants(pos, row, reasons)
                    else None
                )
                collector.add(pos, row, reasons, text)
            progress("write", n + 1, len(shards))
    return collector.finish()
