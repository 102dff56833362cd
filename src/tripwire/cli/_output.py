"""What every command shares: the consoles, progress bars, JSON output, and the run context."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

from tripwire.artifacts import cannot_write, write_json_atomic
from tripwire.errors import BadInputError
from tripwire.progress import Progress, no_progress
from tripwire.schemas import ENVELOPE

if TYPE_CHECKING:
    from tripwire.artifacts import Registry

# results (tables) go to stdout; logs and CI are not terminals, so give tables room there
out = Console(width=None if sys.stdout.isatty() else 140)
# progress, notices and errors go to stderr; in logs a line is not cut at 80 columns
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


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


SCHEMA_VERSION = 1
"""Of every ``--json`` document: bumped when a key changes meaning or goes away (new keys may
appear without it)."""


def emit_json(path: Path | None, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically; ``-`` means stdout. Every document says which
    schema, tripwire and command made it, and when."""
    if path is None:
        return
    from tripwire import __version__

    clash = [k for k in ENVELOPE if k in data]
    if clash:  # the envelope is the document's own: a payload must not overwrite it
        raise RuntimeError(f"--json payload uses envelope keys {clash}")
    data = {
        "schema_version": SCHEMA_VERSION,
        "tripwire_version": __version__,
        "command": command_line(),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **data,
    }
    if os.environ.get("TRIPWIRE_VALIDATE_JSON"):
        _validate(data)
    if str(path) == "-":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    try:
        write_json_atomic(path, data)
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise BadInputError(path, f"cannot write the --json document ({why})") from exc


def check_output(option: str, path: Path | None, *, folder: bool = False) -> None:
    """Refuse, before any long work, an output that cannot be made (None and ``-`` are not
    written): a file output that is a folder, or one in a place the system will not let us
    write; ``folder``: the output is a folder (a run or checkpoint directory)."""
    if path is None or str(path) == "-":
        return
    if not folder and path.is_dir():
        raise BadInputError(option, f"{path} is a folder; give the path of a file")
    problem = cannot_write(path)
    if problem is not None:
        raise BadInputError(option, f"{path}: {problem}")


def _validate(data: dict[str, Any]) -> None:
    """Check the document against the schema of the command running (see tripwire.schemas)."""
    try:  # typer 0.2x carries its own copy of click, with its own context stack
        from typer._click.globals import get_current_context
    except ImportError:
        from click import get_current_context
    from tripwire.schemas import schema_name, validate

    validate(schema_name(get_current_context().command_path), data)


def quiet(json_path: Path | None) -> bool:
    """JSON to stdout replaces the human output: ``-``, or a path that is this process's
    standard output (``/dev/stdout``, ``/dev/fd/1``), where the two would be interleaved."""
    if json_path is None:
        return False
    if str(json_path) == "-":
        return True
    try:
        ours, theirs = os.fstat(sys.stdout.fileno()), os.stat(json_path)
    except (OSError, ValueError, AttributeError):  # no such path, or stdout is not a file
        return False
    return (ours.st_dev, ours.st_ino) == (theirs.st_dev, theirs.st_ino)


@contextlib.contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Progress]:
    """Progress of long work on stderr: a rich display with rate and ETA on a terminal; where
    stderr is not one (CI, nohup, a pipe), one line per stage every ``$TRIPWIRE_PROGRESS_EVERY``
    seconds (30 by default) and when it finishes. Nothing when disabled (JSON on stdout)."""
    if not enabled:
        yield no_progress
        return
    if not err.is_terminal:
        yield LineProgress(err, float(os.environ.get("TRIPWIRE_PROGRESS_EVERY", "30")))
        return
    with RichProgress(
        TextColumn("[bold]{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def update(task: str, done: float, total: float) -> None:
            if task not in tasks:
                tasks[task] = bar.add_task(task, total=total)
            bar.update(tasks[task], completed=done, total=total)

        yield update


class LineProgress:
    """Progress as log lines: ``stage done/total (pct), rate/s, elapsed, eta``."""

    def __init__(self, console: Console, every_s: float) -> None:
        self.console, self.every_s = console, max(every_s, 0.0)
        self.started: dict[str, float] = {}
        self.said: dict[str, float] = {}

    def __call__(self, task: str, done: float, total: float) -> None:
        now = time.monotonic()
        start = self.started.setdefault(task, now)
        finished = total > 0 and done >= total
        if not finished and now - self.said.get(task, start) < self.every_s:
            return
        if finished and self.said.get(task) == -1.0:
            return  # said already
        self.said[task] = -1.0 if finished else now
        elapsed = now - start
        rate = done / elapsed if elapsed > 0 else 0.0
        share = f" ({done / total:.0%})" if total else ""
        eta = ""
        if not finished and rate > 0 and total:
            eta = f", eta {_clock((total - done) / rate)}"
        self.console.print(
            f"[progress] {task} {done:g}/{total:g}{share}, {rate:.3g}/s, "
            f"{_clock(elapsed)} elapsed{eta}",
            highlight=False,
            markup=False,
        )


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
