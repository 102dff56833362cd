"""``review export``: a review's items for the tools reviewers already use."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tripwire.artifacts import cannot_write
from tripwire.errors import BadInputError
from tripwire.review._argilla import dataset_name, export_argilla
from tripwire.review._exchange import write_native
from tripwire.review._labelstudio import config_path, export_labelstudio
from tripwire.review._store import ReviewStore

EXPORT_FORMATS = ("labelstudio", "argilla", "jsonl")


def export_files(fmt: str, out: Path) -> dict[str, Path]:
    """The files an export writes, by the option that names them (an Argilla dataset is a
    folder, and is not among them)."""
    if fmt == "labelstudio":
        return {"--out": out, "--out (labeling configuration)": config_path(out)}
    return {} if fmt == "argilla" else {"--out": out}


def _replaces(fmt: str, out: Path, own: dict[Path, str]) -> str | None:
    """Why the export would destroy one of ``own`` (path -> what it is), or None: it writes
    over one, or (Argilla) replaces a folder holding one, which is replaced whole."""
    from tripwire.data._outputs import file_identity

    if fmt == "argilla":
        folder = os.path.realpath(out)
        for path, what in own.items():
            real = os.path.realpath(path)
            if real == folder or real.startswith(folder.rstrip(os.sep) + os.sep):
                return f"{out} holds {what} ({path}); an Argilla export replaces the folder whole"
        return None
    mine = {file_identity(p): what for p, what in own.items()}
    for written in export_files(fmt, out).values():
        what = mine.get(file_identity(written))
        if what is not None:
            return f"{written} is {what}; choose another file"
    return None


def check_export_path(fmt: str, out: Path, own: dict[Path, str] | None = None) -> None:
    """Refuse, before anything is written, an ``out`` that cannot take ``fmt``'s output, or
    whose output would replace one of ``own``: the review's database and its sources."""
    if fmt not in EXPORT_FORMATS:
        raise BadInputError("--format", f"must be one of {', '.join(EXPORT_FORMATS)}")
    if fmt == "argilla" and out.exists() and not out.is_dir():
        raise BadInputError("--out", f"{out}: is a file; an Argilla dataset is a folder")
    if fmt != "argilla" and out.is_dir():
        raise BadInputError("--out", f"{out}: is a folder; {fmt} is written to a file")
    if fmt == "labelstudio" and config_path(out) == out:
        raise BadInputError(
            "--out", f"{out}: the labeling configuration goes to NAME.xml beside the tasks"
        )
    problem = _replaces(fmt, out, own or {})
    if problem is not None:
        raise BadInputError("--out", problem)
    problem = cannot_write(out)
    if problem is not None:
        raise BadInputError("--out", f"{out}: {problem}")


def export_review(
    store: ReviewStore, fmt: str, out: Path, reviewer: str | None = None
) -> dict[str, Any]:
    """Write the items (``reviewer``: only that reviewer's queue) in ``fmt`` to ``out``: a
    Label Studio tasks file (and its labeling configuration beside it), an Argilla dataset
    folder, or tripwire's JSONL."""
    check_export_path(fmt, out, store.own_files())
    meta = store.meta()
    items = store.items()
    if reviewer is not None:
        if reviewer not in store.reviewer_names():
            raise BadInputError("--reviewer", f"unknown reviewer {reviewer!r}")
        wanted = set(store.queue(reviewer))
        items = [i for i in items if i.item_id in wanted]
    written = [str(out)]
    kind, review_id = meta["kind"], meta["review_id"]
    try:
        if fmt == "labelstudio":
            written.append(str(export_labelstudio(items, kind, out, review_id)))
        elif fmt == "argilla":
            export_argilla(items, kind, out, dataset_name(kind, review_id))
        else:
            write_native(items, kind, out, review_id)
    except OSError as exc:  # what the check could not foresee (a full disk, a race)
        raise BadInputError("--out", f"{out}: cannot write it ({exc.strerror or exc})") from exc
    return {"format": fmt, "items": len(items), "written": written}
