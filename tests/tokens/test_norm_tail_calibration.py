"""Single-model mode on a vocabulary with nothing known to be untrained: the rows at either end
of the norm distribution calibrate the search when they form a distinct, alike group, and
nothing is claimed when neither end does. Checked on a real pretrained BERT with its labels
hidden from the search, on planted groups, and on tables with no untrained group at all."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from tripwire.artifacts import Checkpoint
from tripwire.cli import main
from tripwire.tokens import audit_model
from tripwire.tokens._calibration import never_utf8_bytes, unreachable_ids
from tripwire.tokens._vocab import TokenizerView

_TABLE = "transformer.wte.weight"


def _copy(tiny: Path, out: Path, *, rename_reserved: bool = False) -> tuple[TokenizerView, dict]:
    shutil.copytree(tiny, out, ignore=shutil.ignore_patterns("tripwire.json"))
    if rename_reserved:
        for name in ("tokenizer.json", "tokenizer_config.json"):
            path = out / name
            path.write_text(path.read_text(encoding="utf-8").replace("reserved", "tool"))
    return TokenizerView.load(Checkpoint.open(out)), load_file(out / "model.safetensors")


def _save(out: Path, tensors: dict) -> None:
    save_file(tensors, out / "model.safetensors", metadata={"format": "pt"})
    cfg = json.loads((out / "config.json").read_text())
    cfg["vocab_size"] = tensors[_TABLE].shape[0]
    (out / "config.json").write_text(json.dumps(cfg))


def test_a_real_bert_s_untrained_rows_are_found_without_being_told(minilm_checkpoint) -> None:
    """all-MiniLM-L6-v2's 994 [unusedN] rows and its 337 unreachable ``##`` pieces are known to
    be untrained; the norm-tail search is not told which they are. Measured: 1,460 flagged,
    precision 0.89, recall 0.97 (told the [unusedN] rows: 546 more beside them)."""
    report = audit_model(minilm_checkpoint, calibrate="norm-tail")
    seed = report.find("tokens.norm_tail_rows")
    assert seed is not None and seed.evidence["tail"] == "least"
    assert seed.evidence["calibration"] == "norm_tail"
    flagged = set(report.find("tokens.undertrained_tokens").token_ids)
    tok = TokenizerView.load(Checkpoint.open(minilm_checkpoint))
    known = set(tok.reserved_ids()) | set(unreachable_ids(tok))
    assert len(flagged & known) / len(flagged) >= 0.85
    assert len(flagged & known) / len(known) >= 0.95
    # auto still prefers what is known: the [unusedN] rows
    assert audit_model(minilm_checkpoint).find("tokens.reserved_rows") is not None


def test_a_greatest_norm_group_is_found(tiny_reference, tmp_path) -> None:
    """Rows pushed out along one direction (what the output softmax does to rows it only ever
    lowers): the greatest-norm end is taken, and it is these rows that are flagged."""
    out = tmp_path / "m"
    tok, tensors = _copy(tiny_reference, out)
    table = tensors[_TABLE]
    planted = [tok.pieces(s)[0] for s in (" while", " import", " return", " class", " def")]
    planted += list(range(600, 610))
    gen = torch.Generator().manual_seed(1)
    direction = torch.nn.functional.normalize(torch.randn(table.shape[1], generator=gen), dim=0)
    scale = 2.5 * float(table.norm(dim=1).median())
    for i in planted:
        noise = torch.randn(table.shape[1], generator=gen) * table.std(0)
        table[i] = scale * direction + 0.5 * noise
    _save(out, tensors)
    report = audit_model(out, calibrate="norm-tail")
    seed = report.find("tokens.norm_tail_rows")
    assert seed is not None and seed.evidence["tail"] == "greatest"
    flagged = report.find("tokens.undertrained_tokens")
    assert set(planted) <= set(flagged.token_ids)
    assert len(flagged.token_ids) <= 2 * len(planted)
    assert flagged.severity == "warn"  # " while" and " import" are in the probe corpus


@pytest.mark.parametrize("table", ["gaussian", "tiny"])
def test_no_distinct_group_no_claim(tiny_reference, tmp_path, table: str) -> None:
    """A table of independent rows has no untrained group; the tiny reference's untrained rows
    (the bytes no UTF-8 text contains) sit in its greatest-norm end among trained rows, not as
    a group of their own. Either way the search says so and flags nothing."""
    out = tmp_path / "m"
    _, tensors = _copy(tiny_reference, out)
    if table == "gaussian":
        gen = torch.Generator().manual_seed(2)
        tensors[_TABLE] = 0.02 * torch.randn(tensors[_TABLE].shape, generator=gen)
        _save(out, tensors)
    report = audit_model(out, calibrate="norm-tail")
    assert report.find("tokens.undertrained_tokens") is None
    skipped = report.find("tokens.undertrained_skipped")
    assert skipped is not None and "neither end is a distinct group" in skipped.message
    assert set(skipped.evidence["tails"]) == {"least", "greatest"}


def test_rows_past_the_vocabulary_calibrate_before_unreachable_tokens(
    tiny_reference, tmp_path
) -> None:
    """A table padded past the tokenizer (to a multiple of 64, as many are): nothing ever selects
    those rows, so they are the yardstick when there are no reserved tokens."""
    out = tmp_path / "m"
    tok, tensors = _copy(tiny_reference, out, rename_reserved=True)
    table = tensors[_TABLE]
    untrained = table[never_utf8_bytes(tok)]
    gen = torch.Generator().manual_seed(3)
    pad = untrained[torch.arange(64) % len(untrained)]
    pad = pad + 0.05 * untrained.std(0) * torch.randn(pad.shape, generator=gen)
    tensors[_TABLE] = torch.cat([table, pad])
    _save(out, tensors)
    report = audit_model(out)
    calibration = report.find("tokens.beyond_vocabulary_rows")
    assert calibration is not None
    assert calibration.token_ids == list(range(table.shape[0], table.shape[0] + 64))
    flagged = report.find("tokens.undertrained_tokens")
    # the never-UTF-8 byte rows they were drawn like are found; no padding row is a "token"
    assert set(never_utf8_bytes(tok)) <= set(flagged.token_ids)
    assert max(flagged.token_ids) < table.shape[0]


def test_the_cli_takes_a_calibration_and_refuses_nonsense(tiny_reference, tmp_path, capsys):
    model = str(tiny_reference)
    path = tmp_path / "a.json"
    args = ["tokens", "audit", model, "--calibrate", "norm-tail", "--json", str(path)]
    assert main(args) == 0
    codes = {f["code"] for f in json.loads(path.read_text())["findings"]}
    assert "tokens.undertrained_skipped" in codes and "tokens.reserved_rows" not in codes
    capsys.readouterr()
    assert main(["tokens", "audit", model, "--calibrate", "median"]) == 2
    assert "--calibrate" in capsys.readouterr().err
    assert main(["tokens", "audit", model, model, "--calibrate", "reserved"]) == 2
    assert "single-model" in capsys.readouterr().err
