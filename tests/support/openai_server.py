"""Test fixture: a small OpenAI-compatible HTTP server on loopback that serves a local HF model.

It implements the parts of the API tripwire's ``openai:`` backend uses — ``/v1/models``,
``/v1/completions`` (with ``echo`` + ``logprobs`` prompt scoring and ``stop``) and
``/v1/chat/completions`` — through the same ``HFBackend`` that ``hf:`` runs use, so a model
evaluated over HTTP must score exactly as it does in-process. ``fail_first`` makes the first N
requests answer 503, to exercise retries.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def make_app(
    model_dir: Path, name: str, fail_first: int = 0, retry_after: float | None = None
) -> FastAPI:
    backend = HFBackend(model_dir, batch_size=4)
    app = FastAPI()
    state: dict[str, Any] = {"failures_left": fail_first, "requests": 0}
    lock = threading.Lock()
    app.state.counters = state

    def gate(model: str) -> None:
        with lock:
            state["requests"] += 1
            if state["failures_left"] > 0:
                state["failures_left"] -= 1
                headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
                raise HTTPException(503, "warming up", headers=headers)
        if model != name:
            raise HTTPException(404, f"model {model!r} not served")

    def complete(prompt: str, req: CompletionRequest | ChatRequest) -> str:
        stops = (req.stop,) if isinstance(req.stop, str) else tuple(req.stop or ())
        cfg = GenerationConfig(max_new_tokens=req.max_tokens, temperature=req.temperature,
                               top_p=req.top_p, seed=req.seed or 0, stop=stops)  # fmt: skip
        with lock:  # one model, one forward pass at a time
            return next(iter(backend.with_config(cfg).generate([Task("t", prompt)], 1))).completion

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model"}]}

    @app.post("/v1/completions")
    def completions(req: CompletionRequest) -> dict[str, Any]:
        gate(req.model)
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop", "logprobs": None}
        if req.echo and req.max_tokens == 0:
            with lock:
                nats, n = backend.loglikelihood([req.prompt])[0]
            # the fixture reports the prompt's total split evenly: tripwire only sums them
            choice["text"] = req.prompt
            choice["logprobs"] = {"token_logprobs": [None] + [-nats / n] * n}
        else:
            choice["text"] = complete(req.prompt, req)
        return {"id": "cmpl-test", "object": "text_completion", "created": int(time.time()),
                "model": name, "choices": [choice]}  # fmt: skip

    @app.post("/v1/chat/completions")
    def chat(req: ChatRequest) -> dict[str, Any]:
        gate(req.model)
        prompt = "\n".join(m.content for m in req.messages)
        text = complete(prompt, req)
        return {"id": "chat-test", "object": "chat.completion", "created": int(time.time()),
                "model": name, "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": text}}]}  # fmt: skip

    return app


@contextmanager
def serve(
    model_dir: Path, name: str = "reference", fail_first: int = 0, retry_after: float | None = None
) -> Iterator[str]:
    """Run the server in a thread on a free loopback port; yields its ``/v1`` base URL.
    ``fail_first`` requests answer 503, with ``Retry-After: retry_after`` when given."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(model_dir, name, fail_first, retry_after)
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
