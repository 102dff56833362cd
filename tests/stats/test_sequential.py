"""Bernoulli CUSUM thresholds from a target ARL0, detection, and mSPRT validity (simulated)."""

from __future__ import annotations

import math

import numpy as np

from tripwire.stats import (
    bernoulli_cusum,
    cusum_first_alarm,
    kl_bernoulli,
    lattice_arl,
    msprt_excess_p_value,
    msprt_p_value,
    msprt_p_values,
    resolvable_shift,
    stratified_cusum,
)


def _run_lengths(step, threshold: int, streams: int, horizon: int, seed: int) -> np.ndarray:
    """Events to the first alarm of ``streams`` independent CUSUMs (horizon when none);
    ``step(rng)`` draws one lattice step for every stream."""
    rng = np.random.default_rng(seed)
    s = np.zeros(streams, dtype=np.int64)
    alarm = np.full(streams, horizon, dtype=np.int64)
    alive = np.ones(streams, dtype=bool)
    for t in range(horizon):
        s = np.maximum(0, s + step(rng))
        hit = alive & (s >= threshold)
        alarm[hit] = t + 1
        alive &= ~hit
        if not alive.any():
            break
    return alarm


def _bernoulli_run_lengths(p: float, design, streams: int, horizon: int, seed: int) -> np.ndarray:
    def step(rng: np.random.Generator) -> np.ndarray:
        return np.where(rng.random(streams) < p, design.up - 1, -1)

    return _run_lengths(step, design.threshold, streams, horizon, seed)


def test_in_control_arl_matches_target() -> None:
    design = bernoulli_cusum(0.02, 0.06, 2000)
    assert 2000 <= design.arl0 < 2000 * 1.15
    assert design.h < math.log(2000)  # tighter than the e^h >= ARL0 bound
    runs = _bernoulli_run_lengths(0.02, design, streams=600, horizon=30_000, seed=1)
    assert (runs < 30_000).mean() > 0.99
    mean = runs.mean()
    # the mean of ~600 exponential-like run lengths is within ~4% (1 SE); allow 15%
    assert 0.85 * design.arl0 < mean < 1.15 * design.arl0, (mean, design.arl0)


def test_detects_a_shift_about_as_fast_as_theory() -> None:
    design = bernoulli_cusum(0.01, 0.03, 20_000)
    delays = _bernoulli_run_lengths(0.03, design, streams=400, horizon=20_000, seed=2)
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


# Risk-adjusted (stratified) CUSUM: languages with different background rates, as in production.
RATES = (0.010, 0.015, 0.020, 0.030)
MIX = (0.50, 0.30, 0.15, 0.05)
SHIFTED = (0.25, 0.25, 0.30, 0.20)


def _up(shift: float) -> tuple[float, ...]:
    return tuple(p + shift for p in RATES)


def _stratified_run_lengths(design, rates, mix, streams: int, horizon: int, seed: int):
    # (strata, 2): the lattice steps of a defect and of an event without one
    pairs = zip(design.rates, design.alternatives, strict=True)
    steps = np.array([design.steps(p0, p1) for p0, p1 in pairs])

    def step(rng: np.random.Generator) -> np.ndarray:
        k = rng.choice(len(mix), size=streams, p=mix)
        x = rng.random(streams) < np.asarray(rates)[k]
        return np.where(x, steps[k, 0], steps[k, 1])

    return _run_lengths(step, design.threshold, streams, horizon, seed)


def test_stratified_cusum_in_control_arl_matches_target() -> None:
    design = stratified_cusum(RATES, _up(0.03), (MIX,), 2000)
    assert 2000 <= design.arl0 < 2000 * 1.15
    assert math.isclose(design.arl(RATES), design.arl0)
    runs = _stratified_run_lengths(design, RATES, MIX, streams=500, horizon=30_000, seed=3)
    assert (runs < 30_000).mean() > 0.99
    # ~500 roughly exponential run lengths: SE ~4.5%; allow ~3 SE
    assert 0.85 * design.arl0 < runs.mean() < 1.15 * design.arl0, (runs.mean(), design.arl0)


def test_mix_shift_is_harmless_only_when_risk_adjusted() -> None:
    """Exact lattice ARLs: more traffic in error-prone languages barely moves the risk-adjusted
    CUSUM's false-alarm rate, but makes a pooled-rate CUSUM alarm many times more often."""
    stratified = stratified_cusum(RATES, _up(0.03), (MIX,), 100_000)
    assert stratified.arl(RATES, SHIFTED) > 0.9 * 100_000
    pooled_rate = sum(p * w for p, w in zip(RATES, MIX, strict=True))
    shifted_rate = sum(p * w for p, w in zip(RATES, SHIFTED, strict=True))
    pooled = bernoulli_cusum(pooled_rate, pooled_rate + 0.03, 100_000)
    pooled_arl = lattice_arl(
        ((1 - shifted_rate, -1), (shifted_rate, pooled.up - 1)), pooled.threshold
    )
    assert pooled_arl < 0.2 * 100_000
    # a fault within strata is still seen: the rise it is tuned to, about as fast as theory
    faulty = [p + 0.03 for p in RATES]
    delay = stratified.arl(faulty, SHIFTED)
    assert delay < 400
    assert 0.7 < delay / stratified.expected_delay(faulty, SHIFTED) < 1.5


def test_baseline_uncertainty_keeps_false_alarms_within_target() -> None:
    """The threshold set from a warm-up estimate, averaged exactly over the warm-up's binomial
    outcomes: the false-alarm rate at the true rate stays at or under the target."""
    from scipy.stats import binom

    target, n, p = 5000.0, 400, 0.03
    rate = 0.0
    for x in range(0, 60):
        p0 = (x + 0.5) / (n + 1)
        p1 = round(p0 + max(2 * p0, resolvable_shift(x, n)), 7)
        design = stratified_cusum(
            (round(p0, 7),), (p1,), ((1.0,),), target, ((x + 0.5, n - x + 0.5),)
        )
        rate += binom.pmf(x, n, p) / design.arl((p,))
    assert rate <= 1 / target
    # a point estimate alone (no uncertainty) overshoots: what the averaging is for
    naive = 0.0
    for x in range(0, 60):
        p0 = (x + 0.5) / (n + 1)
        design = stratified_cusum((round(p0, 7),), (round(3 * p0, 7),), ((1.0,),), target)
        naive += binom.pmf(x, n, p) / design.arl((p,))
    assert naive > 1.5 / target


def test_risk_adjusted_msprt_matches_plain_form() -> None:
    assert math.isclose(msprt_excess_p_value(30 - 1000 * 0.02, 1000 * 0.02 * 0.98, 1000),
                        msprt_p_value(30, 1000, 0.02))  # fmt: skip
