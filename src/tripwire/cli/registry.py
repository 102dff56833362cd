"""`tripwire registry`: inspect and add to the artifact registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from tripwire.artifacts import ArtifactKind, Manifest, check_manifest_writable, ensure_manifest
from tripwire.cli._output import command_line, context, emit_json, err, out, progress_bar, quiet
from tripwire.errors import BadInputError

if TYPE_CHECKING:
    from tripwire.artifacts import Registry

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
            # names and paths are the user's: rich would read `[/]` in one as markup
            t.add_row(m.id[:12], str(m.kind), escape(m.name), ",".join(p[:8] for p in m.parents),
                      a.registered_at, escape(a.path or ""))  # fmt: skip
        out.print(t)
    emit_json(json_path, {"artifacts": [{**a.manifest.to_dict(), "path": a.path} for a in items]})


def manifest_document(m: Manifest) -> dict[str, Any]:
    """A manifest as a --json document: its own command, time and schema version renamed, so
    they do not overwrite the document's envelope (which says what wrote the document)."""
    d = m.to_dict()
    renamed = {"command": "artifact_command", "created_at": "artifact_created_at",
               "schema_version": "manifest_schema_version"}  # fmt: skip
    return {renamed.get(k, k): v for k, v in d.items()}


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
        **manifest_document(a.manifest),
        "path": a.path,
        "ancestors": reg.ancestors(a.id),
        "children": reg.children(a.id),
        "marks": [m.__dict__ for m in reg.marks(a.id)],
    }
    if not quiet(json_path):
        m = a.manifest
        out.print(f"[bold]{escape(m.name)}[/]  {m.kind}  id {m.id}")
        out.print(f"path: {a.path or '-'}\ncreated: {m.created_at}\ncommand: {m.command or '-'}",
                  markup=False, highlight=False)  # fmt: skip
        out.print(f"parents: {', '.join(m.parents) or '-'}")
        out.print(f"children: {', '.join(data['children']) or '-'}")
        out.print(f"files ({len(m.files)}):")
        for f in m.files:
            out.print(f"  {f.sha256[:12]}  {f.size:>12,}  {f.path}", markup=False, highlight=False)
        for mark in data["marks"]:
            out.print(f"mark: {mark['mark']} {mark['line']} {mark['at']} {mark['note']}",
                      markup=False, highlight=False)  # fmt: skip
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
    # refused before the registry records it: a failed add leaves neither behind
    check_manifest_writable(path)
    reg.register(manifest, path)
    manifest.write(path)
    if not quiet(json_path):
        out.print(f"registered {manifest.kind} {manifest.name} id {manifest.id}", markup=False)
    emit_json(json_path, manifest_document(manifest))


@app.command("mark-good", epilog="Example: tripwire registry mark-good ./models/v1 --line prod")
def mark_good(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="Model directory, or registered id / prefix / name."),
    line: str = typer.Option("", help="Release line (e.g. prod, canary); empty: the default."),
    note: str = typer.Option("", help="Why it is good (e.g. the gate run)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
) -> None:
    """Mark a model version known-good: the target of later rollbacks and bisections."""
    reg = context(ctx).registry()
    artifact_id = _resolve(reg, model)
    from tripwire.artifacts import KNOWN_GOOD

    mark = reg.mark(artifact_id, KNOWN_GOOD, line=line, note=note)
    if not quiet(json_path):
        name = reg.get(artifact_id).manifest.name
        out.print(f"{name} ({artifact_id[:12]}) marked known-good", markup=False)
    emit_json(json_path, mark.__dict__)


