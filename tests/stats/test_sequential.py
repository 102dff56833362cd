"""Bernoulli CUSUM thresholds from a target ARL0 (plain and robust banks), the false-alarm
guarantee averaged over warm-ups (exact) and detection (the mSPRT: ``test_mixture``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tripwire.stats import (
    bernoulli_cusum,
    cusum_bank,
    cusum_first_alarm,
    kl_bernoulli,
    lattice_arl,
    robust_rate,
    smallest_shift,
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


# Risk-adjusted banks: languages with different background rates, as in production.
RATES = (0.010, 0.015, 0.020, 0.030)
MIX = (0.50, 0.30, 0.15, 0.05)
SHIFTED = (0.25, 0.25, 0.30, 0.20)
VERTICES = tuple(tuple(float(i == j) for j in range(4)) for i in range(4))


def _bank_run_lengths(bank, chart, rates, mix, streams: int, horizon: int, seed: int):
    steps = np.array(bank.charts[chart].steps)  # (strata, 2): defect, no defect

    def step(rng: np.random.Generator) -> np.ndarray:
        k = rng.choice(len(mix), size=streams, p=mix)
        x = rng.random(streams) < np.asarray(rates)[k]
        return np.where(x, steps[k, 0], steps[k, 1])

    return _run_lengths(step, bank.charts[chart].threshold, streams, horizon, seed)


def test_lattice_arl_is_stable_where_the_direct_solve_fails() -> None:
    """The renewal form agrees with the plain linear system where that one is well
    conditioned, and stays finite and positive where it returns garbage (ARL > 1e13)."""
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    def direct(atoms, h):  # (I - P) L = 1 on the transient states
        i = np.arange(h)
        rows, cols, vals = [i], [i], [np.ones(h)]
        for p, k in atoms:
            j = np.maximum(i + k, 0)
            keep = j < h
            rows.append(i[keep])
            cols.append(j[keep])
            vals.append(np.full(int(keep.sum()), -p))
        a = sparse.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(h, h))  # fmt: skip
        return float(spsolve(a, np.ones(h))[0])

    for atoms, h in ((((0.98, -1), (0.02, 53)), 319), (((0.999, -1), (0.001, 461)), 3072)):
        assert math.isclose(lattice_arl(atoms, h), direct(atoms, h), rel_tol=1e-6)
    huge = lattice_arl(((0.9, -3), (0.1, 2)), 40)
    assert math.isfinite(huge) and huge > 1e15
    assert lattice_arl(((1.0, -1),), 10) == math.inf  # never moves up: never alarms
    assert lattice_arl(((0.5, 0), (0.5, -1)), 10) == math.inf


def test_bank_in_control_arl_matches_target_under_every_mix() -> None:
    """Each chart of a bank holds K x ARL0 at the calibration rates under the warm-up's mix
    and under every single-language mix (simulated), so the bank holds ARL0 (union)."""
    floors = (0.02,) * 4
    bank = cusum_bank(RATES, floors, (MIX, *VERTICES), 700, top=0.1)
    k = len(bank.charts)
    assert k == 2 and math.isclose(bank.false_alarm_rate() * 700, 1.0, rel_tol=0.2)
    for mix in (MIX, VERTICES[3]):
        runs = _bank_run_lengths(bank, 0, RATES, mix, streams=400, horizon=30_000, seed=3)
        assert (runs < 30_000).mean() > 0.99
        # ~400 roughly exponential run lengths: SE ~5%; allow ~3 SE below the target
        assert runs.mean() > 0.85 * k * 700, (mix, runs.mean())
    assert bank.false_alarm_rate(RATES, SHIFTED) <= 1 / 700 * 1.05  # between the mixes


def test_mix_shift_is_harmless_only_when_risk_adjusted() -> None:
    """Exact lattice ARLs: more traffic in error-prone languages leaves the risk-adjusted
    bank's false-alarm rate within target, but makes a pooled-rate CUSUM alarm many times more
    often; a fault within languages is still seen about as fast as a known-rate CUSUM."""
    bank = cusum_bank(RATES, (0.03,) * 4, (MIX, *VERTICES), 100_000)
    assert bank.false_alarm_rate(RATES, SHIFTED) * 100_000 <= 1.0
    pooled_rate = sum(p * w for p, w in zip(RATES, MIX, strict=True))
    shifted_rate = sum(p * w for p, w in zip(RATES, SHIFTED, strict=True))
    pooled = bernoulli_cusum(pooled_rate, pooled_rate + 0.03, 100_000)
    assert pooled.arl(shifted_rate) < 0.2 * 100_000
    faulty = [p + (1 - p) * 0.03 for p in RATES]
    faulty_rate = sum(p * w for p, w in zip(faulty, SHIFTED, strict=True))
    known = bernoulli_cusum(shifted_rate, faulty_rate, 100_000)  # knows both rates
    delay = bank.delay(faulty, SHIFTED)
    assert delay < 1.3 * known.arl(faulty_rate), (delay, known.arl(faulty_rate))


def _warmup_design(x: int, n: int, arl0: float):
    rate = round(robust_rate(x, n, arl0), 7)
    return cusum_bank((rate,), (round(smallest_shift(x, n, rate, arl0), 6),), ((1.0,),), arl0)


@pytest.mark.parametrize(
    ("n", "p", "arl0"), [(500, 0.01, 1e5), (500, 0.002, 1e5), (500, 0.03, 1.2e7)]
)
def test_false_alarms_averaged_over_warmups_meet_the_target(n: int, p: float, arl0: float) -> None:
    """The guarantee, exactly: a baseline estimated from ``n`` warm-up events (every binomial
    outcome, weighted by its probability) gives at most one false alarm per ``arl0`` events on
    average at the true rate, and the threshold stays near log(K x ARL0) nats at high ARL0 (it
    used to grow linearly with ARL0: 65 to 1,400 nats at 6e6)."""
    from scipy.stats import binom

    xs = np.arange(n + 1)
    pmf = binom.pmf(xs, n, p)
    keep = pmf > 1e-7
    rate = sum(w * _warmup_design(int(x), n, arl0).false_alarm_rate((p,))
               for x, w in zip(xs[keep], pmf[keep], strict=True))  # fmt: skip
    assert rate * arl0 <= 1.0, rate * arl0
    bank = _warmup_design(round(n * p), n, arl0)
    assert all(c.h <= math.log(len(bank.charts) * arl0) for c in bank.charts)
    if arl0 > 1e6:
        return
    # the point estimate alone (no robust rate, no resolvable shift) overshoots: what they are for
    naive = 0.0
    for x, w in zip(xs[keep], pmf[keep], strict=True):
        p0 = round((x + 0.5) / (n + 1), 7)
        naive += w * cusum_bank((p0,), (0.003,), ((1.0,),), arl0).false_alarm_rate((p,))
    assert naive * arl0 > 1.5


def test_high_baseline_rate_has_a_sane_threshold_without_warnings() -> None:
    """A warm-up with 54% syntax errors (the replay that printed MatrixRankWarning): the
    design is finite, its threshold near log(ARL0), and nothing is printed."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bank = _warmup_design(270, 500, 1e6)
    assert all(c.steps[0][0] >= 1 and c.steps[0][1] <= -1 for c in bank.charts)
    assert all(c.h <= math.log(len(bank.charts) * 1e6) for c in bank.charts)
    assert bank.false_alarm_rate() * 1e6 <= 1.0


def test_rare_event_baseline_is_not_optimistic() -> None:
    """Zero refusals in 500 warm-up events: the rate designed at is well above the 0.1% point
    estimate (the true rate may well be 0.4%), and it falls as the warm-up grows."""
    assert robust_rate(0, 500, 1e5) > 0.0035
    assert robust_rate(0, 500, 1e5) > robust_rate(0, 5000, 1e5) > 0.0003
    assert robust_rate(20, 2000, 1e5) > 0.0102
    assert smallest_shift(0, 500, robust_rate(0, 500, 1e5), 1e5) > smallest_shift(
        200, 20_000, robust_rate(200, 20_000, 1e5), 1e5
    )
