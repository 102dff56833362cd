"""How many items ``eval compare``'s rule needs per slice, for the claim a team wants to make.

Two claims, each sized for the rule as ``compare`` applies it (``_rule_power`` computes its
chances exactly):

- ``regression``: one slice drops by ``drop`` (past the margin) while the others hold; that
  slice must come out ``regressed`` after the correction across ``slices`` comparisons. Under
  Holm or Benjamini-Hochberg a slice's adjusted p-value is at most ``slices`` times its own, and
  equals it when the other slices are nowhere near a regression, so the slice is tested at
  ``alpha / slices``: the planned power is exact in that case and a lower bound otherwise.
- ``pass``: nothing dropped; every one of ``slices`` slices must ``pass`` (non-inferiority, each
  at ``alpha`` without correction: a pass is an intersection-union claim). Slices are taken as
  disjoint, so the chance is the per-slice chance to the power ``slices``; overlapping slices
  (``all`` holds every item) pass together more often, so this is a lower bound there.

``items`` is per slice. A pass/fail plan is exact over the discordant counts; a score plan is
exact for normal paired differences (noncentral t), and never below the 10 items a score
verdict needs. Next to it, an unpaired design at the same margin and level (a normal
approximation) shows what pairing saves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from scipy import stats as sps

from tripwire.stats._multiple import Correction
from tripwire.stats._noninferiority import MIN_UNITS
from tripwire.stats._rule_power import binary_verdict_chances, score_verdict_chances

Claim = Literal["regression", "pass"]
CLAIMS: tuple[Claim, ...] = ("regression", "pass")
MAX_ITEMS = 1_000_000
"""Plans needing more items per slice than this are refused (the margin is too fine)."""


@dataclass(frozen=True)
class ClaimPlan:
    """Items for one claim and what they buy."""

    claim: Claim
    items: int
    """Items per slice."""
    power: float
    """The exact chance of the claim at ``items`` (all slices passing, for ``pass``)."""
    level: float
    """The one-sided level each slice is tested at for this claim."""
    scenario: str
    """What was assumed, in words."""
    unpaired_items: int
    """Items per model and slice an unpaired design needs for the same claim (approximate)."""


@dataclass(frozen=True)
class PowerPlan:
    """The items a comparison needs per slice, sized for one or both claims."""

    metric: str
    """``pass`` (pass/fail items) or ``score``."""
    items: int
    """Items per slice: the most any sized claim needs."""
    sized_for: tuple[Claim, ...]
    binding: Claim
    """The sized claim that needs the most items."""
    claims: dict[str, ClaimPlan]
    slices: int
    correction: str
    alpha: float
    power: float
    margin: float
    """The margin in the metric's units."""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sized_for"] = list(self.sized_for)
        return d


@dataclass(frozen=True)
class Scenario:
    """What a plan assumes about the two models (``drop`` and the margin in metric units)."""

    metric: Literal["pass", "score"]
    margin: float
    drop: float | None = None
    """The degradation the regression claim must catch (``None``: only the pass claim)."""
    base_rate: float = 0.5
    """pass: the baseline's pass rate (feasibility and the unpaired comparison)."""
    discordance: float = 0.1
    """pass: share of items the two models disagree on."""
    sd_diff: float = 0.0
    """score: spread of the per-item difference between the two models."""
    sd_item: float = 0.0
    """score: spread of one model's score (the unpaired comparison)."""


def regression_level(alpha: float, correction: Correction, slices: int) -> float:
    """The level one slice's regression test faces when it alone regresses among ``slices``."""
    return alpha if correction == "none" else alpha / slices


def _check(s: Scenario, claims: tuple[Claim, ...]) -> None:
    if s.margin < 0:
        raise ValueError("the margin must not be negative")
    if "regression" in claims and (s.drop is None or s.drop <= s.margin):
        raise ValueError(
            f"drop {s.drop} is not past the margin {s.margin:g}: a regression verdict needs "
            "a degradation beyond the margin"
        )
    if s.metric == "pass":
        if not 0 < s.base_rate < 1:
            raise ValueError("base rate must lie strictly between 0 and 1")
        for drop in [0.0] + ([s.drop] if "regression" in claims and s.drop else []):
            loss, gain = (s.discordance + drop) / 2, (s.discordance - drop) / 2
            if gain < -1e-12 or s.discordance > 1:
                raise ValueError(f"discordance {s.discordance:g} must lie between the drop and 1")
            if loss > s.base_rate + 1e-12 or gain > 1 - s.base_rate + 1e-12:
                raise ValueError(
                    f"discordance {s.discordance:g} is impossible at base rate {s.base_rate:g} "
                    f"(the baseline would lose more items than it passes)"
                )
    elif s.sd_diff <= 0:
        raise ValueError("the spread of the paired differences must be positive")


def claim_chance(
    s: Scenario, claim: Claim, n: int, alpha: float, correction: Correction, slices: int
) -> float:
    """The exact chance of ``claim`` at ``n`` items per slice (see the module docstring)."""
    level = regression_level(alpha, correction, slices) if claim == "regression" else alpha
    drop = (s.drop or 0.0) if claim == "regression" else 0.0
    if s.metric == "pass":
        chances = binary_verdict_chances(
            n, (s.discordance + drop) / 2, (s.discordance - drop) / 2, s.margin, level, level
        )
    else:
        chances = score_verdict_chances(n, drop, s.sd_diff, s.margin, level, level)
    return chances.regressed if claim == "regression" else chances.passed**slices


