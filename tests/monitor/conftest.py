"""The monitor service as a real subprocess (``tripwire monitor serve``) on a free loopback port,
and recorded traffic streams from the simulator."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.postgres import postgres_url  # noqa: F401 - session fixture
from tripwire.monitor import Deploy, Event, Fault, Traffic, simulate

WRITE, READ = "writer-secret", "reader-secret"
CLI = "import sys; from tripwire.cli import main; sys.exit(main())"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(
        self, db_url: str, port: int, log: Path, *extra: str, env: dict[str, str] | None = None
    ) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        # the rules, unless a test asks for the model: loading and fitting the triage model at
        # every start would cost each server test seconds and test nothing new
        triage = () if "--triage" in extra else ("--triage", "rules")
        cmd = [sys.executable, "-c", CLI, "monitor", "serve", "--db", db_url, "--port", str(port),
               *triage, *extra]  # fmt: skip
        # the server's own tokens come from its environment, never its command line
        env = {**os.environ, "TRIPWIRE_MONITOR_WRITE_TOKENS": WRITE,
               "TRIPWIRE_MONITOR_READ_TOKENS": READ, **(env or {})}  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {log.read_text()[-3000:]}")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@contextmanager
def running_server(
    db_url: str, log: Path, *extra: str, env: dict[str, str] | None = None
) -> Iterator[Server]:
    server = Server(db_url, free_port(), log, *extra, env=env)
    try:
        yield server
    finally:
        server.stop()


def writer() -> dict[str, str]:
    return {"Authorization": f"Bearer {WRITE}"}


def reader() -> dict[str, str]:
    return {"Authorization": f"Bearer {READ}"}


FAULT_START = 2400
FAULTY = "tpu-v5e"
WARMUP = 1000
"""Per route: two routes, so the baselines are set by the first ~2,000 events."""


def faulty_traffic(seed: int = 3, n: int = 4800) -> Traffic:
    """v1 known-good, v2 deployed at FAULT_START; v2 corrupts 10% of outputs on one hardware."""
    return Traffic(
        n=n, seed=seed, versions=((0, "v1"), (FAULT_START, "v2")),
        faults=(Fault(start=FAULT_START, rate=0.10, hardware=FAULTY, model_version="v2"),),
    )  # fmt: skip


RARE_ROUTE = "[bold]review[/bold]"
"""A route too quiet to finish its warm-up (named in markup: it must be shown, not styled)."""
RARE_EVENTS = 40
SAMPLED = 12
"""Chat events in the warm-up that carry greedy top-1 flags (the rest are sampled at 0.7)."""


def gappy_traffic(n: int = 1400) -> list[Event | Deploy]:
    """Healthy traffic with two holes in what can be watched: a third route that sends only
    ``RARE_EVENTS`` events, spread over the stream, and top-1 flags on only ``SAMPLED`` of the
    chat route's first events."""
    main = simulate(Traffic(n=n, seed=5))
    rare = simulate(Traffic(n=RARE_EVENTS, seed=6, routes=(RARE_ROUTE,),
                            seconds_per_event=0.5 * n / RARE_EVENTS))  # fmt: skip
    greedy = 0
    for i, rec in enumerate(main):
        if isinstance(rec, Event) and rec.route == "chat" and greedy < SAMPLED:
            top1 = [True] * max(rec.completion_tokens, 1)
            main[i] = rec.model_copy(update={"temperature": 0.0, "top1": top1})
            greedy += 1
    events = [r for r in rare if isinstance(r, Event)]
    return sorted(main + events, key=lambda r: (r.ts, isinstance(r, Event)))


def write_stream(path: Path, records: list) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r.model_dump(mode="json", exclude_none=True)) + "\n")
    return path


@pytest.fixture(scope="session")
def faulty_stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("streams") / "events.jsonl"
    return write_stream(path, simulate(faulty_traffic()))
