"""Compare two runs of one suite item by item: per slice and metric, a paired regression verdict.

Runs are only comparable when they measured the same thing: same suite and version, same item
set and options, same number of samples per item. Anything else is refused with the difference.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tripwire.documents import Fields
from tripwire.errors import BadInputError
from tripwire.evals._results import ResultsLog
from tripwire.evals._run import RESULTS_FILE, RUN_FILE, SUMMARY_FILE, finished_manifest
from tripwire.evals._suite import Suite, suite_class
from tripwire.evals._types import MetricSpec, SampleResult
from tripwire.findings import Outcome, Verdict
from tripwire.sandbox import EXEC_STATUSES
from tripwire.stats import (
    Correction,
    Margin,
    SliceComparison,
    adjust_slices,
    compare_slice,
    overall_outcome,
    regression_level,
)
from tripwire.stats._noninferiority import Method

# the sandbox's limits too: a candidate scored under looser limits passes what the baseline's
# limits would have timed out (a slow candidate then reads as no worse)
_MUST_MATCH = ("suite", "suite_version", "suite_options", "data_sha256", "n", "limits",
               "cpu_limits")  # fmt: skip


@dataclass(frozen=True)
class LoadedRun:
    path: Path
    identity: dict[str, Any]
    results: dict[tuple[str, int], SampleResult]


@dataclass(frozen=True)
class RunComparison:
    """The outcome over all slices and the per-slice details (``eval compare --json``)."""

    outcome: Outcome
    suite: str
    baseline: str
    candidate: str
    alpha: float
    correction: str
    slices: list[SliceComparison]
    tampering: dict[str, Any] | None = None
    """Executed suites: samples that tried to game their tests, per model and class, and
    ``new``: items where only the candidate did (reward hacking shows here first)."""
    items: int = 0
    """Items (tasks) the verdicts rest on: every paired task, or where a sequential comparison
    stopped."""
    samples: int = 0
    """Paired samples behind them (``items`` times the samples per task)."""
    sequential: dict[str, Any] | None = None
    """A sequential comparison: its looks, where it stopped and why (see ``_sequential_run``)."""
    suite_tasks: int | None = None
    """Tasks in the suite the baseline was run on (its ``summary.json``), when known: ``items``
    under it means the verdicts say nothing about the rest."""

    @property
    def verdict(self) -> Verdict:
        """The decision it adds up to: pass / warn / block like every other ``--json``."""
        return self.outcome.verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "outcome": str(self.outcome),
            "suite": self.suite,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "alpha": self.alpha,
            "correction": self.correction,
            "items": self.items,
            "samples": self.samples,
            "slices": [s.to_dict() for s in self.slices],
            "tampering": self.tampering,
            "sequential": self.sequential,
            "suite_tasks": self.suite_tasks,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | Fields, doc: str = "comparison") -> RunComparison:
        """A comparison back from ``to_dict`` (an ``eval compare --json`` file). A document
        without ``outcome`` (a gate's suite entry) takes it from its slices."""
        f = Fields.of(d, doc)
        slices = [SliceComparison.from_dict(s) for s in f.objects("slices")]
        outcome = f.enum("outcome", Outcome) if f.has("outcome") else overall_outcome(slices)
        return cls(
            outcome=outcome,
            suite=f.text("suite", ""),
            baseline=f.text("baseline", ""),
            candidate=f.text("candidate", ""),
            alpha=f.number("alpha"),
            correction=f.text("correction", ""),
            slices=slices,
            tampering=f.mapping("tampering") or None,
            items=f.whole("items", 0),
            samples=f.whole("samples", 0),
            sequential=f.mapping("sequential") or None,
            suite_tasks=f.whole("suite_tasks", 0) or None,
        )


Results = dict[tuple[str, int], SampleResult]


def tampering_counts(base: Results, cand: Results) -> dict[str, Any] | None:
    """Samples that tried to game their tests, per model and class; ``new``: only the
    candidate's (None when neither model's did)."""

    def counts(results: Results) -> dict[str, Any]:
        classes = Counter(t for r in results.values() for t in r.tampering)
        tampered = sum(1 for r in results.values() if r.tampering)
        return {"samples": tampered, "classes": dict(sorted(classes.items()))}

    b, c = counts(base), counts(cand)
    if not b["samples"] and not c["samples"]:
        return None
    new = sum(1 for k, r in cand.items() if r.tampering and not base[k].tampering)
    return {"baseline": b, "candidate": c, "new": new}


def _suite_tasks(run: Path) -> int | None:
    """``tasks_total`` of a run's summary (informative only: not part of what is compared)."""
    try:
        total = json.loads((run / SUMMARY_FILE).read_text(encoding="utf-8")).get("tasks_total")
    except (OSError, ValueError, AttributeError, RecursionError):
        return None
    return total if isinstance(total, int) and not isinstance(total, bool) and total > 0 else None


def load_run(path: str | Path) -> LoadedRun:
    path = Path(path)
    run_file = path / RUN_FILE
    if not run_file.is_file() or not (path / RESULTS_FILE).is_file():
        raise BadInputError(
            path, f"not an eval run directory (needs {RUN_FILE} and {RESULTS_FILE})"
        )
    finished_manifest(path)
    try:
        identity = json.loads(run_file.read_text(encoding="utf-8"))["identity"]
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        raise BadInputError(run_file, f"unreadable run description ({exc})") from exc
    if not isinstance(identity, dict):
        raise BadInputError(run_file, "unreadable run description ('identity' is not an object)")
    results = ResultsLog(path / RESULTS_FILE).load(unique=True)
    suite = identity.get("suite")
    cls = suite_class(suite) if isinstance(suite, str) else None
    for result in results.values():
        _check_result(path / RESULTS_FILE, result, cls)
    _check_no_sandbox_errors(path / RESULTS_FILE, results)
    return LoadedRun(path, identity, results)


def _check_result(where: Path | str, r: SampleResult, suite: type[Suite] | None = None) -> None:
    """A result line whose scores cannot be what a run wrote (a metric not a finite number,
    an executed sample whose ``pass`` disagrees with its verdict) is refused, not judged.
    ``suite``: its class, when known: a verdict it never gives (``scored`` in an executed
    suite would skip the check of ``pass``) and a pass/fail metric other than 0 or 1 (one
    item at 82 outweighs 81 failures in the mean) are refused too."""
    place = f"{where}: {r.task_id}#{r.sample_idx}"
    for name, value in r.metrics.items():
        if not np.isfinite(value):
            raise BadInputError(place, f"metric {name!r} is {value}, not a finite number")
    if suite is not None:
        statuses = EXEC_STATUSES if suite.needs_sandbox else (*EXEC_STATUSES, "scored")
        if r.verdict not in statuses:
            raise BadInputError(place, f"verdict {r.verdict!r} is not one the {suite.name} "
                                f"suite gives ({', '.join(statuses)})")  # fmt: skip
        for name, value in r.metrics.items():
            spec = suite.metrics.get(name)
            if spec is not None and spec.binary and value not in (0.0, 1.0):
                raise BadInputError(place, f"pass/fail metric {name!r} is {value:g}, not 0 "
                                    "or 1")  # fmt: skip
    executed = r.verdict in EXEC_STATUSES and "pass" in r.metrics
    if executed and r.metrics["pass"] != float(r.verdict == "passed"):
        raise BadInputError(place, f"'pass' is {r.metrics['pass']:g} but the verdict is "
                            f"{r.verdict!r}")  # fmt: skip


def _check_no_sandbox_errors(where: Path, results: Results) -> None:
    """A sample the sandbox failed to run (``error``) scores as a failure without being one:
    in the baseline it lowers the bar the candidate is held to."""
    errors = [r for r in results.values() if r.verdict == "error"]
    if errors:
        e = errors[0]
        raise BadInputError(where, f"{len(errors)} samples ended in a sandbox error, not a "
                            f"verdict on the model (e.g. {e.task_id}#{e.sample_idx}: "
                            f"{e.message[:80]}); run the eval again into a new "
                            "directory")  # fmt: skip


def _check_comparable(base: LoadedRun, cand: LoadedRun) -> None:
    for key in _MUST_MATCH:
        a, b = base.identity.get(key), cand.identity.get(key)
        if a != b:
            raise BadInputError(
                cand.path, f"not comparable with {base.path}: {key} differs ({_difference(a, b)})"
            )
    only_base = base.results.keys() - cand.results.keys()
    only_cand = cand.results.keys() - base.results.keys()
    if only_base or only_cand:
        example = sorted(only_base or only_cand)[0]
        raise BadInputError(
            cand.path,
            f"not comparable with {base.path}: item sets differ ({len(only_base)} only in the "
            f"baseline, {len(only_cand)} only in the candidate; e.g. {example[0]}#{example[1]})",
        )
    for key, b in base.results.items():
        _check_pair(base.path, cand.path, b, cand.results[key])


def _check_pair(base_path: Path, cand_path: Path, b: SampleResult, c: SampleResult) -> None:
    """One item as both runs recorded it: the same slices and the same metrics. A metric
    missing on one side would drop the item from that metric's test (a candidate's failures
    vanish from the comparison), other slices would move it to another slice's test."""
    where = f"{cand_path / RESULTS_FILE}: {c.task_id}#{c.sample_idx}"
    if b.slices != c.slices:
        raise BadInputError(where, f"not comparable with {base_path}: slices differ "
                            f"({b.slices} vs {c.slices})")  # fmt: skip
    if set(b.metrics) != set(c.metrics):
        raise BadInputError(where, f"not comparable with {base_path}: metrics differ "
                            f"({sorted(b.metrics)} vs {sorted(c.metrics)})")  # fmt: skip


def _difference(a: object, b: object) -> str:
    """``a vs b``; for two objects only the keys that differ (limits hold eight)."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted((k for k in a.keys() | b.keys() if a.get(k) != b.get(k)), key=str)
        return ", ".join(f"{k}: {a.get(k)!r} vs {b.get(k)!r}" for k in keys)
    return f"{a!r} vs {b!r}"


def margin_problem(spec: MetricSpec, margin: Margin) -> str | None:
    """Why a margin can never be crossed on a pass/fail metric (every comparison would pass),
    or None. A rate moves by at most 1, and falls by at most 100% of itself."""
    if not spec.binary:
        return None
    if not margin.relative and margin.value >= 1:
        return (
            f"{margin} spans the whole 0-1 range of a pass/fail rate: no regression could cross it"
        )
    if margin.relative and margin.value >= 1 and spec.higher_is_better:
        return f"{margin} of the baseline's rate: no regression could cross it"
    return None


def _check_margins(
    specs: dict[str, MetricSpec],
    margins: dict[str, Margin] | None,
    slice_margins: dict[tuple[str, str], Margin] | None,
) -> None:
    given = [(m, m, v) for m, v in (margins or {}).items()]
    given += [(m, f"{m}@{k}", v) for (m, k), v in (slice_margins or {}).items()]
    for metric, name, margin in given:
        spec = specs.get(metric)
        problem = margin_problem(spec, margin) if spec is not None else None
        if problem:
            raise BadInputError("--margin", f"{name}: {problem}")


def metric_specs(suite: str, results: Results) -> dict[str, MetricSpec]:
    cls = suite_class(suite)
    if cls is not None:
        return dict(cls.metrics)
    found = {m for r in results.values() for m in r.metrics}
    raise BadInputError(suite, f"unknown suite; cannot tell how to read metrics {sorted(found)}")


def slice_keys(slicings: Iterable[dict[str, str]]) -> list[str]:
    """``all`` plus every ``name=value`` slice whose name takes more than one value (given the
    slices of every item)."""
    values: dict[str, set[str]] = {}
    for slices in slicings:
        for k, v in slices.items():
            values.setdefault(k, set()).add(v)
    keys = ["all"]
    for k in sorted(values):
        if len(values[k]) > 1:
            keys += [f"{k}={v}" for v in sorted(values[k])]
    return keys


def in_slice(slices: dict[str, str], key: str) -> bool:
    if key == "all":
        return True
    name, _, value = key.partition("=")
    return slices.get(name) == value


@dataclass(frozen=True)
class Levels:
    """The levels one comparison is judged at: ``alpha`` for each slice's interval and pass,
    ``regression`` for the correction across slices (a fixed comparison: both ``alpha``; a
    sequential look: its spending levels), over a family of ``family`` slices (at least the
    slices compared: a look may not reach every slice yet)."""

    alpha: float
    regression: float
    family: int | None = None


@dataclass(frozen=True)
class Judged:
    """Per-slice verdicts and how many tasks and samples they rest on."""

    slices: list[SliceComparison]
    items: int
    samples: int


def _pairs(
    base: Results, cand: Results, keys: list[tuple[str, int]], metric: str, key: str
) -> list[tuple[SampleResult, SampleResult]]:
    return [
        (base[k], cand[k])
        for k in keys
        if in_slice(base[k].slices, key) and metric in base[k].metrics and metric in cand[k].metrics
    ]


def judge(
    base: Results,
    cand: Results,
    specs: dict[str, MetricSpec],
    *,
    margins: dict[str, Margin] | None = None,
    slice_margins: dict[tuple[str, str], Margin] | None = None,
    levels: Levels,
    correction: Correction = "holm",
    method: Method = "t",
    slicing: list[str] | None = None,
) -> Judged:
    """Paired per-slice verdicts of every metric on the samples both result sets hold.

    ``slicing``: the slice keys to judge (default: those these results show); a sequential
    comparison fixes them from the whole budget, so a look judges the same family."""
    keys = sorted(base.keys() & cand.keys())
    for role, results in (("baseline", base), ("candidate", cand)):
        for k in keys:  # the runs of compare_models are read here first, not by load_run
            _check_result(f"the {role}'s results", results[k])
    tasks: dict[str, int] = {}
    for task_id, _ in keys:
        tasks[task_id] = tasks.get(task_id, 0) + 1
    clustered = max(tasks.values(), default=1) > 1
    wanted = slicing if slicing is not None else slice_keys(base[k].slices for k in keys)
    todo, too_few = [], []
    for metric, spec in specs.items():
        metric_margin = (margins or {}).get(metric) or Margin.parse(spec.default_margin)
        for key in wanted:
            pairs = _pairs(base, cand, keys, metric, key)
            if not pairs:
                continue  # a metric these results do not measure, or a slice not reached yet
            clusters = [b.task_id for b, _ in pairs] if clustered else None
            entry = (metric, spec, key, (slice_margins or {}).get((metric, key), metric_margin),
                     pairs, clusters)  # fmt: skip
            # a slice of one item (or task) cannot be judged, but is shown as inconclusive:
            # dropped, a regression confined to it would pass unseen
            units = len(set(clusters)) if clusters is not None else len(pairs)
            (todo if units >= 2 else too_few).append(entry)
    # at least 1: runs too small to compare any slice still compare (no slices, no division);
    # an unjudged slice (p = 1, never rejected) does not widen the correction of the others
    family = max(levels.family or 0, len(todo), 1)
    # the level one slice's regression test faces after the correction: its detectable effect
    mde_alpha = regression_level(levels.regression, correction, family)

    def compared(entry: tuple[Any, ...]) -> SliceComparison:
        metric, spec, key, margin, pairs, clusters = entry
        return compare_slice(
            key,
            metric,
            np.array([b.metrics[metric] for b, _ in pairs]),
            np.array([c.metrics[metric] for _, c in pairs]),
            higher_is_better=spec.higher_is_better,
            binary=spec.binary,
            clusters=clusters,
            margin=margin,
            alpha=levels.alpha,
            method=method,
            mde_alpha=mde_alpha,
        )

    judged = adjust_slices([compared(e) for e in todo], levels.regression, correction,
                           family=family)  # fmt: skip
    unjudged = {(c.metric, c.slice): _unjudged(c) for c in map(compared, too_few)}
    by_label = {(c.metric, c.slice): c for c in judged} | unjudged
    # in the order the slices were asked for, the unjudged among the judged
    order = [(metric, key) for metric in specs for key in wanted]
    slices = [by_label[label] for label in order if label in by_label]
    return Judged(slices, len(tasks), len(keys))


def _unjudged(c: SliceComparison) -> SliceComparison:
    """A slice too small to judge, saying so in the words every output shows (its note)."""
    units = "task" if c.clusters != c.n else "item"
    count = f"{c.clusters} {units}{'s' if c.clusters != 1 else ''}"
    return replace(c, status=Outcome.INCONCLUSIVE, regressed=False, p_value=1.0,
                   note=f"{count}: too few to judge (a comparison needs at least 2)")  # fmt: skip


def compare_runs(
    baseline: str | Path,
    candidate: str | Path,
    *,
    margins: dict[str, Margin] | None = None,
    slice_margins: dict[tuple[str, str], Margin] | None = None,
    alpha: float = 0.05,
    correction: Correction = "holm",
    method: Method = "t",
) -> RunComparison:
    """Paired per-slice verdicts for every metric of the suite (see ``tripwire.stats``).

    ``slice_margins`` maps ``(metric, slice)`` to a margin that overrides ``margins`` there.
    """
    if not 0 < alpha <= 0.5:  # past 0.5 the 1 - 2*alpha interval turns inside out
        raise BadInputError("alpha", f"must be more than 0 and at most 0.5, got {alpha:g}")
    base, cand = load_run(baseline), load_run(candidate)
    _check_comparable(base, cand)
    suite = str(base.identity["suite"])
    specs = metric_specs(suite, base.results)
    _check_margins(specs, margins, slice_margins)
    judged = judge(
        base.results,
        cand.results,
        specs,
        margins=margins,
        slice_margins=slice_margins,
        levels=Levels(alpha, alpha),
        correction=correction,
        method=method,
    )
    if not judged.slices:
        raise BadInputError(base.path, "no paired items to compare")
    return RunComparison(
        outcome=overall_outcome(judged.slices),
        suite=suite,
        baseline=str(base.path),
        candidate=str(cand.path),
        alpha=alpha,
        correction=correction,
        slices=judged.slices,
        tampering=tampering_counts(base.results, cand.results),
        items=judged.items,
        samples=judged.samples,
        suite_tasks=_suite_tasks(base.path),
    )