def smallest_items(chance: Callable[[int], float], target: float, least: int = 1) -> int:
    """Fewest items with ``chance(n) >= target``: doubling, then bisection (the chance rises
    with n, up to the saw-tooth of a discrete test, so the answer is where it first crosses)."""
    if chance(least) >= target:
        return least
    lo, hi = least, max(2 * least, 16)
    while chance(hi) < target:
        if hi >= MAX_ITEMS:
            raise ValueError(f"needs more than {MAX_ITEMS} items per slice")
        lo, hi = hi, min(2 * hi, MAX_ITEMS)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if chance(mid) >= target else (mid, hi)
    return hi


def _z(q: float) -> float:
    return float(sps.norm.ppf(q))


def _unpaired(s: Scenario, claim: Claim, level: float, target: float) -> int:
    """Items per model and slice for a two-sample test of the same claim (normal theory)."""
    drop = (s.drop or 0.0) if claim == "regression" else 0.0
    gap = abs(drop - s.margin)
    if s.metric == "pass":
        p1, p2 = s.base_rate, min(max(s.base_rate - drop, 1e-9), 1 - 1e-9)
        sd = math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    else:
        sd = math.sqrt(2) * s.sd_item
    # isf, not ppf(1 - level): 1 - 1e-300 is 1.0, whose quantile is infinite; the ratio
    # before squaring, and capped, so extreme spreads or gaps neither overflow nor give 0
    ratio = (float(sps.norm.isf(level)) + _z(target)) * sd / gap
    return max(1, math.ceil(min(ratio, 1e9) ** 2))


def plan(
    s: Scenario,
    *,
    claims: tuple[Claim, ...] = CLAIMS,
    slices: int = 1,
    alpha: float = 0.05,
    correction: Correction = "holm",
    power: float = 0.8,
) -> PowerPlan:
    """Items per slice for every claim in ``claims``; ``items`` is what all of them need."""
    if slices < 1:
        raise ValueError("slices must be at least 1")
    if not 0 < alpha < 0.5 or not 0 < power < 1:
        raise ValueError("need 0 < alpha < 0.5 and 0 < power < 1")
    _check(s, claims)
    least = MIN_UNITS if s.metric == "score" else 1
    out: dict[str, ClaimPlan] = {}
    for claim in claims:
        level = regression_level(alpha, correction, slices) if claim == "regression" else alpha
        chance = lambda n, c=claim: claim_chance(s, c, n, alpha, correction, slices)  # noqa: E731
        n = smallest_items(chance, power, least)
        per_slice_target = power if claim == "regression" else power ** (1 / slices)
        out[claim] = ClaimPlan(claim, n, chance(n), level, describe(s, claim, slices, correction),
                               _unpaired(s, claim, level, per_slice_target))  # fmt: skip
    binding = max(claims, key=lambda c: out[c].items)
    return PowerPlan(s.metric, out[binding].items, tuple(claims), binding, out, slices,
                     correction, alpha, power, s.margin)  # fmt: skip


def describe(s: Scenario, claim: Claim, slices: int, correction: str) -> str:
    """The claim and its assumptions in one line."""
    many = f" of {slices} slices" if slices > 1 else ""
    corr = f", {correction}-corrected" if slices > 1 and correction != "none" else ""
    if s.metric == "pass":
        models = f"discordance {s.discordance:g}, base rate {s.base_rate:g}"
    else:
        models = f"paired differences spread {s.sd_diff:.3g}"
    if claim == "regression":
        return (f"catch a drop of {s.drop:g} (margin {s.margin:g}) in any one{many} as "
                f"`regressed`{corr} ({models})")  # fmt: skip
    every = f"every one{many}" if slices > 1 else "the slice"
    return f"show `pass` (no drop past {s.margin:g}) on {every} when nothing dropped ({models})"


def chances_at(
    s: Scenario, n: int, *, slices: int = 1, alpha: float = 0.05, correction: Correction = "holm"
) -> dict[str, float]:
    """Each claim's exact chance at ``n`` items per slice (the regression claim only when the
    scenario has a drop past the margin)."""
    out = {"pass": claim_chance(s, "pass", n, alpha, correction, slices)}
    if s.drop is not None and s.drop > s.margin:
        out["regression"] = claim_chance(s, "regression", n, alpha, correction, slices)
    return out


def detectable_drop(
    s: Scenario,
    n: int,
    *,
    slices: int = 1,
    alpha: float = 0.05,
    correction: Correction = "holm",
    power: float = 0.8,
) -> float:
    """The smallest drop ``n`` items per slice catch as ``regressed`` with ``power`` (pass/fail:
    at the scenario's discordance, or the drop itself when that is larger); ``inf`` when no
    drop is (a score slice of fewer than 10 items, or a pass/fail slice too small)."""

    def caught(drop: float) -> bool:
        t = Scenario(s.metric, s.margin, drop, s.base_rate, max(s.discordance, drop),
                     s.sd_diff, s.sd_item)  # fmt: skip
        return claim_chance(t, "regression", n, alpha, correction, slices) >= power

    top = 1.0 if s.metric == "pass" else s.margin + 40 * s.sd_diff + 1.0
    if not caught(top):
        return math.inf
    lo, hi = s.margin, top
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if caught(mid) else (mid, hi)
    return hi
