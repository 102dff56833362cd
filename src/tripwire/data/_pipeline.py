"""``audit()``: the whole data audit, as stages over shards.

1. check (parallel, on the chosen engine): per-record checks and dedup signatures per shard;
   meanwhile the driver adds each finished shard's signatures to the LSH index, in input order;
2. tests (driver, sandbox pool): instruction records' own tests;
3. dedup (driver): clusters from the index, one record kept per cluster;
4. write (parallel): each shard's findings and clean slices and its part of the report's sample;
   the driver concatenates the slices in input order.

Stages 1 and 2 leave completion markers per shard, so a re-run with the same outputs resumes.
Memory is bounded by a shard, except the dedup index (one signature per distinct record).
"""

from __future__ import annotations

import bisect
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from tripwire.artifacts import atomic_path
from tripwire.data._collect import CLUSTERS_SHOWN, Collector, ReportData
from tripwire.data._config import AuditConfig
from tripwire.data._contamination import contamination_index
from tripwire.data._dedup import Deduplicator, DedupResult, decision_evidence
from tripwire.data._engines import Engine, get_engine
from tripwire.data._failing_tests import failing, run_tests
from tripwire.data._fit import AnswerScorer, off_topic
from tripwire.data._map import (
    MAP_STAGE,
    ShardTask,
    build_checks,
    run_shard,
)
from tripwire.data._outliers import outliers
from tripwire.data._outputs import check_outputs
from tripwire.data._readers import Shard, has_records, input_files, plan_shards
from tripwire.data._records import SHAPELESS
from tripwire.data._result import AuditResult
from tripwire.data._workdir import ShardFile, WorkDir
from tripwire.data._write import ShardOutput, WriteTask, write_shard
from tripwire.errors import BadInputError
from tripwire.progress import Progress, no_progress


class _Index:
    """The dedup index, fed shard by shard in input order as the check step finishes them."""

    def __init__(self, wd: WorkDir, config: AuditConfig) -> None:
        self.wd = wd
        self.dedup = Deduplicator(threshold=config.near_dup_threshold, num_perm=config.num_perm)
        self.offsets: dict[int, int] = {}
        """Shard number -> position of its first record in the whole input."""
        self.total = 0
        self.rejected: set[int] = set()
        """Positions another check already drops."""
        self.emb_positions: list[np.ndarray] = []
        self.embs: list[np.ndarray] = []
        """Token vectors of the records with code, by position (the out-of-domain check)."""

    def out_of_domain(self, z: float) -> dict[int, dict[str, Any]]:
        """Position -> ``out_of_domain`` evidence, the threshold calibrated on this set."""
        if z <= 0 or not self.embs:
            return {}
        positions = np.concatenate(self.emb_positions)
        found = outliers(np.concatenate(self.embs).astype(np.float32), z=z)
        return {
            int(positions[k]): {
                "distance": round(float(found.distance[k]), 3),
                "threshold": round(found.threshold, 3),
                "median": round(found.median, 3),
                "method": "token vector, 1 - cosine to the nearest of the set's centres",
            }
            for k in found.flagged.tolist()
        }

    def add(self, shard: Shard, summary: dict[str, Any]) -> None:
        lo = self.offsets[shard.number] = self.total
        with np.load(self.wd.file(shard, ShardFile.SIGNATURES)) as z:
            ordinals, sigs, hashes, rej = z["ordinals"], z["sigs"], z["hashes"], z["rejected"]
            self.embs.append(z["emb"])
        self.emb_positions.append(lo + ordinals)
        positions = [lo + o for o in ordinals.tolist()]
        self.dedup.add_many(positions, hashes.tolist(), sigs)
        self.rejected.update(p for p, r in zip(positions, rej.tolist(), strict=True) if r)
        self.total += summary.get("records", 0)


