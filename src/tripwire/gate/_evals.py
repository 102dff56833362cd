"""Run each policy suite on baseline and candidate (cached by identity) and compare them."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tripwire.artifacts import Manifest
from tripwire.errors import BadInputError
from tripwire.findings import Finding, Severity
from tripwire.gate._policy import Policy, SuitePolicy
from tripwire.progress import Progress, no_progress
from tripwire.reference import CORPUS_DIR

_NEEDS_CORPUS = ("retention", "completion")


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    verdict: str
    """pass, warn (inconclusive slices) or block (a slice regressed beyond its margin)."""
    comparison: dict[str, Any]
    baseline_run: str
    candidate_run: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "verdict": self.verdict,
            "alpha": self.comparison["alpha"],
            "correction": self.comparison["correction"],
            "baseline_run": self.baseline_run,
            "candidate_run": self.candidate_run,
            "slices": self.comparison["slices"],
        }


def _options(sp: SuitePolicy, baseline: Path) -> dict[str, Any]:
    options = dict(sp.options)
    if sp.name in _NEEDS_CORPUS and "corpus" not in options:
        if not (baseline / CORPUS_DIR).is_dir():
            raise BadInputError(
                "policy",
                f"suite {sp.name} needs a corpus: set `corpus` in its [[suites]] entry "
                f"(the baseline {baseline} is not a reference model with its own corpus)",
            )
        options["corpus"] = baseline
    return options


def _finding(suite: str, s: dict[str, Any]) -> Finding | None:
    if s["status"] == "pass":
        return None
    regressed = s["regressed"]
    margin = s["margin"]
    message = (
        f"{suite} {s['metric']} on {s['slice']}: {s['baseline']:.4g} -> {s['candidate']:.4g} "
        f"({s['delta']:+.4g}, CI [{s['ci_low']:+.4g}, {s['ci_high']:+.4g}], margin {margin:.3g}, "
        f"n={s['n']})"
    )
    return Finding(
        code="eval.regression" if regressed else "eval.inconclusive",
        severity=Severity.BLOCK if regressed else Severity.WARN,
        message=message + ("" if regressed else ": cannot rule out a regression"),
        evidence={"suite": suite, **s},
    )


def run_suites(
    policy: Policy,
    models: dict[str, tuple[Path, Manifest]],
    progress: Progress = no_progress,
) -> tuple[list[SuiteOutcome], list[Finding]]:
    """Every suite of the policy on both ``models`` (``baseline`` and ``candidate``: path and
    the manifest the gate already hashed), then a paired comparison per slice."""
    baseline = models["baseline"][0]
    from tripwire.evals import HFBackend, cached_eval, compare_runs, get_suite
    from tripwire.sandbox import Sandbox

    outcomes: list[SuiteOutcome] = []
    findings: list[Finding] = []
    with ExitStack() as stack:
        box = None
        for sp in policy.suites:
            suite = get_suite(sp.name, **_options(sp, baseline))
            if getattr(suite, "needs_sandbox", True) and box is None:
                box = stack.enter_context(Sandbox())
            sandbox = box if getattr(suite, "needs_sandbox", True) else None
            runs = []
            for role, (model, manifest) in models.items():
                backend = HFBackend(model, manifest=manifest)

                label = f"{sp.name} {role}"

                def step(task: str, done: int, total: int, label: str = label) -> None:
                    progress(f"{label} {task}", done, total)

                # cached per model content: gating many candidates scores the baseline once
                runs.append(cached_eval(suite, backend, sandbox, n=sp.n, progress=step).path)
            per_metric, per_slice = sp.margin_objects()
            comparison = compare_runs(
                runs[0],
                runs[1],
                margins=per_metric,
                slice_margins=per_slice,
                alpha=policy.alpha,
                correction=policy.correction,  # type: ignore[arg-type]
            ).to_dict()
            found = [f for s in comparison["slices"] if (f := _finding(sp.name, s))]
            verdict = (
                "block"
                if any(f.severity is Severity.BLOCK for f in found)
                else ("warn" if found else "pass")
            )
            outcomes.append(SuiteOutcome(sp.name, verdict, comparison, str(runs[0]), str(runs[1])))
            findings += found
    return outcomes, findings
