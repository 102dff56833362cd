"""The fine-tune's record in a model's manifest, read back typed (and a hand-edited or older note
does not crash the gate that reads it)."""

from __future__ import annotations

from pathlib import Path

from tripwire.artifacts import ArtifactKind, Manifest, TrainingRecord


def _manifest(tmp_path: Path, notes: dict) -> Manifest:
    (tmp_path / "config.json").write_text("{}")
    return Manifest.build(tmp_path, ArtifactKind.MODEL, name="m", notes=notes)


def test_the_record_reads_back_typed_and_keeps_the_whole_note(tmp_path: Path) -> None:
    note = {"config": {"steps": 3}, "base": {"id": "b" * 64, "path": "/base"},
            "data": {"path": "/d.jsonl", "id": "d" * 64, "records": 7,
                     "languages": {"python": 7}}, "last_task_loss": 1.5}  # fmt: skip
    record = TrainingRecord.of(_manifest(tmp_path, {"train": note}))
    assert record is not None and record.base_id == "b" * 64 and record.config == {"steps": 3}
    assert (record.data.path, record.data.records, record.data.languages) == (
        "/d.jsonl", 7, {"python": 7})  # fmt: skip
    assert record.to_note() == note


def test_no_record_and_odd_records(tmp_path: Path) -> None:
    assert TrainingRecord.of(_manifest(tmp_path, {})) is None
    odd = TrainingRecord.of(_manifest(tmp_path, {"train": {"data": "x", "base": None}}))
    assert odd is not None and odd.base_id is None and odd.data.path == ""
    assert odd.data.languages == {} and odd.config == {}