def _run_map(
    shards: list[Shard],
    wd: WorkDir,
    key: str,
    config: AuditConfig,
    engine: Engine,
    progress: Progress,
    index: _Index,
) -> tuple[dict[int, dict[str, Any]], int]:
    """Run the per-shard step where no valid marker exists, feeding the index as shards finish
    (in order: a shard waits for the ones before it); returns every shard's summary."""
    summaries: dict[int, dict[str, Any] | None] = {
        s.number: wd.done(s, MAP_STAGE, key) for s in shards
    }
    todo = [ShardTask(s, config, str(wd.path), key) for s in shards if summaries[s.number] is None]
    resumed = len(shards) - len(todo)
    fed = 0

    def feed() -> None:
        nonlocal fed
        while fed < len(shards) and summaries[shards[fed].number] is not None:
            index.add(shards[fed], summaries[shards[fed].number] or {})
            fed += 1

    progress("audit", resumed, len(shards))
    feed()
    for n, summary in enumerate(engine.map(run_shard, todo), 1):
        summaries[summary["shard"]] = summary
        feed()
        progress("audit", resumed + n, len(shards))
    return {k: v or {} for k, v in summaries.items()}, resumed


def _kept_ids(
    shards: list[Shard], wd: WorkDir, offsets: dict[int, int], positions: set[int]
) -> dict[int, Any]:
    """Record ids of the kept cluster members (findings name what a duplicate duplicates)."""
    ids: dict[int, Any] = {}
    starts = [offsets[s.number] for s in shards]
    wanted: dict[int, list[int]] = {}
    for pos in positions:
        wanted.setdefault(bisect.bisect_right(starts, pos) - 1, []).append(pos)
    for k, members in wanted.items():
        shard_ids = json.loads(wd.file(shards[k], ShardFile.IDS).read_text(encoding="utf-8"))
        for pos in members:
            ids[pos] = shard_ids[pos - starts[k]]
    return ids


def _write_tasks(
    shards: list[Shard],
    wd: WorkDir,
    index: _Index,
    dedup: DedupResult,
    config: AuditConfig,
    outputs: tuple[Path | None, Path | None],
) -> list[WriteTask]:
    offsets = index.offsets
    ids = _kept_ids(shards, wd, offsets, {d.of for d in dedup.decisions.values()})
    starts = [offsets[s.number] for s in shards]
    duplicates: list[dict[int, tuple[str, dict[str, Any]]]] = [{} for _ in shards]
    for pos, d in dedup.decisions.items():
        k = bisect.bisect_right(starts, pos) - 1
        duplicates[k][pos - starts[k]] = (d.code, decision_evidence(d, ids.get(d.of, d.of)))
    flagged: list[dict[int, dict[str, dict[str, Any]]]] = [{} for _ in shards]
    for pos, evidence in index.out_of_domain(config.out_of_domain_z).items():
        k = bisect.bisect_right(starts, pos) - 1
        flagged[k].setdefault(pos - starts[k], {})["out_of_domain"] = evidence
    for (k, ordinal), evidence in _off_topic(shards, wd, config).items():
        flagged[k].setdefault(ordinal, {})["off_topic"] = evidence
    shown: list[dict[int, int]] = [{} for _ in shards]
    for c, members in enumerate(dedup.clusters[:CLUSTERS_SHOWN]):
        for pos in members:
            shown[bisect.bisect_right(starts, pos) - 1][pos] = c
    return [
        WriteTask(
            s,
            str(wd.path),
            config.fields,
            starts[k],
            duplicates[k],
            shown[k],
            outputs[0] is not None,
            outputs[1] is not None,
            flagged[k],
        )
        for k, s in enumerate(shards)
    ]


def _off_topic(
    shards: list[Shard], wd: WorkDir, config: AuditConfig
) -> dict[tuple[int, int], dict[str, Any]]:
    """(shard index, ordinal) -> ``off_topic`` evidence, from the model's fit scores of every
    instruction record, the threshold calibrated on them (``_fit``)."""
    if not config.model:
        return {}
    where: list[tuple[int, int]] = []
    prompts: list[str] = []
    answers: list[str] = []
    for k, s in enumerate(shards):
        for row in json.loads(wd.file(s, ShardFile.FIT).read_text("utf-8")):
            where.append((k, row["o"]))
            prompts.append(row["p"])
            answers.append(row["a"])
    if not where:
        return {}
    scores = AnswerScorer(config.model).scores(prompts, answers)
    flagged, calibration = off_topic(scores, config.fit_z)
    return {
        where[i]: {
            "contrast": round(float(scores.contrast[i]), 4),
            "own_nll": round(float(scores.own[i]), 4),
            "others_nll": round(float(scores.others[i]), 4),
            "ifd": round(float(scores.ifd[i]), 4),
            **calibration,
            "method": "answer NLL after other instructions minus after its own",
        }
        for i in flagged.tolist()
    }


