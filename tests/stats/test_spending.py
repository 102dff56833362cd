"""The group-sequential levels of `--sequential`: the spending is what the canonical law of a
statistic on growing data crosses (checked by simulating that law), and a pass/fail slice
judged at them keeps each false-verdict rate under alpha whenever it stops (every path,
exactly)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from tripwire.stats import (
    binary_verdict_chances,
    crossing_chance,
    family_levels,
    look_levels,
)
from tripwire.stats._group_sequential import sequential_binary_chances

ALPHA = 0.05


def _simulated_crossing(fractions: np.ndarray, levels: np.ndarray, paths: int = 400_000) -> float:
    """Brownian motion observed at the fractions: the law of a standardized mean on growing
    data (Jennison and Turnbull's canonical joint distribution)."""
    rng = np.random.default_rng(11)
    steps = np.diff(np.concatenate([[0.0], fractions]))
    walk = np.cumsum(rng.normal(0.0, np.sqrt(steps), size=(paths, len(fractions))), axis=1)
    z = walk / np.sqrt(fractions)
    return float(np.mean(np.any(z >= sps.norm.isf(levels), axis=1)))


@pytest.mark.parametrize("kind", ["obf", "pocock"])
@pytest.mark.parametrize("looks", [3, 5, 10])
def test_levels_spend_alpha_under_the_canonical_law(kind: str, looks: int) -> None:
    fractions = np.arange(1, looks + 1) / looks
    levels = look_levels(fractions, ALPHA, kind)  # type: ignore[arg-type]
    assert np.all(np.diff(levels) > 0) if kind == "obf" else np.all(levels < ALPHA)
    assert crossing_chance(fractions, levels) == pytest.approx(ALPHA, abs=1e-6)
    # three Monte Carlo standard errors of 400k paths
    assert _simulated_crossing(fractions, levels) == pytest.approx(ALPHA, abs=0.001)
    # the correlation between looks is what keeps the last look lenient: a union bound over
    # the looks would have to test every look at alpha / looks or stricter
    assert levels[-1] > ALPHA / looks and sum(levels) > ALPHA


def test_one_look_is_the_fixed_design_and_bad_schedules_are_refused() -> None:
    assert look_levels([1.0], ALPHA)[0] == pytest.approx(ALPHA)
    with pytest.raises(ValueError, match="increase"):
        look_levels([0.5, 0.5, 1.0], ALPHA)
    with pytest.raises(ValueError, match="increase"):
        look_levels([0.0, 1.0], ALPHA)


def test_holm_levels_keep_each_slice_under_its_share() -> None:
    # the level given to the correction is m * level(alpha / m): each slice's own boundary
    # crosses with at most alpha / m, so the family's chance of a false regression is <= alpha;
    # dividing the plain levels by m instead would spend more than alpha / m
    fractions = np.arange(1, 6) / 5
    passing, regression = family_levels(fractions, ALPHA, 8, "holm")
    assert np.allclose(passing, look_levels(fractions, ALPHA))
    assert crossing_chance(fractions, regression / 8) == pytest.approx(ALPHA / 8, abs=1e-7)
    assert crossing_chance(fractions, passing / 8) > ALPHA / 8 * 1.05
    assert np.allclose(family_levels(fractions, ALPHA, 8, "none")[1], passing)


def test_one_look_of_the_exact_walk_is_the_fixed_rule() -> None:
    seq = sequential_binary_chances([200], 0.1, 0.06, 0.02, [ALPHA], [ALPHA])
    fixed = binary_verdict_chances(200, 0.1, 0.06, 0.02, ALPHA, ALPHA)
    assert seq.regressed_total == pytest.approx(fixed.regressed, abs=1e-12)
    assert seq.passed_total == pytest.approx(fixed.passed, abs=1e-12)


@pytest.mark.parametrize(("budget", "looks"), [(60, 3), (200, 5), (400, 10)])
@pytest.mark.parametrize("margin", [0.02, 0.05])
def test_false_verdicts_stay_under_alpha_at_any_stopping_time(
    budget: int, looks: int, margin: float
) -> None:
    # a true degradation exactly at the margin: `regressed` and `pass` are both false verdicts.
    # Every path of (losses, gains) is followed look by look; the chance of having given a
    # false verdict by any look is a partial sum, so the totals bound every stopping time.
    sizes = [round(budget * k / looks) for k in range(1, looks + 1)]
    levels = look_levels(np.array(sizes) / budget, ALPHA)
    worst = 0.0
    for discordance in (margin, 0.05, 0.15, 0.3):
        if discordance < margin:
            continue
        loss, gain = (discordance + margin) / 2, (discordance - margin) / 2
        seq = sequential_binary_chances(sizes, loss, gain, margin, levels, levels)
        assert seq.regressed_total <= ALPHA and seq.passed_total <= ALPHA, (discordance, seq)
        worst = max(worst, seq.regressed_total, seq.passed_total)
        # with no drop at all a false regression is rarer still
        none = sequential_binary_chances(sizes, discordance / 2, discordance / 2, margin, levels,
                                         levels)  # fmt: skip
        assert none.regressed_total <= seq.regressed_total + 1e-12
    if budget >= 200:
        assert worst > ALPHA / 4  # and not so strict that it never decides


def test_a_large_drop_stops_early_and_no_drop_passes_early() -> None:
    budget, sizes = 1000, [200, 400, 600, 800, 1000]
    levels = look_levels(np.array(sizes) / budget, ALPHA)
    large = sequential_binary_chances(sizes, 0.16, 0.04, 0.02, levels, levels)  # drop 0.12
    assert large.regressed_total > 0.99 and large.expected_items < 0.45 * budget
    none = sequential_binary_chances(sizes, 0.05, 0.05, 0.04, levels, levels)
    assert none.passed_total > 0.95 and none.expected_items < 0.7 * budget
