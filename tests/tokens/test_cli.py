"""`tripwire tokens audit|repair` through the real command line entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tripwire.artifacts import ArtifactKind, Registry, ensure_manifest
from tripwire.cli import main
from tripwire.faults import copy_checkpoint

from .conftest import Variant


def test_audit_exit_codes_and_json_contract(
    tiny_zoo: dict[str, Variant], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ok, bad = tiny_zoo["identical"], tiny_zoo["ids_swapped"]
    assert main(["tokens", "audit", str(ok.baseline), str(ok.path)]) == 0
    out = tmp_path / "audit.json"
    assert main(["tokens", "audit", str(bad.baseline), str(bad.path), "--json", str(out)]) == 1
    data = json.loads(out.read_text())
    assert data["verdict"] == "block"
    assert {"code", "severity", "message", "token_ids"} <= set(data["findings"][0])
    remap = next(f for f in data["findings"] if f["code"] == "tokens.rows_remapped")
    assert remap["token_ids"] == list(bad.token_ids)
    capsys.readouterr()
    assert main(["tokens", "audit", str(bad.baseline), str(bad.path), "--json", "-"]) == 1
    assert json.loads(capsys.readouterr().out)["verdict"] == "block"


def test_audit_warn_exits_zero(tiny_zoo: dict[str, Variant]) -> None:
    v = tiny_zoo["added_mean"]
    assert main(["tokens", "audit", str(v.baseline), str(v.path)]) == 0


def test_bad_input_exits_two_and_writes_nothing(
    tiny_zoo: dict[str, Variant], tmp_path: Path
) -> None:
    v = tiny_zoo["identical"]
    out = tmp_path / "audit.json"
    assert (
        main(["tokens", "audit", str(v.baseline), str(tmp_path / "nope"), "--json", str(out)]) == 2
    )
    assert not out.exists()
    missing = tmp_path / "missing.py"
    args = ["tokens", "audit", str(v.baseline), str(v.path), "--corpus", str(missing)]
    assert main(args) == 2
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01binary")
    args[-1] = str(tmp_path / "blob.bin")
    assert main(args) == 2
    broken = copy_checkpoint(v.path, tmp_path / "broken")
    (broken / "tokenizer.json").write_text("{", encoding="utf-8")
    assert main(["tokens", "audit", str(v.baseline), str(broken)]) == 2


def test_corpus_files_join_the_probe(tiny_zoo: dict[str, Variant], tmp_path: Path) -> None:
    v = tiny_zoo["identical"]
    extra = tmp_path / "extra.lua"
    extra.write_text("local function add(a, b)\n  return a + b\nend\n", encoding="utf-8")
    out = tmp_path / "a.json"
    args = ["tokens", "audit", str(v.baseline), str(v.path), "--corpus", str(extra)]
    assert main([*args, "--json", str(out)]) == 0
    seg = next(
        f
        for f in json.loads(out.read_text())["findings"]
        if f["code"] == "tokens.segmentation_changed"
    )
    assert "lua" in seg["evidence"]["per_language"]


def test_single_model_mode(minilm_checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "single.json"
    assert main(["tokens", "audit", str(minilm_checkpoint), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["mode"] == "single"
    codes = {f["code"] for f in data["findings"]}
    assert {"tokens.reserved_rows", "tokens.undertrained_tokens"} <= codes


def test_repair_writes_registers_and_reaudits(tiny_zoo: dict[str, Variant], tmp_path: Path) -> None:
    v = tiny_zoo["ids_rotated"]
    out_dir, report = tmp_path / "fixed", tmp_path / "repair.json"
    args = ["tokens", "repair", str(v.baseline), str(v.path), "--out", str(out_dir)]
    assert main([*args, "--json", str(report)]) == 0
    data = json.loads(report.read_text())
    assert data["verdict"] == "pass"
    assert data["repaired"]["rows_copied"] == len(v.token_ids)
    registry = Registry()
    stored = registry.get(data["repaired"]["id"])
    assert stored.manifest.parents == (
        ensure_manifest(v.baseline, ArtifactKind.MODEL).id,
        ensure_manifest(v.path, ArtifactKind.MODEL).id,
    )
    assert registry.parents(stored.id) and stored.path == str(out_dir.resolve())


def test_repair_that_cannot_fix_exits_one(tiny_zoo: dict[str, Variant], tmp_path: Path) -> None:
    v = tiny_zoo["normalizer_changed"]
    args = ["tokens", "repair", str(v.baseline), str(v.path), "--out", str(tmp_path / "r")]
    assert main(args) == 1


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in ("audit", "repair"):
        assert main(["tokens", cmd, "--help"]) == 0
        assert "Example: tripwire tokens" in capsys.readouterr().out
