"""`tripwire demo`: the incident, reproduced on the small reference model, stage by stage."""

from __future__ import annotations

from pathlib import Path

import typer

from tripwire.cli._output import emit_json, err, quiet
from tripwire.cli.reference import run_build

DEMO_EPILOG = "Example: tripwire demo --profile small --json demo.json"


def demo(
    ctx: typer.Context,
    profile: str = typer.Option("small", help="Reference profile to reproduce the incident on."),
    json_path: Path | None = typer.Option(
        None, "--json", help="Write results as JSON ('-': stdout)."
    ),
) -> None:
    """Reproduce the incident end to end on a small reference code model.

    Stage 0 builds (or loads from cache) the reference model and prints its held-out table.
    """
    if not quiet(json_path):
        err.print("[bold]stage 0[/]: reference code model (real source code found on this machine)")
    built = run_build(ctx, profile, None, 0, None)
    emit_json(json_path, {"reference": built.to_dict(), "stages": []})
