"""Comparisons that stop when decided (`--sequential`): items used against the fixed-size design
at the same power, and false-verdict rates at every stopping time.

1. Exact, one pass/fail slice. Every path of (losses, gains) is followed look by look
   (``sequential_binary_chances``) at the levels ``compare_models`` uses. The fixed design is
   ``eval power``'s: the fewest items giving 80% power to both claims (``regressed`` at the
   planned drop, ``pass`` when nothing dropped). The sequential budget is the fewest items at
   which the sequential design has 80% power for both claims too. For no drop, a drop at the
   margin, the planned drop and a large drop it prints the expected items used and the chance
   of each verdict; at the margin both verdicts are false, and the chance of having given one by
   each look is printed (that is every stopping time: stopping sooner only drops looks).
2. Simulated through ``compare_models`` itself, several slices: a synthetic suite (tasks tagged
   by language, per-item outcomes drawn with known truth) run batch by batch into run
   directories, judged at each look with Holm across the slices, stopping when every slice is
   decided. False verdicts when every slice sits at the margin, power and items used for no
   drop, and a large drop in one language, against the fixed design (one look) on the same items.

    python benchmarks/sequential_compare.py [--sims 500] [--looks 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tripwire.evals import (
    Backend,
    SequentialPlan,
    Suite,
    compare_models,
    register_suite,
)
from tripwire.evals._types import MetricSpec, SampleResult, Task
from tripwire.stats import Margin, Scenario, look_levels, plan
from tripwire.stats._group_sequential import sequential_binary_chances

ALPHA, POWER = 0.05, 0.8


def _sequential(budget: int, looks: int, loss: float, gain: float, margin: float):  # type: ignore[no-untyped-def]
    sizes = sorted({round(budget * k / looks) for k in range(1, looks + 1)})
    levels = look_levels(np.array(sizes) / budget, ALPHA)
    return sequential_binary_chances(sizes, loss, gain, margin, levels, levels)


def _both_claims(budget: int, looks: int, disc: float, margin: float, drop: float) -> float:
    reg = _sequential(budget, looks, (disc + drop) / 2, (disc - drop) / 2, margin)
    ok = _sequential(budget, looks, disc / 2, disc / 2, margin)
    return min(reg.regressed_total, ok.passed_total)


def exact_single_slice(margin: float, disc: float, drop: float, looks: int) -> None:
    fixed = plan(Scenario("pass", margin, drop, 0.5, disc))
    n_fixed = fixed.items
    lo, hi = n_fixed // 2, n_fixed
    while _both_claims(hi, looks, disc, margin, drop) < POWER:
        lo, hi = hi, int(hi * 1.2) + 1
    while hi - lo > max(2, hi // 200):
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _both_claims(mid, looks, disc, margin, drop) >= POWER else (mid, hi)
    budget = hi
    print(f"\none slice, margin {margin:g}, discordance {disc:g}, {looks} looks (O'Brien-Fleming "
          f"spending): fixed design {n_fixed} items, sequential budget {budget} "
          f"({budget / n_fixed:.2f}x) for 80% power to both claims")  # fmt: skip
    print(f"{'true drop':<22}{'E[items]':>9}{'vs fixed':>9}{'regressed':>11}{'pass':>8}"
          f"{'fixed: regr':>12}{'pass':>8}")  # fmt: skip
    from tripwire.stats import binary_verdict_chances

    for label, d in (("none", 0.0), ("at the margin", margin), (f"planned ({drop:g})", drop),
                     (f"large ({3 * drop:g})", 3 * drop)):  # fmt: skip
        dd = max(disc, d)
        s = _sequential(budget, looks, (dd + d) / 2, (dd - d) / 2, margin)
        f = binary_verdict_chances(n_fixed, (dd + d) / 2, (dd - d) / 2, margin, ALPHA, ALPHA)
        print(f"{label:<22}{s.expected_items:>9.0f}{s.expected_items / n_fixed:>9.2f}"
              f"{s.regressed_total:>11.4f}{s.passed_total:>8.4f}{f.regressed:>12.4f}"
              f"{f.passed:>8.4f}")  # fmt: skip
    at = _sequential(budget, looks, (disc + margin) / 2, (disc - margin) / 2, margin)
    reg, ok = np.cumsum(at.regressed), np.cumsum(at.passed)
    print("  false verdicts by each look, drop at the margin (regressed / pass): " + ", ".join(
        f"{n}: {r:.4f}/{p:.4f}" for n, r, p in zip(at.looks, reg, ok, strict=True)))  # fmt: skip


# --- through compare_models: a synthetic suite whose per-item truth we set -------------------
@register_suite
class Simulated(Suite):
    """Tasks tagged by language; a backend's outcomes are drawn in advance (see _Drawn)."""

    name = "simulated-bench"
    metrics: ClassVar[dict[str, MetricSpec]] = {
        "pass": MetricSpec(higher_is_better=True, binary=True, default_margin="0.05")
    }
    needs_sandbox = False

    def __init__(self, per_language: int, languages: int) -> None:
        self.per_language, self.languages = per_language, languages

    @property
    def version(self) -> str:
        return "1"

    def data_sha256(self) -> str:
        return f"{self.per_language}x{self.languages}"

    def tasks(self) -> list[Task]:
        return [Task(f"l{j}-{i}", "", slices={"language": f"l{j}"})
                for j in range(self.languages) for i in range(self.per_language)]  # fmt: skip

    def score(self, samples, sandbox, progress=None, *, use_cache=True, limits=None):  # type: ignore[no-untyped-def,override]
        raise NotImplementedError

    def evaluate(self, tasks: Sequence[Task], backend: Backend, sandbox: Any, n: int | None,
                 done: set[tuple[str, int]], progress: Any = None,
                 limits: Mapping[str, Any] | None = None) -> Iterator[SampleResult]:  # fmt: skip
        assert isinstance(backend, _Drawn)
        for t in tasks:
            if (t.task_id, 0) not in done:
                ok = backend.outcomes[t.task_id]
                yield SampleResult(t.task_id, 0, "passed" if ok else "failed", "", 0.0, 0.0,
                                   {"pass": float(ok)}, dict(t.slices))  # fmt: skip


