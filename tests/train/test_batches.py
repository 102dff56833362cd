"""Prompt formats, loss masks, packing and replay mixing on the tiny reference tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tripwire.artifacts import Checkpoint
from tripwire.train import (
    IGNORE,
    PackedStream,
    TrainRecord,
    make_batch,
    replay_rows_at,
    segments,
    to_example,
)


@pytest.fixture(scope="module")
def tokenizer(tiny_reference: Path):
    return Checkpoint.open(tiny_reference).load_tokenizer()


def _trained_text(tokenizer, record: TrainRecord, fmt: str) -> str:
    ex = to_example(record, tokenizer, fmt)
    return tokenizer.decode([i for i, m in zip(ex.ids, ex.mask, strict=True) if m])


INSTRUCTION = TrainRecord(
    "1", "instruction", prompt="Add two numbers.", response="def add(a, b):\n    return a + b\n"
)
CHAT = TrainRecord(
    "2",
    "chat",
    messages=(
        ("system", "Be brief."),
        ("user", "Square x."),
        ("assistant", "x * x"),
        ("user", "Cube it."),
        ("assistant", "x ** 3"),
    ),
)


@pytest.mark.parametrize("fmt", ["plain", "alpaca", "chatml"])
def test_instruction_loss_is_on_the_response_only(tokenizer, fmt: str) -> None:
    assert _trained_text(tokenizer, INSTRUCTION, fmt).strip().startswith("def add(a, b):")
    assert "Add two numbers" not in _trained_text(tokenizer, INSTRUCTION, fmt)
    full = "".join(text for text, _ in segments(INSTRUCTION, fmt))
    assert "Add two numbers." in full and "return a + b" in full


def test_chat_trains_every_assistant_turn_and_nothing_else(tokenizer) -> None:
    trained = _trained_text(tokenizer, CHAT, "chatml")
    assert trained == "x * x<|im_end|>x ** 3<|im_end|>"


def test_code_records_train_on_every_token(tokenizer) -> None:
    ex = to_example(
        TrainRecord("3", "code", text="int main(void) { return 0; }\n"), tokenizer, "plain"
    )
    assert all(ex.mask) and tokenizer.decode(ex.ids) == "int main(void) { return 0; }\n"


def test_instruction_windows_start_at_an_example_and_mask_the_prompt(tokenizer) -> None:
    examples = [to_example(INSTRUCTION, tokenizer, "plain")] * 3
    eos = tokenizer.eos_token_id
    stream = PackedStream(examples, eos, tokenizer.pad_token_id, 16, [False] * 3)
    inputs, labels, valid = stream.windows(8, torch.Generator().manual_seed(0))
    assert (inputs[:, 0] == eos).all()  # every window starts at an example boundary
    prompt = len(tokenizer.backend_tokenizer.encode("Add two numbers.\n").ids)
    assert (labels[:, :prompt] == IGNORE).all()
    assert (labels[:, prompt] != IGNORE).all()
    assert valid.all()


def test_replay_share_tracks_the_ratio_exactly() -> None:
    rows = [replay_rows_at(s, 8, 0.1) for s in range(100)]
    assert sum(rows) == 80 and set(rows) == {0, 1}
    assert [replay_rows_at(s, 16, 0.25) for s in range(5)] == [4] * 5
    assert replay_rows_at(3, 8, 0.0) == 0


def test_batches_are_a_function_of_seed_and_step(tokenizer) -> None:
    code = [
        to_example(TrainRecord(str(i), "code", text=f"x{i} = {i}\n" * 40), tokenizer, "plain")
        for i in range(4)
    ]
    task = PackedStream(code[:2], tokenizer.eos_token_id, tokenizer.pad_token_id, 12, [True] * 2)
    replay = PackedStream(code[2:], tokenizer.eos_token_id, tokenizer.pad_token_id, 12, [True] * 2)
    a = make_batch(5, 0, 4, task, replay, 0.25)
    b = make_batch(5, 0, 4, task, replay, 0.25)
    c = make_batch(6, 0, 4, task, replay, 0.25)
    assert torch.equal(a.input_ids, b.input_ids) and not torch.equal(a.input_ids, c.input_ids)
    assert a.replay_rows == 1 and a.input_ids.shape == (4, 12)
    replay_text = tokenizer.decode(a.input_ids[-1].tolist())
    assert "x2" in replay_text or "x3" in replay_text
