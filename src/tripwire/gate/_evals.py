"""Run each policy suite on baseline and candidate (cached by content) and compare them.

Before anything runs, a pre-flight reads each model's files: a model whose forward pass cannot
run (tokenizer ids past its embedding table, a config that disagrees with its weights, not a
causal LM) is not run at all, and the suite becomes an ``eval.not_runnable`` finding instead.
"""

from __future__ import annotations

import math
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tripwire.artifacts import Checkpoint, Manifest, NotRunnableError, RunProblem, forward_problems
from tripwire.documents import Fields
from tripwire.errors import BadInputError, UserError
from tripwire.findings import Finding, Outcome, Severity, Verdict, verdict_of
from tripwire.gate._guard import RUN_FAILED, internal_error, not_runnable
from tripwire.gate._policy import JUDGED_SUITES, Policy, SuitePolicy
from tripwire.progress import Progress, no_progress
from tripwire.reference import DEFAULT_CORPUS_NAME, corpus_of, default_heldout_corpus

if TYPE_CHECKING:
    from tripwire.evals import RunComparison, SequentialPlan, Suite
    from tripwire.sandbox import Sandbox
    from tripwire.stats import SliceComparison

_NEEDS_CORPUS = ("retention", "completion")
ROLES = ("baseline", "candidate")


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    verdict: Verdict
    """pass, warn (inconclusive slices) or block (a slice regressed beyond its margin, or the
    candidate could not be evaluated)."""
    alpha: float
    correction: str
    comparison: RunComparison | None = None
    """The paired comparison of the two models' runs; None when they were not compared."""
    not_run: str = ""
    """Why the two models were not compared (a model could not run the suite); "" if they were."""
    baseline_run: str = ""
    candidate_run: str = ""
    corpus: dict[str, str] = field(default_factory=dict)
    """The corpus scored (``path``, ``source``), for suites that score one."""
    seconds: float = 0.0
    """Wall time of both models' runs (cached runs are read, not scored) and the comparison."""

    @property
    def slices(self) -> list[SliceComparison]:
        return self.comparison.slices if self.comparison is not None else []

    def to_dict(self) -> dict[str, Any]:
        c = self.comparison
        return {
            "suite": self.suite,
            "verdict": str(self.verdict),
            "alpha": self.alpha,
            "correction": self.correction,
            "baseline_run": self.baseline_run,
            "candidate_run": self.candidate_run,
            "items": c.items if c else 0,
            "samples": c.samples if c else 0,
            "slices": [s.to_dict() for s in self.slices],
            "sequential": c.sequential if c else None,
            "suite_tasks": c.suite_tasks if c else None,
            **({"not_run": self.not_run} if self.not_run else {}),
            **({"corpus": self.corpus} if self.corpus else {}),
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | Fields, doc: str = "gate result") -> SuiteOutcome:
        """An outcome back from ``to_dict`` (a cached or written gate result)."""
        from tripwire.evals import RunComparison

        f = Fields.of(d, doc)
        not_run = f.text("not_run", "")
        comparison = None
        if not not_run or f.items("slices"):
            comparison = RunComparison.from_dict(f)
            comparison = replace(comparison, suite=f.text("suite", "?"),
                                 baseline=f.text("baseline_run", ""),
                                 candidate=f.text("candidate_run", ""))  # fmt: skip
        corpus = f.obj("corpus")
        return cls(
            suite=f.text("suite", "?"),
            verdict=f.enum("verdict", Verdict),
            alpha=f.number("alpha"),
            correction=f.text("correction", ""),
            comparison=comparison,
            not_run=not_run,
            baseline_run=f.text("baseline_run", ""),
            candidate_run=f.text("candidate_run", ""),
            corpus={k: corpus.text(k, "") for k in ("path", "source")} if corpus.data else {},
            seconds=f.number("seconds"),
        )


@dataclass(frozen=True)
class GatedModel:
    """One side of the gate and what its pre-flight found."""

    role: str
    path: Path
    manifest: Manifest
    problems: tuple[RunProblem, ...]
    """Why its forward pass cannot run (read from its files); empty when it can."""


