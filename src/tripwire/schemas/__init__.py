"""JSON Schemas of every ``--json`` document, one file per command (``gate.schema.json``,
``eval-compare.schema.json``, ...), shipped with the package for other tools to validate against.

With ``$TRIPWIRE_VALIDATE_JSON`` set (the test suite sets it), every document a command writes
is checked against its schema first, so a key that goes away or changes type fails the tests
instead of a user's pipeline.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

ENVELOPE = ("schema_version", "tripwire_version", "command", "created_at")


def schema_name(command_path: str) -> str:
    """``tripwire eval compare`` -> ``eval-compare``."""
    return "-".join(command_path.split()[1:])


def names() -> list[str]:
    """Every shipped schema's name."""
    files = resources.files(__package__).iterdir()
    return sorted(f.name.removesuffix(".schema.json") for f in files
                  if f.name.endswith(".schema.json"))  # fmt: skip


@cache
def load(name: str) -> dict[str, Any]:
    """The schema of command ``name`` (KeyError when none ships)."""
    path = resources.files(__package__) / f"{name}.schema.json"
    if not path.is_file():
        raise KeyError(f"no JSON Schema ships for `tripwire {name.replace('-', ' ')}` --json")
    return json.loads(path.read_text(encoding="utf-8"))


def validate(name: str, document: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first place ``document`` breaks schema ``name``."""
    import jsonschema  # only where validation is asked for (tests, tools)

    validator = jsonschema.Draft202012Validator(load(name))
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(map(str, error.absolute_path)) or "(top level)"
        message = error.message
        if error.context:  # anyOf/oneOf: say what each alternative missed, not only that all did
            message = "none of its shapes fits: " + "; or ".join(
                dict.fromkeys(e.message for e in error.context)
            )
        raise ValueError(f"--json of `tripwire {name.replace('-', ' ')}` breaks its schema at "
                         f"{where}: {message}")  # fmt: skip
