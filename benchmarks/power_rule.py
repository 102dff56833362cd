"""Does `tripwire eval power` size what `tripwire eval compare` decides? Simulated through the
decision functions themselves.

For every cell of a grid (baseline pass rates 0.2-0.9, discordance 0.05-0.3, 1-8 slices, both
claims), ``plan`` returns the items per slice; then ``--sims`` comparisons of that many items
per slice are drawn and judged by ``compare_slice`` + ``adjust_slices`` (Holm), exactly as
``compare_runs`` judges them:

- regression: slice 0 drops by ``--drop`` (the others hold); power = share of comparisons in
  which slice 0 is ``regressed``;
- pass: nothing drops; power = share in which every slice is ``pass``.

Each row prints the items, the exact power at them, the simulated power and its Monte Carlo
standard error; ``ok`` when the simulated power is within 5 points of the nominal one. The
McNemar sizing ``eval power`` used before is printed beside the regression claim, with its
simulated power. A few score (bits per byte) plans are simulated the same way.

    python benchmarks/power_rule.py [--sims 500] [--workers 2] [--margin 0.02] [--drop 0.05]
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy import stats as sps

from tripwire.stats import Margin, Scenario, adjust_slices, compare_slice, plan

BASE_RATES = (0.2, 0.5, 0.9)
DISCORDANCE = (0.05, 0.1, 0.2, 0.3)
SLICES = (1, 2, 4, 8)
NOMINAL = 0.8


def _mcnemar_items(drop: float, disc: float, alpha: float = 0.05, power: float = NOMINAL) -> int:
    """What `eval power` answered before: Connor's one-sided McNemar sample size (margin 0)."""
    za, zb = sps.norm.isf(alpha), sps.norm.isf(1 - power)
    return math.ceil((za * math.sqrt(disc) + zb * math.sqrt(disc - drop**2)) ** 2 / drop**2)


def _draw(rng: np.random.Generator, n: int, base: float, disc: float, drop: float):  # type: ignore[no-untyped-def]
    """n paired items: a loss with chance (disc + drop) / 2, a gain with (disc - drop) / 2, the
    rest agreeing (both pass with the chance that keeps the baseline's rate at ``base``)."""
    loss, gain = (disc + drop) / 2, (disc - drop) / 2
    u = rng.random(n)
    agree = u >= loss + gain
    both = rng.random(n) < (base - loss) / (1 - loss - gain)
    b = np.where(agree, both, u < loss).astype(np.float64)
    c = np.where(agree, b, 1.0 - b)
    return b, c


def _cell(args: tuple) -> tuple:  # type: ignore[type-arg]
    base, disc, k, claim, margin, drop, sims, seed = args
    s = Scenario("pass", margin, drop, base, disc)
    try:
        p = plan(s, claims=(claim,), slices=k)
    except ValueError:
        return (base, disc, k, claim, None, None, None, None, None)
    n = p.items
    rng = np.random.default_rng(seed)

    def simulate(items: int) -> float:
        hits = 0
        for _ in range(sims):
            comps = []
            for j in range(k):
                d = drop if (claim == "regression" and j == 0) else 0.0
                b, c = _draw(rng, items, base, disc, d)
                comps.append(compare_slice(f"s{j}", "pass", b, c, higher_is_better=True,
                                           binary=True, margin=Margin(margin)))  # fmt: skip
            res = adjust_slices(comps, 0.05, "holm")
            hits += (
                res[0].regressed if claim == "regression" else all(r.status == "pass" for r in res)
            )
        return hits / sims

    old = _mcnemar_items(drop, disc) if claim == "regression" else None
    old_power = simulate(old) if old else None
    return (base, disc, k, claim, n, p.claims[claim].power, simulate(n), old, old_power)


def _score_cell(args: tuple) -> tuple:  # type: ignore[type-arg]
    sd_diff, k, claim, sims, seed = args
    margin, drop = 0.03, 0.09
    p = plan(Scenario("score", margin, drop, sd_diff=sd_diff, sd_item=0.5), claims=(claim,),
             slices=k)  # fmt: skip
    n, rng, hits = p.items, np.random.default_rng(seed), 0
    for _ in range(sims):
        comps = []
        for j in range(k):
            base = rng.normal(2.0, 0.5, size=n)
            d = drop if (claim == "regression" and j == 0) else 0.0
            comps.append(compare_slice(f"s{j}", "bpb", base, base + d + rng.normal(0, sd_diff, n),
                                       higher_is_better=False, margin=Margin(margin)))  # fmt: skip
        res = adjust_slices(comps, 0.05, "holm")
        hits += res[0].regressed if claim == "regression" else all(r.status == "pass" for r in res)
    return (sd_diff, k, claim, n, p.claims[claim].power, hits / sims)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sims", type=int, default=500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--margin", type=float, default=0.02)
    ap.add_argument("--drop", type=float, default=0.05)
    args = ap.parse_args()
    t0 = time.time()
    cells = [(b, d, k, c, args.margin, args.drop, args.sims, i)
             for i, (b, d, k, c) in enumerate(itertools.product(
                 BASE_RATES, DISCORDANCE, SLICES, ("regression", "pass")))]  # fmt: skip
    se = (NOMINAL * (1 - NOMINAL) / args.sims) ** 0.5
    print(f"pass/fail, margin {args.margin:g}, drop {args.drop:g} for the regression claim, alpha "
          f"0.05, Holm, {args.sims} comparisons per row (Monte Carlo SE {se:.3f})")  # fmt: skip
    print(f"{'base':>5}{'disc':>6}{'slices':>7}  {'claim':<11}{'items':>7}{'exact':>7}"
          f"{'simulated':>10}{'ok':>4}   {'McNemar n':>9}{'its power':>10}")  # fmt: skip
    worst, bad, rows = 0.0, 0, 0
    with ProcessPoolExecutor(args.workers) as pool:
        for r in pool.map(_cell, cells):
            base, disc, k, claim, n, exact, sim, old, old_power = r
            if n is None:
                print(
                    f"{base:>5g}{disc:>6g}{k:>7}  {claim:<11}{'(impossible at this base rate)':>30}"
                )
                continue
            ok = abs(sim - NOMINAL) <= 0.05
            rows, bad, worst = rows + 1, bad + (not ok), max(worst, abs(sim - NOMINAL))
            tail = f"   {old:>9}{old_power:>10.3f}" if old else ""
            print(f"{base:>5g}{disc:>6g}{k:>7}  {claim:<11}{n:>7}{exact:>7.3f}{sim:>10.3f}"
                  f"{'yes' if ok else 'NO':>4}{tail}", flush=True)  # fmt: skip
    print(f"\n{rows} rows: {rows - bad} within 5 points of {NOMINAL}; largest gap "
          f"{worst:.3f}")  # fmt: skip
    score_cells = [(sd, k, c, args.sims, 1000 + i) for i, (sd, k, c) in enumerate(
        itertools.product((0.1, 0.3), (1, 4), ("regression", "pass")))]  # fmt: skip
    print("\nscores (paired t): margin 0.03, drop 0.09 for the regression claim")
    print(f"{'sd diff':>8}{'slices':>7}  {'claim':<11}{'items':>7}{'exact':>7}{'simulated':>10}")
    with ProcessPoolExecutor(args.workers) as pool:
        for sd, k, claim, n, exact, sim in pool.map(_score_cell, score_cells):
            print(f"{sd:>8g}{k:>7}  {claim:<11}{n:>7}{exact:>7.3f}{sim:>10.3f}", flush=True)
    print(f"\n{time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
