"""`monitor replay` and `monitor triage` given a JSON integer past Python's digit limit (4,300
digits): `json.loads` raises a plain ValueError there, which both let through as exit 4."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tripwire.cli import main

BIG = "9" * 5000


def test_replay_names_the_line_of_a_number_too_long_to_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = (
        '{"model_version":"v1","deployment":"d","hardware":"h","route":"r","completion":"x",'
        f'"prompt_hash":"p","latency_ms":1,"prompt_tokens":{BIG},"completion_tokens":1}}'
    )
    path = tmp_path / "events.jsonl"
    path.write_text(event + "\n", encoding="utf-8")
    out = tmp_path / "replay.json"
    code = main(["monitor", "replay", str(path), "--json", str(out), "--warmup", "50"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.strip() == f"error: {path}:1: JSON number too long to read"
    assert not out.exists()


def test_triage_marks_a_number_too_long_to_read_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "reports.jsonl"
    path.write_text(f'{{"text": "x", "n": {BIG}}}\n{{"text": "it crashes"}}\n', encoding="utf-8")
    out = tmp_path / "triage.json"
    code = main(["monitor", "triage", str(path), "--engine", "rules", "--json", str(out)])
    assert code == 0, capsys.readouterr().err
    first, second = json.loads(out.read_text())["results"]
    assert first["category"] == "other"
    assert "JSON number too long to read" in first["reason"], first
    assert second["reason"] is None, second
