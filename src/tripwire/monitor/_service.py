"""The service's state behind the HTTP layer: the store, the monitor and the counters.

A batch is checked, committed and only then acknowledged; the detectors then see it, in commit
order, under one lock. Nothing after the commit can fail the batch: an alert whose context
(deploys near the change, rollback target) cannot be built is stored without it, logged, and
completed on a later request; an alert that cannot be stored is retried the same way. On start
the detectors are rebuilt from the database under the same rules, so neither a restart, a crash
nor a bad stored record stops the server from starting or alerting.
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
from tripwire.monitor._detect import Alarm, DetectorConfig
from tripwire.monitor._metrics import Counters, slice_of_alert
from tripwire.monitor._monitor import Monitor, triage_feedback
from tripwire.monitor._schema import Deploy, EventBatch, Feedback
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
        with self.lock:
            self._rebuild()

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
        for sl, flags, ts, stratum, attrs in self.store.iter_flags():
            self.counters.event(sl, flags)
            for alarm in self.monitor.detector.observe(sl, flags, ts, stratum, attrs):
                self._raise(alarm)
        for sl, latency_ms in self.store.latencies():
            self.counters.latency.labels(*sl[:4]).observe(latency_ms / 1000.0)
        self.counters.alerts.clear()  # counted once, from what is stored (new ones included)
        for a in self.store.alert_list(limit=1_000_000):
            self.counters.alerts[(a["metric"], slice_of_alert(a))] += 1
        for row in self.store.feedback_counts(10**9):
            self.counters.feedback[row["category"]] += row["count"]

    def _build(self, alarm: Alarm) -> tuple[dict[str, Any], bool]:
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
            if ev.event_id is None:
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
            for ev, result in checked:
                if ev.event_id not in fresh:
                    continue
                fresh.discard(ev.event_id)  # an id repeated within the batch is observed once
                sl = Slice.of(ev)
                self.counters.event(sl, result.flags, ev.latency_ms)
                for alarm in detector.observe(sl, result.flags, ev.ts, result.stratum,
                                              ev.attributes):  # fmt: skip
                    alert = self._raise(alarm)
                    if alert is not None:
                        raised.append(alert)
            self.counters.batch_seconds.observe(time.perf_counter() - started)
        return {
            "accepted": stored.accepted,
            "duplicates": stored.duplicates,
            "defects": {ev.event_id: r.defects for ev, r in checked if r.defects},
            "alerts": raised,
        }

    def close(self) -> None:
        """Stop the check workers (the database needs nothing: every batch is committed)."""
        self.checks.close()

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
