"""The shape every demo stage takes and returns, so the CLI can run and print them alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tripwire.progress import Progress, no_progress

if TYPE_CHECKING:
    from tripwire.artifacts import Registry


@dataclass(frozen=True)
class StageContext:
    """What a stage is given: the reference model and a work directory of its own."""

    reference: Path
    """The reference model directory (a checkpoint with its corpus)."""
    workdir: Path
    """A directory the stage may write into (kept between runs, so stages can cache)."""
    progress: Progress = no_progress
    registry: Registry | None = None
    """Where the demo records every model version it makes (its own database by default)."""


@dataclass(frozen=True)
class StageResult:
    """What a stage proved, for the terminal and for JSON."""

    name: str
    """Stable snake_case id (``tokens``, ``data``, ``forgetting``, ...)."""
    title: str
    ok: bool
    """True when the stage showed what it must: the bug caught and the fix verified."""
    lines: list[str] = field(default_factory=list)
    """Human summary, one finding per line."""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    """A table to print (may be empty)."""
    data: dict[str, Any] = field(default_factory=dict)
    """Machine-readable results."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "ok": self.ok,
            "lines": self.lines,
            "table": {"columns": self.columns, "rows": self.rows},
            "data": self.data,
        }