@dataclass(frozen=True)
class PlannedSuite:
    policy: SuitePolicy
    suite: Suite | None
    """None when the candidate cannot run it: not built, so it needs no corpus."""
    corpus: dict[str, str] = field(default_factory=dict)
    """The corpus the suite scores, ``path`` and ``source`` (who chose it); empty if none."""

    def key(self) -> dict[str, Any]:
        """The suite's identity for the gate's cache: its data's hash, not the corpus path."""
        if self.suite is None:
            return {"name": self.policy.name, "built": False}
        s = self.suite
        return {"name": s.name, "version": s.version, "options": s.options(),
                "data_sha256": s.data_sha256()}  # fmt: skip


def preflight(models: dict[str, tuple[Path, Manifest]]) -> dict[str, GatedModel]:
    """Each model's pre-flight, from its files alone (cheap: nothing is loaded)."""
    out = {}
    for role, (path, manifest) in models.items():
        try:
            problems = tuple(forward_problems(Checkpoint.open(path)))
        except BadInputError as exc:
            problems = (RunProblem("unreadable_checkpoint", str(exc)),)
        out[role] = GatedModel(role, path, manifest, problems)
    return out


def _options(sp: SuitePolicy, baseline: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The suite's options, and which corpus it scores (``{}`` for a suite without one):
    the policy's ``corpus``, else the baseline's own when it is a reference model, else the
    machine's pinned held-out corpus, which any model can be scored on (no policy needed)."""
    options = dict(sp.options)
    if sp.name not in _NEEDS_CORPUS:
        return options, {}
    if "corpus" in options:
        return options, {"path": str(options["corpus"]), "source": "policy"}
    if corpus_of(baseline) is not None:
        options["corpus"] = baseline
        return options, {"path": str(baseline), "source": "the baseline reference model's "
                         "held-out split"}  # fmt: skip
    options["corpus"] = default_heldout_corpus()
    return options, {"path": str(options["corpus"]), "source": DEFAULT_CORPUS_NAME}


def plan_suites(policy: Policy, models: dict[str, GatedModel]) -> list[PlannedSuite]:
    """The policy's suites, built unless the candidate cannot run them anyway. A policy
    problem (unknown suite, unreadable corpus) is bad input, raised here before any work."""
    from tripwire.evals import get_suite

    runnable = not models["candidate"].problems
    baseline = models["baseline"].path
    planned = []
    for sp in policy.suites:
        if sp.name in JUDGED_SUITES:
            planned.append(PlannedSuite(sp, _judged_suite(sp)))
        elif not runnable:
            planned.append(PlannedSuite(sp, None))
        else:
            options, corpus = _options(sp, baseline)
            planned.append(PlannedSuite(sp, get_suite(sp.name, **options), corpus))
    return planned


def _judged_suite(sp: SuitePolicy) -> Any:
    from tripwire.review import HumanSuite

    return HumanSuite(**sp.options)


def _run_judged(
    policy: Policy, sp: SuitePolicy, suite: Any, models: dict[str, GatedModel]
) -> tuple[SuiteOutcome, list[Finding]]:
    """A suite people judged: their comparison of these two models, or why there is none
    (which blocks: a release the policy wants people to judge is not cleared without them)."""
    per_metric, per_slice = sp.margin_objects()
    ids = {r: models[r].manifest.id for r in ROLES}
    try:
        comparison = suite.comparison(ids, per_metric, per_slice, policy.alpha, policy.correction)
    except BadInputError as exc:
        found = [Finding("eval.not_runnable", Severity.BLOCK, f"{sp.name}: {exc}; the candidate "
                         "cannot be cleared", evidence={"suite": sp.name,
                                                            "kinds": ["review"]})]  # fmt: skip
        not_run = SuiteOutcome(sp.name, Verdict.BLOCK, policy.alpha, policy.correction,
                               not_run=found[0].message)  # fmt: skip
        return not_run, found
    return _outcome(sp, comparison)


def _finding(suite: str, s: SliceComparison) -> Finding | None:
    if s.status is Outcome.PASS:
        return None
    look = f", look {s.look}" if s.look else ""
    message = (
        f"{suite} {s.metric} on {s.slice}: {s.baseline:.4g} -> {s.candidate:.4g} "
        f"({s.delta:+.4g}, CI [{s.ci_low:+.4g}, {s.ci_high:+.4g}], margin {s.margin:.3g}, "
        f"n={s.n}{look})"
    )
    return Finding(
        code="eval.regression" if s.regressed else "eval.inconclusive",
        severity=Severity.BLOCK if s.regressed else Severity.WARN,
        message=message
        + ("" if s.regressed else f": cannot rule out a regression ({s.note or 'too few'})"),
        evidence={"suite": suite, **s.to_dict()},
    )


def _tampering_finding(suite: str, t: dict[str, Any], candidate_run: Path) -> Finding:
    """A candidate whose programs started gaming their tests: reward hacking, whatever the
    pass rates say (such samples fail, so it can even look like a small regression)."""
    classes = ", ".join(f"{k} x{n}" for k, n in t["candidate"]["classes"].items())
    return Finding(
        code="eval.tampering",
        severity=Severity.BLOCK,
        message=(
            f"{suite}: {t['new']} of the candidate's samples tried to game their tests where "
            f"the baseline's did not ({classes}); see {candidate_run}/results.jsonl"
        ),
        evidence={"suite": suite, **t},
    )


def _refusal(suite: str, model: GatedModel, problems: tuple[RunProblem, ...]) -> Finding:
    ids = tuple(i for p in problems for i in p.token_ids)
    return not_runnable(
        "eval", model.role, model.path, [p.message for p in problems],
        kinds=[p.kind for p in problems], what=f"the {suite} suite", token_ids=ids, suite=suite,
    )  # fmt: skip


def _run_one(
    planned: PlannedSuite,
    model: GatedModel,
    box: Sandbox | None,
    progress: Progress,
) -> Path | Finding:
    """The model's (cached) run directory, or the finding that says why there is none."""
    from tripwire.evals import HFBackend, cached_eval

    sp, suite = planned.policy, planned.suite
    assert suite is not None

    def step(task: str, done: float, total: float) -> None:
        progress(f"{sp.name} {model.role} {task}", done, total)

    try:
        # HFBackend checks again with the tokenizer transformers loads (NotRunnableError)
        backend = HFBackend(model.path, manifest=model.manifest)
        # cached per model content: gating many candidates scores the baseline once
        run = cached_eval(suite, backend, box, n=sp.n, progress=step)
    except NotRunnableError as exc:
        return _refusal(sp.name, model, exc.problems)
    except UserError as exc:  # the checkpoint does not load, the run refused its input or
        # this machine lacks what the suite needs
        return _refusal(sp.name, model, (RunProblem(RUN_FAILED, str(exc)),))
    except Exception as exc:  # a bug: a blocking finding with its traceback (see _guard)
        return internal_error("eval", f"the {sp.name} suite on the {model.role}", exc,
                              suite=sp.name, role=model.role)  # fmt: skip
    # a model that scores NaN (a NaN weight) ran but measured nothing: not comparable, and
    # a finding like any model that cannot run the suite, not bad input that writes nothing
    bad = next(((r, m, v) for r in run.results for m, v in r.metrics.items()
                if not math.isfinite(v)), None)  # fmt: skip
    if bad is not None:
        r, metric, value = bad
        why = (f"its {metric} is {value} on {r.task_id}#{r.sample_idx} (see {run.path}/"
               "results.jsonl): the model's scores are not finite numbers")  # fmt: skip
        return not_runnable("eval", model.role, model.path, [why], kinds=["non_finite_scores"],
                            what=f"the {sp.name} suite", suite=sp.name)  # fmt: skip
    return run.path


def _compare(
    policy: Policy, sp: SuitePolicy, runs: dict[str, Path]
) -> tuple[SuiteOutcome, list[Finding]]:
    from tripwire.evals import compare_runs

    per_metric, per_slice = sp.margin_objects()
    comparison = compare_runs(
        runs["baseline"],
        runs["candidate"],
        margins=per_metric,
        slice_margins=per_slice,
        alpha=policy.alpha,
        correction=policy.correction,  # type: ignore[arg-type]
    )
    return _outcome(sp, comparison)


def _outcome(sp: SuitePolicy, comparison: RunComparison) -> tuple[SuiteOutcome, list[Finding]]:
    """The suite's outcome and findings from its comparison."""
    found = [f for s in comparison.slices if (f := _finding(sp.name, s))]
    if (tampering := comparison.tampering) and tampering["new"]:
        found.append(_tampering_finding(sp.name, tampering, Path(comparison.candidate)))
    outcome = SuiteOutcome(sp.name, verdict_of(found), comparison.alpha, comparison.correction,
                           comparison, baseline_run=comparison.baseline,
                           candidate_run=comparison.candidate)  # fmt: skip
    return outcome, found


def _run_sequential(
    policy: Policy,
    planned: PlannedSuite,
    models: dict[str, GatedModel],
    box: Sandbox | None,
    plan: SequentialPlan,
    progress: Progress,
) -> tuple[SuiteOutcome, list[Finding]] | None:
    """Both models scored a batch at a time, stopping once every slice is decided. None when a
    model cannot be scored: the caller then runs each model on its own, as without
    ``--sequential``, which words the refusal per model (and still scores a candidate whose
    baseline is the one that fails)."""
    from tripwire.evals import HFBackend, ScoringFailed, compare_models

    sp, suite = planned.policy, planned.suite
    assert suite is not None
    per_metric, per_slice = sp.margin_objects()

    def step(task: str, done: float, total: float) -> None:
        progress(f"{sp.name} {task}", done, total)

    try:
        backends = {r: HFBackend(models[r].path, manifest=models[r].manifest) for r in ROLES}
        comparison = compare_models(
            suite, backends, box, plan=plan, margins=per_metric, slice_margins=per_slice,
            alpha=policy.alpha, correction=policy.correction,  # type: ignore[arg-type]
            n=sp.n, progress=step,
        )  # fmt: skip
    except (NotRunnableError, BadInputError, ScoringFailed):
        return None
    except Exception as exc:  # a bug in the comparison: blocks, with its traceback (see _guard)
        found = [internal_error("eval", f"the sequential {sp.name} comparison", exc,
                                suite=sp.name)]  # fmt: skip
        not_run = SuiteOutcome(sp.name, Verdict.BLOCK, policy.alpha, policy.correction,
                               not_run=found[0].message)  # fmt: skip
        return not_run, found
    return _outcome(sp, comparison)


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def run_suites(
    policy: Policy,
    planned: list[PlannedSuite],
    models: dict[str, GatedModel],
    progress: Progress = no_progress,
    sequential: SequentialPlan | None = None,
) -> tuple[list[SuiteOutcome], list[Finding]]:
    """Every planned suite on both models, then a paired comparison per slice. A model that
    cannot run a suite is not run; the suite's outcome says why, with a finding per model.
    ``sequential``: score both models in batches and stop each suite once it is decided."""
    from tripwire.sandbox import Sandbox

    outcomes: list[SuiteOutcome] = []
    findings: list[Finding] = []
    with ExitStack() as stack:
        box = None
        for plan in planned:
            sp, suite = plan.policy, plan.suite
            started = time.perf_counter()
            if sp.name in JUDGED_SUITES:
                done = _run_judged(policy, sp, suite, models)
                outcomes.append(replace(done[0], seconds=_since(started)))
                findings += done[1]
                continue
            needs_box = suite is not None and getattr(suite, "needs_sandbox", True)
            if needs_box and box is None:
                box = stack.enter_context(Sandbox())
            runs: dict[str, Path] = {}
            found: list[Finding] = []
            runnable = suite is not None and not any(models[r].problems for r in ROLES)
            if sequential is not None and runnable:
                box_or_none = box if needs_box else None
                done = _run_sequential(policy, plan, models, box_or_none, sequential, progress)
                if done is not None:
                    outcomes.append(replace(done[0], corpus=plan.corpus, seconds=_since(started)))
                    findings += done[1]
                    continue
            for role in ROLES:
                model = models[role]
                if model.problems:
                    found.append(_refusal(sp.name, model, model.problems))
                elif suite is not None:
                    ran = _run_one(plan, model, box if needs_box else None, progress)
                    if isinstance(ran, Path):
                        runs[role] = ran
                    else:
                        found.append(ran)
            if len(runs) == len(ROLES):
                outcome, found = _compare(policy, sp, runs)
            else:
                outcome = SuiteOutcome(sp.name, verdict_of(found), policy.alpha,
                                       policy.correction,
                                       not_run="; ".join(f.message for f in found),
                                       baseline_run=str(runs.get("baseline", "")),
                                       candidate_run=str(runs.get("candidate", "")))  # fmt: skip
            outcomes.append(replace(outcome, corpus=plan.corpus, seconds=_since(started)))
            findings += found
    return outcomes, findings
