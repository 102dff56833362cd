"""The openai: backend against a real HTTP server on loopback serving the reference model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.openai_server import serve
from tripwire.errors import BadInputError, UnavailableError
from tripwire.evals import GenerationConfig, HFBackend, backend_from_spec
from tripwire.evals._types import Task
from tripwire.reference import load_reference_corpus


@pytest.fixture(scope="module")
def server(tiny_reference: Path):
    with serve(tiny_reference, name="reference-tiny", fail_first=2) as url:
        yield url


def test_scores_text_like_the_in_process_model(server: str, tiny_reference: Path) -> None:
    texts = [f.text[:600] for f in load_reference_corpus(tiny_reference, "heldout")["python"]]
    remote = backend_from_spec(f"openai:{server}#reference-tiny")
    local = HFBackend(tiny_reference)
    # the first two requests get 503: the backend retries with backoff
    got, want = remote.loglikelihood(texts), local.loglikelihood(texts)
    for (gn, gt), (wn, wt) in zip(got, want, strict=True):
        assert gt == wt
        assert gn == pytest.approx(wn, rel=1e-5)


def test_the_echo_leaves_out_the_generated_token(server: str, tiny_reference: Path) -> None:
    # asked for one token after the prompt (llama-cpp-python reads 0 as "until the context is
    # full"), the server echoes prompt + token: only the prompt's logprobs are summed
    text = "def add(a, b):\n    return a + b\n"
    remote = backend_from_spec(f"openai:{server}#reference-tiny")
    ((got, n),), ((want, m),) = (
        remote.loglikelihood([text]),
        HFBackend(tiny_reference).loglikelihood([text]),
    )
    assert n == m and got == pytest.approx(want, rel=1e-5)


def test_a_server_whose_echo_is_shifted_by_a_token_is_refused(tiny_reference: Path) -> None:
    with serve(tiny_reference, name="reference-tiny", echo_shift=True) as url:
        remote = backend_from_spec(f"openai:{url}#reference-tiny")
        with pytest.raises(BadInputError, match=r"echoed prompt logprobs disagree with its own "
                           r"generation: the token .* has logprob -\d"):  # fmt: skip
            remote.loglikelihood(["x = 1\n"])


def test_greedy_generation_matches(server: str, tiny_reference: Path) -> None:
    cfg = GenerationConfig(max_new_tokens=12)
    tasks = [Task("a", "def add(a, b):\n"), Task("b", "import os\n", ("\n\n",))]
    remote = backend_from_spec(f"openai:{server}#reference-tiny").with_config(cfg)
    local = HFBackend(tiny_reference).with_config(cfg)
    assert list(remote.generate(tasks, 1)) == list(local.generate(tasks, 1))
    chat = backend_from_spec(f"openai-chat:{server}#reference-tiny").with_config(cfg)
    assert [s.task_id for s in chat.generate(tasks, 2)] == ["a", "a", "b", "b"]
    # a task with an instruction: the chat server is asked it (as hf: asks an instruct model),
    # not to continue the prompt, and the answer is marked for extraction, uncut by the
    # prompt's stop sequences; the stand-in has no template, so it continues the instruction
    asked = "Write a Python function add(a, b)\n"
    task = Task("c", "def add(a, b):\n", ("\n\n", "\ndef"), instruction=asked,
                entry_point="add")  # fmt: skip
    (answer,) = chat.generate([task], 1)
    (plain,) = local.generate([Task("c", asked)], 1)
    assert answer.prompt_format == "chat" and answer.completion == plain.completion
    assert chat.describe()["prompt_format"] == "chat" and "prompt_format" not in remote.describe()
    as_text = backend_from_spec(f"openai-chat:{server}#reference-tiny")
    as_text = as_text.with_config(GenerationConfig(max_new_tokens=12, prompt_format="completion"))
    assert next(as_text.generate([task], 1)).prompt_format == "completion"


def test_unserved_model_and_unreachable_server(server: str) -> None:
    with pytest.raises(BadInputError, match="HTTP 404"):
        list(backend_from_spec(f"openai:{server}#nope").generate([Task("a", "x")], 1))
    dead = backend_from_spec("openai:http://127.0.0.1:9#m")
    dead.retries, dead.backoff_s = 1, 0.01
    with pytest.raises(BadInputError, match="unreachable"):
        dead.loglikelihood(["x = 1\n"])
    with pytest.raises(BadInputError, match="URL#MODEL"):
        backend_from_spec("openai:localhost")


def test_vllm_names_the_extra_when_missing(tiny_reference: Path) -> None:
    pytest.importorskip("torch")
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(UnavailableError, match=r"tripwire\[vllm\]"):
            backend_from_spec(f"vllm:{tiny_reference}")
    else:
        pytest.skip("vLLM is installed here: the missing-extra message cannot be shown")


def test_vllm_sampling_follows_the_task_as_the_other_backends_do() -> None:
    """vllm: asks the engine for the task's own token budget and stops at its stop sequences
    (it used the run's budget for every task and ran each sequence to it); checked without
    vLLM, which needs a GPU."""
    from tripwire.evals._generation import GenerationConfig
    from tripwire.evals._types import Task
    from tripwire.evals._vllm import sampling_args

    cfg = GenerationConfig(max_new_tokens=512, stop=("\n\n\n",))
    task = Task("t", "def f():\n", stop=("\ndef ", "\n\n\n"), max_new_tokens=64)
    args = sampling_args(task, cfg, 3)
    assert args["max_tokens"] == 64 and args["n"] == 3
    assert args["stop"] == ["\ndef ", "\n\n\n"]
    assert sampling_args(Task("u", "x"), cfg, None)["max_tokens"] == 512


def test_refused_connections_fail_fast_and_retries_are_logged(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    import time

    # nothing listens on port 9: no retry can help, so none is made
    dead = backend_from_spec("openai:http://127.0.0.1:9#m")
    t0 = time.perf_counter()
    with pytest.raises(BadInputError, match="unreachable"):
        list(dead.generate([Task("a", "x")], 1))
    assert time.perf_counter() - t0 < 5  # not the minutes five backed-off retries would take
    assert not [r for r in caplog.records if "retry" in r.getMessage()]


def test_server_errors_are_retried_honouring_retry_after(tiny_reference: Path) -> None:
    import logging

    from tests.support.openai_server import serve

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("tripwire.openai").addHandler(handler)
    try:
        with serve(tiny_reference, "reference-tiny", fail_first=2, retry_after=0) as url:
            flaky = backend_from_spec(f"openai:{url}#reference-tiny")
            assert len(list(flaky.generate([Task("a", "def f():")], 1))) == 1
    finally:
        logging.getLogger("tripwire.openai").removeHandler(handler)
    retries = [r.getMessage() for r in records]
    assert len(retries) == 2 and all("HTTP 503" in m and "in 0.0s" in m for m in retries), retries
