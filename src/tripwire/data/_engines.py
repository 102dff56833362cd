"""Where the per-shard step runs: local processes, or Ray (same step, same files).

Ray is optional (``pip install 'tripwire[ray]'``) and imported only when chosen. A Ray cluster's
workers must see the input and output paths (a local instance, or a shared filesystem).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol, TypeVar

from tripwire.errors import UnavailableError

T = TypeVar("T")
R = TypeVar("R")


class Engine(Protocol):
    name: str

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """Run ``fn`` on every task; yield results as they finish (any order)."""
        ...

    def close(self) -> None:
        """Release what ``map`` started (an audit maps twice: checks, then outputs)."""
        ...


class LocalEngine:
    """A pool of worker processes.

    Forked where the platform can: a forkserver or spawned worker re-runs the caller's main
    module (for the CLI that imports every sub-app, torch included) before doing any work.
    The workers only parse and hash; they take no lock a parent thread could hold.
    """

    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        if self.workers == 1 or len(tasks) <= 1:
            yield from map(fn, tasks)
            return
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(min(self.workers, len(tasks)), mp_context=ctx) as pool:
            futures = [pool.submit(fn, t) for t in tasks]
            for fut in as_completed(futures):
                yield fut.result()

    def close(self) -> None:
        pass


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise UnavailableError(
            "--engine ray", "Ray is not installed; install it with: pip install 'tripwire[ray]'"
        ) from exc
    return ray


class RayEngine:
    """Ray tasks, one per shard; starts a local Ray instance when none is running."""

    name = "ray"

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._started = False
        """Whether this engine started the local Ray instance (and so shuts it down)."""

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        if not tasks:
            return
        ray = _import_ray()
        if not ray.is_initialized():
            ray.init(
                num_cpus=self.workers,
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
            )
            self._started = True
        remote = ray.remote(num_cpus=1, max_retries=1)(fn)
        pending = [remote.remote(t) for t in tasks]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            yield ray.get(ready[0])

    def close(self) -> None:
        if self._started:
            _import_ray().shutdown()
            self._started = False


def get_engine(name: str, workers: int) -> Engine:
    if name == "ray":
        return RayEngine(workers)
    return LocalEngine(workers)
