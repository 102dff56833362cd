"""LoRA variants on the tiny reference model: LoRA+ learning rates, rsLoRA scaling, and DoRA
or embedding adapters that merge into the same model they train."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tripwire.artifacts import Checkpoint, Manifest
from tripwire.cli import main
from tripwire.train import TrainConfig, finetune, load_tuned
from tripwire.train._data import read_records
from tripwire.train._model import load_for_training

LORA = TrainConfig(
    method="lora",
    learning_rate=1e-3,
    steps=1,
    batch_size=2,
    context=32,
    warmup_steps=0,
    decay="constant",
    checkpoint_every=0,
    lora_r=4,
    lora_alpha=8.0,
)


def _b_step(tiny_reference: Path, data: Path, out: Path, ratio: float) -> float:
    """The largest change of a B matrix after one optimizer step (B starts at zero)."""
    config = TrainConfig(**{**LORA.to_dict(), "lora_plus_ratio": ratio, "lora_save": "adapter"})
    finetune(tiny_reference, data, out, config, allow_unaudited=True)
    weights = load_file(str(out / "adapter_model.safetensors"))
    return max(float(w.abs().max()) for n, w in weights.items() if "lora_B" in n)


def test_lora_plus_moves_b_matrices_ratio_times_faster(tiny_reference, python_data, tmp_path):
    # Adam's first step moves every weight with a gradient by exactly the learning rate
    plain = _b_step(tiny_reference, python_data, tmp_path / "plain", 1.0)
    plus = _b_step(tiny_reference, python_data, tmp_path / "plus", 16.0)
    assert plain == pytest.approx(1e-3, rel=1e-3)
    assert plus == pytest.approx(16e-3, rel=1e-3)
    recorded = Manifest.read(tmp_path / "plus").notes["train"]["config"]
    assert recorded["lora_plus_ratio"] == 16.0


def test_rslora_scales_adapters_by_alpha_over_root_rank(tiny_reference) -> None:
    ckpt = Checkpoint.open(tiny_reference)

    def scalings(**kw) -> set[float]:
        model = load_for_training(ckpt, TrainConfig(**{**LORA.to_dict(), "lora_r": 16, **kw}))
        return {m.scaling["default"] for m in model.modules() if hasattr(m, "lora_A")}

    assert scalings() == {8.0 / 16}
    assert scalings(lora_rslora=True) == {8.0 / 4}


@pytest.mark.slow
@pytest.mark.parametrize(
    "variant",
    [{"lora_dora": True}, {"lora_targets": ("c_attn", "wte"), "lora_plus_ratio": 4.0}],
    ids=["dora", "tied-input-embedding"],
)
def test_variant_merges_into_the_model_it_trained(tiny_reference, python_data, tmp_path, variant):
    config = TrainConfig(**{**LORA.to_dict(), "steps": 2, "learning_rate": 1e-2, **variant})
    finetune(tiny_reference, python_data, tmp_path / "merged", config, allow_unaudited=True)
    adapter = TrainConfig(**{**config.to_dict(), "lora_save": "adapter"})
    finetune(tiny_reference, python_data, tmp_path / "adapter", adapter, allow_unaudited=True)
    ids = torch.tensor([[5, 17, 301, 42, 7]])
    with torch.no_grad():
        merged = load_tuned(tmp_path / "merged", "cpu")(input_ids=ids).logits
        adapted = load_tuned(tmp_path / "adapter", "cpu")(input_ids=ids).logits
        base = Checkpoint.open(tiny_reference).load_model(causal=True)(input_ids=ids).logits
    torch.testing.assert_close(merged, adapted, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(merged, base, atol=1e-4)


def test_cli_rejects_a_non_positive_lora_plus_ratio(tiny_reference, python_data, tmp_path, capsys):
    out = tmp_path / "tuned"
    paths = ["--data", str(python_data), "--out", str(out)]
    flags = ["--method", "lora", "--lora-plus-ratio", "0", "--lora-rslora", "--allow-unaudited"]
    code = main(["train", "finetune", str(tiny_reference), *paths, *flags])
    assert code == 2 and "--lora-plus-ratio" in capsys.readouterr().err
    assert not out.exists()


def _pissa_model(ckpt: Checkpoint, **kw) -> torch.nn.Module:
    config = TrainConfig(**{**LORA.to_dict(), "lora_init": "pissa", **kw})
    return load_for_training(ckpt, config)


def test_pissa_starts_at_the_base_with_principal_adapters(tiny_reference) -> None:
    ckpt = Checkpoint.open(tiny_reference)
    base = ckpt.load_model(causal=True)
    model = _pissa_model(ckpt, lora_targets=("c_attn", "c_fc"))
    ids = torch.tensor([[5, 17, 301, 42, 7]])
    with torch.no_grad():
        torch.testing.assert_close(model(input_ids=ids).logits, base(input_ids=ids).logits)
    layer = model.get_base_model().transformer.h[0].attn.c_attn
    original = base.transformer.h[0].attn.c_attn.weight
    # Conv1D stores (in, out): the adapter's B @ A is the transposed top-r part of that weight
    top = torch.linalg.svd(original.T, full_matrices=False)
    rank_r = top.U[:, :4] @ torch.diag(top.S[:4]) @ top.Vh[:4]
    delta = (
        layer.scaling["default"] * layer.lora_B["default"].weight @ layer.lora_A["default"].weight
    )
    torch.testing.assert_close(delta, rank_r, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(layer.base_layer.weight, original - rank_r.T, rtol=1e-4, atol=1e-4)
    # untouched tables stay one tied parameter
    inner = model.get_base_model()
    assert inner.get_output_embeddings().weight is inner.get_input_embeddings().weight


def test_pissa_with_an_adapted_head_leaves_the_input_table_alone(tiny_reference) -> None:
    ckpt = Checkpoint.open(tiny_reference)
    base = ckpt.load_model(causal=True)
    model = _pissa_model(ckpt, lora_targets=("c_attn", "lm_head"))
    inner = model.get_base_model()
    torch.testing.assert_close(inner.get_input_embeddings().weight, base.transformer.wte.weight)
    ids = torch.tensor([[5, 17, 301, 42, 7]])
    with torch.no_grad():
        torch.testing.assert_close(model(input_ids=ids).logits, base(input_ids=ids).logits)


@pytest.mark.parametrize("dora", [False, True], ids=["lora", "dora"])
def test_pissa_trains_and_merges_into_the_model_it_trained(
    tiny_reference, python_data, tmp_path, dora
) -> None:
    from tripwire.train._finetune import _stream
    from tripwire.train._loop import train_loop
    from tripwire.train._model import frozen_teacher, save_tuned

    ckpt = Checkpoint.open(tiny_reference)
    config = replace(LORA, lora_init="pissa", lora_dora=dora, learning_rate=1e-2, steps=2)
    torch.manual_seed(0)
    model = load_for_training(ckpt, config)
    teacher = frozen_teacher(model, config)
    stream = _stream(read_records([python_data]), ckpt.load_tokenizer(), config, 32)
    train_loop(model, config, stream, None, None, None)
    ids = torch.tensor([[5, 17, 301, 42, 7]])
    with torch.no_grad():
        adapted = model(input_ids=ids).logits
        base = ckpt.load_model(causal=True)(input_ids=ids).logits
        # LwF's teacher is the starting model, not PiSSA's residual
        torch.testing.assert_close(teacher(ids), base)
    save_tuned(model, config, tiny_reference, tmp_path / "merged")
    merged = load_tuned(tmp_path / "merged", "cpu")
    with torch.no_grad():
        torch.testing.assert_close(merged(input_ids=ids).logits, adapted, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(adapted, base, atol=1e-3)
    assert Checkpoint.open(tmp_path / "merged").tie_word_embeddings


def test_cli_refuses_a_pissa_adapter_save(tiny_reference, python_data, tmp_path, capsys):
    out = tmp_path / "tuned"
    paths = ["--data", str(python_data), "--out", str(out)]
    flags = ["--method", "lora", "--lora-init", "pissa", "--lora-save", "adapter"]
    code = main(["train", "finetune", str(tiny_reference), *paths, *flags, "--allow-unaudited"])
    err = capsys.readouterr().err
    assert code == 2 and "--lora-init" in err and "--lora-save merged" in err
    assert not out.exists()


def test_cli_trains_pissa_and_records_it(tiny_reference, python_data, tmp_path) -> None:
    out = tmp_path / "tuned"
    paths = ["--data", str(python_data), "--out", str(out), "--steps", "1", "--batch-size", "2"]
    flags = ["--method", "lora", "--lora-init", "pissa", "--context", "32", "--no-eval"]
    code = main(["train", "finetune", str(tiny_reference), *paths, *flags, "--allow-unaudited"])
    assert code == 0
    assert Manifest.read(out).notes["train"]["config"]["lora_init"] == "pissa"
    assert not (out / "adapter_config.json").exists()


def test_building_adapters_prints_no_library_deprecation_noise(tiny_reference) -> None:
    # PEFT calls a transformers 5 method that warns on every LoRA run; users cannot act on it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_for_training(Checkpoint.open(tiny_reference), replace(LORA, lora_targets=("c_attn",)))
    assert not [w for w in caught if "is_gradient_checkpointing" in str(w.message)]
