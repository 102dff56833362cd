"""Inputs from other teams' tools and habits, against the real server and CLI: gzip bodies, BOMs,
HEAD requests, wrong JSON types, ids repeated within a batch, report objects, very long reports,
other people's stream files and output paths. Each is either served correctly or refused with a
4xx (or exit 2) naming the problem, never a 500 or a traceback, and alerting goes on."""

from __future__ import annotations

import gzip
import json
import math
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.monitor.conftest import reader, running_server, write_stream, writer
from tripwire.cli import main
from tripwire.errors import BadInputError
from tripwire.monitor import MAX_BODY, Endpoint, Event, Fault, Traffic, run_canaries, simulate
from tripwire.monitor._checks import check_event
from tripwire.monitor._triage import triage

START = datetime(2025, 9, 1, tzinfo=UTC)
FAULT_AT = 700
LONG = 40_000
"""Characters of one word-like report: the triage rules took about 30 s on it (quadratic)."""


FAULTY = '<b onmouseover="x()">tpu</b> & \u4e2d\u6587'
"""A hardware name as another team might write one: markup, quotes and CJK."""


MARKUP = "[/x]tpu[bold]"
"""A name a terminal library would take for markup."""


def _traffic(faulty: str = FAULTY) -> list[dict]:
    """One route; v2 on ``faulty`` hardware from FAULT_AT corrupts 40% of its answers."""
    fault = Fault(start=FAULT_AT, rate=0.4, hardware=faulty, model_version="v2")
    t = Traffic(n=1400, seed=12, routes=("chat",), hardware=("h100-a", "h100-b", faulty),
                versions=((0, "v1"), (FAULT_AT, "v2")), start=START, faults=(fault,))  # fmt: skip
    events = [r.model_dump(mode="json") for r in simulate(t) if isinstance(r, Event)]
    return [{**e, "event_id": f"ev-{i}"} for i, e in enumerate(events)]


def _stranger(**fields: object) -> dict:
    """An event on a route of its own, so nothing sent here enters the alerting route's
    warm-up."""
    event = {"model_version": "v1", "deployment": "d", "hardware": "h", "route": "stranger",
             "completion": "```python\nprint(1)\n```", "prompt_hash": "p", "latency_ms": 12.5,
             "prompt_tokens": 3, "completion_tokens": 4, "ts": "2025-09-01T00:00:00Z"}  # fmt: skip
    return {**event, **fields}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    tmp = tmp_path_factory.mktemp("stranger")
    db = f"sqlite:///{tmp / 'monitor.db'}"
    with (
        running_server(db, tmp / "server.log", "--warmup", "300") as server,
        httpx.Client(base_url=server.url, timeout=60, headers=writer()) as c,
    ):
        yield c


