"""The demo's monitor stage proves what it claims, without a model."""

from __future__ import annotations

from pathlib import Path

from tripwire.demo import StageContext
from tripwire.demo.monitor_stage import FAULTY, RELEASE_AT, monitor_stage


def test_monitor_stage(tmp_path: Path) -> None:
    result = monitor_stage(StageContext(tmp_path / "ref-unused", tmp_path / "work"))
    assert result.ok, result.lines
    assert result.data["alerts"][0]["slice"]["hardware"] == FAULTY
    assert abs(result.data["alerts"][0]["change_index"] - RELEASE_AT) <= 300
    assert result.to_dict()["table"]["rows"]
