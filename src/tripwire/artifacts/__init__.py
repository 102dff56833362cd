"""Artifacts: load checkpoints offline, hash, describe (Manifest) and record them (Registry).

The registry and ``open_database`` load on first use: they import SQLAlchemy (about 0.3 s),
which every CLI call would otherwise pay.
"""

import importlib
from typing import TYPE_CHECKING, Any

from tripwire.artifacts._atomic import (
    atomic_path,
    cannot_write,
    write_json_atomic,
    write_text_atomic,
    writes_through,
)
from tripwire.artifacts._checkpoint import Checkpoint
from tripwire.artifacts._hashing import sha256_bytes, sha256_file, sha256_json
from tripwire.artifacts._manifest import (
    MANIFEST_NAME,
    ArtifactKind,
    FileEntry,
    Manifest,
    check_manifest_writable,
    ensure_manifest,
    manifest_path,
)
from tripwire.artifacts._paths import cache_dir, data_dir, default_registry_url
from tripwire.artifacts._preflight import (
    REPAIRABLE_PROBLEMS,
    NotRunnableError,
    RunProblem,
    check_runnable,
    forward_problems,
)
from tripwire.artifacts._training import TrainedData, TrainingRecord

if TYPE_CHECKING:
    from tripwire.artifacts._database import open_database, shown_url
    from tripwire.artifacts._registry import (
        KNOWN_GOOD,
        ROLLBACK,
        Mark,
        RegisteredArtifact,
        Registry,
    )

_LAZY = {
    "open_database": "_database",
    "shown_url": "_database",
    **dict.fromkeys(
        ("KNOWN_GOOD", "ROLLBACK", "Mark", "RegisteredArtifact", "Registry"), "_registry"
    ),
}

__all__ = [
    "KNOWN_GOOD",
    "MANIFEST_NAME",
    "REPAIRABLE_PROBLEMS",
    "ROLLBACK",
    "ArtifactKind",
    "Checkpoint",
    "FileEntry",
    "Manifest",
    "Mark",
    "NotRunnableError",
    "RegisteredArtifact",
    "Registry",
    "RunProblem",
    "TrainedData",
    "TrainingRecord",
    "atomic_path",
    "cache_dir",
    "cannot_write",
    "check_manifest_writable",
    "check_runnable",
    "data_dir",
    "default_registry_url",
    "ensure_manifest",
    "forward_problems",
    "manifest_path",
    "open_database",
    "sha256_bytes",
    "sha256_file",
    "sha256_json",
    "shown_url",
    "write_json_atomic",
    "write_text_atomic",
    "writes_through",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"tripwire.artifacts.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'tripwire.artifacts' has no attribute {name!r}")
