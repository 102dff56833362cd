"""How library code reports progress without knowing who renders it (rich bar, log, nothing)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Called as work advances: ``task`` names the stage, ``done`` of ``total`` units."""

    def __call__(self, task: str, done: float, total: float) -> None: ...


def no_progress(task: str, done: float, total: float) -> None:
    """The default: report nothing."""


class PartsProgress:
    """Shows a stage reported part by part (each part counting 0..its size, e.g. one
    ``Sandbox.iter_many`` per group of samples) as one running count, so a user sees one bar
    for the whole stage instead of one restarting per part. ``total``: the whole stage's size
    when known in advance (otherwise the parts seen so far). Call :meth:`next_part` after each
    part; other stages pass through unchanged."""

    def __init__(self, progress: Progress, task: str, total: float | None) -> None:
        self.progress, self.task, self.total = progress, task, total
        self.base = 0.0
        self.part = 0.0

    def __call__(self, task: str, done: float, total: float) -> None:
        if task != self.task:
            self.progress(task, done, total)
            return
        self.part = total
        whole = self.total if self.total is not None else self.base + total
        self.progress(task, self.base + done, max(whole, self.base + done))

    def next_part(self) -> None:
        self.base += self.part
        self.part = 0.0
