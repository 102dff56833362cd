"""The model backends meeting other people's servers and checkpoints: a real HTTP server on
loopback answers the way misbehaving OpenAI-compatible servers do, and checkpoint folders are
built the way strangers ship them. Each must end in one line naming the server (or file), the
task and sample (or text), and the problem: never a traceback, a hang or a wrong score."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import tripwire
from tripwire.errors import BadInputError
from tripwire.evals import backend_from_spec
from tripwire.evals._types import Task

# what the server answers a request for a model: (status, headers, body bytes)
Answer = tuple[int, dict[str, str], bytes]


def _json(body: Any, status: int = 200, **headers: str) -> Answer:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


def _text(value: Any) -> Answer:
    return _json({"choices": [{"index": 0, "text": value, "finish_reason": "stop"}]})


def _content(value: Any) -> Answer:
    message = {"role": "assistant", "content": value}
    return _json({"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})


def _logprobs(values: Any) -> Answer:
    # json.dumps writes NaN as the bare literal, which Python's json (and httpx) read back
    return _json({"choices": [{"text": "", "logprobs": {"token_logprobs": values}}]})


ANSWERS: dict[str, Callable[[], Answer]] = {
    "text-object": lambda: _text({"content": "    return 1\n"}),
    "text-list": lambda: _text(["    return 1\n"]),
    "text-number": lambda: _text(7),
    "content-object": lambda: _content({"x": 1}),
    "content-parts": lambda: _content(
        [{"type": "text", "text": "    return "}, {"type": "text", "text": "1\n"}]
    ),
    "no-choices": lambda: _json({"id": "cmpl-1", "object": "text_completion"}),
    "html": lambda: (200, {"Content-Type": "text/html"}, b"<html>\n<h1>Welcome</h1></html>"),
    "redirect": lambda: (307, {"Location": "https://elsewhere.example/v1/completions"}, b""),
    "bad-gzip": lambda: (
        200,
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
        b"not gzip",
    ),
    "gzip": lambda: (
        200,
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
        gzip.compress(_text("    return 1\n")[2]),
    ),
    "retry-after-nan": lambda: _json({"error": "busy"}, 503, **{"Retry-After": "nan"}),
    "bad-request": lambda: (400, {"Content-Type": "text/plain"}, b"Traceback:\n  line 1\r\n  boom"),
    "half-a-pair": lambda: (200, {}, b'{"choices": [{"text": "    return 1  # \\ud83d!\\n"}]}'),
    "deep": lambda: (200, {"Content-Type": "application/json"}, b"[" * 100_000),
    "error-200": lambda: _json({"error": {"message": "model\nis overloaded", "code": 503}}),
    "lp-strings": lambda: _logprobs([None, "-0.5"]),
    "lp-nan": lambda: _logprobs([None, float("nan")]),
    "lp-positive": lambda: _logprobs([None, 3.0]),
    "lp-not-echoed": lambda: _logprobs([]),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        model = request["model"]
        if not self.path.startswith("/v1/"):
            self._send(404, b'{"detail": "Not Found"}')
            return
        if model == "hang":
            time.sleep(30)  # far past the test's ?timeout=
            return  # the client is gone: a KeyError here would print into a later test's capsys
        if model == "stall":  # a byte just before the deadline, then nothing
            self._stall()
            return
        if model == "trickle":  # a byte at a time, each well inside the read timeout
            self._trickle()
            return
        if model == "flood":  # a body without end, as fast as the loopback takes it
            self._flood()
            return
        if model == "echo-auth":  # what a gateway checking the key receives
            status, headers, body = _text(self.headers.get("Authorization", ""))
        else:
            status, headers, body = ANSWERS[model]()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            for _ in range(300):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:  # the client gave up
            pass

    def _stall(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            time.sleep(1.8)
            self.wfile.write(b" ")
            self.wfile.flush()
            time.sleep(30)
        except OSError:  # the client gave up
            pass

    def _flood(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(1 << 30))
        self.end_headers()
        block = b" " * (1 << 20)
        try:
            for _ in range(1 << 10):
                self.wfile.write(block)
        except OSError:  # the client gave up
            pass


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def _generate(spec: str, task: Task | None = None) -> list[str]:
    backend = backend_from_spec(spec)
    backend.backoff_s = 0.01  # type: ignore[attr-defined]
    return [s.completion for s in backend.generate([task or Task("t/0", "def f():\n")], 1)]


# --- answers whose text is not a string ---------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "shown"),
    [("text-object", "is dict {'content'"), ("text-list", "is list"), ("text-number", "is int 7")],
)
def test_completion_text_that_is_not_a_string_is_named(url: str, model: str, shown: str) -> None:
    with pytest.raises(
        BadInputError,
        match=rf"task t/0 sample 0: the answer's choices\[0\]"
        rf"\.text {shown}.*not a string",
    ):
        _generate(f"openai:{url}#{model}")


def test_monitor_canary_names_an_endpoint_answering_an_object(url: str, tmp_path: Path) -> None:
    spec = f"east=openai:{url}#text-object?retries=0"
    done = tripwire(
        "monitor",
        "canary",
        "--endpoint",
        spec,
        "--rounds",
        "1",
        env={"TRIPWIRE_HOME": str(tmp_path)},
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "/v1/completions: task" in line and "choices[0].text is dict" in line


def test_chat_content_as_parts_is_joined_and_as_an_object_is_named(url: str) -> None:
    task = Task("t/0", "def f():\n", instruction="Write f")
    assert _generate(f"openai-chat:{url}#content-parts", task) == ["    return 1\n"]
    with pytest.raises(BadInputError, match=r"message\.content is dict .*not a string"):
        _generate(f"openai-chat:{url}#content-object", task)


def test_an_answer_without_choices_is_named(url: str) -> None:
    with pytest.raises(BadInputError, match=r"task t/0 sample 0: the answer has no choices"):
        _generate(f"openai:{url}#no-choices")


# --- bodies and statuses ------------------------------------------------------------------------
def test_an_html_page_is_retried_then_shown_on_one_line(url: str) -> None:
    with pytest.raises(BadInputError) as caught:
        _generate(f"openai:{url}#html?retries=1")
    message = str(caught.value)
    assert "HTTP 200 that is not JSON (text/html: '<html> <h1>Welcome</h1></html>')" in message
    assert "\n" not in message


def test_a_redirect_names_where_to(url: str) -> None:
    with pytest.raises(BadInputError, match=r"HTTP 307: redirected to https://elsewhere"):
        _generate(f"openai:{url}#redirect")


def test_gzip_bodies_are_read_and_broken_ones_named(url: str) -> None:
    assert _generate(f"openai:{url}#gzip") == ["    return 1\n"]
    with pytest.raises(BadInputError, match=r"still failing after 1 retries: a body that cannot"):
        _generate(f"openai:{url}#bad-gzip?retries=1")


def test_a_nan_retry_after_falls_back_to_our_own_backoff(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    t0 = time.perf_counter()
    with pytest.raises(BadInputError, match=r"still failing after 2 retries: HTTP 503"):
        _generate(f"openai:{url}#retry-after-nan?retries=2")
    assert time.perf_counter() - t0 < 10
    waits = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(waits) == 2 and not [m for m in waits if "nan" in m], waits


def test_a_server_that_never_answers_is_bounded_and_named(url: str) -> None:
    t0 = time.perf_counter()
    with pytest.raises(BadInputError, match=r"no answer within 0\.3s \(ReadTimeout; raise it"):
        _generate(f"openai:{url}#hang?timeout=0.3&retries=1")
    assert time.perf_counter() - t0 < 10


def test_a_server_trickling_its_body_is_bounded_too(url: str) -> None:
    t0 = time.perf_counter()
    with pytest.raises(BadInputError, match=r"no answer within 0\.5s \(ReadTimeout"):
        _generate(f"openai:{url}#trickle?timeout=0.5&retries=0")
    assert time.perf_counter() - t0 < 5  # the server would trickle for 15 s


def test_a_server_stalling_after_a_byte_is_cut_at_the_deadline(url: str) -> None:
    """A byte at 1.8 s, then silence: each read is within the read timeout of the last, so
    the answer was held until 2 x ?timeout= (3.8 s); the socket is now shut at 2 s."""
    t0 = time.perf_counter()
    with pytest.raises(BadInputError, match=r"no answer within 2s \(ReadTimeout"):
        _generate(f"openai:{url}#stall?timeout=2&retries=0")
    assert time.perf_counter() - t0 < 3.3


def test_an_endless_body_is_cut_off(url: str) -> None:
    with pytest.raises(BadInputError, match=r"task t/0 sample 0: an answer over 64 MiB"):
        _generate(f"openai:{url}#flood")


# --- prompt scoring -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "problem"),
    [
        ("lp-strings", r"token_logprobs\[1\] is '-0.5', not a number"),
        ("lp-nan", r"token_logprobs\[1\] is nan, not a number"),
        ("lp-positive", r"token_logprobs\[1\] is 3.0, above 0"),
        ("lp-not-echoed", r"no prompt logprobs \(echo\): token_logprobs is empty"),
        ("text-object", r"no prompt logprobs \(echo\)"),
    ],
)
def test_prompt_logprobs_a_server_gets_wrong_are_named(url: str, model: str, problem: str) -> None:
    backend = backend_from_spec(f"openai:{url}#{model}")
    with pytest.raises(BadInputError, match=rf"/v1/completions: text \d: .*{problem}"):
        backend.loglikelihood(["", "x = 1\n"])


# --- the spec -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("http://127.0.0.1:abc/v1#m", r"bad server URL 'http://127.0.0.1:abc/v1': Invalid port"),
        ("http://[::1/v1#m", r"bad server URL 'http://\[::1/v1'"),
        ("http://127.0.0.1:99999/v1#m", r"port 99999 out of range"),
        ("http:///v1#m", r"bad server URL 'http:///v1': no host"),
        ("http://h/v1#m?timeout=nan", r"timeout='nan': expected a number >= 0.001 and <= 86400"),
        ("http://h/v1#m?timeout=inf", r"timeout='inf': expected a number"),
        ("http://h/v1#m?timeout=1e400", r"timeout='1e400': expected a number"),
        ("http://h/v1#m?concurrency=99999999", r"concurrency='99999999': expected a number"),
        ("http://h/v1#m?concurrency=0", r"concurrency='0': expected a number >= 1 and <= 1024"),
        ("http://h/v1#m?concurrency=abc", r"concurrency='abc': expected a number"),
        ("http://h/v1#m?retries=1000000", r"retries='1000000': expected a number >= 0 and <= 100"),
        ("http://h/v1#m?retries=1&retries=2", r"option 'retries' given twice"),
        ("http://h/v1#m?colour=red", r"unknown option 'colour'"),
    ],
)
def test_bad_specs_are_named_before_any_request(spec: str, problem: str) -> None:
    with pytest.raises(BadInputError, match=problem):
        backend_from_spec(f"openai:{spec}")


# --- hf: checkpoints as strangers ship them -----------------------------------------------------
def _checkpoint(tiny_reference: Path, where: Path, **files: str) -> Path:
    """A copy of the tiny reference checkpoint with some of its files replaced."""
    where.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "generation_config.json"):  # fmt: skip
        (where / name).write_bytes((tiny_reference / name).read_bytes())
    for name, text in files.items():
        (where / name.replace("__", ".")).write_text(text)
    return where


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"eos_token_id": ', r"generation_config\.json: not valid JSON"),
        ('{"eos_token_id": "</s>"}', r"eos_token_id: expected a token id or a list of them"),
        ('{"eos_token_id": [0, true]}', r"eos_token_id: expected a token id"),
    ],
)
def test_a_malformed_generation_config_is_named(
    tiny_reference: Path, tmp_path: Path, text: str, problem: str
) -> None:
    from tripwire.evals import GenerationConfig, HFBackend

    path = _checkpoint(tiny_reference, tmp_path / "model", generation_config__json=text)
    backend = HFBackend(path).with_config(GenerationConfig(max_new_tokens=2))
    with pytest.raises(BadInputError, match=problem):
        list(backend.generate([Task("t/0", "def f():\n")], 1))


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{% if %}", r"chat template fails on a user turn: TemplateSyntaxError"),
        ("{{ raise_exception('no user role here') }}", r"TemplateError: no user role here"),
        ("{% for m in messages %}{% endfor %}", r"renders a user turn as no tokens"),
    ],
)
def test_a_chat_template_that_fails_is_named(
    tiny_reference: Path, tmp_path: Path, template: str, problem: str
) -> None:
    from tripwire.evals import GenerationConfig, HFBackend

    config = json.loads((tiny_reference / "tokenizer_config.json").read_text())
    config["chat_template"] = template
    path = _checkpoint(tiny_reference, tmp_path / "model",
                       tokenizer_config__json=json.dumps(config))  # fmt: skip
    backend = HFBackend(path).with_config(GenerationConfig(max_new_tokens=2, prompt_format="chat"))
    task = Task("t/0", "def f():\n", instruction="Write f", entry_point="f")
    with pytest.raises(BadInputError, match=rf"{path}: its .*{problem}"):
        list(backend.generate([task], 1))


def test_an_empty_prompt_is_generated_from_the_start_of_a_document(tiny_reference: Path) -> None:
    from tripwire.evals import GenerationConfig, HFBackend

    backend = HFBackend(tiny_reference).with_config(GenerationConfig(max_new_tokens=2))
    samples = list(backend.generate([Task("t/0", ""), Task("t/1", "x = 1\n")], 1))
    assert [s.task_id for s in samples] == ["t/0", "t/1"]


# --- generation settings ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["--temperature", "0.5", "--top-p", "0"], "--top-p: expected a number in (0, 1]"),
        (["--temperature", "nan"], "--temperature: expected a number >= 0"),
        (["--temperature", "-1"], "--temperature: expected a number >= 0"),
        (["--prompt-format", "chat"], "--prompt-format: chat needs the chat API: openai-chat:"),
        (["--prompt-format", "Chat"], "--prompt-format: expected auto, chat, completion"),
    ],
)
def test_sampling_settings_that_cannot_sample_are_refused_before_the_run(
    url: str, tmp_path: Path, options: list[str], problem: str
) -> None:
    out = tmp_path / "run"
    done = tripwire("eval", "run", f"openai:{url}#text-object", "--suite", "canaries",
                    "--n", "1", "--k", "1", "--out", str(out), *options,
                    env={"TRIPWIRE_HOME": str(tmp_path / "home")}, timeout=120)  # fmt: skip
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"error: {problem}")
    assert not out.exists()


def test_an_answer_of_many_blank_lines_is_extracted_in_linear_time() -> None:
    from tripwire.evals._extract import extract_code

    answer = "```python\n" + "\n" * 40_000 + "def f():\n    return 1\n```\n"
    t0 = time.perf_counter()
    assert extract_code(answer, "f").method == "fenced_block"
    assert time.perf_counter() - t0 < 2  # quadratic before: about a minute


def test_no_retries_asked_is_said_so(url: str) -> None:
    with pytest.raises(BadInputError, match=r"still failing \(no retries: \?retries=0\): HTTP 200"):
        _generate(f"openai:{url}#html?retries=0")


def test_json_nested_past_the_parser_is_a_bad_answer_not_a_crash(url: str) -> None:
    with pytest.raises(
        BadInputError, match=r"HTTP 200 that is not JSON \(application/json: '\[\[\["
    ):
        _generate(f"openai:{url}#deep?retries=0")


def test_an_error_sent_with_http_200_is_shown(url: str) -> None:
    with pytest.raises(BadInputError, match=r"has no choices\[0\]\.text but an error: model is o"):
        _generate(f"openai:{url}#error-200")


def test_a_password_in_the_url_is_never_shown(url: str) -> None:
    spec = f"openai:{url.replace('//', '//me:hunter2@')}#text-object"
    with pytest.raises(BadInputError) as caught:
        _generate(spec)
    assert "me:***@127.0.0.1" in str(caught.value) and "hunter2" not in str(caught.value)
    assert "hunter2" not in json.dumps(backend_from_spec(spec).describe())


def test_a_refusal_over_several_lines_is_shown_on_one(url: str) -> None:
    with pytest.raises(BadInputError) as caught:
        _generate(f"openai:{url}#bad-request")
    assert str(caught.value).endswith("sample 0: HTTP 400: Traceback: line 1 boom")


def test_half_a_surrogate_pair_becomes_the_replacement_character(url: str) -> None:
    (completion,) = _generate(f"openai:{url}#half-a-pair")
    assert completion == "    return 1  # \ufffd!\n"
    completion.encode("utf-8")  # what the run's files and the canary's hashes need


def test_a_tokenizer_naming_no_special_tokens_falls_back_to_the_config(
    tiny_reference: Path, tmp_path: Path
) -> None:
    from tripwire.evals import GenerationConfig, HFBackend

    config = json.loads((tiny_reference / "tokenizer_config.json").read_text())
    for key in ("bos_token", "eos_token", "pad_token", "unk_token"):
        config.pop(key, None)
    path = _checkpoint(tiny_reference, tmp_path / "model",
                       tokenizer_config__json=json.dumps(config))  # fmt: skip
    bare = HFBackend(path).with_config(GenerationConfig(max_new_tokens=2))
    assert bare.tokenizer.pad_token_id is None and bare.tokenizer.bos_token_id is None
    tasks = [Task("t/0", "def f():\n"), Task("t/1", "x")]  # two lengths: a padded batch
    assert len(list(bare.generate(tasks, 1))) == 2
    # the config's BOS is the tokenizer's in the original: the same score
    assert bare.loglikelihood(["x = 1\n"]) == HFBackend(tiny_reference).loglikelihood(["x = 1\n"])


def test_an_api_key_read_from_a_file_with_its_line_end_is_sent_without_it(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test\r\n")
    assert _generate(f"openai:{url}#echo-auth") == ["Bearer sk-test"]


@pytest.mark.parametrize("key", ["sk-t\u00e9st", "sk-a\nb", "sk-\x1b[31m"])
def test_an_api_key_no_header_can_carry_is_refused_unshown(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with pytest.raises(BadInputError, match=r"^OPENAI_API_KEY: has characters an HTTP header") as e:
        backend_from_spec("openai:http://127.0.0.1:9/v1#m")
    assert key not in str(e.value)


def test_a_url_without_the_api_base_gets_a_hint(url: str) -> None:
    with pytest.raises(BadInputError, match=r"HTTP 404: .*\(is the URL the API's base, e\.g\."):
        _generate(f"openai:{url.removesuffix('/v1')}/api#m")
