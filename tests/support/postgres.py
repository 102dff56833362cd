"""Test fixture: a real PostgreSQL server for the test session, in a temporary directory.

It finds ``initdb``/``pg_ctl`` (``/usr/lib/postgresql/*/bin`` first, then PATH), creates a
cluster on a free loopback port, starts it and yields a SQLAlchemy URL (psycopg 3 driver).
PostgreSQL refuses to run as root, so under uid 0 the server runs as the ``postgres`` user.
Without the binaries the tests that need it are skipped with a loud reason.

Use it from a conftest: ``from tests.support.postgres import postgres_url  # noqa: F401``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _find(name: str) -> str | None:
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        p = Path(d) / name
        if p.is_file():
            return str(p)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(cmd)]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL to an empty database on a PostgreSQL server started for this session."""
    initdb, pg_ctl = _find("initdb"), _find("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip(
            "!!! PostgreSQL NOT TESTED: initdb/pg_ctl not found (install the Debian package "
            "'postgresql'); the PostgreSQL half of these tests did not run !!!"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("!!! PostgreSQL NOT TESTED: psycopg missing (pip install 'tripwire[postgres]')")
    root = Path(tempfile.mkdtemp(prefix="tripwire-pg-"))
    data = root / "data"
    port = _free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        root.chmod(0o755)
    subprocess.run(_as_server_user([initdb, "-D", str(data), "-U", "postgres", "-A", "trust",
                                    "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True)  # fmt: skip
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=on"
    subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-o", opts, "-l",
                                    str(root / "log"), "-w", "-t", "60", "start"]),
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
