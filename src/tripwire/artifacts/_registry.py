"""Registry: a database of manifests, so lineage can be traced, versions marked and bisected.

SQLite file by default; any SQLAlchemy URL (PostgreSQL included) by ``--registry``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tripwire.artifacts._database import database_error, open_database, shown_url
from tripwire.artifacts._manifest import Manifest
from tripwire.artifacts._paths import default_registry_url
from tripwire.errors import BadInputError


class _Base(DeclarativeBase):
    pass


class _ArtifactRow(_Base):
    __tablename__ = "artifacts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(512), index=True)
    path: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[str] = mapped_column(String(40), default="")
    registered_at: Mapped[str] = mapped_column(String(40))
    manifest: Mapped[str] = mapped_column(Text)


class _EdgeRow(_Base):
    __tablename__ = "lineage"
    child: Mapped[str] = mapped_column(ForeignKey("artifacts.id"), primary_key=True)
    parent: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class _MarkRow(_Base):
    __tablename__ = "marks"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    artifact: Mapped[str] = mapped_column(ForeignKey("artifacts.id"), index=True)
    mark: Mapped[str] = mapped_column(String(32))
    line: Mapped[str] = mapped_column(String(256), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[str] = mapped_column(String(40))


@dataclass(frozen=True)
class RegisteredArtifact:
    """A manifest as the registry holds it, with where it was last seen."""

    manifest: Manifest
    path: str
    registered_at: str

    @property
    def id(self) -> str:
        return self.manifest.id


@dataclass(frozen=True)
class Mark:
    """A decision recorded about an artifact (known-good, rollback, ...)."""

    artifact: str
    mark: str
    line: str
    note: str
    at: str


KNOWN_GOOD = "known-good"
"""The mark a version gets once it passed the gate and may be rolled back to."""
ROLLBACK = "rollback"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Registry:
    """Records manifests and the edges between them."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_registry_url()
        # only the default location is created: a mistyped URL should fail, not make folders
        self._engine = open_database(
            self.url, _Base.metadata, "registry", create_parent=url is None
        )
        # a database another program made may already hold tables by these names, with other
        # columns: say so now, not as a traceback from the first query
        with self._session("not a tripwire registry") as s:
            for row in (_ArtifactRow, _EdgeRow, _MarkRow):
                s.execute(select(row).limit(1)).all()

    @contextmanager
    def _session(self, what: str = "registry") -> Iterator[Session]:
        """A session whose database errors (read-only file, locked, wrong schema) are one line
        naming the registry; a write that fails is rolled back whole."""
        try:
            with Session(self._engine) as s:
                yield s
        except SQLAlchemyError as exc:
            raise database_error(self.url, what, exc) from exc

    def close(self) -> None:
        self._engine.dispose()

    def register(self, manifest: Manifest, path: str | Path | None = None) -> RegisteredArtifact:
        """Add or refresh one manifest and its parent edges (idempotent)."""
        where = str(Path(path).resolve()) if path is not None else ""
        with self._session() as s, s.begin():
            row = s.get(_ArtifactRow, manifest.id)
            if row is None:
                row = _ArtifactRow(id=manifest.id, registered_at=_now())
                s.add(row)
            row.kind = str(manifest.kind)
            row.name = manifest.name
            row.created_at = manifest.created_at
            row.manifest = json.dumps(manifest.to_dict())
            if where:
                row.path = where
            for parent in manifest.parents:
                if s.get(_EdgeRow, (manifest.id, parent)) is None:
                    s.add(_EdgeRow(child=manifest.id, parent=parent))
            s.flush()
            return self._to_public(row)

    def get(self, ref: str) -> RegisteredArtifact:
        """By full id, unique id prefix (at least 6 characters), or exact name (latest)."""
        with self._session() as s:
            row = s.get(_ArtifactRow, ref)
            if row is None and len(ref) >= 6:
                # escaped: a ref of ``%`` or ``_`` (LIKE wildcards) would match any id
                prefix = _ArtifactRow.id.startswith(ref, autoescape=True)
                rows = s.scalars(select(_ArtifactRow).where(prefix)).all()
                if len(rows) > 1:
                    raise BadInputError(ref, f"ambiguous id prefix ({len(rows)} artifacts match)")
                row = rows[0] if rows else None
            if row is None:
                row = s.scalars(
                    select(_ArtifactRow)
                    .where(_ArtifactRow.name == ref)
                    .order_by(_ArtifactRow.registered_at.desc())
                ).first()
            if row is None:
                raise BadInputError(ref, f"not in the registry at {shown_url(self.url)}")
            return self._to_public(row)

    def list(self, kind: str | None = None) -> list[RegisteredArtifact]:
        with self._session() as s:
            q = select(_ArtifactRow).order_by(_ArtifactRow.registered_at, _ArtifactRow.id)
            if kind:
                q = q.where(_ArtifactRow.kind == kind)
            return [self._to_public(r) for r in s.scalars(q)]

    def parents(self, artifact_id: str) -> list[str]:
        with self._session() as s:
            return list(s.scalars(select(_EdgeRow.parent).where(_EdgeRow.child == artifact_id)))

    def children(self, artifact_id: str) -> list[str]:
        with self._session() as s:
            return list(s.scalars(select(_EdgeRow.child).where(_EdgeRow.parent == artifact_id)))

    def ancestors(self, artifact_id: str) -> list[str]:
        """All ids reachable through parent edges, nearest first."""
        seen: list[str] = []
        frontier = [artifact_id]
        while frontier:
            nxt: list[str] = []
            for a in frontier:
                for p in self.parents(a):
                    if p not in seen:
                        seen.append(p)
                        nxt.append(p)
            frontier = nxt
        return seen

    def mark(self, artifact_id: str, mark: str, *, line: str = "", note: str = "") -> Mark:
        """Record a decision about a registered artifact."""
        with self._session() as s, s.begin():
            if s.get(_ArtifactRow, artifact_id) is None:
                raise BadInputError(artifact_id, "not in the registry")
            at = _now()
            s.add(_MarkRow(artifact=artifact_id, mark=mark, line=line, note=note, at=at))
        return Mark(artifact_id, mark, line, note, at)

    def marks(self, artifact_id: str | None = None, mark: str | None = None) -> list[Mark]:
        with self._session() as s:
            q = select(_MarkRow).order_by(_MarkRow.seq)
            if artifact_id:
                q = q.where(_MarkRow.artifact == artifact_id)
            if mark:
                q = q.where(_MarkRow.mark == mark)
            return [Mark(r.artifact, r.mark, r.line, r.note, r.at) for r in s.scalars(q)]

    def last_good(self, line: str | None = None) -> RegisteredArtifact | None:
        """The artifact most recently marked known-good (in ``line``, when given)."""
        marks = [m for m in self.marks(mark=KNOWN_GOOD) if line is None or m.line == line]
        return self.get(marks[-1].artifact) if marks else None

    @staticmethod
    def _to_public(row: _ArtifactRow) -> RegisteredArtifact:
        try:
            data = json.loads(row.manifest)
        except (TypeError, ValueError, RecursionError) as exc:
            raise BadInputError(f"registry:{row.id}", f"unreadable manifest: {exc}") from exc
        manifest = Manifest.from_dict(data, f"registry:{row.id}")
        return RegisteredArtifact(manifest=manifest, path=row.path, registered_at=row.registered_at)
