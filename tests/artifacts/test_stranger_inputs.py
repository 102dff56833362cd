"""Checkpoints, manifests and registry databases as other tools and hand edits leave them: each
problem is one line naming the file (exit 2), a missing driver is exit 3, never a traceback,
a hang or a wrong answer."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from tests.support.cli import tripwire as run
from tripwire.artifacts import Checkpoint, Manifest, Registry, check_runnable, manifest_path
from tripwire.artifacts._database import shown_url
from tripwire.artifacts._preflight import tokenizer_ids
from tripwire.errors import BadInputError, UnavailableError

SIDE_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json")


def _skeleton(tiny_reference: Path, dst: Path) -> Path:
    """The reference model's config and tokenizer, without weights."""
    dst.mkdir()
    for name in SIDE_FILES:
        shutil.copy(tiny_reference / name, dst / name)
    return dst


def _copy(tiny_reference: Path, dst: Path) -> Path:
    _skeleton(tiny_reference, dst)
    shutil.copy(tiny_reference / "model.safetensors", dst / "model.safetensors")
    return dst


def _raw_safetensors(path: Path, header: object, data: bytes = b"") -> None:
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


def _edit_config(ck: Path, **changes: object) -> None:
    config = json.loads((ck / "config.json").read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    (ck / "config.json").write_text(json.dumps(config))


# --- safetensors headers and weight files ----------------------------------------------------
@pytest.mark.parametrize(
    ("header", "data", "problem"),
    [
        ({"a": {"dtype": "F32", "shape": [1]}}, b"\0" * 4, "data_offsets"),
        ([1, 2, 3], b"", "JSON list, not an object"),
        ({"a": "x"}, b"", "'a' is str"),
        ({"a": {"dtype": "F32", "shape": [1], "data_offsets": ["a", 4]}}, b"\0" * 4, "offsets"),
        ({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 4]}}, b"\0" * 4, "needs 16"),
        ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, b"\0" * 4, "end before"),
        ({"a": {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]}}, b"\0" * 4, "shape"),
        ({"__metadata__": [1]}, b"", "__metadata__"),
    ],
)
def test_malformed_safetensors_header(
    tiny_reference: Path, tmp_path: Path, header: object, data: bytes, problem: str
) -> None:
    ck = _skeleton(tiny_reference, tmp_path / "ck")
    _raw_safetensors(ck / "model.safetensors", header, data)
    with pytest.raises(BadInputError, match=r"model\.safetensors") as info:
        Checkpoint.open(ck).input_embedding_name  # noqa: B018
    assert problem in str(info.value)


