"""Can a checkpoint's forward pass run? A pre-flight check read from its files alone.

A tokenizer that emits ids past the embedding table makes ``torch.nn.functional.embedding``
raise ``IndexError`` in the middle of a run, after minutes of work; a config whose vocab_size
disagrees with the weights makes loading fail; an encoder has no next-token head to score or
generate with. All three show in the tokenizer files, the config and the safetensors header, so
an eval run refuses them before any work, and the gate turns them into findings.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tripwire.artifacts._checkpoint import Checkpoint
from tripwire.errors import BadInputError

_REMEDY = "run tripwire tokens audit/repair"
REPAIRABLE_PROBLEMS = frozenset({"ids_beyond_table", "config_vocab_mismatch", "head_rows_mismatch"})
"""The problems ``tripwire tokens repair`` fixes (the table resized to the tokenizer)."""


@dataclass(frozen=True)
class RunProblem:
    """One reason a checkpoint's forward pass cannot run."""

    kind: str
    """``tokenizer_unloadable``, ``ids_beyond_table``, ``config_vocab_mismatch``,
    ``head_rows_mismatch`` or ``not_causal_lm``."""
    message: str
    token_ids: tuple[int, ...] = ()
    """Tokenizer ids past the table, for ``ids_beyond_table``."""


class NotRunnableError(BadInputError):
    """The checkpoint cannot be run; ``problems`` says why (one line, like every bad input)."""

    def __init__(self, where: object, problems: Sequence[RunProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(str(where), "; ".join(p.message for p in self.problems))


def id_ranges(ids: Sequence[int], limit: int = 4) -> str:
    """``2048-2050`` or ``5, 9, 2048-2050, ... (12 ids)``: sorted ids as runs, the first few."""
    runs: list[list[int]] = []
    for i in sorted(ids):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs[:limit])
    return text + (f", ... ({len(ids)} ids)" if len(runs) > limit else "")


def tokenizer_ids(ckpt: Checkpoint, tokenizer: Any = None) -> set[int]:
    """Every id the tokenizer can emit: its vocabulary, added tokens and special tokens.

    With a loaded transformers ``tokenizer``, what it reports; otherwise read from
    tokenizer.json and tokenizer_config.json (much cheaper than loading one), falling back to
    loading the tokenizer for checkpoints stored another way."""
    if tokenizer is not None:
        return set(tokenizer.get_vocab().values()) | set(tokenizer.all_special_ids)
    path = ckpt.path / "tokenizer.json"
    if not path.is_file():
        return tokenizer_ids(ckpt, ckpt.load_tokenizer())
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        vocab = raw["model"]["vocab"]
        # ids as numbers: a string id would fail the comparison with the table's rows later
        values = vocab.values() if isinstance(vocab, dict) else range(len(vocab))
        ids = {int(v) for v in values}
        ids.update(int(a["id"]) for a in raw.get("added_tokens") or [])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInputError(path, f"tokenizer does not load: {exc!r}") from exc
    # transformers also adds the tokens tokenizer_config.json declares by id
    decoder = ckpt.tokenizer_config().get("added_tokens_decoder") or {}
    ids.update(int(k) for k in decoder if str(k).isdigit())
    return ids


def _embedding_problems(ckpt: Checkpoint, ids: set[int]) -> list[RunProblem]:
    try:
        name = ckpt.input_embedding_name
    except BadInputError:  # an architecture whose table we cannot name: loading will tell
        return []
    rows = int(ckpt.tensor_shape(name)[0])
    out: list[RunProblem] = []
    beyond = sorted(i for i in ids if i >= rows)
    if beyond:
        out.append(
            RunProblem(
                "ids_beyond_table",
                f"tokenizer ids {id_ranges(beyond)} are beyond the embedding table's {rows} rows "
                f"({name}): {_REMEDY}",
                tuple(beyond),
            )
        )
    if ckpt.vocab_size is not None and ckpt.vocab_size != rows:
        out.append(
            RunProblem(
                "config_vocab_mismatch",
                f"config vocab_size {ckpt.vocab_size} disagrees with the weights' {rows}-row "
                f"embedding table ({name}), so the model does not load: {_REMEDY}",
            )
        )
    head = ckpt.output_head_name
    head_rows = int(ckpt.tensor_shape(head)[0]) if head else rows
    if head_rows != rows:
        out.append(
            RunProblem(
                "head_rows_mismatch",
                f"the output head {head} has {head_rows} rows but the input table has {rows}: "
                f"{_REMEDY}",
            )
        )
    return out


def forward_problems(
    ckpt: Checkpoint, tokenizer: Any = None, *, causal: bool = True
) -> list[RunProblem]:
    """Why this checkpoint's forward pass (with its own tokenizer) cannot run; empty when it
    can. ``causal``: the caller scores or generates, which needs a causal LM."""
    out: list[RunProblem] = []
    # Architectures unset: leave it to loading, which says what it could not build.
    if causal and ckpt.architectures and not ckpt.is_causal_lm:
        archs = ", ".join(ckpt.architectures)
        out.append(
            RunProblem(
                "not_causal_lm",
                f"{archs} ({ckpt.model_type}) is not a causal language model; scoring and "
                f"generating need one",
            )
        )
    try:
        ids = tokenizer_ids(ckpt, tokenizer)
    except BadInputError as exc:
        return [*out, RunProblem("tokenizer_unloadable", str(exc))]
    return out + _embedding_problems(ckpt, ids)


def check_runnable(ckpt: Checkpoint, tokenizer: Any = None, *, causal: bool = True) -> None:
    """Raise ``NotRunnableError`` naming every problem :func:`forward_problems` finds."""
    problems = forward_problems(ckpt, tokenizer, causal=causal)
    if problems:
        raise NotRunnableError(ckpt.path, problems)
