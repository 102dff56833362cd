from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tripwire.artifacts import (
    MANIFEST_NAME,
    ArtifactKind,
    Manifest,
    ensure_manifest,
    manifest_path,
    sha256_file,
)
from tripwire.errors import BadInputError


def test_reference_model_has_a_matching_manifest(tiny_reference: Path) -> None:
    m = Manifest.read(tiny_reference)
    assert m.kind is ArtifactKind.MODEL
    assert m.changed_files(tiny_reference) == []
    paths = {f.path for f in m.files}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= paths
    assert MANIFEST_NAME not in paths
    entry = next(f for f in m.files if f.path == "model.safetensors")
    assert entry.sha256 == sha256_file(tiny_reference / "model.safetensors")
    assert entry.size == (tiny_reference / "model.safetensors").stat().st_size


def test_id_is_content_addressed(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        (d / "x.txt").write_text("same")
    ma = Manifest.build(a, "dataset", command="x")
    mb = Manifest.build(b, "dataset", command="y", parents=["p"])
    assert ma.id == mb.id  # same bytes, same identity, whatever made them
    assert Manifest.build(a, "model").id != ma.id  # kind is part of identity
    (b / "x.txt").write_text("different")
    assert Manifest.build(b, "dataset").id != ma.id


def test_round_trip_and_change_detection(tmp_path: Path) -> None:
    d = tmp_path / "art"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "w.bin").write_bytes(b"\0\1\2")
    (d / "cfg.json").write_text("{}")
    m = Manifest.build(d, ArtifactKind.MODEL, parents=["abc"], notes={"k": [1, 2]}, command="cmd")
    m.write(d)
    back = Manifest.read(d)
    assert back == m
    assert back.changed_files(d) == []
    (d / "cfg.json").write_text('{"a": 1}')
    (d / "new.txt").write_text("n")
    (d / "sub" / "w.bin").unlink()
    assert back.changed_files(d) == ["cfg.json", "new.txt", "sub/w.bin"]
    fresh = ensure_manifest(d, "model")
    assert fresh.id != m.id and fresh.changed_files(d) == []


def test_file_artifact_manifest_sits_beside_it(tmp_path: Path) -> None:
    f = tmp_path / "train.jsonl"
    f.write_text('{"id": 1}\n')
    m = Manifest.build(f, "dataset")
    assert m.write(f) == tmp_path / "train.jsonl.tripwire.json"
    assert manifest_path(f) == tmp_path / "train.jsonl.tripwire.json"
    assert Manifest.read(f).id == m.id
    assert [e.path for e in m.files] == ["train.jsonl"]


def test_bad_manifests(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file"):
        Manifest.build(tmp_path / "nope", "model")
    with pytest.raises(BadInputError, match=r"has no tripwire\.json"):
        Manifest.read(tmp_path)
    (tmp_path / MANIFEST_NAME).write_text("{broken")
    with pytest.raises(BadInputError, match="unreadable manifest"):
        Manifest.read(tmp_path)
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"id": "x"}))
    with pytest.raises(BadInputError, match="not a tripwire manifest"):
        Manifest.read(tmp_path)


def test_copy_of_artifact_keeps_its_identity(tiny_reference: Path, tmp_path: Path) -> None:
    dst = tmp_path / "copy"
    shutil.copytree(tiny_reference, dst)
    assert ensure_manifest(dst, "model").id == Manifest.read(tiny_reference).id