@app.command("last-good", epilog="Example: tripwire registry last-good --line prod --json -")
def last_good(
    ctx: typer.Context,
    line: str | None = typer.Option(None, help="Only this release line."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
) -> None:
    """Print the version most recently marked known-good (exit 1 if there is none)."""
    good = context(ctx).registry().last_good(line)
    if good is None:
        err.print("no version is marked known-good" + (f" in line {line}" if line else ""))
        emit_json(json_path, {"last_good": None})
        raise typer.Exit(1)
    data = {"id": good.id, "name": good.manifest.name, "path": good.path}
    if not quiet(json_path):
        out.print(f"{good.manifest.name}  id {good.id[:12]}  path {good.path or '-'}", markup=False)
    emit_json(json_path, {"last_good": data})


@app.command(epilog="Example: tripwire registry bisect --good v1 --bad v5 --policy gate.toml")
def bisect(
    ctx: typer.Context,
    good: str = typer.Option(..., help="A version that passes (id, prefix, name or directory)."),
    bad: str = typer.Option(..., help="A later version that fails the gate."),
    policy: Path | None = typer.Option(None, help="Gate policy TOML."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
) -> None:
    """Binary-search the registered lineage from GOOD to BAD for the first version the gate
    blocks; each step is a gate run against GOOD (cached by artifact hash)."""
    from tripwire.gate import Policy, gate
    from tripwire.gate import bisect as run_bisect

    reg = context(ctx).registry()
    pol = Policy.from_toml(policy) if policy else Policy()
    with progress_bar(not quiet(json_path)) as progress:

        def judge(base: Path, cand: Path) -> str:
            return str(gate(base, cand, policy=pol, registry=reg, progress=progress).verdict)

        result = run_bisect(reg, _resolve(reg, good), _resolve(reg, bad), judge)
    if not quiet(json_path):
        t = Table(title=f"bisect: {result.gate_runs} gate runs over {len(result.chain)} versions")
        for col in ("#", "version", "id", "verdict"):
            t.add_column(col)
        first = (result.first_bad or {}).get("id")
        for i, node in enumerate(result.chain):
            label = node["verdict"] or "(not gated)"
            shown = escape(node["name"])
            name = f"[bold red]{shown}[/] <- first bad" if node["id"] == first else shown
            t.add_row(str(i), name, node["id"][:12], label)
        out.print(t)
    emit_json(json_path, result.to_dict())
    if result.first_bad is None:
        err.print("the bad version passes the gate against the good one: nothing to bisect")


@app.command(epilog="Example: tripwire registry rollback --to v1 --note 'python regression in v3'")
def rollback(
    ctx: typer.Context,
    to: str | None = typer.Option(
        None, "--to", help="Version to roll back to (default: the last known-good)."
    ),
    line: str = typer.Option("", help="Release line."),
    note: str = typer.Option("", help="Why (recorded with the decision)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write JSON ('-': stdout)."),
) -> None:
    """Record a rollback decision and print what to deploy."""
    reg = context(ctx).registry()
    if to is None:
        good = reg.last_good(line or None)
        if good is None:
            raise BadInputError("--to", "no version given and none is marked known-good")
        target = good
    else:
        target = reg.get(_resolve(reg, to))
    from tripwire.artifacts import KNOWN_GOOD, ROLLBACK

    if KNOWN_GOOD not in {m.mark for m in reg.marks(target.id)}:
        err.print(f"[yellow]warning:[/] {escape(target.manifest.name)} was never marked known-good")
    mark = reg.mark(target.id, ROLLBACK, line=line, note=note)
    data = {
        "deploy": {"id": target.id, "name": target.manifest.name, "path": target.path},
        "decision": mark.__dict__,
    }
    if not quiet(json_path):
        out.print(f"roll back to [bold]{escape(target.manifest.name)}[/] (id {target.id[:12]})")
        out.print(f"deploy: {target.path or '(path not recorded)'}", markup=False)
    emit_json(json_path, data)


def _resolve(reg: Registry, ref: str) -> str:
    """A registered id from an id, prefix, name, or a directory (registered on the fly)."""
    path = Path(ref)
    if path.exists():
        manifest = ensure_manifest(path, ArtifactKind.MODEL)
        reg.register(manifest, path)
        return manifest.id
    return reg.get(ref).id
