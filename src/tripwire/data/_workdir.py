"""Per-shard intermediate files and completion markers, kept next to the outputs so a re-run
with the same outputs skips every shard already finished (a marker is trusted only when the
shard's input fingerprint and the configuration hash both match)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Any

from tripwire.artifacts import writes_through
from tripwire.data._readers import Shard

SUFFIX = ".tripwire-work"


class ShardFile(StrEnum):
    """Every intermediate file a shard leaves in the work directory (``shard-NNNNN.<name>``)."""

    RECORDS = "records.json"
    """The map stage's per-record rows: reasons, flags and evidence."""
    FIT = "fit.json"
    """Features of the records the instruction-fit check scores across shards."""
    IDS = "ids.json"
    """Record ids in shard order (the dedup stage's index)."""
    SIGNATURES = "sigs.npz"
    """MinHash signatures and exact-content hashes."""
    TESTS = "tests.jsonl"
    """Records whose tests the sandbox runs."""
    TEST_RESULTS = "testresults.jsonl"
    """Their verdicts."""
    FINDINGS = "findings.part"
    """This shard's part of the findings file."""
    CLEAN = "clean.part"
    """This shard's part of the clean copy."""


class WorkDir:
    def __init__(self, path: Path, *, temporary: bool = False) -> None:
        self.path = path
        self.temporary = temporary
        path.mkdir(parents=True, exist_ok=True)

    @classmethod
    def for_outputs(cls, outputs: list[Path | None]) -> WorkDir:
        """``<first output>.tripwire-work``; a temporary folder when nothing is written to a
        file (no scratch folder beside /dev/null or /dev/stdout: it would land in /dev)."""
        real = [p for p in outputs if p is not None and str(p) != "-" and not writes_through(p)]
        if not real:
            return cls(Path(tempfile.mkdtemp(prefix="tripwire-audit-")), temporary=True)
        first = real[0]
        return cls(first.parent / (first.name + SUFFIX))

    def _path(self, shard: Shard | int, name: str) -> Path:
        n = shard if isinstance(shard, int) else shard.number
        return self.path / f"shard-{n:05d}.{name}"

    def file(self, shard: Shard | int, kind: ShardFile) -> Path:
        return self._path(shard, kind.value)

    def _marker(self, shard: Shard, stage: str) -> Path:
        return self._path(shard, f"{stage}.done")

    def done(self, shard: Shard, stage: str, key: str) -> dict[str, Any] | None:
        """The marker's summary when ``stage`` finished for this shard with this key."""
        marker = self._marker(shard, stage)
        try:
            data = json.loads(marker.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        if data.get("fingerprint") != shard.fingerprint or data.get("key") != key:
            return None
        return data.get("summary", {})

    def mark(self, shard: Shard, stage: str, key: str, summary: dict[str, Any]) -> None:
        """Write the marker last and atomically: its presence means every file is complete."""
        marker = self._marker(shard, stage)
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"fingerprint": shard.fingerprint, "key": key, "summary": summary})
        )
        os.replace(tmp, marker)

    def cleanup(self) -> None:
        if self.temporary:
            shutil.rmtree(self.path, ignore_errors=True)
