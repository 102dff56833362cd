"""The monitor's database: events, feedback, deploys and alerts (SQLAlchemy Core).

SQLite in WAL mode with ``synchronous=FULL`` by default, PostgreSQL (or any SQLAlchemy URL) by
``--db``. Every write commits before the caller acknowledges it, so an acknowledged event
survives the process being killed. Defect flags are columns (not JSON) so the dashboard's
series are one GROUP BY on either database.

On PostgreSQL, where several replicas may write (``_replicas``), each batch of events is
inserted under a transaction-level advisory lock: ``seq`` is then assigned in commit order, so a
reader that has seen ``seq = n`` will never later see a smaller one commit, and "every event
after the cursor, in ``seq`` order" is the same stream for every reader.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.pool import NullPool

from tripwire.artifacts import open_database
from tripwire.monitor._checks import FLAGS, CheckResult
from tripwire.monitor._schema import Deploy, Event, Feedback
from tripwire.monitor._slices import DIMENSIONS, Slice

_meta = MetaData()
_Seq = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


def _slice_columns(nullable: bool) -> list[Column[Any]]:
    return [Column(d, String(200), nullable=nullable, index=True) for d in DIMENSIONS]


events = Table(
    "monitor_events", _meta,
    Column("seq", _Seq, primary_key=True, autoincrement=True),
    Column("event_id", String(200), nullable=False, unique=True),
    Column("ts", String(40), nullable=False),
    Column("minute", BigInteger, nullable=False, index=True),
    *_slice_columns(False),
    Column("stratum", String(40), nullable=False, server_default=""),
    Column("attributes", Text, nullable=True),
    *[Column(f"f_{f}", SmallInteger, nullable=True) for f in FLAGS],
    Column("latency_ms", Float, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("details", Text, nullable=False),
    Column("payload", Text, nullable=False),
)  # fmt: skip
feedback = Table(
    "monitor_feedback", _meta,
    Column("seq", _Seq, primary_key=True, autoincrement=True),
    Column("event_id", String(200), nullable=True, index=True),
    Column("ts", String(40), nullable=False),
    Column("minute", BigInteger, nullable=False, index=True),
    Column("thumbs", String(8), nullable=True),
    Column("category", String(40), nullable=False, index=True),
    Column("source", String(16), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("text", Text, nullable=False),
    *_slice_columns(True),
)  # fmt: skip
deploys = Table(
    "monitor_deploys", _meta,
    Column("seq", _Seq, primary_key=True, autoincrement=True),
    Column("ts", String(40), nullable=False),
    Column("payload", Text, nullable=False),
)  # fmt: skip
alerts = Table(
    "monitor_alerts", _meta,
    Column("seq", _Seq, primary_key=True, autoincrement=True),
    Column("key", String(700), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
    Column("metric", String(40), nullable=False),
    Column("payload", Text, nullable=False),
)  # fmt: skip
detector_state = Table(
    "monitor_detector", _meta,
    Column("name", String(40), primary_key=True),
    Column("cursor", BigInteger, nullable=False),
    Column("observed", BigInteger, nullable=False),
    Column("config", Text, nullable=False),
    Column("state", LargeBinary, nullable=False),
    Column("written_at", String(40), nullable=False),
    Column("holder", String(200), nullable=False),
)  # fmt: skip
"""Replicas on PostgreSQL: the detectors as of event ``cursor`` (``_replicas``)."""

_SCHEMA_LOCK = 0x7472_696D
_ORDER_LOCK, _DETECT_LOCK = 0x7472_6970, 0x7472_6971
"""Advisory lock classes, combined with the events table's oid so that each schema on a server
(tests put one per test on a shared server) has its own locks."""


Observation = tuple[int, Slice, dict[str, bool | None], datetime, str, dict[str, str] | None]
"""One stored event as the detectors read it: seq, slice, flags, time, stratum, attributes."""


def _minute(ts: datetime) -> int:
    return int(ts.timestamp() // 60)


@contextmanager
def _schema_lock(url: str) -> Iterator[None]:
    """PostgreSQL: one replica at a time creates or upgrades the tables (replicas started
    together would race on CREATE TABLE). Held in a transaction of its own connection."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    try:
        postgres = make_url(url).get_backend_name() == "postgresql"
    except ArgumentError:
        postgres = False  # open_database names the problem
    if not postgres:
        yield
        return
    try:
        engine = create_engine(url, poolclass=NullPool)
        conn = engine.connect()
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
    except (SQLAlchemyError, ImportError):
        yield  # the server cannot be reached: open_database says so, in its words
        return
    try:
        yield
    finally:
        conn.rollback()
        conn.close()
        engine.dispose()


