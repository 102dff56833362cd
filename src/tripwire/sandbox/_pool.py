"""The parent side: a pool of workers, one thread each, plus the result cache."""

from __future__ import annotations

import collections
import contextlib
import json
import os
import pwd
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tripwire.artifacts import sha256_json
from tripwire.errors import BadInputError
from tripwire.progress import Progress, no_progress
from tripwire.sandbox import _protocol
from tripwire.sandbox._cache import ResultCache
from tripwire.sandbox._types import ExecResult, Executable, Isolation, Judged, Limits

HARNESS_VERSION = 4
"""Bump when a change to the harness could change a verdict: it is part of the cache key."""
START_TIMEOUT_S = 120.0
REPLY_GRACE_S = 30.0
PIPELINE_DEPTH = 2
MAX_WORKERS_PER_CORE = 8
WORKER_DIED = "the sandbox worker died or stopped responding during the program"
WORKER_GONE = "the sandbox worker could not be started again"
NETWORK_MODES = ("auto", "netns", "seccomp", "none")
PRIVILEGE_MODES = ("auto", "drop", "keep")
WORKER_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
_UID_RANGE = range(60000, 65000)
# Loads this directory as a package of its own, so the worker skips tripwire/__init__.py (and
# its imports): fork and exit costs grow with the worker's memory.
BOOTSTRAP = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location(
    "_tripwire_sandbox", sys.argv[1], submodule_search_locations=[sys.argv[2]]
)
package = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = package
spec.loader.exec_module(package)
importlib.import_module("_tripwire_sandbox._zygote").main()
"""
_HERE = Path(__file__).resolve().parent
Job = tuple[str, str] | tuple[str, str, Limits | None] | Judged | Executable
"""(program, tests), or (program, tests, limits) for limits of its own: run in one process;
a ``Judged`` program, whose tests run in a trusted judge process; or an ``Executable`` in
another language (files, a build command, a run command)."""


class SandboxUnavailable(RuntimeError):
    """The workers could not apply the protections asked for (message says which and why)."""


def interpreter_id() -> str:
    """What identifies the interpreter that runs programs (part of the cache key)."""
    return f"{os.path.realpath(sys.executable)} {sys.version} harness-{HARNESS_VERSION}"


def _mapped(uid: int) -> bool:
    try:
        with open("/proc/self/uid_map") as f:
            ranges = [tuple(map(int, line.split())) for line in f if line.strip()]
    except OSError:
        return True
    return any(inside <= uid < inside + count for inside, _, count in ranges)


def _free_uids(n: int) -> list[int]:
    """``n`` uids with no passwd entry for programs to run as (as root), one per worker.

    The starting point depends on our pid so two sandboxes on a machine rarely share uids.
    """
    start = (os.getpid() * 64) % len(_UID_RANGE)
    order = [*_UID_RANGE[start:], *_UID_RANGE[:start]]
    out = []
    for uid in order:
        try:
            pwd.getpwuid(uid)
            continue
        except KeyError:
            pass
        if _mapped(uid):
            out.append(uid)
            if len(out) == n:
                return out
    raise SandboxUnavailable(f"no {n} free uids in {_UID_RANGE.start}-{_UID_RANGE.stop - 1}")


class _Worker:
    """One zygote process and the pipes to it."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.proc: subprocess.Popen[bytes] | None = None
        self.workdir: str | None = None
        self.isolation: dict[str, str] = {}

    def launch(self) -> None:
        self.workdir = tempfile.mkdtemp(prefix="tripwire-sandbox-")
        os.chmod(self.workdir, 0o711)  # a program's uid must reach its own job dir inside
        self.plan["workdir"] = self.workdir
        argv = [sys.executable, "-I", "-c", BOOTSTRAP, str(_HERE / "__init__.py"), str(_HERE)]
        self.proc = subprocess.Popen(
            [*argv, json.dumps(self.plan)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=WORKER_ENV,  # no inherited secrets: the worker never sees our environment
            cwd="/",
            close_fds=True,
            start_new_session=True,  # a terminal's Ctrl-C reaches us, and we stop the workers
        )

    def await_ready(self) -> None:
        assert self.proc and self.proc.stdout
        msg = None
        with contextlib.suppress(TimeoutError):
            msg = _protocol.recv(self.proc.stdout.fileno(), time.monotonic() + START_TIMEOUT_S)
        if not msg or not msg.get("ready"):
            self.stop()
            why = msg.get("error") if msg else "the worker did not start"
            raise SandboxUnavailable(f"sandbox worker: {why}")
        self.isolation = msg["isolation"]

    def send(self, job: dict[str, Any]) -> bool:
        """Queue a job on the worker (starting it if needed); False if the worker is gone."""
        if self.proc is None:
            self.launch()
            self.await_ready()
        assert self.proc and self.proc.stdin
        try:
            _protocol.send(self.proc.stdin.fileno(), job)
            return True
        except OSError:
            self.stop(kill=True)
            return False

    def receive(self, job: dict[str, Any]) -> dict[str, Any] | None:
        """The reply to the oldest queued job, or None if the worker was lost before replying
        (the worker is then stopped; it restarts on the next ``send``)."""
        if self.proc is None or self.proc.stdout is None:
            return None
        # the worker starts a job when it has replied to the one before: the clock starts now
        deadline = time.monotonic() + float(job["limits"]["wall_s"]) + REPLY_GRACE_S
        try:
            reply = _protocol.recv(self.proc.stdout.fileno(), deadline)
        except (TimeoutError, OSError):
            reply = None
        if reply is None or not reply.pop("clean", True):
            self.stop(kill=reply is None)
        return reply

    def stop(self, kill: bool = False) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.stdin:
                with contextlib.suppress(OSError):
                    proc.stdin.close()  # the worker's loop ends at end of file
            try:
                proc.wait(timeout=0 if kill else 5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def _lost(why: str) -> dict[str, Any]:
    return {"verdict": "error", "message": why, "wall_s": 0.0, "cpu_s": 0.0, "peak_rss_bytes": 0}


class Sandbox:
    """A pool of sandbox workers; use as a context manager (or call ``close()``).

    ``workers`` defaults to the number of usable cores. ``cache_dir`` enables the content-addressed
    result cache there (None: no cache; identical jobs within one ``run_many`` still run once).
    ``network``: ``auto`` (a network namespace, else a seccomp socket filter, else refuse),
    ``netns``, ``seccomp``, or ``none`` (allow network). ``privileges``: ``auto`` (as root, run
    programs under an unprivileged uid per worker), ``drop`` (require that), ``keep``.
    """

    engine = "local"
    """Where the workers run (``RaySandbox``: ``ray``), recorded with a run."""

    def __init__(
        self,
        workers: int | None = None,
        limits: Limits | None = None,
        cache_dir: str | Path | None = None,
        *,
        network: str = "auto",
        privileges: str = "auto",
    ) -> None:
        if network not in NETWORK_MODES:
            raise ValueError(f"network must be one of {NETWORK_MODES}, got {network!r}")
        if privileges not in PRIVILEGE_MODES:
            raise ValueError(f"privileges must be one of {PRIVILEGE_MODES}, got {privileges!r}")
        cores = len(os.sched_getaffinity(0))
        self.workers = workers or cores
        if self.workers < 1:
            raise ValueError("workers must be >= 1")
        if self.workers > MAX_WORKERS_PER_CORE * cores:
            raise BadInputError(
                "--workers",
                f"{self.workers} sandbox workers on {cores} usable cores; at most "
                f"{MAX_WORKERS_PER_CORE * cores} (programs are CPU-bound: more workers than "
                "cores only share them)",
            )
        self.limits = limits or Limits()
        root = os.geteuid() == 0
        # as root, two uids per worker: the programs' and their judges'
        uids = (
            _free_uids(2 * self.workers)
            if root and privileges != "keep"
            else [os.getuid()] * (2 * self.workers)
        )
        self._workers = [
            _Worker(
                {
                    "network": network,
                    "privileges": privileges,
                    "uid": uid,
                    "gid": uid if root else os.getgid(),
                    "nprocs": self.limits.nprocs,
                    "judge_uid": judge_uid,
                    "disk_bytes": self.limits.disk_bytes,
                }
            )
            for uid, judge_uid in zip(uids[::2], uids[1::2], strict=True)
        ]
        self._cache = ResultCache(cache_dir) if cache_dir is not None else None
        self._started = False
        self._lock = threading.Lock()
        self._running = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start every worker now (otherwise the first run does); raises SandboxUnavailable."""
        with self._lock:
            if self._started:
                return
            for w in self._workers:
                w.launch()
            try:
                for w in self._workers:
                    w.await_ready()
            except SandboxUnavailable:
                for w in self._workers:
                    w.stop()
                raise
            self._started = True

    def close(self) -> None:
        for w in self._workers:
            w.stop()
        if self._cache is not None:
            self._cache.close()
            self._cache = None
        self._started = False

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def isolation(self) -> Isolation:
        """Which protections are in force (starts the workers)."""
        self.start()
        return Isolation(**self._workers[0].isolation)

    @property
    def jobs_to_fill(self) -> int:
        """How many jobs one ``iter_many`` call needs to keep every worker busy (callers that
        hand jobs over a group at a time size their groups by it)."""
        return 4 * self.workers

    def worker_pids(self) -> list[int]:
        """Process ids of the running workers (programs run as their children)."""
        return [w.proc.pid for w in self._workers if w.proc is not None]

    # -- running -------------------------------------------------------------------------------
    def payload(self, job: Job) -> dict[str, Any]:
        """What the worker is sent for ``job`` (and what its cache key hashes)."""
        if isinstance(job, Judged | Executable):
            return job.payload(self.limits)
        program, tests, *own = job
        limits = own[0] if own and own[0] is not None else self.limits
        return {"program": program, "tests": tests, "limits": limits.to_dict()}

    def cache_key(self, job: Job) -> str:
        return sha256_json({**self.payload(job), "interpreter": interpreter_id()})

    def run(self, program: str | Judged | Executable, tests: str = "") -> ExecResult:
        """Run ``program`` then ``tests`` (in one namespace), or a ``Judged`` or ``Executable``
        job; see ``ExecResult.verdict``."""
        job: Job = program if isinstance(program, Judged | Executable) else (program, tests)
        return self.run_many([job])[0]

    def run_many(
        self,
        jobs: Iterable[Job],
        progress: Progress = no_progress,
        *,
        use_cache: bool = True,
    ) -> list[ExecResult]:
        """Run every job on all workers; results in the order given. A job is (program, tests),
        or (program, tests, limits) to override the sandbox's limits for that program."""
        jobs = list(jobs)
        results: list[ExecResult | None] = [None] * len(jobs)
        for i, result in self.iter_many(jobs, progress, use_cache=use_cache):
            results[i] = result
        return results  # type: ignore[return-value]

    def iter_many(
        self,
        jobs: Sequence[Job],
        progress: Progress = no_progress,
        *,
        use_cache: bool = True,
    ) -> Iterator[tuple[int, ExecResult]]:
        """Like ``run_many`` but yields (index, result) as results arrive (cache hits first).

        Identical jobs run once; ``use_cache=False`` ignores the result cache (a self-test must
        really execute) but still stores fresh results in it.
        """
        by_key: dict[str, list[int]] = {}
        payloads: dict[str, dict[str, Any]] = {}
        for i, job in enumerate(jobs):
            payload = self.payload(job)
            key = sha256_json({**payload, "interpreter": interpreter_id()})
            by_key.setdefault(key, []).append(i)
            payloads.setdefault(key, payload)
        todo: list[tuple[str, dict[str, Any]]] = []
        done = 0
        progress("execute", done, len(jobs))
        for key, idxs in by_key.items():
            hit = self._cache.get(key) if self._cache and use_cache else None
            if hit is None:
                todo.append((key, payloads[key]))
                continue
            for i in idxs:
                yield i, hit
            done += len(idxs)
            progress("execute", done, len(jobs))
        try:
            for key, result in self._execute(todo):
                if self._cache is not None and result.verdict != "error":
                    self._cache.put(key, result)
                first, *rest = by_key[key]
                yield first, result
                copy = ExecResult.from_dict({**result.to_dict(), "cached": True})
                for i in rest:
                    yield i, copy
                done += len(by_key[key])
                progress("execute", done, len(jobs))
        finally:
            if self._cache is not None:
                self._cache.flush()

    def _execute(self, todo: list[tuple[str, dict[str, Any]]]) -> Iterable[tuple[str, ExecResult]]:
        """Yield (key, result) as workers finish, on the calling thread.

        Each worker has up to PIPELINE_DEPTH jobs queued, so it starts the next program as
        soon as it has replied, without waiting for this process to be scheduled.
        """
        if not todo:
            return
        self.start()
        with self._running:  # one batch at a time: the workers' pipes carry one conversation
            yield from self._execute_locked(todo)

    def _execute_locked(
        self, todo: list[tuple[str, dict[str, Any]]]
    ) -> Iterable[tuple[str, ExecResult]]:
        pending = collections.deque(todo)
        take = threading.Lock()
        finished: queue.Queue[tuple[str, ExecResult] | BaseException | None] = queue.Queue()

        def serve(worker: _Worker) -> None:
            inflight: collections.deque[tuple[str, dict[str, Any]]] = collections.deque()
            try:
                while True:
                    while len(inflight) < PIPELINE_DEPTH:
                        with take:
                            item = pending.popleft() if pending else None
                        if item is None:
                            break
                        if not worker.send(item[1]):
                            finished.put((item[0], ExecResult.from_dict(_lost(WORKER_GONE))))
                            continue
                        inflight.append(item)
                    if not inflight:
                        break
                    key, job = inflight.popleft()
                    reply = worker.receive(job)
                    if reply is None:
                        # the program (or a fault) took the worker down; the jobs queued behind
                        # it never started: hand them back
                        with take:
                            pending.extendleft(reversed(inflight))
                        inflight.clear()
                        reply = _lost(WORKER_DIED)
                    finished.put((key, ExecResult.from_dict(reply)))
            except BaseException as exc:  # surfaced on the calling thread
                finished.put(exc)
            finally:
                finished.put(None)

        threads = [
            threading.Thread(target=serve, args=(w,), daemon=True)
            for w in self._workers[: len(todo)]
        ]
        for t in threads:
            t.start()
        running = len(threads)
        while running:
            item = finished.get()
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
