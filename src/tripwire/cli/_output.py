"""What every command shares: the consoles, progress bars, JSON output, and the run context."""

from __future__ import annotations

import contextlib
import json
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from tripwire.artifacts import write_json_atomic
from tripwire.progress import Progress, no_progress

if TYPE_CHECKING:
    from tripwire.artifacts import Registry

# results (tables) go to stdout; logs and CI are not terminals, so give tables room there
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)  # progress, notices and errors go to stderr


@dataclass
class Context:
    """Options given before the command group (``tripwire --registry URL ...``)."""

    registry_url: str | None = None
    debug: bool = False

    def registry(self) -> Registry:
        from tripwire.artifacts import Registry

        return Registry(self.registry_url)


def context(ctx: typer.Context) -> Context:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Context) else Context()


def command_line() -> str:
    return shlex.join(["tripwire", *sys.argv[1:]])


def emit_json(path: Path | None, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically; ``-`` means stdout."""
    if path is None:
        return
    if str(path) == "-":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        write_json_atomic(path, data)


def quiet(json_path: Path | None) -> bool:
    """JSON to stdout replaces the human output."""
    return json_path is not None and str(json_path) == "-"


@contextlib.contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Progress]:
    """A rich progress display on a terminal; silent when not a TTY or when disabled."""
    if not enabled or not err.is_terminal:
        yield no_progress
        return
    with RichProgress(
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(task: str, done: float, total: float) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(task, total=total)
            bar.update(tasks[task], completed=done, total=total)

        yield update
