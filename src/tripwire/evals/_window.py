"""Calls made on a thread pool through a bounded window, their results handed on in input order.

For remote backends: at most ``concurrency`` calls run at once, and at most ``2 x concurrency``
are submitted and not yet handed on, so a run of a million samples holds a few dozen futures,
not a million, and a caller that stops reading (an error, Ctrl-C) leaves nothing queued. When a
call fails, or the caller stops, ``abort`` is set so the calls still running can give up their
retries instead of holding the command open. The first call to fail is the one whose error the
caller sees (not a call that gave up because of it), even when it was not the oldest.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_in_order(
    fn: Callable[[T, threading.Event], R], items: Iterable[T], concurrency: int
) -> Iterator[R]:
    """``fn(item, abort)`` for each item, yielded in the items' order. ``abort`` is set once any
    call has failed or the caller has stopped reading: ``fn`` should then stop retrying."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    abort = threading.Event()
    first_failure: list[BaseException] = []
    lock = threading.Lock()

    def watch(future: Future[R]) -> None:
        if future.cancelled() or future.exception() is None:
            return
        with lock:
            if not first_failure:
                first_failure.append(future.exception())  # type: ignore[arg-type]
        abort.set()

    def submit(item: T) -> None:
        future = pool.submit(fn, item, abort)
        future.add_done_callback(watch)
        window.append(future)

    window: collections.deque[Future[R]] = collections.deque()
    pending = iter(items)
    pool = ThreadPoolExecutor(concurrency, thread_name_prefix="tripwire-request")
    try:
        for item in pending:
            submit(item)
            if len(window) >= 2 * concurrency:
                break
        while window:
            try:
                result = window.popleft().result()
            except Exception as exc:  # (Ctrl-C is not replaced by an earlier failure)
                with lock:
                    cause = first_failure[0] if first_failure else exc
                if cause is not exc:
                    raise cause from None
                raise
            for item in pending:  # keep the window full: one in for each one out
                submit(item)
                break
            yield result
    finally:
        # normal end, a failure, or the caller closed us: nothing new starts, and what is still
        # running is told to give up; the pool is joined so no request outlives the call
        abort.set()
        for future in window:
            future.cancel()
        pool.shutdown(wait=True)
