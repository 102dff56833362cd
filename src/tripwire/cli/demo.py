"""`tripwire demo`: the incident, reproduced on the small reference model, stage by stage."""

from __future__ import annotations

import importlib
from pathlib import Path

import typer
from rich.table import Table

from tripwire.artifacts import cache_dir
from tripwire.cli import _memory
from tripwire.cli._output import emit_json, err, out, progress_bar, quiet
from tripwire.cli.reference import run_build, run_import
from tripwire.demo import StageContext, StageResult
from tripwire.errors import BadInputError

DEMO_EPILOG = "Example: tripwire demo --profile small --report incident.html --json demo.json"
# Each stage module has `run(StageContext) -> StageResult`; order is the incident's bug order.
STAGES = (
    ("tokens", "tripwire.demo.tokens_stage"),
    ("data", "tripwire.demo.data_stage"),
    ("forgetting", "tripwire.demo.forgetting_stage"),
    ("bisect", "tripwire.demo.bisect_stage"),
    ("monitor", "tripwire.demo.monitor_stage"),
)


def _print_stage(number: int, result: StageResult) -> None:
    mark = "[green]ok[/]" if result.ok else "[red]NOT SHOWN[/]"
    out.rule(f"stage {number}: {result.title}  {mark}")
    for line in result.lines:
        out.print(line, highlight=False)
    if result.columns:
        t = Table()
        for c in result.columns:
            t.add_column(c)
        for row in result.rows:
            t.add_row(*[str(x) for x in row])
        out.print(t)


# `--model smollm2`: the pretrained model's flow (each stage module as above).
REAL_STAGES = (
    ("tokens", "tripwire.demo.real_tokens_stage"),
    ("finetune", "tripwire.demo.real_finetune_stage"),
    ("humaneval", "tripwire.demo.real_humaneval_stage"),
)


def demo(
    ctx: typer.Context,
    profile: str = typer.Option("small", help="Reference profile to reproduce the incident on."),
    model: str = typer.Option(
        "reference",
        "--model",
        help="reference (the small model built here) or smollm2 (SmolLM2-135M-Instruct from its "
        "PyPI wheel: tokens, fine-tune and HumanEval stages on a pretrained model).",
    ),
    max_memory: str | None = _memory.option(),
    only: list[str] = typer.Option(
        [], help="Run only these stages (tokens, data, forgetting, bisect, monitor)."
    ),
    workdir: Path | None = typer.Option(None, help="Where stages keep their artifacts."),
    report: Path | None = typer.Option(
        None, help="Write the incident report (HTML) here (default: WORKDIR/incident.html)."
    ),
    json_path: Path | None = typer.Option(
        None, "--json", help="Write results as JSON ('-': stdout)."
    ),
) -> None:
    """Reproduce the incident end to end on a small reference code model.

    Stage 0 builds (or loads from cache) the reference model; stages 1-3 each inject one of
    the incident's bugs, show the release gate blocking it with the right root cause, apply the
    remedy and show the gate passing it; stage 4 bisects a lineage of nightly versions for the
    first bad one; stage 5 replays production traffic through the monitor. Writes the
    postmortem (incident report, HTML). Every model version goes into the demo's own registry.
    Exit 1 if any stage failed to show what it should.
    """
    if model not in ("reference", "smollm2"):
        raise BadInputError("--model", f"expected reference or smollm2, got {model!r}")
    stages = STAGES if model == "reference" else REAL_STAGES
    unknown = set(only) - {name for name, _ in stages}
    if unknown:
        raise typer.BadParameter(
            f"unknown stage(s): {', '.join(sorted(unknown))}", param_hint="--only"
        )
    ctx.with_resource(_memory.budget(max_memory))
    if model == "smollm2":
        if not quiet(json_path):
            err.print("[bold]stage 0[/]: SmolLM2-135M-Instruct from its PyPI wheel")
        built = run_import(ctx, "smollm2", None, None)
        profile = "smollm2"
    else:
        if not quiet(json_path):
            err.print("[bold]stage 0[/]: reference code model (real source code found here)")
        built = run_build(ctx, profile, None, 0, None)
    base = workdir or cache_dir() / "demo" / f"{profile}-{built.manifest.id[:12]}"
    base.mkdir(parents=True, exist_ok=True)
    from tripwire.artifacts import Registry

    registry = Registry(f"sqlite:///{base / 'registry.db'}")
    results: list[StageResult] = []
    for number, (name, module) in enumerate(stages, 1):
        if only and name not in only:
            continue
        try:
            stage = importlib.import_module(module)
        except ModuleNotFoundError:
            err.print(f"[yellow]notice:[/] stage {name} is not available in this build")
            continue
        with progress_bar(not quiet(json_path)) as progress:
            stage_dir = base / name
            stage_dir.mkdir(parents=True, exist_ok=True)
            result = stage.run(StageContext(built.path, stage_dir, progress, registry))
        results.append(result)
        if not quiet(json_path):
            _print_stage(number, result)
    from tripwire.demo._incident import incident_document
    from tripwire.report import write_incident_html

    reference = {**built.to_dict(), "profile": profile}
    incident = incident_document(reference, results)
    report_path = report or base / "incident.html"
    write_incident_html(report_path, incident)
    if not quiet(json_path):
        out.rule("incident report")
        out.print(incident["summary"], highlight=False)
        out.print(f"report: {report_path}\nregistry: sqlite:///{base / 'registry.db'}")
    emit_json(
        json_path,
        {
            "reference": built.to_dict(),
            "stages": [r.to_dict() for r in results],
            "report": str(report_path),
            "registry": f"sqlite:///{base / 'registry.db'}",
        },
    )
    if not all(r.ok for r in results):
        raise typer.Exit(1)
