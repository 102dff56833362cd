"""The dashboard page rendered in headless Chromium, against the real service."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.monitor.conftest import READ, faulty_traffic, running_server, writer
from tests.support.browser import chromium, render
from tripwire.monitor import Deploy, Event, simulate

INJECTED = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'


@pytest.mark.slow
def test_dashboard_in_chromium(tmp_path: Path) -> None:
    chromium()  # skip loudly before starting anything when there is no browser
    records = simulate(faulty_traffic(n=3000, seed=4))
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    with running_server(url, tmp_path / "log", "--warmup", "300") as server:
        c = httpx.Client(base_url=server.url, timeout=60, headers=writer())
        batch = []
        for rec in records:
            if isinstance(rec, Deploy):
                c.post("/v1/deploys", json=rec.model_dump(mode="json")).raise_for_status()
            else:
                batch.append(rec.model_dump(mode="json"))
        for i in range(0, len(batch), 300):
            c.post("/v1/events", json={"events": batch[i : i + 300]}).raise_for_status()
        hostile = next(r for r in records if isinstance(r, Event)).model_copy(
            update={"event_id": "hostile", "completion": "```python\nx = 1\n" + INJECTED + "\n"}
        )
        r = c.post("/v1/events", json={"events": [hostile.model_dump(mode="json")]})
        assert "truncated" in r.json()["defects"]["hostile"]  # flagged, so it is listed
        for text in ("it does not compile: SyntaxError", "cut off halfway", "slow, timed out"):
            c.post("/v1/feedback", json={"thumbs": "down", "text": text}).raise_for_status()

        shot = tmp_path / "dashboard.png"
        dom = render(f"{server.url}/?token={READ}", screenshot=shot)

    assert shot.stat().st_size > 10_000
    # series drawn by the page's script from /v1/series (one line per slice)
    assert 'data-loaded="true"' in dom
    assert dom.count('class="series-line"') >= 6
    assert "hardware=tpu-v5e" in dom
    # alerts with the rollback target, feedback categories
    assert 'class="alert"' in dom and 'class="rollback">v1<' in dom
    for category in ("compilation_error", "incomplete_code", "performance_regression"):
        assert f'data-category="{category}"' in dom
    # what is watched: chat sends no top-1 flags, so that metric is named as unwatched there
    assert "<h2>Watched</h2>" in dom and 'id="unwatched-banner"' not in dom
    assert 'data-route="completion" data-metric="not_top1" data-state="watched"' in dom
    assert 'data-route="chat" data-metric="not_top1" data-state="unwatched"' in dom
    # the completion is shown as text, never run
    assert "&lt;script&gt;document.title" in dom
    assert '<script>document.title="pwned"' not in dom
    assert "<title>tripwire monitor</title>" in dom
