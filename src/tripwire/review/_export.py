"""``review export``: a review's items for the tools reviewers already use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tripwire.artifacts import cannot_write
from tripwire.errors import BadInputError
from tripwire.review._argilla import dataset_name, export_argilla
from tripwire.review._exchange import write_native
from tripwire.review._labelstudio import config_path, export_labelstudio
from tripwire.review._store import ReviewStore

EXPORT_FORMATS = ("labelstudio", "argilla", "jsonl")


def check_export_path(fmt: str, out: Path) -> None:
    """Refuse, before anything is written, an ``out`` that cannot take ``fmt``'s output."""
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
    problem = cannot_write(out)
    if problem is not None:
        raise BadInputError("--out", f"{out}: {problem}")


def export_review(
    store: ReviewStore, fmt: str, out: Path, reviewer: str | None = None
) -> dict[str, Any]:
    """Write the items (``reviewer``: only that reviewer's queue) in ``fmt`` to ``out``: a
    Label Studio tasks file (and its labeling configuration beside it), an Argilla dataset
    folder, or tripwire's JSONL."""
    check_export_path(fmt, out)
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
