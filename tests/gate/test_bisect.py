"""Registry release commands on a real lineage: mark-good, last-good, bisect, rollback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import tripwire
from tripwire.artifacts import ArtifactKind, Manifest, Registry, ensure_manifest
from tripwire.faults import perturb, reassign_ids

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("gate")]

POLICY = '[[suites]]\nname = "retention"\nmax_per_language = 20\n'
BAD_AT = 3


@pytest.fixture
def lineage(tiny_reference: Path, tmp_path: Path) -> list[Path]:
    """reference -> v1..v5, where v3 reassigned keyword ids (and v4, v5 inherit the fault)."""
    reg = Registry()
    parent_path, parent = tiny_reference, ensure_manifest(tiny_reference, ArtifactKind.MODEL)
    reg.register(parent, tiny_reference)
    out = [tiny_reference]
    for n in range(1, 6):
        dst = tmp_path / f"v{n}"
        if n == BAD_AT:
            reassign_ids(parent_path, dst, [" if", " for", " return"])
        else:
            perturb(parent_path, dst, scale=0.0005, seed=n)
        m = Manifest.build(dst, ArtifactKind.MODEL, name=f"v{n}", parents=[parent.id])
        m.write(dst)
        reg.register(m, dst)
        parent_path, parent = dst, m
        out.append(dst)
    return out


def test_bisect_finds_the_first_bad_version_and_rollback_names_the_good(
    lineage: list[Path], tmp_path: Path
) -> None:
    (tmp_path / "gate.toml").write_text(POLICY)
    r = tripwire("registry", "mark-good", str(lineage[0]), "--note", "released")
    assert r.returncode == 0, r.stderr
    r = tripwire("registry", "last-good", "--json", "-")
    assert json.loads(r.stdout)["last_good"]["path"] == str(lineage[0])
    r = tripwire(
        "registry", "bisect", "--good", str(lineage[0]), "--bad", "v5",
        "--policy", str(tmp_path / "gate.toml"), "--json", "-",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert [n["name"] for n in result["chain"]][1:] == ["v1", "v2", "v3", "v4", "v5"]
    assert result["first_bad"]["name"] == f"v{BAD_AT}"
    assert result["gate_runs"] <= 4  # log2 of the chain, plus the bad end
    verdicts = {n["name"]: n["verdict"] for n in result["chain"]}
    assert verdicts["v3"] == "block" and verdicts["v5"] == "block"
    assert verdicts["v2"] in ("pass", "warn")
    r = tripwire("registry", "rollback", "--note", "v3 broke keyword embeddings", "--json", "-")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["deploy"]["path"] == str(lineage[0])
    marks = [m.mark for m in Registry().marks()]
    assert marks == ["known-good", "rollback"]


def test_last_good_without_any_mark_exits_1() -> None:
    r = tripwire("registry", "last-good")
    assert r.returncode == 1 and "no version is marked known-good" in r.stderr


def test_bisect_refuses_versions_not_in_one_lineage(lineage: list[Path]) -> None:
    r = tripwire("registry", "bisect", "--good", "v4", "--bad", "v2")
    assert r.returncode == 2 and "not among its registered model ancestors" in r.stderr
