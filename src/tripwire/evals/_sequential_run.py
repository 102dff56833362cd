"""Compare two models on a suite in looks, and stop as soon as every slice is decided.

Items are taken in a random order fixed by the seed, stratified by slice so that every look
holds each slice in proportion (a slice's share of the information is then the look's share of
the budget, which the spending levels assume). At each look both models score the next batch of
tasks, the comparison is judged on everything scored so far at that look's group-sequential
levels (``tripwire.stats._spending``), and a slice keeps the first verdict it reaches
(``regressed`` or ``pass``). The comparison stops when every slice is decided or the budget is
spent; a fixed-size comparison is the one-look case (its level is ``alpha``).

Each model's results go to the same run directory a full run of it would use (keyed by the
model's content and the suite), appended as they finish: a comparison interrupted mid-batch is
resumed by running it again, which re-scores nothing already there and, since the order and the
looks are fixed, reaches the same looks and the same verdict. A later full run of either model
completes the same directory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tripwire.errors import BadInputError, UserError
from tripwire.evals._backend import Backend
from tripwire.evals._compare import (
    Levels,
    Results,
    RunComparison,
    judge,
    metric_specs,
    slice_keys,
    tampering_counts,
)
from tripwire.evals._cpu_limits import CpuLimits
from tripwire.evals._results import ResultsLog
from tripwire.evals._run import RESULTS_FILE, _open_run_dir, cached_run_dir, run_identity
from tripwire.evals._self_test import ReferenceCheckFailed, check_references
from tripwire.evals._suite import Suite
from tripwire.evals._types import Sample, Task
from tripwire.progress import Progress, no_progress
from tripwire.sandbox import Limits, Sandbox
from tripwire.stats import Correction, Margin, SliceComparison, family_levels, overall_outcome
from tripwire.stats._noninferiority import Method
from tripwire.stats._spending import Spending

ROLES = ("baseline", "candidate")
DECIDED = "every slice decided"
SPENT = "budget spent"


@dataclass(frozen=True)
class SequentialPlan:
    """How a comparison looks at its data: ``looks`` equal batches of the budget (1: a fixed-size
    comparison), items in the order ``seed`` fixes, levels from the ``spending`` function."""

    looks: int = 5
    seed: int = 0
    spending: Spending = "obf"
    budget: int | None = None
    """Most tasks to score per model (None: the whole suite)."""

    def __post_init__(self) -> None:
        if self.looks < 1:
            raise BadInputError("--looks", f"must be at least 1, got {self.looks}")
        if self.budget is not None and self.budget < 2:
            raise BadInputError("--budget", f"must be at least 2 tasks, got {self.budget}")
        if self.spending not in ("obf", "pocock"):
            raise BadInputError("--spending", f"expected obf or pocock, got {self.spending!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ScoringFailed(Exception):
    """One model could not score a batch; ``role`` says which (the gate words it per model)."""

    def __init__(self, role: str, error: BaseException) -> None:
        super().__init__(f"{role}: {error}")
        self.role = role
        self.error = error


def stratified_order(tasks: Sequence[Task], seed: int) -> list[Task]:
    """Tasks in a random order where every prefix holds each stratum (a combination of slice
    values) within one item of its share: each stratum is shuffled, its i-th item placed at
    ``(i + u) / size`` for a random offset ``u``, and the strata merged by place."""
    rng = np.random.default_rng(seed)
    strata: dict[tuple[tuple[str, str], ...], list[Task]] = {}
    for t in tasks:
        strata.setdefault(tuple(sorted(t.slices.items())), []).append(t)
    placed = []
    for key in sorted(strata):
        group = strata[key]
        perm = rng.permutation(len(group))
        offset = rng.random()
        placed += [((i + offset) / len(group), rng.random(), group[j]) for i, j in enumerate(perm)]
    placed.sort(key=lambda x: (x[0], x[1]))
    return [t for _, _, t in placed]


def look_sizes(budget: int, looks: int) -> list[int]:
    """Tasks seen at each look: ``looks`` near-equal batches of the budget."""
    k = min(looks, budget)
    return sorted({math.ceil(budget * j / k) for j in range(1, k + 1)})


class _SuiteChecked(Backend):
    """A backend whose samples are checked against the whole suite: ``Suite.evaluate`` checks
    the tasks it is given, which here are one look's batch, so every sample of a later look's
    task would be refused as "not in the suite". Everything else is the backend's own."""

    def __init__(self, backend: Backend, suite_tasks: Sequence[Task]) -> None:
        self._backend, self._suite_tasks = backend, suite_tasks
        self._checked = False

    @classmethod
    def from_argument(cls, argument: str) -> Backend:
        raise NotImplementedError  # built from a backend, never from a MODEL argument

    def describe(self) -> dict[str, Any]:
        return self._backend.describe()

    def identity(self) -> dict[str, Any]:
        return self._backend.identity()

    def generate(
        self, tasks: Sequence[Task], n: int | None, progress: Progress = no_progress
    ) -> Iterator[Sample]:
        return self._backend.generate(tasks, n, progress)

    def count(self, tasks: Sequence[Task], n: int | None) -> int | None:
        return self._backend.count(tasks, n)

    def check_tasks(
        self, tasks: Sequence[Task], why_missing: Callable[[str], str | None] = lambda _: None
    ) -> None:
        # when the suite asks (a likelihood suite never does: it refuses samples its own way),
        # against all of its tasks as a full run's check is, and once: the samples do not change
        if not self._checked:
            self._backend.check_tasks(self._suite_tasks, why_missing)
            self._checked = True

    @property
    def parents(self) -> tuple[str, ...]:
        return self._backend.parents

    def __getattr__(self, name: str) -> Any:
        # what only some backends have (``scheme``, ``loglikelihood`` for likelihood suites)
        return getattr(self._backend, name)


