"""map_in_order: real threads, results in input order, a bounded window, the first failure."""

from __future__ import annotations

import threading

import pytest

from tripwire.evals._window import map_in_order


class _Tracker:
    """Counts the calls running at once. Items come in groups of ``concurrency``; in a group
    each call waits for the next one to finish, so a group finishes last item first, and the
    whole group must be running at once for it to finish at all."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self.lock = threading.Lock()
        self.running = self.most = 0
        self.finished: dict[int, threading.Event] = {}
        self.order: list[int] = []

    def finished_event(self, k: int) -> threading.Event:
        with self.lock:
            return self.finished.setdefault(k, threading.Event())

    def __call__(self, k: int, abort: threading.Event) -> int:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        if k % self.concurrency != self.concurrency - 1:
            assert self.finished_event(k + 1).wait(timeout=10), f"item {k + 1} never ran"
        with self.lock:
            self.running -= 1
            self.order.append(k)
        self.finished_event(k).set()
        return k * k


@pytest.mark.parametrize("concurrency", [1, 3, 8])
def test_results_come_in_input_order_with_at_most_concurrency_running(concurrency: int) -> None:
    tracker = _Tracker(concurrency)
    items = range(4 * concurrency)  # whole groups
    assert list(map_in_order(tracker, items, concurrency)) == [k * k for k in items]
    assert tracker.most == concurrency
    assert tracker.order[:concurrency] == list(reversed(range(concurrency)))  # out of order


def test_the_window_does_not_read_ahead_of_the_consumer() -> None:
    pulled: list[int] = []

    def items():
        for k in range(1000):
            pulled.append(k)
            yield k

    results = map_in_order(lambda k, abort: k, items(), 4)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    assert len(pulled) <= 3 + 2 * 4  # handed on + the window, not the whole input
    results.close()


def test_the_first_failure_is_raised_and_the_others_told_to_give_up() -> None:
    gave_up = threading.Event()
    failed = threading.Event()

    def fn(k: int, abort: threading.Event) -> int:
        if k == 0:  # the oldest call is still running when a later one fails
            failed.wait(timeout=5)
            if abort.wait(timeout=5):
                gave_up.set()
                raise RuntimeError("gave up")
            return 0
        if k == 2:
            failed.set()
            raise ValueError("item 2 failed for good")
        return k

    with pytest.raises(ValueError, match="item 2 failed for good"):
        list(map_in_order(fn, range(6), 4))
    assert gave_up.is_set()


def test_concurrency_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(map_in_order(lambda k, abort: k, [1], 0))
