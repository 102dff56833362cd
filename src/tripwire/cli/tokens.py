"""`tripwire tokens`: audit and repair tokenizer / embedding alignment."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from tripwire.cli import _memory, _pair
from tripwire.cli._output import (
    check_output,
    command_line,
    context,
    emit_json,
    out,
    progress_bar,
    quiet,
)
from tripwire.errors import BadInputError
from tripwire.findings import Finding, Verdict

if TYPE_CHECKING:
    from tripwire.tokens import AuditReport

app = typer.Typer(
    no_args_is_help=True,
    help="Audit and repair tokenizer / embedding alignment between two checkpoints.",
)

_COLOURS = {"info": "dim", "warn": "yellow", "block": "red"}
_VERDICT = {Verdict.PASS: "green", Verdict.WARN: "yellow", Verdict.BLOCK: "red"}


def _ids(f: Finding, n: int = 8) -> str:
    ids = list(f.token_ids)
    shown = ", ".join(str(i) for i in ids[:n])
    return shown + (f", ... ({len(ids)})" if len(ids) > n else "")


def render(report: AuditReport, *, verbose: bool = False) -> Table | str:
    """Findings as a table; a pair audit's info findings only with ``verbose``."""
    verbose = verbose or report.mode == "single"
    shown = [f for f in report.findings if verbose or f.severity != "info"]
    if not shown:
        return f"tokens audit: no warnings or blocking findings ({len(report.findings)} info)"
    hidden = len(report.findings) - len(shown)
    title = f"tokens audit: {report.mode} mode" + (
        f" ({hidden} info findings hidden, -v shows them)" if hidden else ""
    )
    t = Table(title=title, show_lines=False)
    for col in ("severity", "code", "token ids", "message"):
        t.add_column(col, overflow="fold")
    for f in shown:
        colour = _COLOURS[str(f.severity)]
        # messages quote token strings such as [unused0], which rich would read as markup
        t.add_row(f"[{colour}]{f.severity}[/]", f.code, _ids(f), escape(f.message))
    return t


def _check_json(json_path: Path | None, out_dir: Path | None = None) -> None:
    """An unwritable --json is refused before the work: a repair would otherwise have written
    and registered its checkpoint, and an audit printed a verdict, before exit 2."""
    if json_path is None or str(json_path) == "-":
        return
    check_output("--json", json_path)
    if out_dir is not None and out_dir.resolve() in json_path.resolve().parents:
        # written after the manifest, it would make the checkpoint differ from its record
        raise BadInputError(json_path, "--json must not be inside --out")


def _print_verdict(report: AuditReport) -> None:
    v = report.verdict
    out.print(f"verdict: [bold {_VERDICT[v]}]{v}[/]")


@app.command(
    "audit",
    epilog="Example: tripwire tokens audit ./base-model ./candidate --json audit.json\n\n"
    "Single-model mode: tripwire tokens audit ./model --calibrate norm-tail",
)
def audit_cmd(
    baseline_arg: Path | None = _pair.argument(
        "baseline", "Baseline checkpoint directory (or the only model, in single-model mode)"
    ),
    candidate_arg: Path | None = _pair.argument("candidate", "Candidate checkpoint directory"),
    baseline_opt: Path | None = _pair.option("baseline", "Baseline checkpoint directory"),
    candidate_opt: Path | None = _pair.option("candidate", "Candidate checkpoint directory"),
    corpus: list[Path] | None = typer.Option(
        None,
        "--corpus",
        metavar="FILE",
        help="Extra probe text file (repeatable); code in your languages.",
    ),
    functional: bool = typer.Option(
        False, "--functional", help="Also compare per-token loss on the probe (causal LMs)."
    ),
    calibrate: str = typer.Option(
        "auto",
        "--calibrate",
        metavar="KIND",
        help="Single-model mode: the rows known or taken to be untrained that the under-trained "
        "search compares every row with: reserved, beyond (rows past the vocabulary), "
        "unreachable, norm-tail (the rows of least or of greatest norm, taken only when they are "
        "a distinct, alike group), or auto (the first of these the model has).",
    ),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Show info findings too."),
    json_path: Path | None = typer.Option(
        None, "--json", help="Write the report as JSON ('-': stdout)."
    ),
    max_memory: str | None = _memory.option(),
) -> None:
    """Check that a candidate's tokenizer and embedding tables still agree with the baseline's.

    Exit 0 on pass or warnings, 1 when a finding blocks, 2 on bad input. With one checkpoint,
    report structural problems and tokens that look under-trained from the weights alone.
    """
    from tripwire.tokens import CALIBRATIONS, audit, audit_model

    baseline, candidate = _pair.resolve(
        (baseline_arg, candidate_arg), baseline_opt, candidate_opt, candidate_required=False
    )
    if calibrate not in CALIBRATIONS:
        raise typer.BadParameter(
            f"expected one of {', '.join(CALIBRATIONS)}, got {calibrate!r}",
            param_hint="--calibrate",
        )
    if candidate is not None and calibrate != "auto":
        raise typer.BadParameter(
            "calibrates the single-model search; with two checkpoints the baseline's rows "
            "are the yardstick",
            param_hint="--calibrate",
        )
    _check_json(json_path)
    with _memory.budget(max_memory), progress_bar(not quiet(json_path)) as progress:
        if candidate is None:
            report = audit_model(
                baseline, corpus=corpus or (), calibrate=calibrate, progress=progress
            )
        else:
            report = audit(
                baseline, candidate, corpus=corpus or (), functional=functional, progress=progress
            )
    if not quiet(json_path):
        out.print(render(report, verbose=verbose))
        _print_verdict(report)
    emit_json(json_path, report.to_dict())
    raise typer.Exit(report.verdict.exit_code)


