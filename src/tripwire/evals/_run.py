"""A run: check the suite's references on this machine, score every sample (resuming a run
interrupted before), summarize with pass@k, and record the run as an ``eval_run`` artifact.

A run directory holds ``run.json`` (what the run is: suite, data hash, model identity, n,
limits), ``results.jsonl`` (one line per sample), ``summary.json`` and the ``tripwire.json``
manifest.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tripwire.artifacts import (
    MANIFEST_NAME,
    ArtifactKind,
    Manifest,
    cache_dir,
    data_dir,
    sha256_file,
    sha256_json,
    write_json_atomic,
)
from tripwire.errors import BadInputError
from tripwire.evals._backend import LOCATION_KEYS, Backend, without_location
from tripwire.evals._cpu_limits import CpuLimits
from tripwire.evals._passk import mean_pass_at_k
from tripwire.evals._results import ResultsLog
from tripwire.evals._self_test import ReferenceCheck, ReferenceCheckFailed, check_references
from tripwire.evals._suite import Suite
from tripwire.evals._types import SampleResult, Task
from tripwire.progress import Progress, no_progress
from tripwire.sandbox import EXEC_STATUSES, Limits, Sandbox
from tripwire.sandbox._pool import interpreter_id

if TYPE_CHECKING:
    from tripwire.artifacts import Registry

RUN_FILE, RESULTS_FILE, SUMMARY_FILE = "run.json", "results.jsonl", "summary.json"


@dataclass(frozen=True)
class EvalRun:
    """A finished run."""

    path: Path
    manifest: Manifest
    summary: dict[str, Any]
    results: list[SampleResult] = field(repr=False)
    references: ReferenceCheck
    resumed: int
    """How many results were already in the run directory (from an interrupted run)."""


def run_identity(
    suite: Suite,
    backend: Backend,
    n: int | None,
    sandbox: Sandbox | None,
    cpu_limits: CpuLimits = CpuLimits(),
) -> dict[str, Any]:
    """What must match for an existing run directory to be resumed: the model's content id and
    settings, the suite's data and options, never where the model lives."""
    return {
        "suite": suite.name,
        "suite_version": suite.version,
        "suite_options": suite.options(),
        "data_sha256": suite.data_sha256(),
        "model": backend.identity(),
        "n": n,
        "limits": sandbox.limits.to_dict() if sandbox is not None else None,
        "cpu_limits": cpu_limits.describe() if sandbox is not None else None,
    }


def default_run_dir(identity: dict[str, Any]) -> Path:
    """Where a run goes without ``--out``: the same command resumes the same directory."""
    return data_dir() / "eval_runs" / f"{identity['suite']}-{sha256_json(identity)[:12]}"


def _open_run_dir(out: Path, identity: dict[str, Any]) -> None:
    run_file = out / RUN_FILE
    if run_file.is_file():
        try:
            stored = json.loads(run_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, RecursionError) as exc:
            raise BadInputError(run_file, f"unreadable run description ({exc})") from exc
        if not isinstance(stored, dict):
            raise BadInputError(run_file, "unreadable run description (not a JSON object)")
        recorded = _comparable(stored.get("identity"))
        if recorded != identity:
            diff = sorted(k for k in identity if recorded.get(k) != identity[k])
            raise BadInputError(
                out, f"holds a different run (differs in {', '.join(diff)}); choose another --out"
            )
        return
    if out.exists() and not out.is_dir():
        raise BadInputError(out, "is a file, not a run directory; choose another --out")
    try:
        if out.exists() and any(out.iterdir()):
            raise BadInputError(out, "exists, is not empty, and is not an eval run directory")
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(run_file, {"identity": identity})
    except OSError as exc:
        raise BadInputError(out, f"cannot write the run here ({exc.strerror or exc})") from exc


def finished_manifest(path: Path) -> Manifest:
    """The manifest a finished run wrote last, with its ``run.json`` and ``results.jsonl``
    still as it recorded them: an interrupted run, or one whose results were edited or swapped
    in after it finished, is not the measurement it claims to be."""
    if not (path / MANIFEST_NAME).is_file():
        raise BadInputError(path, f"an unfinished eval run (no {MANIFEST_NAME}: interrupted or "
                            "still running); run the same `tripwire eval run` again to finish "
                            "it")  # fmt: skip
    manifest = Manifest.read(path)
    if manifest.kind != ArtifactKind.EVAL_RUN:
        raise BadInputError(path / MANIFEST_NAME, f"describes a {manifest.kind}, not an eval run")
    recorded = {f.path: f.sha256 for f in manifest.files}
    for name in (RUN_FILE, RESULTS_FILE):
        if recorded.get(name) != sha256_file(path / name):
            raise BadInputError(path / name, f"changed after the run finished (its sha256 is not "
                                f"the one {MANIFEST_NAME} recorded); delete the run directory "
                                "and run the eval again")  # fmt: skip
    return manifest