def default_db_url(path: Path) -> str:
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class Stored:
    """The outcome of one batch write."""

    accepted: list[str]
    duplicates: list[str]
    before: int | None = None
    last: int | None = None
    """PostgreSQL: the largest ``seq`` before and after the insert (the accepted events hold
    exactly the ``seq`` values in between, in batch order: the insert held the order lock)."""


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        with _schema_lock(url):
            self.engine = open_database(url, _meta, "monitor database", create_parent=True)
            self._add_stratum_column()
        self.shared = self.engine.dialect.name == "postgresql"
        """Whether several service processes may share this database (PostgreSQL only)."""
        self._order_key = self._detect_key = 0
        if self.shared:
            from sqlalchemy import text

            with self.engine.connect() as conn:
                oid = int(conn.scalar(text("SELECT 'monitor_events'::regclass::oid")) or 0)
            self._order_key = (_ORDER_LOCK << 32) | oid
            self._detect_key = (_DETECT_LOCK << 32) | oid

    @property
    def detect_lock_key(self) -> int:
        """The session advisory lock the detecting replica holds (PostgreSQL)."""
        return self._detect_key

    def _add_stratum_column(self) -> None:
        """Databases written before events had a stratum (or attributes) get the columns."""
        from sqlalchemy import inspect, text

        columns = {c["name"] for c in inspect(self.engine).get_columns("monitor_events")}
        with self.engine.begin() as conn:
            if "stratum" not in columns:
                conn.execute(text("ALTER TABLE monitor_events ADD COLUMN stratum VARCHAR(40) "
                                  "NOT NULL DEFAULT ''"))  # fmt: skip
            if "attributes" not in columns:
                conn.execute(text("ALTER TABLE monitor_events ADD COLUMN attributes TEXT"))

    def close(self) -> None:
        self.engine.dispose()

    def _insert_ignoring(self, table: Table, key: str) -> Any:
        """An INSERT that skips rows whose ``key`` is already stored (retried sends)."""
        name = self.engine.dialect.name
        if name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing(index_elements=[key])
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table).on_conflict_do_nothing(index_elements=[key])
        return insert(table)

    def add_events(self, batch: Sequence[tuple[Event, CheckResult]]) -> Stored:
        """Store a batch in one transaction, committed on return; ids already stored are
        reported as duplicates and not stored again.

        One driver-level ``executemany`` of plain tuples: SQLAlchemy's per-row parameter
        processing cost more than the database's own work (about 55 us an event)."""
        rows = []
        for ev, result in batch:
            flags = result.flags
            rows.append((
                ev.event_id, ev.ts.isoformat(), _minute(ev.ts), ev.model_version, ev.deployment,
                ev.hardware, ev.route, result.stratum,
                json.dumps(ev.attributes, sort_keys=True) if ev.attributes else None,
                *[None if flags.get(f) is None else int(bool(flags[f])) for f in FLAGS],
                ev.latency_ms, ev.completion_tokens,
                json.dumps(result.details) if result.details else "{}", ev.model_dump_json(),
            ))  # fmt: skip
        ids = [r[0] for r in rows]
        before = last = None
        with self.engine.begin() as conn:
            if self.shared:
                # seq in commit order, and the duplicate check exact; raw SQL, one round trip
                # for both reads: a lone replica pays about one statement more than before
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (self._order_key,))
                before, found = conn.exec_driver_sql(
                    f"SELECT (SELECT coalesce(max(seq), 0) FROM {events.name}), ARRAY(SELECT "
                    f"event_id FROM {events.name} WHERE event_id = ANY(%s))", (ids,)
                ).one()  # fmt: skip
                existing = set(found)
            else:
                existing = set(
                    conn.scalars(select(events.c.event_id).where(events.c.event_id.in_(ids)))
                )
            fresh, duplicates, seen = [], [], set(existing)
            for r in rows:
                # a batch may repeat an id: stored once, and each repeat named a duplicate, so
                # every event sent is accounted for
                (duplicates if r[0] in seen else fresh).append(r)
                seen.add(r[0])
            last = before
            if fresh and self.shared:  # the seq values it took, from the insert itself
                with conn.connection.dbapi_connection.cursor() as cur:
                    cur.executemany(self._insert_sql + " RETURNING seq", fresh, returning=True)
                    while True:
                        last = max([last, *(r[0] for r in cur.fetchall())])
                        if not cur.nextset():
                            break
            elif fresh:
                conn.exec_driver_sql(self._insert_sql, fresh)
        return Stored([r[0] for r in fresh], [r[0] for r in duplicates], before, last)

    @property
    def _insert_sql(self) -> str:
        cols = ["event_id", "ts", "minute", *DIMENSIONS, "stratum", "attributes",
                *[f"f_{f}" for f in FLAGS], "latency_ms", "completion_tokens", "details",
                "payload"]  # fmt: skip
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        values = ", ".join([mark] * len(cols))
        head = f"INTO {events.name} ({', '.join(cols)}) VALUES ({values})"
        if self.engine.dialect.name == "sqlite":
            return f"INSERT OR IGNORE {head}"
        if self.engine.dialect.name == "postgresql":
            return f"INSERT {head} ON CONFLICT (event_id) DO NOTHING"
        return f"INSERT {head}"

    def add_feedback(
        self, fb: Feedback, category: str, source: str, evidence: Sequence[str]
    ) -> int:
        sl = {d: getattr(fb, d) for d in DIMENSIONS}
        with self.engine.begin() as conn:
            if fb.event_id and any(v is None for v in sl.values()):
                row = conn.execute(
                    select(*[events.c[d] for d in DIMENSIONS]).where(
                        events.c.event_id == fb.event_id
                    )
                ).first()
                if row is not None:
                    sl = {d: sl[d] or row._mapping[d] for d in DIMENSIONS}
            res = conn.execute(insert(feedback).values(
                event_id=fb.event_id, ts=fb.ts.isoformat(), minute=_minute(fb.ts),
                thumbs=fb.thumbs, category=category, source=source,
                evidence=json.dumps(list(evidence)), text=fb.text, **sl,
            ))  # fmt: skip
            return int(res.inserted_primary_key[0])

    def add_deploy(self, d: Deploy) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(deploys).values(ts=d.ts.isoformat(), payload=d.model_dump_json()))

    @staticmethod
    def alert_key(alert: dict[str, Any]) -> str:
        return f"{alert['metric']}|{alert['slice_label']}|{alert['change_index']}"

    def add_alert(self, alert: dict[str, Any]) -> bool:
        """Store an alert once (the same change on the same stream is one alert)."""
        now = datetime.now(UTC).isoformat()
        stmt = self._insert_ignoring(alerts, "key").values(
            key=self.alert_key(alert), created_at=now, metric=alert["metric"],
            payload=json.dumps(alert),
        ).returning(alerts.c.seq)  # fmt: skip
        with self.engine.begin() as conn:
            # a returned row, not rowcount: psycopg reports -1 (unknown) for a skipped insert
            return conn.execute(stmt).first() is not None

    def incomplete_alert_keys(self) -> set[str]:
        """Keys of alerts stored without their context (``bare_alert``)."""
        with self.engine.connect() as conn:
            q = select(alerts.c.key).where(alerts.c.payload.contains('"context_error"'))
            return set(conn.scalars(q))

    def replace_alert(self, alert: dict[str, Any]) -> None:
        """Store the complete form of an alert first stored without its context."""
        from sqlalchemy import update

        with self.engine.begin() as conn:
            conn.execute(update(alerts).where(alerts.c.key == self.alert_key(alert))
                         .values(payload=json.dumps(alert)))  # fmt: skip

    # reads

    def count_events(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(events)) or 0)

    def event_ids(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.scalars(select(events.c.event_id)))

    def iter_flags(self, after: int = 0, limit: int | None = None) -> Iterator[Observation]:
        """Every stored event's ``seq``, slice, flags, time, stratum and attributes, in arrival
        order (to rebuild or advance the detectors): those after ``seq = after``, at most
        ``limit`` of them. One statement, so one consistent snapshot."""
        cols = [events.c[d] for d in DIMENSIONS] + [events.c[f"f_{f}"] for f in FLAGS]
        query = (select(events.c.seq, *cols, events.c.ts, events.c.stratum, events.c.attributes)
                 .where(events.c.seq > after).order_by(events.c.seq))  # fmt: skip
        options = {"yield_per": 5000}  # the whole table, on start: streamed
        if limit is not None:  # a step of the detecting replica: fetched at once (cheaper)
            query, options = query.limit(limit), {}
        with self.engine.connect() as conn:
            for row in conn.execution_options(**options).execute(query):
                m = row._mapping
                flags = {f: None if m[f"f_{f}"] is None else bool(m[f"f_{f}"]) for f in FLAGS}
                sl = Slice(*(m[d] for d in DIMENSIONS))
                attrs = json.loads(m["attributes"]) if m["attributes"] else None
                ts = datetime.fromisoformat(m["ts"])
                ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts  # rows from before
                yield int(m["seq"]), sl, flags, ts, m["stratum"], attrs

    def latencies(self) -> Iterator[tuple[Slice, float]]:
        """Every stored event's four-dimension slice and reported latency (ms), in arrival
        order: the latency histogram of ``/metrics`` is rebuilt from them on start."""
        cols = [events.c[d] for d in DIMENSIONS]
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=5000).execute(
                select(*cols, events.c.latency_ms).order_by(events.c.seq)
            )
            for row in result:
                m = row._mapping
                yield Slice(*(m[d] for d in DIMENSIONS)), float(m["latency_ms"])

    def deploy_list(self) -> list[Deploy]:
        with self.engine.connect() as conn:
            rows = conn.scalars(select(deploys.c.payload).order_by(deploys.c.seq))
            return [Deploy.model_validate_json(p) for p in rows]

    def alert_list(self, limit: int = 200) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.scalars(select(alerts.c.payload).order_by(alerts.c.seq.desc()).limit(limit))
            return [json.loads(p) for p in rows]

    def series(self, metric: str, bucket_minutes: int) -> list[dict[str, Any]]:
        """Per slice and time bucket: events where ``metric`` applies and how many had it."""
        col = events.c[f"f_{metric}"]
        bucket = (events.c.minute // bucket_minutes).label("bucket")
        dims = [events.c[d] for d in DIMENSIONS]
        q = (
            select(bucket, *dims, func.count(col), func.sum(col))
            .where(col.is_not(None))
            .group_by(bucket, *dims)
            .order_by(bucket)
        )
        with self.engine.connect() as conn:
            return [
                {"minute": int(r[0]) * bucket_minutes, "slice": Slice(*r[1:5]).label,
                 "n": int(r[5]), "defects": int(r[6] or 0)}
                for r in conn.execute(q)
            ]  # fmt: skip

    def minute_span(self, metric: str | None = None) -> tuple[int | None, int | None]:
        """First and last minute with an event (where ``metric`` applies), or feedback."""
        if metric is None:
            q = select(func.min(feedback.c.minute), func.max(feedback.c.minute))
        else:
            col = events.c[f"f_{metric}"]
            q = select(func.min(events.c.minute), func.max(events.c.minute)).where(col.is_not(None))
        with self.engine.connect() as conn:
            lo, hi = conn.execute(q).one()
        return (None if lo is None else int(lo)), (None if hi is None else int(hi))

    def defect_totals(self) -> dict[str, int]:
        """Events each flag marked as a defect, over the whole database."""
        cols = [func.sum(events.c[f"f_{f}"]) for f in FLAGS]
        with self.engine.connect() as conn:
            row = conn.execute(select(*cols)).one()
        return {f: int(v or 0) for f, v in zip(FLAGS, row, strict=True)}

    def feedback_counts(self, bucket_minutes: int) -> list[dict[str, Any]]:
        bucket = (feedback.c.minute // bucket_minutes).label("bucket")
        q = (
            select(bucket, feedback.c.category, func.count())
            .group_by(bucket, feedback.c.category)
            .order_by(bucket)
        )
        with self.engine.connect() as conn:
            return [
                {"minute": int(r[0]) * bucket_minutes, "category": r[1], "count": int(r[2])}
                for r in conn.execute(q)
            ]

    def recent_feedback(self, limit: int = 20) -> list[dict[str, Any]]:
        cols = [feedback.c.ts, feedback.c.thumbs, feedback.c.category, feedback.c.source,
                feedback.c.evidence, feedback.c.text, feedback.c.event_id]  # fmt: skip
        with self.engine.connect() as conn:
            rows = conn.execute(select(*cols).order_by(feedback.c.seq.desc()).limit(limit))
            return [{**r._mapping, "evidence": json.loads(r._mapping["evidence"])} for r in rows]

    def feedback_texts(self, limit: int = 2000) -> list[dict[str, Any]]:
        """The latest reports with text, oldest first, with their time, category and slice."""
        cols = [feedback.c.ts, feedback.c.text, feedback.c.category,
                *[feedback.c[d] for d in DIMENSIONS]]  # fmt: skip
        query = select(*cols).where(feedback.c.text != "").order_by(feedback.c.seq.desc())
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query.limit(limit))]
        return rows[::-1]

    def recent_flagged(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest events with any defect flag, with their completions (untrusted text)."""
        any_flag = None
        for f in FLAGS:
            cond = events.c[f"f_{f}"] == 1
            any_flag = cond if any_flag is None else any_flag | cond
        q = select(events).where(any_flag).order_by(events.c.seq.desc()).limit(limit)
        out = []
        with self.engine.connect() as conn:
            for r in conn.execute(q):
                m = r._mapping
                payload = json.loads(m["payload"])
                out.append({
                    "event_id": m["event_id"], "ts": m["ts"],
                    "slice": Slice(*(m[d] for d in DIMENSIONS)).label,
                    "flags": [f for f in FLAGS if m[f"f_{f}"] == 1],
                    "details": json.loads(m["details"]),
                    "completion": payload["completion"][:2000],
                })  # fmt: skip
        return out
