"""Faults the zoo does not hold, built on the tiny reference: each blocks with its root cause
(and `repair` fixes what it can), and harmless edits pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tripwire.faults import add_tokens, copy_checkpoint, reassign_ids, untie
from tripwire.faults._checkpoints import (
    _edit_weights,
    _read_tokenizer,
    _update_config,
    _view,
    _write_tokenizer,
)
from tripwire.findings import Severity, Verdict
from tripwire.tokens import audit, repair

WORDS = ["    return ", "self.", "    def "]


def _blocking(path_a: Path, path_b: Path) -> set[str]:
    report = audit(path_a, path_b)
    return {f.code for f in report.findings if f.severity is Severity.BLOCK}


def _repaired_passes(base: Path, cand: Path, out: Path) -> None:
    fixed = repair(base, cand, out).path
    report = audit(base, fixed)
    assert report.verdict is not Verdict.BLOCK, [
        (f.code, f.message) for f in report.findings if f.severity is Severity.BLOCK
    ]


def test_new_rows_copied_from_an_unrelated_token_warn(tiny_reference: Path, tmp_path: Path) -> None:
    """Three new tokens all given the row of ``" if"``: they read as ``" if"`` and cannot be
    told apart. Before, that classified as "looks trained" and passed."""
    d = add_tokens(tiny_reference, tmp_path / "cand", WORDS, "mean").path
    tok = _view(tiny_reference)
    source = tok.pieces(" if")[0]

    def copy(tensors: dict[str, torch.Tensor], ckpt) -> None:
        tensors[ckpt.input_embedding_name][-3:] = tensors[ckpt.input_embedding_name][source]

    _edit_weights(d, copy)
    report = audit(tiny_reference, d)
    f = report.find("tokens.new_rows_copied_unrelated")
    assert f is not None and f.severity is Severity.WARN, sorted(report.codes())
    assert f.token_ids == [tok.size, tok.size + 1, tok.size + 2]
    assert set(f.evidence["copied_from"].values()) == {source}
    assert report.find("tokens.new_rows_trained") is None
    _repaired_passes(tiny_reference, d, tmp_path / "fixed")
    assert (
        audit(tiny_reference, tmp_path / "fixed").find("tokens.new_rows_copied_unrelated") is None
    )


def test_new_rows_from_their_pieces_pass(tiny_reference: Path, tmp_path: Path) -> None:
    d = add_tokens(tiny_reference, tmp_path / "cand", WORDS, "mean").path
    tok = _view(tiny_reference)

    def from_pieces(tensors: dict[str, torch.Tensor], ckpt) -> None:
        table = tensors[ckpt.input_embedding_name]
        for k, text in enumerate(WORDS):
            table[tok.size + k] = table[tok.pieces(text)].mean(0)

    _edit_weights(d, from_pieces)
    report = audit(tiny_reference, d)
    assert report.verdict is Verdict.PASS, [(f.code, f.message) for f in report.findings]
    assert report.find("tokens.new_rows_from_pieces") is not None


@pytest.mark.parametrize(
    ("fname", "changes"),
    [
        ("generation_config.json", {"eos_token_id": 5}),
        ("config.json", {"pad_token_id": 0, "eos_token_id": 7}),
    ],
)
def test_special_ids_changed_only_in_config_files_block(
    tiny_reference: Path, tmp_path: Path, fname: str, changes: dict[str, int]
) -> None:
    """The tokenizer is untouched; an edited eos id makes generation stop at the wrong token.
    Before, only the single-model warning (config_special_token_mismatch) was given."""
    d = copy_checkpoint(tiny_reference, tmp_path / "cand")
    path = d / fname
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")
    report = audit(tiny_reference, d)
    f = report.find("tokens.config_special_token_changed")
    assert f is not None and f.severity is Severity.BLOCK, sorted(report.codes())
    assert fname in f.message
    _repaired_passes(tiny_reference, d, tmp_path / "fixed")


def test_a_mismatch_the_baseline_already_had_is_not_escalated(
    tiny_reference: Path, tmp_path: Path
) -> None:
    base = copy_checkpoint(tiny_reference, tmp_path / "base")
    _update_config(base, eos_token_id=7)
    cand = copy_checkpoint(base, tmp_path / "cand")
    report = audit(base, cand)
    assert report.find("tokens.config_special_token_mismatch") is not None
    assert report.find("tokens.config_special_token_changed") is None
    assert report.verdict is not Verdict.BLOCK


def test_table_grown_and_shifted_by_one_row(tiny_reference: Path, tmp_path: Path) -> None:
    d = _shifted(tiny_reference, tmp_path / "cand")
    size = _view(tiny_reference).size
    report = audit(tiny_reference, d)
    f = report.find("tokens.rows_remapped")
    assert f is not None and len(f.token_ids) >= size - 2
    assert all(int(c) - b == 1 for c, b in f.evidence["mapping"].items())
    _repaired_passes(tiny_reference, d, tmp_path / "fixed")


@pytest.mark.parametrize(
    ("follows", "code"), [("head", "rows_remapped"), ("input", "output_rows_remapped")]
)
def test_untied_one_table_remapped_the_other_not(
    tiny_reference: Path, tmp_path: Path, follows: str, code: str
) -> None:
    """Ids of two tokens swapped, and only one of the untied tables moved to follow them."""
    base = untie(tiny_reference, tmp_path / "base").path
    fault = reassign_ids(base, tmp_path / "cand", [" def", " return"])
    ids = list(fault.token_ids)

    def follow(tensors: dict[str, torch.Tensor], ckpt) -> None:
        name = ckpt.output_head_name if follows == "head" else ckpt.input_embedding_name
        tensors[name][ids] = tensors[name][ids[::-1]].clone()

    _edit_weights(fault.path, follow)
    assert _blocking(base, fault.path) == {f"tokens.{code}"}
    _repaired_passes(base, fault.path, tmp_path / "fixed")


def _edit_tokenizer(src: Path, dst: Path, edit) -> Path:
    d = copy_checkpoint(src, dst)
    raw = _read_tokenizer(d)
    edit(raw)
    _write_tokenizer(d, raw)
    return d


def test_tokenizer_edits_block_with_their_component(tiny_reference: Path, tmp_path: Path) -> None:
    def word_level(raw: dict) -> None:
        raw["model"] = {"type": "WordLevel", "vocab": raw["model"]["vocab"], "unk_token": "<|pad|>"}

    def no_regex(raw: dict) -> None:
        raw["pre_tokenizer"]["use_regex"] = False

    for name, edit, code in (
        ("wordlevel", word_level, "tokens.tokenizer_model_changed"),
        ("noregex", no_regex, "tokens.pre_tokenizer_changed"),
    ):
        d = _edit_tokenizer(tiny_reference, tmp_path / name, edit)
        assert code in _blocking(tiny_reference, d), name


def test_reformatted_tokenizer_json_passes(tiny_reference: Path, tmp_path: Path) -> None:
    d = copy_checkpoint(tiny_reference, tmp_path / "cand")
    raw = _read_tokenizer(d)
    text = json.dumps(raw, indent=4, sort_keys=True, ensure_ascii=True)
    (d / "tokenizer.json").write_text(text.replace("\n", "\r\n"), encoding="utf-8")
    report = audit(tiny_reference, d)
    assert report.verdict is Verdict.PASS, [(f.code, f.message) for f in report.findings]


def _shifted(src: Path, dst: Path) -> Path:
    """The table grown by one row at the front: every token now holds the row before its own."""
    d = copy_checkpoint(src, dst)
    size = _view(src).size

    def shift(tensors: dict[str, torch.Tensor], ckpt) -> None:
        old = tensors[ckpt.input_embedding_name]
        tensors[ckpt.input_embedding_name] = torch.cat([old.mean(0, keepdim=True), old])

    _edit_weights(d, shift)
    _update_config(d, vocab_size=size + 1)
    return d


def test_shift_past_the_search_budget_is_still_a_remap(
    tiny_reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows past the nearest-neighbour budget are tried at the offset the searched rows share;
    before, they read as re-initialised ("trained"/"random") rows."""
    monkeypatch.setattr("tripwire.tokens._rows.NN_LIMIT", 100)
    d = _shifted(tiny_reference, tmp_path / "cand")
    report = audit(tiny_reference, d)
    f = report.find("tokens.rows_remapped")
    assert f is not None and len(f.token_ids) >= _view(tiny_reference).size - 2
    assert all(int(c) - b == 1 for c, b in f.evidence["mapping"].items())
    reinit = report.find("tokens.rows_reinitialised")
    assert reinit is None or len(reinit.token_ids) <= 1


