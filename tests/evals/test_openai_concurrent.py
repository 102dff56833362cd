"""The openai: backend with many requests in flight, against the stand-in server run as its own
uvicorn process (tests/support/openai_server.py) serving the tiny reference model."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cli import tripwire
from tests.support.openai_server import ServerProcess, free_port, serve_process
from tripwire.errors import BadInputError
from tripwire.evals import GenerationConfig, HFBackend, backend_from_spec, get_suite
from tripwire.evals._types import Sample, Task

MODEL = "reference-tiny"


@pytest.fixture(scope="module")
def server(tiny_reference: Path) -> Iterator[ServerProcess]:
    with serve_process(tiny_reference, MODEL) as srv:
        yield srv


@pytest.fixture(scope="module")
def tasks(tiny_reference: Path) -> list[Task]:
    """The completion suite's own prompts (three languages; each with its stop and budget)."""
    return get_suite("completion", corpus=tiny_reference, max_per_language=2).tasks()


@pytest.fixture(scope="module")
def in_process(tiny_reference: Path, tasks: list[Task]) -> list[Sample]:
    return list(HFBackend(tiny_reference).with_config(GenerationConfig(16)).generate(tasks, 2))


def _admin(server: ServerProcess, method: str, path: str, **params: Any) -> dict[str, Any]:
    admin = server.url.removesuffix("/v1") + "/admin"
    r = httpx.request(method, f"{admin}/{path}", params=params, timeout=10)
    r.raise_for_status()
    return r.json()


def test_concurrent_greedy_generation_matches_the_in_process_backend(
    server: ServerProcess, tasks: list[Task], in_process: list[Sample]
) -> None:
    _admin(server, "GET", "stats")  # resets the counters
    remote = backend_from_spec(f"openai:{server.url}#{MODEL}?concurrency=6")
    got = list(remote.with_config(GenerationConfig(16)).generate(tasks, 2))
    assert got == in_process  # same texts, same (task, sample) order
    stats = _admin(server, "GET", "stats")
    assert stats["requests"] == len(tasks) * 2
    # the window held several requests at the server at once, and never more than asked for
    assert 1 < stats["most_in_flight"] <= 6


def test_server_errors_are_retried_and_results_stay_in_order(
    server: ServerProcess, tasks: list[Task], in_process: list[Sample], caplog: Any
) -> None:
    _admin(server, "POST", "fail", count=3, status=500)
    remote = backend_from_spec(f"openai:{server.url}#{MODEL}?concurrency=4")
    remote.backoff_s = 0.01  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING, logger="tripwire.openai"):
        got = list(remote.with_config(GenerationConfig(16)).generate(tasks, 1))
    assert got == [s for s in in_process if s.sample_idx == 0]
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 3 and all("HTTP 500" in m for m in retries), retries


def test_a_request_failing_for_good_names_the_server_and_the_item(
    server: ServerProcess, tasks: list[Task]
) -> None:
    _admin(server, "POST", "fail", count=1000, status=500)
    try:
        remote = backend_from_spec(f"openai:{server.url}#{MODEL}?concurrency=4&retries=1")
        remote.backoff_s = 0.01  # type: ignore[attr-defined]
        with pytest.raises(BadInputError) as caught:
            list(remote.generate(tasks, 1))
    finally:
        _admin(server, "POST", "fail", count=0)
    message = str(caught.value)
    assert message.startswith(f"{server.url}/completions: task ")
    assert "sample 0: still failing after 1 retries: HTTP 500" in message
    assert any(f"task {t.task_id} sample 0" in message for t in tasks)


def test_eval_run_against_a_server_that_is_down_exits_2_with_one_line(
    tiny_reference: Path, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    done = tripwire("eval", "run", f"openai:{url}#{MODEL}?concurrency=8", "--suite", "completion",
                    "--corpus", str(tiny_reference), "--max-per-language", "2",
                    "--out", str(tmp_path / "run"))  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert f"{url}/completions: task " in lines[0] and "unreachable" in lines[0]


@pytest.mark.parametrize(
    ("suffix", "problem"),
    [
        ("?concurrency=0", "concurrency='0': expected a number >= 1 and <= 1024"),
        ("?concurrency=many", "concurrency='many'"),
        ("?parallel=4", "unknown option 'parallel'"),
    ],
)
def test_bad_spec_options_are_bad_input(suffix: str, problem: str) -> None:
    with pytest.raises(BadInputError, match=problem):
        backend_from_spec(f"openai:http://127.0.0.1:9/v1#{MODEL}{suffix}")


def test_spec_options_set_the_window_not_the_run_identity() -> None:
    plain = backend_from_spec(f"openai:http://h:1/v1#{MODEL}")
    tuned = backend_from_spec(f"openai:http://h:1/v1#{MODEL}?concurrency=64&retries=2&timeout=30")
    assert (tuned.concurrency, tuned.retries) == (64, 2)  # type: ignore[attr-defined]
    assert tuned.model == MODEL  # type: ignore[attr-defined]
    assert tuned.identity() == plain.identity()
