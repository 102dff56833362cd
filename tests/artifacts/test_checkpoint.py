from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tripwire.artifacts import Checkpoint
from tripwire.errors import BadInputError


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("reference_corpus"))
    return dst


def test_opens_reference_causal_lm(tiny_reference: Path) -> None:
    ck = Checkpoint.open(tiny_reference)
    assert ck.is_causal_lm
    assert ck.model_type == "gpt2"
    emb = ck.input_embeddings()
    assert emb.shape == (ck.vocab_size, ck.config["n_embd"])
    # the reference model ties its head to the input table, so only one table is stored
    assert ck.output_head_name is None
    tok = ck.load_tokenizer()
    assert len(tok) == ck.vocab_size
    model = ck.load_model()
    ids = tok("def f(x):\n    return x\n", return_tensors="pt").input_ids
    logits = model(input_ids=ids).logits
    assert logits.shape == (1, ids.shape[1], ck.vocab_size)
    # the embeddings read from the file are the ones the loaded model uses
    assert torch.equal(model.get_input_embeddings().weight, emb)


def test_opens_real_pretrained_encoder(minilm_checkpoint: Path) -> None:
    ck = Checkpoint.open(minilm_checkpoint)
    assert not ck.is_causal_lm
    assert ck.input_embedding_name == "embeddings.word_embeddings.weight"
    assert ck.input_embeddings().shape == (30522, 384)
    tok = ck.load_tokenizer()
    assert tok.convert_tokens_to_ids("[unused0]") == 1
    model = ck.load_model()
    out = model(**tok("def add(a, b): return a + b", return_tensors="pt"))
    assert out.last_hidden_state.shape[-1] == 384


def test_reads_pytorch_bin_weights(tiny_reference: Path, tmp_path: Path) -> None:
    ck_dir = _copy(tiny_reference, tmp_path / "bin")
    state = load_file(ck_dir / "model.safetensors")
    (ck_dir / "model.safetensors").unlink()
    torch.save(state, ck_dir / "pytorch_model.bin")
    ck = Checkpoint.open(ck_dir)
    assert ck.weight_files == [ck_dir / "pytorch_model.bin"]
    assert torch.equal(ck.input_embeddings(), state[ck.input_embedding_name])


def test_nonexistent_path(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file or directory"):
        Checkpoint.open(tmp_path / "missing")


def test_file_is_not_a_checkpoint(tmp_path: Path) -> None:
    f = tmp_path / "weights.bin"
    f.write_bytes(b"x")
    with pytest.raises(BadInputError, match="not a directory"):
        Checkpoint.open(f)


def test_directory_without_config(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello")
    with pytest.raises(BadInputError, match=r"no config\.json"):
        Checkpoint.open(tmp_path)


def test_corrupt_config(tiny_reference: Path, tmp_path: Path) -> None:
    ck_dir = _copy(tiny_reference, tmp_path / "ck")
    (ck_dir / "config.json").write_text("{not json")
    with pytest.raises(BadInputError, match="unreadable config") as exc:
        Checkpoint.open(ck_dir)
    assert str(ck_dir / "config.json") in str(exc.value)


def test_missing_tokenizer(tiny_reference: Path, tmp_path: Path) -> None:
    ck_dir = _copy(tiny_reference, tmp_path / "ck")
    (ck_dir / "tokenizer.json").unlink()
    with pytest.raises(BadInputError, match="no tokenizer"):
        Checkpoint.open(ck_dir)
    # weights alone can still be inspected when the caller says so
    assert Checkpoint.open(ck_dir, require_tokenizer=False).input_embeddings().ndim == 2


def test_missing_weights(tiny_reference: Path, tmp_path: Path) -> None:
    ck_dir = _copy(tiny_reference, tmp_path / "ck")
    (ck_dir / "model.safetensors").unlink()
    with pytest.raises(BadInputError, match="no weights"):
        Checkpoint.open(ck_dir)


@pytest.mark.parametrize("keep", [4, 200, -1000])
def test_truncated_safetensors(tiny_reference: Path, tmp_path: Path, keep: int) -> None:
    ck_dir = _copy(tiny_reference, tmp_path / "ck")
    weights = ck_dir / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:keep])
    with pytest.raises(BadInputError, match="truncated safetensors") as exc:
        Checkpoint.open(ck_dir)
    assert str(weights) in str(exc.value)


def test_unknown_tensor_name(tiny_reference: Path) -> None:
    with pytest.raises(BadInputError, match="no tensor named"):
        Checkpoint.open(tiny_reference).read_tensor("nope.weight")


def test_tokenizer_files_are_exposed(tiny_reference: Path) -> None:
    ck = Checkpoint.open(tiny_reference)
    tj = ck.tokenizer_json()
    assert tj is not None and tj["model"]["type"] == "BPE"
    assert "<|endoftext|>" in json.dumps(ck.tokenizer_config())
