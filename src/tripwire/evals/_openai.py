"""``openai:URL#MODEL`` and ``openai-chat:URL#MODEL``: any OpenAI-compatible server (vLLM, TGI,
llama.cpp server, Ollama), or a load balancer in front of many.

Requests run concurrently through a bounded window (``tripwire.evals._window``): at most
``concurrency`` in flight (default 8), samples handed on in input order. The spec can tune it:
``openai:URL#MODEL?concurrency=64&retries=8&timeout=300``; none of these is part of the run's
identity, since they change how fast the samples come, not what they are. ``timeout`` bounds
each answer whole (from sending the request to its last byte), however slowly it trickles in
and wherever it stalls (the socket is shut down at the deadline).

What is worth retrying is retried (tenacity: exponential backoff with jitter, the server's
``Retry-After`` honoured, each retry logged): rate limits, server errors, timeouts and
connections dropped mid-request. What is not fails at once: a refused connection or an unknown
host (nothing is listening there, and waiting will not change that), and any other HTTP error.
A request that fails for good stops the run with a one-line error naming the server, the task
and the sample; the requests still in flight give up their retries."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import socket
import threading
import time
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
_MAX_BODY_BYTES = 64 << 20
# what ``?key=value`` after the model may set: the constructor's argument, its type, its least
# and its most (past these a run holds thousands of threads, or never gives up on a dead server)
_SPEC_OPTIONS: dict[str, tuple[str, type, float, float]] = {
    "concurrency": ("concurrency", int, 1, 1024), "retries": ("retries", int, 0, 100),
    "timeout": ("timeout_s", float, 0.001, 86400.0)}  # fmt: skip
log = logging.getLogger("tripwire.openai")
# JSON may escape half a UTF-16 pair ("\ud800"), which no UTF-8 file or hash can take: shown as
# the replacement character, as a decoder shows any other broken text
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class _Deadline:
    """Shuts a response's socket down at ``deadline``: httpx's timeout bounds each read, so a
    server sending a byte just before the deadline and then nothing would hold the answer for
    up to twice ``?timeout=``. Closing the response from another thread does not wake a read
    blocked on the socket; shutting the socket down does."""

    def __init__(self, response: httpx.Response, deadline: float) -> None:
        self.fired = False
        stream = response.extensions.get("network_stream")
        self._sock = stream.get_extra_info("socket") if stream is not None else None
        self._timer: threading.Timer | None = None
        if self._sock is not None:
            self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        with contextlib.suppress(OSError):  # already closed: the answer was complete
            self._sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


class _Retryable(Exception):
    """A failure worth another try; ``wait_s`` is what the server asked for (Retry-After)."""

    def __init__(self, what: str, wait_s: float | None = None) -> None:
        super().__init__(what)
        self.wait_s = wait_s


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        asked = float(value)
    except ValueError:
        return None  # an HTTP date, or nothing: our own backoff decides
    if math.isnan(asked):
        return None
    return min(max(asked, 0.0), _MAX_RETRY_AFTER_S)


def _excerpt(text: str, size: int = 120) -> str:
    """A server's text on one line of an error message."""
    return " ".join(text[:size].split())


def _spec_options(where: str, query: str) -> dict[str, Any]:
    """``concurrency=64&timeout=300`` -> the constructor's keyword arguments."""
    options: dict[str, Any] = {}
    for pair in query.split("&") if query else []:
        key, _, value = pair.partition("=")
        if key not in _SPEC_OPTIONS:
            known = ", ".join(_SPEC_OPTIONS)
            raise BadInputError(where, f"unknown option {key!r} after '?' (expected {known})")
        name, kind, least, most = _SPEC_OPTIONS[key]
        if name in options:
            raise BadInputError(where, f"option {key!r} given twice")
        try:
            number = kind(value)
        except ValueError:
            number = math.nan
        if not least <= number <= most:  # (NaN is never in range)
            raise BadInputError(where, f"{key}={value!r}: expected a number >= {least:g} "
                                f"and <= {most:g}")  # fmt: skip
        options[name] = number
    return options


