"""Open a SQLAlchemy database by URL for tripwire's own tables (registry, monitor store)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from tripwire.errors import BadInputError, UnavailableError

# The pip package that provides a driver module SQLAlchemy imports, where the names differ.
_DRIVER_PACKAGES = {
    "MySQLdb": "mysqlclient",
    "pymysql": "PyMySQL",
    "psycopg2": "psycopg2-binary",
    "psycopg": "psycopg[binary]",
    "asyncpg": "asyncpg",
    "cx_Oracle": "cx_Oracle",
    "oracledb": "oracledb",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
}


def shown_url(url: str) -> str:
    """``url`` as it may appear in a message or a log: its password replaced by ``***``."""
    try:
        parsed = make_url(url)
        # rendered only when there is a password to hide: rendering re-quotes the rest
        return url if parsed.password is None else parsed.render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        # not a URL SQLAlchemy parses, but it may still carry ``user:password@``
        return re.sub(r"(//[^/:@\s]*:)[^@\s]*@", r"\1***@", url)


def _password(url: str) -> str | None:
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError, TypeError):
        return None
    return str(password) if password else None


def database_error(url: str, what: str, exc: BaseException) -> BadInputError:
    """One line naming the database (password hidden) and what went wrong with it."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    secret = _password(url)
    if secret:  # a driver may repeat the connection string in its message
        reason = reason.replace(secret, "***")
    return BadInputError(shown_url(url), f"{what}: {reason}")


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
    """An engine on ``url`` with ``metadata``'s tables created; any failure is one line naming
    the URL (password hidden): a driver that is not installed is ``UnavailableError``, anything
    else ``BadInputError``. ``create_parent`` makes a SQLite file's directory (for default
    locations)."""
    try:
        if create_parent and url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        metadata.create_all(engine)
    except ImportError as exc:
        module = exc.name or str(exc)
        package = _DRIVER_PACKAGES.get(module.split(".")[0], module.split(".")[0])
        raise UnavailableError(
            shown_url(url),
            f"cannot open {what}: its database driver {module!r} is not installed "
            f"(pip install {package})",
        ) from exc
    except (ArgumentError, SQLAlchemyError, ValueError, OSError) as exc:
        raise database_error(url, f"cannot open {what}", exc) from exc
    return engine
