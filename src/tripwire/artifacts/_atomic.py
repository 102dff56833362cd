"""Write outputs so a crash or bad input never leaves a partial file or directory behind."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling path; rename it onto ``target`` only if the block succeeds.

    Works for files and directories: whatever the block creates at the yielded path replaces
    ``target`` in one rename (directories replace an existing one after it is moved aside).
    """
    target = Path(target)
    # a symlink at the target is replaced, never followed: a manifest linked to /etc/... in a
    # stranger's model folder must not send tripwire's write there
    if writes_through(target):
        # /dev/null, a pipe, /dev/stdout whatever it points at (a shell's > file): renaming
        # onto it would replace the device or the link (as root, /dev/null or /dev/stdout
        # itself) and the caller's redirection would never see the output; write through it
        # once the block has succeeded
        with tempfile.TemporaryDirectory(prefix="tripwire-out-") as staging:
            tmp = Path(staging) / "out"
            yield tmp
            try:
                with open(tmp, "rb") as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            except OSError as exc:  # /dev/full, a closed pipe: say which output failed
                raise OSError(exc.errno, exc.strerror, str(target)) from exc
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent)) / "out"
    try:
        yield tmp
        if tmp.is_dir() and target.is_dir():
            old = tmp.parent / "old"
            target.rename(old)
            tmp.rename(target)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp.parent, ignore_errors=True)


def cannot_write(target: str | Path) -> str | None:
    """Why ``target`` (a file or folder to be made) cannot be written, or None: checked before
    long work, so a run does not end in a traceback after an hour. The nearest existing
    ancestor must be a folder in which a file can really be made (a permission test alone
    passes for root where the kernel refuses, e.g. under /proc or on a read-only mount)."""
    target = Path(target).absolute()
    if target.is_dir() or writes_through(target):
        return None
    folder = next((p for p in target.parents if p.exists()), Path("/"))
    if not folder.is_dir():
        return f"{folder} is a file, not a folder"
    try:
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as exc:
        return f"cannot write in {folder} ({exc.strerror or exc})"


_STREAMS = ("/dev/stdin", "/dev/stdout", "/dev/stderr")
_DESCRIPTOR_DIRS = ("/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/")


def writes_through(path: str | Path) -> bool:
    """Whether an output at ``path`` is written into rather than replaced (and gets no
    scratch files beside it): a device or a pipe, or a standard stream or descriptor path,
    which names whatever this process's descriptor is open on, a regular file included."""
    path = Path(path)
    text = str(path.absolute())
    if text in _STREAMS or text.startswith(_DESCRIPTOR_DIRS):
        return True
    return _special(path)


def _special(path: Path) -> bool:
    """An existing path that is neither a regular file nor a directory (a device, a pipe)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def write_text_atomic(target: str | Path, text: str) -> None:
    """Write ``text`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(target: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``target`` atomically."""
    write_text_atomic(target, json.dumps(data, indent=2, sort_keys=False) + "\n")