def _comparable(identity: object) -> dict[str, Any]:
    """A stored identity as this version writes it: runs recorded before identities left out
    the model's location still resume (or are reused) from a copy of the model."""
    if not isinstance(identity, dict):
        return {}
    model = identity.get("model")
    return {**identity, "model": without_location(model)} if isinstance(model, dict) else identity


def metric_means(results: Sequence[SampleResult]) -> dict[str, dict[str, float]]:
    """Mean of every metric overall and per slice: ``{"all": {...}, "language=python": {...}}``."""
    sums: dict[str, dict[str, list[float]]] = {}
    for r in results:
        for key in ("all", *(f"{k}={v}" for k, v in sorted(r.slices.items()))):
            for m, v in r.metrics.items():
                sums.setdefault(key, {}).setdefault(m, []).append(v)
    return {k: {m: sum(v) / len(v) for m, v in ms.items()} for k, ms in sums.items()}


def summarize(
    results: Sequence[SampleResult], tasks: Sequence[Task], ks: Sequence[int]
) -> dict[str, Any]:
    per_task: dict[str, list[int]] = {}
    for r in results:
        n_c = per_task.setdefault(r.task_id, [0, 0])
        n_c[0] += 1
        n_c[1] += r.passed
    counts = [(n, c) for n, c in per_task.values()]
    verdicts = Counter(r.verdict for r in results)
    pass_at_k, missing = {}, {}
    for k in ks:
        value = mean_pass_at_k(counts, k)
        if value is None:
            short = min(per_task.items(), key=lambda kv: kv[1][0], default=("-", [0, 0]))
            missing[f"pass@{k}"] = f"{short[0]} has {short[1][0]} samples (< {k})"
        else:
            pass_at_k[f"pass@{k}"] = value
    scored = any(r.verdict == "scored" for r in results)
    statuses = (*EXEC_STATUSES, *(["scored"] if scored else []))
    tampering = Counter(t for r in results for t in r.tampering)
    return {
        "tasks_total": len(tasks),
        "tasks_attempted": len(per_task),
        "samples": len(results),
        "verdicts": {v: verdicts.get(v, 0) for v in statuses},
        "pass_at_k": {} if scored else pass_at_k,
        "pass_at_k_unavailable": {} if scored else missing,
        "metrics": metric_means(results),
        "tampered_samples": sum(1 for r in results if r.tampering),
        "tampering": dict(sorted(tampering.items())),
    }


