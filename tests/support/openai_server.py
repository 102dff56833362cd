"""Test fixture: a small OpenAI-compatible HTTP server on loopback that serves a local HF model.

It implements the parts of the API tripwire's ``openai:`` backend uses — ``/v1/models``,
``/v1/completions`` (with ``echo`` + ``logprobs`` prompt scoring and ``stop``) and
``/v1/chat/completions`` — through the same ``HFBackend`` that ``hf:`` runs use, so a model
evaluated over HTTP must score exactly as it does in-process. Logprobs come as real servers
give them (vLLM, llama-cpp-python): one per token with its text offset, the echoed prompt's
followed by the generated tokens'. ``echo_shift`` reproduces llama-cpp-python's off-by-one echo
(each prompt token scored by its own position's logits), which the client must refuse.
``fail_first`` makes the first N requests answer ``fail_status`` (503 by default), to
exercise retries.

Generation requests that arrive while the model is busy are decoded together as one batch when
it is free (greedy results do not depend on the batch: ``tripwire.evals._decode``), the way
vLLM and TGI batch concurrent requests, so concurrent clients get more tokens/s than one at a
time, as they would from a real server.

``serve`` runs it in a thread of the test process; ``serve_process`` runs it as its own uvicorn
process (``python -m tests.support.openai_server MODEL_DIR --port N``), like a real server farm's
replica, whose peak memory can be read apart from the client's.
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from tripwire.evals._generation import GenerationConfig
from tripwire.evals._hf import HFBackend
from tripwire.evals._types import Task


class CompletionRequest(BaseModel):
    model: str
    prompt: str
    max_tokens: int = 16
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] | str | None = None
    echo: bool = False
    logprobs: int | None = None


class ChatMessage(BaseModel):
    role: str
    content: str


class ChatRequest(BaseModel):
    model: str
    messages: list[ChatMessage]
    max_tokens: int = 16
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] | str | None = None


ROOT = Path(__file__).resolve().parents[2]


@dataclass
class _Request:
    prompt: str
    max_tokens: int
    stops: tuple[str, ...]
    sampling: tuple[float, float, int]
    """temperature, top_p, seed: what a batch must share."""
    done: Future[str] = field(default_factory=Future)


class _Batcher:
    """One thread owns generation: it takes every request waiting when the model is free and
    decodes them as one batch (as many as ``max_batch``), each with its own stops and limit."""

    def __init__(self, backend: HFBackend, lock: threading.Lock, max_batch: int = 64) -> None:
        self.backend, self.lock, self.max_batch = backend, lock, max_batch
        self.largest_batch = self.batches = 0
        self.busy_s = 0.0
        self.waiting: queue.Queue[_Request] = queue.Queue()
        threading.Thread(target=self._loop, daemon=True, name="generate").start()

    def complete(self, request: _Request) -> str:
        self.waiting.put(request)
        return request.done.result()

    def _loop(self) -> None:
        while True:
            batch = [self.waiting.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self.waiting.get_nowait())
                except queue.Empty:
                    break
            self.largest_batch = max(self.largest_batch, len(batch))
            groups: dict[tuple[float, float, int], list[_Request]] = {}
            for r in batch:
                groups.setdefault(r.sampling, []).append(r)
            for (temperature, top_p, seed), reqs in groups.items():
                self._run(reqs, GenerationConfig(max_new_tokens=max(r.max_tokens for r in reqs),
                          temperature=temperature, top_p=top_p, seed=seed))  # fmt: skip

    def _run(self, reqs: list[_Request], cfg: GenerationConfig) -> None:
        tasks = [Task(f"r{k}", r.prompt, r.stops, max_new_tokens=r.max_tokens)
                 for k, r in enumerate(reqs)]  # fmt: skip
        try:
            with self.lock:  # one model: scoring waits for the batch
                started = time.perf_counter()
                samples = list(self.backend.with_config(cfg).generate(tasks, 1))
                self.batches += 1
                self.busy_s += time.perf_counter() - started
        except Exception as exc:  # the requests answer 500, the server goes on
            for r in reqs:
                r.done.set_exception(exc)
            return
        for r, sample in zip(reqs, samples, strict=True):
            r.done.set_result(sample.completion)


def _token_logprobs(
    backend: HFBackend, prompt: str, generated: str, shift: bool
) -> dict[str, list[Any]]:
    """OpenAI ``logprobs`` of ``prompt`` (tokenized alone, as a server tokenizes it) followed by
    ``generated``: after the model's start token, as ``HFBackend.loglikelihood`` scores."""
    import torch

    tok = backend.tokenizer.backend_tokenizer
    tokens, offsets, ids = [], [], []
    for text, base in ((prompt, 0), (generated, len(prompt))):
        enc = tok.encode(text, add_special_tokens=False) if text else None
        if enc is not None:
            ids += enc.ids
            tokens += [text[a:b] for a, b in enc.offsets]
            offsets += [base + a for a, _ in enc.offsets]
    seq = [backend._start_id(), *ids]
    if shift:  # each prompt token read off its own position's logits (short texts only)
        with torch.inference_mode():
            logp = backend.model(torch.tensor([seq])).logits[0].float().log_softmax(-1)
        prompt_tokens = sum(at < len(prompt) for at in offsets)
        values = [float(logp[k + 1 if k < prompt_tokens else k, t]) for k, t in enumerate(ids)]
    else:  # exactly as hf: scores them, in windows of the model's context
        from tripwire.compute._scoring import stream_nll
        from tripwire.evals._hf import DEFAULT_WINDOW

        with torch.inference_mode():
            window = min(DEFAULT_WINDOW, backend.context - 1)
            (nll,) = stream_nll(backend.model, [seq], window=window, max_tokens=1 << 16)
        values = [-float(x) for x in nll]
    return {"tokens": tokens, "text_offset": offsets, "token_logprobs": values}


