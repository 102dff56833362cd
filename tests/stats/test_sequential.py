"""Bernoulli CUSUM thresholds from a target ARL0, detection, and mSPRT validity (simulated)."""

from __future__ import annotations

import math

import numpy as np

from tripwire.stats import (
    bernoulli_cusum,
    cusum_first_alarm,
    kl_bernoulli,
    msprt_p_value,
    msprt_p_values,
)


def _run_lengths(p: float, design, streams: int, horizon: int, seed: int) -> np.ndarray:
    """Events to the first alarm of ``streams`` independent CUSUMs (horizon when none)."""
    rng = np.random.default_rng(seed)
    s = np.zeros(streams, dtype=np.int64)
    alarm = np.full(streams, horizon, dtype=np.int64)
    alive = np.ones(streams, dtype=bool)
    for t in range(horizon):
        x = rng.random(streams) < p
        s = np.maximum(0, s + np.where(x, design.up - 1, -1))
        hit = alive & (s >= design.threshold)
        alarm[hit] = t + 1
        alive &= ~hit
        if not alive.any():
            break
    return alarm


def test_in_control_arl_matches_target() -> None:
    design = bernoulli_cusum(0.02, 0.06, 2000)
    assert 2000 <= design.arl0 < 2000 * 1.15
    assert design.h < math.log(2000)  # tighter than the e^h >= ARL0 bound
    runs = _run_lengths(0.02, design, streams=600, horizon=30_000, seed=1)
    assert (runs < 30_000).mean() > 0.99
    mean = runs.mean()
    # the mean of ~600 exponential-like run lengths is within ~4% (1 SE); allow 15%
    assert 0.85 * design.arl0 < mean < 1.15 * design.arl0, (mean, design.arl0)


def test_detects_a_shift_about_as_fast_as_theory() -> None:
    design = bernoulli_cusum(0.01, 0.03, 20_000)
    delays = _run_lengths(0.03, design, streams=400, horizon=20_000, seed=2)
    theory = design.expected_delay(0.03)
    assert 0.7 * theory < delays.mean() < 1.5 * theory, (delays.mean(), theory)
    # Lorden: delay ~ h / KL for the tuned-for shift
    assert abs(theory - design.h / kl_bernoulli(0.03, 0.01)) / theory < 0.3


def test_change_point_estimate_near_truth() -> None:
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.random(3000) < 0.005, rng.random(3000) < 0.05])
    design = bernoulli_cusum(0.005, 0.02, 50_000)
    alarm = cusum_first_alarm(x, design)
    assert alarm is not None and alarm.alarm > 3000
    assert abs(alarm.change - 3000) < 150


def test_msprt_always_valid_under_null() -> None:
    rng = np.random.default_rng(7)
    rejected = 0
    sims = 300
    for _ in range(sims):
        x = rng.random(3000) < 0.05
        if msprt_p_values(x, 0.05, tau=0.05)[-1] <= 0.05:  # peeking after every event
            rejected += 1
    assert rejected / sims <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / sims)
    shifted = rng.random(3000) < 0.09
    assert msprt_p_values(shifted, 0.05)[-1] < 1e-3
    assert msprt_p_value(0, 0, 0.05) == 1.0
