"""The service's state behind the HTTP layer: the store, the monitor and the counters.

A batch is checked, committed and only then acknowledged; the detectors then see it, in commit
order, under one lock. Nothing after the commit can fail the batch: an alert whose context
(deploys near the change, rollback target) cannot be built is stored without it, logged, and
completed on a later request; an alert that cannot be stored is retried the same way. On start
the detectors are rebuilt from the database under the same rules, so neither a restart, a crash
nor a bad stored record stops the server from starting or alerting.

On PostgreSQL several services may share the database (``_replicas``): each ingests, and the
one holding the detection lock feeds the detectors every stored event once, in commit order,
whichever replica took it; the others take over when it dies. On SQLite one process does both.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tripwire.artifacts import Registry
from tripwire.monitor._alerts import bare_alert, safe_alert
from tripwire.monitor._checkpool import CheckPool
from tripwire.monitor._checks import CheckResult
from tripwire.monitor._detect import Alarm, DetectorConfig
from tripwire.monitor._metrics import Counters, slice_of_alert
from tripwire.monitor._monitor import Monitor, triage_feedback
from tripwire.monitor._replicas import (
    ALIVE_EVERY,
    CHECKPOINT_S,
    CHUNK,
    POLL_S,
    Lease,
    config_key,
    holder_name,
    load_detector,
    read_checkpoint,
    write_checkpoint,
)
from tripwire.monitor._schema import Deploy, Event, EventBatch, Feedback
from tripwire.monitor._slices import Slice
from tripwire.monitor._store import Store

log = logging.getLogger("tripwire.monitor")


@dataclass(frozen=True)
class ServerConfig:
    db_url: str
    write_tokens: tuple[str, ...] = ()
    read_tokens: tuple[str, ...] = ()
    """No tokens at all: the service is open (meant for loopback only)."""
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    registry_url: str | None = None
    triage: str = "model"
    """How free-text feedback is categorised: ``rules`` or ``model`` (``tripwire.triage``)."""
    check_workers: int | None = None
    """Processes that run the online checks of large batches (``None``: one per core beyond
    the first; 0: every check in the request thread). See ``CheckPool``."""


class Service:
    """Events in, alerts out; safe to call from several request threads."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.store = Store(config.db_url)
        self.monitor = Monitor(config.detector, None)
        self.counters = Counters()
        self.checks = CheckPool(config.check_workers, self.monitor.allowed_scripts)
        self.lock = threading.Lock()
        self.pending: list[tuple[Alarm, bool]] = []
        """Alarms whose alert is stored without its context (True) or not stored (False)."""
        self._incomplete: set[str] = set()
        self._registry_error: str | None = None
        self.cursor = 0
        """The ``seq`` of the last stored event the detectors saw."""
        self.lease = Lease(self.store.engine, self.store.detect_lock_key) if self.store.shared \
            else None  # fmt: skip
        """PostgreSQL: the detection lock (only its holder feeds the detectors after the start)."""
        self._checkpointed = (0, time.monotonic())
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._mismatch_logged = False
        self._polls = 0
        with self.lock:
            self._rebuild()
        if self.lease is not None:
            try:
                self._poll_once()  # a lone replica detects from its first request on
            except Exception:
                log.exception("detection poll failed (the next one tries again)")
            self._poller = threading.Thread(target=self._poll, name="tripwire-detect-lease",
                                            daemon=True)  # fmt: skip
            self._poller.start()

    @property
    def detecting(self) -> bool:
        """Whether this process feeds the detectors (always, except a replica without the
        lock)."""
        return self.lease is None or self.lease.held

    def _registry(self) -> str | None:
        """Open the registry if it is not open yet; why it cannot be, if so. A registry that is
        down (or broken) never keeps the service from starting or alerting: the alerts wait
        for it."""
        if self.config.registry_url is None or self.monitor.registry is not None:
            return None
        try:
            self.monitor.registry = Registry(self.config.registry_url)
        except Exception as exc:
            why = f"registry unavailable: {exc}"[:500]
            if why != self._registry_error:  # once per distinct problem, not once per request
                log.exception(
                    "the registry cannot be opened; alerts wait for their rollback target"
                )
                self._registry_error = why
            return why
        return None

    def _rebuild(self) -> None:
        for d in self.store.deploy_list():
            self.monitor.deploy(d)
        # alerts stored without their context before a restart are completed when raised again
        self._incomplete = self.store.incomplete_alert_keys()
        for seq, sl, flags, ts, stratum, attrs in self.store.iter_flags():
            self.counters.event(sl, flags)
            for alarm in self.monitor.detector.observe(sl, flags, ts, stratum, attrs):
                self._raise(alarm)
            self.cursor = seq
        for sl, latency_ms in self.store.latencies():
            self.counters.latency.labels(*sl[:4]).observe(latency_ms / 1000.0)
        self.counters.alerts.clear()  # counted once, from what is stored (new ones included)
        for a in self.store.alert_list(limit=1_000_000):
            self.counters.alerts[(a["metric"], slice_of_alert(a))] += 1
        for row in self.store.feedback_counts(10**9):
            self.counters.feedback[row["category"]] += row["count"]

    def _build(self, alarm: Alarm) -> tuple[dict[str, Any], bool]:
        if self.lease is not None:  # a deploy another replica took is context too
            try:
                self.monitor.deploys = self.store.deploy_list()
            except Exception:  # the alert is built from the deploys known here, and completed
                log.exception("reading the deploys failed")
        unavailable = self._registry()
        if unavailable:
            return bare_alert(alarm, unavailable), False
        return safe_alert(alarm, self.monitor.deploys, self.monitor.registry)

    def _raise(self, alarm: Alarm) -> dict[str, Any] | None:
        """Build and store one alarm's alert; never raises. The alert when it is new."""
        alert, complete = self._build(alarm)
        try:
            new = self.store.add_alert(alert)
            key = Store.alert_key(alert)
            if not new and key in self._incomplete and complete:
                self.store.replace_alert(alert)
                self._incomplete.discard(key)
        except Exception:  # the database hiccuped: the events are committed, keep the alarm
            log.exception("storing an alert failed; retried on the next request")
            self.pending.append((alarm, False))
            return None
        if not complete:
            self.pending.append((alarm, True))
        if new:
            self.counters.alerts[(alert["metric"], slice_of_alert(alert))] += 1
        return alert if new else None

    def retry(self) -> None:
        """Complete what ``_raise`` could not (call with the lock held)."""
        pending, self.pending = self.pending, []
        for alarm, stored in pending:
            alert, complete = self._build(alarm)
            if not complete:
                self.pending.append((alarm, stored))
                continue
            try:
                if stored:
                    self.store.replace_alert(alert)
                elif self.store.add_alert(alert):
                    self.counters.alerts[(alert["metric"], slice_of_alert(alert))] += 1
            except Exception:
                log.exception("storing an alert failed again; retried on the next request")
                self.pending.append((alarm, stored))

    def ingest(self, batch: EventBatch) -> dict[str, Any]:
        """Check, commit, acknowledge; then observe (nothing after the commit fails the batch)."""
        for ev in batch.events:
            if not ev.event_id:  # "" is a client's zero value, not an id all events share
                ev.event_id = uuid.uuid4().hex
        started = time.perf_counter()
        # outside the lock: another batch is stored and observed while this one is checked
        checked = list(zip(batch.events, self.checks.check(batch.events), strict=True))
        with self.lock:
            stored = self.store.add_events(checked)  # committed: safe to acknowledge
            fresh = set(stored.accepted)
            raised: list[dict[str, Any]] = []
            if self.pending:
                self.retry()
            detector = self.monitor.detector
            # replicas: the batch straight from memory only when it follows the cursor;
            # otherwise another replica's events came first and are read back in order below
            here = self.lease is None or (self.lease.held and stored.before == self.cursor)
            for ev, result in checked:
                if ev.event_id not in fresh:
                    continue
                fresh.discard(ev.event_id)  # an id repeated within the batch is observed once
                sl = Slice.of(ev)
                self.counters.event(sl, result.flags, ev.latency_ms)
                if not here:
                    continue
                for alarm in detector.observe(sl, result.flags, ev.ts, result.stratum,
                                              ev.attributes):  # fmt: skip
                    alert = self._raise(alarm)
                    if alert is not None:
                        raised.append(alert)
            if self.lease is not None and self.lease.held:
                if here:
                    self.cursor = stored.last if stored.last is not None else self.cursor
                try:  # committed and acknowledged whatever happens here: the poll goes on
                    if not here:
                        raised += self._follow(None)
                    self._checkpoint(force=bool(raised))
                except Exception:
                    log.exception("detection after a batch failed; the next poll goes on")
            self.counters.batch_seconds.observe(time.perf_counter() - started)
        return {
            "accepted": stored.accepted,
            "duplicates": stored.duplicates,
            "defects": _defects(checked),
            "alerts": raised,
        }

    def close(self) -> None:
        """Stop the check workers (the database needs nothing: every batch is committed); a
        replica that detects checkpoints and hands the detection lock on."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join(10)
        if self.lease is not None and self.lease.held:
            with self.lock:
                try:
                    self._checkpoint(force=True)
                except Exception:
                    log.exception("the last detector checkpoint failed (the next one replays)")
                self.lease.drop()
        self.checks.close()

    # replicas (PostgreSQL)

    def _follow(self, limit: int | None) -> list[dict[str, Any]]:
        """Feed the detectors the stored events after the cursor, in commit order (the lock
        held, by the replica that detects): the new alerts."""
        raised: list[dict[str, Any]] = []
        detector = self.monitor.detector
        for seq, sl, flags, ts, stratum, attrs in self.store.iter_flags(self.cursor, limit):
            for alarm in detector.observe(sl, flags, ts, stratum, attrs):
                alert = self._raise(alarm)
                if alert is not None:
                    raised.append(alert)
            self.cursor = seq
        return raised

    def _checkpoint(self, force: bool = False) -> None:
        """Store the detectors with the cursor: when an alert was stored, and at least every
        ``CHECKPOINT_S``. Not while an alarm's alert is unstored: a takeover must raise it."""
        assert self.lease is not None
        cursor, at = self._checkpointed
        now = time.monotonic()
        if self.cursor == cursor or any(not stored for _, stored in self.pending):
            return
        if force or now - at >= CHECKPOINT_S:
            write_checkpoint(self.store.engine, self.cursor, self.monitor.detector, holder_name())
            self._checkpointed = (self.cursor, now)

    def _adopt(self) -> None:
        """Take the stored checkpoint when it is ahead of these detectors (after a takeover,
        or to show a replica that does not detect what the one that does has seen)."""
        cp = read_checkpoint(self.store.engine, with_state=False)
        if cp is None or cp.cursor <= self.cursor:
            return
        if cp.config != config_key(self.monitor.config):
            if not self._mismatch_logged:
                log.warning("the detector checkpoint was made with other detector options "
                            "(every replica needs the same): not used")  # fmt: skip
                self._mismatch_logged = True
            return
        cp = read_checkpoint(self.store.engine)
        if cp is None or cp.state is None or cp.cursor <= self.cursor:
            return
        self.monitor.detector = load_detector(cp.state)
        self.cursor = cp.cursor
        self._checkpointed = (cp.cursor, time.monotonic())

    def refresh(self) -> None:
        """A replica that does not detect: show the detectors as last checkpointed (call with
        the lock held)."""
        if self.lease is not None and not self.lease.held:
            try:
                self._adopt()
            except Exception:
                log.exception("reading the detector checkpoint failed")

    def _poll_once(self) -> None:
        """Try for the detection lock; with it, read what other replicas stored."""
        assert self.lease is not None
        more = True
        while more and not self._stop.is_set():
            with self.lock:
                self._polls += 1
                if self.lease.held and self._polls % ALIVE_EVERY == 0 and not self.lease.alive():
                    return
                if not self.lease.held:
                    if not self.lease.acquire():
                        return
                    log.info("this replica now detects")
                    self._adopt()
                seen = self.monitor.detector.observed
                if self.pending:
                    self.retry()
                raised = self._follow(CHUNK)
                more = self.monitor.detector.observed - seen >= CHUNK  # a backlog: go on
                self._checkpoint(force=bool(raised))

    def _poll(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self._poll_once()
            except Exception:  # the database is away: the next poll tries again
                log.exception("detection poll failed")

    def feedback(self, fb: Feedback) -> dict[str, Any]:
        t = triage_feedback(fb, self.config.triage)
        with self.lock:
            seq = self.store.add_feedback(fb, t.category, t.source, t.evidence)
            self.counters.feedback[t.category] += 1
        return {"id": seq, "category": t.category, "source": t.source, "evidence": t.evidence}

    def deploy(self, d: Deploy) -> None:
        with self.lock:
            self.store.add_deploy(d)
            self.monitor.deploy(d)
            if self.pending:  # a deploy is context an incomplete alert may have lacked
                self.retry()

    def feedback_clusters(self, limit: int = 2000) -> list[dict[str, Any]]:
        """Patterns in the latest ``limit`` text reports (tripwire.triage's clusters), with the
        deploys after which each grew and the slices its reports came from."""
        from dataclasses import asdict
        from datetime import datetime

        from tripwire.monitor._slices import DIMENSIONS
        from tripwire.triage import Deploy as Rollout
        from tripwire.triage import Item, cluster_reports

        rows = self.store.feedback_texts(limit)
        items = [Item(r["text"], r["category"], datetime.fromisoformat(r["ts"]),
                      {d: r[d] for d in DIMENSIONS if r[d]}) for r in rows]  # fmt: skip
        rollouts = [Rollout(d.ts, d.model_version, d.deployment) for d in self.store.deploy_list()]
        out = []
        for c in cluster_reports(items, rollouts):
            d = asdict(c)
            del d["members"]  # positions in this query: meaningless to a reader
            out.append(d)
        return out

    def feedback_totals(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for p in self.store.feedback_counts(10**9):
            totals[p["category"]] += p["count"]
        return totals


def _defects(checked: list[tuple[Event, CheckResult]]) -> dict[str, list[str]]:
    """Each id's defects as its first event in the batch has them: a repeat of the id is a
    duplicate, not stored, and its defects are not the stored event's."""
    out: dict[str, list[str]] = {}
    seen: set[str | None] = set()
    for ev, result in checked:
        if ev.event_id not in seen and result.defects:
            out[str(ev.event_id)] = result.defects
        seen.add(ev.event_id)
    return out
