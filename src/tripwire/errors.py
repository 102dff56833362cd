"""Errors a user can act on, as opposed to bugs: the input is wrong (exit code 2), or this machine
lacks something the work needs (exit code 3)."""

from __future__ import annotations

from pathlib import Path


class BadInputError(Exception):
    """Input that tripwire cannot use: names the file or record and the problem in one line."""

    def __init__(self, where: str | Path, problem: str) -> None:
        self.where = str(where)
        self.problem = problem
        super().__init__(f"{self.where}: {problem}")


class UnavailableError(Exception):
    """Not the input's fault: this machine lacks what the work needs (an optional extra or a
    tool that is not installed, a sandbox feature the kernel refuses). Exit code 3, so CI can
    tell "install it, or run elsewhere" from "fix the input"."""

    def __init__(self, what: str | Path, problem: str) -> None:
        self.where = str(what)
        self.problem = problem
        super().__init__(f"{self.where}: {problem}")
