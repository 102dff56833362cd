"""Structural checks, tokenizer component diffs and row correspondence on edited real
checkpoints (copies of the tiny reference model and of the pretrained BERT)."""

from __future__ import annotations

import json
from pathlib import Path

from tripwire.faults import (
    copy_checkpoint,
    finetune,
    reassign_ids,
    reinitialise_rows,
    scramble_head,
)
from tripwire.findings import Severity, Verdict
from tripwire.tokens import audit

from .conftest import Variant


def _edit_json(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.unlink()  # never write through a hard link into the source checkpoint
    path.write_text(json.dumps(data), encoding="utf-8")


def _severity(report, code: str) -> Severity | None:  # type: ignore[no-untyped-def]
    f = report.find(code)
    return None if f is None else f.severity


# --- structure ---------------------------------------------------------------------------------
def test_config_claims_tie_but_head_differs(tiny_zoo: dict[str, Variant], tmp_path: Path) -> None:
    bad = scramble_head(tiny_zoo["untied"].path, tmp_path / "c", [" def", " return"]).path
    _edit_json(bad / "config.json", lambda c: c.update(tie_word_embeddings=True))
    report = audit(tiny_zoo["untied"].path, bad)
    assert _severity(report, "tokens.tie_config_mismatch") is Severity.BLOCK


def test_untied_config_without_head(tiny_reference: Path, tmp_path: Path) -> None:
    bad = copy_checkpoint(tiny_reference, tmp_path / "c")
    _edit_json(bad / "config.json", lambda c: c.update(tie_word_embeddings=False))
    assert _severity(audit(tiny_reference, bad), "tokens.output_head_missing") is Severity.BLOCK


def test_config_vocab_size_disagrees_with_table(tiny_reference: Path, tmp_path: Path) -> None:
    bad = copy_checkpoint(tiny_reference, tmp_path / "c")
    _edit_json(bad / "config.json", lambda c: c.update(vocab_size=4096))
    assert (
        _severity(audit(tiny_reference, bad), "tokens.config_vocab_size_mismatch") is Severity.BLOCK
    )


def test_vocab_txt_disagrees_with_tokenizer_json(minilm_checkpoint: Path, tmp_path: Path) -> None:
    bad = copy_checkpoint(minilm_checkpoint, tmp_path / "c")
    lines = (bad / "vocab.txt").read_text(encoding="utf-8").split("\n")
    lines[2000], lines[2001] = lines[2001], lines[2000]
    (bad / "vocab.txt").unlink()
    (bad / "vocab.txt").write_text("\n".join(lines), encoding="utf-8")
    f = audit(minilm_checkpoint, bad).find("tokens.tokenizer_files_disagree")
    assert f is not None and list(f.token_ids) == [2000, 2001]


# --- tokenizer diff ----------------------------------------------------------------------------
def test_pre_tokenizer_change_blocks(tiny_reference: Path, tmp_path: Path) -> None:
    bad = copy_checkpoint(tiny_reference, tmp_path / "c")
    _edit_json(bad / "tokenizer.json", lambda t: t["pre_tokenizer"].update(add_prefix_space=True))
    report = audit(tiny_reference, bad)
    assert _severity(report, "tokens.pre_tokenizer_changed") is Severity.BLOCK


def test_merges_appended_or_removed(tiny_reference: Path, tmp_path: Path) -> None:
    dropped = copy_checkpoint(tiny_reference, tmp_path / "dropped")
    _edit_json(dropped / "tokenizer.json", lambda t: t["model"]["merges"].pop(100))
    report = audit(tiny_reference, dropped)
    assert _severity(report, "tokens.merges_changed") is Severity.WARN
    # The token that merge built can no longer be produced: code is segmented differently.
    assert report.find("tokens.segmentation_changed").evidence["unexplained_share"] > 0


def test_chat_template_and_special_role_changes(tiny_reference: Path, tmp_path: Path) -> None:
    bad = copy_checkpoint(tiny_reference, tmp_path / "c")

    def edit(cfg: dict) -> None:
        cfg["chat_template"] = "{% for m in messages %}{{ m.content }}{% endfor %}"
        cfg["eos_token"] = "<|pad|>"

    _edit_json(bad / "tokenizer_config.json", edit)
    report = audit(tiny_reference, bad)
    assert _severity(report, "tokens.chat_template_changed") is Severity.WARN
    assert _severity(report, "tokens.special_token_changed") is Severity.BLOCK
    assert report.find("tokens.special_token_changed").token_ids == [1]


def test_removed_token_blocks_through_segmentation(minilm_checkpoint: Path, tmp_path: Path) -> None:
    bad = copy_checkpoint(minilm_checkpoint, tmp_path / "c")

    def rename(t: dict) -> None:
        vocab = t["model"]["vocab"]
        vocab["returnx"] = vocab.pop("return")

    _edit_json(bad / "tokenizer.json", rename)
    report = audit(minilm_checkpoint, bad)
    assert _severity(report, "tokens.tokens_removed") is Severity.WARN
    assert _severity(report, "tokens.segmentation_changed") is Severity.BLOCK


# --- rows --------------------------------------------------------------------------------------
def test_every_id_shifted_is_all_remapped(tiny_reference: Path, tmp_path: Path) -> None:
    """A remap of the whole vocabulary must not be mistaken for a large global drift."""
    vocab = json.loads((tiny_reference / "tokenizer.json").read_text())["model"]["vocab"]
    strings = [s for s, i in sorted(vocab.items(), key=lambda kv: kv[1]) if i >= 10]
    fault = reassign_ids(tiny_reference, tmp_path / "c", strings)
    report = audit(tiny_reference, fault.path)
    f = report.find("tokens.rows_remapped")
    assert f is not None and tuple(f.token_ids) == fault.token_ids
    assert report.summary["drift"]["input"] == 0


def test_remap_on_top_of_a_fine_tune(tiny_reference: Path, tmp_path: Path) -> None:
    tuned = finetune(tiny_reference, tmp_path / "tuned", steps=3)
    fault = reassign_ids(tuned.path, tmp_path / "c", [" return", "self"])
    report = audit(tiny_reference, fault.path)
    assert report.verdict is Verdict.BLOCK
    assert tuple(report.find("tokens.rows_remapped").token_ids) == fault.token_ids
    assert report.summary["drift"]["input"] > 0


def test_reinitialised_rows_of_used_tokens_block(tiny_reference: Path, tmp_path: Path) -> None:
    fault = reinitialise_rows(tiny_reference, tmp_path / "c", [" def", " class"])
    f = audit(tiny_reference, fault.path).find("tokens.rows_reinitialised")
    assert f is not None and f.severity is Severity.BLOCK
    assert tuple(f.token_ids) == fault.token_ids
    assert f.evidence["kind"] == "random"
