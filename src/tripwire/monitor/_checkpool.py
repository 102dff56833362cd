"""The online checks of a batch, run in worker processes beside the server's request path.

Parsing every code block of every answer was the largest share of the server's work per event,
and it ran on the request thread, which holds the GIL while it also validates, stores and
observes: one core did everything while the others idled. ``CheckPool`` sends batches of at
least ``min_batch`` events to worker processes, so the checks of one request run on another
core while the request thread stores and observes the previous one. Small batches are checked in
process, where the round trip would cost more than it saves, and so is everything while the
workers are still starting (the pool is started by the first large batch, in the background, so
no request waits for a worker's imports).

``check_event`` is a pure function of the event, so the results are the same either way (a test
compares them). A worker that dies (killed, or crashed by a parser on hostile input) loses only
the batch it held: that batch is checked again in process, and a fresh pool starts in the
background for the batches after it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from tripwire.monitor._checks import DEFAULT_SCRIPTS, CheckResult, check_event
from tripwire.monitor._schema import Event
from tripwire.monitor._syntax import syntax_problems

log = logging.getLogger("tripwire.monitor")

MIN_BATCH = 32
"""Smallest batch sent to a worker: pickling both ways costs about 10 us an event plus a fixed
round trip of a few hundred, against 50-100 us an event for the checks themselves."""


def default_workers() -> int:
    """One worker per core beyond the one the request thread uses (none on a single core)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(0, min(cores - 1, 4))


def _orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _watch_parent(parent: int) -> None:
    """A worker exits within a second of its server's death (``kill -9`` included: no shutdown
    reaches it then, and it would otherwise idle forever holding the parsers' memory)."""
    threading.Thread(target=_orphaned, args=(parent,), daemon=True).start()


# Answers' languages a worker parses once at start, so the first batches do not pay for loading
# their grammars (a language not listed loads on first use).
_WARM_LANGUAGES = ("python", "javascript", "typescript", "c", "cpp", "java", "go", "rust",
                   "shell", "perl")  # fmt: skip


def _warm() -> None:
    """Import the checks and load the common grammars, before the first batch arrives."""
    for language in _WARM_LANGUAGES:
        syntax_problems("x", language)


def _check_all(events: Sequence[Event], allowed: frozenset[str]) -> list[CheckResult]:
    return [check_event(e, allowed) for e in events]


class CheckPool:
    """``check(events)``: every event's ``CheckResult``, in order; safe from several threads."""

    def __init__(
        self,
        workers: int | None = None,
        allowed_scripts: frozenset[str] = DEFAULT_SCRIPTS,
        min_batch: int = MIN_BATCH,
    ) -> None:
        self.workers = default_workers() if workers is None else workers
        self.allowed = allowed_scripts
        self.min_batch = min_batch
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future[None] | None = None
        self._start_lock = threading.Lock()
        # tree-sitter parsers are shared by the threads of this process and not thread-safe
        self._local_lock = threading.Lock()
        self.batches = {"workers": 0, "in_process": 0, "restarts": 0}
        """Batches checked each way, and pools started again after a worker died."""

    def _local(self, events: Sequence[Event]) -> list[CheckResult]:
        with self._local_lock:
            self.batches["in_process"] += 1
            return _check_all(events, self.allowed)

    def _started(self) -> ProcessPoolExecutor | None:
        """The pool if its workers are up; starts one (in the background) if there is none."""
        with self._start_lock:
            if self._pool is None:
                # spawn, not fork: the server's threads may hold locks a forked child would copy
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(self.workers, mp_context=context,
                                                 initializer=_watch_parent,
                                                 initargs=(os.getpid(),))  # fmt: skip
                self._ready = self._pool.submit(_warm)
            ready = self._ready
            if ready is None or not ready.done():
                return None
            if ready.exception() is not None:  # the workers cannot even start: stay in process
                log.error("check workers failed to start; checking in process",
                          exc_info=ready.exception())  # fmt: skip
                self.workers = 0
                self._pool.shutdown(wait=False, cancel_futures=True)
                return None
            return self._pool

    def ready(self, timeout: float | None = None) -> bool:
        """Start the workers if they are not running and wait for them; whether they are up."""
        if self.workers <= 0:
            return False
        self._started()
        ready = self._ready
        if ready is None:
            return False
        try:
            ready.result(timeout)
        except Exception:
            return False
        return self._started() is not None

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        with self._start_lock:
            if self._pool is broken:
                self._pool, self._ready = None, None
                self.batches["restarts"] += 1
        broken.shutdown(wait=False, cancel_futures=True)

    def check(self, events: Sequence[Event]) -> list[CheckResult]:
        if self.workers <= 0 or len(events) < self.min_batch:
            return self._local(events)
        pool = self._started()
        if pool is None:
            return self._local(events)
        try:
            results = pool.submit(_check_all, list(events), self.allowed).result()
        except BrokenProcessPool:
            log.error("a check worker died; its batch is checked again in process")
            self._restart(pool)
            return self._local(events)
        except RuntimeError:  # the pool was closed meanwhile (the server is stopping)
            return self._local(events)
        self.batches["workers"] += 1
        return results

    def close(self) -> None:
        with self._start_lock:
            pool, self._pool, self._ready = self._pool, None, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
