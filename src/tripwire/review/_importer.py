"""Bring decisions made elsewhere back into a review: read the file (Label Studio export,
Argilla dataset, or tripwire's own JSONL), check every decision, then apply all of them in one
transaction. The first problem (an unknown item or reviewer, an answer the review does not
allow, a file of some other project) is one BadInputError naming the item, and nothing is
applied; a file already imported is skipped (its SHA-256 is recorded).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tripwire.artifacts import sha256_bytes, sha256_file
from tripwire.errors import BadInputError
from tripwire.review._answers import check_answer
from tripwire.review._argilla import RECORDS, SETTINGS, read_argilla
from tripwire.review._argilla import looks_like as is_argilla
from tripwire.review._data_result import NEVER_RESTORED
from tripwire.review._exchange import NATIVE_FORMAT, Incoming, read_native, reviewer_uuid
from tripwire.review._labelstudio import looks_like as is_labelstudio
from tripwire.review._labelstudio import read_labelstudio
from tripwire.review._store import Decision, ReviewStore, now

FORMATS = ("auto", "labelstudio", "argilla", "jsonl")


def detect(path: Path) -> str:
    """Which tool wrote ``path``; BadInputError when none of the three did."""
    if is_argilla(path):
        return "argilla"
    if not path.is_file():
        raise BadInputError(
            path, "no such file (or an Argilla dataset folder without records.json)"
        )
    head = path.read_bytes()[: 1 << 16].lstrip()
    if head.startswith(b"["):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadInputError(path, f"not JSON ({exc})") from exc
        if is_labelstudio(data):
            return "labelstudio"
    elif head.startswith(b"{"):
        first = head.split(b"\n", 1)[0]
        try:
            row = json.loads(first)
        except (UnicodeDecodeError, json.JSONDecodeError):
            row = None
        if isinstance(row, dict) and ("item_id" in row or row.get("format") == NATIVE_FORMAT):
            return "jsonl"
        if isinstance(row, dict) and "data" in row:
            return "labelstudio"
    raise BadInputError(
        path, "not a Label Studio JSON export, an Argilla dataset or tripwire's decisions JSONL"
    )


def read(path: Path, kind: str, fmt: str = "auto") -> tuple[str, list[Incoming]]:
    fmt = detect(path) if fmt == "auto" else fmt
    if fmt == "labelstudio":
        return fmt, read_labelstudio(path, kind)
    if fmt == "argilla":
        return fmt, read_argilla(path, kind)
    if fmt == "jsonl":
        return fmt, read_native(path)
    raise BadInputError("--format", f"must be one of {', '.join(FORMATS)}")


def _when(value: str | None, where: str) -> str:
    if value is None:
        return now()
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadInputError(where, f"decided_at {value!r} is not an ISO 8601 time") from exc
    t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    return t.isoformat(timespec="seconds")


def _digest(path: Path) -> str:
    if path.is_dir():  # an Argilla folder: its records and the settings they answer
        settings = path / SETTINGS
        extra = settings.read_bytes() if settings.is_file() else b""
        return sha256_bytes((path / RECORDS).read_bytes() + b"\0" + extra)
    return sha256_file(path)


def import_decisions(
    store: ReviewStore,
    files: list[Path],
    *,
    users: dict[str, str] | None = None,
    fmt: str = "auto",
) -> dict[str, Any]:
    """Check and apply the decisions in ``files``; ``users`` maps a tool's user (id, e-mail,
    UUID) to a reviewer name. Returns what was applied per file."""
    meta = store.meta()
    kind = meta["kind"]
    items = {i.item_id: i for i in store.items()}
    names = set(store.reviewer_names())
    users = dict(users or {})
    for theirs, ours in users.items():
        if ours not in names:
            raise BadInputError(
                "--user",
                f"{theirs}={ours}: {ours!r} is not a reviewer of this "
                f"review ({', '.join(sorted(names))})",
            )
    by_uuid = {reviewer_uuid(meta["review_id"], n): n for n in names}
    batch: list[Decision] = []
    applied: list[tuple[str, str, int]] = []
    report = []
    for path in files:
        digest = _digest(path)
        if store.imported(digest) or any(digest == a[0] for a in applied):
            report.append({"file": str(path), "format": None, "decisions": 0, "skipped": True})
            continue
        fmt_used, incoming = read(path, kind, fmt)
        decided = []
        for inc in incoming:
            item = items.get(inc.item_id)
            if item is None:
                raise BadInputError(inc.where, f"judgement for unknown item {inc.item_id!r}")
            reviewer = (
                users.get(inc.reviewer)
                or by_uuid.get(inc.reviewer)
                or (inc.reviewer if inc.reviewer in names else None)
            )
            if reviewer is None:
                raise BadInputError(
                    inc.where,
                    f"from unknown reviewer {inc.reviewer!r} (map it "
                    f"to a reviewer with --user {inc.reviewer}=NAME)",
                )
            try:
                answer = check_answer(kind, inc.answer)
            except ValueError as exc:
                raise BadInputError(inc.where, str(exc)) from exc
            if (
                kind == "data"
                and answer["decision"] == "keep"
                and NEVER_RESTORED & set(item.hidden["reasons"])
            ):
                raise BadInputError(
                    inc.where,
                    "the audit removed this record for a secret; no "
                    "review restores it (accept the secret with data audit "
                    "--allow-secrets and audit again)",
                )
            decided.append(
                Decision(
                    inc.item_id,
                    reviewer,
                    answer,
                    _when(inc.decided_at, inc.where),
                    f"import:{path.name}",
                )
            )
        decided.sort(key=lambda d: d.decided_at)  # the latest decision per reviewer counts
        batch += decided
        applied.append((digest, str(path), len(decided)))
        report.append(
            {"file": str(path), "format": fmt_used, "decisions": len(decided), "skipped": False}
        )
    store.record_many(batch, imported=applied)
    return {"files": report, "decisions": len(batch)}
