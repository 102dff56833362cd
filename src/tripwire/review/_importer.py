"""Bring decisions made elsewhere back into a review: read the file (Label Studio export,
Argilla dataset, or tripwire's own JSONL), check every decision, then apply all of them in one
transaction. The first problem (an unknown item or reviewer, an answer the review does not
allow, a file of some other project) is one BadInputError naming the item, and nothing is
applied; a file already imported is skipped (its SHA-256 is recorded).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tripwire.artifacts import sha256_bytes, sha256_file
from tripwire.errors import BadInputError
from tripwire.review._answers import check_answer
from tripwire.review._argilla import RECORDS, SETTINGS, read_argilla
from tripwire.review._argilla import looks_like as is_argilla
from tripwire.review._data_result import NEVER_RESTORED
from tripwire.review._exchange import (
    NATIVE_FORMAT,
    Incoming,
    load_json,
    read_native,
    read_text,
    reviewer_uuid,
)
from tripwire.review._labelstudio import looks_like as is_labelstudio
from tripwire.review._labelstudio import looks_like_min, read_labelstudio
from tripwire.review._store import Decision, ReviewStore, now

FORMATS = ("auto", "labelstudio", "argilla", "jsonl")
FUTURE_SLACK = timedelta(days=1)
"""How far ahead of this machine's clock another tool's may run."""


def _exists(path: Path) -> None:
    if not (path.is_file() or is_argilla(path)):
        raise BadInputError(
            path, "no such file (or an Argilla dataset folder without records.json)"
        )


def _first_line(text: str) -> str:
    return next((line for line in text.split("\n") if line.strip()), "")


def _whole_or_first_line(text: str) -> Any:
    """The file as one JSON document (a task exported on its own, indented), or else its first
    line (JSONL); None when neither parses."""
    for candidate in (text, _first_line(text)):
        try:
            return json.loads(candidate)
        except (ValueError, RecursionError):
            continue
    return None


def detect(path: Path) -> str:
    """Which tool wrote ``path``; BadInputError when none of the three did."""
    if is_argilla(path):
        return "argilla"
    _exists(path)
    text = read_text(path).lstrip()
    if not text:
        raise BadInputError(path, "is empty")
    if "\0" in text:
        raise BadInputError(path, "holds NUL bytes: not an export (a binary file?)")
    if text.startswith("["):
        data = load_json(text, path)
        if data == []:
            raise BadInputError(path, "an empty list: no tasks or decisions in it")
        if is_labelstudio(data) or looks_like_min(data):
            return "labelstudio"
    elif text.startswith("{"):
        row = _whole_or_first_line(text)
        if isinstance(row, dict) and ("item_id" in row or row.get("format") == NATIVE_FORMAT):
            return "jsonl"
        if isinstance(row, dict) and "data" in row:
            return "labelstudio"
        if row is None:  # the first line says what is wrong with it
            load_json(_first_line(text), f"{path}:1")
    elif path.suffix.lower() in (".csv", ".tsv") or "," in _first_line(text):
        raise BadInputError(
            path, "a CSV file: export the Label Studio project as JSON or JSON-MIN instead"
        )
    raise BadInputError(
        path, "not a Label Studio JSON export, an Argilla dataset or tripwire's decisions JSONL"
    )


def read(
    path: Path, kind: str, fmt: str = "auto", review_id: str = ""
) -> tuple[str, list[Incoming]]:
    fmt = detect(path) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise BadInputError("--format", f"must be one of {', '.join(FORMATS)}")
    _exists(path)
    if fmt == "labelstudio":
        return fmt, read_labelstudio(path, kind, review_id)
    if fmt == "argilla":
        return fmt, read_argilla(path, kind, review_id)
    return fmt, read_native(path, kind, review_id)


def _when(value: Any, where: str) -> str:
    if value is None:
        return now()
    problem = f"decided_at {value!r:.60} is not an ISO 8601 time"
    if not isinstance(value, str):
        raise BadInputError(where, problem)
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        t = t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # overflow: a time zone past year 1 or 9999
        raise BadInputError(where, problem) from exc
    if t > datetime.now(UTC) + FUTURE_SLACK:
        # the latest decision counts: one dated in the future would outlast every later one
        raise BadInputError(where, f"decided_at {value!r:.60} is in the future")
    return t.isoformat(timespec="seconds")


def _digest(path: Path) -> str:
    _exists(path)
    try:
        if path.is_dir():  # an Argilla folder: its records and the settings they answer
            settings = path / SETTINGS
            extra = settings.read_bytes() if settings.is_file() else b""
            return sha256_bytes((path / RECORDS).read_bytes() + b"\0" + extra)
        return sha256_file(path)
    except OSError as exc:
        raise BadInputError(path, f"cannot read it ({exc.strerror or exc})") from exc


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
        fmt_used, incoming = read(path, kind, fmt, meta["review_id"])
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
