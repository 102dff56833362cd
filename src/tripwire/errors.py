"""Errors that mean the user's input is wrong (exit code 2), as opposed to bugs."""

from __future__ import annotations

from pathlib import Path


class BadInputError(Exception):
    """Input that tripwire cannot use: names the file or record and the problem in one line."""

    def __init__(self, where: str | Path, problem: str) -> None:
        self.where = str(where)
        self.problem = problem
        super().__init__(f"{self.where}: {problem}")
