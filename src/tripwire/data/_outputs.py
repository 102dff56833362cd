"""Output paths, checked before an audit starts: a folder where a file goes is otherwise found
only at the final rename, after the whole run, and an output written onto an input (or two
outputs onto one file) silently destroys data."""

from __future__ import annotations

import os
from pathlib import Path

from tripwire.artifacts import cannot_write, writes_through
from tripwire.errors import BadInputError


def file_identity(path: Path) -> tuple[object, ...]:
    """The same for two names of one file (a symlink, a hard link, ``./x`` and ``x``)."""
    try:
        st = path.stat()
    except OSError:
        return ("path", os.path.realpath(path))
    return ("inode", st.st_dev, st.st_ino)


STDOUT_OPTIONS = frozenset({"--json"})
"""The outputs ``-`` means standard output for; any other would write a file named ``-``
(two of them the same file)."""


def check_outputs(inputs: list[Path], outputs: dict[str, Path | None]) -> None:
    """Refuse, as bad input, an output (option name -> path; None, or ``-`` for an option of
    ``STDOUT_OPTIONS``, is not written) that is ``-`` for another option, is a folder, lies
    under a file or a folder this user cannot write, is one of ``inputs``, or is another
    option's output."""
    taken = {file_identity(p): "an input of this audit" for p in inputs}
    for option, path in outputs.items():
        if path is not None and str(path) == "-" and option not in STDOUT_OPTIONS:
            raise BadInputError(
                option, "'-' (standard output) is for --json only; give the path of a file"
            )
        if path is None or str(path) == "-" or writes_through(path):
            continue
        if path.is_dir():
            raise BadInputError(option, f"{path} is a folder; give the path of a file")
        problem = cannot_write(path)
        if problem is not None:
            raise BadInputError(option, f"{path}: {problem}")
        key = file_identity(path)
        if key in taken:
            raise BadInputError(option, f"{path} is {taken[key]}; choose another file")
        taken[key] = f"also the {option} output"
