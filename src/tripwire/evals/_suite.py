"""Suites: what is evaluated and how a sample is scored.

``Suite`` is what a run needs from any suite. ``ExecutionSuite`` owns the loop for suites scored
by running code (turn each sample into a program and its tests, execute them in the sandbox); a
subclass implements ``tasks``, ``job`` and ``references``. Suites register once with
``@register_suite``.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar

from tripwire.errors import BadInputError
from tripwire.evals._backend import Backend
from tripwire.evals._extract import extract_code
from tripwire.evals._types import MetricSpec, Sample, SampleResult, Task
from tripwire.progress import PartsProgress, Progress, no_progress
from tripwire.sandbox import Judged, Limits, Sandbox

SCORE_GROUP = 32
"""Generated samples scored (and saved) together: at least this many, and enough to keep the
sandbox's workers busy (``Sandbox.jobs_to_fill``: more on a many-core machine or a cluster)."""


class Suite(ABC):
    """A named, versioned set of tasks and a way to score samples of them."""

    name: ClassVar[str]
    """The ``--suite`` name."""
    metrics: ClassVar[dict[str, MetricSpec]] = {
        "pass": MetricSpec(higher_is_better=True, binary=True, default_margin="0.02")
    }
    """What each result measures; ``eval compare`` compares each metric per slice."""
    needs_sandbox: ClassVar[bool] = True

    @property
    @abstractmethod
    def version(self) -> str:
        """Changes whenever scores could change (data, prompt format, scoring code)."""

    @abstractmethod
    def data_sha256(self) -> str:
        """Hash of the task data the suite was built from."""

    @abstractmethod
    def tasks(self) -> list[Task]: ...

    @abstractmethod
    def score(
        self,
        samples: Sequence[Sample],
        sandbox: Sandbox,
        progress: Progress = no_progress,
        *,
        use_cache: bool = True,
        limits: Mapping[str, Limits] | None = None,
    ) -> Iterator[SampleResult]:
        """Score samples, yielding results as they finish (any order). ``use_cache=False``:
        compute every score afresh (the reference self-test). ``limits``: sandbox limits per
        task id, for suites that execute code (others ignore it)."""

    def references(self) -> list[Sample]:
        """Known-good samples (canonical solutions) every run checks first; may be empty."""
        return []

    def options(self) -> dict[str, object]:
        """Constructor options that change what is measured (recorded in the run identity)."""
        return {}

    def why_missing(self, task_id: str) -> str | None:
        """Why a task id a user might expect here is not among :meth:`tasks` (a problem this
        suite could not translate or validate), or None."""
        return None

    def evaluate(
        self,
        tasks: Sequence[Task],
        backend: Backend,
        sandbox: Sandbox | None,
        n: int | None,
        done: set[tuple[str, int]],
        progress: Progress = no_progress,
        limits: Mapping[str, Limits] | None = None,
    ) -> Iterator[SampleResult]:
        """Results for every (task, sample) not in ``done``. Generation suites: generate for
        tasks still missing a sample, then score; likelihood suites override this."""
        backend.check_tasks(tasks, self.why_missing)
        # without n, the backend decides how many samples a task has: ask it about every task
        todo = [t for t in tasks if n is None or any((t.task_id, i) not in done for i in range(n))]
        if not todo:
            return
        by_id = {t.task_id: t for t in tasks}
        fresh = (
            s for s in backend.generate(todo, n, progress) if (s.task_id, s.sample_idx) not in done
        )
        # scored (and so saved by the run) a group at a time as generation goes: an interrupted
        # run keeps what was generated before, instead of losing an hour of generation
        size = max(SCORE_GROUP, sandbox.jobs_to_fill) if sandbox is not None else SCORE_GROUP
        # one bar over every group: the samples still to score, where the backend knows them
        expected = backend.count(todo, n)
        if expected is not None:
            ids = set(by_id) & {t.task_id for t in todo}
            expected -= sum(1 for task_id, i in done if task_id in ids and (n is None or i < n))
        shown = PartsProgress(progress, "execute", expected)
        group: list[Sample] = []
        for sample in fresh:
            group.append(sample)
            if len(group) >= size:
                yield from self._score_group(group, by_id, sandbox, shown, limits)
                shown.next_part()
                group = []
        if group:
            yield from self._score_group(group, by_id, sandbox, shown, limits)

    def _score_group(
        self,
        samples: list[Sample],
        by_id: Mapping[str, Task],
        sandbox: Sandbox | None,
        progress: Progress,
        limits: Mapping[str, Limits] | None,
    ) -> Iterator[SampleResult]:
        # a chat answer is scored on the code taken from it; the answer itself is kept
        taken: dict[str, dict[int, tuple[str, dict]]] = {s.task_id: {} for s in samples}
        scored = []
        for s in samples:
            if s.prompt_format == "chat":
                found = extract_code(s.completion, by_id[s.task_id].entry_point)
                taken[s.task_id][s.sample_idx] = (s.completion, found.to_dict())
                s = dataclasses.replace(s, completion=found.code)
            else:
                taken[s.task_id][s.sample_idx] = (s.completion, {})
            scored.append(s)
        for r in self.score(scored, sandbox, progress, limits=limits):  # type: ignore[arg-type]
            completion, extraction = taken[r.task_id][r.sample_idx]
            r = dataclasses.replace(r, completion=completion, extraction=extraction)
            yield _with_slices(r, by_id[r.task_id].slices if r.task_id in by_id else {})


