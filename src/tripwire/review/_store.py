"""A review's database: what is to be reviewed, by whom, and every decision made.

One SQLite file per review (``DIR/review.db``) in WAL mode with ``synchronous=FULL`` (through
``tripwire.artifacts.open_database``, like the registry and the monitor): the review page, an
import and a report may run at the same time, and each decision is one committed row, so two
reviewers never overwrite each other and a killed page loses nothing already answered.

Decisions are appended, never updated: a reviewer who changes their mind adds a row, the latest
one counts, and the history (who decided what, when, from where) stays for the manifest.
Reviewer tokens are stored as SHA-256 only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from tripwire.errors import BadInputError

DB_NAME = "review.db"
SCHEMA_VERSION = 1
DB_SIDE_FILES = ("-wal", "-shm", "-journal")
"""SQLite's files beside the database: an output written over one corrupts the review as surely
as one written over the database itself."""


def database_files(directory: Path) -> dict[Path, str]:
    """The review database in ``directory`` and the files SQLite keeps beside it (path -> what
    it is, for an error that names it)."""
    db = directory / DB_NAME
    files = {db: "the review's database"}
    for side in DB_SIDE_FILES:
        files[db.with_name(db.name + side)] = "part of the review's database"
    return files


_meta = MetaData()
meta_table = Table(
    "review_meta",
    _meta,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)
items = Table(
    "review_items",
    _meta,
    Column("item_id", String(200), primary_key=True),
    Column("position", Integer, nullable=False, unique=True),
    Column("stratum", String(400), nullable=False),
    Column("shown", Text, nullable=False),
    Column("hidden", Text, nullable=False),
)
reviewers = Table(
    "review_reviewers",
    _meta,
    Column("name", String(100), primary_key=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("added_at", String(40), nullable=False),
)
assignments = Table(
    "review_assignments",
    _meta,
    Column("item_id", String(200), primary_key=True),
    Column("reviewer", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
)
decisions = Table(
    "review_decisions",
    _meta,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(200), nullable=False, index=True),
    Column("reviewer", String(100), nullable=False, index=True),
    Column("answer", Text, nullable=False),
    Column("decided_at", String(40), nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("source", String(200), nullable=False),
)
imports = Table(
    "review_imports",
    _meta,
    Column("sha256", String(64), primary_key=True),
    Column("name", String(400), nullable=False),
    Column("imported_at", String(40), nullable=False),
    Column("decisions", Integer, nullable=False),
)


def now() -> str:
    """UTC, to the second, ISO 8601: how every time in a review is written."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Item:
    item_id: str
    position: int
    stratum: str
    shown: dict[str, Any]
    """What a reviewer sees (redacted text, prompts, answers A and B)."""
    hidden: dict[str, Any]
    """What they must not see: the audit's verdict, which answer is the candidate's."""


@dataclass(frozen=True)
class Decision:
    item_id: str
    reviewer: str
    answer: dict[str, Any]
    decided_at: str
    source: str
    """``page``, ``import:FILE`` (with the file's SHA-256 in ``imports``), ``script``."""


