"""``hf:DIR``: a local transformers checkpoint; batched, CPU by default, GPU when present.

Besides generation it scores text (log-likelihood), which the retention suite needs. Only causal
LMs whose tokenizer fits their embedding table are accepted (see ``artifacts._preflight``).

Work is sized by the memory budget (``--max-memory``, see ``tripwire.compute``): scoring batches
hold a number of tokens, not of windows, padded to their longest text, and vocabulary-sized
logits exist a chunk of positions at a time; generation batches are sized by their KV cache,
and every sequence leaves its batch when it ends. A model whose weights alone do not fit the
budget is refused before it is loaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from tripwire.artifacts import Checkpoint, Manifest, check_runnable, ensure_manifest
from tripwire.compute import Footprint, MemoryBudget, current_budget, require_fits
from tripwire.errors import BadInputError
from tripwire.evals._backend import CheckpointBackend, register_backend
from tripwire.evals._chat import chat_prompt_ids, describe_format, end_of_turn_ids
from tripwire.evals._extract import answer_complete
from tripwire.evals._generation import GenerationConfig, cut_at_stop
from tripwire.evals._types import Sample, Task
from tripwire.progress import Progress, no_progress

DEFAULT_WINDOW = 2048
"""Tokens a scored text is split into windows of, at most (and at most the model's context)."""


@register_backend
class HFBackend(CheckpointBackend):
    scheme = "hf"

    def __init__(
        self,
        path: str | Path,
        config: GenerationConfig | None = None,
        batch_size: int | None = None,
        manifest: Manifest | None = None,
        *,
        budget: MemoryBudget | None = None,
        device: str | None = None,
    ) -> None:
        """``manifest``: the checkpoint's, when the caller already hashed it (saves a rehash).
        ``batch_size``: most sequences generated together (default: as many as the budget
        allows, up to ``_decode.MAX_ROWS``). ``budget``: default the command's ``--max-memory``.

        Refuses (``NotRunnableError``, a one-line bad input) a checkpoint whose forward pass
        cannot run: tokenizer ids past the embedding table, a config vocab_size the weights
        disagree with, or no causal LM; and (``--max-memory``) one whose weights do not fit
        the budget. Checked first, before hashing the weights, the suite's self-test or
        loading the model, since otherwise the forward pass would fail (or be killed) mid-run."""
        self.checkpoint = Checkpoint.open(path)
        check_runnable(self.checkpoint, self.tokenizer)
        self.config = config or GenerationConfig()
        self.batch_size = batch_size
        import torch

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.footprint = Footprint.of(self.checkpoint)
        self.budget = (budget or current_budget()).for_device(self.device)
        require_fits(f"hf:{path}", {"for its weights": self.footprint.weight_bytes}, self.budget)
        self._manifest = manifest or ensure_manifest(path, "model")

    @cached_property
    def model(self):  # type: ignore[no-untyped-def]
        return self.checkpoint.load_model(causal=True).to(self.device)

    def release(self) -> None:
        """Drop the loaded model (it loads again on next use): a caller that runs several models
        one after the other holds one at a time."""
        self.__dict__.pop("model", None)

    @cached_property
    def tokenizer(self):  # type: ignore[no-untyped-def]
        tok = self.checkpoint.load_tokenizer()
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        return tok

    @property
    def context(self) -> int:
        cfg = self.checkpoint.config
        return int(cfg.get("n_positions") or cfg.get("max_position_embeddings") or 2048)

    def describe(self) -> dict[str, Any]:
        return {
            **self._description(self.checkpoint.path),
            "prompt_format": describe_format(self.config.prompt_format, self.tokenizer),
        }

    def _start_id(self) -> int:
        """The token a document starts after: BOS, else EOS (the tokenizer's, else the config's).
        (Padding needs no such token: padded positions are masked out.)"""
        tok, cfg = self.tokenizer, self.checkpoint.config
        for value in (tok.bos_token_id, tok.eos_token_id, cfg.get("bos_token_id"),
                      cfg.get("eos_token_id")):  # fmt: skip
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        raise BadInputError(self.checkpoint.path, "neither its tokenizer nor its config.json "
                            "names a BOS or EOS token to start a text after")  # fmt: skip

    # --- generation ---------------------------------------------------------------------------
    def _eos_ids(self, chat: bool) -> set[int]:
        ids = (
            {int(self.tokenizer.eos_token_id)} if self.tokenizer.eos_token_id is not None else set()
        )
        ids |= _generation_eos_ids(self.checkpoint.path / "generation_config.json")
        return ids | (end_of_turn_ids(self.tokenizer) if chat else set())

    def _job(self, task: Task, idx: int, chat: bool):  # type: ignore[no-untyped-def]
        from tripwire.evals._decode import DecodeJob, job_seed

        cfg = self.config
        wanted = task.max_new_tokens or cfg.max_new_tokens
        # small-context models (the reference model has 128) share the window: prompt tail
        new_tokens = min(wanted, self.context // 2)
        room = self.context - new_tokens
        if chat and task.instruction is not None:
            ids = chat_prompt_ids(self.tokenizer, task.instruction)[-room:]
            stops, entry = cfg.stop, task.entry_point

            def stop(text: str) -> int | None:
                # the user's stop sequences, or the end of the block the extraction takes
                ends = [
                    x
                    for x in (_first_stop(text, stops), answer_complete(text, entry))
                    if x is not None
                ]
                return min(ends) if ends else None
        else:
            # the prompt's tail is what matters for continuing it; keep what fits the context
            ids = self.tokenizer(task.prompt).input_ids[-room:]
            stops = task.stop + cfg.stop

            def stop(text: str) -> int | None:
                return _first_stop(text, stops)

        if not ids:  # an empty prompt: generate from the start of a document, as scoring does
            ids = [self._start_id()]
        return DecodeJob(
            (task.task_id, idx), ids, new_tokens, stop, job_seed(cfg.seed, task.task_id, idx)
        )

    def generate(
        self, tasks: Sequence[Task], n: int | None, progress: Progress = no_progress
    ) -> Iterator[Sample]:
        from tripwire.compute import RUNTIME_BYTES
        from tripwire.evals._chat import resolve_format
        from tripwire.evals._decode import MAX_ROWS, decode, kv_batches

        fmt = resolve_format(self.config.prompt_format, self.tokenizer)
        chat = {t.task_id: fmt == "chat" and t.instruction is not None for t in tasks}
        jobs = [self._job(t, i, chat[t.task_id]) for t in tasks for i in range(n or 1)]
        if not jobs:
            return
        fp = self.footprint
        kv, act = (
            fp.kv_bytes_per_token(),
            fp.forward_bytes_per_token(max(len(j.prompt_ids) for j in jobs)),
        )
        logits = fp.logits_bytes(MAX_ROWS)
        longest = max(jobs, key=lambda j: len(j.prompt_ids) + j.max_new_tokens)
        one = (len(longest.prompt_ids) + longest.max_new_tokens) * kv + len(
            longest.prompt_ids
        ) * act
        require_fits("generation", {"for the weights": fp.weight_bytes, "for one sequence's KV "
                     "cache and prompt": one, "for logits": logits}, self.budget,
                     hint="raise --max-memory or lower --max-new-tokens")  # fmt: skip
        spare = self.budget.bytes - RUNTIME_BYTES - fp.weight_bytes - logits
        batches = kv_batches(jobs, kv, act, spare, self.batch_size or MAX_ROWS)
        tok = self.tokenizer
        # sequences end out of order (batched by length, each stopping on its own); samples are
        # handed on in task order, each as soon as all before it are done
        ready: dict[int, Sample] = {}
        order = {j.key: k for k, j in enumerate(jobs)}
        following = 0
        for d in decode(self.model, tok, jobs, eos_ids=self._eos_ids(any(chat.values())),
                        pad_id=tok.pad_token_id or 0, temperature=self.config.temperature,
                        top_p=self.config.top_p, batches=batches, progress=progress):  # fmt: skip
            task_id, idx = d.key
            ready[order[d.key]] = Sample(task_id, idx, d.text,
                                         "chat" if chat[task_id] else "completion")  # fmt: skip
            while following in ready:
                yield ready.pop(following)
                following += 1

    # --- likelihood ---------------------------------------------------------------------------
    def loglikelihood(
        self,
        texts: Sequence[str],
        progress: Progress = no_progress,
        *,
        window: int | None = None,
        overlap: int = 0,
    ) -> list[tuple[float, int]]:
        """``(nats, tokens)`` of each text, scored from the start of a document (after the BOS
        token, else EOS). Texts longer than ``window`` tokens (default ``DEFAULT_WINDOW``, at
        most the model's context less one) are scored in consecutive windows, each re-reading
        ``overlap`` tokens of the one before as context (see ``tripwire.compute._batching``)."""
        import torch

        from tripwire.compute._scoring import scoring_batch_tokens, stream_nll

        tok = self.tokenizer
        size = min(window or DEFAULT_WINDOW, self.context - 1)
        max_tokens = scoring_batch_tokens(self.footprint, self.budget, size)
        bos = self._start_id()
        streams = [[bos, *e.ids] for e in tok.backend_tokenizer.encode_batch(list(texts))]
        with torch.inference_mode():
            nll = stream_nll(self.model, streams, window=size, overlap=overlap,
                             max_tokens=max_tokens, pad_id=tok.pad_token_id or 0,
                             progress=progress)  # fmt: skip
        return [(float(x.sum()), len(x)) for x in nll]


def _generation_eos_ids(path: Path) -> set[int]:
    """The ``eos_token_id`` (one id or a list) of a checkpoint's ``generation_config.json``;
    loading the model tolerates a broken one, but generation would stop at the wrong token."""
    if not path.is_file():
        return set()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadInputError(path, f"not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise BadInputError(path, f"expected a JSON object, got {type(doc).__name__}")
    value = doc.get("eos_token_id")
    values = value if isinstance(value, list) else [value]
    if not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values):
        raise BadInputError(path, f"eos_token_id: expected a token id or a list of them, got "
                            f"{value!r:.80}")  # fmt: skip
    return {v for v in values if v is not None}


def _first_stop(text: str, stops: Sequence[str]) -> int | None:
    cut = len(cut_at_stop(text, tuple(stops)))
    return cut if cut < len(text) else None