def _base_url(where: str, url: str) -> str:
    """The server's URL, checked here so a bad one is named before any request is made."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise BadInputError(where, f"bad server URL {url!r}: {exc}") from exc
    if not parsed.host:
        raise BadInputError(where, f"bad server URL {url!r}: no host")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise BadInputError(where, f"bad server URL {url!r}: port {parsed.port} out of range")
    return url


def _api_key() -> str | None:
    """``$OPENAI_API_KEY``, less the line end a key file leaves; one an HTTP header cannot carry
    is refused here, before it is sent (or shown: an error names the variable, not the key)."""
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    if not key:
        return None
    if not (key.isascii() and key.isprintable()):
        raise BadInputError("OPENAI_API_KEY", "has characters an HTTP header cannot carry "
                            "(not printable ASCII); the key is not shown")  # fmt: skip
    return key


def _without_password(url: str) -> str:
    parsed = httpx.URL(url)
    if not parsed.password:
        return url
    return str(parsed.copy_with(username=parsed.username, password="***"))


def _no_field(data: Any, field: str) -> str:
    """Why an answer has no ``field``: the error some servers send with HTTP 200, if any."""
    error = data.get("error") if isinstance(data, dict) else None
    if error is None:
        return f"the answer has no {field}"
    detail = error.get("message", error) if isinstance(error, dict) else error
    return f"the answer has no {field} but an error: {_excerpt(str(detail), 200)}"


def _reply_text(value: Any, field: str) -> str:
    """A completion's text: a string, null (the model said nothing) or, from some chat servers,
    a list of content parts whose text parts are joined; anything else is the server's fault."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list) and all(_is_text_part(p) for p in value):
        text = "".join(p["text"] for p in value if p.get("type", "text") == "text")
        return _LONE_SURROGATE.sub("\ufffd", text)
    shown = _excerpt(repr(value), 80)
    raise ValueError(f"{field} is {type(value).__name__} {shown}, not a string")


def _is_text_part(part: Any) -> bool:
    if not isinstance(part, dict):
        return False
    return part.get("type", "text") != "text" or isinstance(part.get("text"), str)


def _prompt_logprobs(data: Any, prompt: str) -> list[float]:
    """The echoed ``prompt``'s token logprobs, the first (unconditioned) one left out, and the
    tokens the server generated after it (it is asked for one) left out too."""
    try:
        choice = data["choices"][0]
        lps = choice["logprobs"]["token_logprobs"]
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError("the server gives no prompt logprobs (echo)") from exc
    if not isinstance(lps, list):
        raise ValueError(f"the answer's token_logprobs is {type(lps).__name__}, not a list")
    if not lps and prompt:  # an echoed prompt has a token or more: the server ignored echo
        raise ValueError("the server gives no prompt logprobs (echo): token_logprobs is empty")
    for k, lp in enumerate(lps):
        if lp is None:
            continue
        if not _number(lp):
            raise ValueError(
                f"the answer's token_logprobs[{k}] is {_excerpt(repr(lp), 40)}, not a number"
            )
        if lp > 1e-3:  # a log probability is at most 0 (a little more: rounding)
            raise ValueError(f"the answer's token_logprobs[{k}] is {lp}, above 0")
    count = _prompt_token_count(choice, data.get("usage"), prompt, len(lps))
    return [float(lp) for lp in lps[:count] if lp is not None]


def _prompt_token_count(choice: dict[str, Any], usage: Any, prompt: str, total: int) -> int:
    """How many of an echo's ``total`` tokens are the prompt's: by their text offsets (OpenAI,
    vLLM, llama-cpp-python), else the usage's ``prompt_tokens``, else all of them when the
    echoed text is the prompt alone (a server that honoured ``max_tokens`` 0)."""
    offsets = choice["logprobs"].get("text_offset")
    if (
        isinstance(offsets, list)
        and len(offsets) == total
        and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
    ):
        return sum(o < len(prompt) for o in offsets)
    used = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    if isinstance(used, int) and not isinstance(used, bool) and 0 < used <= total:
        return used
    if choice.get("text") == prompt:
        return total
    raise ValueError(
        "the echo does not say which tokens are the prompt's (no text_offset, no "
        "usage.prompt_tokens, and the echoed text is not the prompt alone)"
    )


_ECHO_PROBE = "def add(a, b):\n    return a +"
"""Ends where any code model's next token is one word of its own (`` b``)."""
_ECHO_TOLERANCE = 0.1
"""Nats: a batch of prompt tokens and one decoded token take other kernels (and quantized
activations), a shifted logprob is off by nats."""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _generated_logprob(data: Any) -> tuple[str, float] | None:
    """The first generated token's text and logprob, where the answer has them."""
    try:
        logprobs = data["choices"][0]["logprobs"]
        token, value = logprobs["tokens"][0], logprobs["token_logprobs"][0]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(token, str) or not token.strip() or not _number(value):
        return None
    return token, float(value)


