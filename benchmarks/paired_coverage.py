"""Error rates of ``eval compare``'s pass/fail verdicts: computed exactly, then simulated
through the command's own code.

1. Exact. For n paired items every possible table of discordant counts is enumerated and
   weighed by its multinomial probability, for pass rates 0.05 to 0.95 (baseline and candidate),
   true differences up to 0.3 (and, separately, up to 0.9) and dependence from the most to the
   least correlated pair of models. For each method it prints the lowest two-sided coverage of
   the nominal 1 - 2*alpha interval, the mean coverage, the largest one-sided error (the chance
   that one end of the interval lies on the wrong side of the truth: a false pass or a false
   regression at a true degradation equal to the margin) and the items a pass needs when the
   two models agree on every item. Methods, in the same run:
     - tripwire: Tango's score interval, continuity-corrected, each end capped by the exact
       bound of its one cell (``tripwire.stats``);
     - score cc: the same without the cap;
     - tango: the published interval (neither correction nor cap);
     - paired t: the interval ``eval compare`` used before (mean difference +- t * SE), which
       collapses to [0, 0] without discordant items.
2. Simulated through ``compare_runs`` (what ``tripwire eval compare`` calls) on run directories
   written with known truth: false pass and false regression rates at a true degradation equal
   to the margin, and power at three times the margin, for single samples and for several
   samples per task (greedy decoding repeats a sample; sampling does not).
3. The issue's example through the installed CLI: two runs of 3 identical items.

    python benchmarks/paired_coverage.py [--alpha 0.05] [--sims 400]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import special
from scipy import stats as sps

from tripwire.evals import compare_runs
from tripwire.evals._results import ResultsLog
from tripwire.evals._run import RUN_FILE
from tripwire.evals._types import SampleResult
from tripwire.stats import paired_difference_interval

NS = (10, 30, 100, 400)


def tables(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    keep = x + y <= n
    return x[keep].astype(float), y[keep].astype(float)


def weights(n: int, x: np.ndarray, y: np.ndarray, px: float, py: float) -> np.ndarray:
    rest = n - x - y
    log = (special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(y + 1)
           - special.gammaln(rest + 1) + special.xlogy(x, px) + special.xlogy(y, py)
           + special.xlogy(rest, max(1 - px - py, 0.0)))  # fmt: skip
    return np.exp(log)


def scenarios(max_diff: float) -> list[tuple[float, float]]:
    """(p_x, p_y): the two discordant cells, for a grid of pass rates and dependence."""
    out = []
    for base in np.arange(0.05, 0.951, 0.05):
        for cand in np.arange(0.05, 0.951, 0.05):
            if abs(base - cand) > max_diff + 1e-9:
                continue
            lo, hi = max(0.0, base + cand - 1), min(base, cand)
            for t in (0.0, 0.25, 0.5, 0.75, 0.9, 0.97, 1.0):
                both = lo + (hi - lo) * t
                px, py = base - both, cand - both
                if px + py > 1e-9:
                    out.append((px, py))
    return out


def paired_t(x: np.ndarray, y: np.ndarray, n: int, alpha: float) -> tuple[np.ndarray, ...]:
    est = (x - y) / n
    var = np.maximum((x + y) - n * est**2, 0) / (n - 1)
    half = sps.t.ppf(1 - alpha, n - 1) * np.sqrt(var / n)
    return est - half, est + half


METHODS = {
    "tripwire": lambda x, y, n, a: paired_difference_interval(x, y, n, a),
    "score cc": lambda x, y, n, a: paired_difference_interval(x, y, n, a, exact_cap=False),
    "tango": lambda x, y, n, a: paired_difference_interval(x, y, n, a, 0.0, exact_cap=False),
    "paired t": paired_t,
}


def exact_table(alpha: float, max_diff: float) -> None:
    grid = scenarios(max_diff)
    print(f"\nexact, {len(grid)} scenarios, true differences up to {max_diff}: nominal two-sided "
          f"{1 - 2 * alpha:.0%}, one-sided error {alpha:g}")  # fmt: skip
    print(f"{'method':<10}{'n':>5}{'min cover':>11}{'mean cover':>12}{'max 1-sided err':>17}"
          f"{'ok':>5}")  # fmt: skip
    for name, method in METHODS.items():
        for n in NS:
            x, y = tables(n)
            lo, hi = method(x, y, n, alpha)
            cover, worst = [], 0.0
            for px, py in grid:
                w = weights(n, x, y, px, py)
                d = px - py
                above, below = w[lo > d + 1e-12].sum(), w[hi < d - 1e-12].sum()
                cover.append(1 - above - below)
                worst = max(worst, above, below)
            ok = min(cover) >= 1 - 2 * alpha - 1e-9 and worst <= alpha + 1e-9
            print(f"{name:<10}{n:>5}{min(cover):>11.4f}{np.mean(cover):>12.4f}{worst:>17.4f}"
                  f"{'yes' if ok else 'NO':>5}")  # fmt: skip


def items_to_pass(alpha: float) -> None:
    print("\nitems a pass needs when the two models agree on every item:")
    for name, method in METHODS.items():
        row = []
        for margin in (0.02, 0.03, 0.05):
            need = next(
                (n for n in range(2, 2000)
                 if -method(np.array([0.0]), np.array([0.0]), n, alpha)[0][0] < margin),
                None,
            )  # fmt: skip
            row.append(f"margin {margin:g}: {need}")
        print(f"  {name:<10}" + ", ".join(row))


def write_run(path: Path, passes: np.ndarray, tasks: np.ndarray) -> Path:
    """A humaneval-shaped run directory with these per-sample outcomes."""
    path.mkdir(parents=True)
    identity = {"suite": "humaneval", "suite_version": 1, "suite_options": {},
                "data_sha256": "simulated", "n": None}  # fmt: skip
    (path / RUN_FILE).write_text(json.dumps({"identity": identity}), encoding="utf-8")
    log = ResultsLog(path / "results.jsonl")
    seen: dict[int, int] = {}
    for task, ok in zip(tasks, passes, strict=True):
        idx = seen[task] = seen.get(task, -1) + 1
        log.append(SampleResult(f"task/{task}", idx, "passed" if ok else "failed", "", 0.0, 0.0,
                                {"pass": float(ok)}, {"task": "humaneval"}))  # fmt: skip
    log.close()
    return path


def simulate(rng: np.random.Generator, tasks: int, k: int, drop: float, greedy: bool):  # type: ignore[no-untyped-def]
    p = rng.beta(2, 2, size=tasks)
    draws = (tasks, 1) if greedy else (tasks, k)
    base = np.broadcast_to(rng.random(draws) < p[:, None], (tasks, k))
    # symmetric disagreement on top of the drop, as between two real checkpoints
    flip = np.broadcast_to(rng.random(draws) < 0.05, (tasks, k))
    cand = np.where(flip, ~base, base)
    lose = np.broadcast_to(rng.random(draws) < drop / np.mean(p), (tasks, k))
    cand = cand & ~lose
    return base.ravel(), cand.ravel(), np.repeat(np.arange(tasks), k)


def through_compare(alpha: float, sims: int, margin: float) -> None:
    print(f"\nsimulated through compare_runs ({sims} comparisons each, margin {margin:g}, "
          f"alpha {alpha:g}; Monte Carlo error {2 * (alpha / sims) ** 0.5:.3f}):")  # fmt: skip
    print(f"{'design':<28}{'false pass':>12}{'false regr':>12}{'power @3x':>11}{'s/compare':>11}")
    rng = np.random.default_rng(0)
    for tasks, k, greedy in ((164, 1, False), (400, 1, False), (40, 5, False), (40, 5, True),
                             (164, 5, False)):  # fmt: skip
        counts = {"false pass": 0, "false regr": 0, "power": 0}
        took = 0.0
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(sims):
                for drop, key in ((margin, "at"), (3 * margin, "power")):
                    base, cand, task_ids = simulate(rng, tasks, k, drop, greedy)
                    a = write_run(Path(tmp) / f"{i}-{key}-a", base, task_ids)
                    b = write_run(Path(tmp) / f"{i}-{key}-b", cand, task_ids)
                    t0 = time.perf_counter()
                    res = compare_runs(a, b, margins=None, alpha=alpha).slices[0]
                    took += time.perf_counter() - t0
                    if key == "at":
                        counts["false pass"] += res.status == "pass"
                        counts["false regr"] += res.regressed
                    else:
                        counts["power"] += res.regressed
        label = f"{tasks} tasks x {k}" + (" (greedy)" if greedy else "")
        print(f"{label:<28}{counts['false pass'] / sims:>12.3f}{counts['false regr'] / sims:>12.3f}"
              f"{counts['power'] / sims:>11.3f}{took / (2 * sims):>11.4f}")  # fmt: skip


def cli_example() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tasks = np.arange(3)
        outcome = np.array([True, False, True])
        a = write_run(Path(tmp) / "a", outcome, tasks)
        b = write_run(Path(tmp) / "b", outcome, tasks)
        exe = str(Path(sys.executable).with_name("tripwire"))
        done = subprocess.run([exe, "eval", "compare", str(a), str(b), "--json", "-"],
                              capture_output=True, text=True, check=False)  # fmt: skip
        s = json.loads(done.stdout)["slices"][0]
        print(f"\n`tripwire eval compare` on two runs of 3 identical items: exit {done.returncode},"
              f" status {s['status']}, CI [{s['ci_low']:+.3f}, {s['ci_high']:+.3f}], "
              f"test {s['test']}\n  note: {s['note']}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--sims", type=int, default=400)
    ap.add_argument("--margin", type=float, default=0.02)
    args = ap.parse_args()
    exact_table(args.alpha, 0.3)
    exact_table(args.alpha, 0.9)
    items_to_pass(args.alpha)
    through_compare(args.alpha, args.sims, args.margin)
    cli_example()


if __name__ == "__main__":
    main()
