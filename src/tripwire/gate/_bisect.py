"""Find the first version in a lineage that fails the gate against a known-good one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tripwire.artifacts import Registry
from tripwire.errors import BadInputError


@dataclass(frozen=True)
class BisectResult:
    chain: list[dict[str, Any]]
    """good ... bad, oldest first: ``{"id", "name", "path", "verdict"}`` (verdict None if not
    gated: bisection skips what it can infer)."""
    first_bad: dict[str, Any] | None
    gate_runs: int

    def to_dict(self) -> dict[str, Any]:
        return {"chain": self.chain, "first_bad": self.first_bad, "gate_runs": self.gate_runs}


def chain_between(registry: Registry, good: str, bad: str) -> list[dict[str, Any]]:
    """The model versions from ``good`` to ``bad`` along registered parent links, oldest first."""
    good_a, bad_a = registry.get(good), registry.get(bad)
    path = [bad_a.id]
    while path[-1] != good_a.id:
        parents = [
            p for p in registry.parents(path[-1]) if str(registry.get(p).manifest.kind) == "model"
        ]
        if not parents:
            raise BadInputError(
                bad, f"{good_a.manifest.name} ({good_a.id[:12]}) is not among its registered "
                "model ancestors",
            )  # fmt: skip
        path.append(parents[0])
        if len(path) > 10_000:
            raise BadInputError(bad, "the registered lineage has a cycle")
    out = []
    for artifact_id in reversed(path):
        a = registry.get(artifact_id)
        out.append({"id": a.id, "name": a.manifest.name, "path": a.path, "verdict": None})
    return out


def bisect(
    registry: Registry,
    good: str,
    bad: str,
    judge: Callable[[Path, Path], str],
) -> BisectResult:
    """Binary search for the first version whose gate verdict against ``good`` is ``block``.

    ``judge(good_path, version_path)`` returns the verdict; it is called O(log n) times.
    """
    chain = chain_between(registry, good, bad)
    for node in chain:
        if not node["path"] or not Path(node["path"]).is_dir():
            raise BadInputError(node["id"][:12], f"registered path {node['path']!r} is gone")
    good_path = Path(chain[0]["path"])
    chain[0]["verdict"] = "pass"
    lo, hi, runs = 0, len(chain) - 1, 0
    chain[hi]["verdict"] = judge(good_path, Path(chain[hi]["path"]))
    runs += 1
    if chain[hi]["verdict"] != "block":
        return BisectResult(chain, None, runs)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        chain[mid]["verdict"] = judge(good_path, Path(chain[mid]["path"]))
        runs += 1
        if chain[mid]["verdict"] == "block":
            hi = mid
        else:
            lo = mid
    first = chain[hi]
    return BisectResult(chain, {"id": first["id"], "name": first["name"]}, runs)
