"""The labelled report sets shipped with tripwire (written by ``tripwire.triage.data.compose``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data"
CATEGORIES: tuple[str, ...] = (
    "compilation_error",
    "runtime_error",
    "logic_error",
    "incomplete_code",
    "incorrect_api_usage",
    "instructions_not_followed",
    "performance_regression",
    "other",
)
NEEDS_REVIEW = "needs_review"


@dataclass(frozen=True)
class Report:
    text: str
    category: str
    lang: str
    split: str
    """``train`` or ``heldout`` in set A; ``eval`` for every report of set B."""


def load(name: str = "reports") -> list[Report]:
    """``reports`` (set A, both splits) or ``reports_b`` (set B, evaluation only)."""
    rows = []
    for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows.append(Report(r["text"], r["category"], r["lang"], r.get("split", "eval")))
    return rows


def training_set() -> list[Report]:
    return [r for r in load("reports") if r.split == "train"]
