"""``completion``: prompt with a held-out function's signature and first lines, greedy-complete
the next line; score exact match of that line and syntax validity of the function so far.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from tripwire.artifacts import sha256_json
from tripwire.errors import BadInputError
from tripwire.evals._completion_items import (
    FUNCTION_START,
    CompletionItem,
    completion_items,
    exact_match,
    prefix_valid,
)
from tripwire.evals._suite import Suite, register_suite
from tripwire.evals._textitems import source_files
from tripwire.evals._types import MetricSpec, Sample, SampleResult, Task
from tripwire.progress import Progress, no_progress
from tripwire.sandbox import Limits, Sandbox

VERSION = "completion-1"
_NEW_TOKENS = 32


@register_suite
class Completion(Suite):
    name = "completion"
    metrics: ClassVar[dict[str, MetricSpec]] = {
        "exact_match": MetricSpec(higher_is_better=True, binary=True, default_margin="0.02"),
        "syntax_valid": MetricSpec(higher_is_better=True, binary=True, default_margin="0.02"),
    }
    needs_sandbox = False

    def __init__(self, corpus: str | Path | None = None, max_per_language: int = 100) -> None:
        if corpus is None:
            raise BadInputError(
                "--corpus", "completion needs a corpus: a reference model directory or a folder"
            )
        self.corpus = Path(corpus)
        if max_per_language < 1:
            raise BadInputError("--max-per-language", f"must be at least 1, got {max_per_language}")
        self.max_per_language = max_per_language
        self.items: dict[str, CompletionItem] = {}
        for lang, files in sorted(source_files(self.corpus).items()):
            found = [i for path, text in files for i in completion_items(lang, path, text)]
            step = max(1, len(found) // max_per_language)
            self.items.update((i.item_id, i) for i in found[::step][:max_per_language])
        if not self.items:
            raise BadInputError(self.corpus, "no function to complete: completion needs "
                                f"{', '.join(FUNCTION_START)} functions at least three lines "
                                "long")  # fmt: skip

    @property
    def version(self) -> str:
        return VERSION

    def options(self) -> dict[str, Any]:
        return {"max_per_language": self.max_per_language}

    def data_sha256(self) -> str:
        return sha256_json([[i.item_id, i.prompt, i.target] for i in self.items.values()])

    def tasks(self) -> list[Task]:
        return [
            Task(
                i.item_id,
                i.prompt,
                ("\n\n\n",),
                {"language": i.language, "task": "completion"},
                max_new_tokens=_NEW_TOKENS,
            )
            for i in self.items.values()
        ]

    def score(
        self,
        samples: Sequence[Sample],
        sandbox: Sandbox | None,
        progress: Progress = no_progress,
        *,
        use_cache: bool = True,
        limits: Mapping[str, Limits] | None = None,
    ) -> Iterator[SampleResult]:
        for done, s in enumerate(samples, 1):
            t0 = time.perf_counter()
            item = self.items[s.task_id]
            metrics = {"exact_match": float(exact_match(s.completion, item.target))}
            valid = prefix_valid(item.function_prefix + s.completion, item.language)
            if valid is not None:
                metrics["syntax_valid"] = float(valid)
            verdict = "passed" if metrics["exact_match"] else "failed"
            yield SampleResult(s.task_id, s.sample_idx, verdict, "", 0.0,
                               time.perf_counter() - t0, metrics)  # fmt: skip
            progress("score", done, len(samples))
