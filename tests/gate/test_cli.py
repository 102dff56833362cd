"""`tripwire gate` and the registry's release commands, end to end through the CLI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support.cli import tripwire

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("gate")]

POLICY = (
    '[[suites]]\nname = "retention"\nmax_per_language = 30\nmargins = { bits_per_byte = "5%" }\n'
)


def test_gate_writes_every_ci_output_and_exits_1_on_block(
    tiny_reference: Path, candidates: dict, tmp_path: Path
) -> None:
    (tmp_path / "gate.toml").write_text(POLICY)
    outs = {k: tmp_path / f"gate.{k}" for k in ("json", "xml", "md", "html")}
    r = tripwire(
        "gate", "--baseline", str(tiny_reference), "--candidate", str(candidates["ids_rotated"]),
        "--policy", str(tmp_path / "gate.toml"), "--json", str(outs["json"]),
        "--junit", str(outs["xml"]), "--markdown", str(outs["md"]), "--report", str(outs["html"]),
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    assert "BLOCK" in r.stdout and "tripwire tokens repair" in r.stdout
    d = json.loads(outs["json"].read_text())
    assert d["verdict"] == "block" and d["root_cause"]["source"] == "tokens"
    suite = ET.fromstring(outs["xml"].read_text())
    failures = suite.findall(".//failure")
    assert failures and any("rows_remapped" in (f.get("message") or "") + (f.text or "")
                            for f in failures)  # fmt: skip
    md = outs["md"].read_text()
    assert "block" in md.lower() and "tripwire tokens repair" in md
    html = outs["html"].read_text()
    assert "<svg" in html and "rows_remapped" in html


def test_clean_pair_exits_0(tiny_reference: Path, candidates: dict, tmp_path: Path) -> None:
    (tmp_path / "gate.toml").write_text(POLICY)
    r = tripwire(
        "gate", "--baseline", str(tiny_reference), "--candidate", str(candidates["identical"]),
        "--policy", str(tmp_path / "gate.toml"), "--json", "-",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["verdict"] in ("pass", "warn")


@pytest.mark.parametrize(
    ("policy", "problem"),
    [("alpha = 7", "alpha must be between 0 and 1"), ("alpha = [", "not valid TOML")],
)
def test_bad_policy_is_one_line_exit_2_and_writes_nothing(
    tiny_reference: Path, tmp_path: Path, policy: str, problem: str
) -> None:
    (tmp_path / "gate.toml").write_text(policy)
    r = tripwire(
        "gate", "--baseline", str(tiny_reference), "--candidate", str(tiny_reference),
        "--policy", str(tmp_path / "gate.toml"), "--json", str(tmp_path / "out.json"),
        "--report", str(tmp_path / "out.html"),
    )  # fmt: skip
    assert r.returncode == 2
    assert problem in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.json").exists() and not (tmp_path / "out.html").exists()


def test_missing_candidate_is_bad_input(tiny_reference: Path, tmp_path: Path) -> None:
    r = tripwire("gate", "--baseline", str(tiny_reference), "--candidate", str(tmp_path / "no"))
    assert r.returncode == 2 and "not a model directory" in r.stderr
