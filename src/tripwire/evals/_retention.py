"""``retention``: per-language held-out log-likelihood in bits per byte.

Items are fixed-size chunks of held-out code with stable ids, so two models are compared item by
item. Cheap enough to run after every fine-tune: it forwards text once, generating nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tripwire.errors import BadInputError
from tripwire.evals._likelihood import LikelihoodSuite
from tripwire.evals._suite import register_suite
from tripwire.evals._textitems import items_sha256, text_items
from tripwire.evals._types import Task

VERSION = "retention-1"


@register_suite
class Retention(LikelihoodSuite):
    name = "retention"

    def __init__(
        self,
        corpus: str | Path | None = None,
        chunk_chars: int = 1024,
        max_per_language: int = 200,
        window: int = 2048,
        window_overlap: int = 0,
    ) -> None:
        if corpus is None:
            raise BadInputError(
                "--corpus",
                "retention needs a corpus: a reference model directory or a folder of code",
            )
        self.corpus = Path(corpus)
        if max_per_language < 1:
            raise BadInputError("--max-per-language", f"must be at least 1, got {max_per_language}")
        self.chunk_chars = chunk_chars
        if window < 2:
            raise BadInputError("--window", f"must be at least 2 tokens, got {window}")
        if not 0 <= window_overlap < window:
            raise BadInputError("--window-overlap", f"must be from 0 to less than --window "
                                f"({window}), got {window_overlap}")  # fmt: skip
        self.window, self.window_overlap = window, window_overlap
        self.max_per_language = max_per_language
        self.items = text_items(self.corpus, chunk_chars, max_per_language)

    @property
    def version(self) -> str:
        return VERSION

    def options(self) -> dict[str, Any]:
        return {"chunk_chars": self.chunk_chars, "max_per_language": self.max_per_language,
                "window": self.window, "window_overlap": self.window_overlap}  # fmt: skip

    def data_sha256(self) -> str:
        return items_sha256(self.items)

    def tasks(self) -> list[Task]:
        return [
            Task(i.item_id, i.text, slices={"language": i.language, "task": "retention"})
            for i in self.items
        ]
