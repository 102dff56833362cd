"""The online checks in worker processes give what the request thread gives, and survive a dead
worker."""

from __future__ import annotations

import os
import signal

import pytest

from tripwire.monitor import Event, Fault, Traffic, check_event, simulate
from tripwire.monitor._checkpool import CheckPool


def _events() -> list[Event]:
    # faults that set every flag: garbled code, truncation, foreign scripts, refusals
    faults = (Fault(start=0, rate=0.3, hardware="tpu-v5e"),)
    stream = simulate(Traffic(n=400, seed=4, faults=faults))
    return [r for r in stream if isinstance(r, Event)]


@pytest.mark.slow
def test_workers_check_like_the_request_thread_and_survive_a_killed_worker() -> None:
    events = _events()
    expected = [check_event(e) for e in events]
    assert sum(bool(r.defects) for r in expected) > 40  # the stream exercises the flags
    pool = CheckPool(workers=1, min_batch=32)
    try:
        assert pool.check(events[:10]) == expected[:10]  # small: in process
        assert pool.batches == {"workers": 0, "in_process": 1, "restarts": 0}
        assert pool.ready(timeout=120)
        assert pool.check(events) == expected
        assert pool.batches["workers"] == 1

        # a worker killed (as a crashing parser would die): that batch is checked in process,
        # and a fresh pool takes the batches after it
        assert pool._pool is not None
        for pid in list(pool._pool._processes):
            os.kill(pid, signal.SIGKILL)
        assert pool.check(events) == expected
        assert pool.batches["restarts"] == 1
        assert pool.ready(timeout=120)
        assert pool.check(events) == expected
        assert pool.batches["workers"] == 2
    finally:
        pool.close()


def test_no_workers_means_every_check_in_process() -> None:
    events = _events()[:64]
    pool = CheckPool(workers=0)
    assert pool.check(events) == [check_event(e) for e in events]
    assert not pool.ready(timeout=1)
    assert pool.batches == {"workers": 0, "in_process": 1, "restarts": 0}
    pool.close()