def test_minilm_shift_is_one_remap(minilm_checkpoint: Path, tmp_path: Path) -> None:
    """30,522 rows: the search covers 4,096; the offset explains the rest."""
    d = _shifted(minilm_checkpoint, tmp_path / "cand")
    report = audit(minilm_checkpoint, d)
    f = report.find("tokens.rows_remapped")
    assert f is not None and len(f.token_ids) == 30521
    assert not any(
        x.code == "tokens.rows_reinitialised" and len(x.token_ids) > 1 for x in report.findings
    )


def _with_config(src: Path, dst: Path, **changes: object) -> Path:
    d = copy_checkpoint(src, dst)
    path = d / "tokenizer_config.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")
    return d


def test_add_prefix_space_in_tokenizer_config_blocks(tiny_reference: Path, tmp_path: Path) -> None:
    """tokenizer.json untouched; GPT2Tokenizer's add_prefix_space makes transformers encode
    ``def`` as ``" def"``. Before, the audit passed (it reads tokenizer.json alone)."""
    d = _with_config(
        tiny_reference, tmp_path / "cand", tokenizer_class="GPT2Tokenizer", add_prefix_space=True
    )
    f = audit(tiny_reference, d).find("tokens.loader_encoding_changed")
    assert f is not None and f.severity is Severity.BLOCK
    assert "add_prefix_space" in f.evidence["changed_config_keys"]


