"""`tripwire registry`: inspect and add to the artifact registry."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from tripwire.artifacts import ArtifactKind, Manifest, ensure_manifest
from tripwire.cli._output import command_line, context, emit_json, out, quiet

app = typer.Typer(no_args_is_help=True, help="The registry of artifacts and their lineage.")


@app.command("list", epilog="Example: tripwire registry list --kind model --json -")
def list_(
    ctx: typer.Context,
    kind: ArtifactKind | None = typer.Option(None, help="Only artifacts of this kind."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
) -> None:
    """List registered artifacts, oldest first."""
    items = context(ctx).registry().list(str(kind) if kind else None)
    if not quiet(json_path):
        t = Table(title=f"{len(items)} artifacts")
        for col in ("id", "kind", "name", "parents", "registered", "path"):
            t.add_column(col)
        for a in items:
            m = a.manifest
            t.add_row(m.id[:12], str(m.kind), m.name, ",".join(p[:8] for p in m.parents),
                      a.registered_at, a.path)  # fmt: skip
        out.print(t)
    emit_json(json_path, {"artifacts": [{**a.manifest.to_dict(), "path": a.path} for a in items]})


@app.command(epilog="Example: tripwire registry show 3f9a2c1b7d0e")
def show(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Artifact id, id prefix (6+ chars) or name."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
) -> None:
    """Show one artifact: manifest, parents, children and marks."""
    reg = context(ctx).registry()
    a = reg.get(ref)
    data = {
        **a.manifest.to_dict(),
        "path": a.path,
        "ancestors": reg.ancestors(a.id),
        "children": reg.children(a.id),
        "marks": [m.__dict__ for m in reg.marks(a.id)],
    }
    if not quiet(json_path):
        m = a.manifest
        out.print(f"[bold]{m.name}[/]  {m.kind}  id {m.id}")
        out.print(f"path: {a.path or '-'}\ncreated: {m.created_at}\ncommand: {m.command or '-'}")
        out.print(f"parents: {', '.join(m.parents) or '-'}")
        out.print(f"children: {', '.join(data['children']) or '-'}")
        out.print(f"files ({len(m.files)}):")
        for f in m.files:
            out.print(f"  {f.sha256[:12]}  {f.size:>12,}  {f.path}")
        for mark in data["marks"]:
            out.print(f"mark: {mark['mark']} {mark['line']} {mark['at']} {mark['note']}")
    emit_json(json_path, data)


@app.command(epilog="Example: tripwire registry add ./my-model --kind model --parent 3f9a2c1b7d0e")
def add(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="Artifact directory or file."),
    kind: ArtifactKind = typer.Option(ArtifactKind.MODEL, help="What the artifact is."),
    parent: list[str] = typer.Option([], help="Parent artifact (id, prefix or name); repeatable."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
) -> None:
    """Hash an artifact, write its manifest beside it, and register it."""
    reg = context(ctx).registry()
    parents = [reg.get(p).id for p in parent]
    existing = ensure_manifest(path, kind)
    manifest = Manifest.build(
        path,
        kind,
        name=existing.name,
        parents=parents or list(existing.parents),
        command=existing.command or command_line(),
        notes=existing.notes,
    )
    manifest.write(path)
    reg.register(manifest, path)
    if not quiet(json_path):
        out.print(f"registered {manifest.kind} {manifest.name} id {manifest.id}")
    emit_json(json_path, manifest.to_dict())
