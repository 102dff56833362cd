"""``--max-memory``: the one option every model-loading command shares (see tripwire.compute)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import typer

HELP = (
    "Memory the command may use: 6GB, 512MiB or 50% (of the memory available now). Batches are "
    "sized from it; a model that cannot fit is refused before loading (exit 2). Default: "
    "$TRIPWIRE_MAX_MEMORY, else 70% of the memory available."
)


def option() -> Any:
    return typer.Option(None, "--max-memory", metavar="SIZE", help=HELP)


@contextlib.contextmanager
def budget(value: str | None) -> Iterator[None]:
    """The command's work, sized by ``value`` (parsed first: a bad size is exit 2 at once).
    A command enters it with ``ctx.with_resource(budget(...))``: it then lasts until the command
    returns, and a later command in the same process starts from the default again."""
    from tripwire.compute import parse_memory, use_budget

    with use_budget(parse_memory(value) if value else None):
        yield