def make_app(
    model_dir: Path,
    name: str,
    fail_first: int = 0,
    retry_after: float | None = None,
    fail_status: int = 503,
    echo_shift: bool = False,
) -> FastAPI:
    backend = HFBackend(model_dir, batch_size=64)
    app = FastAPI()
    state: dict[str, Any] = {"failures_left": fail_first, "fail_status": fail_status,
                             "requests": 0, "in_flight": 0, "most_in_flight": 0}  # fmt: skip
    lock = threading.Lock()  # the model's
    counting = threading.Lock()  # the counters': never held while the model works
    batcher = _Batcher(backend, lock)
    app.state.counters = state

    @contextmanager
    def request(model: str) -> Iterator[None]:
        """Counts the request (and how many run at once); answers the injected failures."""
        with counting:
            state["requests"] += 1
            state["in_flight"] += 1
            state["most_in_flight"] = max(state["most_in_flight"], state["in_flight"])
            failing = state["failures_left"] > 0
            if failing:
                state["failures_left"] -= 1
        try:
            if failing:
                headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
                raise HTTPException(state["fail_status"], "injected failure", headers=headers)
            if model != name:
                raise HTTPException(404, f"model {model!r} not served")
            yield
        finally:
            with counting:
                state["in_flight"] -= 1

    def complete(prompt: str, req: CompletionRequest | ChatRequest) -> str:
        stops = (req.stop,) if isinstance(req.stop, str) else tuple(req.stop or ())
        sampling = (req.temperature, req.top_p, req.seed or 0)
        return batcher.complete(_Request(prompt, req.max_tokens, stops, sampling))

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model"}]}

    @app.post("/admin/fail")
    def fail(count: int, status: int = 503) -> dict[str, Any]:
        """Test control: the next ``count`` requests answer ``status``."""
        with counting:
            state["failures_left"], state["fail_status"] = count, status
        return {"failures_left": count}

    @app.get("/admin/stats")
    def stats() -> dict[str, Any]:
        """Test control: requests seen, most served at once, largest generation batch; reset."""
        with counting:
            out = {**state, "largest_batch": batcher.largest_batch, "batches": batcher.batches,
                   "generate_s": batcher.busy_s}  # fmt: skip
            state["requests"], state["most_in_flight"] = 0, 0
            batcher.largest_batch, batcher.batches, batcher.busy_s = 0, 0, 0.0
        return out

    @app.post("/v1/completions")
    def completions(req: CompletionRequest) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop", "logprobs": None}
        with request(req.model):
            generated = complete(req.prompt, req) if req.max_tokens > 0 else ""
            choice["text"] = req.prompt + generated if req.echo else generated
            if req.logprobs is not None:
                with lock:
                    lp = _token_logprobs(backend, req.prompt, generated, echo_shift)
                if not req.echo:  # the generated tokens' only
                    keep = [k for k, at in enumerate(lp["text_offset"]) if at >= len(req.prompt)]
                    lp = {key: [v[k] for k in keep] for key, v in lp.items()}
                    lp["text_offset"] = [at - len(req.prompt) for at in lp["text_offset"]]
                choice["logprobs"] = lp
        return {"id": "cmpl-test", "object": "text_completion", "created": int(time.time()),
                "model": name, "choices": [choice]}  # fmt: skip

    @app.post("/v1/chat/completions")
    def chat(req: ChatRequest) -> dict[str, Any]:
        with request(req.model):
            text = complete("\n".join(m.content for m in req.messages), req)
        return {"id": "chat-test", "object": "chat.completion", "created": int(time.time()),
                "model": name, "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": text}}]}  # fmt: skip

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(
    model_dir: Path,
    name: str = "reference",
    fail_first: int = 0,
    retry_after: float | None = None,
    fail_status: int = 503,
    echo_shift: bool = False,
) -> Iterator[str]:
    """Run the server in a thread on a free loopback port; yields its ``/v1`` base URL.
    ``fail_first`` requests answer ``fail_status``, with ``Retry-After: retry_after`` when
    given; ``echo_shift``: echoed logprobs off by one token, as llama-cpp-python gives them."""
    port = free_port()
    app = make_app(model_dir, name, fail_first, retry_after, fail_status, echo_shift)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test OpenAI server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass(frozen=True)
