"""`tripwire train finetune` fed by another team: data in the shapes other tools write (which the
audit reads, so training must read them too), and inputs that must be one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tripwire.cli import main
from tripwire.train._data import read_records

CODE = "def add(a, b):\n    return a + b\n"

SHAPES: dict[str, tuple[dict[str, Any], tuple[tuple[str, str], ...]]] = {
    # record in another tool's shape -> the (role, text) turns training must see
    "alpaca": (
        {"instruction": "Add two numbers", "input": "ints", "output": CODE},
        (("user", "Add two numbers\n\nints"), ("assistant", CODE)),
    ),
    "dolly": (
        {"instruction": "Add", "context": "", "response": CODE, "category": "code"},
        (("user", "Add"), ("assistant", CODE)),
    ),
    "sharegpt": (
        {"conversations": [{"from": "human", "value": "Add"}, {"from": "gpt", "value": CODE}]},
        (("user", "Add"), ("assistant", CODE)),
    ),
    "openai-parts": (
        {
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Add"}]},
                {"role": "assistant", "content": [{"type": "text", "text": CODE}]},
            ]
        },
        (("user", "Add"), ("assistant", CODE)),
    ),
    "openai-tool-call": (
        {
            "messages": [
                {"role": "user", "content": "Add"},
                {"role": "assistant", "content": None, "tool_calls": [{"id": "c1"}]},
                {"role": "tool", "content": "3"},
                {"role": "assistant", "content": CODE},
            ]
        },
        (("user", "Add"), ("tool", "3"), ("assistant", CODE)),
    ),
}


def _jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _turns(rec: Any) -> tuple[tuple[str, str], ...]:
    if rec.kind == "instruction":
        return (("user", rec.prompt), ("assistant", rec.response))
    return rec.messages


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_shapes_the_audit_reads_are_trained_on_the_text_it_checked(
    shape: str, tmp_path: Path
) -> None:
    """Each was refused as 'unusable record' (exit 2) although the audit had passed it."""
    record, turns = SHAPES[shape]
    (rec,) = read_records([_jsonl(tmp_path / "set.jsonl", [record])])
    assert _turns(rec) == turns


def test_a_language_in_lang_is_the_target_language(tmp_path: Path) -> None:
    """Hugging Face code exports name it ``lang``: read as no language, a python fine-tune's
    python regression counted as forgetting another language."""
    data = _jsonl(tmp_path / "code.jsonl", [{"text": CODE, "lang": "Python"}])
    assert [r.language for r in read_records([data])] == ["python"]


def test_an_alpaca_set_that_passes_the_audit_trains(
    tiny_reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [{"instruction": f"Return {i}", "input": "", "output": f"x = {i}\n"}
               for i in range(4)]  # fmt: skip
    data = _jsonl(tmp_path / "alpaca.jsonl", records)
    out = tmp_path / "tuned"
    code = main(["train", "finetune", str(tiny_reference), "--data", str(data), "--out",
                 str(out), "--steps", "2", "--batch-size", "2", "--context", "64",
                 "--no-eval"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert (out / "config.json").is_file()


def test_a_prompt_longer_than_the_context_is_left_out_and_said(
    tiny_reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Windows of an instruction start at its prompt: one that fills the context trained on
    nothing, and the run reported a task loss of 0.000 and exit 0. A few such records in a real
    set are left out with a notice naming one; a set of nothing else is bad input."""
    records = [{"prompt": "Write f", "response": CODE},
               {"prompt": "word " * 400, "response": CODE}]  # fmt: skip
    data = _jsonl(tmp_path / "set.jsonl", records)
    out = tmp_path / "tuned"
    args = ["--steps", "2", "--batch-size", "2", "--context", "64", "--no-eval",
            "--allow-unaudited"]  # fmt: skip
    code = main(["train", "finetune", str(tiny_reference), "--data", str(data), "--out",
                 str(out), *args])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    assert "1 records left out of training" in err and f"{data}:2: nothing to train on" in err
    only = _jsonl(tmp_path / "long.jsonl", records[1:])
    out = tmp_path / "tuned-long"
    code = main(["train", "finetune", str(tiny_reference), "--data", str(only), "--out",
                 str(out), *args])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"error: {only}:1: nothing to train on within the context"), err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_a_copy_of_a_held_out_record_is_not_trained_on(tmp_path: Path) -> None:
    """A folder with the set twice (say a JSONL and its Parquet export): the held-out records'
    copies were trained on, so the target gain was measured on text the model had seen."""
    from tripwire.train._target import split_target, target_text

    folder = tmp_path / "set"
    folder.mkdir()
    records = [{"prompt": f"Return {i}", "response": f"def f{i}():\n    return {i}\n"}
               for i in range(20)]  # fmt: skip
    _jsonl(folder / "a.jsonl", records)
    _jsonl(folder / "b.jsonl", records)
    train, split = split_target(read_records([folder]), folder, 0.1)
    assert split.heldout
    held = {target_text(r) for r in split.heldout}
    assert not held & {target_text(r) for r in train}
    assert split.trained == len(train) == 40 - 2 * len(held)


def test_a_split_that_would_leave_nothing_to_train_on_is_not_made(tmp_path: Path) -> None:
    from tripwire.train._target import split_target

    data = _jsonl(
        tmp_path / "same.jsonl", [{"prompt": f"p{i}", "response": CODE} for i in range(20)]
    )
    records = read_records([data])
    train, split = split_target(records, data, 0.5)
    assert train == records and not split.heldout
    assert "nothing would be left to train on" in split.describe()


@pytest.mark.parametrize("mask", [["false", "true"], [0.5, 1], [None, 1], [[0], 1]])
def test_a_loss_mask_of_other_values_is_refused(mask: list[Any], tmp_path: Path) -> None:
    """``bool("false")`` is True: the ids it meant to mask were trained on."""
    from tripwire.errors import BadInputError

    data = _jsonl(tmp_path / "tokens.jsonl", [{"input_ids": [1, 2], "loss_mask": mask}])
    with pytest.raises(BadInputError, match=r"tokens.jsonl:1: loss_mask must be a list of bool"):
        read_records([data])


def test_a_loss_mask_of_booleans_or_bits_is_read(tmp_path: Path) -> None:
    data = _jsonl(tmp_path / "tokens.jsonl", [{"input_ids": [1, 2, 3], "loss_mask": [0, True, 1]}])
    assert read_records([data])[0].loss_mask == (False, True, True)


@pytest.mark.parametrize("option", ["--data", "--replay"])
def test_an_option_given_twice_is_refused(
    option: str, tiny_reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last one alone was trained on: half the data, silently."""
    a = _jsonl(tmp_path / "a.jsonl", [{"text": CODE}])
    b = _jsonl(tmp_path / "b.jsonl", [{"text": CODE + "\n"}])
    out = tmp_path / "tuned"
    args = ["--data", str(a)] if option == "--replay" else []
    code = main(["train", "finetune", str(tiny_reference), *args, option, str(a), option, str(b),
                 "--out", str(out), "--steps", "2", "--no-eval", "--allow-unaudited"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"error: {option}: given 2 times"), err
    assert not out.exists()