class _ModelRun:
    """One model's results in its run directory, scored a batch at a time."""

    def __init__(
        self,
        role: str,
        suite: Suite,
        backend: Backend,
        sandbox: Sandbox | None,
        n: int | None,
        out: Path | None,
        cpu_limits: CpuLimits,
    ) -> None:
        identity = run_identity(suite, backend, n, sandbox, cpu_limits)
        self.role, self.suite, self.sandbox, self.n = role, suite, sandbox, n
        self.backend: Backend = _SuiteChecked(backend, suite.tasks())
        self.path = out if out is not None else cached_run_dir(identity)
        _open_run_dir(self.path, identity)
        self.log = ResultsLog(self.path / RESULTS_FILE)
        self.results: Results = self.log.load()

    def score(
        self, tasks: Sequence[Task], progress: Progress, limits: Mapping[str, Limits]
    ) -> None:
        try:
            done = set(self.results)
            for r in self.suite.evaluate(tasks, self.backend, self.sandbox, self.n, done, progress,
                                         limits=limits):  # fmt: skip
                self.log.append(r)
                self.results[r.key] = r
        except (UserError, ReferenceCheckFailed, KeyboardInterrupt):
            raise
        except Exception as exc:  # the gate says which model failed, and how
            raise ScoringFailed(self.role, exc) from exc
        finally:
            self.log.close()

    def of(self, task_ids: set[str]) -> Results:
        return {k: r for k, r in self.results.items() if k[0] in task_ids}


def _check_pairs(base: Results, cand: Results, models: Mapping[str, Backend]) -> None:
    if base.keys() == cand.keys():
        return
    # named by the models the user gave, not by their run directories in the cache
    where = " vs ".join(str(models[role].describe().get("label", models[role].scheme))
                        for role in ROLES)  # fmt: skip
    base_tasks, cand_tasks = {k[0] for k in base}, {k[0] for k in cand}
    if base_tasks != cand_tasks:
        lacks = [f"the {role} has no samples for {_some(sorted(others - own))}"
                 for role, own, others in (("baseline", base_tasks, cand_tasks),
                                           ("candidate", cand_tasks, base_tasks))
                 if others - own]  # fmt: skip
        raise BadInputError(where, f"the two models cover different tasks: {'; '.join(lacks)}; "
                            "compare them on the same tasks")  # fmt: skip
    only = sorted(base.keys() ^ cand.keys())[0]
    raise BadInputError(where, f"the two models' samples differ (e.g. {only[0]}#{only[1]}): "
                        "compare them with the same number of samples per task")  # fmt: skip


def _some(task_ids: list[str]) -> str:
    more = f" and {len(task_ids) - 3} more" if len(task_ids) > 3 else ""
    return ", ".join(task_ids[:3]) + more


def _label(c: SliceComparison) -> str:
    return f"{c.metric}@{c.slice}"


