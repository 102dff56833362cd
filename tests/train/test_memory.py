"""Fine-tuning within a memory budget: micro-batches and chunked logits give the weights of the
whole batch at once; gradient checkpointing changes memory, not weights; a fine-tune that cannot
fit is refused before the model loads."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from tripwire.artifacts import Checkpoint
from tripwire.cli import main
from tripwire.compute import MemoryBudget
from tripwire.errors import BadInputError
from tripwire.train import TrainConfig, read_records
from tripwire.train._batches import make_batch
from tripwire.train._finetune import _stream
from tripwire.train._loop import train_loop
from tripwire.train._memory import plan_memory
from tripwire.train._model import enable_checkpointing, frozen_teacher, load_for_training
from tripwire.train._regularizers import LwF
from tripwire.train._step import CausalParts, backward_step

CONFIG = TrainConfig(learning_rate=1e-3, steps=3, batch_size=4, context=32, warmup_steps=1,
                     checkpoint_every=0)  # fmt: skip


def _train(tiny_reference, python_data, config: TrainConfig, **loop) -> dict[str, torch.Tensor]:
    ckpt = Checkpoint.open(tiny_reference)
    torch.manual_seed(0)
    model = load_for_training(ckpt, config)
    if config.gradient_checkpointing:
        enable_checkpointing(model)
    stream = _stream(read_records([python_data]), ckpt.load_tokenizer(), config, config.context)
    reg = None
    if config.regularizer == "lwf":
        reg = LwF(frozen_teacher(model, config), config.lwf_alpha, config.lwf_temperature)
    result = train_loop(model, config, stream, None, reg, None, **loop)
    assert all(torch.isfinite(torch.tensor(result.task_loss)))
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def _gradients(tiny_reference, python_data, config: TrainConfig, **step) -> tuple:
    """One step's accumulated gradients and losses (``backward_step``)."""
    ckpt = Checkpoint.open(tiny_reference)
    torch.manual_seed(0)
    model = load_for_training(ckpt, config).train()
    stream = _stream(read_records([python_data]), ckpt.load_tokenizer(), config, config.context)
    batch = make_batch(0, 0, config.batch_size, stream, None, 0.0)
    lwf = None
    if config.regularizer == "lwf":
        lwf = LwF(frozen_teacher(model, config), config.lwf_alpha, config.lwf_temperature)
    loss = backward_step(CausalParts.of(model), batch, lwf=lwf, **step)
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return loss, grads


@pytest.mark.parametrize("regularizer", ["none", "lwf"])
def test_micro_batches_and_chunked_logits_give_the_whole_batch_gradient(
    tiny_reference, python_data, regularizer
) -> None:
    config = replace(CONFIG, regularizer=regularizer)
    whole_loss, whole = _gradients(tiny_reference, python_data, config, micro_rows=4,
                                   chunk_bytes=2**30)  # fmt: skip
    # one row at a time, logits 16 positions at a time (the head sees 2,048-wide chunks)
    small_loss, small = _gradients(tiny_reference, python_data, config, micro_rows=1,
                                   chunk_bytes=16 * 24 * 2048)  # fmt: skip
    assert small_loss.task == pytest.approx(whole_loss.task, rel=1e-5)
    assert small_loss.lwf == pytest.approx(whole_loss.lwf, rel=1e-4, abs=1e-7)
    assert whole.keys() == small.keys() and whole
    for name, value in whole.items():
        torch.testing.assert_close(small[name], value, rtol=1e-4, atol=1e-7, msg=name)


def test_gradient_checkpointing_changes_memory_not_weights(tiny_reference, python_data) -> None:
    plain = _train(tiny_reference, python_data, CONFIG)
    checkpointed = _train(tiny_reference, python_data, replace(CONFIG, gradient_checkpointing=True))
    # the same arithmetic in the same order (only recomputed): the same weights
    for name, value in plain.items():
        torch.testing.assert_close(checkpointed[name], value, rtol=1e-5, atol=1e-6, msg=name)


def test_the_budget_sets_rows_per_micro_batch(tiny_reference) -> None:
    ckpt = Checkpoint.open(tiny_reference)
    roomy = plan_memory(ckpt, CONFIG, 32, MemoryBudget(8_000_000_000, "test"))
    assert roomy.micro_rows == CONFIG.batch_size
    row = roomy.row_bytes
    tight = MemoryBudget(450_000_000 + roomy.state_bytes + roomy.chunk_bytes + 2 * row, "test")
    assert plan_memory(ckpt, CONFIG, 32, tight).micro_rows == 2
    with pytest.raises(BadInputError, match="--max-memory: fine-tuning needs about"):
        plan_memory(ckpt, CONFIG, 32, MemoryBudget(100_000_000, "test"))


def test_a_fine_tune_that_cannot_fit_is_refused_before_loading(
    tiny_reference, python_data, tmp_path, capsys
) -> None:
    out = tmp_path / "tuned"
    code = main(["train", "finetune", str(tiny_reference), "--data", str(python_data), "--out",
                 str(out), "--max-memory", "200MB", "--allow-unaudited", "--no-eval"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "--max-memory" in err and "--gradient-checkpointing" in err
    assert not out.exists()
