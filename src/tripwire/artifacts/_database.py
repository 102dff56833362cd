"""Open a SQLAlchemy database by URL for tripwire's own tables (registry, monitor store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from tripwire.errors import BadInputError


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL keeps readers and a writer from blocking each other; FULL makes a committed
    # transaction survive power loss, not only a killed process; busy_timeout rides out contention
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def open_database(
    url: str, metadata: MetaData, what: str, *, create_parent: bool = False
) -> Engine:
    """An engine on ``url`` with ``metadata``'s tables created; any failure is one BadInputError
    naming the URL. ``create_parent`` makes a SQLite file's directory (for default locations)."""
    try:
        if create_parent and url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        metadata.create_all(engine)
    except (ArgumentError, SQLAlchemyError, ImportError, ValueError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BadInputError(url, f"cannot open {what}: {reason}") from exc
    return engine