def _with_slices(r: SampleResult, slices: dict[str, str]) -> SampleResult:
    if r.slices or not slices:
        return r
    return dataclasses.replace(r, slices=dict(slices))


class ExecutionSuite(Suite):
    """A suite scored by executing each sample with its task's tests."""

    @abstractmethod
    def job(self, task_id: str, completion: str) -> Judged | tuple[str, str]:
        """What the sandbox runs for one completion of a task: a ``Judged`` program, or
        (program, tests) to run in one process."""

    def score(
        self,
        samples: Sequence[Sample],
        sandbox: Sandbox,
        progress: Progress = no_progress,
        *,
        use_cache: bool = True,
        limits: Mapping[str, Limits] | None = None,
    ) -> Iterator[SampleResult]:
        own = limits or {}
        jobs = [_with_limits(self.job(s.task_id, s.completion), own.get(s.task_id))
                for s in samples]  # fmt: skip
        for i, r in sandbox.iter_many(jobs, progress, use_cache=use_cache):
            s = samples[i]
            metrics = {"pass": float(r.verdict == "passed")}
            yield SampleResult(s.task_id, s.sample_idx, r.verdict, r.message, r.cpu_s, r.wall_s,
                               metrics, tampering=r.tampering)  # fmt: skip


def _with_limits(job: Judged | tuple[str, str], limits: Limits | None):  # type: ignore[no-untyped-def]
    if isinstance(job, Judged):
        return dataclasses.replace(job, limits=limits)
    return (*job, limits)


SUITES: dict[str, type[Suite]] = {}
# The built-in suites' modules, loaded when first asked for by name.
BUILTIN_SUITES = {"humaneval": "_humaneval", "retention": "_retention",
                  "completion": "_completion", "canaries": "_canaries",
                  **dict.fromkeys(("humaneval-js", "humaneval-cpp", "humaneval-sh",
                                   "humaneval-pl"), "multilang._suite")}  # fmt: skip


def register_suite(cls: type[Suite]) -> type[Suite]:
    SUITES[cls.name] = cls
    return cls


def suite_class(name: str) -> type[Suite] | None:
    """The suite registered as ``name`` (a built-in one is loaded on first use)."""
    if name not in SUITES and name in BUILTIN_SUITES:
        importlib.import_module(f"tripwire.evals.{BUILTIN_SUITES[name]}")
    return SUITES.get(name)


def suite_options(cls: type[Suite]) -> Mapping[str, inspect.Parameter]:
    """The options a suite takes: its constructor's parameters, by name."""
    return inspect.signature(cls).parameters


def get_suite(name: str, **options: object) -> Suite:
    """The suite called ``name``, built with the options it takes (others are ignored)."""
    cls = suite_class(name)
    if cls is None:
        known = ", ".join(sorted({*SUITES, *BUILTIN_SUITES}))
        raise BadInputError("--suite", f"unknown suite {name!r} (known: {known})")
    accepted = suite_options(cls)
    given = {k: v for k, v in options.items() if v is not None and k in accepted}
    return cls(**given)