@app.command(
    "repair",
    epilog="Example: tripwire tokens repair ./base-model ./candidate --out ./candidate-repaired",
)
def repair_cmd(
    ctx: typer.Context,
    baseline_arg: Path | None = _pair.argument("baseline", "Baseline checkpoint directory"),
    candidate_arg: Path | None = _pair.argument("candidate", "Candidate checkpoint directory"),
    baseline_opt: Path | None = _pair.option("baseline", "Baseline checkpoint directory"),
    candidate_opt: Path | None = _pair.option("candidate", "Candidate checkpoint directory"),
    out_dir: Path = typer.Option(..., "--out", help="Where to write the repaired checkpoint."),
    json_path: Path | None = typer.Option(
        None, "--json", help="Write the re-audit and repair summary as JSON ('-': stdout)."
    ),
    max_memory: str | None = _memory.option(),
) -> None:
    """Rebuild the candidate's embeddings for its tokenizer from the baseline's rows.

    Rows are copied by token string (undoing remaps), new tokens start from the mean of the
    baseline rows of their pieces, ties stay as they were. The result is registered with both
    inputs as parents and audited again; exit 1 when that audit still blocks (for example a
    changed normalizer, which no embedding surgery can fix).
    """
    from tripwire.artifacts import ArtifactKind, ensure_manifest
    from tripwire.tokens import audit, repair

    baseline, cand = _pair.resolve((baseline_arg, candidate_arg), baseline_opt, candidate_opt)
    assert cand is not None
    candidate = cand
    _check_json(json_path, out_dir)
    # opened first: a registry that cannot open must not leave an unregistered checkpoint
    registry = context(ctx).registry()
    ctx.with_resource(_memory.budget(max_memory))
    with progress_bar(not quiet(json_path)) as progress:
        result = repair(baseline, candidate, out_dir, command=command_line(), progress=progress)
        report = audit(baseline, result.path, progress=progress)
    for path in (baseline, candidate):
        registry.register(ensure_manifest(path, ArtifactKind.MODEL), path)
    registry.register(result.manifest, result.path)
    plan = result.plan["input"]
    summary = {
        "path": str(result.path),
        "id": result.manifest.id,
        "parents": list(result.manifest.parents),
        "rows": plan["rows"],
        "rows_kept": plan["kept"],
        "rows_copied": len(plan["copied"]),
        "rows_synthesised": len(plan["synthesised"]),
        "config": result.plan["config"],
        "not_repaired": result.plan["not_repaired"],
    }
    if not quiet(json_path):
        out.print(
            f"repaired: {result.path}  id: {result.manifest.id[:12]}\n"
            f"  input rows: {plan['kept']} kept, {len(plan['copied'])} copied from the "
            f"baseline by string, {len(plan['synthesised'])} synthesised from pieces"
        )
        for entry in plan["synthesised"][:8]:
            out.print(f"    {entry['token']!r} <- mean of {entry['piece_tokens']!r}")
        if result.plan["not_repaired"]:
            out.print(f"  not repairable: {', '.join(result.plan['not_repaired'])}")
        out.print(render(report))
        _print_verdict(report)
    emit_json(json_path, {**report.to_dict(), "repaired": summary})
    raise typer.Exit(report.verdict.exit_code)