def compare_models(
    suite: Suite,
    backends: Mapping[str, Backend],
    sandbox: Sandbox | None = None,
    *,
    plan: SequentialPlan = SequentialPlan(looks=1),
    margins: dict[str, Margin] | None = None,
    slice_margins: dict[tuple[str, str], Margin] | None = None,
    alpha: float = 0.05,
    correction: Correction = "holm",
    method: Method = "t",
    n: int | None = None,
    out: Mapping[str, Path] | None = None,
    cpu_limits: CpuLimits = CpuLimits(),
    progress: Progress = no_progress,
) -> RunComparison:
    """Score ``baseline`` and ``candidate`` look by look and judge each look; stop when every
    slice is decided or the budget is spent (see the module docstring)."""
    specs = metric_specs(suite.name, {})
    limits: dict[str, Limits] = {}
    if sandbox is not None and suite.references():
        references = check_references(suite, sandbox, progress)
        if not references.ok:
            raise ReferenceCheckFailed(references)
        limits = cpu_limits.per_task(sandbox.limits, references.cpu_s)
    order = stratified_order(suite.tasks(), plan.seed)
    budget = min(plan.budget or len(order), len(order))
    if budget < 2:
        raise BadInputError(suite.name, f"has {budget} task(s): a comparison needs two or more")
    order = order[:budget]
    sizes = look_sizes(budget, plan.looks)
    keys = slice_keys(t.slices for t in order)
    family = len(keys) * len(specs)
    pass_levels, regress_levels = family_levels(
        [s / budget for s in sizes], alpha, family, correction, plan.spending
    )
    runs: dict[str, _ModelRun] = {}
    for role in ROLES:
        run = _ModelRun(role, suite, backends[role], sandbox, n, (out or {}).get(role), cpu_limits)
        # a byte-identical candidate has the baseline's run: score it once, not twice
        same = next((r for r in runs.values() if r.path.resolve() == run.path.resolve()), None)
        runs[role] = same or run

    decided: dict[str, SliceComparison] = {}
    looks: list[dict[str, Any]] = []
    seen = 0
    for k, size in enumerate(sizes, 1):
        batch = order[seen:size]
        for role, run in runs.items():
            if role == "candidate" and run is runs["baseline"]:
                continue
            step = _stepper(progress, f"{suite.name} {role} look {k}/{len(sizes)}")
            run.score(batch, step, limits)
        seen = size
        ids = {t.task_id for t in order[:size]}
        base, cand = runs["baseline"].of(ids), runs["candidate"].of(ids)
        _check_pairs(base, cand, backends)
        levels = Levels(float(pass_levels[k - 1]), float(regress_levels[k - 1]), family)
        judged = judge(base, cand, specs, margins=margins, slice_margins=slice_margins,
                       levels=levels, correction=correction, method=method,
                       slicing=keys)  # fmt: skip
        now = [replace(c, look=k) for c in judged.slices
               if c.status != "inconclusive" and _label(c) not in decided]  # fmt: skip
        decided.update((_label(c), c) for c in now)
        looks.append({"look": k, "items": size, "samples": judged.samples,
                      "alpha": levels.alpha, "regression_alpha": levels.regression,
                      "decided": [_label(c) for c in now]})  # fmt: skip
        if len(decided) >= family:
            break
    last = [decided.get(_label(c)) or replace(c, look=k) for c in judged.slices]
    stopped = DECIDED if len(decided) >= family else SPENT
    sequential = {
        **plan.to_dict(),
        "budget_items": budget,
        "looks_planned": len(sizes),
        "looks_done": k,
        "items_used": size,
        "stopped": stopped,
        "why": _why(stopped, k, len(sizes), size, budget, family - len(decided)),
        "undecided": [_label(c) for c in last if _label(c) not in decided],
        "looks": looks,
    }
    return RunComparison(
        outcome=overall_outcome(last),
        suite=suite.name,
        baseline=str(runs["baseline"].path),
        candidate=str(runs["candidate"].path),
        alpha=alpha,
        correction=correction,
        slices=last,
        tampering=tampering_counts(base, cand),
        items=judged.items,
        samples=judged.samples,
        sequential=sequential if plan.looks > 1 else None,
    )


def _why(stopped: str, k: int, planned: int, used: int, budget: int, undecided: int) -> str:
    if stopped == DECIDED:
        left = f", {budget - used} never scored" if used < budget else ""
        return f"every slice decided at look {k} of {planned}, after {used} of {budget} items{left}"
    return f"budget spent: {used} items over {k} looks, {undecided} slice(s) still undecided"


def _stepper(progress: Progress, label: str) -> Progress:
    def step(task: str, done: float, total: float) -> None:
        progress(f"{label} {task}", done, total)

    return step
