"""A pass/fail slice compared in looks, stopping at its first verdict: every path, exactly.

The counts of losses and gains after each look are a two-dimensional random walk. Their law is
carried from look to look (a 2-D convolution with the batch's multinomial), the states where the
rule decides at that look (``regressed`` or ``pass``, the thresholds of ``_rule_power`` at that
look's levels) are taken out as stopped, and the rest runs on. What comes out is the exact
chance of each verdict, at which look, and the expected number of items used: the checks of
``--sequential`` (error rates at any stopping time, and items against the fixed-size design)
rest on this, not on a simulation, wherever one slice decides.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import signal
from scipy import stats as sps

from tripwire.stats._rule_power import binary_thresholds


@dataclass(frozen=True)
class SequentialChances:
    """Where a sequential slice stops and with which verdict."""

    looks: tuple[int, ...]
    """Items seen at each look."""
    regressed: tuple[float, ...]
    """Chance of stopping ``regressed`` at each look."""
    passed: tuple[float, ...]
    """Chance of stopping with ``pass`` at each look."""

    @property
    def regressed_total(self) -> float:
        return float(sum(self.regressed))

    @property
    def passed_total(self) -> float:
        return float(sum(self.passed))

    @property
    def expected_items(self) -> float:
        """Mean items used: the look where it stops, or the whole budget when it never does."""
        stop = np.add(self.regressed, self.passed)
        return float(np.dot(stop, self.looks) + (1 - stop.sum()) * self.looks[-1])


def _batch_kernel(size: int, loss: float, gain: float) -> np.ndarray:
    """``K[l, g]``: chance that a batch of ``size`` items holds ``l`` losses and ``g`` gains."""
    ls, gs = np.meshgrid(np.arange(size + 1), np.arange(size + 1), indexing="ij")
    rest = size - ls - gs
    ok = rest >= 0
    k = np.zeros((size + 1, size + 1))
    k[ok] = sps.multinomial.pmf(
        np.stack([ls[ok], gs[ok], rest[ok]], axis=-1), size, [loss, gain, max(1 - loss - gain, 0)]
    )
    return k


def sequential_binary_chances(
    looks: Sequence[int],
    loss: float,
    gain: float,
    margin: float,
    pass_levels: Sequence[float],
    regress_levels: Sequence[float],
) -> SequentialChances:
    """Exact chances of each verdict at each look for one pass/fail slice whose items are each a
    loss with probability ``loss`` and a gain with probability ``gain``, judged at ``looks``
    (cumulative item counts) with the given per-look levels, stopping at the first verdict."""
    looks = [int(n) for n in looks]
    if not looks or looks[0] < 1 or any(b <= a for a, b in itertools.pairwise(looks)):
        raise ValueError("looks must be increasing item counts from 1")
    state = np.ones((1, 1))  # P(losses = l, gains = g) over the paths still running
    seen = 0
    reg_out, pass_out = [], []
    kernels: dict[int, np.ndarray] = {}
    for n, a_pass, a_reg in zip(looks, pass_levels, regress_levels, strict=True):
        size = n - seen
        if size not in kernels:
            kernels[size] = _batch_kernel(size, loss, gain)
        state = np.clip(signal.fftconvolve(state, kernels[size]), 0.0, None)
        seen = n
        th = binary_thresholds(n, margin, float(a_pass), float(a_reg))
        ls, gs = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
        t = np.minimum(ls + gs, n)
        valid = ls + gs <= n
        regressed = valid & (ls >= th.regress_from[t])
        passed = valid & (ls <= th.pass_up_to[t]) & ~regressed
        reg_out.append(float(state[regressed].sum()))
        pass_out.append(float(state[passed].sum()))
        state = np.where(regressed | passed | ~valid, 0.0, state)
    return SequentialChances(tuple(looks), tuple(reg_out), tuple(pass_out))
