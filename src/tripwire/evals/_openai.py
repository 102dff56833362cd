"""``openai:URL#MODEL`` and ``openai-chat:URL#MODEL``: any OpenAI-compatible server (vLLM, TGI,
llama.cpp server, Ollama). Requests run concurrently up to a limit. What is worth retrying is
retried (tenacity: exponential backoff with jitter, the server's ``Retry-After`` honoured, each
retry logged): rate limits, server errors, timeouts and connections dropped mid-request. What
is not fails at once: a refused connection or an unknown host (nothing is listening there, and
waiting will not change that), and any other HTTP error.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import tenacity

from tripwire.artifacts import sha256_json
from tripwire.errors import BadInputError
from tripwire.evals._backend import Backend, register_backend
from tripwire.evals._generation import GenerationConfig, cut_at_stop
from tripwire.evals._types import Sample, Task
from tripwire.progress import Progress, no_progress

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_MAX_RETRY_AFTER_S = 60.0
log = logging.getLogger("tripwire.openai")


class OpenAIError(Exception):
    """The server answered, but not with something usable."""


class _Retryable(Exception):
    """A failure worth another try; ``wait_s`` is what the server asked for (Retry-After)."""

    def __init__(self, what: str, wait_s: float | None = None) -> None:
        super().__init__(what)
        self.wait_s = wait_s


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return min(max(float(value), 0.0), _MAX_RETRY_AFTER_S)
    except ValueError:
        return None  # an HTTP date, or nothing: our own backoff decides


def _wait(backoff_s: float) -> tenacity.wait.wait_base:
    jittered = tenacity.wait_random_exponential(multiplier=backoff_s, max=30.0)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = exc.wait_s if isinstance(exc, _Retryable) else None
        return asked if asked is not None else jittered(state)

    return wait


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
        """POST with retries where they can help; BadInputError when the server cannot be used."""
        where = f"{self.base_url}{path}"

        def attempt() -> dict[str, Any]:
            try:
                r = self._client.post(path, json=body)
            except (httpx.ConnectError, httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise BadInputError(where, f"unreachable: {exc}") from exc
            except httpx.TransportError as exc:  # timeouts, connections dropped mid-request
                raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
            if r.status_code in _RETRY_STATUS:
                raise _Retryable(f"HTTP {r.status_code}", _retry_after(r))
            if r.status_code >= 400:
                raise BadInputError(where, f"HTTP {r.status_code}: {r.text[:200]}")
            try:
                return r.json()
            except ValueError as exc:
                raise _Retryable(f"a response that is not JSON ({exc})") from exc

        def tell(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning("%s: %s; retry %d of %d in %.1fs", where, exc, state.attempt_number,
                        self.retries, wait)  # fmt: skip

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            stop=tenacity.stop_after_attempt(self.retries + 1),
            wait=_wait(self.backoff_s),
            before_sleep=tell,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as exc:
            problem = f"still failing after {self.retries} retries: {exc}"
            raise BadInputError(where, problem) from exc

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
