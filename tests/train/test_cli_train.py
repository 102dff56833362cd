"""`tripwire train finetune` end to end: an aggressive narrow fine-tune of the tiny model is
reported as forgetting (exit 1); bad input is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tripwire.artifacts import ArtifactKind, Manifest
from tripwire.cli import main


@pytest.mark.slow
def test_aggressive_finetune_reports_forgetting(
    tiny_reference: Path, python_data: Path, tmp_path: Path
) -> None:
    out, report = tmp_path / "tuned", tmp_path / "report.json"
    code = main(
        [
            "train",
            "finetune",
            str(tiny_reference),
            "--data",
            str(python_data),
            "--out",
            str(out),
            "--lr",
            "1e-2",
            "--steps",
            "6",
            "--batch-size",
            "4",
            "--context",
            "64",
            "--warmup-steps",
            "1",
            "--decay",
            "constant",
            "--eval-chunks",
            "24",
            "--allow-unaudited",
            "--json",
            str(report),
        ]
    )
    data = json.loads(report.read_text())
    assert data["model"]["target_languages"] == ["python"]
    assert len(data["retention"]) == 5
    forgot = [f for f in data["findings"] if f["code"] == "train.forgetting"]
    assert forgot and all(f["evidence"]["slice"] != "python" for f in forgot)
    assert code == 1 and data["verdict"] == "block"
    assert Manifest.read(out).kind == ArtifactKind.MODEL


def test_tokenizer_mismatch_is_exit_2(
    tiny_reference: Path, python_data: Path, tmp_path: Path, capsys
) -> None:
    Manifest.build(python_data, ArtifactKind.DATASET, notes={"tokenizer_sha256": "0" * 64}).write(
        python_data
    )
    code = main(
        [
            "train",
            "finetune",
            str(tiny_reference),
            "--data",
            str(python_data),
            "--out",
            str(tmp_path / "tuned"),
            "--allow-unaudited",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "tokenizer stamp 000000000000 does not match" in err and len(err.splitlines()) <= 3
    assert not (tmp_path / "tuned").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # torch raised "Invalid learning rate: nan" as a traceback
        (["--lr", "nan"], "--learning-rate: must be a finite number > 0, got nan"),
        # trained to a model of nans, then reported as forgetting every language
        (["--regularizer", "ewc", "--ewc-lambda", "nan"], "--ewc-lambda: must be a finite"),
        (["--lwf-alpha", "inf"], "--lwf-alpha: must be a finite number >= 0, got inf"),
    ],
)
def test_non_finite_settings_are_refused(
    tiny_reference: Path, python_data: Path, tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    out = tmp_path / "tuned"
    code = main(["train", "finetune", str(tiny_reference), "--data", str(python_data),
                 "--out", str(out), "--steps", "2", "--allow-unaudited", *args])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and message in err, err
    assert not out.exists()


def test_an_output_that_cannot_be_written_is_refused_before_training(
    tiny_reference: Path, python_data: Path, tmp_path: Path, capsys
) -> None:
    """Was a traceback from mkdir once the data had been read and audited."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for out in (blocker / "tuned", Path("/proc/tripwire-tuned")):
        code = main(["train", "finetune", str(tiny_reference), "--data", str(python_data),
                     "--out", str(out), "--steps", "2", "--allow-unaudited"])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2 and err.startswith(f"error: {out}:"), err
        assert len(err.strip().splitlines()) == 1
