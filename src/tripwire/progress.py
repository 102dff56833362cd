"""How library code reports progress without knowing who renders it (rich bar, log, nothing)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Called as work advances: ``task`` names the stage, ``done`` of ``total`` units."""

    def __call__(self, task: str, done: float, total: float) -> None: ...


def no_progress(task: str, done: float, total: float) -> None:
    """The default: report nothing."""
