"""`tripwire tokens` on checkpoints brought the way another team would: other layouts (a
``pytorch_model.bin``, sharded safetensors), files that are missing, of the wrong JSON shape or not
UTF-8, Hugging Face's own add-tokens-and-resize convention, and outputs that cannot be written.

Bad input must be exit 2 with one line naming the file, never a traceback (an uncaught exception
exits 1, which reads as "blocked"), and must leave nothing behind."""

from __future__ import annotations

import json
import os
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from tripwire.artifacts import Registry
from tripwire.cli import main

from .conftest import Variant

ROLE_FILES = ("tokenizer_config.json", "special_tokens_map.json")


def _variant(
    src: Path, dst: Path, drop: tuple[str, ...] = (), files: dict[str, str | bytes] | None = None
) -> Path:
    """A checkpoint directory that links to ``src``'s files (cheap: no 90 MB copies), without
    ``drop`` and with ``files`` written in place of the originals."""
    files = files or {}
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file() and f.name not in drop and f.name not in files:
            (dst / f.name).symlink_to(f)
    for name, content in files.items():
        if isinstance(content, bytes):
            (dst / name).write_bytes(content)
        else:
            (dst / name).write_text(content, encoding="utf-8")
    return dst


def _bad_input(args: list[str], capsys: pytest.CaptureFixture[str], *names: str) -> str:
    """Run, expect exit 2 with one error line that names each of ``names``; return the line."""
    capsys.readouterr()
    assert main(args) == 2
    captured = capsys.readouterr()
    lines = [
        line
        for line in captured.err.splitlines()
        if line.strip() and not line.startswith("[progress]")
    ]
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    for name in names:
        assert name in lines[0], lines[0]
    return lines[0]


def _config(src: Path, **changes: object) -> str:
    data = json.loads((src / "config.json").read_text(encoding="utf-8"))
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("key", "value"), [("vocab_size", "lots"), ("vocab_size", 1.5), ("tie_word_embeddings", "no")]
)
def test_config_field_of_the_wrong_type_is_bad_input(
    minilm_checkpoint: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    key: str,
    value: object,
) -> None:
    cand = _variant(
        minilm_checkpoint,
        tmp_path / "c",
        files={"config.json": _config(minilm_checkpoint, **{key: value})},
    )
    for args in (
        ["tokens", "audit", str(cand)],
        ["tokens", "audit", str(minilm_checkpoint), str(cand)],
    ):
        _bad_input(args, capsys, "config.json", key)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("special_tokens_map.json", '["[CLS]"]'),
        ("tokenizer_config.json", '[{"cls_token": "[CLS]"}]'),
        ("generation_config.json", "[1]"),
        ("generation_config.json", '{"pad_token_id": 0'),
        ("vocab.txt", b"\xff\xfe[PAD]\n"),
    ],
)
def test_side_file_of_the_wrong_shape_is_bad_input(
    minilm_checkpoint: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str | bytes,
) -> None:
    cand = _variant(minilm_checkpoint, tmp_path / "c", files={name: content})
    out = tmp_path / "audit.json"
    args = ["tokens", "audit", str(minilm_checkpoint), str(cand), "--json", str(out)]
    _bad_input(args, capsys, name)
    assert not out.exists()
    _bad_input(["tokens", "audit", str(cand)], capsys, name)


