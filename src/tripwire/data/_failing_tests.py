"""``failing_tests``: instruction records whose response fails its own tests in the sandbox.

Runs in the driver after the per-shard step (the sandbox is a process pool of its own, which
cannot live inside another pool's workers); each shard's results get their own completion marker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tripwire.artifacts import cache_dir
from tripwire.data._config import AuditConfig
from tripwire.data._readers import Shard
from tripwire.data._reasons import TABLE
from tripwire.data._workdir import ShardFile, WorkDir
from tripwire.progress import Progress

TESTS_STAGE = "tests"
FAILING = frozenset({"failed", "timeout"})


def _jobs(wd: WorkDir, shard: Shard) -> list[dict[str, Any]]:
    path = wd.file(shard, ShardFile.TESTS)
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run_tests(
    shards: list[Shard], wd: WorkDir, key: str, config: AuditConfig, progress: Progress
) -> dict[str, Any]:
    """Run every pending shard's tests; returns counts (and why tests were skipped, if so)."""
    pending = [s for s in shards if wd.done(s, TESTS_STAGE, key) is None]
    todo = {s.number: _jobs(wd, s) for s in pending}
    total = sum(map(len, todo.values()))
    summary: dict[str, Any] = {"run": 0, "failing": 0, "sandbox_errors": 0}
    if not total:
        for s in pending:
            wd.mark(s, TESTS_STAGE, key, {"run": 0})
        return summary
    from tripwire.sandbox import Limits, Sandbox, SandboxUnavailable

    limits = Limits(wall_s=config.test_timeout_s, cpu_s=config.test_timeout_s)
    done = 0
    try:
        with Sandbox(config.worker_count, limits, cache_dir() / "sandbox") as box:
            for shard in pending:
                jobs = todo[shard.number]
                results = box.run_many([(j["program"], j["tests"]) for j in jobs])
                with open(wd.file(shard, ShardFile.TEST_RESULTS), "w", encoding="utf-8") as f:
                    for job, r in zip(jobs, results, strict=True):
                        f.write(
                            json.dumps(
                                {
                                    "o": job["o"],
                                    "verdict": r.verdict,
                                    "message": r.message[:300],
                                    "wall_s": round(r.wall_s, 3),
                                }
                            )
                            + "\n"
                        )
                        summary["run"] += 1
                        summary["failing"] += r.verdict in FAILING
                        summary["sandbox_errors"] += r.verdict == "error"
                wd.mark(shard, TESTS_STAGE, key, {"run": len(jobs)})
                done += len(jobs)
                progress("tests", done, total)
    except SandboxUnavailable as exc:
        # the reasons only the sandbox finds were not looked for: say which
        summary["skipped"] = f"sandbox unavailable: {exc}"
        summary["unchecked_reasons"] = [r.code for r in TABLE if r.needs_sandbox]
    return summary


def failing(wd: WorkDir, shard: Shard) -> Iterator[tuple[int, dict[str, Any]]]:
    """(ordinal, evidence) for every record of ``shard`` whose tests failed or timed out."""
    path = wd.file(shard, ShardFile.TEST_RESULTS)
    if not path.exists():
        return
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["verdict"] in FAILING:
                # no timings: findings must be the same bytes on every run and engine
                yield r["o"], {"verdict": r["verdict"], "message": r["message"]}
