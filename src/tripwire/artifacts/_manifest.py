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

from tripwire.artifacts._atomic import cannot_write, write_json_atomic
from tripwire.artifacts._hashing import iter_files, sha256_file, sha256_json
from tripwire.documents import Fields
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
        if not (path.is_dir() or path.is_file()):
            # a FIFO would hang the hash, and the manifest beside /dev/null would land in /dev
            raise BadInputError(path, "not a regular file or directory")
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
    def from_dict(cls, data: Any, where: str | Path = "<manifest>") -> Manifest:
        """A manifest read back (from a file or the registry), each field checked for the type
        it is used as: a hand-edited ``"parents": "abc"`` must not become three parents."""
        try:
            return cls._from_fields(Fields(data, "", str(where)))
        except BadInputError as exc:
            raise BadInputError(where, f"not a tripwire manifest ({exc.problem})") from exc

    @classmethod
    def _from_fields(cls, f: Fields) -> Manifest:
        version = f.whole("schema_version", SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise f.bad("schema_version", f"is {version}: written by a newer tripwire "
                        f"(this one reads {SCHEMA_VERSION})")  # fmt: skip
        if not f.has("files"):  # an empty artifact lists no files, but still says so
            raise f.bad("files", "is missing")
        files = tuple(
            FileEntry(path=_string(e, "path"), sha256=_string(e, "sha256"), size=e.whole("size"))
            for e in f.objects("files")
        )
        for i, parent in enumerate(f.items("parents")):
            if not isinstance(parent, str):
                raise f.bad(f"parents[{i}]", f"must be an artifact id, got {parent!r}")
        return cls(
            id=_string(f, "id"),
            kind=f.enum("kind", ArtifactKind),
            name=_string(f, "name"),
            files=files,
            parents=tuple(f.items("parents")),
            command=_string(f, "command", ""),
            created_at=_string(f, "created_at", ""),
            notes=f.mapping("notes"),
            schema_version=version,
        )

    def write(self, artifact: str | Path) -> Path:
        """Store the manifest beside the artifact and return where."""
        target = check_manifest_writable(artifact)
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
        except (OSError, json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise BadInputError(target, f"unreadable manifest: {exc}") from exc
        return cls.from_dict(data, target)

    def changed_files(self, artifact: str | Path) -> list[str]:
        """Paths whose bytes differ from the manifest (missing, modified or extra files)."""
        current = Manifest.build(artifact, self.kind, command="")
        mine = {f.path: f.sha256 for f in self.files}
        theirs = {f.path: f.sha256 for f in current.files}
        return sorted(p for p in mine.keys() | theirs.keys() if mine.get(p) != theirs.get(p))


def _string(fields: Fields, key: str, default: str | None = None) -> str:
    value = fields.raw(key, default) if default is not None else fields.raw(key)
    if not isinstance(value, str):
        raise fields.bad(key, f"must be a string, got {value!r}")
    return value


def manifest_path(artifact: str | Path) -> Path:
    """``DIR/tripwire.json`` for a directory artifact, ``FILE.tripwire.json`` for a file."""
    artifact = Path(artifact)
    if artifact.is_dir():
        return artifact / MANIFEST_NAME
    return artifact.with_name(f"{artifact.name}.{MANIFEST_NAME}")


def check_manifest_writable(artifact: str | Path) -> Path:
    """Where the manifest of ``artifact`` goes, refused (``BadInputError``) when it cannot be
    written there: checked before anything is recorded about the artifact elsewhere."""
    target = manifest_path(artifact)
    if target.exists() and not target.is_file():
        # a FIFO there would block the write forever; a folder would fail on a temp name
        raise BadInputError(target, "is not a regular file: move it to store the manifest")
    why = cannot_write(target)
    if why is not None:
        raise BadInputError(target, f"cannot store the manifest: {why}")
    return target


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
