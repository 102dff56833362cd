"""Validation without hand-written solutions: for every translated problem, the oracle (a table
from the tests' inputs to their expected outputs) must pass its tests, and the negative control
(the same table with the first output perturbed, run with tests that pass only when they catch
a wrong answer) must pass too. A translation that fails either is excluded, with the reason.

The same two programs per problem are the suite's references, so the self-test every run
performs (``tripwire.evals._self_test``) checks both again, on the run's own sandbox and
limits, and calibrates each task's CPU limit from them.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tripwire.errors import BadInputError
from tripwire.evals._types import Sample
from tripwire.evals.multilang._language import Language
from tripwire.evals.multilang._program import program
from tripwire.evals.multilang._translate import Translated
from tripwire.progress import Progress, no_progress
from tripwire.sandbox import Limits, Sandbox

CONTROL = "#perturbed"
"""Suffix of a negative control's task id (a pseudo-task: only references have one)."""
# node's V8 reserves about 1 GiB of address space before it runs a line
LIMITS = Limits(wall_s=20.0, cpu_s=10.0, memory_bytes=2 * 1024**3)
"""Limits of the validation sandbox when the suite starts its own."""


def control_id(task_id: str) -> str:
    return task_id + CONTROL


def task_of(task_id: str) -> tuple[str, bool]:
    """(the problem's task id, whether ``task_id`` is its negative control)."""
    if task_id.endswith(CONTROL):
        return task_id[: -len(CONTROL)], True
    return task_id, False


def reference_samples(problems: Iterable[Translated]) -> list[Sample]:
    """Per problem: its oracle, and its negative control (the perturbed oracle)."""
    out = []
    for item in problems:
        out += [Sample(item.task_id, 0, item.oracle),
                Sample(control_id(item.task_id), 0, item.perturbed)]  # fmt: skip
    return out


@dataclass(frozen=True)
class Validation:
    validated: tuple[str, ...]
    excluded: dict[str, str] = field(default_factory=dict)
    """Task id -> why its translation was excluded."""
    wall_s: float = 0.0
    """Seconds the oracles took (when they ran, not when this was read back)."""
    checked_at: float = 0.0
    reused: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"validated": list(self.validated), "excluded": self.excluded,
                "wall_s": self.wall_s, "checked_at": self.checked_at}  # fmt: skip


def validate(
    language: Language,
    problems: Mapping[str, Translated],
    sandbox: Sandbox,
    progress: Progress = no_progress,
) -> Validation:
    """Run every problem's oracle and negative control (never from the result cache)."""
    jobs = []
    for item in problems.values():
        jobs += [program(language, item, item.oracle).executable,
                 program(language, item, item.perturbed, control=True).executable]  # fmt: skip
    started = time.perf_counter()
    results = sandbox.run_many(jobs, progress, use_cache=False)
    wall = time.perf_counter() - started
    broken = [r for r in results if r.verdict == "error"]
    if broken:
        raise BadInputError("sandbox", f"could not run the validation oracles: {broken[0].message}")
    validated, excluded = [], {}
    for i, task_id in enumerate(problems):
        oracle, control = results[2 * i], results[2 * i + 1]
        if not oracle.passed:
            excluded[task_id] = f"the oracle failed its tests: {oracle.verdict}: {oracle.message}"
        elif not control.passed:
            excluded[task_id] = f"the perturbed oracle was not caught: {control.message}"
        else:
            validated.append(task_id)
    if problems and len(excluded) * 2 > len(problems):
        first = next(iter(excluded.items()))
        raise BadInputError(
            language.tools[0],
            f"{len(excluded)} of {len(problems)} {language.name} translations failed validation "
            f"in the sandbox: is the toolchain usable here? (first: {first[0]}: {first[1]})",
        )
    return Validation(tuple(validated), excluded, round(wall, 3), time.time())


def cache_key(parts: dict[str, Any]) -> dict[str, Any]:
    """What a stored validation depends on, beyond the suite's own identity: the harness and
    this machine (the toolchain's version is in the suite's version)."""
    from tripwire.sandbox._pool import interpreter_id

    return {**parts, "harness": interpreter_id(), "host": platform.node()}


def load(path: Path) -> Validation | None:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        excluded = {str(k): str(v) for k, v in data["excluded"].items()}
        validated = tuple(map(str, data["validated"]))
        return Validation(validated, excluded, float(data["wall_s"]), float(data["checked_at"]),
                          reused=True)  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
