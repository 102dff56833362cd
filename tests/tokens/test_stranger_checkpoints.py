"""`tripwire tokens` on checkpoints that another team saved their own way: the same tokenizer as
vocab.json + merges.txt must pass, and a config.json whose hidden size disagrees with the
weights is one line of bad input (exit 2), before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tripwire.cli import main


def _copy(src: Path, dst: Path, drop: tuple[str, ...] = ()) -> Path:
    """``src`` without ``drop`` and its manifest: the weights linked (cheap), the rest copied
    so that the test may edit them."""
    dst.mkdir()
    for f in src.iterdir():
        if f.is_file() and f.name not in (*drop, "tripwire.json"):
            if f.suffix == ".safetensors":
                (dst / f.name).symlink_to(f)
            else:
                (dst / f.name).write_bytes(f.read_bytes())
    return dst


def _edit_json(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_the_same_tokenizer_as_vocab_and_merges_passes(
    tiny_reference: Path, tmp_path: Path
) -> None:
    """Converted from vocab.json + merges.txt, the BPE prefix and suffix read "" where the
    tokenizer.json had null: both mean none, but the audit warned that the options changed."""
    cand = _copy(tiny_reference, tmp_path / "cand", drop=("tokenizer.json",))
    model = json.loads((tiny_reference / "tokenizer.json").read_text(encoding="utf-8"))["model"]
    (cand / "vocab.json").write_text(json.dumps(model["vocab"]), encoding="utf-8")
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    (cand / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", "utf-8")
    _edit_json(cand / "tokenizer_config.json", tokenizer_class="GPT2Tokenizer")
    report = tmp_path / "audit.json"
    code = main(["tokens", "audit", str(tiny_reference), str(cand), "--json", str(report)])
    doc = json.loads(report.read_text(encoding="utf-8"))
    loud = [(f["code"], f["severity"]) for f in doc["findings"] if f["severity"] != "info"]
    assert (code, doc["verdict"], loud) == (0, "pass", [])


@pytest.mark.parametrize("command", ["audit", "repair"])
def test_a_config_hidden_size_that_is_not_the_weights_width_is_bad_input(
    command: str, tiny_reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Audit passed it and repair wrote a checkpoint that transformers refuses to load."""
    cand = _copy(tiny_reference, tmp_path / "cand")
    width = json.loads((cand / "config.json").read_text(encoding="utf-8"))["n_embd"]
    _edit_json(cand / "config.json", n_embd=width + 32)
    out = tmp_path / "repaired"
    args = ["tokens", command, str(tiny_reference), str(cand)]
    code = main(args + (["--out", str(out)] if command == "repair" else []))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.strip().splitlines()[-1] == (
        f"error: {cand / 'config.json'}: n_embd is {width + 32}, but the embedding weights "
        f"(transformer.wte.weight) are {width} wide"
    )
    assert not out.exists()
