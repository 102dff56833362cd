"""A fine-tune whose loss diverges stops at the step it happens: one line blaming --lr, exit 2,
and nothing written or registered (it saved and registered an all-NaN model, then blamed a cache
file of the evaluation that followed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tripwire.artifacts import Registry
from tripwire.cli import main


def test_a_learning_rate_that_diverges_stops_the_run(
    tiny_reference: Path, python_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tuned"
    # step 1 is finite; its update at lr 1e30 makes every weight inf, so step 2's loss is NaN
    code = main(["train", "finetune", str(tiny_reference), "--data", str(python_data),
                 "--out", str(out), "--steps", "2", "--batch-size", "2", "--context", "64",
                 "--warmup-steps", "0", "--lr", "1e30", "--allow-unaudited"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.strip().splitlines()[-1] == (
        "error: --lr 1e+30: the loss became NaN at step 2 (training diverged; try a lower --lr)"
    )
    assert not out.exists()
    assert Registry().list() == []
