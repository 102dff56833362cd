"""Repair: the repaired checkpoint loads, no longer blocks, and holds the right rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tripwire.artifacts import ArtifactKind, Checkpoint, Manifest, ensure_manifest
from tripwire.errors import BadInputError
from tripwire.faults import frequent_tokens, reassign_ids
from tripwire.findings import Severity, Verdict
from tripwire.tokens import audit, repair

from .conftest import Variant

REPAIRABLE = [
    "ids_swapped", "ids_rotated", "added_random", "added_zero", "added_mean", "beyond_table",
    "special_swapped", "head_scrambled",
]  # fmt: skip


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(path / "model.safetensors")


def _repair_and_check(v: Variant, out: Path) -> Manifest:
    result = repair(v.baseline, v.path, out)
    report = audit(v.baseline, result.path)
    assert report.verdict is not Verdict.BLOCK, [
        (f.code, f.message) for f in report.findings if f.severity is Severity.BLOCK
    ]
    manifest = Manifest.read(result.path)
    assert manifest.kind is ArtifactKind.MODEL
    assert manifest.parents == (
        ensure_manifest(v.baseline, ArtifactKind.MODEL).id,
        ensure_manifest(v.path, ArtifactKind.MODEL).id,
    )
    assert manifest.changed_files(result.path) == []
    assert "repair" in manifest.notes
    Checkpoint.open(result.path).load_model()  # loadable by transformers
    return manifest


@pytest.mark.parametrize("name", REPAIRABLE)
def test_repair_tiny_zoo(tiny_zoo: dict[str, Variant], tmp_path: Path, name: str) -> None:
    _repair_and_check(tiny_zoo[name], tmp_path / "repaired")


@pytest.mark.parametrize("name", ["ids_rotated", "added_random", "special_swapped"])
def test_repair_minilm_zoo(minilm_zoo: dict[str, Variant], tmp_path: Path, name: str) -> None:
    _repair_and_check(minilm_zoo[name], tmp_path / "repaired")


def test_remap_repair_restores_the_baseline_table(
    tiny_zoo: dict[str, Variant], tmp_path: Path
) -> None:
    v = tiny_zoo["ids_rotated"]
    manifest = _repair_and_check(v, tmp_path / "r")
    base, fixed = _weights(v.baseline), _weights(tmp_path / "r")
    cand_tok = json.loads((v.path / "tokenizer.json").read_text())["model"]["vocab"]
    base_tok = json.loads((v.baseline / "tokenizer.json").read_text())["model"]["vocab"]
    wte = "transformer.wte.weight"
    for s, cid in cand_tok.items():
        assert torch.equal(fixed[wte][cid], base[wte][base_tok[s]])
    assert "lm_head.weight" not in fixed  # the tie stays a tie
    copied = manifest.notes["repair"]["input"]["copied"]
    assert sorted(c["id"] for c in copied) == list(v.token_ids)


def test_new_tokens_start_from_their_pieces(tiny_zoo: dict[str, Variant], tmp_path: Path) -> None:
    v = tiny_zoo["added_random"]
    manifest = _repair_and_check(v, tmp_path / "r")
    synth = {e["token"]: e for e in manifest.notes["repair"]["input"]["synthesised"]}
    assert synth["self."]["piece_tokens"] == ["self", "."]
    base, fixed = _weights(v.baseline), _weights(tmp_path / "r")
    wte = "transformer.wte.weight"
    for entry in synth.values():
        want = base[wte][entry["pieces"]].mean(0)
        assert torch.allclose(fixed[wte][entry["id"]], want)


def test_untied_head_is_repaired_apart(tiny_zoo: dict[str, Variant], tmp_path: Path) -> None:
    v = tiny_zoo["head_scrambled"]
    _repair_and_check(v, tmp_path / "r")
    base, fixed = _weights(v.baseline), _weights(tmp_path / "r")
    assert torch.equal(fixed["lm_head.weight"], base["lm_head.weight"])
    assert torch.equal(fixed["transformer.wte.weight"], base["transformer.wte.weight"])
    assert json.loads((tmp_path / "r" / "config.json").read_text())["tie_word_embeddings"] is False


def test_config_follows_the_candidate_tokenizer(
    tiny_zoo: dict[str, Variant], tmp_path: Path
) -> None:
    grown = repair(tiny_zoo["beyond_table"].baseline, tiny_zoo["beyond_table"].path, tmp_path / "g")
    config = json.loads((grown.path / "config.json").read_text())
    assert config["vocab_size"] == max(tiny_zoo["beyond_table"].token_ids) + 1
    swapped = repair(
        tiny_zoo["special_swapped"].baseline, tiny_zoo["special_swapped"].path, tmp_path / "s"
    )
    config = json.loads((swapped.path / "config.json").read_text())
    assert (config["eos_token_id"], config["pad_token_id"]) == (1, 0)


def test_normalizer_change_is_not_repairable(tiny_zoo: dict[str, Variant], tmp_path: Path) -> None:
    v = tiny_zoo["normalizer_changed"]
    result = repair(v.baseline, v.path, tmp_path / "r")
    assert result.plan["not_repaired"] == ["tokens.normalizer_changed"]
    assert audit(v.baseline, result.path).verdict is Verdict.BLOCK


def test_repair_brings_probe_loss_back(tiny_reference: Path, tmp_path: Path) -> None:
    """A remap of the 60 most frequent tokens wrecks the probe loss; the repair restores it."""
    fault = reassign_ids(tiny_reference, tmp_path / "broken", frequent_tokens(tiny_reference, 60))
    before = audit(tiny_reference, fault.path, functional=True).find("tokens.functional_loss")
    assert before is not None and before.evidence["ratio"] > 1.2
    assert before.severity is Severity.BLOCK
    fixed = repair(tiny_reference, fault.path, tmp_path / "fixed")
    after = audit(tiny_reference, fixed.path, functional=True)
    assert after.verdict is Verdict.PASS
    assert after.find("tokens.functional_loss").evidence["ratio"] == pytest.approx(1.0, abs=1e-6)


def test_repair_refuses_bad_outputs(
    tiny_zoo: dict[str, Variant], minilm_checkpoint: Path, tmp_path: Path
) -> None:
    v = tiny_zoo["ids_swapped"]
    with pytest.raises(BadInputError):
        repair(v.baseline, v.path, v.path)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    with pytest.raises(BadInputError):
        repair(v.baseline, v.path, occupied)
    assert sorted(p.name for p in occupied.iterdir()) == ["notes.txt"]
    with pytest.raises(BadInputError, match="width"):
        repair(minilm_checkpoint, v.path, tmp_path / "mixed")
    assert not (tmp_path / "mixed").exists()
