"""Several ``monitor serve`` processes on one PostgreSQL: who detects, and from where.

Every replica ingests: it checks a batch, commits it and acknowledges it, and the commit takes
the store's order lock, so ``seq`` is the commit order and the stored events are one stream
every replica reads the same way. Exactly one replica detects at a time: the one holding a
PostgreSQL session advisory lock (``Lease``) on a connection of its own. It feeds the
detectors every event after its cursor, in ``seq`` order (its own batches straight from memory
when nothing of another replica's came between), stores their alerts, and checkpoints the
detectors with the cursor (``Checkpoint``: one row, rewritten every ``CHECKPOINT_S`` while
events arrive and whenever an alert was stored). When it dies, even by ``kill -9``,
PostgreSQL drops its connection and with it the lock; another replica's poll takes the lock,
loads the checkpoint and reads on from its cursor.

Why nothing is seen twice or lost. The detectors' state is a function of the events before the
cursor, in ``seq`` order, and nothing else (alerts are keyed by the event index where their
change began), so a checkpoint at cursor ``c`` followed by the events after ``c`` is the state
a single detector that saw every event once would have. Alerts raised again after a takeover
(between the last checkpoint and the death) carry the keys already stored and are stored once.
The checkpoint only moves forward (a stale detector, if two ever believed they held the lock,
computes the same states and cannot move it back).

What replicas do not share: each one's ``/metrics`` counters (the events it accepted since it
started, over the database's events at its start) and the alerts in its own ``POST`` responses
(only the detecting replica raises them; ``/v1/alerts`` on any replica lists them all). A
replica that does not detect shows the detectors as last checkpointed.
"""

from __future__ import annotations

import io
import json
import logging
import os
import pickle
import socket
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine

from tripwire.monitor._detect import Detector, DetectorConfig
from tripwire.monitor._store import detector_state

log = logging.getLogger("tripwire.monitor")
CHECKPOINT_S = 2.0
"""Most seconds of detection a takeover repeats (the detectors are checkpointed this often)."""
POLL_S = 0.5
"""How often a replica tries for the lock, and the detecting one reads other replicas' events."""
ALIVE_EVERY = 8
"""Polls between checks that the lock's connection still answers (a replica that lost it
unknowingly only repeats the detection the holder does, with the same results, meanwhile)."""
CHUNK = 2000
"""Events the detecting replica reads back per step (the service lock is released between)."""
_NAME = "detector"

# what a checkpoint may contain: the detectors' own classes and plain values. The row is in the
# monitor's own database, but unpickling anything else would let a database writer run code.
_ALLOWED = {
    ("collections", "Counter"),
    ("datetime", "datetime"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("tripwire.monitor._detect", "Detector"),
    ("tripwire.monitor._detect", "DetectorConfig"),
    ("tripwire.monitor._detect", "_Baseline"),
    ("tripwire.monitor._detect", "_Design"),
    ("tripwire.monitor._detect", "_Stream"),
    ("tripwire.monitor._slices", "Slice"),
    ("tripwire.stats._sequential", "Chart"),
    ("tripwire.stats._sequential", "CusumBank"),
    ("tripwire.stats._mixture", "RiskAdjustedMixture"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a detector checkpoint")
        return super().find_class(module, name)


def dump_detector(detector: Detector) -> bytes:
    return zlib.compress(pickle.dumps(detector, protocol=5), 1)


def load_detector(blob: bytes) -> Detector:
    detector = _Unpickler(io.BytesIO(zlib.decompress(blob))).load()
    if not isinstance(detector, Detector):
        raise pickle.UnpicklingError("a detector checkpoint holds no Detector")
    return detector


def config_key(config: DetectorConfig) -> str:
    """What a checkpoint must match to be used: replicas run with the same detector options."""
    return json.dumps(config.to_dict(), sort_keys=True, default=str)


@dataclass(frozen=True)
class Checkpoint:
    cursor: int
    """The ``seq`` of the last event the detectors saw."""
    observed: int
    config: str
    holder: str
    written_at: str
    state: bytes | None = None


class Lease:
    """The right to detect: a session advisory lock on a connection held for as long as it is
    held. A process that dies loses its connections, and PostgreSQL releases the lock."""

    def __init__(self, engine: Engine, key: int) -> None:
        self.engine = engine
        self.key = key
        self._conn: Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def acquire(self) -> bool:
        if self._conn is not None:
            return True
        conn = self.engine.connect()
        try:
            got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}))
            conn.commit()  # a session lock outlives the transaction; no idle transaction left open
        except Exception:
            conn.close()
            raise
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def alive(self) -> bool:
        """Whether the lock's connection still answers (if not, the lock is gone with it)."""
        if self._conn is None:
            return False
        try:
            self._conn.scalar(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:
            log.warning("the detection lock's connection is gone: detection stops here")
            self.drop()
            return False

    def drop(self) -> None:
        """Give the lock up (closing its connection releases it)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # never back into the pool with the lock still on it
            finally:
                conn.close()


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def read_checkpoint(engine: Engine, with_state: bool = True) -> Checkpoint | None:
    t = detector_state.c
    cols = [t.cursor, t.observed, t.config, t.holder, t.written_at]
    with engine.connect() as conn:
        row = conn.execute(
            select(*cols, *([t.state] if with_state else [])).where(t.name == _NAME)
        ).first()
    if row is None:
        return None
    return Checkpoint(int(row[0]), int(row[1]), row[2], row[3], row[4],
                      bytes(row[5]) if with_state else None)  # fmt: skip


def write_checkpoint(engine: Engine, cursor: int, detector: Detector, holder: str) -> bool:
    """Store the detectors as of ``cursor``, unless a checkpoint at or past it is stored."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    values = {"name": _NAME, "cursor": cursor, "observed": detector.observed,
              "config": config_key(detector.config), "state": dump_detector(detector),
              "written_at": datetime.now(UTC).isoformat(), "holder": holder}  # fmt: skip
    stmt = pg_insert(detector_state).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[detector_state.c.name],
        set_={k: stmt.excluded[k] for k in values if k != "name"},
        where=detector_state.c.cursor < stmt.excluded.cursor,
    ).returning(detector_state.c.cursor)
    with engine.begin() as conn:
        return conn.execute(stmt).first() is not None