class _Drawn(Backend):
    scheme = "drawn"

    def __init__(self, key: str, outcomes: dict[str, bool]) -> None:
        self.key, self.outcomes = key, outcomes

    @classmethod
    def from_argument(cls, argument: str) -> Backend:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"id": self.key}

    def generate(self, tasks, n, progress=None):  # type: ignore[no-untyped-def,override]
        return iter(())


def _draw_pair(rng: np.random.Generator, suite: Simulated, disc: float, drops: list[float]):  # type: ignore[no-untyped-def]
    base, cand = {}, {}
    for t in suite.tasks():
        d = drops[int(t.slices["language"][1:])]
        dd = max(disc, d)
        u = rng.random()
        if u < (dd + d) / 2:
            base[t.task_id], cand[t.task_id] = True, False
        elif u < dd:
            base[t.task_id], cand[t.task_id] = False, True
        else:
            base[t.task_id] = cand[t.task_id] = bool(rng.random() < 0.5)
    return base, cand


def through_compare_models(sims: int, looks: int, languages: int, margin: float, disc: float,
                           drop: float, budget_factor: float) -> None:  # fmt: skip
    fixed = plan(Scenario("pass", margin, drop, 0.5, disc), slices=languages + 1)
    per_language = int(np.ceil(fixed.items * budget_factor))
    suite = Simulated(per_language, languages)
    print(f"\nthrough compare_models: {languages} languages (+ all: {languages + 1} slices, "
          f"Holm), margin {margin:g}, discordance {disc:g}; fixed design {fixed.items} items per "
          f"language, sequential budget {per_language} per language ({budget_factor:g}x), "
          f"{looks} looks, {sims} comparisons per row")  # fmt: skip
    print(f"{'true drop':<28}{'design':<11}{'items':>8}{'l0 regr.':>10}{'verdict pass':>13}"
          f"{'any false regr':>15}{'false pass/slice':>17}")  # fmt: skip
    large = [3 * drop] + [0.0] * (languages - 1)
    scenarios = (("none", [0.0] * languages), ("all at the margin", [margin] * languages),
                 (f"large ({3 * drop:g}) in one", large))  # fmt: skip
    fixed_suite = Simulated(fixed.items, languages)  # the first items of each language
    with tempfile.TemporaryDirectory() as tmp:
        for index, (label, drops) in enumerate(scenarios):
            rng = np.random.default_rng([7, index])  # a stream of its own per scenario
            stats = {d: {"items": 0.0, "regressed": 0, "pass": 0, "false_regr": 0,
                         "false_pass": 0} for d in ("sequential", "fixed")}  # fmt: skip
            for i in range(sims):
                base, cand = _draw_pair(rng, suite, disc, drops)
                for design, k in (("sequential", looks), ("fixed", 1)):
                    res = compare_models(
                        suite if design == "sequential" else fixed_suite,
                        {"baseline": _Drawn(f"b{label}{i}", base),
                         "candidate": _Drawn(f"c{label}{i}", cand)},
                        plan=SequentialPlan(looks=k, seed=i),
                        out={"baseline": Path(tmp) / f"{design}{label}{i}b",
                             "candidate": Path(tmp) / f"{design}{label}{i}c"},
                        margins={"pass": Margin(margin)},
                    )  # fmt: skip
                    st = stats[design]
                    st["items"] += res.items / sims
                    by = {s.slice: s for s in res.slices}
                    true_drop = {f"language=l{j}": drops[j] for j in range(languages)}
                    true_drop["all"] = float(np.mean(drops))
                    st["regressed"] += by["language=l0"].regressed
                    st["pass"] += res.verdict == "pass"
                    st["false_regr"] += any(s.regressed and true_drop[s.slice] <= margin + 1e-12
                                            for s in res.slices)  # fmt: skip
                    wrong = [s.status == "pass" and true_drop[s.slice] >= margin - 1e-12
                             for s in res.slices]  # fmt: skip
                    st["false_pass"] += sum(wrong) / len(wrong)
            for design, st in stats.items():
                print(f"{label:<28}{design:<11}{st['items']:>8.0f}{st['regressed'] / sims:>10.3f}"
                      f"{st['pass'] / sims:>13.3f}{st['false_regr'] / sims:>15.3f}"
                      f"{st['false_pass'] / sims:>17.3f}", flush=True)  # fmt: skip
    _union_bound(languages, per_language, fixed.items, looks, margin, disc)


