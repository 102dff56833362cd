"""Manifest: what an artifact is made of (files, sha256) and where it came from (parents)."""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from tripwire.artifacts._atomic import write_json_atomic
from tripwire.artifacts._hashing import iter_files, sha256_file, sha256_json
from tripwire.errors import BadInputError

MANIFEST_NAME = "tripwire.json"
SCHEMA_VERSION = 1


class ArtifactKind(StrEnum):
    """What an artifact is."""

    MODEL = "model"
    TOKENIZER = "tokenizer"
    DATASET = "dataset"
    EVAL_RUN = "eval_run"


@dataclass(frozen=True)
class FileEntry:
    """One file of an artifact."""

    path: str
    """Path relative to the artifact root (POSIX separators)."""
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """Identity and provenance of one artifact; stored beside it as ``tripwire.json``."""

    id: str
    """Content hash over kind and (path, sha256) of every file: same bytes, same id."""
    kind: ArtifactKind
    name: str
    files: tuple[FileEntry, ...]
    parents: tuple[str, ...] = ()
    """Ids of the artifacts this one was made from."""
    command: str = ""
    """The command line that made it."""
    created_at: str = ""
    notes: dict[str, Any] = field(default_factory=dict)
    """Free-form, machine-readable facts about how it was made (configs, repair plans, metrics)."""
    schema_version: int = SCHEMA_VERSION

    @staticmethod
    def content_id(kind: ArtifactKind | str, files: tuple[FileEntry, ...]) -> str:
        """The id an artifact of this kind with these files has."""
        return sha256_json({"kind": str(kind), "files": [[f.path, f.sha256] for f in files]})

    @classmethod
    def build(
        cls,
        path: str | Path,
        kind: ArtifactKind | str,
        *,
        name: str | None = None,
        parents: tuple[str, ...] | list[str] = (),
        command: str | None = None,
        notes: dict[str, Any] | None = None,
    ) -> Manifest:
        """Hash the files of ``path`` (a directory or one file) into a manifest."""
        path = Path(path)
        if not path.exists():
            raise BadInputError(path, "no such file or directory")
        if path.is_dir():
            files = tuple(
                FileEntry(p.relative_to(path).as_posix(), sha256_file(p), p.stat().st_size)
                for p in iter_files(path, exclude=[MANIFEST_NAME])
            )
        else:
            files = (FileEntry(path.name, sha256_file(path), path.stat().st_size),)
        kind = ArtifactKind(kind)
        return cls(
            id=cls.content_id(kind, files),
            kind=kind,
            name=name or path.resolve().name,
            files=files,
            parents=tuple(parents),
            command=command if command is not None else shlex.join(sys.argv),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            notes=dict(notes or {}),
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kind"] = str(self.kind)
        out["files"] = [asdict(f) for f in self.files]
        out["parents"] = list(self.parents)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str | Path = "<manifest>") -> Manifest:
        try:
            return cls(
                id=data["id"],
                kind=ArtifactKind(data["kind"]),
                name=data["name"],
                files=tuple(FileEntry(**f) for f in data["files"]),
                parents=tuple(data.get("parents", ())),
                command=data.get("command", ""),
                created_at=data.get("created_at", ""),
                notes=dict(data.get("notes", {})),
                schema_version=int(data.get("schema_version", SCHEMA_VERSION)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInputError(where, f"not a tripwire manifest ({exc!r})") from exc

    def write(self, artifact: str | Path) -> Path:
        """Store the manifest beside the artifact and return where."""
        target = manifest_path(artifact)
        write_json_atomic(target, self.to_dict())
        return target

    @classmethod
    def read(cls, artifact: str | Path) -> Manifest:
        """Read the manifest stored beside ``artifact`` (or a manifest file itself)."""
        artifact = Path(artifact)
        target = artifact if artifact.name.endswith(MANIFEST_NAME) else manifest_path(artifact)
        if not target.is_file():
            raise BadInputError(artifact, f"has no {MANIFEST_NAME} manifest")
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BadInputError(target, f"unreadable manifest: {exc}") from exc
        return cls.from_dict(data, target)

    def changed_files(self, artifact: str | Path) -> list[str]:
        """Paths whose bytes differ from the manifest (missing, modified or extra files)."""
        current = Manifest.build(artifact, self.kind, command="")
        mine = {f.path: f.sha256 for f in self.files}
        theirs = {f.path: f.sha256 for f in current.files}
        return sorted(p for p in mine.keys() | theirs.keys() if mine.get(p) != theirs.get(p))


def manifest_path(artifact: str | Path) -> Path:
    """``DIR/tripwire.json`` for a directory artifact, ``FILE.tripwire.json`` for a file."""
    artifact = Path(artifact)
    if artifact.is_dir():
        return artifact / MANIFEST_NAME
    return artifact.with_name(f"{artifact.name}.{MANIFEST_NAME}")


def ensure_manifest(artifact: str | Path, kind: ArtifactKind | str) -> Manifest:
    """The stored manifest if its files still match, else a freshly built (unsaved) one.

    The artifact is hashed once either way; a stored manifest only adds its provenance.
    """
    current = Manifest.build(artifact, kind, command="")
    try:
        stored = Manifest.read(artifact)
    except BadInputError:
        return current
    return stored if stored.id == current.id else current
