"""No silent disarming: what the detectors do not watch is said in the library, in `monitor
replay` (terminal and --json), in the service's JSON and /metrics, and on the dashboard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.monitor.conftest import (
    RARE_EVENTS,
    RARE_ROUTE,
    READ,
    SAMPLED,
    WRITE,
    gappy_traffic,
    reader,
    write_stream,
    writer,
)
from tests.support.cli import tripwire
from tripwire.errors import BadInputError
from tripwire.monitor import (
    MIN_BASELINE,
    MIN_STRATUM,
    Deploy,
    Detector,
    DetectorConfig,
    ServerConfig,
    Slice,
    Traffic,
    create_app,
    simulate,
)

WARMUP = 300


@pytest.fixture(scope="module")
def gappy_stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_stream(tmp_path_factory.mktemp("gappy") / "events.jsonl", gappy_traffic())


def _route(report: dict, route: str) -> dict:
    return next(r for r in report["coverage"]["routes"] if r["route"] == route)


def _metric(route: dict, metric: str) -> dict:
    return next(m for m in route["metrics"] if m["metric"] == metric)


def test_a_warmup_below_the_minimum_is_refused_by_the_library() -> None:
    with pytest.raises(BadInputError, match="warmup: 20 is below the 50"):
        DetectorConfig(warmup=20)
    with pytest.raises(BadInputError, match="metrics"):
        DetectorConfig(metrics=())
    assert DetectorConfig(warmup=MIN_BASELINE).warmup == MIN_BASELINE


def test_a_warmup_below_the_minimum_is_bad_input(tmp_path: Path) -> None:
    """The issue's case: --warmup 20 used to replay as '0 detector streams, 0 alerts', exit 0."""
    stream = write_stream(tmp_path / "events.jsonl", simulate(Traffic(n=400, seed=2)))
    out = tmp_path / "report.json"
    r = tripwire("monitor", "replay", str(stream), "--warmup", "20", "--json", str(out))
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "--warmup" in r.stderr and "minimum of 50" in r.stderr
    assert not out.exists() and r.stdout == ""

    r = tripwire("monitor", "serve", "--db", f"sqlite:///{tmp_path / 'm.db'}", "--warmup", "20")
    assert r.returncode == 2, r.stderr  # refused before anything listens or is created
    assert len(r.stderr.strip().splitlines()) == 1 and "--warmup" in r.stderr
    assert not (tmp_path / "m.db").exists()


def test_detector_coverage_follows_the_stream() -> None:
    det = Detector(DetectorConfig(warmup=MIN_BASELINE, metrics=("a", "b")))
    sl = Slice("v1", "east", "gpu-0", "chat")
    for i in range(MIN_BASELINE - 1):  # "b" applies to one event in five
        det.observe(sl, {"a": False, "b": False if i % 5 == 0 else None})
    (route,) = det.coverage().routes
    assert (route.state, route.seen, route.needed, route.metrics) == ("warming_up", 49, 1, ())
    assert not det.coverage().watched

    det.observe(sl, {"a": False, "b": None})  # the last warm-up event
    det.observe(sl._replace(hardware="gpu-1"), {"a": True, "b": False})
    cov = det.coverage()
    (route,) = cov.routes
    assert (route.state, route.needed) == ("frozen", 0)
    a, b = route.metrics
    assert a.watched and a.reason is None
    # one stream for the slice, one for the slice in the answer's language (here: none)
    assert [(w.slice.label, w.events, w.alerted) for w in a.slices] == [
        ("model_version=v1 / deployment=east / hardware=gpu-1 / route=chat", 1, False),
        ("model_version=v1 / deployment=east / hardware=gpu-1 / route=chat / language=", 1, False),
    ]
    assert [(lang.language, lang.watched, lang.warmup_events) for lang in a.languages] == [
        ("", True, MIN_BASELINE)
    ]
    assert not b.watched and not b.slices
    assert b.reason == (
        "only 10 of the 50 warm-up events had this metric applicable; a baseline needs 50"
    )
    assert cov.watched and cov.judged == 1 and cov.streams == 2 == det.streams()
    assert cov.notices() == [f"route 'chat': b is not watched: {b.reason}"]


