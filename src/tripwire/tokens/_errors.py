"""Errors from the libraries a checkpoint is read with, as the one line the CLI promises."""

from __future__ import annotations

import re

from tripwire.errors import BadInputError

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MAX = 600


def one_line(exc: BadInputError) -> BadInputError:
    """``exc`` with its problem on one line: torch and transformers explain over several
    lines, with terminal colour codes, what the CLI must say in one."""
    problem = " ".join(_ANSI.sub("", exc.problem).split())
    if len(problem) > _MAX:
        problem = problem[: _MAX - 3] + "..."
    return BadInputError(exc.where, problem)
