"""The gate on real fault-injected pairs: each incident bug blocked with its root cause and
remedy, clean candidates passed, results cached by artifact hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gate.conftest import TEST_POLICY
from tripwire.artifacts import Registry, cache_dir
from tripwire.findings import Outcome
from tripwire.gate import GateResult, SuiteOutcome, gate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("gate")]


@pytest.mark.parametrize("name", ["identical", "clean_finetune"])
def test_clean_candidates_pass(tiny_reference: Path, candidates: dict, name: str) -> None:
    result = gate(tiny_reference, candidates[name], policy=TEST_POLICY)
    d = result.to_dict()
    assert d["verdict"] != "block", d["findings"]
    assert result.exit_code == 0
    assert "tokens" not in d["checks_run"]  # the tokenizer did not change
    assert d["evals"][0]["suite"] == "retention"
    assert {s["slice"] for s in d["evals"][0]["slices"]} >= {"all", "language=python"}


def test_tokenizer_update_without_remap_is_blocked_by_tokens(
    tiny_reference: Path, candidates: dict
) -> None:
    d = gate(tiny_reference, candidates["ids_rotated"], policy=TEST_POLICY).to_dict()
    assert d["verdict"] == "block" and d["exit_code"] == 1
    assert [c["component"] for c in d["lineage"]["changes"]] == ["tokenizer"]
    assert "tokens" in d["checks_run"]
    rc = d["root_cause"]
    assert rc["source"] == "tokens" and rc["code"] == "tokens.rows_remapped"
    assert rc["remedy"].startswith("tripwire tokens repair ")
    assert str(candidates["ids_rotated"]) in rc["remedy"]


def test_training_on_a_broken_set_is_blocked_by_data(
    tiny_reference: Path, candidates: dict
) -> None:
    d = gate(tiny_reference, candidates["bad_data"], policy=TEST_POLICY).to_dict()
    assert d["verdict"] == "block"
    assert {"training_data", "training_config", "weights"} <= {
        c["component"] for c in d["lineage"]["changes"]
    }
    assert "data" in d["checks_run"]
    rc = d["root_cause"]
    assert rc["source"] == "data", rc
    assert rc["remedy"].startswith("tripwire data audit ") and "--clean" in rc["remedy"]
    quality = next(f for f in d["findings"] if f["code"] == "data.quality")
    assert quality["evidence"]["bad_fraction"] > 0.2
    assert d["data_audit"]["summary"]["records"] > 100
    assert GateResult.from_dict(d).to_dict() == d  # the typed result reads back whole


def test_narrow_fine_tune_is_blocked_for_forgetting(tiny_reference: Path, candidates: dict) -> None:
    d = gate(tiny_reference, candidates["narrow"], policy=TEST_POLICY).to_dict()
    assert d["verdict"] == "block"
    rc = d["root_cause"]
    assert rc["source"] == "eval" and rc["code"] == "eval.regression"
    forgotten = rc["evidence"]["slice"].partition("=")[2]
    assert forgotten and forgotten != "python"
    assert "forgetting" in rc["remedy"] and "--regularizer" in rc["remedy"]
    regressed = {s["slice"] for e in d["evals"] for s in e["slices"] if s["status"] == "regressed"}
    assert f"language={forgotten}" in regressed
    assert "language=python" not in regressed  # the trained language improved
    back = GateResult.from_dict(d)
    assert back.to_dict() == d and all(isinstance(o, SuiteOutcome) for o in back.evals)
    assert {c.label for o in back.evals for c in o.slices if c.status is Outcome.REGRESSED} == {
        f"{s['metric']}@{s['slice']}" for e in d["evals"] for s in e["slices"]
        if s["status"] == "regressed"
    }  # fmt: skip


def test_second_gate_of_an_unchanged_pair_is_cached(tiny_reference: Path, candidates: dict) -> None:
    first = gate(tiny_reference, candidates["identical"], policy=TEST_POLICY, use_cache=False)
    again = gate(tiny_reference, candidates["identical"], policy=TEST_POLICY)
    assert not first.cached and again.cached
    assert again.to_dict()["evals"] == first.to_dict()["evals"]
    assert again.evals == first.evals and again.findings == first.findings  # typed, not dicts
    # a cache file cut short (a crash mid-write elsewhere, a disk filling up) is a miss
    written = max((cache_dir() / "gate").glob("*.json"), key=lambda p: p.stat().st_mtime)
    written.write_text(written.read_text()[:100])
    redone = gate(tiny_reference, candidates["identical"], policy=TEST_POLICY)
    assert not redone.cached and redone.verdict == first.verdict
    assert again.seconds < first.seconds


def test_registry_lineage_names_the_parents(tiny_reference: Path, candidates: dict) -> None:
    reg = Registry()
    from tripwire.artifacts import ArtifactKind, ensure_manifest

    for p in (tiny_reference, candidates["ids_rotated"]):
        reg.register(ensure_manifest(p, ArtifactKind.MODEL), p)
    d = gate(tiny_reference, candidates["ids_rotated"], policy=TEST_POLICY, registry=reg).to_dict()
    roles = {n["role"] for n in d["lineage"]["nodes"]}
    assert {"baseline", "candidate"} <= roles
    assert [d["baseline"]["id"], d["candidate"]["id"]] in d["lineage"]["edges"]


def test_a_byte_identical_copy_reuses_the_baseline_run(
    tiny_reference: Path, candidates: dict
) -> None:
    """Runs are keyed by content: a copy in another folder, under another name, is the same
    model, so the gate scores it once (one run directory for both sides)."""
    copy = candidates["identical"]
    d = gate(tiny_reference, copy, policy=TEST_POLICY, use_cache=False).to_dict()
    assert d["lineage"]["changes"] == [] and d["candidate"]["id"] == d["baseline"]["id"]
    assert d["candidate"]["name"] != d["baseline"]["name"]
    (suite,) = d["evals"]
    assert suite["baseline_run"] == suite["candidate_run"]


def test_a_cached_verdict_names_this_runs_folders(
    tiny_reference: Path, candidates: dict, tmp_path: Path
) -> None:
    """The cache is keyed by content: a byte-identical copy elsewhere reuses the verdict, but
    its remedy must repair the copy, not the folder the verdict was first made for (it named
    the first folder, which may be gone)."""
    import shutil

    first = gate(tiny_reference, candidates["ids_rotated"], policy=TEST_POLICY)
    copy = shutil.copytree(candidates["ids_rotated"], tmp_path / "rotated-copy")
    again = gate(tiny_reference, copy, policy=TEST_POLICY)
    assert again.cached and again.verdict == first.verdict
    assert again.root_cause is not None and first.root_cause is not None
    assert again.root_cause.code == first.root_cause.code
    assert str(copy) in again.root_cause.remedy
    assert str(candidates["ids_rotated"]) not in again.root_cause.remedy
    assert again.candidate["path"] == str(copy)
