"""The monitor's store: a database written before events carried a stratum still opens."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tripwire.monitor._store import Store


def test_a_database_without_the_stratum_column_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:  # the schema as it was before strata
        db.execute("ALTER TABLE monitor_events DROP COLUMN stratum")
        assert "stratum" not in {r[1] for r in db.execute("PRAGMA table_info(monitor_events)")}
    store = Store(f"sqlite:///{path}")
    try:
        assert list(store.iter_flags()) == []
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        assert "stratum" in {r[1] for r in db.execute("PRAGMA table_info(monitor_events)")}
