"""The sandbox on a Ray cluster (``eval run --engine ray``).

The caller's jobs go out in batches to Ray tasks; each task hands its batch to its node's own
local pool (``Sandbox._execute``, the entry point a local run uses: the same verdicts, tampering
classes and limits) and returns the results. Only the caller keeps results (its result cache,
and the run's ``results.jsonl`` through its caller), so the nodes share no files.

A node that dies mid-batch loses nothing: Ray runs the batch again elsewhere (``RETRIES``), and
a batch's results are taken once, a job already reported being skipped, so every job's verdict
is reported once. What was reported before the caller itself stopped is in its results file,
from which the same command resumes.
"""

from __future__ import annotations

import atexit
import json
import math
import platform
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tripwire.errors import BadInputError
from tripwire.ray_cluster import connect, disconnect, import_ray
from tripwire.sandbox._pool import Sandbox, SandboxUnavailable
from tripwire.sandbox._types import ExecResult, Isolation, Limits

RETRIES = 3
"""How many times Ray runs a batch again whose worker or node died."""
MAX_BATCH = 16
"""Most jobs in one task: fewer, smaller tasks keep a slow batch from holding up the rest."""
TASKS_PER_SLOT = 2
"""Batches in flight per pool on the cluster: each pool has its next batch waiting."""

# This process's pools, when it is a Ray worker: kept between tasks (a pool's start costs an
# interpreter per worker), one per plan.
_POOLS: dict[str, Sandbox] = {}


def _pool(plan: dict[str, Any]) -> Sandbox:
    key = json.dumps(plan, sort_keys=True)
    box = _POOLS.get(key)
    if box is None:
        if not _POOLS:
            atexit.register(_close_pools)
        box = Sandbox(
            plan["workers"],
            Limits.from_dict(plan["limits"]),
            network=plan["network"],
            privileges=plan["privileges"],
        )
        _POOLS[key] = box
    return box


def _close_pools() -> None:
    for box in _POOLS.values():
        box.close()
    _POOLS.clear()


