"""``openai:URL#MODEL`` and ``openai-chat:URL#MODEL``: any OpenAI-compatible server (vLLM, TGI,
llama.cpp server, Ollama). Requests run concurrently up to a limit and are retried with
exponential backoff on rate limits, server errors and dropped connections.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tripwire.artifacts import sha256_json
from tripwire.errors import BadInputError
from tripwire.evals._backend import Backend, register_backend
from tripwire.evals._generation import GenerationConfig, cut_at_stop
from tripwire.evals._types import Sample, Task
from tripwire.progress import Progress, no_progress

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class OpenAIError(Exception):
    """The server answered, but not with something usable."""


@register_backend
class OpenAIBackend(Backend):
    scheme = "openai"
    chat = False

    def __init__(
        self,
        base_url: str,
        model: str,
        config: GenerationConfig | None = None,
        *,
        api_key: str | None = None,
        concurrency: int = 8,
        retries: int = 5,
        timeout_s: float = 120.0,
        backoff_s: float = 0.5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.config = config or GenerationConfig()
        self.concurrency = concurrency
        self.retries = retries
        self.backoff_s = backoff_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_s)

    @classmethod
    def from_argument(cls, argument: str) -> OpenAIBackend:
        url, sep, model = argument.partition("#")
        if not sep or not model or not url.startswith(("http://", "https://")):
            raise BadInputError(f"{cls.scheme}:{argument}", "expected URL#MODEL (http(s) URL)")
        return cls(url, model, api_key=os.environ.get("OPENAI_API_KEY"))

    def with_config(self, config: GenerationConfig) -> OpenAIBackend:
        self.config = config
        return self

    def describe(self) -> dict[str, Any]:
        who = {"backend": self.scheme, "url": self.base_url, "model": self.model}
        gen = self.config.to_dict()
        return {"id": sha256_json({**who, "generation": gen}), "label": self.model, **who,
                "generation": gen}  # fmt: skip

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with retries; raises BadInputError when the server cannot be used at all."""
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            try:
                r = self._client.post(path, json=body)
                if r.status_code not in _RETRY_STATUS:
                    if r.status_code >= 400:
                        raise BadInputError(
                            f"{self.base_url}{path}", f"HTTP {r.status_code}: {r.text[:200]}"
                        )
                    return r.json()
            except (httpx.TransportError, ValueError) as exc:
                if attempt == self.retries:
                    raise BadInputError(f"{self.base_url}{path}", f"unreachable: {exc}") from exc
            if attempt < self.retries:
                time.sleep(delay)
                delay *= 2
        raise BadInputError(f"{self.base_url}{path}", f"still failing after {self.retries} retries")

    def _complete_one(self, task: Task, idx: int) -> Sample:
        cfg = self.config
        stops = list(task.stop + cfg.stop)[:4]  # the API accepts at most four
        common = {
            "model": self.model,
            "max_tokens": cfg.max_new_tokens,
            "temperature": cfg.temperature,
            "top_p": cfg.top_p,
            "seed": cfg.seed + idx,
            **({"stop": stops} if stops else {}),
        }
        if self.chat:
            body = {**common, "messages": [{"role": "user", "content": task.prompt}]}
            data = self.post("/chat/completions", body)
            text = data["choices"][0]["message"]["content"] or ""
        else:
            data = self.post("/completions", {**common, "prompt": task.prompt})
            text = data["choices"][0]["text"]
        return Sample(task.task_id, idx, cut_at_stop(text, task.stop + cfg.stop))

    def generate(
        self, tasks: Sequence[Task], n: int | None, progress: Progress = no_progress
    ) -> Iterator[Sample]:
        jobs = [(t, i) for t in tasks for i in range(n or 1)]
        with ThreadPoolExecutor(self.concurrency) as pool:
            for done, sample in enumerate(pool.map(lambda j: self._complete_one(*j), jobs), 1):
                progress("generate", done, len(jobs))
                yield sample

    def _score_one(self, text: str) -> tuple[float, int]:
        body = {"model": self.model, "prompt": text, "max_tokens": 0, "echo": True, "logprobs": 0}
        data = self.post("/completions", body)
        try:
            lps = data["choices"][0]["logprobs"]["token_logprobs"]
        except (KeyError, IndexError, TypeError) as exc:
            raise BadInputError(self.base_url, "server gives no prompt logprobs (echo)") from exc
        scored = [lp for lp in lps if lp is not None]
        return -float(sum(scored)), len(scored)

    def loglikelihood(
        self, texts: Sequence[str], progress: Progress = no_progress
    ) -> list[tuple[float, int]]:
        """``(nats, tokens)`` per text from the server's echoed prompt logprobs."""
        out = []
        with ThreadPoolExecutor(self.concurrency) as pool:
            for done, r in enumerate(pool.map(self._score_one, texts), 1):
                out.append(r)
                progress("score", done, len(texts))
        return out


@register_backend
class OpenAIChatBackend(OpenAIBackend):
    scheme = "openai-chat"
    chat = True
