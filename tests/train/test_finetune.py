"""Fine-tuning the tiny reference model for a few steps: resume, guards, outputs, lineage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tripwire.artifacts import ArtifactKind, Checkpoint, Manifest, Registry, ensure_manifest
from tripwire.errors import BadInputError
from tripwire.train import (
    STAMP_KEY,
    TrainConfig,
    finetune,
    load_tuned,
    reference_language_data,
    tokenizer_sha256,
)
from tripwire.train._model import merged_checkpoint

FAST = TrainConfig(
    learning_rate=1e-3,
    steps=4,
    batch_size=2,
    context=32,
    warmup_steps=1,
    checkpoint_every=2,
    fisher_samples=2,
)


class Crash(Exception):
    pass


def _crash_after(step: int):
    def progress(task: str, done: float, total: float) -> None:
        if task == "train" and done == step:
            raise Crash

    return progress


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(str(path / "model.safetensors"))


@pytest.mark.slow
def test_a_resumed_run_ends_identical_to_an_uninterrupted_one(
    tiny_reference, python_data, tmp_path
) -> None:
    replay = reference_language_data(tiny_reference, "c", tmp_path / "c.jsonl", limit=3)
    config = TrainConfig(**{**FAST.to_dict(), "regularizer": "ewc", "replay_ratio": 0.5})
    whole = finetune(
        tiny_reference, python_data, tmp_path / "whole", config, replay=replay, allow_unaudited=True
    )
    with pytest.raises(Crash):
        finetune(
            tiny_reference,
            python_data,
            tmp_path / "crashed",
            config,
            replay=replay,
            allow_unaudited=True,
            progress=_crash_after(3),
        )
    assert not (tmp_path / "crashed").exists()  # nothing half-written
    assert (tmp_path / "crashed.train-state" / "step-000002").is_dir()
    resumed = finetune(
        tiny_reference,
        python_data,
        tmp_path / "crashed",
        config,
        replay=replay,
        allow_unaudited=True,
    )
    assert resumed.loop.resumed_from == 2 and whole.loop.resumed_from == 0
    assert resumed.loop.task_loss == whole.loop.task_loss
    a, b = _weights(tmp_path / "whole"), _weights(tmp_path / "crashed")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not (tmp_path / "crashed.train-state").exists()
    # and the run actually changed the model
    base = Checkpoint.open(tiny_reference)
    assert not torch.equal(
        a["transformer.h.0.attn.c_attn.weight"],
        base.read_tensor("transformer.h.0.attn.c_attn.weight"),
    )


@pytest.mark.slow
def test_checkpoint_has_manifest_lineage_and_is_registered(
    tiny_reference, python_data, tmp_path
) -> None:
    config = TrainConfig(**{**FAST.to_dict(), "steps": 2, "replay_ratio": 0.5})
    registry = Registry()
    result = finetune(
        tiny_reference,
        python_data,
        tmp_path / "out",
        config,
        allow_unaudited=True,
        registry=registry,
    )
    manifest = Manifest.read(tmp_path / "out")
    base_id = ensure_manifest(tiny_reference, ArtifactKind.MODEL).id
    data_id = ensure_manifest(python_data, ArtifactKind.DATASET).id
    replay_file = tiny_reference / "reference_corpus" / "train.jsonl"
    replay_id = ensure_manifest(replay_file, ArtifactKind.DATASET).id
    assert manifest.parents == (base_id, data_id, replay_id)
    assert manifest.notes["train"]["config"] == config.to_dict()
    assert manifest.notes[STAMP_KEY] == tokenizer_sha256(Checkpoint.open(tiny_reference))
    assert registry.get(manifest.id).path == str(tmp_path / "out")
    assert set(registry.parents(manifest.id)) == {base_id, data_id, replay_id}
    assert result.target_languages == ["python"]
    # a loadable Hugging Face checkpoint with the base's tokenizer, byte for byte
    ckpt = Checkpoint.open(tmp_path / "out")
    assert ckpt.is_causal_lm and tokenizer_sha256(ckpt) == manifest.notes[STAMP_KEY]
    history = json.loads((tmp_path / "out" / "train_history.json").read_text())
    assert len(history["task_loss"]) == 2


@pytest.mark.slow
def test_lora_adapter_and_merged_outputs_agree(tiny_reference, python_data, tmp_path) -> None:
    config = TrainConfig(
        **{
            **FAST.to_dict(),
            "steps": 2,
            "method": "lora",
            "learning_rate": 1e-2,
            "lora_r": 4,
            "regularizer": "lwf",
        }
    )
    finetune(tiny_reference, python_data, tmp_path / "merged", config, allow_unaudited=True)
    adapter_config = TrainConfig(**{**config.to_dict(), "lora_save": "adapter"})
    finetune(
        tiny_reference, python_data, tmp_path / "adapter", adapter_config, allow_unaudited=True
    )
    assert (tmp_path / "adapter" / "adapter_config.json").is_file()
    ids = torch.tensor([[5, 17, 301, 42, 7]])
    with torch.no_grad():
        merged = load_tuned(tmp_path / "merged")(input_ids=ids).logits
        adapted = load_tuned(tmp_path / "adapter")(input_ids=ids).logits
        base = Checkpoint.open(tiny_reference).load_model(causal=True)(input_ids=ids).logits
        # what forgetting_report evaluates for an adapter: a plain checkpoint, merged and cached
        plain = merged_checkpoint(tmp_path / "adapter")
        evaluated = Checkpoint.open(plain).load_model(causal=True)(input_ids=ids).logits
    torch.testing.assert_close(merged, adapted, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(evaluated, adapted, rtol=1e-4, atol=1e-4)
    assert merged_checkpoint(tmp_path / "merged") == tmp_path / "merged"
    assert not torch.allclose(merged, base)


def test_refuses_data_stamped_for_another_tokenizer(tiny_reference, python_data, tmp_path) -> None:
    Manifest.build(python_data, ArtifactKind.DATASET, notes={STAMP_KEY: "ab" * 32}).write(
        python_data
    )
    with pytest.raises(BadInputError, match="tokenizer stamp abababababab does not match"):
        finetune(tiny_reference, python_data, tmp_path / "out", FAST, allow_unaudited=True)
    assert not (tmp_path / "out").exists()


def test_accepts_data_stamped_for_its_own_tokenizer(tiny_reference, python_data, tmp_path) -> None:
    stamp = tokenizer_sha256(Checkpoint.open(tiny_reference))
    Manifest.build(python_data, ArtifactKind.DATASET, notes={STAMP_KEY: stamp}).write(python_data)
    config = TrainConfig(**{**FAST.to_dict(), "steps": 1})
    assert finetune(
        tiny_reference, python_data, tmp_path / "out", config, allow_unaudited=True
    ).path.is_dir()


def test_refuses_token_ids_outside_the_vocabulary(tiny_reference, tmp_path) -> None:
    vocab = Checkpoint.open(tiny_reference).vocab_size
    data = tmp_path / "tokens.jsonl"
    data.write_text(
        json.dumps({"id": "a", "input_ids": [1, 2, 3]})
        + "\n"
        + json.dumps({"id": "b", "input_ids": [4, vocab + 7, 5]})
        + "\n"
    )
    with pytest.raises(BadInputError, match=rf"tokens.jsonl:2: token id {vocab + 7} is outside"):
        finetune(tiny_reference, data, tmp_path / "out", FAST, allow_unaudited=True)


def test_refuses_data_the_audit_blocks_unless_allowed(tiny_reference, tmp_path) -> None:
    data = tmp_path / "leaky.jsonl"
    records = [
        {
            "id": f"r{i}",
            "prompt": f"Write function number {i}.",
            "response": f"def f{i}(x):\n    return x + {i}\n",
        }
        for i in range(3)
    ]
    records.append(
        {
            "id": "leak",
            "prompt": "Configure the client.",
            "response": 'KEY = "AKIAIOSFODNN7EXAMPLF"\nclient = connect(KEY)\n',
        }
    )
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(BadInputError, match=r"audit blocks this data.*leak"):
        finetune(tiny_reference, data, tmp_path / "out", FAST)
    config = TrainConfig(**{**FAST.to_dict(), "steps": 1})
    assert finetune(
        tiny_reference, data, tmp_path / "out", config, allow_unaudited=True
    ).data.kinds == {"instruction": 4}


def test_bad_config_and_records_are_one_line_errors(tiny_reference, tmp_path) -> None:
    with pytest.raises(BadInputError, match="--replay-ratio"):
        TrainConfig(replay_ratio=1.5)
    data = tmp_path / "bad.jsonl"
    data.write_text(json.dumps({"id": "x", "messages": [{"role": "user", "content": "hi"}]}) + "\n")
    with pytest.raises(BadInputError, match=r"bad.jsonl:1: unusable chat record: no assistant"):
        finetune(tiny_reference, data, tmp_path / "out", FAST, allow_unaudited=True)
