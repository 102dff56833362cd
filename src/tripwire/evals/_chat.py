"""Talking to an instruct model through its own chat template.

Which format a run used is part of its identity (an instruct model scores very differently on a
raw completion prompt and on a chat request), so a backend resolves ``auto`` to ``chat`` or
``completion`` once and records it with the template's hash.
"""

from __future__ import annotations

from typing import Any

from tripwire.artifacts import sha256_bytes
from tripwire.errors import BadInputError
from tripwire.evals._generation import PROMPT_FORMATS

_MARK = "\u2063tripwire-end-of-turn\u2063"


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def resolve_format(setting: str, tokenizer: Any) -> str:
    """``auto``: ``chat`` when the tokenizer has a chat template, else ``completion``."""
    if setting not in PROMPT_FORMATS:
        raise BadInputError(
            "--prompt-format", f"expected {', '.join(PROMPT_FORMATS)}, got {setting!r}"
        )
    if setting == "auto":
        return "chat" if has_chat_template(tokenizer) else "completion"
    if setting == "chat" and not has_chat_template(tokenizer):
        raise BadInputError(
            "--prompt-format", "chat, but the model's tokenizer has no chat template"
        )
    return setting


def describe_format(setting: str, tokenizer: Any) -> dict[str, Any]:
    """What a run records: the setting, what it resolved to, and the template's hash."""
    resolved = resolve_format(setting, tokenizer)
    out: dict[str, Any] = {"setting": setting, "used": resolved}
    if resolved == "chat":
        out["chat_template_sha256"] = sha256_bytes(str(tokenizer.chat_template).encode("utf-8"))
    return out


def chat_prompt_ids(tokenizer: Any, request: str) -> list[int]:
    """Ids of ``request`` as the user turn, with the assistant's turn opened (the template's own
    system prompt, if it adds one, included)."""
    messages = [{"role": "user", "content": request}]
    where = getattr(tokenizer, "name_or_path", "") or "the model's tokenizer"
    try:
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    except Exception as exc:  # the checkpoint's own Jinja: a syntax error, raise_exception(), ...
        problem = f"its chat template fails on a user turn: {type(exc).__name__}: {exc}"
        raise BadInputError(where, " ".join(problem.split())[:300]) from exc
    if hasattr(ids, "keys"):  # transformers 5 returns an encoding
        ids = ids["input_ids"]
    if ids and isinstance(ids[0], list):
        ids = ids[0]
    if not ids:  # nothing to continue from: the model would be asked nothing
        raise BadInputError(where, "its chat template renders a user turn as no tokens")
    return [int(i) for i in ids]


def end_of_turn_ids(tokenizer: Any) -> set[int]:
    """The special token the template closes a turn with (``<|im_end|>``, ``<|eot_id|>``,
    ``<end_of_turn>``), found by rendering a message and reading what follows its text: a chat
    model ends its answer with it, which may not be the tokenizer's ``eos_token``."""
    if not has_chat_template(tokenizer):
        return set()
    try:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": _MARK}], tokenize=False, add_generation_prompt=False
        )
    except Exception:  # a template that needs more than one plain user turn
        return set()
    if not isinstance(text, str) or _MARK not in text:
        return set()
    after = text.split(_MARK, 1)[1]
    ids = tokenizer(after, add_special_tokens=False).input_ids
    special = set(tokenizer.all_special_ids)
    added = {int(i) for i in getattr(tokenizer, "added_tokens_decoder", {})}
    return {int(ids[0])} if ids and (ids[0] in special or ids[0] in added) else set()