def run_batch(plan: dict[str, Any], todo: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """On a node: run ``todo`` (key, payload) in this process's pool for ``plan``."""
    box = _pool(plan)
    results = [(key, r.to_dict()) for key, r in box._execute(todo)]
    return {"node": platform.node(), "isolation": box.isolation.to_dict(), "results": results}


def probe(plan: dict[str, Any]) -> dict[str, Any]:
    """On a node: start a pool for ``plan`` and say which protections it applies."""
    return {"node": platform.node(), "isolation": _pool(plan).isolation.to_dict()}


class RaySandbox(Sandbox):
    """A ``Sandbox`` whose workers are pools on the nodes of a Ray cluster.

    ``address`` (else ``$RAY_ADDRESS``): the cluster; neither: a local Ray instance.
    ``workers_per_task``: sandbox workers of each task's pool (each task reserves that many
    CPUs); ``workers`` is how many run at once on the whole cluster. The result cache
    (``cache_dir``), ``limits``, ``network`` and ``privileges`` mean what they mean locally.
    """

    engine = "ray"

    def __init__(
        self,
        limits: Limits | None = None,
        cache_dir: str | Path | None = None,
        *,
        address: str | None = None,
        workers_per_task: int = 1,
        network: str = "auto",
        privileges: str = "auto",
    ) -> None:
        # the local machinery (limits, result cache, argument checks); its one worker never starts
        super().__init__(1, limits, cache_dir, network=network, privileges=privileges)
        if workers_per_task < 1:
            raise ValueError("workers_per_task must be >= 1")
        self.address = address
        self.workers_per_task = workers_per_task
        self._plan = {
            "workers": workers_per_task,
            "limits": self.limits.to_dict(),
            "network": network,
            "privileges": privileges,
        }
        self._connected = False
        self._remote: Any = None
        self._isolation: dict[str, str] | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Connect to Ray and start one pool (its protections are the run's); raises
        SandboxUnavailable when that pool cannot apply them."""
        with self._lock:
            if self._started:
                return
            ray = import_ray()
            self._connected = connect(self.address) or self._connected
            self._check_fits(ray)
            opts = {"num_cpus": self.workers_per_task, "max_retries": RETRIES}
            self._remote = ray.remote(**opts)(run_batch)
            found = self._get(ray.remote(**opts)(probe).remote(self._plan))
            self._isolation = found["isolation"]
            self._started = True
        self._count_slots()

    def close(self) -> None:
        super().close()
        if self._connected:
            disconnect()
            self._connected = False
        self._remote = None

    @property
    def isolation(self) -> Isolation:
        self.start()
        assert self._isolation is not None
        return Isolation(**self._isolation)

    @property
    def jobs_to_fill(self) -> int:
        self.start()
        return TASKS_PER_SLOT * MAX_BATCH * max(1, self.workers // self.workers_per_task)

    def worker_pids(self) -> list[int]:
        return []  # the workers are other machines' processes

    def _check_fits(self, ray: Any) -> None:
        """Each task reserves ``workers_per_task`` CPUs on one node: with no node that large,
        Ray would hold every task pending forever."""
        largest = max((n["Resources"].get("CPU", 0) for n in ray.nodes() if n.get("Alive")),
                      default=0)  # fmt: skip
        if largest < self.workers_per_task:
            raise BadInputError(
                "--workers",
                f"{self.workers_per_task} sandbox workers per Ray task need that many CPUs on "
                f"one node; the largest node of the cluster has {largest:g}",
            )

    def _count_slots(self) -> None:
        """``workers``: the sandbox workers the cluster runs at once (it may have grown)."""
        cpus = int(import_ray().cluster_resources().get("CPU", 0))
        self.workers = max(1, cpus // self.workers_per_task) * self.workers_per_task

    # -- running -------------------------------------------------------------------------------
    def _get(self, ref: Any) -> dict[str, Any]:
        ray = import_ray()
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:  # the pool's own error, e.g. unavailable
            cause = exc.cause if exc.cause is not None else exc
            raise SandboxUnavailable(f"on the Ray cluster: {cause}") from exc
        except ray.exceptions.RayError as exc:  # retries spent: workers or nodes kept dying
            raise SandboxUnavailable(
                f"Ray lost a batch of programs on each of its {RETRIES + 1} tries "
                f"({type(exc).__name__}); run the same command again to resume"
            ) from exc

    def _execute(self, todo: list[tuple[str, dict[str, Any]]]) -> Iterable[tuple[str, ExecResult]]:
        if not todo:
            return
        self.start()
        self._count_slots()
        ray = import_ray()
        slots = max(1, self.workers // self.workers_per_task)
        size = max(1, min(MAX_BATCH, math.ceil(len(todo) / (TASKS_PER_SLOT * slots))))
        with self._running:
            pending = [
                self._remote.remote(self._plan, todo[i : i + size])
                for i in range(0, len(todo), size)
            ]
            reported: set[str] = set()
            try:
                while pending:
                    ready, pending = ray.wait(pending, num_returns=1)
                    batch = self._get(ready[0])
                    self._same_protections(batch)
                    for key, result in batch["results"]:
                        if key not in reported:
                            reported.add(key)
                            yield key, ExecResult.from_dict(result)
            finally:
                for ref in pending:  # the caller stopped early, or a batch failed
                    ray.cancel(ref)

    def _same_protections(self, batch: dict[str, Any]) -> None:
        assert self._isolation is not None
        theirs, ours = Isolation(**batch["isolation"]), Isolation(**self._isolation)
        if theirs.protections() != ours.protections():
            raise SandboxUnavailable(
                f"node {batch['node']} applies other protections than the run's "
                f"({theirs} vs {ours}); give every node the same "
                "kernel features and privileges"
            )
