"""``openai:URL#MODEL`` and ``openai-chat:URL#MODEL``: any OpenAI-compatible server (vLLM, TGI,
llama.cpp server, Ollama), or a load balancer in front of many.

Requests run concurrently through a bounded window (``tripwire.evals._window``): at most
``concurrency`` in flight (default 8), samples handed on in input order. The spec can tune it:
``openai:URL#MODEL?concurrency=64&retries=8&timeout=300``; none of these is part of the run's
identity, since they change how fast the samples come, not what they are.

What is worth retrying is retried (tenacity: exponential backoff with jitter, the server's
``Retry-After`` honoured, each retry logged): rate limits, server errors, timeouts and
connections dropped mid-request. What is not fails at once: a refused connection or an unknown
host (nothing is listening there, and waiting will not change that), and any other HTTP error.
A request that fails for good stops the run with a one-line error naming the server, the task
and the sample; the requests still in flight give up their retries."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import tenacity

from tripwire.artifacts import sha256_json
from tripwire.errors import BadInputError, UserError
from tripwire.evals._backend import Backend, register_backend
from tripwire.evals._generation import GenerationConfig, cut_at_stop
from tripwire.evals._types import Sample, Task
from tripwire.evals._window import map_in_order
from tripwire.progress import Progress, no_progress

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_MAX_RETRY_AFTER_S = 60.0
# what ``?key=value`` after the model may set: the constructor's argument, its type, its least
_SPEC_OPTIONS: dict[str, tuple[str, type, float]] = {
    "concurrency": ("concurrency", int, 1), "retries": ("retries", int, 0),
    "timeout": ("timeout_s", float, 0.001)}  # fmt: skip
log = logging.getLogger("tripwire.openai")


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


def _spec_options(where: str, query: str) -> dict[str, Any]:
    """``concurrency=64&timeout=300`` -> the constructor's keyword arguments."""
    options: dict[str, Any] = {}
    for pair in query.split("&") if query else []:
        key, _, value = pair.partition("=")
        if key not in _SPEC_OPTIONS:
            known = ", ".join(_SPEC_OPTIONS)
            raise BadInputError(where, f"unknown option {key!r} after '?' (expected {known})")
        name, kind, least = _SPEC_OPTIONS[key]
        try:
            options[name] = kind(value)
        except ValueError:
            options[name] = None
        if options[name] is None or options[name] < least:
            raise BadInputError(where, f"{key}={value!r}: expected a number >= {least:g}")
    return options


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
        # one pooled connection per request in flight: more would idle, fewer would queue
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout_s, limits=limits
        )

    @classmethod
    def from_argument(cls, argument: str) -> OpenAIBackend:
        where = f"{cls.scheme}:{argument}"
        url, sep, rest = argument.partition("#")
        model, _, query = rest.partition("?")
        if not sep or not model or not url.startswith(("http://", "https://")):
            raise BadInputError(where, "expected URL#MODEL (http(s) URL)")
        options = _spec_options(where, query)
        return cls(url, model, api_key=os.environ.get("OPENAI_API_KEY"), **options)

    def with_config(self, config: GenerationConfig) -> OpenAIBackend:
        self.config = config
        return self

    def describe(self) -> dict[str, Any]:
        who = {"backend": self.scheme, "url": self.base_url, "model": self.model}
        if self.chat:  # which request a chat run's samples answer (see _request_completion)
            asked = "completion" if self.config.prompt_format == "completion" else "chat"
            who["prompt_format"] = asked
        gen = self.config.to_dict()
        return {"id": sha256_json({**who, "generation": gen}), "label": self.model, **who,
                "generation": gen}  # fmt: skip

    def post(
        self, path: str, body: dict[str, Any], abort: threading.Event | None = None
    ) -> dict[str, Any]:
        """POST with retries where they can help; BadInputError when the server cannot be used.
        Once ``abort`` is set (another request failed for good) no further retry is made."""
        where = f"{self.base_url}{path}"
        abort = abort if abort is not None else threading.Event()

        def attempt() -> dict[str, Any]:
            if abort.is_set():
                raise BadInputError(where, "given up: another request failed")
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
            stop=tenacity.stop_after_attempt(self.retries + 1)
            | tenacity.stop_when_event_set(abort),
            wait=_wait(self.backoff_s),
            sleep=abort.wait,  # a backoff ends early when the run is given up
            before_sleep=tell,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as exc:
            problem = f"still failing after {self.retries} retries: {exc}"
            raise BadInputError(where, problem) from exc

    def _complete_one(self, job: tuple[Task, int], abort: threading.Event) -> Sample:
        task, idx = job
        try:
            return self._request_completion(task, idx, abort)
        except UserError as exc:  # name the item, so a run of thousands says which one failed
            raise type(exc)(exc.where, f"task {task.task_id} sample {idx}: {exc.problem}") from exc

    def _request_completion(self, task: Task, idx: int, abort: threading.Event) -> Sample:
        cfg = self.config
        # a chat server answers the instruction an instruct model is asked (as hf: asks it through
        # the chat template): the code is extracted from the answer, which the task's own stop
        # sequences (made for continuing its prompt) would cut short
        chatting = self.chat and task.instruction is not None and cfg.prompt_format != "completion"
        ends = cfg.stop if chatting else task.stop + cfg.stop
        stops = list(ends)[:4]  # the API accepts at most four
        common = {
            "model": self.model,
            "max_tokens": task.max_new_tokens or cfg.max_new_tokens,  # the suite's, as hf: does
            "temperature": cfg.temperature,
            "top_p": cfg.top_p,
            "seed": cfg.seed + idx,
            **({"stop": stops} if stops else {}),
        }
        path = "/chat/completions" if self.chat else "/completions"
        if self.chat:
            asked = task.instruction if chatting else task.prompt
            body = {**common, "messages": [{"role": "user", "content": asked}]}
        else:
            body = {**common, "prompt": task.prompt}
        data = self.post(path, body, abort)
        try:
            choice = data["choices"][0]
            text = (choice["message"]["content"] if self.chat else choice["text"]) or ""
        except (KeyError, IndexError, TypeError) as exc:
            field = "choices[0].message.content" if self.chat else "choices[0].text"
            raise BadInputError(f"{self.base_url}{path}", f"the answer has no {field}") from exc
        fmt = "chat" if chatting else "completion"
        return Sample(task.task_id, idx, cut_at_stop(text, ends), fmt)

    def generate(
        self, tasks: Sequence[Task], n: int | None, progress: Progress = no_progress
    ) -> Iterator[Sample]:
        jobs = [(t, i) for t in tasks for i in range(n or 1)]
        for done, sample in enumerate(map_in_order(self._complete_one, jobs, self.concurrency), 1):
            progress("generate", done, len(jobs))
            yield sample

    def _score_one(self, job: tuple[int, str], abort: threading.Event) -> tuple[float, int]:
        k, text = job
        body = {"model": self.model, "prompt": text, "max_tokens": 0, "echo": True, "logprobs": 0}
        try:
            data = self.post("/completions", body, abort)
        except UserError as exc:  # name the text, as generation names the sample
            raise type(exc)(exc.where, f"text {k}: {exc.problem}") from exc
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
        jobs = list(enumerate(texts))
        for done, r in enumerate(map_in_order(self._score_one, jobs, self.concurrency), 1):
            out.append(r)
            progress("score", done, len(texts))
        return out


@register_backend
class OpenAIChatBackend(OpenAIBackend):
    scheme = "openai-chat"
    chat = True
