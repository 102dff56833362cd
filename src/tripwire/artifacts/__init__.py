"""Artifacts: load checkpoints offline, hash, describe (Manifest) and record them (Registry)."""

from tripwire.artifacts._atomic import atomic_path, write_json_atomic, write_text_atomic
from tripwire.artifacts._checkpoint import Checkpoint
from tripwire.artifacts._database import open_database
from tripwire.artifacts._hashing import sha256_bytes, sha256_file, sha256_json
from tripwire.artifacts._manifest import (
    MANIFEST_NAME,
    ArtifactKind,
    FileEntry,
    Manifest,
    ensure_manifest,
    manifest_path,
)
from tripwire.artifacts._paths import cache_dir, data_dir, default_registry_url
from tripwire.artifacts._registry import KNOWN_GOOD, ROLLBACK, Mark, RegisteredArtifact, Registry

__all__ = [
    "KNOWN_GOOD",
    "MANIFEST_NAME",
    "ROLLBACK",
    "ArtifactKind",
    "Checkpoint",
    "FileEntry",
    "Manifest",
    "Mark",
    "RegisteredArtifact",
    "Registry",
    "atomic_path",
    "cache_dir",
    "data_dir",
    "default_registry_url",
    "ensure_manifest",
    "manifest_path",
    "open_database",
    "sha256_bytes",
    "sha256_file",
    "sha256_json",
    "write_json_atomic",
    "write_text_atomic",
]