def run_eval(
    suite: Suite,
    backend: Backend,
    sandbox: Sandbox | None,
    *,
    out: str | Path | None = None,
    n: int | None = None,
    ks: Sequence[int] = (1, 10),
    progress: Progress = no_progress,
    registry: Registry | None = None,
    command: str = "",
    cpu_limits: CpuLimits = CpuLimits(),
    reuse_self_test: bool = True,
) -> EvalRun:
    """Check references (raises ReferenceCheckFailed), then score and record the model.
    ``reuse_self_test``: a self-test that passed on this machine today may stand for this one
    (see ``_self_test``).

    ``cpu_limits``: each task's CPU limit is calibrated from its reference's CPU time here
    (``auto``, see ``_cpu_limits``) or, when fixed, is the sandbox's own (``CpuLimits.base``
    makes the sandbox's limits from a fixed number)."""
    task_limits: dict[str, Limits] = {}
    t0 = time.perf_counter()
    if sandbox is not None and suite.references():
        references = check_references(suite, sandbox, progress, reuse=reuse_self_test)
        if not references.ok:
            raise ReferenceCheckFailed(references)
        task_limits = cpu_limits.per_task(sandbox.limits, references.cpu_s)
    else:
        references = ReferenceCheck(0, ())
    self_test_s = time.perf_counter() - t0
    tasks = suite.tasks()
    identity = run_identity(suite, backend, n, sandbox, cpu_limits)
    out = Path(out) if out is not None else default_run_dir(identity)
    fresh = not out.exists()
    # an empty --out given by the user: the run.json written into it is this invocation's
    # to take back, or the next, correct run would find "a different run" there
    started = not (out / RUN_FILE).exists()
    _open_run_dir(out, identity)

    log = ResultsLog(out / RESULTS_FILE)
    task_ids = {t.task_id for t in tasks}
    done = {k: r for k, r in log.load().items() if k[0] in task_ids}
    resumed = len(done)
    t0 = time.perf_counter()
    try:
        for result in suite.evaluate(
            tasks, backend, sandbox, n, set(done), progress, limits=task_limits
        ):
            log.append(result)
            done[result.key] = result
        if not done:
            raise BadInputError("MODEL", "the backend produced no samples")
    except BaseException:
        log.close()
        if fresh and not done:  # nothing to resume: leave no run directory behind
            shutil.rmtree(out, ignore_errors=True)
        elif started and not done:  # the folder was there: take back only what we wrote
            for name in (RUN_FILE, RESULTS_FILE):
                (out / name).unlink(missing_ok=True)
        raise
    finally:
        log.close()
    evaluate_s = time.perf_counter() - t0

    order = {t.task_id: i for i, t in enumerate(tasks)}
    results = sorted(done.values(), key=lambda r: (order[r.task_id], r.sample_idx))
    log.rewrite(results)
    summary = {
        "suite": suite.name,
        "suite_version": suite.version,
        **summarize(results, tasks, ks),
        "references": references.to_dict(),
        "cpu_limits": _cpu_limits_summary(cpu_limits, task_limits, sandbox),
        # where this run's time went (a resumed run's evaluate covers only what was left)
        "seconds": {"self_test": round(self_test_s, 3), "evaluate": round(evaluate_s, 3)},
        # where the programs ran (a resumed run: where its last part ran)
        "engine": {"name": sandbox.engine, "workers": sandbox.workers}
        if sandbox is not None
        else None,
    }
    write_json_atomic(out / SUMMARY_FILE, summary)
    model = backend.describe()
    manifest = Manifest.build(
        out,
        ArtifactKind.EVAL_RUN,
        name=f"{suite.name}:{model.get('label', backend.scheme)}",
        parents=list(backend.parents),
        command=command,
        notes={
            **identity,
            # where the model that wrote (or last reused) the run lives, for people to read
            "model_location": {k: model[k] for k in LOCATION_KEYS if k in model},
            "samples_sha256": model["id"],
            "interpreter": interpreter_id(),
            "isolation": sandbox.isolation.to_dict() if sandbox is not None else None,
            "workers": sandbox.workers if sandbox is not None else None,
            "engine": sandbox.engine if sandbox is not None else None,
            "pass_at_k": summary["pass_at_k"],
            "verdicts": summary["verdicts"],
            "references": {
                "total": references.total,
                "passed": references.total - len(references.failures),
            },
        },
    )
    manifest.write(out)
    if registry is not None:
        registry.register(manifest, out)
    return EvalRun(out, manifest, summary, results, references, resumed)


def _cpu_limits_summary(
    policy: CpuLimits, task_limits: dict[str, Limits], sandbox: Sandbox | None
) -> dict[str, Any] | None:
    """The policy and how many tasks got each CPU limit (seconds -> tasks)."""
    if sandbox is None:
        return None
    counts = Counter(lim.cpu_s for lim in task_limits.values())
    return {
        **policy.describe(),
        "tasks_by_cpu_s": {f"{s:g}": counts[s] for s in sorted(counts)},
        "default_cpu_s": sandbox.limits.cpu_s,
    }


def cached_run_dir(identity: dict[str, Any]) -> Path:
    """Where a run is kept in the cache: keyed by the model's content id, the suite's data and
    every setting, so a model is scored once however many comparisons it takes part in."""
    return cache_dir() / "eval_runs" / f"{identity['suite']}-{sha256_json(identity)[:16]}"


def cached_eval(
    suite: Suite,
    backend: Backend,
    sandbox: Sandbox | None = None,
    *,
    n: int | None = None,
    progress: Progress = no_progress,
) -> EvalRun:
    """``run_eval`` into :func:`cached_run_dir` (a finished run is read back, not re-scored)."""
    out = cached_run_dir(run_identity(suite, backend, n, sandbox))
    return run_eval(suite, backend, sandbox, out=out, n=n, progress=progress)
