"""Output paths, checked before an audit starts: a folder where a file goes is otherwise found
only at the final rename, after the whole run, and an output written onto an input (or two
outputs onto one file) silently destroys data."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tripwire.errors import BadInputError


def _identity(path: Path) -> tuple[object, ...]:
    """The same for two names of one file (a symlink, a hard link, ``./x`` and ``x``)."""
    try:
        st = path.stat()
    except OSError:
        return ("path", os.path.realpath(path))
    return ("inode", st.st_dev, st.st_ino)


def _special(path: Path) -> bool:
    """A device or a pipe (``/dev/null``, ``/dev/stdout``): written through, never replaced."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _existing_ancestor(path: Path) -> Path:
    for parent in path.absolute().parents:
        if parent.exists() or parent.is_symlink():
            return parent
    return Path("/")


def check_outputs(inputs: list[Path], outputs: dict[str, Path | None]) -> None:
    """Refuse, as bad input, an output (option name -> path; None or ``-`` is not written)
    that is a folder, lies under a file or a folder this user cannot write, is one of
    ``inputs``, or is another option's output."""
    taken = {_identity(p): "an input of this audit" for p in inputs}
    for option, path in outputs.items():
        if path is None or str(path) == "-" or _special(path):
            continue
        if path.is_dir():
            raise BadInputError(option, f"{path} is a folder; give the path of a file")
        folder = _existing_ancestor(path)
        if not folder.is_dir():
            raise BadInputError(option, f"{path}: {folder} is a file, not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise BadInputError(option, f"{path}: cannot write in {folder}")
        key = _identity(path)
        if key in taken:
            raise BadInputError(option, f"{path} is {taken[key]}; choose another file")
        taken[key] = f"also the {option} output"
