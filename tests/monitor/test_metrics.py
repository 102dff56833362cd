"""/metrics through prometheus_client: the counters, and the completion latency the events report
as a histogram per slice (rebuilt from the database on restart), in either exposition format."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from tests.monitor.conftest import READ, WRITE, faulty_traffic, reader, writer
from tripwire.monitor import DetectorConfig, Event, ServerConfig, create_app, simulate
from tripwire.monitor._metrics import LATENCY_BUCKETS

LATENCY = "tripwire_monitor_completion_latency_seconds"


def _histograms(text: str) -> dict[tuple[str, ...], dict[str, float]]:
    """slice (model_version, deployment, hardware, route) -> {count, sum, le=... buckets}."""
    out: dict[tuple[str, ...], dict[str, float]] = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if not s.name.startswith(LATENCY):
                continue
            key = tuple(s.labels[d] for d in ("model_version", "deployment", "hardware", "route"))
            part = s.name.removeprefix(LATENCY + "_")
            if part == "created":  # when the series began: this process's start, not the data's
                continue
            out[key][f"le={s.labels['le']}" if part == "bucket" else part] = s.value
    return out


def test_latency_histograms_per_slice_survive_a_restart(tmp_path: Path) -> None:
    config = ServerConfig(db_url=f"sqlite:///{tmp_path / 'm.db'}", write_tokens=(WRITE,),
                          read_tokens=(READ,), detector=DetectorConfig(warmup=200))  # fmt: skip
    events = [r for r in simulate(faulty_traffic(n=900, seed=4)) if isinstance(r, Event)]
    want: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for e in events:
        want[(e.model_version, e.deployment, e.hardware, e.route)].append(e.latency_ms / 1000)
    with TestClient(create_app(config)) as c:
        for i in range(0, len(events), 300):
            body = {"events": [e.model_dump(mode="json") for e in events[i : i + 300]]}
            assert c.post("/v1/events", json=body, headers=writer()).status_code == 200
        r = c.get("/metrics", headers=reader())
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        text = r.text
        got = _histograms(text)
        assert set(got) == set(want)
        for key, values in want.items():
            h = got[key]
            assert h["count"] == len(values) and abs(h["sum"] - sum(values)) < 1e-6
            for le in LATENCY_BUCKETS:  # cumulative buckets, computed here independently
                assert h[f"le={le}"] == sum(v <= le for v in values)
        batches = [s for f in text_string_to_metric_families(text) for s in f.samples
                   if s.name == "tripwire_monitor_ingest_batch_seconds_count"]  # fmt: skip
        assert batches[0].value == 3  # one observation per POSTed batch
        # a scraper that asks for OpenMetrics gets it (and it parses as such)
        om = c.get("/metrics", headers={**reader(), "Accept": "application/openmetrics-text"})
        assert om.headers["content-type"].startswith("application/openmetrics-text")
        assert any(f.name == LATENCY for f in openmetrics_families(om.text))
    with TestClient(create_app(config)) as c:  # restarted on the same database
        assert _histograms(c.get("/metrics", headers=reader()).text) == got