class ServerProcess:
    url: str
    """The ``/v1`` base URL."""
    pid: int

    def peak_rss_bytes(self) -> int:
        """The process's peak resident memory so far (Linux ``VmHWM``)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no VmHWM for process {self.pid}")


@contextmanager
def serve_process(
    model_dir: Path,
    name: str = "reference",
    fail_first: int = 0,
    fail_status: int = 503,
    start_timeout_s: float = 120.0,
) -> Iterator[ServerProcess]:
    """Run the server as its own uvicorn process on a free loopback port until the block ends."""
    port = free_port()
    cmd = [sys.executable, "-m", "tests.support.openai_server", str(model_dir), "--name", name,
           "--port", str(port), "--fail-first", str(fail_first), "--fail-status",
           str(fail_status)]  # fmt: skip
    # stderr to a file, not a pipe: a pipe nobody reads would block a chatty server when full
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                                env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})  # fmt: skip
        try:
            _wait_until_up(proc, log, f"http://127.0.0.1:{port}/v1", start_timeout_s)
            yield ServerProcess(f"http://127.0.0.1:{port}/v1", proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)  # uvicorn's graceful shutdown
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until_up(proc: subprocess.Popen[bytes], log: IO[bytes], url: str, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while True:
        if proc.poll() is not None:
            log.seek(0)
            error = log.read().decode(errors="replace")
            raise RuntimeError(f"test OpenAI server exited ({proc.returncode}): {error[-2000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass  # still loading the model
        if time.monotonic() > deadline:
            raise RuntimeError(f"test OpenAI server did not answer in {limit_s:g}s")
        time.sleep(0.1)


def main() -> None:
    ap = argparse.ArgumentParser(description="OpenAI-compatible stand-in serving a local model")
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("--name", default="reference")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--fail-status", type=int, default=503)
    args = ap.parse_args()
    app = make_app(args.model_dir, args.name, args.fail_first, fail_status=args.fail_status)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
