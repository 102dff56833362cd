"""Suites scored by log-likelihood rather than by running code: the backend must score text."""

from __future__ import annotations

import inspect
import math
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import ClassVar, Protocol, runtime_checkable

from tripwire.errors import BadInputError, UserError
from tripwire.evals._backend import Backend
from tripwire.evals._suite import Suite
from tripwire.evals._types import MetricSpec, Sample, SampleResult, Task
from tripwire.progress import Progress, no_progress
from tripwire.sandbox import Limits, Sandbox

_BLOCK = 32  # items scored between two appends to the results log


@runtime_checkable
class ScoresText(Protocol):
    """A backend that can say how likely a text is (hf, openai with echo+logprobs)."""

    def loglikelihood(
        self, texts: Sequence[str], progress: Progress = no_progress
    ) -> list[tuple[float, int]]: ...


class LikelihoodSuite(Suite):
    """Each task's prompt is a text; its score is bits per UTF-8 byte (tokenizer-independent).

    ``window`` / ``window_overlap``: a text longer than ``window`` tokens is scored in windows
    of that many, each re-reading ``window_overlap`` tokens of the one before as context (for
    backends that score locally; a server scores as it does). Both change scores, so both are
    suite options, recorded in the run's identity."""

    window: int = 2048
    window_overlap: int = 0

    metrics: ClassVar[dict[str, MetricSpec]] = {
        "bits_per_byte": MetricSpec(higher_is_better=False, binary=False, default_margin="1%")
    }
    needs_sandbox = False

    def score(self, samples, sandbox, progress=no_progress, *, use_cache=True, limits=None):  # type: ignore[no-untyped-def,override]
        raise NotImplementedError("likelihood suites score in evaluate()")

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
        if not isinstance(backend, ScoresText):
            raise BadInputError("MODEL", f"{backend.scheme}: cannot score text, which {self.name} "
                                "needs: give hf:DIR or openai:URL#MODEL")  # fmt: skip
        todo = [t for t in tasks if (t.task_id, 0) not in done]
        accepted = inspect.signature(backend.loglikelihood).parameters
        windows = (
            {"window": self.window, "overlap": self.window_overlap} if "window" in accepted else {}
        )
        for start in range(0, len(todo), _BLOCK):
            block = todo[start : start + _BLOCK]
            t0 = time.perf_counter()
            scores = _score_block(backend, block, windows)
            wall = (time.perf_counter() - t0) / max(len(block), 1)
            for task, (nats, tokens) in zip(block, scores, strict=True):
                n_bytes = len(task.prompt.encode("utf-8"))
                metrics = {
                    "bits_per_byte": nats / math.log(2) / max(n_bytes, 1),
                    "nats": nats,
                    "tokens": float(tokens),
                    "bytes": float(n_bytes),
                }
                yield SampleResult(task.task_id, 0, "scored", "", 0.0, wall, metrics,
                                   dict(task.slices))  # fmt: skip
            progress("score", min(start + _BLOCK, len(todo)), len(todo))

    def references(self) -> list[Sample]:
        return []


_TEXT_K = re.compile(r"text (\d+): ")


def _score_block(
    backend: ScoresText, block: Sequence[Task], windows: Mapping[str, int]
) -> list[tuple[float, int]]:
    """Scores of ``block``; a backend's error names a text by its place in the block, which
    means nothing to the user, so it is renamed after that text's task."""
    try:
        return backend.loglikelihood([t.prompt for t in block], **windows)
    except UserError as exc:
        found = _TEXT_K.match(exc.problem)
        if found is None or int(found[1]) >= len(block):
            raise
        task_id = block[int(found[1])].task_id
        problem = f"task {task_id}: {exc.problem[found.end() :]}"
        raise type(exc)(exc.where, problem) from exc
