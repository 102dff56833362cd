"""Every --json document has a shipped JSON Schema, and the documents commands write fit it (the
suite sets $TRIPWIRE_VALIDATE_JSON, so every test that writes --json checks its document)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer

from tests.support.cli import tripwire as run
from tripwire import schemas
from tripwire.cli import app


def _json_commands(command: Any, path: str) -> list[str]:  # a (typer-vendored) click command
    if hasattr(command, "commands"):
        return [n for name, sub in command.commands.items()
                for n in _json_commands(sub, f"{path} {name}")]  # fmt: skip
    has_json = any("--json" in getattr(p, "opts", ()) for p in command.params)
    return [schemas.schema_name(path)] if has_json else []


def test_every_command_with_json_output_ships_a_valid_schema() -> None:
    commands = _json_commands(typer.main.get_command(app), "tripwire")
    assert len(commands) > 20
    assert sorted(commands) == schemas.names()
    for name in commands:
        jsonschema.Draft202012Validator.check_schema(schemas.load(name))


def test_documents_fit_their_schema_and_a_broken_one_is_named(tmp_path: Path) -> None:
    samples = tmp_path / "s.jsonl"
    ids = ["py-add", "py-is-even", "py-max", "py-join", "js-add", "js-even"]
    samples.write_text("".join(json.dumps({"task_id": i, "completion": "  return 1\n"}) + "\n"
                               for i in ids))  # fmt: skip
    docs = {}
    for name in ("a", "b"):
        r = run("eval", "run", f"samples:{samples}", "--suite", "canaries", "--out",
                str(tmp_path / name), "--json", "-")  # fmt: skip
        assert r.returncode == 0, r.stderr  # validated on the way out
        docs[name] = json.loads(r.stdout)
    r = run("eval", "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json", "-")
    assert r.returncode in (0, 1), r.stderr
    schemas.validate("eval-compare", json.loads(r.stdout))
    schemas.validate("eval-run", docs["a"])
    broken = {k: v for k, v in docs["a"].items() if k != "findings"}
    with pytest.raises(ValueError, match=r"eval run.*'findings' is a required property"):
        schemas.validate("eval-run", broken)
    with pytest.raises(ValueError, match="at verdict"):
        schemas.validate("eval-run", {**docs["a"], "verdict": "regression"})


def test_registry_documents_keep_their_envelope(tiny_reference: Path) -> None:
    # a manifest's own command and time are renamed, not written over the envelope
    r = run("registry", "add", str(tiny_reference), "--json", "-")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["command"].startswith("tripwire registry add")
    assert "artifact_created_at" in doc and doc["manifest_schema_version"] >= 1
    r = run("registry", "show", doc["id"], "--json", "-")
    assert json.loads(r.stdout)["command"].startswith("tripwire registry show")