def test_head_and_unrouted_requests_answer_like_the_api(client: httpx.Client) -> None:
    # uptime checkers and `curl -I` ask with HEAD: what GET serves, without a body
    for path in ("/healthz", "/", "/metrics", "/v1/alerts", "/v1/coverage"):
        r = client.head(path, headers=reader())
        assert r.status_code == 200 and r.content == b"", (path, r.status_code)
    assert client.head("/v1/alerts", headers={"Authorization": ""}).status_code == 401
    # every error has the API's one shape, {"error": ...}
    r = client.options("/v1/events")
    assert r.status_code == 405 and "POST" in r.headers["allow"] and r.json()["error"]
    r = client.request("BREW", "/v1/alerts", headers=reader())
    assert r.status_code == 405 and r.json()["error"]
    r = client.get("/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]


def test_gzip_and_bom_bodies(client: httpx.Client) -> None:
    body = json.dumps({"events": [_stranger(event_id="gz-1")]}).encode()
    zipped = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    r = client.post("/v1/events", content=gzip.compress(body), headers=zipped)
    assert r.status_code == 200 and r.json()["accepted"] == ["gz-1"], r.text
    r = client.post("/v1/events", content=b"\xef\xbb\xbf" + body.replace(b"gz-1", b"bom-1"))
    assert r.status_code == 200 and r.json()["accepted"] == ["bom-1"], r.text
    # what the header claims must be what arrives, and the limit holds after decompression
    r = client.post("/v1/events", content=body, headers=zipped)
    assert r.status_code == 400 and "gzip" in r.json()["error"], r.text
    bomb = gzip.compress(b'{"events": [{"completion": "' + b"x" * (MAX_BODY + 1) + b'"}]}')
    assert len(bomb) < MAX_BODY // 100
    r = client.post("/v1/events", content=bomb, headers=zipped)
    assert r.status_code == 413 and "over" in r.json()["error"], r.text
    r = client.post("/v1/events", content=body, headers={"Content-Encoding": "br"})
    assert r.status_code == 415 and "br" in r.json()["error"], r.text


@pytest.mark.parametrize(
    ("field", "value"),
    [("latency_ms", True), ("latency_ms", "12.5"), ("prompt_tokens", "3"),
     ("completion_tokens", False), ("temperature", "0"), ("logprobs", ["-0.5"])],
)  # fmt: skip
def test_wrong_json_types_are_refused(client: httpx.Client, field: str, value: object) -> None:
    r = client.post("/v1/events", json={"events": [_stranger(**{field: value})]})
    assert r.status_code == 422 and f"events.0.{field}" in r.json()["error"], r.text


def test_a_whole_float_is_a_count(client: httpx.Client) -> None:
    r = client.post("/v1/events", json={"events": [_stranger(prompt_tokens=3.0, max_tokens=8.0)]})
    assert r.status_code == 200, r.text


def test_an_id_repeated_within_a_batch_is_accounted_for(client: httpx.Client) -> None:
    clean = _stranger(event_id="twice")
    broken = _stranger(event_id="twice", completion="```python\ndef f(:\n```")
    r = client.post("/v1/events", json={"events": [clean, broken]})
    assert r.status_code == 200, r.text
    out = r.json()
    # every event sent is either stored or a duplicate; the defects are the stored one's
    assert out["accepted"] == ["twice"] and out["duplicates"] == ["twice"], out
    assert "twice" not in out["defects"], out


def test_an_empty_event_id_is_no_id(client: httpx.Client) -> None:
    # a Go client's zero value: every event after the first was dropped as a duplicate of ""
    events = [_stranger(event_id=""), _stranger(event_id="", completion="other")]
    for _ in range(2):
        r = client.post("/v1/events", json={"events": events})
        assert r.status_code == 200, r.text
        out = r.json()
        assert len(out["accepted"]) == 2 and "" not in out["accepted"], out
        assert out["duplicates"] == [], out


def test_reports_as_objects_and_very_long_reports(client: httpx.Client) -> None:
    reports = [{"text": "it crashes with a TypeError"}, "x" * LONG, {"no_text": 1}]
    started = time.monotonic()
    r = client.post("/v1/triage", json={"reports": reports}, timeout=20)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results[0]["category"] == "runtime_error" and results[0]["reason"] is None
    assert results[2]["reason"] and results[2]["category"] == "other"
    r = client.post("/v1/feedback", json={"text": "compil" * 3000, "thumbs": "down"}, timeout=20)
    assert r.status_code == 200, r.text
    assert time.monotonic() - started < 15


def test_triage_rules_take_linear_time() -> None:
    for text in ("x" * LONG, "compil" * (LONG // 6), "a" * LONG + "error"):
        started = time.monotonic()
        triage(text)
        assert time.monotonic() - started < 3, text[:20]
    assert triage("got a TypeError then a compilation error").evidence  # still matching


BACKTICKS = "echo \\`echo \\\\`x\\\\`\\`"
"""Shell that bash accepts and tree-sitter-bash does not: it costs a ``bash -n`` process."""


@pytest.mark.parametrize(
    ("block", "verdict"), [("(", True), (BACKTICKS, None)], ids=["broken", "bash-only"]
)
def test_an_answer_of_many_shell_blocks_is_checked_in_bounded_time(
    block: str, verdict: bool | None
) -> None:
    # each block tree-sitter rejects went to a `bash -n` process (about 4 ms): 1,500 of them in
    # one answer kept the server busy for seconds, 12,000 (200 kB) for a minute
    event = Event.model_validate(_stranger(completion=f"```bash\n{block}\n```\n" * 1500))
    started = time.monotonic()
    result = check_event(event)
    assert time.monotonic() - started < 3
    assert result.flags["syntax_error"] is verdict, result.details
    if verdict:  # what is kept is the first three problems, as before
        assert [p["line"] for p in result.details["syntax"]] == [3, 6, 9]
    else:  # not judged, and said so: bash was asked about the first blocks only
        assert result.details["syntax_not_checked"] > 1000


def test_alerting_goes_on_after_stranger_traffic(client: httpx.Client) -> None:
    events = _traffic()
    raised = []
    for i in range(0, len(events), 100):
        chunk = events[i : i + 100]
        body = gzip.compress(json.dumps({"events": chunk + chunk[:1]}).encode())
        r = client.post("/v1/events", content=body, headers={"Content-Encoding": "gzip"})
        assert r.status_code == 200, r.text
        assert len(r.json()["accepted"]) + len(r.json()["duplicates"]) == len(chunk) + 1
        raised += r.json()["alerts"]
    assert raised and {a["slice"]["hardware"] for a in raised} == {FAULTY}
    assert client.get("/healthz").json()["ok"]
    page = client.get("/", headers=reader()).text
    assert "&lt;b onmouseover=&#34;x()&#34;&gt;tpu&lt;/b&gt; &amp; \u4e2d\u6587" in page
    assert "<b onmouseover" not in page


# `monitor replay` on other people's files


def _replay(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    out = tmp_path / "out.json"
    code = main(["monitor", "replay", str(path), "--json", str(out), "--warmup", "50"])
    err = capsys.readouterr().err
    if code == 2:
        assert not out.exists() and len(err.strip().splitlines()) == 1, err
    return code, err.replace("\n", "")


@pytest.fixture(scope="module")
def lines(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = tmp_path_factory.mktemp("streams") / "s.jsonl"
    return write_stream(path, simulate(Traffic(n=120, seed=4))).read_text().splitlines()


def test_replay_reads_bom_and_crlf(
    lines: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "windows.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    code, err = _replay(path, tmp_path, capsys)
    assert code == 0, err
    events = sum('"type": "deploy"' not in line for line in lines)
    assert json.loads((tmp_path / "out.json").read_text())["events"] == events


def test_replay_names_the_line_of_bad_bytes(
    lines: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "latin1.jsonl"
    odd = json.dumps({**json.loads(lines[4]), "route": "caf\u00e9"}, ensure_ascii=False)
    path.write_bytes("\n".join(lines[:4]).encode() + b"\n" + odd.encode("latin-1") + b"\n")
    code, err = _replay(path, tmp_path, capsys)
    assert code == 2 and f"{path}:5" in err and "UTF-8" in err, err
    assert "Traceback" not in err


def test_replay_skips_repeated_event_ids_as_the_server_does(
    lines: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # at-least-once delivery logs a retried event twice: the server stores it once
    once = tmp_path / "once.jsonl"
    once.write_text("\n".join(lines) + "\n")
    assert _replay(once, tmp_path, capsys)[0] == 0
    first = json.loads((tmp_path / "out.json").read_text())
    twice = tmp_path / "twice.jsonl"
    twice.write_text("\n".join(line for line in lines for _ in range(2)) + "\n")
    code, err = _replay(twice, tmp_path, capsys)
    report = json.loads((tmp_path / "out.json").read_text())
    assert code == 0 and report["events"] == first["events"], report["events"]
    assert report["duplicates"] == first["events"] and "event_id" in err, err
    assert report["flagged"] == first["flagged"] and report["streams"] == first["streams"]


def test_replay_prints_names_that_look_like_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the terminal's table read a slice name as markup: "[/x]" failed with a traceback
    path = tmp_path / "markup.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in _traffic(MARKUP)) + "\n")
    assert main(["monitor", "replay", str(path), "--warmup", "300"]) == 1
    captured = capsys.readouterr()
    assert MARKUP in captured.out.replace("\n", "").replace(" ", ""), captured.out


@pytest.mark.parametrize("content", ["", "\n  \n\n"])
def test_replay_of_an_empty_file_is_bad_input(
    content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text(content)
    code, err = _replay(path, tmp_path, capsys)
    assert code == 2 and str(path) in err and "no records" in err, err


def test_replay_of_csv_and_string_numbers(
    lines: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = json.loads(lines[1])
    path = tmp_path / "events.csv"
    path.write_text(",".join(first) + "\n" + ",".join(str(v) for v in first.values()) + "\n")
    code, err = _replay(path, tmp_path, capsys)
    assert code == 2 and f"{path}:1" in err and "one JSON object per line" in err, err
    path = tmp_path / "strings.jsonl"
    path.write_text("\n".join([*lines[:3], json.dumps({**first, "latency_ms": "12"})]) + "\n")
    code, err = _replay(path, tmp_path, capsys)
    assert code == 2 and f"{path}:4" in err and "latency_ms" in err, err


def test_triage_reads_a_file_with_a_bom(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "reports.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "it crashes with a TypeError"}\r\n')
    out = tmp_path / "triaged.json"
    assert main(["monitor", "triage", str(path), "--engine", "rules", "--json", str(out)]) == 0
    capsys.readouterr()
    (result,) = json.loads(out.read_text())["results"]
    assert result["category"] == "runtime_error" and result["reason"] is None, result


# `monitor serve`


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_serve_refuses_a_port_out_of_range(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", "serve", "--port", port, "--triage", "rules"]) == 2
    err = capsys.readouterr().err
    assert "--port" in err and "Traceback" not in err, err


def test_serve_prints_a_host_that_looks_like_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'monitor.db'}"
    args = ["--host", "[/x]", "--db", db, "--triage", "rules"]
    assert main(["monitor", "serve", *args]) == 3  # no such interface: this machine's doing
    assert "http://[/x]:8080/" in capsys.readouterr().err


def test_serve_does_not_print_the_database_password(postgres_url: str, tmp_path: Path) -> None:
    # trust authentication takes any password: the URL still carries one, as in production
    schema = f"s{abs(hash(str(tmp_path))) % 10**8}"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    url = postgres_url.replace("postgres@", "postgres:hunter2@", 1)
    url += f"?options=-csearch_path%3D{schema}"
    log = tmp_path / "server.log"
    with running_server(url, log) as server:
        assert httpx.get(server.url + "/healthz").status_code == 200
    text = log.read_text()
    assert "monitor on" in text and "hunter2" not in text, text


def test_a_listed_token_is_taken_whole(tmp_path: Path) -> None:
    # a comma inside a listed token split it in two, each then a valid write token
    tokens = tmp_path / "tokens.toml"
    tokens.write_text('write = ["pass,word", "second"]\nread = "r1, r2"\n')
    db = f"sqlite:///{tmp_path / 'monitor.db'}"
    with running_server(db, tmp_path / "server.log", "--token-file", str(tokens)) as server:
        batch = {"events": [_stranger()]}
        for token, status in (("pass", 401), ("word", 401), ("pass,word", 200), ("second", 200)):
            r = httpx.post(server.url + "/v1/events", json=batch,
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            assert r.status_code == status, (token, r.status_code)
        for token in ("r1", "r2"):  # a string is a comma-separated list, as in the environment
            r = httpx.get(server.url + "/v1/alerts", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, token
    tokens.write_text("write = [1234]\n")
    with socket.socket() as taken:  # were the file accepted, the server would stop here, exit 3
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        args = ["--token-file", str(tokens), "--db", db, "--port", port, "--triage", "rules"]
        assert main(["monitor", "serve", *args]) == 2


# `monitor canary`


def test_canary_endpoint_names_must_differ() -> None:
    # two endpoints under one name would be compared as one: their disagreement never shown
    a = Endpoint.parse("east=openai:http://127.0.0.1:9/v1#m")
    b = Endpoint.parse("east=openai:http://127.0.0.1:10/v1#m")
    with pytest.raises(BadInputError, match="east"):
        run_canaries([a, b])


@pytest.mark.parametrize("every", [math.inf, 1e300, math.nan, -1.0])
def test_canary_interval_checked_before_any_round(every: float) -> None:
    # an interval past what sleep() takes failed with a traceback after the first round
    endpoint = Endpoint.parse("a=openai:http://127.0.0.1:9/v1#m")
    with pytest.raises(BadInputError, match="--every"):
        run_canaries([endpoint], rounds=2, every_s=every)


class _Completions(BaseHTTPRequestHandler):
    """An OpenAI-compatible completions endpoint that always answers the same."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        body = json.dumps({"choices": [{"index": 0, "text": "    return 0\n"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_canary_prints_names_that_look_like_markup(capsys: pytest.CaptureFixture[str]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Completions)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        code = main(["monitor", "canary", "--endpoint", f"{MARKUP}=openai:{url}#m"])
    finally:
        server.shutdown()
        server.server_close()
    captured = capsys.readouterr()
    assert code == 1 and f"{MARKUP}: canary" in captured.out, captured.out + captured.err


@pytest.mark.parametrize("option", ["--out", "--json"])
def test_canary_output_path_checked_before_any_round(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["monitor", "canary", "--endpoint", "a=openai:http://127.0.0.1:9/v1#m",
                 option, str(tmp_path)])  # fmt: skip
    err = capsys.readouterr().err.replace("\n", "")
    assert code == 2 and str(tmp_path) in err and option in err, err
    assert "unreachable" not in err and "Traceback" not in err