def test_do_lower_case_off_on_an_uncased_bert_blocks(
    minilm_checkpoint: Path, tmp_path: Path
) -> None:
    """BertTokenizerFast rebuilds its normalizer from do_lower_case: cased text reaches an
    uncased vocabulary. Before, only the single-model warning was given."""
    d = _with_config(minilm_checkpoint, tmp_path / "cand", do_lower_case=False)
    report = audit(minilm_checkpoint, d)
    assert "tokens.loader_encoding_changed" in {
        f.code for f in report.findings if f.severity is Severity.BLOCK
    }


def test_tokenizer_config_edits_that_do_not_encode_differently_pass(
    tiny_reference: Path, tmp_path: Path
) -> None:
    d = _with_config(
        tiny_reference, tmp_path / "cand", model_max_length=4096, add_prefix_space=True
    )
    report = audit(tiny_reference, d)
    assert report.verdict is Verdict.PASS, [(f.code, f.message) for f in report.findings]


def test_merges_reordered_block_dropped_merge_warns(tiny_reference: Path, tmp_path: Path) -> None:
    """The same merges in another order are other priorities: before, a warning (the probe
    re-segments too little of the text to block on its own)."""

    def reverse(raw: dict) -> None:
        merges = raw["model"]["merges"]
        merges[100:200] = merges[100:200][::-1]

    d = _edit_tokenizer(tiny_reference, tmp_path / "reordered", reverse)
    f = audit(tiny_reference, d).find("tokens.merges_changed")
    assert f is not None and f.severity is Severity.BLOCK and f.evidence["reordered"]
    dropped = _edit_tokenizer(
        tiny_reference, tmp_path / "dropped", lambda raw: raw["model"]["merges"].pop(100)
    )
    f = audit(tiny_reference, dropped).find("tokens.merges_changed")
    assert f is not None and f.severity is Severity.WARN
