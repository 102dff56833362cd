"""Suites: what is evaluated and how a sample is scored.

``Suite`` is what a run needs from any suite. ``ExecutionSuite`` owns the loop for suites scored
by running code (turn each sample into a program and its tests, execute them in the sandbox); a
subclass implements ``tasks``, ``job`` and ``references``. Suites register once with
``@register_suite``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import ClassVar

from tripwire.errors import BadInputError
from tripwire.evals._types import Sample, SampleResult, Task
from tripwire.progress import Progress, no_progress
from tripwire.sandbox import Sandbox


class Suite(ABC):
    """A named, versioned set of tasks and a way to score samples of them."""

    name: ClassVar[str]
    """The ``--suite`` name."""

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
    ) -> Iterator[SampleResult]:
        """Score samples, yielding results as they finish (any order). ``use_cache=False``:
        compute every score afresh (the reference self-test)."""

    def references(self) -> list[Sample]:
        """Known-good samples (canonical solutions) every run checks first; may be empty."""
        return []


class ExecutionSuite(Suite):
    """A suite scored by executing each sample with its task's tests."""

    @abstractmethod
    def job(self, task_id: str, completion: str) -> tuple[str, str]:
        """The (program, tests) the sandbox runs for one completion of a task."""

    def score(
        self,
        samples: Sequence[Sample],
        sandbox: Sandbox,
        progress: Progress = no_progress,
        *,
        use_cache: bool = True,
    ) -> Iterator[SampleResult]:
        jobs = [self.job(s.task_id, s.completion) for s in samples]
        for i, r in sandbox.iter_many(jobs, progress, use_cache=use_cache):
            s = samples[i]
            yield SampleResult(s.task_id, s.sample_idx, r.verdict, r.message, r.cpu_s, r.wall_s)


SUITES: dict[str, type[Suite]] = {}


def register_suite(cls: type[Suite]) -> type[Suite]:
    SUITES[cls.name] = cls
    return cls


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        known = ", ".join(sorted(SUITES))
        raise BadInputError("--suite", f"unknown suite {name!r} (known: {known})")
    return SUITES[name]()
