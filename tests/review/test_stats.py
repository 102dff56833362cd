"""The review statistics against independent implementations: kappas against statsmodels, the
sign test against scipy and statsmodels, Wilson and Clopper-Pearson against statsmodels, and
the stratified interval's coverage and the sample size's precision by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats import inter_rater
from statsmodels.stats.descriptivestats import sign_test as sm_sign_test
from statsmodels.stats.proportion import proportion_confint

from tripwire.review import (
    Stratum,
    Target,
    allocate,
    clopper_pearson,
    cohen_kappa,
    fleiss_kappa,
    sample_size,
    sign_test,
    stratified_share,
    wilson,
)


@pytest.mark.parametrize("seed", range(6))
def test_cohen_kappa_matches_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    a = rng.integers(0, 3, n)
    # correlated second rater: agrees most of the time
    b = np.where(rng.random(n) < 0.7, a, rng.integers(0, 3, n))
    table = np.zeros((3, 3))
    for x, y in zip(a, b, strict=True):
        table[x, y] += 1
    ours = cohen_kappa(a.tolist(), b.tolist())
    assert ours == pytest.approx(inter_rater.cohens_kappa(table).kappa, abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_fleiss_kappa_matches_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    items, raters = int(rng.integers(4, 40)), int(rng.integers(2, 5))
    truth = rng.integers(0, 3, items)
    ratings = np.where(
        rng.random((items, raters)) < 0.75, truth[:, None], rng.integers(0, 3, (items, raters))
    )
    table, _ = inter_rater.aggregate_raters(ratings, n_cat=3)
    ours = fleiss_kappa(table.tolist())
    assert ours == pytest.approx(inter_rater.fleiss_kappa(table, method="fleiss"), abs=1e-12)


@pytest.mark.parametrize(
    ("wins", "ties", "losses"), [(12, 3, 4), (0, 5, 7), (20, 0, 20), (1, 9, 0)]
)
def test_sign_test_matches_scipy_and_statsmodels(wins: int, ties: int, losses: int) -> None:
    ours = sign_test(wins, losses)
    assert ours == pytest.approx(sps.binomtest(wins, wins + losses, 0.5).pvalue, abs=1e-12)
    scores = np.array([1] * wins + [0] * ties + [-1] * losses)
    assert ours == pytest.approx(sm_sign_test(scores, 0)[1], abs=1e-12)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 17), (17, 17), (40, 120)])
def test_wilson_and_clopper_pearson_match_statsmodels(k: int, n: int) -> None:
    assert wilson(k, n) == pytest.approx(proportion_confint(k, n, method="wilson"), abs=1e-12)
    assert clopper_pearson(k, n, 0.95) == pytest.approx(
        proportion_confint(k, n, method="beta"), abs=1e-9
    )


def test_one_stratum_with_a_negligible_fraction_is_clopper_pearson() -> None:
    labels = (True,) * 7 + (False,) * 93
    s = stratified_share([Stratum("all", 10**9, labels)], 0.95)
    assert s.estimate == pytest.approx(0.07)
    assert (s.low, s.high) == pytest.approx(proportion_confint(7, 100, method="beta"), abs=1e-6)


def test_census_strata_are_exact_and_strata_without_labels_are_left_out() -> None:
    s = stratified_share([Stratum("b", 10, (True, False) * 5, census=True), Stratum("k", 50, ())])
    assert (s.estimate, s.low, s.high) == (0.5, 0.5, 0.5)
    assert s.unreviewed == 50 and s.population == 10


def test_stratified_interval_covers_and_the_planned_sample_meets_its_target() -> None:
    """A population in three strata of known defect rates, sampled as the review samples it
    (proportional allocation of the planned size, without replacement): the 95% interval
    covers the true share in at least 93% of 400 draws, and its mean half-width is within
    the target's margin (the plan's planning value is the true rate here)."""
    rng = np.random.default_rng(7)
    sizes = {"a": 3000, "b": 1500, "c": 500}
    rates = {"a": 0.02, "b": 0.10, "c": 0.30}
    population = {s: rng.random(n) < rates[s] for s, n in sizes.items()}
    true = sum(population[s].sum() for s in sizes) / sum(sizes.values())
    target = Target(margin=0.03, confidence=0.95, expected=float(true))
    n = sample_size(target, sum(sizes.values()))
    counts = allocate(sizes, n)
    assert sum(counts.values()) == n
    covered, widths = 0, []
    for _ in range(400):
        strata = [
            Stratum(s, sizes[s], tuple(rng.choice(population[s], counts[s], replace=False)))
            for s in sizes
        ]
        est = stratified_share(strata, 0.95)
        covered += est.low <= true <= est.high
        widths.append((est.high - est.low) / 2)
    assert covered / 400 >= 0.93
    assert np.mean(widths) <= target.margin * 1.1


def test_sample_size_is_the_textbook_formula_with_the_finite_population_correction() -> None:
    # +-2 points at 95% for an unknown rate (0.5): 2401 from an endless population
    assert sample_size(Target(0.02, 0.95, 0.5), 10**9) == 2401
    n0 = 1.959963984540054**2 * 0.25 / 0.02**2
    assert sample_size(Target(0.02, 0.95, 0.5), 1000) == int(np.ceil(n0 / (1 + (n0 - 1) / 1000)))
    assert sample_size(Target(0.02), 10) == 10


def test_allocation_is_proportional_with_at_least_two_per_stratum() -> None:
    got = allocate({"big": 900, "mid": 90, "tiny": 1, "small": 9}, 100)
    assert sum(got.values()) == 100
    assert got["tiny"] == 1 and got["small"] >= 2
    assert got["big"] > 8 * got["mid"] / 1.5


def test_kappa_of_raters_with_one_label_throughout_is_undefined() -> None:
    """Chance agreement is 1 and kappa 0/0: statsmodels says NaN, and so do we (it read 1.00,
    perfect agreement beyond chance, for raters who showed no judgement); JSON carries null
    and why."""
    import math
    import warnings

    from tripwire.review import agreement

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = inter_rater.cohens_kappa(np.array([[5, 0], [0, 0]])).kappa
        theirs_fleiss = inter_rater.fleiss_kappa(np.array([[3, 0]] * 4), method="fleiss")
    assert math.isnan(theirs) and math.isnan(cohen_kappa(["ok"] * 5, ["ok"] * 5))
    assert math.isnan(theirs_fleiss) and math.isnan(fleiss_kappa([[3, 0]] * 4))
    labels = {f"i{k}": {"ann": "ok", "bob": "ok", "cy": "ok"} for k in range(4)}
    a = agreement(labels, ["ok", "bad"])
    assert {p["kappa"] for p in a["cohen"]} == {None}
    assert a["fleiss"]["kappa"] is None and "one label" in a["fleiss"]["kappa_undefined"]
    from tripwire.review._agreement import kappa_text

    assert kappa_text(a["fleiss"]) == "undefined (one label throughout)"
    assert kappa_text({"kappa": 0.5}) == "0.50"
