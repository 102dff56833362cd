"""``hf:DIR``: a local transformers checkpoint; batched, CPU by default, GPU when present.

Besides generation it scores text (log-likelihood), which the retention suite needs. Only causal
LMs whose tokenizer fits their embedding table are accepted (see ``artifacts._preflight``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from tripwire.artifacts import Checkpoint, Manifest, check_runnable, ensure_manifest
from tripwire.evals._backend import Backend, register_backend
from tripwire.evals._generation import GenerationConfig, cut_at_stop
from tripwire.evals._types import Sample, Task
from tripwire.progress import Progress, no_progress
from tripwire.reference import stream_windows


@register_backend
class HFBackend(Backend):
    scheme = "hf"

    def __init__(
        self,
        path: str | Path,
        config: GenerationConfig | None = None,
        batch_size: int = 8,
        manifest: Manifest | None = None,
    ) -> None:
        """``manifest``: the checkpoint's, when the caller already hashed it (saves a rehash).

        Refuses (``NotRunnableError``, a one-line bad input) a checkpoint whose forward pass
        cannot run: tokenizer ids past the embedding table, a config vocab_size the weights
        disagree with, or no causal LM. Checked first, before hashing the weights, the suite's
        self-test or loading the model, since otherwise the forward pass would fail mid-run."""
        self.checkpoint = Checkpoint.open(path)
        check_runnable(self.checkpoint, self.tokenizer)
        self.config = config or GenerationConfig()
        self.batch_size = batch_size
        import torch

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self._manifest = manifest or ensure_manifest(path, "model")

    @classmethod
    def from_argument(cls, argument: str) -> HFBackend:
        return cls(argument)

    def with_config(self, config: GenerationConfig) -> HFBackend:
        self.config = config
        return self

    @cached_property
    def model(self):  # type: ignore[no-untyped-def]
        return self.checkpoint.load_model(causal=True).to(self.device)

    @cached_property
    def tokenizer(self):  # type: ignore[no-untyped-def]
        tok = self.checkpoint.load_tokenizer()
        tok.padding_side = "left"
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        return tok

    @property
    def context(self) -> int:
        cfg = self.checkpoint.config
        return int(cfg.get("n_positions") or cfg.get("max_position_embeddings") or 2048)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self._manifest.id,
            "label": self._manifest.name,
            "backend": self.scheme,
            "path": str(self.checkpoint.path.resolve()),
            "generation": self.config.to_dict(),
        }

    @property
    def parents(self) -> tuple[str, ...]:
        return (self._manifest.id,)

    def generate(
        self, tasks: Sequence[Task], n: int | None, progress: Progress = no_progress
    ) -> Iterator[Sample]:
        import torch

        with torch.inference_mode():
            yield from self._generate(tasks, n or 1, progress)

    def _generate(self, tasks: Sequence[Task], n: int, progress: Progress) -> Iterator[Sample]:
        import torch

        cfg = self.config
        tok, model = self.tokenizer, self.model
        jobs = [(t, i) for t in tasks for i in range(n)]
        for start in range(0, len(jobs), self.batch_size):
            batch = jobs[start : start + self.batch_size]
            wanted = max(t.max_new_tokens or cfg.max_new_tokens for t, _ in batch)
            # small-context models (the reference model has 128) share the window: prompt tail
            new_tokens = min(wanted, self.context // 2)
            budget = self.context - new_tokens
            # the prompt's tail is what matters for continuing it; keep what fits the context
            ids = [tok(t.prompt).input_ids[-budget:] for t, _ in batch]
            enc = tok.pad({"input_ids": ids}, return_tensors="pt").to(self.device)
            torch.manual_seed(cfg.seed + start)
            out = model.generate(
                **enc,
                max_new_tokens=new_tokens,
                do_sample=cfg.temperature > 0,
                temperature=cfg.temperature if cfg.temperature > 0 else None,
                top_p=cfg.top_p if cfg.temperature > 0 else None,
                pad_token_id=tok.pad_token_id,
            )
            texts = tok.batch_decode(out[:, enc.input_ids.shape[1] :], skip_special_tokens=True)
            for (task, idx), text in zip(batch, texts, strict=True):
                yield Sample(task.task_id, idx, cut_at_stop(text, task.stop + cfg.stop))
            progress("generate", min(start + self.batch_size, len(jobs)), len(jobs))

    def loglikelihood(
        self, texts: Sequence[str], progress: Progress = no_progress
    ) -> list[tuple[float, int]]:
        """``(nats, tokens)`` of each text, scored from the start of a document (after EOS);
        texts longer than the context are scored in consecutive windows."""
        import torch

        with torch.inference_mode():
            return self._loglikelihood(texts, progress)

    def _loglikelihood(self, texts: Sequence[str], progress: Progress) -> list[tuple[float, int]]:
        import torch

        tok, model = self.tokenizer, self.model
        bos = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        ctx = self.context - 1
        windows, owner = [], []
        for i, enc in enumerate(tok.backend_tokenizer.encode_batch(list(texts))):
            w = stream_windows([bos, *enc.ids], ctx)
            windows.append(w)
            owner += [i] * len(w)
        nats = [0.0] * len(texts)
        counts = [0] * len(texts)
        allw = torch.cat(windows) if windows else torch.empty((0, ctx + 1), dtype=torch.long)
        for start in range(0, len(allw), self.batch_size):
            batch = allw[start : start + self.batch_size]
            inputs, targets = batch[:, :-1].clone(), batch[:, 1:]
            valid = targets >= 0
            inputs[inputs < 0] = tok.pad_token_id
            logits = model(input_ids=inputs.to(self.device)).logits.float().cpu()
            nll = torch.nn.functional.cross_entropy(
                logits.transpose(1, 2), targets.clamp(min=0), reduction="none"
            )
            for row, i in enumerate(owner[start : start + self.batch_size]):
                nats[i] += float((nll[row] * valid[row]).sum())
                counts[i] += int(valid[row].sum())
            progress("score", min(start + self.batch_size, len(allw)), len(allw))
        return list(zip(nats, counts, strict=True))
