"""Streams a careless or hostile client sends, where a real drop in quality would go unjudged
while the monitor still looked watched: each must at least be named in the coverage notices."""

from __future__ import annotations

import random
from pathlib import Path

from tests.monitor.conftest import write_stream
from tripwire.monitor import Event, Fault, Traffic, simulate
from tripwire.monitor._coverage import LISTED_ROUTES, SPARSE_SLICES
from tripwire.monitor._detect import Detector, DetectorConfig
from tripwire.monitor._replay import replay
from tripwire.monitor._slices import Slice

WARMUP = 50
CONFIG = DetectorConfig(warmup=WARMUP, metrics=("a",), slice_by=())


def _warm(det: Detector, sl: Slice, rng: random.Random) -> None:
    for _ in range(WARMUP):
        det.observe(sl, {"a": rng.random() < 0.02}, stratum="python")


def test_an_id_counter_that_restarts_is_named(tmp_path: Path) -> None:
    # v2's client restarted its id counter: every v2 event repeats a v1 id with another answer,
    # so all of v2, corrupted or not, is skipped as the server skips it
    records = simulate(Traffic(n=300, seed=1, versions=((0, "v1"), (150, "v2")),
                               faults=(Fault(150, 0.5, model_version="v2"),)))  # fmt: skip
    events = [r for r in records if isinstance(r, Event)]
    reused = [e.model_copy(update={"event_id": events[i].event_id})
              for i, e in enumerate(events[150:])]  # fmt: skip
    # and a true resend: the same answer, stamped again when it was sent
    resend = events[10].model_copy(update={"ts": events[-1].ts})
    path = write_stream(tmp_path / "events.jsonl", [*events[:150], *reused, resend])
    report = replay(path, DetectorConfig(warmup=WARMUP))
    assert report["duplicates"] == 151 and report["events"] == 150
    assert report["reused_ids"] == {"events": 150, "first_line": 151, "first_id": "e1-0"}
    assert report["coverage_notices"][0].startswith(
        "150 events repeat an earlier event_id with a different answer (first at line 151, "
        "id 'e1-0'): not resends"
    )


def test_a_plain_resend_is_not_called_a_reused_id(tmp_path: Path) -> None:
    events = [r for r in simulate(Traffic(n=120, seed=2)) if isinstance(r, Event)]
    path = write_stream(tmp_path / "events.jsonl", events + events[:30])
    report = replay(path, DetectorConfig(warmup=WARMUP))
    assert report["duplicates"] == 30 and report["reused_ids"]["events"] == 0
    assert not any("event_id" in line for line in report["coverage_notices"])


def test_a_hardware_name_per_event_is_named() -> None:
    # a pod name as hardware: every event is a slice of its own, so no stream ever holds
    # enough events to alarm, even with every answer defective, yet every event is "judged"
    rng = random.Random(0)
    det = Detector(CONFIG)
    sl = Slice("v1", "east", "pool", "chat")
    _warm(det, sl, rng)
    for i in range(3 * SPARSE_SLICES):
        assert det.observe(sl._replace(hardware=f"pod-{i}"), {"a": True}, stratum="python") == []
    cov = det.coverage()
    assert cov.judged == 3 * SPARSE_SLICES
    assert cov.sparse_slices() == [("chat", "a", 60, 60, 60)]
    assert cov.to_dict()["routes_sparse"] == 1
    assert cov.notices() == [
        "route 'chat': 60 of the 60 events judged for a fell in 60 slices of fewer than 10 "
        "events each, too few for a detector to alarm: a slice coordinate that changes every "
        "few events (a pod, request or build id as hardware, deployment or model_version?) "
        "switches detection off"
    ]


def test_a_few_pools_are_not_sparse() -> None:
    rng = random.Random(1)
    det = Detector(CONFIG)
    sl = Slice("v1", "east", "pool", "chat")
    _warm(det, sl, rng)
    for i in range(200):
        det.observe(sl._replace(hardware=f"pool-{i % 4}"), {"a": rng.random() < 0.02},
                    stratum="python")  # fmt: skip
    assert det.coverage().sparse_slices() == [] and det.coverage().notices() == []


def test_a_route_name_per_request_is_summed_up() -> None:
    # every route warms up alone and never finishes: one line says so, not one per request
    det = Detector(CONFIG)
    for i in range(LISTED_ROUTES + 25):
        det.observe(Slice("v1", "east", "pool", f"chat-{i:03d}"), {"a": True}, stratum="python")
    notices = det.coverage().notices()
    assert len(notices) == LISTED_ROUTES + 1
    assert notices[0].startswith("route 'chat-000' is still warming up: 1 of 50")
    assert notices[-1] == (
        "25 more routes are still warming up (25 events among them, none judged): a route "
        "name that changes per request never finishes a warm-up"
    )


def test_notices_name_the_file_line_past_blank_lines(tmp_path: Path) -> None:
    # a blank line holds no record: the line named is the file's, as an editor counts them
    records = simulate(Traffic(n=60, seed=3, seconds_per_event=10))
    events = [r for r in records if isinstance(r, Event)]
    late = events[5].model_copy(update={"event_id": "late"})
    reused = events[6].model_copy(update={"event_id": events[20].event_id})
    path = write_stream(tmp_path / "events.jsonl", [*events[20:], late, reused])
    lines = path.read_text().splitlines()
    path.write_text("\n\n" + "\n".join(lines[:10]) + "\n\n" + "\n".join(lines[10:]) + "\n")
    report = replay(path, DetectorConfig(warmup=WARMUP))
    assert report["out_of_order"]["first_line"] == len(lines) + 2
    assert report["reused_ids"]["first_line"] == len(lines) + 3
