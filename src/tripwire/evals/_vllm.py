"""``vllm:DIR``: in-process vLLM for GPU machines (optional extra ``tripwire[vllm]``).

The engine itself is not exercised by the test suite (no GPU and no vLLM wheel on the CI
machines); the import error path and the sampling settings each task gets are.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from tripwire.artifacts import Checkpoint, check_runnable, ensure_manifest
from tripwire.errors import UnavailableError
from tripwire.evals._backend import CheckpointBackend, register_backend
from tripwire.evals._generation import GenerationConfig, cut_at_stop
from tripwire.evals._types import Sample, Task
from tripwire.progress import Progress, no_progress


def sampling_args(task: Task, cfg: GenerationConfig, n: int | None) -> dict[str, Any]:
    """vLLM ``SamplingParams`` for one task, as ``hf:`` and ``openai:`` generate: the task's own
    token limit where the suite sets one, and its stop sequences given to the engine so a
    sequence ends there instead of running to the limit (the text is still cut at them)."""
    return {
        "n": n or 1,
        "temperature": cfg.temperature,
        "top_p": cfg.top_p,
        "max_tokens": task.max_new_tokens or cfg.max_new_tokens,
        "stop": list(dict.fromkeys(task.stop + cfg.stop)),
        "seed": cfg.seed,
    }


@register_backend
class VLLMBackend(CheckpointBackend):
    scheme = "vllm"

    def __init__(self, path: str | Path, config: GenerationConfig | None = None) -> None:
        try:
            import vllm  # noqa: F401
        except ImportError:
            raise UnavailableError(
                f"vllm:{path}", "needs the optional extra: pip install 'tripwire[vllm]' (GPU)"
            ) from None
        self.path = Path(path)
        # vLLM indexes the same embedding table: refuse what would fail mid-run (see _hf.py)
        check_runnable(Checkpoint.open(self.path))
        self.config = config or GenerationConfig()
        self._manifest = ensure_manifest(self.path, "model")

    @cached_property
    def llm(self):  # type: ignore[no-untyped-def]
        from vllm import LLM

        return LLM(model=str(self.path), seed=self.config.seed)

    def describe(self) -> dict[str, Any]:
        return self._description(self.path)

    def generate(
        self, tasks: Sequence[Task], n: int | None, progress: Progress = no_progress
    ) -> Iterator[Sample]:
        from vllm import SamplingParams

        cfg = self.config
        params = [SamplingParams(**sampling_args(t, cfg, n)) for t in tasks]
        outputs = self.llm.generate([t.prompt for t in tasks], params)
        for i, (task, res) in enumerate(zip(tasks, outputs, strict=True), 1):
            for idx, o in enumerate(res.outputs):
                yield Sample(task.task_id, idx, cut_at_stop(o.text, task.stop + cfg.stop))
            progress("generate", i, len(tasks))

    def loglikelihood(
        self, texts: Sequence[str], progress: Progress = no_progress
    ) -> list[tuple[float, int]]:
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=1, prompt_logprobs=0)
        out = []
        for res in self.llm.generate(list(texts), params):
            lps = [next(iter(d.values())).logprob for d in res.prompt_logprobs[1:] if d]
            out.append((-float(sum(lps)), len(lps)))
        progress("score", len(texts), len(texts))
        return out
