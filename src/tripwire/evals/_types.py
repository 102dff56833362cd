"""The shapes an evaluation passes around: tasks, samples, per-sample results."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Task:
    """One item of a suite, as a generation backend sees it."""

    task_id: str
    prompt: str
    """What the model continues."""
    stop: tuple[str, ...] = ()
    """Strings at which a generation backend should stop (the suite's convention)."""


@dataclass(frozen=True)
class Sample:
    """One completion of one task."""

    task_id: str
    sample_idx: int
    """0-based position among the task's samples (the order the backend produced them)."""
    completion: str


@dataclass(frozen=True)
class SampleResult:
    """How one sample scored: one line of a run's ``results.jsonl``."""

    task_id: str
    sample_idx: int
    verdict: str
    """``passed``, ``failed``, ``timeout`` or ``error`` (see ``tripwire.sandbox.ExecResult``)."""
    message: str
    cpu_s: float
    wall_s: float

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    @property
    def key(self) -> tuple[str, int]:
        return (self.task_id, self.sample_idx)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SampleResult:
        return cls(
            task_id=str(data["task_id"]),
            sample_idx=int(data["sample_idx"]),
            verdict=str(data["verdict"]),
            message=str(data.get("message", "")),
            cpu_s=float(data.get("cpu_s", 0.0)),
            wall_s=float(data.get("wall_s", 0.0)),
        )