def _echoed_logprob(data: Any, start: int, token: str) -> float | None:
    """The logprob an echo gives the token ``token`` at text offset ``start``, where it shows
    that token alone there (a tokenizer may merge it with what comes before)."""
    try:
        logprobs = data["choices"][0]["logprobs"]
        tokens, offsets = logprobs["tokens"], logprobs["text_offset"]
        values = logprobs["token_logprobs"]
    except (KeyError, IndexError, TypeError):
        return None
    if not all(isinstance(x, list) for x in (tokens, offsets, values)):
        return None
    for tok, at, value in zip(tokens, offsets, values, strict=False):
        if at == start and tok == token and _number(value):
            return float(value)
    return None


def _answer(where: str, r: httpx.Response) -> Any:
    """The JSON a response carries; _Retryable where another try may help."""
    if r.status_code in _RETRY_STATUS:
        raise _Retryable(f"HTTP {r.status_code}", _retry_after(r))
    if r.status_code >= 400:
        problem = f"HTTP {r.status_code}: {_excerpt(r.text, 200)}"
        if r.status_code == 404:  # most often a URL without the /v1 the API is served under
            problem += " (is the URL the API's base, e.g. http://HOST:PORT/v1, and MODEL served?)"
        raise BadInputError(where, problem)
    if 300 <= r.status_code < 400:  # not followed: a POST's body would not be sent on
        moved = r.headers.get("location", "?")
        raise BadInputError(where, f"HTTP {r.status_code}: redirected to {moved}; use that URL")
    try:
        return r.json()
    except (ValueError, RecursionError) as exc:  # e.g. a proxy's HTML page: maybe passing
        kind = r.headers.get("content-type", "no content type")
        body = _excerpt(r.text) if r.content else "an empty body"
        raise _Retryable(f"HTTP {r.status_code} that is not JSON ({kind}: {body!r})") from exc


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
        self.shown_url = _without_password(self.base_url)
        """What errors and the run's record show: a password in the URL is no part of it."""
        self.model = model
        self.config = config or GenerationConfig()
        self.concurrency = concurrency
        self.retries = retries
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # one pooled connection per request in flight: more would idle, fewer would queue
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._echo_checked = False
        self._client = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout_s, limits=limits
        )

    def _check_echo(self) -> None:
        """Refuse a server whose echoed prompt logprobs are not the ones it generates with.

        llama-cpp-python's server (0.3.x, abetlen/llama-cpp-python#1983) reports for each echoed
        token the log probability its own position's logits give it, which predict the next
        token: every score is wrong, silently (SmolLM2 reads 15.1 nats a token where it takes
        1.0). One probe finds it: a token the server generates greedily after a prompt must get
        the same logprob when the prompt and that token are echoed back. Where the server does
        not give what the probe needs, the probe says so and scoring goes on unchecked."""
        if self._echo_checked:
            return
        self._echo_checked = True
        where = f"{self.shown_url}/completions"
        probe = _ECHO_PROBE
        ask = {"model": self.model, "prompt": probe, "max_tokens": 1, "temperature": 0.0,
               "logprobs": 1}  # fmt: skip
        generated = _generated_logprob(self.post("/completions", ask))
        if generated is None:
            log.warning("%s: no logprob for a generated token: echoed prompt scores unchecked",
                        where)  # fmt: skip
            return
        token, want = generated
        body = {"model": self.model, "prompt": probe + token, "max_tokens": 1, "echo": True,
                "logprobs": 0}  # fmt: skip
        got = _echoed_logprob(self.post("/completions", body), len(probe), token)
        if got is None:
            log.warning("%s: the echo does not show the probe's token %r alone: echoed prompt "
                        "scores unchecked", where, token)  # fmt: skip
            return
        if abs(got - want) > max(_ECHO_TOLERANCE, _ECHO_TOLERANCE * abs(want)):
            raise BadInputError(
                where,
                f"its echoed prompt logprobs disagree with its own generation: the token "
                f"{token!r} it generates after {probe!r} has logprob {want:.3f}, and {got:.3f} "
                "when echoed back, so every prompt score it gives would be wrong "
                "(llama-cpp-python's server shifts echoed logprobs by a token: "
                "abetlen/llama-cpp-python#1983); score this model with hf: or another server",
            )

    @classmethod
    def from_argument(cls, argument: str) -> OpenAIBackend:
        where = f"{cls.scheme}:{argument}"
        url, sep, rest = argument.partition("#")
        model, _, query = rest.partition("?")
        if not sep or not model or not url.startswith(("http://", "https://")):
            raise BadInputError(where, "expected URL#MODEL (http(s) URL)")
        options = _spec_options(where, query)
        return cls(_base_url(where, url), model, api_key=_api_key(), **options)

    def with_config(self, config: GenerationConfig) -> OpenAIBackend:
        if config.prompt_format == "chat" and not self.chat:  # else a completion run, unasked
            raise BadInputError("--prompt-format", "chat needs the chat API: openai-chat:URL#"
                                f"MODEL, not {self.scheme}: (the completions API)")  # fmt: skip
        self.config = config
        return self

    def describe(self) -> dict[str, Any]:
        who = {"backend": self.scheme, "url": self.shown_url, "model": self.model}
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
        where = f"{self.shown_url}{path}"
        abort = abort if abort is not None else threading.Event()

        def attempt() -> dict[str, Any]:
            if abort.is_set():
                raise BadInputError(where, "given up: another request failed")
            try:
                r = self._post_within(path, body)
            except (httpx.ConnectError, httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise BadInputError(where, f"unreachable: {exc}") from exc
            except httpx.TimeoutException as exc:
                problem = f"no answer within {self.timeout_s:g}s ({type(exc).__name__}; "
                raise _Retryable(problem + "raise it with ?timeout=SECONDS)") from exc
            except httpx.TransportError as exc:  # connections dropped mid-request
                raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
            except httpx.DecodingError as exc:  # a body its Content-Encoding does not match
                raise _Retryable(f"a body that cannot be decoded ({exc})") from exc
            return _answer(where, r)

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
            tries = f"after {self.retries} retries" if self.retries else "(no retries: ?retries=0)"
            problem = f"still failing {tries}: {exc}"
            raise BadInputError(where, problem) from exc

    def _post_within(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """The response, read whole within ``timeout_s`` of sending: httpx's timeout bounds
        each read, so a server trickling a byte at a time would otherwise hold a run forever."""
        deadline = time.monotonic() + self.timeout_s
        with self._client.stream("POST", path, json=body) as r:
            raw = bytearray()
            cut = _Deadline(r, deadline)
            try:
                for chunk in r.iter_raw():
                    raw += chunk
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("the body still coming", request=r.request)
                    if len(raw) > _MAX_BODY_BYTES:  # no answer to one prompt is this large
                        where = f"{self.shown_url}{path}"
                        raise BadInputError(where, f"an answer over {_MAX_BODY_BYTES >> 20} MiB")
            except httpx.TransportError as exc:
                if cut.fired:
                    raise httpx.ReadTimeout("the body still coming", request=r.request) from exc
                raise
            finally:
                cut.cancel()
        # decoded (Content-Encoding) as the whole body, the way httpx reads one
        return httpx.Response(r.status_code, headers=r.headers, content=bytes(raw),
                              request=r.request)  # fmt: skip

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
        field = "choices[0].message.content" if self.chat else "choices[0].text"
        try:
            choice = data["choices"][0]
            text = _reply_text(choice["message"]["content"] if self.chat else choice["text"], field)
        except (KeyError, IndexError, TypeError) as exc:
            raise BadInputError(f"{self.shown_url}{path}", _no_field(data, field)) from exc
        except ValueError as exc:
            raise BadInputError(f"{self.shown_url}{path}", f"the answer's {exc}") from exc
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
        # one token generated, then cut off: llama-cpp-python reads max_tokens 0 as "until the
        # context is full", and vLLM and OpenAI generate nothing more for 1 than for 0
        body = {"model": self.model, "prompt": text, "max_tokens": 1, "echo": True, "logprobs": 0}
        where = f"{self.shown_url}/completions"
        try:
            data = self.post("/completions", body, abort)
        except UserError as exc:  # name the text, as generation names the sample
            raise type(exc)(exc.where, f"text {k}: {exc.problem}") from exc
        try:
            scored = _prompt_logprobs(data, text)
        except ValueError as exc:
            raise BadInputError(where, f"text {k}: {exc}") from exc
        return -sum(scored), len(scored)

    def loglikelihood(
        self, texts: Sequence[str], progress: Progress = no_progress
    ) -> list[tuple[float, int]]:
        """``(nats, tokens)`` per text from the server's echoed prompt logprobs, once they are
        known to agree with the server's own generation (``_check_echo``)."""
        if texts:
            self._check_echo()
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
