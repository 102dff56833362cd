"""The real service (`tripwire monitor serve` in a subprocess) on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from tests.monitor.conftest import FAULTY, WARMUP, faulty_traffic, reader, running_server, writer
from tripwire.monitor import Deploy, Event, simulate


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'monitor.db'}"
    url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)  # a fresh schema per test on the shared server
    schema = f"t{abs(hash(str(tmp_path))) % 10**8}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{url}?options=-csearch_path%3D{schema}"


def _send(client: httpx.Client, records: list) -> list[dict]:
    raised = []
    batch: list[dict] = []

    def flush() -> None:
        if batch:
            r = client.post("/v1/events", json={"events": batch}, headers=writer())
            assert r.status_code == 200, r.text
            raised.extend(r.json()["alerts"])
            batch.clear()

    for rec in records:
        if isinstance(rec, Deploy):
            flush()
            r = client.post("/v1/deploys", json=rec.model_dump(mode="json"), headers=writer())
            assert r.status_code == 200, r.text
        else:
            batch.append(rec.model_dump(mode="json", exclude_none=True))
            if len(batch) == 200:
                flush()
    flush()
    return raised


@pytest.mark.slow
def test_ingest_detect_and_restart(db_url: str, tmp_path: Path) -> None:
    records = simulate(faulty_traffic(n=3600))
    events = [r for r in records if isinstance(r, Event)]
    log = tmp_path / "server.log"
    with running_server(db_url, log, "--warmup", str(WARMUP)) as server:
        c = httpx.Client(base_url=server.url, timeout=60)
        # auth: no token, read token on a write endpoint, then clear validation errors
        one = {"events": [events[0].model_dump(mode="json")]}
        assert c.post("/v1/events", json=one).status_code == 401
        assert c.post("/v1/events", json=one, headers=reader()).status_code == 403
        bad = {"events": [{**events[0].model_dump(mode="json"), "latency_ms": "fast"}]}
        r = c.post("/v1/events", json=bad, headers=writer())
        assert r.status_code == 422 and "events.0.latency_ms" in r.json()["error"]
        assert c.post("/v1/events", json={"events": []}, headers=writer()).status_code == 422

        raised = _send(c, records)
        assert raised and {a["slice"]["hardware"] for a in raised} == {FAULTY}
        # a resent batch is acknowledged but stored once
        again = c.post("/v1/events", json=one, headers=writer()).json()
        assert again["duplicates"] == [events[0].event_id] and again["accepted"] == []

        fb = c.post("/v1/feedback", headers=writer(), json={
            "event_id": events[-1].event_id, "thumbs": "down",
            "text": "the code throws SyntaxError: invalid syntax, does not compile"})  # fmt: skip
        assert fb.status_code == 200 and fb.json()["category"] == "compilation_error"
        assert "invalid syntax" in fb.json()["evidence"]

        alerts = c.get("/v1/alerts", headers=reader()).json()["alerts"]
        assert len(alerts) == len(raised)
        assert alerts[-1]["rollback_target"]["version"] == "v1"
        series = c.get("/v1/series?metric=unexpected_script", headers=reader()).json()
        assert sum(p["n"] for p in series["points"]) == len(events)
        assert c.get("/v1/series?metric=nope", headers=reader()).status_code == 422
        metrics = c.get("/metrics", headers=reader()).text
        assert "# TYPE tripwire_monitor_events_total counter" in metrics
        # completion latency as a histogram per slice, through prometheus_client's exposition
        assert "# TYPE tripwire_monitor_completion_latency_seconds histogram" in metrics
        observed = _samples(metrics, "tripwire_monitor_completion_latency_seconds_count")
        assert sum(observed.values()) == len(events)
        total_s = sum(_samples(metrics, "tripwire_monitor_completion_latency_seconds_sum").values())
        assert abs(total_s - sum(e.latency_ms for e in events) / 1000) < 1e-6 * len(events)
        assert sum(_samples(metrics, "tripwire_monitor_ingest_batch_seconds_count").values()) > 0
        assert f'hardware="{FAULTY}"' in metrics and 'category="compilation_error"} 1.0' in metrics
        assert c.get("/metrics").status_code == 401
        assert 'tripwire_monitor_warmup_events_needed{route="chat"} 0.0' in metrics
        coverage = c.get("/v1/coverage", headers=reader()).json()
        assert coverage["watched"] and coverage["routes_warming_up"] == 0
        assert c.get("/v1/coverage").status_code == 401
        before = metrics

    # restart: state (events, detectors, alerts, counters) comes back from the database
    with running_server(db_url, log, "--warmup", str(WARMUP)) as server:
        c = httpx.Client(base_url=server.url, timeout=60)
        assert c.get("/healthz").json()["events"] == len(events)
        assert len(c.get("/v1/alerts", headers=reader()).json()["alerts"]) == len(raised)
        # counts, gauges and latencies come back; only the service's own batch timings restart
        after = c.get("/metrics", headers=reader()).text
        assert _without_batches(after) == _without_batches(before)
        assert c.get("/v1/coverage", headers=reader()).json() == coverage


def _samples(text: str, name: str) -> dict[str, float]:
    """Sample lines of one series in a Prometheus text exposition: labels -> value."""
    families = text_string_to_metric_families(text)
    return {str(sorted(s.labels.items())): s.value for f in families for s in f.samples
            if s.name == name}  # fmt: skip


def _without_batches(text: str) -> list[str]:
    """The exposition less what restarts with the process: batch timings, series start times."""
    return [line for line in text.splitlines()
            if "ingest_batch_seconds" not in line and "_created" not in line]  # fmt: skip


def test_concurrent_writers(tmp_path: Path) -> None:
    events = [r for r in simulate(faulty_traffic(n=1200, seed=5)) if isinstance(r, Event)]
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with running_server(url, tmp_path / "log") as server:
        chunks = [events[i::4] for i in range(4)]
        errors: list[str] = []

        def post(chunk: list[Event]) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as c:
                for i in range(0, len(chunk), 50):
                    body = {"events": [e.model_dump(mode="json") for e in chunk[i : i + 50]]}
                    r = c.post("/v1/events", json=body, headers=writer())
                    if r.status_code != 200:
                        errors.append(r.text)

        threads = [threading.Thread(target=post, args=(ch,)) for ch in chunks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        health = httpx.get(server.url + "/healthz").json()
        assert health["events"] == len(events)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        ids = set(conn.scalars(sa.text("SELECT event_id FROM monitor_events")))
    assert ids == {e.event_id for e in events}
    assert json.loads(json.dumps(sorted(ids)))  # stored ids are plain strings