class ReviewStore:
    """The database of one review directory."""

    def __init__(self, directory: str | Path, *, create: bool = False) -> None:
        from tripwire.artifacts import open_database

        self.directory = Path(directory)
        path = self.directory / DB_NAME
        if not create and not path.is_file():
            raise BadInputError(self.directory, f"not a review directory (no {DB_NAME})")
        if not create and not _holds_review(path):
            raise BadInputError(
                self.directory, f"not a review directory (its {DB_NAME} holds no review)"
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = open_database(f"sqlite:///{path}", _meta, "the review database")

    # --- metadata -------------------------------------------------------------------------
    def set_meta(self, values: dict[str, Any]) -> None:
        with self.engine.begin() as c:
            for k, v in values.items():
                c.execute(meta_table.delete().where(meta_table.c.key == k))
                c.execute(insert(meta_table).values(key=k, value=json.dumps(v)))

    def meta(self) -> dict[str, Any]:
        with self.engine.connect() as c:
            rows = c.execute(select(meta_table.c.key, meta_table.c.value)).all()
        return {k: json.loads(v) for k, v in rows}

    def own_files(self) -> dict[Path, str]:
        """What no output of a command on this review may replace (path -> what it is): its
        database, and the audited data and findings a data review reads again when its
        decisions are applied."""
        meta = self.meta()
        files = database_files(self.directory)
        for i in meta.get("inputs", []):
            files[Path(i["path"])] = "data the review was made from"
        if meta.get("findings_path"):
            files[Path(meta["findings_path"])] = "the findings the review was made from"
        return files

    # --- set-up (one transaction, so a review is either made whole or not at all) ----------
    def populate(
        self,
        meta: dict[str, Any],
        new_items: Sequence[Item],
        names: Sequence[str],
        queue: dict[str, list[str]],
    ) -> dict[str, str]:
        """Store the items, the reviewers and each reviewer's queue; return each new
        reviewer's token (shown once; only its hash is kept)."""
        tokens = {name: secrets.token_urlsafe(24) for name in names}
        stamp = now()
        try:
            with self.engine.begin() as c:
                extra = {
                    "schema_version": SCHEMA_VERSION,
                    "created_at": stamp,
                    "review_id": secrets.token_hex(8),
                }
                for k, v in {**meta, **extra}.items():
                    c.execute(insert(meta_table).values(key=k, value=json.dumps(v)))
                if new_items:
                    c.execute(insert(items), [_item_row(i) for i in new_items])
                for name in names:
                    c.execute(
                        insert(reviewers).values(
                            name=name, token_sha256=token_hash(tokens[name]), added_at=stamp
                        )
                    )
                rows = [
                    {"item_id": i, "reviewer": r, "position": p}
                    for r, ids in queue.items()
                    for p, i in enumerate(ids)
                ]
                if rows:
                    c.execute(insert(assignments), rows)
        except IntegrityError as exc:  # another create of this directory won the race
            raise BadInputError(
                self.directory, "another command made a review here meanwhile; run again to resume"
            ) from exc
        return tokens

    def new_token(self, name: str) -> str:
        """A fresh token for a known reviewer (the old one stops working)."""
        token = secrets.token_urlsafe(24)
        with self.engine.begin() as c:
            n = c.execute(
                reviewers.update()
                .where(reviewers.c.name == name)
                .values(token_sha256=token_hash(token))
            ).rowcount
        if not n:
            raise BadInputError("--reviewer", f"unknown reviewer {name!r}")
        return token

    # --- reading --------------------------------------------------------------------------
    def items(self) -> list[Item]:
        with self.engine.connect() as c:
            rows = c.execute(select(items).order_by(items.c.position)).all()
        return [_item(r) for r in rows]

    def item(self, item_id: str) -> Item | None:
        with self.engine.connect() as c:
            row = c.execute(select(items).where(items.c.item_id == item_id)).first()
        return _item(row) if row else None

    def reviewer_names(self) -> list[str]:
        with self.engine.connect() as c:
            return [r[0] for r in c.execute(select(reviewers.c.name).order_by(reviewers.c.name))]

    def reviewer_for(self, token: str) -> str | None:
        """The reviewer a token belongs to (compared by hash, in constant time)."""
        digest = token_hash(token)
        with self.engine.connect() as c:
            rows = c.execute(select(reviewers.c.name, reviewers.c.token_sha256)).all()
        found = None
        for name, stored in rows:
            if secrets.compare_digest(stored, digest):
                found = name
        return found

    def queue(self, reviewer: str) -> list[str]:
        """The items assigned to ``reviewer``, in the order they are shown."""
        with self.engine.connect() as c:
            rows = c.execute(
                select(assignments.c.item_id)
                .where(assignments.c.reviewer == reviewer)
                .order_by(assignments.c.position)
            ).all()
        return [r[0] for r in rows]

    def history(self) -> list[Decision]:
        """Every decision ever recorded, oldest first (by when it was made, then recorded: an
        import of older decisions does not override newer ones made in the page)."""
        with self.engine.connect() as c:
            rows = c.execute(
                select(decisions).order_by(decisions.c.decided_at, decisions.c.seq)
            ).all()
        return [
            Decision(r.item_id, r.reviewer, json.loads(r.answer), r.decided_at, r.source)
            for r in rows
        ]

    def latest(self) -> dict[tuple[str, str], Decision]:
        """Each reviewer's current decision per item (their latest row)."""
        out: dict[tuple[str, str], Decision] = {}
        for d in self.history():
            out[(d.item_id, d.reviewer)] = d
        return out

    def decided_by(self, reviewer: str) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(
                select(decisions.c.item_id, decisions.c.answer)
                .where(decisions.c.reviewer == reviewer)
                .order_by(decisions.c.decided_at, decisions.c.seq)
            ).all()
        return {i: json.loads(a) for i, a in rows}

    def counts(self) -> dict[str, int]:
        """Decided items per reviewer (for progress)."""
        with self.engine.connect() as c:
            rows = c.execute(
                select(
                    decisions.c.reviewer, func.count(func.distinct(decisions.c.item_id))
                ).group_by(decisions.c.reviewer)
            ).all()
        return {r: n for r, n in rows}

    def imported(self, sha256: str) -> bool:
        with self.engine.connect() as c:
            return (
                c.execute(select(imports.c.sha256).where(imports.c.sha256 == sha256)).first()
                is not None
            )

    # --- writing --------------------------------------------------------------------------
    def record(self, decision: Decision) -> None:
        """One decision, committed before this returns."""
        self.record_many([decision])

    def record_many(
        self, batch: Iterable[Decision], *, imported: Sequence[tuple[str, str, int]] = ()
    ) -> int:
        """Decisions in one transaction: all of them are recorded or none. ``imported``:
        (SHA-256, name, decisions) of the files they came from, so a file is applied once."""
        rows = [
            {
                "item_id": d.item_id,
                "reviewer": d.reviewer,
                "answer": json.dumps(d.answer),
                "decided_at": d.decided_at,
                "recorded_at": now(),
                "source": d.source,
            }
            for d in batch
        ]
        try:
            with self.engine.begin() as c:
                for sha, name, n in imported:
                    c.execute(
                        insert(imports).values(
                            sha256=sha, name=name, imported_at=now(), decisions=n
                        )
                    )
                if rows:
                    c.execute(insert(decisions), rows)
        except IntegrityError as exc:  # the same file imported concurrently: applied once
            where = ", ".join(name for _, name, _ in imported) or "decision"
            raise BadInputError(where, "already imported (by another import running now)") from exc
        return len(rows)

    def assigned(self, item_id: str, reviewer: str) -> bool:
        with self.engine.connect() as c:
            return (
                c.execute(
                    select(assignments.c.item_id).where(
                        and_(assignments.c.item_id == item_id, assignments.c.reviewer == reviewer)
                    )
                ).first()
                is not None
            )

    def close(self) -> None:
        self.engine.dispose()


def _holds_review(path: Path) -> bool:
    """Whether ``path`` is a review's database, asked without writing to it: opening it the
    usual way would add the review's tables to any SQLite file (or fail on one that is not)."""
    try:
        with contextlib.closing(sqlite3.connect(path)) as c:
            row = c.execute("SELECT 1 FROM review_meta WHERE key = 'kind'").fetchone()
    except sqlite3.Error:
        return False
    return row is not None


def _item_row(i: Item) -> dict[str, Any]:
    return {
        "item_id": i.item_id,
        "position": i.position,
        "stratum": i.stratum,
        "shown": json.dumps(i.shown),
        "hidden": json.dumps(i.hidden),
    }


def _item(r: Any) -> Item:
    return Item(r.item_id, r.position, r.stratum, json.loads(r.shown), json.loads(r.hidden))
