"""The mSPRT's always-valid p-values (``stats._mixture``): valid at every look and at rare rates
(simulated), its likelihood ratios checked against scipy's binomial, and the risk-adjusted
stream the monitor runs equal to the plain form when every rate is the same."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from tripwire.stats import RiskAdjustedMixture, msprt_p_value, msprt_p_values
from tripwire.stats._mixture import ODDS, rate_log_lr


@pytest.mark.parametrize("p0", [0.002, 0.01, 0.05])
@pytest.mark.parametrize("two_sided", [True, False])
def test_always_valid_under_the_null_at_rare_rates(p0: float, two_sided: bool) -> None:
    """Peeking after every one of 4,000 events, a null stream is rejected at 5% in at most 5%
    of streams (plus simulation error). The normal mixture this replaced was rejected in 13.5%
    of streams at p0 = 0.01."""
    rng = np.random.default_rng(int(p0 * 1e4) + two_sided)
    sims = 300
    rejected = sum(
        msprt_p_values(rng.random(4000) < p0, p0, two_sided)[-1] <= 0.05 for _ in range(sims)
    )
    assert rejected / sims <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / sims)


def test_one_sided_ignores_rates_below_the_null_and_finds_rises() -> None:
    rng = np.random.default_rng(3)
    better = rng.random(20_000) < 0.002
    assert msprt_p_values(better, 0.01, two_sided=False)[-1] > 0.5
    assert msprt_p_values(better, 0.01, two_sided=True)[-1] < 1e-6  # the two-sided form sees it
    worse = rng.random(3000) < 0.03
    assert msprt_p_values(worse, 0.01, two_sided=False)[-1] < 1e-3


def test_likelihood_ratios_match_scipy_binomial() -> None:
    """Each shift's log-likelihood ratio is the binomial's at the shifted rate over the null's
    (the binomial coefficient cancels)."""
    s, n, p0 = 17, 900, 0.01
    for odds, got in zip(ODDS, rate_log_lr(s, n, p0), strict=True):
        q = odds * p0 / (1 - p0 + odds * p0)  # logit q = logit p0 + log(odds)
        assert got == pytest.approx(binom.logpmf(s, n, q) - binom.logpmf(s, n, p0), rel=1e-9)
    assert msprt_p_value(0, 0, 0.01) == 1.0 and msprt_p_value(3, 10, 0.0) == 1.0


def test_risk_adjusted_stream_equals_the_plain_form_at_one_rate() -> None:
    rng = np.random.default_rng(5)
    x = rng.random(2000) < 0.02
    plain = msprt_p_values(x, 0.01, two_sided=False)
    stream = RiskAdjustedMixture()
    running = []
    for v in x:
        stream.add(bool(v), 0.01)
        running.append(stream.p_value)
    assert np.allclose(running, plain, rtol=1e-9)
    # watching only below a level changes nothing a test at that level decides
    watched = RiskAdjustedMixture()
    for v in x:
        watched.add(bool(v), 0.01, watch_below=0.01)
    assert (watched.p_value <= 0.01) == (stream.p_value <= 0.01)
    assert watched.p_value == stream.p_value or stream.p_value > 0.01


def test_risk_adjusted_stream_is_valid_under_a_mix_of_rates() -> None:
    """Events from strata at 0.1%, 1% and 5%, in a mix that drifts: each scored against its
    own stratum's rate, the stream's running p-value is rejected at 5% in at most 5% of
    streams."""
    rng = np.random.default_rng(9)
    rates = np.array([0.001, 0.01, 0.05])
    sims, n = 200, 3000
    rejected = 0
    for _ in range(sims):
        drift = np.linspace(0, 1, n)
        first = rng.random(n) < 0.6 - 0.4 * drift
        stratum = np.where(first, 0, rng.integers(1, 3, n))
        x = rng.random(n) < rates[stratum]
        stream = RiskAdjustedMixture()
        for v, k in zip(x.tolist(), stratum.tolist(), strict=True):
            stream.add(v, float(rates[k]), watch_below=0.05)
        rejected += stream.p_value <= 0.05
    assert rejected / sims <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / sims)