def test_repair_reads_generation_config_as_carefully_as_the_audit(
    minilm_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cand = _variant(
        minilm_checkpoint, tmp_path / "c", files={"generation_config.json": "{not json"}
    )
    out = tmp_path / "fixed"
    args = ["tokens", "repair", str(minilm_checkpoint), str(cand), "--out", str(out)]
    _bad_input(args, capsys, "generation_config.json")
    assert not out.exists()


def test_safetensors_header_whose_shape_disagrees_with_its_bytes(
    minilm_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = json.dumps(
        {
            "embeddings.word_embeddings.weight": {
                "dtype": "F32",
                "shape": [30522, 384],
                "data_offsets": [0, 16],
            }
        }
    ).encode()
    blob = struct.pack("<Q", len(header)) + header + bytes(16)
    cand = _variant(
        minilm_checkpoint,
        tmp_path / "c",
        drop=("model.safetensors",),
        files={
            "model.safetensors": blob,
            "config.json": _config(minilm_checkpoint, vocab_size=None),
        },
    )
    _bad_input(
        ["tokens", "audit", str(cand)],
        capsys,
        "model.safetensors",
        "embeddings.word_embeddings.weight",
    )


@pytest.mark.parametrize("kept", ["tokenizer.json", "vocab.txt"])
def test_a_checkpoint_without_role_files_keeps_its_loaders_roles(
    minilm_checkpoint: Path, minilm_zoo: dict[str, Variant], tmp_path: Path, kept: str
) -> None:
    """Without tokenizer_config.json and special_tokens_map.json, transformers still gives a BERT
    tokenizer [CLS], [SEP], ...: an identical model must pass, a reassigned one still block."""
    tok_files = {"tokenizer.json", "vocab.txt"} - {kept}
    drop = (*ROLE_FILES, *tok_files)
    same = _variant(minilm_checkpoint, tmp_path / "same", drop=drop)
    assert main(["tokens", "audit", str(minilm_checkpoint), str(same)]) == 0
    assert main(["tokens", "audit", str(same), str(minilm_checkpoint)]) == 0
    swapped = minilm_zoo["ids_swapped"]
    if kept == "vocab.txt":
        return  # the zoo's swap is written into tokenizer.json
    bad = _variant(swapped.path, tmp_path / "bad", drop=drop)
    out = tmp_path / "a.json"
    assert main(["tokens", "audit", str(minilm_checkpoint), str(bad), "--json", str(out)]) == 1
    codes = {f["code"]: f for f in json.loads(out.read_text())["findings"]}
    assert "tokens.special_token_changed" not in codes
    assert tuple(codes["tokens.rows_remapped"]["token_ids"]) == swapped.token_ids


def test_repair_refuses_an_out_it_cannot_write(
    minilm_checkpoint: Path,
    minilm_zoo: dict[str, Variant],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    v = minilm_zoo["ids_swapped"]
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    for out in (a_file / "fixed", Path("/proc/tripwire-no-such-dir/fixed")):
        args = ["tokens", "repair", str(v.baseline), str(v.path), "--out", str(out)]
        _bad_input(args, capsys, str(out))
        assert not out.exists()
    assert Registry().list() == []


def test_repair_refuses_an_out_inside_or_around_an_input(
    minilm_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cand = _variant(minilm_checkpoint, tmp_path / "work" / "cand")
    before = sorted(p.name for p in cand.iterdir())
    for out in (cand / "fixed", tmp_path / "work"):
        args = ["tokens", "repair", str(minilm_checkpoint), str(cand), "--out", str(out)]
        _bad_input(args, capsys, "--out")
        assert sorted(p.name for p in cand.iterdir()) == before


def test_unwritable_json_is_refused_before_any_work(
    minilm_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    report = a_file / "report.json"
    base = str(minilm_checkpoint)
    _bad_input(["tokens", "audit", base, base, "--json", str(report)], capsys, str(report))
    _bad_input(["tokens", "audit", base, base, "--json", str(tmp_path)], capsys, str(tmp_path))
    out = tmp_path / "fixed"
    args = ["tokens", "repair", base, base, "--out", str(out), "--json", str(report)]
    _bad_input(args, capsys, str(report))
    # inside --out, it would change the checkpoint after its manifest was written
    args[-1] = str(out / "report.json")
    _bad_input(args, capsys, "--json", "--out")
    assert not out.exists()
    assert Registry().list() == []


def test_corpus_that_is_a_directory_says_so(
    minilm_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = str(minilm_checkpoint)
    line = _bad_input(["tokens", "audit", base, "--corpus", str(tmp_path)], capsys, str(tmp_path))
    assert "directory" in line


def test_corpus_from_a_pipe_is_read(minilm_checkpoint: Path, tmp_path: Path) -> None:
    """``--corpus <(git show HEAD:app.lua)``: the shell hands over /dev/fd/N, not a file."""
    read, write = os.pipe()
    os.write(write, b"local function add(a, b)\n  return a + b\nend\n")
    os.close(write)
    out = tmp_path / "a.json"
    try:
        args = ["tokens", "audit", str(minilm_checkpoint), str(minilm_checkpoint)]
        assert main([*args, "--corpus", f"/dev/fd/{read}", "--json", str(out)]) == 0
    finally:
        os.close(read)
    seg = next(
        f
        for f in json.loads(out.read_text())["findings"]
        if f["code"] == "tokens.segmentation_changed"
    )
    assert seg["evidence"]["per_language"]["text"]["characters"] > 0


def _as_bin(src: Path, dst: Path) -> Path:
    state = load_file(src / "model.safetensors")
    out = _variant(src, dst, drop=("model.safetensors",))
    torch.save(state, out / "pytorch_model.bin")
    return out


def _as_shards(src: Path, dst: Path) -> Path:
    state = load_file(src / "model.safetensors")
    out = _variant(src, dst, drop=("model.safetensors",))
    names = sorted(state)
    weight_map = {}
    for i, part in enumerate((names[: len(names) // 2], names[len(names) // 2 :])):
        shard = f"model-{i + 1:05d}-of-00002.safetensors"
        save_file({n: state[n].contiguous() for n in part}, out / shard, metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(part, shard))
    index = {"metadata": {}, "weight_map": weight_map}
    (out / "model.safetensors.index.json").write_text(json.dumps(index), encoding="utf-8")
    return out


def _unicode(src: Path, dst: Path) -> Path:
    return _variant(src, dst.parent / "modèle ü-日本")


def _no_vocab_size(src: Path, dst: Path) -> Path:
    return _variant(src, dst, files={"config.json": _config(src, vocab_size=None)})


LAYOUTS = {
    "bin": _as_bin,
    "shards": _as_shards,
    "unicode": _unicode,
    "no_vocab_size": _no_vocab_size,
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_other_layouts_pass_when_identical_and_block_when_reassigned(
    minilm_zoo: dict[str, Variant], tmp_path: Path, layout: str
) -> None:
    make = LAYOUTS[layout]
    ok, bad = minilm_zoo["identical"], minilm_zoo["ids_swapped"]
    same = make(ok.path, tmp_path / "same" / "m")
    assert main(["tokens", "audit", str(ok.baseline), str(same)]) == 0
    assert main(["tokens", "audit", str(same), str(same)]) == 0
    swapped = make(bad.path, tmp_path / "bad" / "m")
    out = tmp_path / "a.json"
    assert main(["tokens", "audit", str(bad.baseline), str(swapped), "--json", str(out)]) == 1
    remap = next(
        f for f in json.loads(out.read_text())["findings"] if f["code"] == "tokens.rows_remapped"
    )
    assert tuple(remap["token_ids"]) == bad.token_ids
    if layout in ("bin", "shards"):  # the layouts the repair writes its own way
        fixed = tmp_path / "fixed"
        args = ["tokens", "repair", str(bad.baseline), str(swapped), "--out", str(fixed)]
        assert main(args) == 0


@pytest.mark.parametrize("resize", [True, False])
def test_tokens_added_the_transformers_way(
    minilm_checkpoint: Path, tmp_path: Path, resize: bool
) -> None:
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(minilm_checkpoint)
    model = AutoModel.from_pretrained(minilm_checkpoint)
    tok.add_tokens(["self.", "!=", "=>"])
    if resize:
        model.resize_token_embeddings(len(tok))
    cand = tmp_path / "cand"
    tok.save_pretrained(cand)
    model.save_pretrained(cand)
    out = tmp_path / "a.json"
    code = main(["tokens", "audit", str(minilm_checkpoint), str(cand), "--json", str(out)])
    findings = {f["code"]: f for f in json.loads(out.read_text())["findings"]}
    # resize_token_embeddings starts new rows at (nearly) the mean: a warning, not a block
    want = "tokens.new_rows_mean" if resize else "tokens.token_ids_beyond_table"
    assert code == (0 if resize else 1)
    assert findings[want]["token_ids"] == [30522, 30523, 30524]
    shutil.rmtree(cand)


def _with_broken_rows(src: Path, dst: Path, ids: list[int], value: float) -> Path:
    state = load_file(src / "model.safetensors")
    state["embeddings.word_embeddings.weight"][ids] = value
    out = _variant(src, dst, drop=("model.safetensors",))
    save_file(state, out / "model.safetensors", metadata={"format": "pt"})
    return out


def test_infinite_rows_are_named(minilm_checkpoint: Path, tmp_path: Path) -> None:
    ids = [2003, 2005, 2065]
    broken = _with_broken_rows(minilm_checkpoint, tmp_path / "broken", ids, float("-inf"))
    out = tmp_path / "a.json"
    assert main(["tokens", "audit", str(minilm_checkpoint), str(broken), "--json", str(out)]) == 1
    blocks = {f["code"]: f for f in json.loads(out.read_text())["findings"]}
    assert blocks["tokens.rows_not_finite"]["token_ids"] == ids
    assert "tokens.rows_reinitialised" not in blocks


def test_nan_rows_are_named_and_repaired(
    minilm_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A diverged or fp16-overflowed fine-tune: three rows of NaN (or inf) must be reported as
    those three rows, not turn every distance NaN (26k rows "re-initialised") or crash the
    single-model check; the repair copies them back, and never copies a broken row in."""
    ids = [2003, 2005, 2065]  # is, for, if
    base = minilm_checkpoint
    broken = _with_broken_rows(base, tmp_path / "broken", ids, float("nan"))
    out = tmp_path / "a.json"
    assert main(["tokens", "audit", str(base), str(broken), "--json", str(out)]) == 1
    blocks = {f["code"]: f for f in json.loads(out.read_text())["findings"]}
    assert blocks["tokens.rows_not_finite"]["token_ids"] == ids
    assert "tokens.rows_reinitialised" not in blocks
    capsys.readouterr()
    assert main(["tokens", "audit", str(broken), "--json", str(out)]) == 1
    assert "Traceback" not in capsys.readouterr().err
    single = {f["code"] for f in json.loads(out.read_text())["findings"]}
    assert {"tokens.rows_not_finite", "tokens.undertrained_skipped"} <= single
    # the candidate that fixed a broken baseline is not "re-initialised"
    assert main(["tokens", "audit", str(broken), str(base)]) == 0
    for b, c, name in ((base, broken, "fixed"), (broken, base, "kept")):
        fixed = tmp_path / name
        assert main(["tokens", "repair", str(b), str(c), "--out", str(fixed)]) == 0
        table = load_file(fixed / "model.safetensors")["embeddings.word_embeddings.weight"]
        assert bool(torch.isfinite(table).all())


def test_repair_with_a_registry_that_cannot_open_writes_nothing(
    minilm_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fixed"
    base = str(minilm_checkpoint)
    args = ["--registry", "nonsense://x", "tokens", "repair", base, base, "--out", str(out)]
    _bad_input(args, capsys, "nonsense://x")
    assert not out.exists()


def test_repair_skips_a_link_that_points_nowhere(
    minilm_zoo: dict[str, Variant], tmp_path: Path
) -> None:
    v = minilm_zoo["ids_swapped"]
    cand = _variant(v.path, tmp_path / "cand")
    (cand / "NOTES.md").symlink_to(tmp_path / "gone.md")
    out = tmp_path / "fixed"
    assert main(["tokens", "repair", str(v.baseline), str(cand), "--out", str(out)]) == 0
    assert not (out / "NOTES.md").exists()


def test_functional_on_a_model_transformers_refuses_keeps_the_audit(
    tiny_zoo: dict[str, Variant], tmp_path: Path
) -> None:
    """--functional on a candidate whose config vocab_size disagrees with its table: the model
    does not load, which the structural check already blocks; that is no reason for exit 2."""
    v = tiny_zoo["config_vocab_mismatch"]
    out = tmp_path / "a.json"
    args = ["tokens", "audit", str(v.baseline), str(v.path), "--functional", "--json", str(out)]
    assert main(args) == 1
    codes = {f["code"] for f in json.loads(out.read_text())["findings"]}
    assert {"tokens.config_vocab_size_mismatch", "tokens.functional_skipped"} <= codes


def _with_head(src: Path, dst: Path, head: Callable[[torch.Tensor], torch.Tensor]) -> Path:
    state = load_file(src / "model.safetensors")
    state["lm_head.weight"] = head(state["lm_head.weight"]).contiguous()
    out = _variant(src, dst, drop=("model.safetensors",))
    save_file(state, out / "model.safetensors", metadata={"format": "pt"})
    return out


def test_output_head_of_another_shape(
    tiny_zoo: dict[str, Variant], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An untied head cut short, narrowed or flattened: a finding (or one error line for a
    head that is not a matrix), never a crash comparing rows that do not line up."""
    untied = tiny_zoo["untied"]
    base = str(untied.baseline)
    flat = _with_head(untied.path, tmp_path / "flat", lambda h: h[:, 0])
    _bad_input(["tokens", "audit", base, str(flat)], capsys, "lm_head.weight", "not a matrix")
    for name, cut in (("short", lambda h: h[:100]), ("narrow", lambda h: h[:, :16])):
        cand = _with_head(untied.path, tmp_path / name, cut)
        out = tmp_path / f"{name}.json"
        assert main(["tokens", "audit", base, str(cand), "--json", str(out)]) == 1
        codes = {f["code"] for f in json.loads(out.read_text())["findings"]}
        assert "tokens.output_head_shape_mismatch" in codes
        assert main(["tokens", "audit", str(cand)]) == 1
    # the missing rows of a short head come back from the baseline's head
    fixed = tmp_path / "fixed"
    short = tmp_path / "short"
    assert main(["tokens", "repair", base, str(short), "--out", str(fixed)]) == 0


def test_an_untied_default_is_read_from_the_model_class(
    tiny_zoo: dict[str, Variant], tmp_path: Path
) -> None:
    """A Llama-style config without tie_word_embeddings: transformers' LlamaConfig defaults to
    an untied head, so a separate head is how the model is meant to be, not a mismatch, and a
    repair must not overwrite it with the input table."""
    untied = tiny_zoo["untied"].path
    config = json.loads((untied / "config.json").read_text(encoding="utf-8"))
    config.pop("tie_word_embeddings", None)
    config.update(model_type="llama", architectures=["LlamaForCausalLM"])
    cand = _with_head(untied, tmp_path / "llama", lambda h: h * 1.5)
    (cand / "config.json").unlink()
    (cand / "config.json").write_text(json.dumps(config), encoding="utf-8")
    out = tmp_path / "a.json"
    assert main(["tokens", "audit", str(cand), "--json", str(out)]) in (0, 1)
    codes = {f["code"] for f in json.loads(out.read_text())["findings"]}
    assert "tokens.tie_config_mismatch" not in codes
    assert main(["tokens", "audit", str(cand), str(cand)]) == 0
    fixed = tmp_path / "fixed"
    assert main(["tokens", "repair", str(cand), str(cand), "--out", str(fixed)]) == 0
    state = load_file(fixed / "model.safetensors")
    assert not torch.equal(state["lm_head.weight"], state["transformer.wte.weight"])


def test_an_empty_embedding_table_is_a_finding(
    minilm_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = {"embeddings.word_embeddings.weight": torch.zeros(0, 384)}
    cand = _variant(minilm_checkpoint, tmp_path / "empty", drop=("model.safetensors",))
    save_file(state, cand / "model.safetensors")
    out = tmp_path / "a.json"
    capsys.readouterr()
    assert main(["tokens", "audit", str(cand), "--json", str(out)]) == 1
    assert "Traceback" not in capsys.readouterr().err
    codes = {f["code"] for f in json.loads(out.read_text())["findings"]}
    assert "tokens.token_ids_beyond_table" in codes


def test_a_tokenizer_json_from_an_older_tokenizers_is_the_same_tokenizer(
    tiny_reference: Path, tmp_path: Path
) -> None:
    """tokenizer.json files written before tokenizers added "use_regex" and "ignore_merges"
    (GPT-2's own, for one) mean those keys' defaults: not a pre-tokenizer change. A real change
    of the same component still blocks."""
    raw = json.loads((tiny_reference / "tokenizer.json").read_text(encoding="utf-8"))
    for component in ("pre_tokenizer", "decoder"):
        raw[component].pop("use_regex")
    raw["model"].pop("ignore_merges")
    raw["model"].pop("byte_fallback")
    old = _variant(tiny_reference, tmp_path / "old", files={"tokenizer.json": json.dumps(raw)})
    assert main(["tokens", "audit", str(tiny_reference), str(old)]) == 0
    raw["pre_tokenizer"]["add_prefix_space"] = not raw["pre_tokenizer"]["add_prefix_space"]
    changed = _variant(tiny_reference, tmp_path / "new", files={"tokenizer.json": json.dumps(raw)})
    out = tmp_path / "a.json"
    assert main(["tokens", "audit", str(tiny_reference), str(changed), "--json", str(out)]) == 1
    codes = {f["code"] for f in json.loads(out.read_text())["findings"]}
    assert "tokens.pre_tokenizer_changed" in codes


def test_a_tokenizer_transformers_cannot_build_is_one_line(
    minilm_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cand = _variant(
        minilm_checkpoint,
        tmp_path / "c",
        drop=("tokenizer.json", "special_tokens_map.json"),
        files={"tokenizer_config.json": '{"tokenizer_class": "NopeTokenizer"}'},
    )
    _bad_input(["tokens", "audit", str(cand)], capsys, str(cand), "tokenizer does not load")


class _Pickled:
    """Something a pytorch_model.bin may hold that weights_only loading refuses."""


def test_a_bin_that_weights_only_refuses_is_one_line(
    minilm_checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cand = _variant(minilm_checkpoint, tmp_path / "c", drop=("model.safetensors",))
    state = {"embeddings.word_embeddings.weight": torch.zeros(3, 384), "extra": _Pickled()}
    torch.save(state, cand / "pytorch_model.bin")
    line = _bad_input(["tokens", "audit", str(cand)], capsys, "pytorch_model.bin")
    assert "\x1b" not in line
