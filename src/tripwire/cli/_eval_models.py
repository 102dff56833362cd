"""`tripwire eval compare-models`: run a suite on two models and compare them, in one command.

Its own command rather than an option of ``eval run``: a run evaluates one model and writes
that model's run; a comparison of two models, and above all one that stops as soon as it is
decided, has to score both models batch by batch and judge them together, which is neither
model's run. Without ``--sequential`` it is the one-look case of the same loop (both models on
every item, then ``eval compare``'s verdicts).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

from tripwire.cli import _pair
from tripwire.cli._corpus import choose_corpus
from tripwire.cli._output import emit_json, err, progress_bar, quiet
from tripwire.errors import BadInputError, UnavailableError

EPILOG = (
    "Example: tripwire eval compare-models hf:./base hf:./candidate --suite retention "
    "--sequential --looks 5 --json cmp.json"
)


def compare_models(
    base_arg: str | None = _pair.argument("baseline", "Baseline MODEL spec (hf:DIR, openai:...)"),
    cand_arg: str | None = _pair.argument("candidate", "Candidate MODEL spec"),
    base_opt: str | None = _pair.option("baseline", "Baseline MODEL spec"),
    cand_opt: str | None = _pair.option("candidate", "Candidate MODEL spec"),
    suite_name: str = typer.Option(
        "humaneval",
        "--suite",
        help="humaneval, humaneval-js, humaneval-cpp, humaneval-sh, humaneval-pl, retention, "
        "completion or canaries.",
    ),
    corpus: Path | None = typer.Option(
        None,
        "--corpus",
        help="retention/completion: a reference model dir or folder of code "
        "(default: the baseline's own reference corpus, else the machine's pinned held-out "
        "corpus).",
    ),
    max_per_language: int | None = typer.Option(
        None, "--max-per-language", min=2, help="retention/completion: items per language."
    ),
    sequential: bool = typer.Option(
        False, "--sequential", help="Score in batches and stop once every slice is decided."
    ),
    looks: int = typer.Option(5, "--looks", min=2, help="--sequential: batches (looks)."),
    order_seed: int = typer.Option(0, "--order-seed", help="--sequential: the items' order."),
    budget: int | None = typer.Option(
        None, "--budget", min=2, help="--sequential: most items to score (default: all)."
    ),
    spending: str = typer.Option("obf", help="--sequential: alpha spending, obf or pocock."),
    margin: list[str] = typer.Option(
        [], "--margin", help="As for eval compare: 0.02 or 1%, per metric (bits_per_byte=1%)."
    ),
    alpha: float = typer.Option(0.05, min=1e-6, max=0.5, help="Significance level."),
    correction: str = typer.Option("holm", help="Across slices: holm, bh or none."),
    method: str = typer.Option("t", help="Continuous metrics: t or bootstrap."),
    temperature: float = typer.Option(0.0, help="Sampling temperature (0: greedy)."),
    top_p: float = typer.Option(1.0, "--top-p", help="Nucleus sampling mass."),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens", min=1, help="Generation limit."),
    seed: int = typer.Option(0, help="Sampling seed."),
    n: int | None = typer.Option(None, "--n", min=1, help="Samples per task."),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Sandbox workers."),
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, help="Per-program wall limit (s)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
) -> None:
    """Evaluate BASELINE and CANDIDATE on a suite and decide, per slice and metric, whether
    the candidate regressed (the verdicts of `eval compare`). With --sequential the items are
    taken in a seeded random order, both models score them in --looks batches, and scoring
    stops as soon as every slice is regressed or pass, at group-sequential levels
    (O'Brien-Fleming alpha spending, or --spending pocock) that keep each false-verdict rate
    under alpha at any look. Results go to each model's cached run, so an interrupted
    comparison resumes where it stopped and reaches the same verdict. Exit 1 on regression."""
    from tripwire.cli.eval import (
        _margins,
        check_json_output,
        check_margin_metrics,
        check_timeout,
        model_input,
        render_comparison,
    )
    from tripwire.evals import (
        CpuLimits,
        GenerationConfig,
        ReferenceCheckFailed,
        ScoringFailed,
        SequentialPlan,
        backend_from_spec,
        get_suite,
    )
    from tripwire.evals import compare_models as run_comparison
    from tripwire.sandbox import Sandbox, SandboxUnavailable

    base_model, cand = _pair.resolve((base_arg, cand_arg), base_opt, cand_opt)
    assert cand is not None
    cand_model = cand
    check_timeout(timeout)
    check_json_output(json_path, [("the baseline model", model_input(base_model)),
                                  ("the candidate model", model_input(cand_model)),
                                  ("the corpus", corpus)])  # fmt: skip
    if correction not in ("holm", "bh", "none"):
        raise BadInputError("--correction", f"expected holm, bh or none, got {correction!r}")
    if method not in ("t", "bootstrap"):
        raise BadInputError("--method", f"expected t or bootstrap, got {method!r}")
    plan = SequentialPlan(looks if sequential else 1, order_seed, spending, budget)  # type: ignore[arg-type]
    config = GenerationConfig(max_new_tokens, temperature, top_p, seed, ())
    backends = {
        "baseline": backend_from_spec(base_model).with_config(config),
        "candidate": backend_from_spec(cand_model).with_config(config),
    }
    corpus = choose_corpus(suite_name, base_model, corpus)
    suite = get_suite(suite_name, corpus=corpus, max_per_language=max_per_language)
    margins = _margins(margin)
    check_margin_metrics(margins, list(type(suite).metrics), suite.name)
    per_metric = {m: margins.get(m) or margins.get("*") for m in type(suite).metrics}
    limits = CpuLimits().base(timeout)
    try:
        with (
            Sandbox(workers, limits) if suite.needs_sandbox else contextlib.nullcontext() as box,
            progress_bar(not quiet(json_path)) as bar,
        ):
            result = run_comparison(
                suite, backends, box, plan=plan,
                margins={m: v for m, v in per_metric.items() if v is not None}, alpha=alpha,
                correction=correction, method=method, n=n, progress=bar,  # type: ignore[arg-type]
            )  # fmt: skip
    except SandboxUnavailable as exc:
        raise UnavailableError("sandbox", str(exc)) from exc
    except ScoringFailed as exc:  # the model's own error, as `eval run` would show it
        raise exc.error from exc
    except ReferenceCheckFailed as exc:
        first = exc.check.failures[0]
        err.print(f"[red]block:[/] eval.reference_check_failed: {len(exc.check.failures)} "
                  f"reference solutions did not pass here (first: {first.task_id}: "
                  f"{first.message})",
                  highlight=False)  # fmt: skip
        raise typer.Exit(1) from exc
    if not quiet(json_path):
        render_comparison(result)
    emit_json(json_path, result.to_dict())
    raise typer.Exit(result.verdict.exit_code)