def _union_bound(languages: int, budget: int, n_fixed: int, looks: int, margin: float,
                 disc: float) -> None:  # fmt: skip
    """Every slice at the margin: each slice's exact chance of a false regression over all
    looks at its Holm share of the levels; their sum bounds the family's, whatever the
    dependence between the slices (the `all` slice holds every item)."""
    family = languages + 1
    loss, gain = (disc + margin) / 2, (disc - margin) / 2
    out = []
    for design, per_language, k in (("sequential", budget, looks), ("fixed", n_fixed, 1)):
        total = 0.0
        for items in [per_language] * languages + [per_language * languages]:
            sizes = sorted({round(items * j / k) for j in range(1, k + 1)})
            fractions = np.array(sizes) / items
            passing = look_levels(fractions, ALPHA)
            share = look_levels(fractions, ALPHA / family)  # = regression level / family
            total += sequential_binary_chances(
                sizes, loss, gain, margin, passing, share
            ).regressed_total
        out.append(f"{design} {total:.4f}")
    print(f"  exact bound on any false regression, every slice at the margin (sum over slices): "
          f"{', '.join(out)}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sims", type=int, default=500)
    ap.add_argument("--looks", type=int, default=5)
    args = ap.parse_args()
    t0 = time.time()
    for margin, disc, drop in ((0.02, 0.1, 0.05), (0.05, 0.2, 0.1)):
        exact_single_slice(margin, disc, drop, args.looks)
    exact_single_slice(0.05, 0.2, 0.1, 10)
    through_compare_models(args.sims, args.looks, 3, 0.1, 0.3, 0.2, 1.05)
    print(f"\n{time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
