"""The dashboard page: drawn by the server (no script, no token in the page), rendered in
headless Chromium against the real service, and its charts checked on the edge cases that used
to draw nothing (the default metric flat at zero, a single time bucket)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.monitor.conftest import (
    READ,
    WARMUP,
    WRITE,
    faulty_traffic,
    reader,
    running_server,
    writer,
)
from tests.support.browser import chromium, render
from tripwire.monitor import (
    FLAGS,
    Deploy,
    DetectorConfig,
    Event,
    ServerConfig,
    Traffic,
    create_app,
    simulate,
)

INJECTED = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'


@pytest.mark.slow
def test_dashboard_in_chromium(tmp_path: Path) -> None:
    chromium()  # skip loudly before starting anything when there is no browser
    records = simulate(faulty_traffic(n=4800, seed=4))
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with running_server(url, tmp_path / "log", "--warmup", str(WARMUP)) as server:
        c = httpx.Client(base_url=server.url, timeout=60, headers=writer())
        batch = []
        for rec in records:
            if isinstance(rec, Deploy):
                c.post("/v1/deploys", json=rec.model_dump(mode="json")).raise_for_status()
            else:
                batch.append(rec.model_dump(mode="json"))
        for i in range(0, len(batch), 400):
            c.post("/v1/events", json={"events": batch[i : i + 400]}).raise_for_status()
        hostile = next(r for r in records if isinstance(r, Event)).model_copy(
            update={"event_id": "hostile", "completion": "```python\nx = 1\n" + INJECTED + "\n"}
        )
        r = c.post("/v1/events", json={"events": [hostile.model_dump(mode="json")]})
        assert "truncated" in r.json()["defects"]["hostile"]  # flagged, so it is listed
        for text in ("it does not compile: SyntaxError", "cut off halfway", "slow, timed out"):
            c.post("/v1/feedback", json={"thumbs": "down", "text": text}).raise_for_status()
        assert httpx.get(server.url + "/", params={"token": READ}).status_code == 401

        shot = tmp_path / "dashboard.png"
        # the browser's own HTTP Basic (token as password): no token in the URL's query
        host = server.url.removeprefix("http://")
        dom = render(f"http://reader:{READ}@{host}/", screenshot=shot)

    assert shot.stat().st_size > 10_000
    assert "<script" not in dom.split("<body>", 1)[1].replace("&lt;script", "")  # no script
    assert READ not in dom
    # the default chart is the latest alert's metric, one line per slice (the 8 largest)
    alert_metric = re.search(r'class="alert" data-metric="(\w+)"', dom)
    assert alert_metric and f'data-metric="{alert_metric.group(1)}"' in dom
    assert dom.count('class="series-line"') >= 6
    assert "hardware=tpu-v5e" in dom
    # alerts with the rollback target, feedback categories and their chart
    assert 'class="alert"' in dom and 'class="rollback">v1<' in dom
    for category in ("compilation_error", "incomplete_code", "performance_regression"):
        assert f'data-category="{category}"' in dom
    assert 'id="feedback-chart"' in dom
    # what is watched: chat sends no top-1 flags, so that metric is named as unwatched there
    assert "<h2>Watched</h2>" in dom and 'id="unwatched-banner"' not in dom
    assert 'data-route="completion" data-metric="not_top1" data-state="watched"' in dom
    assert 'data-route="chat" data-metric="not_top1" data-state="unwatched"' in dom
    assert 'data-language="python" data-state="watched"' in dom
    # the completion is shown as text, never run
    assert "&lt;script&gt;document.title" in dom
    assert '<script>document.title="pwned"' not in dom
    assert "<title>tripwire monitor</title>" in dom


def test_charts_draw_a_single_bucket_and_a_metric_with_defects(tmp_path: Path) -> None:
    """Every event in one minute: each slice still gets a line (a level across the bucket)
    and a dot; with no alert, the default chart is the metric with the most defects, not one
    flat at zero."""
    config = ServerConfig(db_url=f"sqlite:///{tmp_path / 'm.db'}", write_tokens=(WRITE,),
                          read_tokens=(READ,), detector=DetectorConfig(warmup=200))  # fmt: skip
    now = datetime(2025, 9, 1, 12, 0, tzinfo=UTC)
    events = [
        r.model_copy(update={"ts": now}).model_dump(mode="json")
        for r in simulate(Traffic(n=300, seed=1))
        if isinstance(r, Event)
    ]
    with TestClient(create_app(config)) as c:
        assert "No data yet." in c.get("/", headers=reader()).text
        assert c.post("/v1/events", json={"events": events}, headers=writer()).status_code == 200
        page = c.get("/", headers=reader()).text
        assert c.get("/", headers={"Authorization": "Basic eDpub3BlCg=="}).status_code == 401
        flat = c.get("/?metric=unexpected_script", headers=reader()).text
        chosen = re.search(r'<div id="series" data-metric="(\w+)"', page)
        assert chosen is not None
        totals, slices = {}, {}
        for m in FLAGS:
            points = c.get(f"/v1/series?metric={m}", headers=reader()).json()["points"]
            totals[m] = sum(p["defects"] for p in points)
            slices[m] = len({p["slice"] for p in points})
    assert totals["unexpected_script"] == 0 and totals[chosen.group(1)] == max(totals.values()) > 0
    lines = re.findall(r'class="series-line" data-slice="[^"]+" points="([^"]+)"', page)
    n = slices[chosen.group(1)]
    assert n >= 3 and len(lines) == n and all(len(pts.split()) == 2 for pts in lines)  # a level
    assert page.count('class="series-dot"') == n
    assert "1 min per point" in page
    assert 'data-metric="unexpected_script"' in flat and flat.count('class="series-line"') == 6
