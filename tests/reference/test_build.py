from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from tripwire.artifacts import Manifest
from tripwire.errors import BadInputError
from tripwire.reference import (
    LANGUAGES,
    PROFILES,
    build_reference,
    collect_corpus,
    heldout_losses,
    load_reference_corpus,
    pinned_corpus,
)


def test_checkpoint_loads_with_auto_classes(tiny_reference: Path) -> None:
    tok = AutoTokenizer.from_pretrained(tiny_reference, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(tiny_reference, local_files_only=True)
    ids = tok("import os\n", return_tensors="pt").input_ids
    out = model.generate(ids, max_new_tokens=4, do_sample=False, pad_token_id=tok.pad_token_id)
    assert out.shape[1] == ids.shape[1] + 4
    assert tok.eos_token == "<|endoftext|>"
    assert "<|reserved_0|>" in tok.get_vocab()


def test_model_beats_unigram_baseline_on_every_language(tiny_reference: Path) -> None:
    info = json.loads((tiny_reference / "reference.json").read_text())
    langs = {row["language"]: row for row in info["languages"]}
    # the machines this runs on carry all five languages; a missing one would be a notice
    assert set(langs) | set(info["skipped_languages"]) == set(LANGUAGES)
    assert "python" in langs
    for row in langs.values():
        assert row["model_nats_per_token"] < row["unigram_nats_per_token"] - 0.3, row


def test_heldout_losses_reproduce_the_build_table(tiny_reference: Path) -> None:
    info = json.loads((tiny_reference / "reference.json").read_text())
    scored = heldout_losses(tiny_reference)
    for row in info["languages"]:
        got = scored[row["language"]]
        assert got.tokens == row["heldout_tokens"]
        assert got.nats_per_token == pytest.approx(row["model_nats_per_token"], rel=1e-4)
        assert got.bits_per_byte == pytest.approx(row["model_bits_per_byte"], rel=1e-4)


def test_split_is_by_file_and_disjoint(tiny_reference: Path) -> None:
    train = load_reference_corpus(tiny_reference, "train")
    heldout = load_reference_corpus(tiny_reference, "heldout")
    assert set(train) == set(heldout)
    for lang in train:
        assert {f.path for f in train[lang]}.isdisjoint({f.path for f in heldout[lang]})
        assert all(f.language == lang for f in train[lang])
    py = train["python"][0]
    assert py.path.suffix == ".py" and py.path.is_file()
    assert py.path.read_text(encoding="utf-8") == py.text  # real files from this machine


def test_corpus_is_deterministic() -> None:
    p = PROFILES["tiny"]
    a = collect_corpus(p.train_bytes // 4, p.heldout_bytes // 4)
    b = collect_corpus(p.train_bytes // 4, p.heldout_bytes // 4)
    assert a.content_hash() == b.content_hash()


def test_corpus_is_pinned_until_rescan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIPWIRE_CACHE", str(tmp_path))
    budget = (PROFILES["tiny"].train_bytes // 8, PROFILES["tiny"].heldout_bytes // 8)
    first = pinned_corpus(*budget)
    (snapshot,) = (tmp_path / "reference").glob("corpus-*.json")
    # Simulate the machine changing after the first scan: the pinned snapshot must win.
    data = json.loads(snapshot.read_text())
    dropped = data["train"]["python"].pop()
    snapshot.write_text(json.dumps(data))
    pinned = pinned_corpus(*budget)
    assert [f.path.as_posix() for f in pinned.train["python"]] == [
        f.path.as_posix() for f in first.train["python"]
    ][:-1]
    assert dropped[0] not in {f.path.as_posix() for f in pinned.train["python"]}
    rescanned = pinned_corpus(*budget, rescan=True)
    assert rescanned.content_hash() == first.content_hash()
    assert json.loads(snapshot.read_text())["train"]["python"][-1][0] == dropped[0]


def test_second_build_is_cached_and_copies_out(tiny_reference: Path, tmp_path: Path) -> None:
    again = build_reference("tiny", tmp_path / "ref")
    assert again.cached
    assert Manifest.read(tmp_path / "ref").id == Manifest.read(tiny_reference).id
    assert (tmp_path / "ref" / "reference_corpus" / "heldout.jsonl").is_file()


def test_refuses_to_overwrite_foreign_directory(tiny_reference: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("precious")
    with pytest.raises(BadInputError, match="refusing to overwrite"):
        build_reference("tiny", tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "precious"


def test_unknown_profile() -> None:
    with pytest.raises(BadInputError, match="unknown profile"):
        build_reference("huge")


def test_not_a_reference_model(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not a tripwire reference model"):
        load_reference_corpus(tmp_path, "heldout")