def test_replay_names_what_it_did_not_watch(gappy_stream: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    r = tripwire("monitor", "replay", str(gappy_stream), "--warmup", str(WARMUP),
                 "--json", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    report = json.loads(out.read_text())
    assert report["alerts"] == [] and report["watched"] is True
    cov = report["coverage"]
    assert cov["routes_warming_up"] == 1 and cov["min_baseline"] == MIN_BASELINE

    # (b) the quiet route: still warming up at the end, with how many events it needs
    rare = _route(report, RARE_ROUTE)
    assert rare["state"] == "warming_up" and rare["metrics"] == []
    assert rare["warmup_events_seen"] == RARE_EVENTS
    assert rare["warmup_events_needed"] == WARMUP - RARE_EVENTS
    # (c) a metric that applied to too few warm-up events, and one that never applied
    chat = _route(report, "chat")
    not_top1, low_prob = _metric(chat, "not_top1"), _metric(chat, "low_prob")
    assert not_top1["state"] == "unwatched" and not_top1["applicable_events"] == SAMPLED
    assert not_top1["reason"] == (
        f"only {SAMPLED} of the {WARMUP} warm-up events had this metric applicable; "
        f"a baseline needs {MIN_BASELINE}"
    )
    assert low_prob["reason"].startswith(f"none of the {WARMUP} warm-up events")
    # what is watched, with its slices
    truncated = _metric(chat, "truncated")
    assert truncated["state"] == "watched" and truncated["reason"] is None
    hardware = {s["slice"]["hardware"] for s in truncated["slices"]}
    assert hardware == {"h100-a", "h100-b", "tpu-v5e"}
    assert all(m["state"] == "watched" for m in _route(report, "completion")["metrics"])
    # (d) a language too rare in the warm-up to have a baseline: its answers go unjudged
    shell = next(lang for lang in truncated["languages"] if lang["language"] == "shell")
    assert shell["state"] == "unwatched" and shell["skipped_events"] > 0
    assert shell["reason"].endswith(f"a language needs {MIN_STRATUM}")
    python = next(lang for lang in truncated["languages"] if lang["language"] == "python")
    assert python["state"] == "watched" and python["robust_rate"] > python["rate"] > 0
    assert report["coverage_notices"][:3] == [
        f"route '{RARE_ROUTE}' is still warming up: {RARE_EVENTS} of {WARMUP} baseline "
        f"events, {WARMUP - RARE_EVENTS} more needed before it is watched",
        f"route 'chat': not_top1 is not watched: {not_top1['reason']}",
        f"route 'chat': low_prob is not watched: {low_prob['reason']}",
    ]
    assert report["coverage_notices"][3] == (
        f"route 'chat': answers in shell are not watched ({shell['warmup_events']} warm-up "
        f"events, a language needs {MIN_STRATUM}): {shell['skipped_events']} since"
    )
    assert len(report["coverage_notices"]) == 5 == cov["languages_skipped"] + 3

    # the terminal: the summary counts, every gap as a notice on stderr (markup shown as text)
    assert "judged by" in r.stdout and "2 unwatched, 1 route warming up), 0 alerts" in r.stdout
    notices = [line for line in r.stderr.splitlines() if line.startswith("notice:")]
    assert notices == [f"notice: {line}" for line in report["coverage_notices"]]
    assert "warning:" not in r.stderr

    # --json -: the report replaces the summary, the notices stay on stderr
    r = tripwire("monitor", "replay", str(gappy_stream), "--warmup", str(WARMUP), "--json", "-")
    assert json.loads(r.stdout)["coverage"] == cov
    assert r.stderr.count("notice:") == 5


def test_a_replay_that_watched_nothing_says_so(tmp_path: Path) -> None:
    """A stream shorter than the warm-up: no detector ever ran, so 'no alerts' proves nothing.
    Not a regression (exit 1 means alerts) and not bad input: a loud warning and watched=false."""
    stream = write_stream(tmp_path / "short.jsonl", simulate(Traffic(n=200, seed=8)))
    r = tripwire("monitor", "replay", str(stream), "--json", str(tmp_path / "r.json"))
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["watched"] is False and report["judged_events"] == 0
    assert report["verdict"] == "warn"  # nothing checked: a warning, exit 0
    assert report["coverage"]["streams"] == 0
    assert {r["state"] for r in report["coverage"]["routes"]} == {"warming_up"}
    assert "warning: no detector judged any of the 200 events" in r.stderr
    assert r.stderr.count("is still warming up") == 2


def test_service_and_dashboard_show_coverage(tmp_path: Path) -> None:
    config = ServerConfig(db_url=f"sqlite:///{tmp_path / 'm.db'}", write_tokens=(WRITE,),
                          read_tokens=(READ,), detector=DetectorConfig(warmup=WARMUP))  # fmt: skip
    hostile = "<img src=x onerror=alert(1)>"
    records = gappy_traffic()
    events = [r.model_dump(mode="json") for r in records if not isinstance(r, Deploy)]
    events[-1]["route"] = hostile  # a route name is the client's string: shown, never run
    with TestClient(create_app(config)) as c:
        page = c.get("/", headers=reader()).text
        assert 'id="unwatched-banner"' in page and "No events yet: nothing is watched." in page

        for i in range(0, len(events), 200):
            body = {"events": events[i : i + 200]}
            assert c.post("/v1/events", json=body, headers=writer()).status_code == 200
        cov = c.get("/v1/coverage", headers=reader()).json()
        assert cov["watched"] and cov["routes_warming_up"] == 2
        assert c.get("/v1/alerts", headers=reader()).json()["coverage"] == {
            k: v for k, v in cov.items() if k != "notices"
        }
        needed = WARMUP - RARE_EVENTS
        assert (
            f"route '{RARE_ROUTE}' is still warming up: {RARE_EVENTS} of {WARMUP} baseline "
            f"events, {needed} more needed before it is watched" in cov["notices"]
        )
        metrics = c.get("/metrics", headers=reader()).text
        assert 'tripwire_monitor_metric_watched{metric="not_top1",route="chat"} 0.0' in metrics
        assert 'tripwire_monitor_metric_watched{metric="truncated",route="chat"} 1.0' in metrics
        assert (
            f'tripwire_monitor_warmup_events_needed{{route="{RARE_ROUTE}"}} {needed:.1f}' in metrics
        )
        page = c.get("/", headers=reader()).text

    assert 'id="unwatched-banner"' not in page
    assert "<h2>Watched</h2>" in page
    rare = f'data-route="{RARE_ROUTE}" data-state="warming_up"'
    assert rare in page and f'<b class="needed">{needed}</b> more needed' in page
    assert 'data-route="chat" data-metric="not_top1" data-state="unwatched"' in page
    assert f"only {SAMPLED} of the {WARMUP} warm-up events had this metric applicable" in page
    assert 'data-route="chat" data-metric="truncated" data-state="watched"' in page
    assert "model_version=v1 / deployment=us-east / hardware=tpu-v5e / route=chat" in page
    assert hostile not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_metric_no_language_had_enough_of_is_not_watched() -> None:
    """Enough warm-up events for the metric, but spread over six languages with ten each: no
    language has a baseline, so the metric is named as unwatched (not 'watched' with nothing
    judged), and its events are not judged."""
    det = Detector(DetectorConfig(warmup=60, metrics=("a",)))
    sl = Slice("v1", "east", "gpu-0", "chat")
    for i in range(60):
        det.observe(sl, {"a": False}, stratum="abcdef"[i % 6])
    assert det.observe(sl, {"a": True}, stratum="a") == []
    cov = det.coverage()
    (m,) = cov.routes[0].metrics
    assert not m.watched and not cov.watched and m.applicable == 60
    assert cov.notices() == [
        f"route 'chat': a is not watched: no language had {MIN_STRATUM} of the 60 warm-up "
        "events where this metric applied"
    ]
