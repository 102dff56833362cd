"""The `tripwire` command line: one Typer sub-app per capability, a thin layer over the library.

Command modules import the library (torch, transformers, scipy, ...) inside the commands that
use it, not at the top: every invocation, `--help` included, loads all command modules.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from typing import Any

import typer
from rich.markup import escape

try:  # typer 0.2x carries its own copy of click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
    from typer.exceptions import Abort
except ImportError:  # pragma: no cover - older typer uses click itself
    from click.exceptions import Abort, ClickException, NoArgsIsHelpError, UsageError

from tripwire import __version__
from tripwire.cli import data, reference, registry
from tripwire.cli import demo as demo_cmd
from tripwire.cli import eval as eval_cmd
from tripwire.cli import gate as gate_cmd
from tripwire.cli import monitor as monitor_cmd
from tripwire.cli import tokens as tokens_cmd
from tripwire.cli import train as train_cmd
from tripwire.cli._output import Context, err
from tripwire.errors import UserError

app = typer.Typer(
    name="tripwire",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    help="A regression firewall for code LLMs.\n\nExample: tripwire reference build --profile tiny",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(reference.app, name="reference")
app.add_typer(registry.app, name="registry")
app.add_typer(data.app, name="data")
app.add_typer(tokens_cmd.app, name="tokens")
app.add_typer(eval_cmd.app, name="eval")
app.add_typer(train_cmd.app, name="train")
app.add_typer(monitor_cmd.app, name="monitor")
app.command("gate", epilog=gate_cmd.GATE_EPILOG)(gate_cmd.gate)
app.command("demo", epilog=demo_cmd.DEMO_EPILOG)(demo_cmd.demo)


def quiet_transformers() -> None:
    """transformers' own progress bars and advisory warnings would drown tripwire's output.

    Set through the environment, read when transformers is first imported, so that commands
    which never load a model do not pay for importing it.
    """
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "transformers" in sys.modules:  # imported already (main() called in-process): too late
        from transformers.utils import logging

        logging.set_verbosity_error()
        logging.disable_progress_bar()


def _version(value: bool) -> None:
    if value:
        print(f"tripwire {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    registry_url: str | None = typer.Option(
        None, "--registry", envvar="TRIPWIRE_REGISTRY", help="Registry database URL."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True),
) -> None:
    """A regression firewall for code LLMs."""
    ctx.obj = Context(registry_url=registry_url, debug=debug)
    quiet_transformers()
    log_to_stderr(debug)


def log_to_stderr(debug: bool) -> None:
    """tripwire's own log records (a retried request, a fallback taken) as notices on stderr."""
    logger = logging.getLogger("tripwire")
    if not any(getattr(h, "tripwire", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler.tripwire = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.INFO)


def _reflow_help(command: Any) -> Any:  # a Typer (click) command or group
    """Join the lines of each paragraph of every command's help: docstrings are wrapped at 100
    columns, and in rich markup mode Typer keeps those line breaks, so a terminal wrapping the
    text again leaves ragged half-empty lines."""
    if command.help:
        command.help = "\n\n".join(" ".join(p.split()) for p in command.help.split("\n\n"))
    for sub in getattr(command, "commands", {}).values():
        _reflow_help(sub)
    return command


INTERNAL_ERROR = 4
"""The exit code of a tripwire bug (an unexpected exception), apart from every verdict."""


def main(argv: list[str] | None = None) -> int:
    """Entry point: exit 0 ok/warn, 1 blocking findings, 2 bad input or usage, 3 something this
    machine lacks (an optional extra, a tool, a sandbox feature), 4 a tripwire bug."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        # not standalone: a usage error comes back here and is shown as one line like every
        # other bad input (typer would draw it in a box), and Exit comes back as its code
        code = _reflow_help(typer.main.get_command(app))(
            args=args, prog_name="tripwire", standalone_mode=False
        )
        return code if isinstance(code, int) else 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except NoArgsIsHelpError as exc:  # `tripwire data`: the group's help, as typer shows it
        from typer import rich_utils

        rich_utils.rich_format_error(exc)
        return exc.exit_code
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "tripwire"
        err.print(f"[red]error:[/] {escape(exc.format_message())} (see: {where} --help)",
                  highlight=False, soft_wrap=True)  # fmt: skip
        return exc.exit_code
    except ClickException as exc:
        err.print(f"[red]error:[/] {escape(exc.format_message())}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except Abort:
        err.print("interrupted")
        return 130
    except UserError as exc:
        if debug:
            traceback.print_exc()
        # escaped: a message naming a TOML table (`[[suites]]`) is not rich markup
        err.print(f"[red]{exc.label}:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except OSError as exc:
        if exc.filename is None:
            return _internal_error()
        # a file the system refused (a full disk, /dev/full as an output, a vanished folder):
        # the file and the reason, as for bad input
        if debug:
            traceback.print_exc()
        err.print(f"[red]error:[/] {escape(str(exc.filename))}: {escape(exc.strerror or str(exc))}",
                  highlight=False, soft_wrap=True)  # fmt: skip
        return 2
    except Exception:
        return _internal_error()
    return 0


def _internal_error() -> int:
    """A bug in tripwire, not a verdict (exit 1 would read as "block" in CI): the traceback,
    and one line saying what it is."""
    traceback.print_exc()
    err.print(f"[red]internal error:[/] tripwire {__version__} failed (a bug: the traceback "
              "above says where; please report it)", highlight=False, soft_wrap=True)  # fmt: skip
    return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
