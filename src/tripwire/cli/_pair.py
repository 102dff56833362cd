"""BASELINE and CANDIDATE, positional or as --baseline/--candidate, on every command that compares
two things (gate, tokens audit/repair, eval compare/compare-models, eval review create).

One convention everywhere, both spellings accepted: ``tripwire gate A B``, ``tripwire gate
--baseline A --candidate B`` and ``tripwire tokens audit --candidate B A`` mean the same thing.
Positional values fill, in order, the roles not given as options.
"""

from __future__ import annotations

from typing import Any, TypeVar

import typer

from tripwire.errors import BadInputError

T = TypeVar("T")
ROLES = ("baseline", "candidate")


def argument(role: str, help: str) -> Any:  # a typer ArgumentInfo
    """The positional BASELINE or CANDIDATE (optional: the option may give it instead)."""
    return typer.Argument(None, metavar=role.upper(), show_default=False,
                          help=f"{help.rstrip('.')} (or --{role}).")  # fmt: skip


def option(role: str, help: str) -> Any:  # a typer OptionInfo
    """``--baseline`` / ``--candidate``, the same value as the positional one."""
    return typer.Option(
        None, f"--{role}", show_default=False, help=f"{help.rstrip('.')} (or {role.upper()})."
    )


def resolve(
    positional: tuple[T | None, T | None],
    baseline: T | None,
    candidate: T | None,
    *,
    candidate_required: bool = True,
) -> tuple[T, T | None]:
    """``(baseline, candidate)`` from both spellings; a missing or doubly given one is bad input."""
    given = [p for p in positional if p is not None]
    chosen: dict[str, T | None] = {"baseline": baseline, "candidate": candidate}
    for role in ROLES:
        if chosen[role] is None and given:
            chosen[role] = given.pop(0)
    if given:
        extra = ", ".join(map(str, given))
        raise BadInputError(
            "arguments", f"too many models or runs: {extra} (give BASELINE and CANDIDATE once, "
            "positionally or as --baseline/--candidate)",
        )  # fmt: skip
    if chosen["baseline"] is None:
        raise BadInputError("--baseline", "missing: give BASELINE as an argument or --baseline")
    if chosen["candidate"] is None and candidate_required:
        raise BadInputError("--candidate", "missing: give CANDIDATE as an argument or --candidate")
    return chosen["baseline"], chosen["candidate"]
