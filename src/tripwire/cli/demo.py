"""`tripwire demo`: the incident, reproduced on the small reference model, stage by stage."""

from __future__ import annotations

from pathlib import Path

import typer

from tripwire.cli._output import err, quiet
from tripwire.cli.reference import run_build


def demo(
    ctx: typer.Context,
    profile: str = typer.Option("small", help="Reference profile to reproduce the incident on."),
    json_path: Path | None = typer.Option(
        None, "--json", help="Write results as JSON ('-': stdout)."
    ),
) -> None:
    """Reproduce the incident end to end on a small reference code model.

    Stage 0 builds (or loads from cache) the reference model and prints its held-out table.

    Example: tripwire demo --profile small --json demo.json
    """
    if not quiet(json_path):
        err.print("[bold]stage 0[/]: reference code model (real source code found on this machine)")
    run_build(ctx, profile, None, 0, json_path)
