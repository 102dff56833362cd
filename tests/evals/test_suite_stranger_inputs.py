"""Likelihood and corpus suites given a stranger's corpus, options and servers: every problem is
one line naming the file, option or task (exit 2), never a traceback or a silently empty run."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import tripwire
from tripwire.errors import BadInputError
from tripwire.evals import backend_from_spec
from tripwire.evals._completion import Completion
from tripwire.evals._retention import Retention


class _Scorer(BaseHTTPRequestHandler):
    """Echoes a prompt's logprobs, one per character; a prompt saying BROKEN gets a NaN."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        prompt = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["prompt"]
        values = [None] + [float("nan") if "BROKEN" in prompt else -0.5] * len(prompt)
        # the prompt echoed alone, as a server that honours max_tokens 0 does
        body = json.dumps({"choices": [{"text": prompt, "logprobs": {"token_logprobs": values}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())


@pytest.fixture(scope="module")
def scorer() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scorer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1#m"
    finally:
        server.shutdown()
        server.server_close()


def _corpus(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir()
    for name, body in files.items():
        path = root / name
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body)
    return root


def test_a_text_the_server_cannot_score_is_named_by_its_task(scorer: str, tmp_path: Path) -> None:
    files = {f"f{i}.py": f"x{i} = {i}\n" for i in range(5)}
    corpus = _corpus(tmp_path / "c", {**files, "f3.py": "BROKEN = 1\n"})
    suite = Retention(corpus)
    with pytest.raises(BadInputError) as caught:
        list(suite.evaluate(suite.tasks(), backend_from_spec(f"openai:{scorer}"), None, 1, set()))
    assert "task python:f3.py#0: " in caught.value.problem
    assert "text 3" not in str(caught.value)


def test_a_file_that_is_not_utf8_is_named_not_skipped(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", {"ok.py": "x = 1\n", "latin.py": b"s = '\xe9t\xe9'\n"})
    with pytest.raises(BadInputError, match=r"latin\.py: not UTF-8 text \(byte 5\)"):
        Retention(corpus)


def test_a_binary_file_with_a_code_extension_is_named(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", {"ok.py": "x = 1\n", "tool.c": Path("/bin/true").read_bytes()})
    with pytest.raises(BadInputError, match=r"tool\.c: not UTF-8 text"):
        Retention(corpus)


def test_empty_and_blank_files_are_no_corpus(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", {"e.py": "", "b.js": "\n\n  \n"})
    with pytest.raises(BadInputError, match="hold no text to score"):
        Retention(corpus)


def test_a_corpus_without_functions_is_no_completion_suite(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", {"a.py": "x = 1\n", "a.rs": "fn main() {\n    x;\n}\n"})
    with pytest.raises(BadInputError, match="no function to complete"):
        Completion(corpus)


@pytest.mark.parametrize("suite", [Retention, Completion])
def test_max_per_language_zero_is_named(suite: type, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", {"a.py": "def f(x):\n    y = x\n    return y\n"})
    with pytest.raises(BadInputError, match="--max-per-language: must be at least 1, got 0"):
        suite(corpus, max_per_language=0)


def test_an_overlap_as_long_as_the_window_names_the_option(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", {"a.py": "x = 1\n"})
    with pytest.raises(BadInputError, match=r"--window-overlap: .*\(8\), got 8"):
        Retention(corpus, window=8, window_overlap=8)


def test_cli_corpus_of_empty_files_exits_2_in_one_line(
    tiny_reference: Path, tmp_path: Path
) -> None:
    corpus = _corpus(tmp_path / "c", {"e.py": "", "loop.py": b""})
    (corpus / "loop.py").unlink()
    (corpus / "loop.py").symlink_to("loop.py")
    (corpus / "self").symlink_to(".")
    out = tmp_path / "run"
    r = tripwire("eval", "run", f"hf:{tiny_reference}", "--suite", "retention",
                 "--corpus", str(corpus), "--out", str(out), timeout=120)  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "hold no text to score" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--drop", "nan"], "--drop: must be a finite number, got nan"),
        (
            ["--metric", "score", "--margin", "0.01", "--shift", "inf"],
            "--shift: must be a finite number, got inf",
        ),
        (
            ["--metric", "score", "--margin", "1%", "--mean", "nan"],
            "--mean: must be a finite number, got nan",
        ),
        (["--base-rate", "1"], "--base-rate: must lie strictly between 0 and 1"),
        (["--discordance", "0"], "--discordance: must lie in (0, 1]"),
        (["--metric", "score", "--margin", "0.01", "--sd", "0"], "--sd: must be above 0"),
        (["--items", "100000000000"], "--items: at most 1000000 items per slice"),
    ],
)
def test_power_names_the_nonsensical_option(args: list[str], named: str) -> None:
    r = tripwire("eval", "power", *args, timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"error: {named}"), r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("metric", [["--metric", "pass"],
                                    ["--metric", "score", "--margin", "0.01", "--shift", "0.02",
                                     "--sd", "0.1"]])  # fmt: skip
def test_power_sizes_for_the_tiniest_levels(metric: list[str]) -> None:
    """alpha 1e-300 was refused as "too small" (an overflow in the two-sample size), and that
    hid a wrong answer beneath it: for scores, scipy's t quantile is -inf that deep, which made
    10 items "powered" (power 1.000). Sizes now grow as the level shrinks, to the end."""
    items = []
    for alpha in ("1e-12", "1e-100", "1e-300"):
        r = tripwire("eval", "power", *metric, "--alpha", alpha, "--json", "-", timeout=60)
        assert r.returncode == 0, r.stderr
        items.append(json.loads(r.stdout)["paired_items"])
    assert items == sorted(items) and items[2] > 2 * items[1], items


def test_a_whole_program_solution_is_scored_as_that_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tripwire.evals import get_suite
    from tripwire.evals._samples import SamplesBackend
    from tripwire.evals.multilang import LANGUAGES
    from tripwire.sandbox import Limits, Sandbox

    if LANGUAGES["humaneval-js"].missing():
        pytest.skip("node is not installed here")
    monkeypatch.setenv("TRIPWIRE_CACHE", str(tmp_path / "cache"))
    with Sandbox(workers=1, limits=Limits(wall_s=20.0, cpu_s=5.0, memory_bytes=2 << 30)) as box:
        suite = get_suite("humaneval-js", task_ids=["HumanEval/2"], sandbox=box)
        body = suite.translation.problems["HumanEval/2"].oracle
        # EvalPlus's format: a whole program of its own, not a continuation of the prompt
        whole = "// mine\nfunction truncate_number(number){\n" + body
        path = tmp_path / "s.jsonl"
        path.write_text(json.dumps({"task_id": "HumanEval/2", "solution": whole}) + "\n")
        samples = list(SamplesBackend(path).generate(suite.tasks(), None))
        (result,) = suite.score(samples, box)
    assert result.passed, result.message


def test_a_byte_order_mark_is_not_scored_as_code(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", {"a.py": b"\xef\xbb\xbfx = 1\r\ny = 2\r\n"})
    (item,) = Retention(corpus).items
    assert item.text == "x = 1\ny = 2\n"


def test_a_backend_that_cannot_score_text_is_named(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c", {"a.py": "x = 1\n"})
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "python:a.py#0", "completion": "x"}) + "\n")
    suite = Retention(corpus)
    backend = backend_from_spec(f"samples:{samples}")
    with pytest.raises(BadInputError, match=r"^MODEL: samples: cannot score text, which retention"):
        list(suite.evaluate(suite.tasks(), backend, None, 1, set()))


def test_a_deeply_nested_javascript_completion_is_checked_not_a_recursion_error() -> None:
    from tripwire.evals._completion_items import prefix_valid

    deep = "function f(x) {\n  return " + "[" * 3000 + "]" * 3000 + ";\n"
    assert prefix_valid(deep, "javascript") is True
    assert prefix_valid(deep.replace("]" * 3000, "]" * 3000 + ")"), "javascript") is False


def test_python_too_deep_for_the_compiler_is_invalid_not_a_traceback() -> None:
    from tripwire.evals._completion_items import prefix_valid

    deep = "def f(x):\n    return " + "-" * 200_000 + "1\n"
    assert prefix_valid(deep, "python") is False


@pytest.mark.parametrize("language", ["javascript", "shell"])
def test_a_lone_surrogate_in_a_completion_is_parsed_not_a_traceback(language: str) -> None:
    from tripwire.evals._completion_items import prefix_valid

    # json.loads reads the escape "\ud83d" from a samples file as a lone surrogate
    code = json.loads('"f() {\\n  x=1 # \\ud83d\\n"')
    assert prefix_valid(code, language) is (language == "shell")


def test_a_file_name_that_is_not_utf8_gets_an_id_json_can_hold(
    tiny_reference: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / os.fsdecode(b"\xffname.py")).write_text("def f(x):\n    y = x\n    return y\n")
    out = tmp_path / "run"
    r = tripwire("eval", "run", f"hf:{tiny_reference}", "--suite", "completion",
                 "--corpus", str(corpus), "--out", str(out), timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    (row,) = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert row["task_id"] == "python:\\xffname.py:1"
