"""A run's ``results.jsonl``: one line per scored sample, appended as results arrive so an
interrupted run resumes where it stopped."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

from tripwire.artifacts import write_text_atomic
from tripwire.errors import BadInputError
from tripwire.evals._types import SampleResult

FSYNC_EVERY_S = 1.0


def _parse(line: bytes) -> SampleResult:
    """One line as a SampleResult. Fields whose type a run never writes are refused rather than
    coerced: ``str`` of a ``tampering`` string would count each of its letters as a class."""
    data = json.loads(line)
    if not isinstance(data, dict):
        raise TypeError(f"a JSON {type(data).__name__}, not an object")
    tampering = data.get("tampering")
    if tampering is not None and not (
        isinstance(tampering, list) and all(isinstance(t, str) for t in tampering)
    ):
        raise TypeError(f"'tampering' is {tampering!r}, not a list of strings")
    for key in ("metrics", "slices"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise TypeError(f"{key!r} is not an object")
    return SampleResult.from_dict(data)


class ResultsLog:
    """Append-only JSONL of SampleResults.

    Each line is written and flushed as soon as its result arrives (a killed process loses
    nothing); the file is fsynced at most once a second and on close (a power cut loses at most
    the last second). A torn last line, left by a crash mid-write, is dropped on load.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = None
        self._synced = 0.0

    def load(self, *, unique: bool = False) -> dict[tuple[str, int], SampleResult]:
        """Results already in the file, by (task_id, sample_idx). ``unique``: a sample on two
        lines is refused (a finished run has each once; the later line would silently win)."""
        if not self.path.exists():
            return {}
        data = self.path.read_bytes()
        done: dict[tuple[str, int], SampleResult] = {}
        good_end = 0
        lines = data.split(b"\n")
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                good_end += len(line) + 1
                continue
            try:
                result = _parse(line)
            except (ValueError, KeyError, TypeError, RecursionError, OverflowError) as exc:
                # the last line of a run still being written: torn by an interruption (a
                # finished run's file was rewritten whole, so nothing in it is torn)
                if not unique and lineno >= len(lines) - 1:
                    break
                where = f"{self.path}:{lineno}"
                raise BadInputError(where, f"corrupt result line ({exc})") from exc
            if unique and result.key in done:
                where = f"{self.path}:{lineno}"
                raise BadInputError(where, f"{result.task_id}#{result.sample_idx} appears twice")
            done[result.key] = result
            good_end += len(line) + 1
        if good_end < len(data):
            with open(self.path, "r+b") as f:
                f.truncate(min(good_end, len(data)))
        return done

    def append(self, result: SampleResult) -> None:
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._file.write(json.dumps(result.to_dict()) + "\n")
        self._file.flush()
        now = time.monotonic()
        if now - self._synced > FSYNC_EVERY_S:
            os.fsync(self._file.fileno())
            self._synced = now

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def rewrite(self, results: Iterable[SampleResult]) -> None:
        """Replace the file atomically (the finished run stores results in task order)."""
        self.close()
        write_text_atomic(self.path, "".join(json.dumps(r.to_dict()) + "\n" for r in results))
