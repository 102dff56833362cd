"""``review export``: a review's items for the tools reviewers already use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tripwire.errors import BadInputError
from tripwire.review._argilla import export_argilla
from tripwire.review._exchange import write_native
from tripwire.review._labelstudio import export_labelstudio
from tripwire.review._store import ReviewStore

EXPORT_FORMATS = ("labelstudio", "argilla", "jsonl")


def export_review(
    store: ReviewStore, fmt: str, out: Path, reviewer: str | None = None
) -> dict[str, Any]:
    """Write the items (``reviewer``: only that reviewer's queue) in ``fmt`` to ``out``: a
    Label Studio tasks file (and its labeling configuration beside it), an Argilla dataset
    folder, or tripwire's JSONL."""
    meta = store.meta()
    items = store.items()
    if reviewer is not None:
        if reviewer not in store.reviewer_names():
            raise BadInputError("--reviewer", f"unknown reviewer {reviewer!r}")
        wanted = set(store.queue(reviewer))
        items = [i for i in items if i.item_id in wanted]
    written = [str(out)]
    if fmt == "labelstudio":
        written.append(str(export_labelstudio(items, meta["kind"], out)))
    elif fmt == "argilla":
        export_argilla(items, meta["kind"], out, f"tripwire-{meta['kind']}-{meta['review_id']}")
    elif fmt == "jsonl":
        write_native(items, meta["kind"], out)
    else:
        raise BadInputError("--format", f"must be one of {', '.join(EXPORT_FORMATS)}")
    return {"format": fmt, "items": len(items), "written": written}
