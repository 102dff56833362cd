"""Single-model mode on a vocabulary without reserved tokens: calibrated on the tokens the
tokenizer can never produce (Magikarp: tokens no text encodes to, and in a byte-level vocabulary
the bytes no UTF-8 text contains), it finds rows that look as untrained as they do."""

from __future__ import annotations

import json
import shutil
import statistics
from collections import Counter
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from tripwire.artifacts import Checkpoint
from tripwire.cli import main
from tripwire.tokens import audit_model
from tripwire.tokens._calibration import never_utf8_bytes, unreachable_ids
from tripwire.tokens._vocab import TokenizerView

# Letters glued to punctuation: the byte-level pre-tokenizer always splits them apart, so no
# text can produce these as one token.
UNREACHABLE = ["a(", "e)", "x;", "s{", "t]", "n,", "r:", "o}", "i[", "l)", "d;", "m("]


def _plant(
    tiny: Path, out: Path, untrained_reachable: list[str], unreachable: list[str] = UNREACHABLE
) -> tuple[list[int], list[int]]:
    """A copy of ``tiny`` with no reserved tokens (renamed), the ``unreachable`` strings added to
    its BPE vocabulary with merges, and those rows and the rows of ``untrained_reachable``
    (existing tokens) drawn like this model's own never-trained rows (the bytes no UTF-8 text
    contains)."""
    shutil.copytree(tiny, out, ignore=shutil.ignore_patterns("tripwire.json"))
    text = (out / "tokenizer.json").read_text(encoding="utf-8")
    raw = json.loads(text.replace("<|reserved_", "<|tool_"))
    vocab = raw["model"]["vocab"]
    first = 1 + max(max(vocab.values()), max(a["id"] for a in raw["added_tokens"]))
    new_ids = list(range(first, first + len(unreachable)))
    merges = raw["model"]["merges"]
    for i, s in zip(new_ids, unreachable, strict=True):
        vocab[s] = i
        merges.append([s[0], s[1]] if merges and isinstance(merges[0], list) else f"{s[0]} {s[1]}")
    (out / "tokenizer.json").write_text(json.dumps(raw), encoding="utf-8")
    cfg_path = out / "tokenizer_config.json"
    cfg_path.write_text(cfg_path.read_text().replace("reserved", "tool"))
    tok = TokenizerView.load(Checkpoint.open(out))
    planted = [tok.pieces(s)[0] for s in untrained_reachable]
    assert all(len(tok.pieces(s)) == 1 for s in untrained_reachable)
    tensors = load_file(out / "model.safetensors")
    table = tensors["transformer.wte.weight"]
    gen = torch.Generator().manual_seed(0)
    grown = torch.cat([table, torch.zeros(len(new_ids), table.shape[1])])
    # like this model's own never-trained rows (those of the bytes no UTF-8 text contains): each
    # one of them, slightly moved. A row drawn independently from their spread would score below
    # the least alike of them about once in len(untrained) + 1 draws, whatever the detector does
    untrained = table[never_utf8_bytes(tok)]
    for k, i in enumerate([*new_ids, *planted]):
        noise = torch.randn(table.shape[1], generator=gen)
        grown[i] = untrained[k % len(untrained)] + 0.05 * untrained.std(0) * noise
    tensors["transformer.wte.weight"] = grown
    save_file(tensors, out / "model.safetensors", metadata={"format": "pt"})
    cfg = json.loads((out / "config.json").read_text())
    cfg["vocab_size"] = grown.shape[0]
    (out / "config.json").write_text(json.dumps(cfg))
    return new_ids, planted


def test_unreachable_tokens_are_found(tiny_reference, tmp_path) -> None:
    new_ids, _ = _plant(tiny_reference, tmp_path / "m", [])
    tok = TokenizerView.load(Checkpoint.open(tmp_path / "m"))
    found = unreachable_ids(tok)
    assert set(new_ids) <= set(found)
    # and the 13 byte tokens no UTF-8 text contains (the byte-level alphabet keeps all 256)
    never = never_utf8_bytes(tok)
    assert len(never) == 13 and set(never) <= set(found)
    # the trained vocabulary itself is reachable: nothing else is reported
    assert len(set(found) - set(new_ids) - set(never)) <= 2


def test_calibrated_on_unreachable_rows_it_finds_untrained_reachable_tokens(
    tiny_reference, tmp_path
) -> None:
    # " while" and " import" occur in the probe corpus: rows that look untrained there warn
    new_ids, planted = _plant(tiny_reference, tmp_path / "m", [" while", " import"])
    report = audit_model(tmp_path / "m")
    calibration = report.find("tokens.unreachable_rows")
    assert calibration is not None and set(calibration.token_ids) >= set(new_ids)
    assert calibration.evidence["calibration"] == "unreachable"
    flagged = report.find("tokens.undertrained_tokens")
    assert flagged is not None and set(planted) <= set(flagged.token_ids)
    assert flagged.severity == "warn"
    _rarely_trained(tiny_reference, tmp_path / "m", set(flagged.token_ids) - set(planted))


def test_the_cli_shows_the_calibration(tiny_reference, tmp_path, capsys) -> None:
    _plant(tiny_reference, tmp_path / "m", [" while"])
    code = main(["tokens", "audit", str(tmp_path / "m"), "--json", str(tmp_path / "a.json")])
    assert code == 0
    codes = {f["code"] for f in json.loads((tmp_path / "a.json").read_text())["findings"]}
    assert {"tokens.unreachable_rows", "tokens.undertrained_tokens"} <= codes


def test_bytes_no_text_contains_calibrate_a_byte_level_vocabulary(tiny_reference, tmp_path) -> None:
    """No reserved tokens and none made unreachable: the byte tokens no UTF-8 text contains
    were never trained, and rows made to look like them are found."""
    _, planted = _plant(tiny_reference, tmp_path / "m", [" while", " import"], unreachable=[])
    never = never_utf8_bytes(TokenizerView.load(Checkpoint.open(tmp_path / "m")))
    report = audit_model(tmp_path / "m")
    calibration = report.find("tokens.unreachable_rows")
    assert calibration is not None and set(calibration.token_ids) == set(never)
    flagged = report.find("tokens.undertrained_tokens")
    assert flagged is not None and set(planted) <= set(flagged.token_ids)
    _rarely_trained(tiny_reference, tmp_path / "m", set(flagged.token_ids) - set(planted))


def _rarely_trained(tiny: Path, model: Path, flagged: set[int]) -> None:
    """What else the search flags is what the model saw least: tokens its own training split
    holds rarely or never (measured: median count 0 against 89 for the vocabulary, 61% never
    seen against 7%)."""
    tok = TokenizerView.load(Checkpoint.open(model))
    counts: Counter[int] = Counter()
    lines = (tiny / "reference_corpus" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    for enc in tok.encode([json.loads(line)["text"] for line in lines]):
        counts.update(enc.ids)
    every = [counts[i] for i in range(tok.size)]
    seen = [counts[i] for i in flagged]
    assert seen and statistics.median(seen) * 10 <= statistics.median(every)
    unseen = sum(c == 0 for c in seen) / len(seen)
    assert unseen >= 4 * sum(c == 0 for c in every) / len(every)
