"""Prompt formats: how a record becomes token ids and a loss mask.

Code files are trained on every token. Instruction and chat records are trained on the
responses only: each piece of text is tokenized on its own, so the mask follows the pieces
exactly (a response's first token never merges with the prompt's last).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tripwire.train._data import TrainRecord

Segments = list[tuple[str, bool]]
"""(text, trained) pieces of one example, in order."""


@dataclass(frozen=True)
class Example:
    """One tokenized example: ids and, per id, whether it is a loss target."""

    ids: list[int]
    mask: list[bool]
    where: str = field(default="", compare=False)
    """The record's ``file:line``, for error messages."""


def _turns(record: TrainRecord) -> list[tuple[str, str]]:
    if record.kind == "instruction":
        return [("user", record.prompt), ("assistant", record.response)]
    return list(record.messages)


def _plain(record: TrainRecord) -> Segments:
    if record.kind == "instruction":
        return [(record.prompt + "\n", False), (record.response, True)]
    out: Segments = []
    for role, content in _turns(record):
        trained = role == "assistant"
        out += [(f"{role.capitalize()}: ", False), (content + "\n", trained)]
    return out


def _alpaca(record: TrainRecord) -> Segments:
    out: Segments = []
    for role, content in _turns(record):
        if role == "assistant":
            out += [("### Response:\n", False), (content + "\n\n", True)]
        else:
            header = "### Instruction:\n" if role == "user" else f"### {role.capitalize()}:\n"
            out.append((f"{header}{content}\n\n", False))
    return out


def _chatml(record: TrainRecord) -> Segments:
    out: Segments = []
    for role, content in _turns(record):
        # the end marker is trained too: it is how the model learns to stop
        out += [
            (f"<|im_start|>{role}\n", False),
            (content + "<|im_end|>", role == "assistant"),
            ("\n", False),
        ]
    return out


FORMATS: dict[str, Callable[[TrainRecord], Segments]] = {
    "plain": _plain,
    "alpaca": _alpaca,
    "chatml": _chatml,
}


def segments(record: TrainRecord, prompt_format: str) -> Segments:
    """The text pieces of a code, instruction or chat record under ``prompt_format``."""
    if record.kind == "code":
        return [(record.text, True)]
    return FORMATS[prompt_format](record)


def to_example(record: TrainRecord, tokenizer, prompt_format: str) -> Example:  # type: ignore[no-untyped-def]
    """Token ids and loss mask of one record (pre-tokenized records pass through)."""
    if record.kind == "tokens":
        mask = record.loss_mask or tuple(True for _ in record.input_ids)
        return Example(list(record.input_ids), list(mask), record.where)
    ids: list[int] = []
    mask: list[bool] = []
    backend = tokenizer.backend_tokenizer
    for text, trained in segments(record, prompt_format):
        piece = backend.encode(text, add_special_tokens=False).ids
        ids += piece
        mask += [trained] * len(piece)
    return Example(ids, mask, record.where)


def to_examples(records: list[TrainRecord], tokenizer, prompt_format: str) -> list[Example]:  # type: ignore[no-untyped-def]
    return [to_example(r, tokenizer, prompt_format) for r in records]
