"""Every malformed input the service has been sent, against the real server: each gets a 4xx
naming the problem (never a 500), the server stays up, and alerting goes on, including when the
alert's context cannot be built (a broken registry) and across a restart in that state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.monitor.conftest import READ, WRITE, reader, running_server, writer
from tripwire.artifacts import KNOWN_GOOD, ArtifactKind, Manifest, Registry
from tripwire.monitor import MAX_BODY, Event, Fault, Traffic, simulate

START = datetime(2025, 9, 1, tzinfo=UTC)
FAULT_AT = 700


def _traffic() -> list[Event]:
    """One route; v2 on tpu-v5e from FAULT_AT corrupts 40% of its answers."""
    t = Traffic(n=1400, seed=12, routes=("chat",), versions=((0, "v1"), (FAULT_AT, "v2")),
                faults=(Fault(start=FAULT_AT, rate=0.4, hardware="tpu-v5e", model_version="v2"),),
                start=START)  # fmt: skip
    return [r for r in simulate(t) if isinstance(r, Event)]


def _registry(path: Path) -> str:
    url = f"sqlite:///{path / 'registry.db'}"
    reg = Registry(url)
    ids: dict[str, str] = {}
    for name in ("v1", "v2"):
        d = path / name
        d.mkdir(exist_ok=True)
        (d / "weights.bin").write_bytes(name.encode() * 10)
        m = Manifest.build(d, ArtifactKind.MODEL, name=name, parents=[ids[p] for p in ids])
        reg.register(m, d)
        ids[name] = m.id
    reg.mark(ids["v1"], KNOWN_GOOD)
    reg.close()
    return url


def _body(event: dict, **raw: str) -> bytes:
    """A one-event batch with fields replaced by raw JSON text (``Infinity`` is not JSON that
    ``json.dumps`` writes, but clients send it)."""
    text = json.dumps({"events": [event]})
    for key, value in raw.items():
        text = text.replace(f'"{key}": {json.dumps(event[key])}', f'"{key}": {value}', 1)
    return text.encode()


def _chunks(size: int) -> Iterator[bytes]:
    yield b'{"events": [{"completion": "'
    sent = 0
    while sent < size:
        yield b"x" * 65536
        sent += 65536
    yield b'"}]}'


def test_malformed_inputs_are_refused_and_alerting_goes_on(tmp_path: Path) -> None:
    events = [e.model_dump(mode="json") for e in _traffic()]
    good = events[0]
    registry = _registry(tmp_path)
    healthy = (tmp_path / "registry.db").read_bytes()
    db = f"sqlite:///{tmp_path / 'monitor.db'}"
    env = {"TRIPWIRE_REGISTRY": registry}
    log = tmp_path / "server.log"
    with running_server(db, log, "--warmup", "300", env=env) as server:
        c = httpx.Client(base_url=server.url, timeout=60, headers=writer())

        def refused(path: str, status: int, where: str, **kw: object) -> None:
            r = c.post(path, **kw)  # type: ignore[arg-type]
            assert r.status_code == status, (path, r.status_code, r.text[:300])
            assert where in r.json()["error"], (where, r.json())

        # timestamps: naive is taken as UTC (documented); out of range is refused
        naive = {"model_version": "v2", "deployment": "us-east", "ts": "2025-09-01T00:05:50"}
        r = c.post("/v1/deploys", json=naive)
        assert r.status_code == 200, r.text
        refused(
            "/v1/events",
            422,
            "events.0.ts",
            json={"events": [{**good, "ts": "0001-01-01T00:00:00"}]},
        )
        refused(
            "/v1/events",
            422,
            "events.0.ts",
            json={"events": [{**good, "ts": "9999-12-31T23:59:59+14:00"}]},
        )
        refused("/v1/deploys", 422, "ts", json={**naive, "ts": "yesterday"})
        # numbers: finite and in range
        for value in ("Infinity", "-Infinity", "NaN", "1e400"):
            refused("/v1/events", 422, "events.0.latency_ms", content=_body(good, latency_ms=value))
        refused(
            "/v1/events",
            422,
            "events.0.logprobs.0",
            content=_body({**good, "logprobs": [-1.0]}, logprobs="[-Infinity]"),
        )
        refused(
            "/v1/events",
            422,
            "events.0.completion_tokens",
            json={"events": [{**good, "completion_tokens": 10**12}]},
        )
        refused(
            "/v1/events",
            422,
            "events.0.prompt_tokens",
            json={"events": [{**good, "prompt_tokens": -1}]},
        )
        refused(
            "/v1/events",
            422,
            "events.0.temperature",
            json={"events": [{**good, "temperature": 1e9}]},
        )
        # names: no NUL (PostgreSQL cannot store it), attribute names checked
        refused(
            "/v1/events",
            422,
            "must not contain NUL",
            json={"events": [{**good, "hardware": "a\x00b"}]},
        )
        refused("/v1/deploys", 422, "must not contain NUL", json={**naive, "note": "\x00"})
        refused(
            "/v1/events",
            422,
            "attribute name",
            json={"events": [{**good, "attributes": {"a b": "x"}}]},
        )
        # shapes
        refused("/v1/events", 422, "events", json={"events": []})
        refused("/v1/events", 422, "events", json={"events": [good] * 1001})
        refused("/v1/events", 422, "not valid JSON", content=b"{not json")
        refused("/v1/events", 422, "not valid JSON", content=b'{"events": ["\xff"]}')
        refused("/v1/events", 422, "body: Input should be an object", content=b"[]")
        refused("/v1/feedback", 422, "feedback needs thumbs", json={"text": "  "})
        # an 8 MB body limit, before parsing: declared, and counted when chunked
        refused("/v1/events", 413, "request body over", content=b"x" * (MAX_BODY + 1))
        refused("/v1/events", 413, "request body over", content=_chunks(MAX_BODY + 1))
        # query parameters in range
        assert c.get("/v1/series?bucket_minutes=1000000000000", headers=reader()).status_code == 422
        assert (
            c.get(
                "/v1/feedback/categories?bucket_minutes=1000000000000", headers=reader()
            ).status_code
            == 422
        )
        assert c.get("/v1/alerts?limit=0", headers=reader()).status_code == 422
        assert c.get("/v1/series?metric=" + "x" * 5000, headers=reader()).status_code == 422
        # tokens from the Authorization header only, never the URL
        anonymous = httpx.Client(base_url=server.url, timeout=60)
        one = {"events": [good]}
        assert anonymous.post(f"/v1/events?token={WRITE}", json=one).status_code == 401
        assert anonymous.get(f"/?token={READ}").status_code == 401
        assert WRITE not in anonymous.get(f"/?token={WRITE}").text
        assert anonymous.post("/v1/events", json=one, headers=reader()).status_code == 403
        assert anonymous.post("/v1/events", json={"events": [events[1]]},
                              auth=("any", WRITE)).status_code == 200  # fmt: skip

        # after all that, healthy traffic, the fault, and the alert
        raised = []
        for i in range(2, len(events), 100):
            r = c.post("/v1/events", json={"events": events[i : i + 100]})
            assert r.status_code == 200, r.text
            raised += r.json()["alerts"]
        assert raised and {a["slice"]["hardware"] for a in raised} == {"tpu-v5e"}
        first = min(raised, key=lambda a: a["event_index"])
        assert first["rollback_target"]["version"] == "v1"
        near = first["deploys_near_change"]
        assert any(d["ts"] == "2025-09-01T00:05:50Z" for d in near), near  # the naive one, as UTC

        # the registry breaks: a batch that raises alerts is still acknowledged, the alerts are
        # stored without their context, and completed once the registry is back
        engine = sa.create_engine(registry)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE marks"))
        late = {"model_version": "v3", "ts": START + timedelta(hours=1)}
        more = [e.model_copy(update={**late, "event_id": f"late-{i}"}).model_dump(mode="json")
                for i, e in enumerate(_traffic()[FAULT_AT:])]  # fmt: skip
        r = c.post("/v1/events", json={"events": more})
        assert r.status_code == 200 and len(r.json()["accepted"]) == len(more), r.text
        broken = r.json()["alerts"]
        assert broken and all(a["rollback_target"] is None and "marks" in a["context_error"]
                              for a in broken)  # fmt: skip
        assert "building the context of an alert failed" in log.read_text()

    # a restart with the registry unreadable: the server starts and serves its alerts
    path = tmp_path / "registry.db"
    for extra in (tmp_path / "registry.db-wal", tmp_path / "registry.db-shm"):
        extra.unlink(missing_ok=True)
    path.write_bytes(b"not a database" * 1000)
    with running_server(db, log, "--warmup", "300", env=env) as server:
        c = httpx.Client(base_url=server.url, timeout=60, headers=reader())
        assert c.get("/healthz").status_code == 200
        stored = c.get("/v1/alerts").json()["alerts"]
        assert {a["event_index"] for a in broken} <= {a["event_index"] for a in stored}
        assert "the registry cannot be opened" in log.read_text()
        path.write_bytes(healthy)  # the registry is back: the next request completes them
        fixed = {a["event_index"]: a for a in c.get("/v1/alerts").json()["alerts"]}
        for a in broken:
            done = fixed[a["event_index"]]
            assert "context_error" not in done and done["rollback_target"]["version"] == "v1"
    engine.dispose()
