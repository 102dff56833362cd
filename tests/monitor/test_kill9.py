"""kill -9 of the server in the middle of ingestion loses no acknowledged event."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.monitor.conftest import Server, free_port, running_server, writer
from tripwire.monitor import Event, Traffic, simulate


@pytest.mark.slow
def test_kill9_loses_no_acknowledged_event(tmp_path: Path) -> None:
    events = [r for r in simulate(Traffic(n=6000, seed=21)) if isinstance(r, Event)]
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    log = tmp_path / "server.log"
    server = Server(url, free_port(), log)
    acked: list[str] = []
    sent = 0
    failures: list[str] = []

    def client() -> None:
        nonlocal sent
        with httpx.Client(base_url=server.url, timeout=30) as c:
            for i in range(0, len(events), 40):
                batch = events[i : i + 40]
                body = {"events": [e.model_dump(mode="json") for e in batch]}
                sent += len(batch)
                try:
                    r = c.post("/v1/events", json=body, headers=writer())
                except httpx.TransportError:
                    return  # the server died under us: nothing of this batch was acknowledged
                if r.status_code != 200:
                    failures.append(r.text)
                    return
                acked.extend(r.json()["accepted"])

    t = threading.Thread(target=client)
    t.start()
    deadline = time.monotonic() + 60
    while len(acked) < 400 and time.monotonic() < deadline:
        time.sleep(0.02)
    children = [int(p) for p in subprocess.run(["pgrep", "-P", str(server.proc.pid)],
                capture_output=True, text=True).stdout.split()]  # fmt: skip
    server.kill9()
    t.join(60)
    # its check workers (batches of 40 go to them) do not outlive it
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{p}").exists() for p in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert children and not [p for p in children if Path(f"/proc/{p}").exists()]
    assert not failures
    assert 400 <= len(acked) < len(events), "the kill must land during ingestion"

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        stored = set(conn.scalars(sa.text("SELECT event_id FROM monitor_events")))
    engine.dispose()
    assert set(acked) <= stored
    # and the restarted server serves (and counts) every stored event
    with running_server(url, log) as again:
        assert httpx.get(again.url + "/healthz").json()["events"] == len(stored)
