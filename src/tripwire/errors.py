"""Errors a user can act on, as opposed to bugs: the input is wrong (exit code 2), or this machine
lacks something the work needs (exit code 3)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar


class UserError(Exception):
    """Something the user can act on: names the file, record or option and the problem in one
    line. Code that turns a failed step into a finding catches this, whichever kind it is."""

    exit_code: ClassVar[int] = 2
    label: ClassVar[str] = "error"
    """How the command line introduces it."""
    kind: ClassVar[str] = "bad_input"
    """Its name in a finding's evidence (``kinds``)."""

    def __init__(self, where: str | Path, problem: str) -> None:
        self.where = str(where)
        self.problem = problem
        super().__init__(f"{self.where}: {problem}")


class BadInputError(UserError):
    """Input that tripwire cannot use (exit code 2)."""


class UnavailableError(UserError):
    """Not the input's fault: this machine lacks what the work needs (an optional extra or a
    tool that is not installed, a sandbox feature the kernel refuses). Exit code 3, so CI can
    tell "install it, or run elsewhere" from "fix the input"."""

    exit_code = 3
    label = "unavailable"
    kind = "unavailable"