def test_malformed_header_exits_2_through_the_cli(tiny_reference: Path, tmp_path: Path) -> None:
    ck = _skeleton(tiny_reference, tmp_path / "ck")
    _raw_safetensors(ck / "model.safetensors", {"a": {"dtype": "F32", "shape": [1]}}, b"\0" * 4)
    done = run("tokens", "audit", str(ck), timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "model.safetensors" in done.stderr and "data_offsets" in done.stderr


def test_weights_symlink_to_nowhere(tiny_reference: Path, tmp_path: Path) -> None:
    ck = _skeleton(tiny_reference, tmp_path / "ck")
    os.symlink(tmp_path / "gone.safetensors", ck / "model.safetensors")
    with pytest.raises(BadInputError, match=r"model\.safetensors: .*symlink to nowhere"):
        Checkpoint.open(ck)


@pytest.mark.parametrize("name", ["model.safetensors", "pytorch_model.bin"])
def test_weights_that_are_a_fifo_or_a_directory(
    tiny_reference: Path, tmp_path: Path, name: str
) -> None:
    """Neither hangs (a FIFO blocks the read) nor leaks a bare OSError."""
    fifo = _skeleton(tiny_reference, tmp_path / "fifo")
    os.mkfifo(fifo / name)
    with pytest.raises(BadInputError, match="not a regular file"):
        Checkpoint.open(fifo)
    folder = _skeleton(tiny_reference, tmp_path / "folder")
    (folder / name).mkdir()
    with pytest.raises(BadInputError, match="a directory"):
        Checkpoint.open(folder)


def test_safetensors_without_tensors_is_not_read_as_a_pickle(
    tiny_reference: Path, tmp_path: Path
) -> None:
    ck = _skeleton(tiny_reference, tmp_path / "ck")
    _raw_safetensors(ck / "model.safetensors", {"__metadata__": {"format": "pt"}})
    opened = Checkpoint.open(ck)
    assert opened.tensor_names() == []
    with pytest.raises(BadInputError, match="no input-embedding tensor"):
        opened.input_embeddings()


def _shard(tiny_reference: Path, dst: Path) -> tuple[Path, list[str]]:
    ck = _skeleton(tiny_reference, dst)
    state = load_file(tiny_reference / "model.safetensors")
    names = sorted(state)
    halves = {"model-00001-of-00002.safetensors": names[::2],
              "model-00002-of-00002.safetensors": names[1::2]}  # fmt: skip
    weight_map = {}
    for file, part in halves.items():
        save_file({k: state[k] for k in part}, ck / file, metadata={"format": "pt"})
        weight_map |= dict.fromkeys(part, file)
    (ck / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    return ck, names


def test_sharded_checkpoint_reads_whole(tiny_reference: Path, tmp_path: Path) -> None:
    ck, names = _shard(tiny_reference, tmp_path / "ck")
    assert Checkpoint.open(ck).tensor_names() == names


def test_shard_index_naming_a_missing_file(tiny_reference: Path, tmp_path: Path) -> None:
    """Without the check, the tensors of the missing shard silently do not exist (a missing
    output head reads as a tied one)."""
    ck, _ = _shard(tiny_reference, tmp_path / "ck")
    (ck / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(BadInputError, match=r"index\.json: names shard 'model-00002"):
        Checkpoint.open(ck)


def test_shard_index_naming_a_tensor_its_shard_lacks(tiny_reference: Path, tmp_path: Path) -> None:
    ck, _ = _shard(tiny_reference, tmp_path / "ck")
    index = json.loads((ck / "model.safetensors.index.json").read_text())
    index["weight_map"]["lm_head.weight"] = "model-00001-of-00002.safetensors"
    (ck / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(BadInputError, match=r"'lm_head\.weight' is in 'model-00001"):
        Checkpoint.open(ck)


def test_shard_index_that_is_not_an_index(tiny_reference: Path, tmp_path: Path) -> None:
    ck, _ = _shard(tiny_reference, tmp_path / "ck")
    (ck / "model.safetensors.index.json").write_text("[1, 2]")
    with pytest.raises(BadInputError, match=r"index\.json: must be a JSON object"):
        Checkpoint.open(ck)


def test_half_precision_tables_read(tiny_reference: Path, tmp_path: Path) -> None:
    ck = _skeleton(tiny_reference, tmp_path / "ck")
    state = load_file(tiny_reference / "model.safetensors")
    save_file({k: v.to(torch.bfloat16) for k, v in state.items()}, ck / "model.safetensors")
    emb = Checkpoint.open(ck).input_embeddings()
    assert emb.dtype == torch.bfloat16 and emb.shape[0] == 2048


# --- config values ---------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["lots", 1.5, True, 0, -3, [2048]])
def test_vocab_size_of_the_wrong_type(tiny_reference: Path, tmp_path: Path, value: object) -> None:
    ck = _copy(tiny_reference, tmp_path / "ck")
    _edit_config(ck, vocab_size=value)
    with pytest.raises(BadInputError, match=r"config\.json: vocab_size must be a positive whole"):
        Checkpoint.open(ck).vocab_size  # noqa: B018


def test_vocab_size_written_as_a_float(tiny_reference: Path, tmp_path: Path) -> None:
    ck = _copy(tiny_reference, tmp_path / "ck")
    _edit_config(ck, vocab_size=2048.0)
    assert Checkpoint.open(ck).vocab_size == 2048


@pytest.mark.parametrize("value", ["false", "true", 0, 1])
def test_tie_word_embeddings_not_a_boolean(
    tiny_reference: Path, tmp_path: Path, value: object
) -> None:
    """``bool("false")`` is True: the string must not read as tied."""
    ck = _copy(tiny_reference, tmp_path / "ck")
    _edit_config(ck, tie_word_embeddings=value)
    with pytest.raises(BadInputError, match="tie_word_embeddings must be true or false"):
        Checkpoint.open(ck).tie_word_embeddings  # noqa: B018


@pytest.mark.parametrize(
    ("model_type", "tied"), [("llama", False), ("qwen2", False), ("gpt2", True), ("nonesuch", True)]
)
def test_unset_tie_is_the_model_class_default(
    tiny_reference: Path, tmp_path: Path, model_type: str, tied: bool
) -> None:
    ck = _copy(tiny_reference, tmp_path / "ck")
    _edit_config(ck, model_type=model_type, tie_word_embeddings=None)
    assert Checkpoint.open(ck).tie_word_embeddings is tied


def test_explicit_tie_wins(tiny_reference: Path, tmp_path: Path) -> None:
    ck = _copy(tiny_reference, tmp_path / "ck")
    _edit_config(ck, model_type="llama", tie_word_embeddings=True)
    assert Checkpoint.open(ck).tie_word_embeddings is True


# --- embedding names of other architectures --------------------------------------------------
@pytest.mark.parametrize(
    ("tensors", "expected"),
    [
        # T5: the table shared by encoder and decoder
        (["shared.weight", "encoder.block.0.layer.0.SelfAttention.q.weight"], "shared.weight"),
        # Mamba, RWKV
        (["backbone.embeddings.weight", "backbone.layers.0.norm.weight"],
         "backbone.embeddings.weight"),
        (["rwkv.embeddings.weight", "head.weight"], "rwkv.embeddings.weight"),
        # the specific name wins over the generic one when both are present
        (["model.embed_tokens.weight", "model.vision.embeddings.weight"],
         "model.embed_tokens.weight"),
    ],
)  # fmt: skip
def test_input_embedding_of_other_architectures(
    tiny_reference: Path, tmp_path: Path, tensors: list[str], expected: str
) -> None:
    ck = _skeleton(tiny_reference, tmp_path / "ck")
    save_file({n: torch.zeros(4, 2) for n in tensors}, ck / "model.safetensors")
    assert Checkpoint.open(ck).input_embedding_name == expected


def test_position_embeddings_are_not_the_input_table(tmp_path: Path, tiny_reference: Path) -> None:
    ck = _skeleton(tiny_reference, tmp_path / "ck")
    save_file(
        {"embeddings.position_embeddings.weight": torch.zeros(4, 2)}, ck / "model.safetensors"
    )
    with pytest.raises(BadInputError, match="no input-embedding tensor"):
        Checkpoint.open(ck).input_embedding_name  # noqa: B018


# --- manifests -------------------------------------------------------------------------------
def _manifest(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {"id": "a" * 64, "kind": "model", "name": "m",
                               "files": [{"path": "w", "sha256": "b" * 64, "size": 1}]}  # fmt: skip
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "must be an object"),
        (_manifest(parents="abc"), "parents must be a list"),
        (_manifest(parents=[1]), "parents[0] must be an artifact id"),
        (_manifest(name=["x"]), "name must be a string"),
        (_manifest(id=5), "id must be a string"),
        (_manifest(files=[{"path": "w", "sha256": "b", "size": "big"}]), "files[0].size"),
        (_manifest(files=[3]), "files[0] must be an object"),
        (_manifest(files={"w": 1}), "files must be a list"),
        (_manifest(notes=[1]), "notes must be an object"),
        ({k: v for k, v in _manifest().items() if k != "files"}, "files is missing"),
        (_manifest(kind="weights"), "kind is 'weights'"),
        (_manifest(schema_version=2), "written by a newer tripwire"),
        (_manifest(schema_version="1"), "schema_version must be a whole number"),
    ],
)
def test_hand_edited_manifest(tmp_path: Path, data: object, problem: str) -> None:
    target = tmp_path / "tripwire.json"
    target.write_text(json.dumps(data))
    with pytest.raises(BadInputError, match=r"tripwire\.json") as info:
        Manifest.read(target)
    assert problem in str(info.value)


def test_manifest_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "tripwire.json").write_bytes(b"\xff\xfe{\x00")
    with pytest.raises(BadInputError, match="unreadable manifest"):
        Manifest.read(tmp_path)


def test_manifest_of_a_fifo_or_a_device(tmp_path: Path) -> None:
    """A FIFO would hang the hash; the manifest of /dev/null would be written into /dev."""
    os.mkfifo(tmp_path / "pipe")
    for path in (tmp_path / "pipe", Path("/dev/null")):
        with pytest.raises(BadInputError, match="not a regular file or directory"):
            Manifest.build(path, "dataset")


def test_registry_add_of_dev_null_writes_nothing(tmp_path: Path) -> None:
    done = run("--registry", f"sqlite:///{tmp_path / 'r.db'}", "registry", "add", "/dev/null")
    assert done.returncode == 2, done.stderr
    assert not Path("/dev/null.tripwire.json").exists()


def test_registry_add_a_read_only_registry_refuses_leaves_no_manifest(tmp_path: Path) -> None:
    """A registry the user may read but not write (SQLite opened read-only, as a shared
    registry on a read-only mount is): refused in one line, and nothing is left beside the
    artifact (the manifest was written before the registry refused)."""
    Registry(f"sqlite:///{tmp_path / 'r.db'}").list()
    (tmp_path / "data.jsonl").write_text('{"text": "x"}\n')
    url = f"sqlite:///file:{tmp_path / 'r.db'}?mode=ro&uri=true"
    done = run("--registry", url, "registry", "add", str(tmp_path / "data.jsonl"), "--kind",
               "dataset")  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "readonly database" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not manifest_path(tmp_path / "data.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("r.db")] == ["data.jsonl"]


# --- registry databases ----------------------------------------------------------------------
def test_missing_driver_is_unavailable_and_hides_the_password() -> None:
    with pytest.raises(UnavailableError, match="mysqlclient") as info:
        Registry("mysql://user:hunter2secret@db.invalid/tw")
    assert "hunter2secret" not in str(info.value)
    assert "mysql://user:***@db.invalid/tw" in str(info.value)


def test_missing_driver_exits_3_through_the_cli() -> None:
    done = run("--registry", "mysql://user:hunter2secret@db.invalid/tw", "registry", "list")
    assert done.returncode == 3, done.stderr
    assert "hunter2secret" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_bad_url_hides_the_password() -> None:
    with pytest.raises(BadInputError) as info:
        Registry("sqlite://user:hunter2secret@/nowhere.db")
    assert "hunter2secret" not in str(info.value)
    assert "***" in str(info.value)


def test_shown_url_leaves_urls_without_a_password_alone() -> None:
    assert (
        shown_url("sqlite:///file:r.db?mode=ro&uri=true") == "sqlite:///file:r.db?mode=ro&uri=true"
    )
    assert shown_url("postgresql://u:pw1234@h/db") == "postgresql://u:***@h/db"
    assert "pw1234" not in shown_url("not a url://u:pw1234@h")


def test_registry_that_is_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "r.db").write_text("hello\n")
    with pytest.raises(BadInputError, match="file is not a database"):
        Registry(f"sqlite:///{tmp_path / 'r.db'}")


def test_database_of_another_program(tmp_path: Path) -> None:
    """A table named ``artifacts`` with other columns: refused on opening, not by a traceback
    from the first query."""
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE artifacts (x INTEGER)")
    with pytest.raises(BadInputError, match="not a tripwire registry"):
        Registry(f"sqlite:///{tmp_path / 'other.db'}")


def test_read_only_registry(tmp_path: Path) -> None:
    """Read-only databases list fine; a write is one line, not a traceback."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "w.txt").write_text("w")
    manifest = Manifest.build(tmp_path / "a", "model", command="")
    Registry(f"sqlite:///{tmp_path / 'r.db'}").register(manifest, tmp_path / "a")
    ro = Registry(f"sqlite:///file:{tmp_path / 'r.db'}?mode=ro&uri=true")
    assert [a.id for a in ro.list()] == [manifest.id]
    (tmp_path / "a" / "v.txt").write_text("v")
    with pytest.raises(BadInputError, match="readonly database"):
        ro.register(Manifest.build(tmp_path / "a", "model", command=""))


def test_registry_row_with_a_corrupt_manifest(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    Registry(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO artifacts VALUES ('abc123', 'model', 'm', '', '', 'now', '{x')")
    with pytest.raises(BadInputError, match="registry:abc123: unreadable manifest"):
        Registry(f"sqlite:///{db}").list()


def test_generic_names_deep_in_a_layer_are_not_the_head(
    tiny_reference: Path, tmp_path: Path
) -> None:
    """RWKV's layers end in ``att.output.weight`` (hidden x hidden): its head is ``head.weight``,
    and a tied model whose layers have such a name has no separate head."""
    rwkv = _skeleton(tiny_reference, tmp_path / "rwkv")
    names = ["rwkv.embeddings.weight", "rwkv.blocks.0.attention.output.weight", "head.weight"]
    save_file({n: torch.zeros(4, 2) for n in names}, rwkv / "model.safetensors")
    assert Checkpoint.open(rwkv).output_head_name == "head.weight"
    tied = _skeleton(tiny_reference, tmp_path / "tied")
    names = ["model.embed_tokens.weight", "model.layers.0.attn.output.weight"]
    save_file({n: torch.zeros(4, 2) for n in names}, tied / "model.safetensors")
    assert Checkpoint.open(tied).output_head_name is None


@pytest.mark.parametrize("shape", [(), (8,), (2, 4, 2)])
def test_embedding_that_is_not_a_table(
    tiny_reference: Path, tmp_path: Path, shape: tuple[int, ...]
) -> None:
    ck = _skeleton(tiny_reference, tmp_path / "ck")
    save_file({"transformer.wte.weight": torch.zeros(shape)}, ck / "model.safetensors")
    opened = Checkpoint.open(ck)
    with pytest.raises(BadInputError, match=r"model\.safetensors: .*is not a matrix"):
        opened.input_embedding_name  # noqa: B018
    # the preflight leaves a table it cannot name to loading (an IndexError before)
    check_runnable(opened, causal=False)


def test_architectures_written_as_one_string(tiny_reference: Path, tmp_path: Path) -> None:
    ck = _copy(tiny_reference, tmp_path / "ck")
    _edit_config(ck, architectures="GPT2LMHeadModel")
    assert Checkpoint.open(ck).is_causal_lm
    _edit_config(ck, architectures={"a": 1})
    with pytest.raises(BadInputError, match="architectures must be a list"):
        Checkpoint.open(ck).is_causal_lm  # noqa: B018


def test_deeply_nested_config(tiny_reference: Path, tmp_path: Path) -> None:
    ck = _copy(tiny_reference, tmp_path / "ck")
    (ck / "config.json").write_text("[" * 100_000)
    with pytest.raises(BadInputError, match=r"config\.json: unreadable config"):
        Checkpoint.open(ck)


def test_tokenizer_json_with_string_ids(tiny_reference: Path, tmp_path: Path) -> None:
    ck = _copy(tiny_reference, tmp_path / "ck")
    tok = json.loads((tiny_reference / "tokenizer.json").read_text())
    tok["model"]["vocab"] = {k: str(v) for k, v in tok["model"]["vocab"].items()}
    (ck / "tokenizer.json").write_text(json.dumps(tok))
    ids = tokenizer_ids(Checkpoint.open(ck))
    assert max(ids) == 2047


def test_tokenizer_config_that_is_a_list(tiny_reference: Path, tmp_path: Path) -> None:
    ck = _copy(tiny_reference, tmp_path / "ck")
    (ck / "tokenizer_config.json").write_text("[]")
    with pytest.raises(BadInputError, match=r"tokenizer_config\.json: must be a JSON object"):
        Checkpoint.open(ck).tokenizer_config()


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_manifest_place_taken_by_a_fifo_or_a_folder(tmp_path: Path, kind: str) -> None:
    """A FIFO named tripwire.json blocked ``registry add`` forever; a folder failed naming a
    temporary path."""
    art = tmp_path / "art"
    art.mkdir()
    (art / "w.txt").write_text("w")
    if kind == "fifo":
        os.mkfifo(art / "tripwire.json")
    else:
        (art / "tripwire.json").mkdir()
    done = run("--registry", f"sqlite:///{tmp_path / 'r.db'}", "registry", "add", str(art),
               timeout=60)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "tripwire.json: is not a regular file" in done.stderr
    assert Registry(f"sqlite:///{tmp_path / 'r.db'}").list() == []


def test_bin_shard_index_naming_a_missing_file(tiny_reference: Path, tmp_path: Path) -> None:
    ck = _skeleton(tiny_reference, tmp_path / "ck")
    state = load_file(tiny_reference / "model.safetensors")
    torch.save(state, ck / "pytorch_model-00001-of-00002.bin")
    weight_map = dict.fromkeys(state, "pytorch_model-00001-of-00002.bin")
    weight_map["lm_head.weight"] = "pytorch_model-00002-of-00002.bin"
    (ck / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": weight_map}))
    with pytest.raises(BadInputError, match=r"names shard 'pytorch_model-00002-of-00002\.bin'"):
        Checkpoint.open(ck)


@pytest.mark.parametrize(
    "saved", [[1, 2], {"transformer.wte.weight": [[0.0, 1.0]], "epoch": 3}]
)  # fmt: skip
def test_bin_that_is_not_a_state_dict(tiny_reference: Path, tmp_path: Path, saved: object) -> None:
    ck = _skeleton(tiny_reference, tmp_path / "ck")
    torch.save(saved, ck / "pytorch_model.bin")
    with pytest.raises(BadInputError, match=r"pytorch_model\.bin|no input-embedding tensor"):
        Checkpoint.open(ck).input_embeddings()


@pytest.mark.parametrize("ref", ["%%%%%%", "______", "a_____"])
def test_wildcards_are_not_an_id_prefix(tmp_path: Path, ref: str) -> None:
    """``rollback --to %%%%%%`` must not pick whichever artifact the LIKE pattern matches."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "w.txt").write_text("w")
    reg = Registry(f"sqlite:///{tmp_path / 'r.db'}")
    reg.register(Manifest.build(tmp_path / "a", "model", command=""), tmp_path / "a")
    with pytest.raises(BadInputError, match="not in the registry"):
        reg.get(ref)


def test_a_symlinked_manifest_is_replaced_not_followed(tmp_path):
    """A stranger's model folder whose tripwire.json links elsewhere: writing the manifest
    must not write through the link (as root, anywhere on the machine)."""
    from tripwire.artifacts import ArtifactKind, Manifest

    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"\0" * 8)
    outside = tmp_path / "outside.json"
    (model / "tripwire.json").symlink_to(outside)
    Manifest.build(model, ArtifactKind.MODEL).write(model)
    assert not outside.exists()
    assert not (model / "tripwire.json").is_symlink()
