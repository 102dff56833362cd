"""How many records people must review, and which: the sample a precision target needs, split
over strata in proportion to their size, drawn at random with a recorded seed.

The target reads "the share of bad records among those kept, within +-``margin`` at
``confidence``". For a simple random sample that takes ``n0 = z^2 p (1 - p) / margin^2`` records
(``p`` the share expected, 0.5 when nothing is known: the worst case), fewer when the population
is small (finite population correction, ``n = n0 / (1 + (n0 - 1) / N)``). Proportional allocation
over strata never needs more than that (its variance is at most the simple sample's), so the
same ``n`` meets the target; each stratum gets at least two records where it has them, so every
stratum's share can be estimated.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as sps


@dataclass(frozen=True)
class Target:
    """The precision the review must reach for the kept records' defect rate."""

    margin: float = 0.02
    """Half-width of the interval, as a share (0.02: +-2 points)."""
    confidence: float = 0.95
    expected: float = 0.5
    """The defect rate expected (planning value); 0.5 is the worst case."""

    def __post_init__(self) -> None:
        if not 0 < self.margin < 0.5:
            raise ValueError("the margin must be between 0 and 0.5")
        if not 0.5 <= self.confidence < 1:
            raise ValueError("the confidence must be between 0.5 and 1")
        if not 0 < self.expected < 1:
            raise ValueError("the expected rate must be between 0 and 1")

    @property
    def z(self) -> float:
        return float(sps.norm.isf((1 - self.confidence) / 2))


def sample_size(target: Target, population: int) -> int:
    """Records to draw from ``population`` for ``target`` (all of them when it is small)."""
    if population <= 0:
        return 0
    p = target.expected
    n0 = target.z**2 * p * (1 - p) / target.margin**2
    n = n0 / (1 + (n0 - 1) / population)
    return min(population, math.ceil(n - 1e-9))


def allocate(sizes: dict[str, int], n: int, least: int = 2) -> dict[str, int]:
    """``n`` draws split over strata in proportion to their sizes (largest remainders), each
    stratum at least ``least`` (or all it has), none more than it has."""
    total = sum(sizes.values())
    if total == 0 or n <= 0:
        return dict.fromkeys(sizes, 0)
    n = min(n, total)
    floor = {s: min(size, least) for s, size in sizes.items()}
    left = max(0, n - sum(floor.values()))
    spare = {s: size - floor[s] for s, size in sizes.items()}
    spare_total = sum(spare.values())
    if spare_total == 0 or left == 0:
        return floor
    share = {s: left * spare[s] / spare_total for s in sizes}
    out = {s: floor[s] + math.floor(share[s]) for s in sizes}
    rest = left - sum(math.floor(v) for v in share.values())
    for s in sorted(sizes, key=lambda s: (-(share[s] - math.floor(share[s])), s)):
        if rest <= 0:
            break
        if out[s] < sizes[s]:
            out[s] += 1
            rest -= 1
    return out


def draw(members: dict[str, Sequence[str]], counts: dict[str, int], seed: int) -> list[str]:
    """A simple random sample of ``counts[s]`` members of each stratum ``s`` (reproducible: one
    generator per stratum seeded by the stratum's name, so adding a stratum changes no other)."""
    out: list[str] = []
    for s in sorted(members):
        rng = random.Random(f"{seed}:{s}")
        out += rng.sample(list(members[s]), counts.get(s, 0))
    return out