def _concatenate(shards: list[Shard], wd: WorkDir, part: ShardFile, target: Path | None) -> None:
    if target is None:
        return
    with atomic_path(target) as tmp, open(tmp, "wb") as out:
        for s in shards:
            path = wd.file(s, part)
            with open(path, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
            path.unlink()


def _check_readable(inputs: list[Path], summaries: list[dict[str, Any]], total: int) -> None:
    """A set none of whose records could be read (another tool's shape, pretty-printed JSON,
    a CSV named .jsonl) is bad input, not an audit that removes everything."""
    unread = sum(s.get("unread", 0) for s in summaries)
    if total == 0 or unread < total:
        return
    first = next((s["first_unread"] for s in summaries if s.get("first_unread")), "")
    hint = "; name its fields with --field, e.g. --field text=COLUMN" if SHAPELESS in first else ""
    raise BadInputError(
        ", ".join(map(str, inputs)), f"no record could be read; the first: {first}{hint}"
    )


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

    Returns the summary and the data the HTML report shows (written by
    ``tripwire.report.render_data_audit_html``).
    Re-running with the same outputs (or ``workdir``) skips shards already finished.
    """
    config = config or AuditConfig()
    t0 = time.perf_counter()
    files = input_files(list(inputs))
    check_outputs(files, {"--findings": findings, "--clean": clean})
    if not any(map(has_records, files)):
        raise BadInputError(
            ", ".join(map(str, inputs)), "no records: every input file is empty or blank"
        )
    shards = plan_shards(files, config.shard_bytes)
    build_checks(config)  # bad benchmark files fail here, before any work starts
    wd = WorkDir(workdir) if workdir else WorkDir.for_outputs([findings, clean])
    key = config.result_hash()
    engine = get_engine(config.engine, config.worker_count, config.ray_address)
    try:
        index = _Index(wd, config)
        summaries, resumed = _run_map(shards, wd, key, config, engine, progress, index)
        _check_readable(inputs, [summaries[s.number] for s in shards], index.total)
        tests = run_tests(shards, wd, key, config, progress) if config.run_tests else {}
        progress("dedup", 0, 1)
        rejected = index.rejected | {
            index.offsets[s.number] + o for s in shards for o, _ in failing(wd, s)
        }
        dedup = index.dedup.finish(rejected)
        progress("dedup", 1, 1)
        check_arguments = {c.code: c.arguments() for c in build_checks(config)}
        result = AuditResult(
            shards=len(shards),
            shards_resumed=resumed,
            tests=tests,
            # each check's own arguments too: the rules, allow lists and benchmark index it ran
            config={**config.to_dict(), "checks": check_arguments},
            engine=config.engine,
            clusters=len(dedup.clusters),
        )
        for summ in summaries.values():
            for name, st in summ.get("checks", {}).items():
                agg = result.checks.setdefault(name, {"hits": 0, "seconds": 0.0})
                agg["hits"] += st["hits"]
                agg["seconds"] = round(agg["seconds"] + st["seconds"], 3)
        data = _write(shards, wd, index, dedup, config, result, (findings, clean), engine, progress)
    finally:
        engine.close()
        wd.cleanup()
    result.seconds = time.perf_counter() - t0
    result.outputs = {k: str(v) for k, v in (("findings", findings), ("clean", clean)) if v}
    return result, data


def _write(
    shards: list[Shard],
    wd: WorkDir,
    index: _Index,
    dedup: DedupResult,
    config: AuditConfig,
    result: AuditResult,
    outputs: tuple[Path | None, Path | None],
    engine: Engine,
    progress: Progress,
) -> ReportData:
    tasks = _write_tasks(shards, wd, index, dedup, config, outputs)
    done: dict[int, ShardOutput] = {}
    progress("write", 0, len(shards))
    for out in engine.map(write_shard, tasks):
        done[out.number] = out
        progress("write", len(done), len(shards))
    collector = Collector({})
    for s in shards:
        result.absorb(done[s.number].result)
        collector.merge(done[s.number].collector)
    _concatenate(shards, wd, ShardFile.FINDINGS, outputs[0])
    _concatenate(shards, wd, ShardFile.CLEAN, outputs[1])
    index_items = contamination_index(config.benchmarks, config.contamination_threshold).items
    return collector.finish(
        {(i.benchmark, i.item_id, part): text for i in index_items for part, text, _ in i.parts()}
    )
