"""What `tripwire data review` and `tripwire eval review` share: a command group whose bare form
makes (or resumes) a review, and the serve / token / export sub-commands.

`tripwire data review INPUTS ... --out DIR` makes a review; `tripwire data review import DIR
FILE` brings decisions back: the group runs its default command when the first argument is not
one of its sub-commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import typer
from typer.core import TyperGroup

from tripwire.cli._output import emit_json, err, out, quiet
from tripwire.errors import BadInputError

DEFAULT = "create"


class DefaultGroup(TyperGroup):
    """A group that runs ``create`` unless its first argument names a sub-command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [DEFAULT, *args]
        return super().parse_args(ctx, args)


def parse_users(pairs: list[str]) -> dict[str, str]:
    users = {}
    for pair in pairs:
        theirs, sep, ours = pair.rpartition("=")
        if not sep or not theirs or not ours:
            raise BadInputError("--user", f"expected TOOL_USER=REVIEWER, got {pair!r}")
        users[theirs] = ours
    return users


def announce_links(tokens: dict[str, str]) -> Any:
    """The callback that prints the page's address and each new reviewer's sign-in link."""

    def announce(url: str) -> None:
        err.print(f"review page: {url}/  (Ctrl-C stops it; answers are saved as they are given)")
        for name, token in tokens.items():
            err.print(
                f"  {name}: {url}/#token={token}", highlight=False, soft_wrap=True, markup=False
            )
        if not tokens:
            err.print("  sign in with your token (a new one: tripwire ... review token DIR NAME)")
        sys.stderr.flush()

    return announce


def print_tokens(tokens: dict[str, str], directory: Path) -> None:
    if tokens:
        out.print("reviewer tokens (shown once; only their hashes are kept):")
        for name, token in tokens.items():
            out.print(f"  {name}: {token}", highlight=False, markup=False)
        out.print(
            f"page: tripwire ... review serve {directory}  then open /#token=TOKEN", markup=False
        )


def serve_review(directory: Path, port: int, tokens: dict[str, str] | None = None) -> None:
    from tripwire.review import ReviewStore
    from tripwire.review._server import serve

    ReviewStore(directory).close()  # not a review: bad input before anything listens
    try:
        serve(directory, port=port, announce=announce_links(tokens or {}))
    except (OSError, OverflowError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise BadInputError(f"--port {port}", f"cannot listen ({why})") from exc


def open_review(directory: Path, kind: str) -> Any:
    """The review in ``directory``, which must be of ``kind`` (data or eval)."""
    from tripwire.review import ReviewStore

    store = ReviewStore(directory)
    if store.meta().get("kind") != kind:
        other = "eval" if kind == "data" else "data"
        raise BadInputError(directory, f"is not a {kind} review (see tripwire {other} review)")
    return store


def port_option(help_text: str) -> Any:
    return typer.Option(8765, min=0, max=65535, help=help_text)


def check_outputs(outputs: dict[str, Path | None], own: dict[Path, str] | None = None) -> None:
    """Refuse, before anything is imported, computed or written, an output (option -> path;
    None or ``-`` is not written) that would replace one of ``own`` (path -> what it is: the
    review's database and sources), or that data audit's check refuses: a folder, a path that
    cannot be written, another option's output. An import must not be applied and then fail
    on its report, nor a report end the review it reports on."""
    from tripwire.artifacts import writes_through
    from tripwire.data._outputs import check_outputs as check_files
    from tripwire.data._outputs import file_identity

    mine = {file_identity(p): what for p, what in (own or {}).items()}
    for option, path in outputs.items():
        if path is None or str(path) == "-" or writes_through(path):
            continue
        what = mine.get(file_identity(path))
        if what is not None:
            raise BadInputError(option, f"{path} is {what}; choose another file")
    check_files([], outputs)


def write_report(path: Path | None, template: str, results: dict[str, Any]) -> None:
    """The review's HTML report, written atomically."""
    import json

    from tripwire.report import write_html

    if path is None:
        return
    try:
        write_html(
            path, template, r=results, results_json=json.dumps(results, indent=2, default=str)
        )
    except OSError as exc:
        raise BadInputError("--report", f"{path}: cannot write it ({exc.strerror or exc})") from exc


def add_common(app: typer.Typer, noun: str) -> None:
    """serve, token and export: the same for both kinds of review."""

    @app.command("serve", epilog=f"Example: tripwire {noun} review serve review/ --port 8765")
    def serve_cmd(
        directory: Path = typer.Argument(..., help="The review directory."),
        port: int = port_option("Loopback port (0: any free one)."),
    ) -> None:
        """Serve the review page on loopback until Ctrl-C; a reviewer resumes where they
        stopped."""
        serve_review(directory, port)

    @app.command("token", epilog=f"Example: tripwire {noun} review token review/ ana")
    def token_cmd(
        directory: Path = typer.Argument(..., help="The review directory."),
        reviewer: str = typer.Argument(..., help="The reviewer who needs a new token."),
    ) -> None:
        """Give a reviewer a new token (the old one stops working)."""
        from tripwire.review import ReviewStore

        out.print(ReviewStore(directory).new_token(reviewer), highlight=False)

    @app.command(
        "export",
        epilog=f"Example: tripwire {noun} review export review/ --format labelstudio "
        "--out tasks.json",
    )
    def export_cmd(
        directory: Path = typer.Argument(..., help="The review directory."),
        fmt: str = typer.Option(
            ...,
            "--format",
            help="labelstudio (tasks JSON + labeling config), argilla "
            "(dataset folder), or jsonl (tripwire's own).",
        ),
        out_path: Path = typer.Option(..., "--out", help="File (folder for argilla)."),
        reviewer: str | None = typer.Option(None, help="Only this reviewer's items."),
        json_path: Path | None = typer.Option(None, "--json", help="What was written."),
    ) -> None:
        """Export the items for Label Studio or Argilla, without anything reviewers must not
        see (the audit's verdict, which answer is the candidate's)."""
        from tripwire.review import ReviewStore, export_review
        from tripwire.review._export import check_export_path, export_files

        store = ReviewStore(directory)
        own = store.own_files()
        check_export_path(fmt, out_path, own)
        if fmt == "argilla":  # a folder: --json must not be it (data audit's check wants files)
            own = {**own, out_path: "the --out Argilla dataset"}
        check_outputs({**export_files(fmt, out_path), "--json": json_path}, own)
        done = export_review(store, fmt, out_path, reviewer)
        if not quiet(json_path):
            out.print(f"exported {done['items']} items: {', '.join(done['written'])}", markup=False)
        emit_json(json_path, done)


def users_option() -> Any:
    return typer.Option(
        [],
        "--user",
        help="Map a tool's user to a reviewer: TOOL_USER=REVIEWER (Label Studio user id or "
        "e-mail, Argilla user UUID); repeatable.",
    )
