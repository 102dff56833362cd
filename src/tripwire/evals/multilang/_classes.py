"""Why a sample failed, measured: the failure classes the seed's triage named, each a binary
metric next to ``pass`` so ``eval compare`` tests each one per slice (a candidate whose
compile errors rise is a regression even where its pass rate holds)."""

from __future__ import annotations

from tripwire.evals._types import MetricSpec
from tripwire.sandbox import ExecResult

CLASSES = ("compile_error", "runtime_error", "wrong_answer", "timeout", "incomplete")
"""``compile_error``: the compiler (or syntax check) rejected the program; ``incomplete``:
the same, for a completion that ended inside an open construct (cut before its function
closed); ``wrong_answer``: a test got a wrong value; ``runtime_error``: a crash, an uncaught
exception, an exit before the tests finished; ``timeout``: the wall or CPU limit."""

METRICS: dict[str, MetricSpec] = {
    "pass": MetricSpec(higher_is_better=True, binary=True, default_margin="0.02"),
    **{c: MetricSpec(higher_is_better=False, binary=True, default_margin="0.02") for c in CLASSES},
}


def failure_class(result: ExecResult, open_at_end: str | None) -> str | None:
    """The class of a failed run (None for a pass, and for a sandbox error: not the model's)."""
    if result.verdict == "passed" or result.verdict == "error":
        return None
    if result.verdict == "timeout":
        return "timeout"
    if result.message.startswith("compile error"):
        return "incomplete" if open_at_end else "compile_error"
    if result.message.startswith("wrong answer"):
        return "wrong_answer"
    return "runtime_error"


def metrics(result: ExecResult, open_at_end: str | None) -> tuple[dict[str, float], str]:
    """The sample's metrics, and its message with the class in front."""
    cls = failure_class(result, open_at_end)
    values = {"pass": float(result.verdict == "passed"), **{c: float(c == cls) for c in CLASSES}}
    message = result.message
    if cls == "incomplete":
        message = f"incomplete output: the completion ends inside {open_at_end} ({message})"
    elif cls is not None and not message.startswith(cls.replace("_", " ")):
        message = f"{cls.replace('_', ' ')}: {message}"
    return values, message
