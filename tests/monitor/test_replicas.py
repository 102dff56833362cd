"""Two real `tripwire monitor serve` replicas on one real PostgreSQL: events posted to both land
once, the detectors see each stored event once (the alerts are those of one detector fed every
event in commit order), and when the detecting replica is killed with -9 mid-stream the other
takes detection over and nothing acknowledged is lost."""

from __future__ import annotations

import json
import pickle
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.monitor.conftest import (
    FAULTY,
    WARMUP,
    Server,
    faulty_traffic,
    free_port,
    reader,
    writer,
)
from tripwire.monitor import (
    Deploy,
    Detector,
    DetectorConfig,
    Event,
    Slice,
    Store,
    check_event,
    simulate,
)
from tripwire.monitor._replicas import dump_detector, load_detector

BATCH = 40


def _fresh_schema(url: str, name: str) -> str:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {name}"))
    engine.dispose()
    return f"{url}?options=-csearch_path%3D{name}"


def _wait(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.slow
def test_two_replicas_kill9_of_the_detecting_one(postgres_url: str, tmp_path: Path) -> None:
    url = _fresh_schema(postgres_url, f"r{abs(hash(str(tmp_path))) % 10**8}")
    records = simulate(faulty_traffic(n=3600))
    events = [r for r in records if isinstance(r, Event)]
    deploys = [r for r in records if isinstance(r, Deploy)]
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    args = ("--warmup", str(WARMUP), "--check-workers", "0")
    started: list[Server] = []

    def start(log: str) -> None:
        started.append(Server(url, free_port(), tmp_path / log, *args))

    starting = [threading.Thread(target=start, args=(log,)) for log in ("a.log", "b.log")]
    for t in starting:  # side by side: each start is seconds of imports
        t.start()
    for t in starting:
        t.join(90)
    try:
        assert len(started) == 2
        detecting = [httpx.get(s.url + "/healthz").json()["detecting"] for s in started]
        assert sorted(detecting) == [False, True]  # exactly one replica detects
        a, b = started if detecting[0] else started[::-1]  # a detects; a is the one killed
        for d in deploys:  # deploy notices through the replica that does not detect
            body = d.model_dump(mode="json")
            assert httpx.post(b.url + "/v1/deploys", json=body, headers=writer()).status_code == 200

        acked: list[str] = []
        failures: list[str] = []
        left: dict[Server, list[list[Event]]] = {a: batches[0::2], b: batches[1::2]}

        def client(server: Server, stop_at: int = 0) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as c:
                while len(left[server]) > stop_at:
                    body = {"events": [e.model_dump(mode="json") for e in left[server][0]]}
                    try:
                        r = c.post("/v1/events", json=body, headers=writer())
                    except httpx.TransportError:
                        return  # killed under us: this batch was not acknowledged
                    if r.status_code != 200:
                        failures.append(r.text)
                        return
                    acked.extend(r.json()["accepted"])
                    left[server].pop(0)

        # the first 800 events, then the detecting replica's checkpoint, which the other one
        # shows while it does not detect (and loads when it takes over)
        threads = [threading.Thread(target=client, args=(s, len(left[s]) - 10)) for s in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        engine = sa.create_engine(url)

        def checkpoint() -> tuple[int, int, str]:
            with engine.connect() as conn:
                q = "SELECT cursor, observed, holder FROM monitor_detector"
                row = conn.execute(sa.text(q)).first()
            return (int(row[0]), int(row[1]), str(row[2])) if row else (0, 0, "")

        _wait("a's checkpoint of the first 800 events", lambda: checkpoint()[1] == 800)
        assert checkpoint()[2].endswith(f":{a.proc.pid}")
        health = httpx.get(b.url + "/healthz").json()
        assert not health["detecting"] and health["events"] == 800

        threads = [threading.Thread(target=client, args=(s,)) for s in (a, b)]
        for t in threads:
            t.start()
        # past the change (event 2,400 of 3,600): the shift is in the stream both received
        _wait("2,600 acknowledged events", lambda: len(acked) >= 2600)
        a.kill9()
        for t in threads:
            t.join(60)
        assert not failures
        assert left[a], "the kill must land while the killed replica still had events to take"
        # the rest of the stream, the killed replica's unacknowledged batch included, to b
        with httpx.Client(base_url=b.url, timeout=60, headers=writer()) as c:
            for batch in left[a]:
                r = c.post("/v1/events", json={"events": [e.model_dump(mode="json")
                                                          for e in batch]})  # fmt: skip
                assert r.status_code == 200, r.text
                acked.extend(r.json()["accepted"])

        with engine.connect() as conn:
            rows = list(conn.scalars(sa.text("SELECT event_id FROM monitor_events")))
            last = conn.scalar(sa.text("SELECT max(seq) FROM monitor_events"))
        # every event stored exactly once; every acknowledged one among them, acked once
        assert len(rows) == len(set(rows)) == len(events)
        assert set(rows) == {e.event_id for e in events}
        assert len(acked) == len(set(acked)) and set(acked) <= set(rows)

        # b took detection over and fed its detectors up to the last stored event
        def caught_up() -> bool:
            h = httpx.get(b.url + "/healthz").json()
            return bool(h["detecting"]) and h["cursor"] == last

        _wait("the surviving replica to detect up to the last event", caught_up)
        assert httpx.get(b.url + "/healthz").json()["events"] == len(events)

        # the reference: one detector fed every stored event once, in commit order
        reference = Detector(DetectorConfig(warmup=WARMUP))
        store = Store(url)
        expected = set()
        for _seq, sl, flags, ts, stratum, attrs in store.iter_flags():
            for alarm in reference.observe(sl, flags, ts, stratum, attrs):
                expected.add(Store.alert_key(alarm.to_dict()))
        store.close()
        alerts = httpx.get(b.url + "/v1/alerts", headers=reader()).json()["alerts"]
        keys = [Store.alert_key(x) for x in alerts]
        assert expected and sorted(keys) == sorted(expected)  # none twice, none missing
        streams = [(x["metric"], x["slice_label"]) for x in alerts]
        assert len(streams) == len(set(streams))  # one alarm per change on each stream
        assert {x["slice"]["hardware"] for x in alerts} == {FAULTY}
        # the deploys b took are the context of every alert, whichever replica raised it
        assert all(x["rollback_target"]["version"] == "v1" for x in alerts)
        coverage = httpx.get(b.url + "/v1/coverage", headers=reader()).json()
        del coverage["notices"]
        assert coverage == json.loads(json.dumps(reference.coverage().to_dict()))

        # and b checkpoints the detectors where it stands
        def b_checkpointed() -> bool:
            cursor, observed, holder = checkpoint()
            return (cursor, observed) == (last, len(events)) and holder.endswith(f":{b.proc.pid}")

        _wait("b's checkpoint", b_checkpointed)
        engine.dispose()
    finally:
        for s in started:
            s.stop()


def test_a_checkpoint_resumes_the_detectors_and_holds_nothing_else() -> None:
    events = [r for r in simulate(faulty_traffic(n=3600)) if isinstance(r, Event)]
    flags = [(Slice.of(e), check_event(e), e) for e in events]

    def feed(det: Detector, part: list) -> list[dict]:
        return [a.to_dict() for sl, r, e in part
                for a in det.observe(sl, r.flags, e.ts, r.stratum, e.attributes)]  # fmt: skip

    whole = Detector(DetectorConfig(warmup=WARMUP))
    expected = feed(whole, flags)
    first = Detector(DetectorConfig(warmup=WARMUP))
    alarms = feed(first, flags[:2700])  # a checkpoint mid-change, then the rest on a copy
    alarms += feed(load_detector(dump_detector(first)), flags[2700:])
    assert expected and alarms == expected

    with pytest.raises(pickle.UnpicklingError, match="not part of a detector checkpoint"):
        load_detector(zlib.compress(pickle.dumps(Path("/etc/passwd"))))
