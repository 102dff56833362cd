"""A run's results in lm-evaluation-harness's results JSON layout (``eval run --format lm-eval``).

Scripts that read ``lm_eval --output_path`` files (``results[task]["metric,filter"]`` with its
``"metric_stderr,filter"``, ``versions``, ``n-shot``, ``configs``, ``higher_is_better``,
``n-samples``) read ``eval run --format lm-eval`` unchanged. The suite is the task (its language
slices its subtasks, grouped under it); the filter is ``none``: tripwire scores the completion
as extracted, with no lm-eval filter pipeline. Standard errors are lm-eval's for a mean: the
sample standard deviation of the per-task values over the square root of the number of tasks.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tripwire.evals._passk import pass_at_k
from tripwire.evals._suite import suite_class

if TYPE_CHECKING:
    from tripwire.evals._run import EvalRun
    from tripwire.evals._types import SampleResult

FILTER = "none"


def _stderr(values: Sequence[float]) -> float | str:
    """lm-eval's ``mean_stderr``; ``"N/A"`` (its word) where one value has none."""
    n = len(values)
    if n < 2:
        return "N/A"
    mean = math.fsum(values) / n
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1) / n)


def _per_task(results: Sequence[SampleResult], ks: Sequence[int]) -> dict[str, list[float]]:
    """Each metric's value per task (pass@k per task for executed suites, else the mean of
    the task's samples): the units lm-eval averages and takes the standard error over."""
    by_task: dict[str, list[SampleResult]] = defaultdict(list)
    for r in results:
        by_task[r.task_id].append(r)
    values: dict[str, list[float]] = defaultdict(list)
    for samples in by_task.values():
        if all(r.verdict != "scored" for r in samples):
            n, c = len(samples), sum(r.passed for r in samples)
            for k in ks:
                if n >= k:
                    values[f"pass@{k}"].append(pass_at_k(n, c, k))
            continue
        # nats, tokens and bytes are a text's totals, not scores to average
        metrics = {m for r in samples for m in r.metrics} - {"nats", "tokens", "bytes"}
        for m in sorted(metrics):
            vs = [r.metrics[m] for r in samples if m in r.metrics]
            values[m].append(math.fsum(vs) / len(vs))
    return values


def _task_block(alias: str, values: dict[str, list[float]]) -> dict[str, Any]:
    block: dict[str, Any] = {"alias": alias}
    for metric, vs in values.items():
        if not vs:
            continue
        block[f"{metric},{FILTER}"] = math.fsum(vs) / len(vs)
        block[f"{metric}_stderr,{FILTER}"] = _stderr(vs)
    return block


def lm_eval_results(
    run: EvalRun, ks: Sequence[int], model: str, gen_kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The lm-evaluation-harness results document of ``run``."""
    suite = str(run.summary.get("suite") or run.manifest.name)
    cls = suite_class(suite)
    higher = {m: spec.higher_is_better for m, spec in (cls.metrics if cls else {}).items()}
    version = run.summary.get("suite_version", suite)
    languages = sorted({r.slices["language"] for r in run.results if "language" in r.slices})
    tasks: dict[str, tuple[str, list[SampleResult]]] = {suite: (suite, list(run.results))}
    if len(languages) > 1:  # subtasks only where there is more than one
        for lang in languages:
            subset = [r for r in run.results if r.slices.get("language") == lang]
            tasks[f"{suite}_{lang}"] = (f" - {suite}_{lang}", subset)
    results, configs, n_samples, hib = {}, {}, {}, {}
    for name, (alias, subset) in tasks.items():
        values = _per_task(subset, ks)
        results[name] = _task_block(alias, values)
        # pass@k is higher-is-better like the `pass` it is made of
        hib[name] = {m: higher.get(m, True) for m in values}
        n_samples[name] = {"original": len({r.task_id for r in subset}),
                           "effective": len({r.task_id for r in subset})}  # fmt: skip
        configs[name] = {
            "task": name,
            "output_type": "generate_until" if cls is None or cls.needs_sandbox
            else "loglikelihood_rolling",
            "num_fewshot": 0,
            "metric_list": [{"metric": m, "aggregation": "mean", "higher_is_better": hib[name][m]}
                            for m in values],
            "generation_kwargs": gen_kwargs,
            "metadata": {"version": version, "tripwire_run": str(run.path)},
        }  # fmt: skip
    subtasks = [t for t in tasks if t != suite]
    return {
        "results": results,
        "groups": {suite: results[suite]} if subtasks else {},
        "group_subtasks": {suite: subtasks, **{t: [] for t in subtasks}},
        "configs": configs,
        "versions": {t: version for t in tasks},
        "n-shot": {t: 0 for t in tasks},
        "higher_is_better": hib,
        "n-samples": n_samples,
        "config": {
            "model": model,
            "model_args": "",
            "batch_size": None,
            "limit": None,
            "bootstrap_iters": 0,
            "gen_kwargs": gen_kwargs,
        },
        "date": time.time(),
        "total_evaluation_time_seconds": str(sum(run.summary.get("seconds", {}).values())),
    }
