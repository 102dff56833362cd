"""Demo stage 1 on the tiny reference model: broken, caught with the ids, repaired, passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tripwire.demo import StageContext
from tripwire.demo.tokens_stage import run


@pytest.mark.slow
def test_tokens_stage(tiny_reference: Path, tmp_path: Path) -> None:
    result = run(StageContext(reference=tiny_reference, workdir=tmp_path))
    assert result.ok, result.lines
    assert result.name == "tokens"
    losses = result.data["heldout_bits_per_byte"]
    assert losses["broken"] > losses["repaired"]
    assert losses["repaired"] <= losses["baseline"] * 1.05
    assert result.data["broken"]["audit"]["verdict"] == "block"
    assert result.data["repaired"]["audit"]["verdict"] != "block"
    assert [r[0] for r in result.rows] == ["baseline", "broken", "repaired"]
