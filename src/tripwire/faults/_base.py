"""The pieces every fault planter shares: the record shapes and the builder that numbers them."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

COMMENT = {"python": "#", "shell": "#", "perl": "#", "javascript": "//", "c": "//"}
FENCE = {"python": "python", "javascript": "javascript", "c": "c", "perl": "perl", "shell": "bash"}


@dataclass(frozen=True)
class PlantedRecord:
    line: str
    """The record's JSONL line, exactly as written."""
    record: dict[str, Any] | None
    """The decoded record (None for a line that is not valid JSON)."""
    fault: str | None
    """The planted fault (a reason code), None for a clean record."""
    variant: str = ""
    """How the fault was planted (``renamed``, ``deleted a bracket``...)."""
    origin: str = ""
    """Where the code came from (corpus file, stdlib function, benchmark item)."""


@dataclass
class Base:
    language: str
    code: str
    origin: str
    name: str


class Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.items: list[PlantedRecord] = []
        self.n = 0

    def next_id(self) -> str:
        self.n += 1
        return f"rec-{self.n:05d}"

    def add(
        self, record: dict[str, Any] | str, fault: str | None, variant: str = "", origin: str = ""
    ) -> PlantedRecord:
        if isinstance(record, str):
            item = PlantedRecord(record, None, fault, variant, origin)
        else:
            item = PlantedRecord(
                json.dumps(record, ensure_ascii=False), record, fault, variant, origin
            )
        self.items.append(item)
        return item

    def code_record(
        self, code: str, lang: str | None, source: str = "corpus:reference"
    ) -> dict[str, Any]:
        rec: dict[str, Any] = {"id": self.next_id(), "text": code}
        if lang:
            rec["language"] = lang
        rec["source"] = source
        return rec

    def instruction(
        self,
        b: Base,
        response_code: str,
        tag: str | None = None,
        closed: bool = True,
        tests: str | None = None,
    ) -> dict[str, Any]:
        fence = FENCE.get(b.language, b.language) if tag is None else tag
        body = response_code if response_code.endswith("\n") or not closed else response_code + "\n"
        response = f"Here is `{b.name}`:\n\n```{fence}\n{body}" + ("```\n" if closed else "")
        rec: dict[str, Any] = {
            "id": self.next_id(),
            "prompt": f"Write the {b.language} code for `{b.name}`.",
            "response": response,
            "source": "corpus:reference",
        }
        if tests is not None:
            rec["tests"] = tests
        return rec

    def chat(self, b: Base) -> dict[str, Any]:
        ins = self.instruction(b, b.code)
        return {
            "id": ins["id"],
            "messages": [
                {"role": "user", "content": ins["prompt"]},
                {"role": "assistant", "content": ins["response"]},
            ],
            "source": "corpus:reference",
        }


Take = Callable[[Callable[[Base], bool], int], list[Base]]
"""``take(predicate, n)``: up to ``n`` unused clean-pool entries that satisfy ``predicate``."""
