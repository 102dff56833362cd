"""Where the per-shard step runs: local processes, or Ray (same step, same files).

Ray is optional (``pip install 'tripwire[ray]'``) and imported only when chosen. A Ray cluster's
workers must see the input and output paths at the same path (a local instance, or a shared
filesystem): each shard task reads its input and writes its files next to the outputs.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Protocol, TypeVar

from tripwire.errors import UnavailableError
from tripwire.ray_cluster import connect, disconnect, import_ray

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


class RayEngine:
    """Ray tasks, one per shard, on the cluster at ``RAY_ADDRESS`` or a local instance.

    A task whose worker or node dies is run again (``RETRIES``): a shard's files are rewritten
    from the start and its completion marker is written last, so a shard killed mid-way is
    redone whole, and its result reaches the caller once (each task's result is taken once).
    """

    name = "ray"
    RETRIES = 3

    def __init__(self, workers: int, address: str | None = None) -> None:
        self.workers = max(1, workers)
        self.address = address
        self._connected = False
        """Whether this engine connected this process to Ray (and so disconnects it)."""

    def map(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        if not tasks:
            return
        ray = import_ray()
        self._connected = connect(self.address, num_cpus=self.workers) or self._connected
        remote = ray.remote(num_cpus=1, max_retries=self.RETRIES)(fn)
        pending = [remote.remote(t) for t in tasks]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayTaskError:
                raise  # the step's own error, as the local engine raises it
            except ray.exceptions.RayError as exc:  # retries spent: workers or nodes kept dying
                for ref in pending:
                    ray.cancel(ref)
                raise UnavailableError(
                    "--engine ray",
                    f"Ray lost a shard on each of its {self.RETRIES + 1} tries "
                    f"({type(exc).__name__}); run the same command again to resume "
                    "(finished shards are kept)",
                ) from exc
            yield result

    def close(self) -> None:
        if self._connected:
            disconnect()
            self._connected = False


def get_engine(name: str, workers: int, address: str | None = None) -> Engine:
    if name == "ray":
        return RayEngine(workers, address)
    return LocalEngine(workers)
