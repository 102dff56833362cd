"""Content-addressed result cache: identical (program, tests, limits, interpreter) run once.

Results are committed at most every ``COMMIT_EVERY_S`` and by :meth:`ResultCache.flush`: a
commit per result cost a fifth of a millisecond, as much as a tenth of a program's run. A crash
loses at most that much of the cache, never a run's results (they are in the run's own log)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from tripwire.sandbox._types import ExecResult

COMMIT_EVERY_S = 1.0


class ResultCache:
    """A SQLite table of ExecResults by key; safe to share between processes."""

    def __init__(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(directory / "results.sqlite", timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a crash may lose a result, not corrupt
        self._db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, result TEXT)")
        self._db.commit()
        self._committed = time.monotonic()

    def get(self, key: str) -> ExecResult | None:
        row = self._db.execute("SELECT result FROM results WHERE key = ?", (key,)).fetchone()
        return None if row is None else ExecResult.from_dict({**json.loads(row[0]), "cached": True})

    def put(self, key: str, result: ExecResult) -> None:
        data = {**result.to_dict(), "cached": False}
        self._db.execute(
            "INSERT OR REPLACE INTO results (key, result) VALUES (?, ?)", (key, json.dumps(data))
        )
        if time.monotonic() - self._committed >= COMMIT_EVERY_S:
            self.flush()

    def flush(self) -> None:
        """Commit what was put (other processes sharing the cache see it from now on)."""
        self._db.commit()
        self._committed = time.monotonic()

    def close(self) -> None:
        self.flush()
        self._db.close()
