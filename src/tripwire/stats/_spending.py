"""Group-sequential levels: how strict each look of a comparison that may stop early must be.

A comparison that looks at its data after every batch and stops once decided gets as many
chances to be wrong as it has looks. Alpha spending (Lan and DeMets 1983) fixes the total: by
the look at information fraction ``t`` (items seen over the budget) at most ``spend(t)`` of
``alpha`` may have been used, ``spend(1) = alpha``. Each look's nominal level is the one at
which the chance of crossing at that look, having not crossed before, is the increment
``spend(t_k) - spend(t_{k-1})``, under the joint normal law of a test statistic computed on
growing data (correlation ``sqrt(t_j / t_k)`` between looks; Jennison and Turnbull 2000,
ch. 19, by numerical integration on a grid). Accounting for that correlation, instead of
a union bound that splits ``alpha`` over the looks, is what keeps the last look nearly as
lenient as a fixed-size test.

``obf`` is Lan-DeMets' O'Brien-Fleming spending: almost nothing at the first looks, where few
items make a verdict fragile, and most of ``alpha`` near the end. ``pocock`` spends evenly.

Several slices: under Holm a false regression at a look needs some true-null slice's p-value
under ``level(alpha / m0)`` there (``m0`` true nulls), and the level's share of ``alpha``
shrinks with ``alpha``, so testing at ``m * level(alpha / m)`` (the level passed to the
correction) keeps each slice's chance over all looks under ``alpha / m``, and the family's
under ``alpha``. The levels are checked exactly for pass/fail slices over every path of counts
(``tests/stats/test_spending.py``, ``benchmarks/sequential_compare.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

import numpy as np
from scipy import optimize
from scipy import stats as sps

Spending = Literal["obf", "pocock"]
_GRID = 801  # Simpson points over each look's continuation region (odd)
_LOW = -10.0  # the region's lower end: below it the statistic never returns
_TOP = 40.0  # a boundary above this is never crossed
_HIGH = 12.0  # the grid's upper end when the boundary is higher: no mass is left above it


def spent(t: np.ndarray | float, alpha: float, kind: Spending = "obf") -> np.ndarray:
    """The share of ``alpha`` that may be spent by information fraction ``t``."""
    t = np.clip(np.asarray(t, dtype=np.float64), 0.0, 1.0)
    if kind == "obf":
        with np.errstate(divide="ignore"):
            return np.where(
                t > 0, 2 * sps.norm.sf(sps.norm.isf(alpha / 2) / np.sqrt(np.maximum(t, 1e-300))), 0
            )
    if kind == "pocock":
        return alpha * np.log1p((np.e - 1) * t)
    raise ValueError(f"unknown spending {kind!r} (obf, pocock)")


def _simpson(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(a, b, _GRID)
    w = np.ones(_GRID)
    w[1:-1:2], w[2:-1:2] = 4, 2
    return x, w * (b - a) / (_GRID - 1) / 3


def _phi(x: np.ndarray) -> np.ndarray:
    # the normal density without scipy's argument checks (this is the hot loop)
    return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


class _Running:
    """The density of the standardized statistic at a look, over the paths still running
    (below every boundary so far), on a Simpson grid."""

    def __init__(self, info: float, c: float) -> None:
        self.info_prev = info
        self.grid, self.w = _simpson(_LOW, min(c, _HIGH))
        self.dens = sps.norm.pdf(self.grid)

    def _step(self, info: float, z: np.ndarray) -> np.ndarray:
        """``(z * sqrt(info) - u * sqrt(prev)) / sqrt(info - prev)`` for every grid point u."""
        prev = self.info_prev
        return (z[..., None] * np.sqrt(info) - self.grid * np.sqrt(prev)) / np.sqrt(info - prev)

    def crossing(self, info: float, c: float) -> float:
        """Chance of being above ``c`` at the look with information ``info``, not before."""
        return float(np.sum(self.w * self.dens * sps.norm.sf(self._step(info, np.asarray(c)))))

    def advance(self, info: float, c: float) -> None:
        grid, w = _simpson(_LOW, min(c, _HIGH))
        kern = _phi(self._step(info, grid))
        self.dens = np.sqrt(info / (info - self.info_prev)) * (kern @ (self.w * self.dens))
        self.grid, self.w, self.info_prev = grid, w, info


def _boundary(run: _Running, info: float, spend: float) -> float:
    """The boundary at which ``spend`` crosses at this look (``inf`` when nothing is spent);
    the crossing chance falls from the whole running mass (at _LOW) to 0 (at _TOP)."""
    if spend <= 0:
        return np.inf
    return optimize.brentq(lambda x: run.crossing(info, x) - spend, _LOW, _TOP, xtol=1e-10)


@lru_cache(maxsize=256)
def _levels(fractions: tuple[float, ...], alpha: float, kind: Spending) -> tuple[float, ...]:
    cum = spent(np.array(fractions), alpha, kind)
    increments = np.diff(np.concatenate([[0.0], cum]))
    levels: list[float] = []
    run: _Running | None = None
    for info, inc in zip(fractions, increments, strict=True):
        if run is None:
            c = float(sps.norm.isf(inc)) if inc > 0 else np.inf
            run = _Running(info, c)
        else:
            c = _boundary(run, info, inc)
            run.advance(info, c)
        levels.append(float(sps.norm.sf(c)))
    return tuple(levels)


def look_levels(fractions: Sequence[float], alpha: float, kind: Spending = "obf") -> np.ndarray:
    """Nominal one-sided level at each look (information fractions increasing to 1): a test
    statistic compared with these crosses at some look with chance ``alpha`` (at most)."""
    f = tuple(float(x) for x in fractions)
    if not f or any(b <= a for a, b in itertools.pairwise(f)) or f[0] <= 0 or f[-1] > 1:
        raise ValueError("information fractions must increase from above 0 to at most 1")
    if not 0 < alpha < 1:
        raise ValueError("alpha must lie between 0 and 1")
    return np.array(_levels(f, float(alpha), kind))


def crossing_chance(fractions: Sequence[float], levels: Sequence[float]) -> float:
    """Chance that a statistic of the canonical joint law crosses the given nominal levels at
    some look (the check of ``look_levels``, by the same integration)."""
    c = sps.norm.isf(np.asarray(levels, dtype=np.float64))
    total = float(sps.norm.sf(c[0]))
    run = _Running(float(fractions[0]), float(c[0]))
    for info, ck in zip(fractions[1:], c[1:], strict=True):
        total += run.crossing(float(info), float(ck))
        run.advance(float(info), float(ck))
    return total


def family_levels(
    fractions: Sequence[float],
    alpha: float,
    slices: int,
    correction: str,
    kind: Spending = "obf",
) -> tuple[np.ndarray, np.ndarray]:
    """``(pass_levels, regression_levels)`` per look: the ``alpha`` to give ``compare_slice``
    (each slice's pass, uncorrected) and the ``alpha`` to give the correction across
    ``slices`` (``slices * level(alpha / slices)``; see the module docstring)."""
    passing = look_levels(fractions, alpha, kind)
    if correction == "none" or slices <= 1:
        return passing, passing
    return passing, slices * look_levels(fractions, alpha / slices, kind)
