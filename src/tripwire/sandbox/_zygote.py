"""The worker ("zygote"): a long-lived interpreter that forks one child per program.

Started by ``Sandbox`` with a scrubbed environment through ``_pool.BOOTSTRAP``, which loads this
directory as a package of its own (``_tripwire_sandbox``): the worker, and every program it
forks, carries none of ``tripwire``'s top-level imports. It confines itself once
(``_isolation``), imports what test programs commonly use, then serves jobs from its stdin:
fork, supervise (wall-clock deadline, output cap), kill the whole process tree, judge, reply.
It is a child subreaper, so a daemon a program leaves behind is re-parented to the worker and
killed before the next job.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import itertools
import json
import os
import select
import signal
import sys
import time
from typing import Any, NoReturn

from . import _confine, _judge, _protocol, _serve
from ._child import (
    BUILD_CPU,
    FAIL,
    PASS,
    SETUP_ERROR,
    prepare_job,
    prepare_worker,
    reap,
    run_child,
    run_executable_child,
    run_judge,
    run_served_child,
)
from ._isolation import Applied, IsolationError, WorkerPlan, isolate_worker, tmpfs_options

# Imported once here so forked programs don't pay for them. Only cheap, common modules: fork
# cost grows with the worker's memory (about 0.3 ms per MB on a small VM), so e.g. unittest or
# hashlib (OpenSSL) are left to the programs that use them.
PRELOAD = (
    "bisect", "collections", "copy", "functools", "heapq", "itertools", "json", "math", "numbers",
    "operator", "random", "re", "string", "typing",
)  # fmt: skip
RESULT_CAP = 4096
_HARNESS_EXITS = {
    _serve.TOUCHED_DESCRIPTORS: "harness_descriptors",
    _serve.BROKEN_HARNESS: "patch_builtins",
}
_job_numbers = itertools.count()
KILL_GRACE_S = 5.0
EXIT_GRACE_S = 1.0


def _signame(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(b")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _kill_descendants() -> bool:
    """Kill and reap everything left of the last program; False if something would not die.

    Orphans re-parent to this worker (a subreaper), so "no children" means nothing is left.
    """
    me, deadline = os.getpid(), time.monotonic() + KILL_GRACE_S
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return True
        for pid in _children_of(me):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            return False
        time.sleep(0.0005)


class _Capture:
    """Reads a pipe, keeping the first ``cap`` bytes and counting the rest."""

    def __init__(self, fd: int, cap: int) -> None:
        self.fd, self.cap, self.data, self.total, self.open = fd, cap, bytearray(), 0, True

    def read(self) -> None:
        try:
            chunk = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return
        if not chunk:
            self.open = False
            return
        self.total += len(chunk)
        if len(self.data) < self.cap:
            self.data += chunk[: self.cap - len(self.data)]

    def drain(self) -> None:
        os.set_blocking(self.fd, False)
        while self.open:
            before = self.total
            self.read()
            if self.open and self.total == before:
                break
        os.close(self.fd)


def _supervise(
    pid: int, out: _Capture, res: _Capture, deadline: float, grace: float | None = None
) -> bool:
    """Collect output until process ``pid`` exits; True if the wall-clock deadline hit first.
    ``grace``: once the result pipe is closed (the verdict is in), wait at most that long."""
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    for fd in (out.fd, res.fd, pidfd):
        poller.register(fd, select.POLLIN)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            for fd, _ in poller.poll(max(1, int(left * 1000))):
                if fd == pidfd:
                    return False
                cap = out if fd == out.fd else res
                cap.read()
                if not cap.open:
                    poller.unregister(fd)
                    if cap is res and grace is not None:
                        deadline = min(deadline, time.monotonic() + grace)
    finally:
        os.close(pidfd)


def _status_of(program: _Program) -> tuple[int, Any]:
    """The program's wait status and the resource usage of its process tree."""
    _, status, usage = os.wait4(program.pid, 0)
    if program.status_fd < 0:
        return status, usage
    relayed = os.read(program.status_fd, 16)
    os.close(program.status_fd)
    # no relay: the reaper was killed before the program ended (the wall-clock limit)
    return (int(relayed) if relayed else signal.SIGKILL), usage


class _Program:
    """The process the worker waits for: the program itself, or the reaper that is the init
    of the program's own PID namespace (which relays the program's wait status)."""

    def __init__(self, pid: int, status_fd: int) -> None:
        self.pid, self.status_fd = pid, status_fd

    def kill(self) -> None:
        for kill, target in ((os.killpg, self.pid), (os.kill, self.pid)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(target, signal.SIGKILL)


def _start(
    applied: Applied,
    child: Any,
    keep: tuple[int, ...],
    pid1: Any = None,
) -> _Program:
    """Fork the program (``child()`` never returns), in new PID and IPC namespaces when the
    worker can make them, under their init: ``pid1(program, status_w)`` (which must relay the
    program's wait status on ``status_w`` and end), by default a plain reaper. The init holds
    none of ``keep``, the worker's ends of the program's pipes, unless ``pid1`` takes them."""
    if not applied.pid_namespace:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            child()
        return _Program(pid, -1)
    status_r, status_w = os.pipe()
    _confine.unshare(_confine.CLONE_NEWPID | _confine.CLONE_NEWIPC)
    try:
        init = os.fork()
        if init == 0:  # pragma: no cover - pid 1 of the new namespaces
            os.close(status_r)
            program = os.fork()
            if program == 0:
                os.close(status_w)
                child()
            if pid1 is not None:
                pid1(program, status_w)
            for fd in keep:
                os.close(fd)
            reap(program, status_w)
    finally:
        pid_ns, ipc_ns = applied.own_namespaces
        _confine.setns(pid_ns, _confine.CLONE_NEWPID)
        _confine.setns(ipc_ns, _confine.CLONE_NEWIPC)
    os.close(status_w)
    return _Program(init, status_r)


def _verdict(
    res: bytes, nonce: bytes, timed_out: bool, status: int, cpu_s: float, limits: dict[str, Any]
) -> tuple[str, str, list[str]]:
    if nonce and res == PASS + nonce:
        return "passed", "all tests passed", []
    if timed_out:
        return "timeout", f"wall-clock limit of {limits['wall_s']:g}s exceeded", []
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    if sig in (signal.SIGPROF, signal.SIGXCPU) or (
        sig == signal.SIGKILL and cpu_s >= limits["cpu_s"]
    ):
        return "timeout", f"CPU limit of {limits['cpu_s']:g}s exceeded", []
    if not nonce:  # judged: the judge's report decides, a pass only from the judge
        kinds = {_judge.PASS: "passed", _judge.FAIL: "failed", _judge.ERROR: "error"}
        try:
            report = json.loads(res[1:]) if res[:1] in kinds else None
        except ValueError:
            report = None
        if report is not None:
            verdict, message = kinds[res[:1]], str(report["message"])
            tampering = list(report["tampering"])
            why = _HARNESS_EXITS.get(os.WEXITSTATUS(status)) if os.WIFEXITED(status) else None
            if verdict == "failed" and why and why not in tampering:
                # the program's harness left without answering, and said why
                tampering.append(why)
                message += f"; tampering ({', '.join(tampering)})"
            return verdict, message, tampering
        return "error", "the judge ended without a verdict", []
    if res.startswith(SETUP_ERROR):
        return "error", "sandbox setup failed: " + res[1:].decode("utf-8", "replace"), []
    if res.startswith(FAIL):
        return "failed", res[1:].decode("utf-8", "replace"), []
    if res.startswith(PASS):
        # a pass report without the run's token: only a program forging one writes it
        return "failed", "the harness channel was tampered with", ["forged_report"]
    if sig == signal.SIGXFSZ:
        return "failed", f"file size limit of {limits['file_size_bytes']} bytes exceeded", []
    if sig:
        return "failed", f"killed by {_signame(sig)} before the tests finished", []
    code = os.WEXITSTATUS(status)
    return "failed", f"exited with status {code} before the tests finished", []


_quota = {"bytes": 0}


def _job_dir(workdir: str, applied: Applied, limits: dict[str, Any]) -> str:
    size = int(limits.get("disk_bytes", 0))
    if applied.disk.startswith("tmpfs") and size and size != _quota["bytes"]:
        # this job's own quota (the tmpfs holds one job at a time)
        _confine.mount(None, workdir, None, _confine.MS_REMOUNT, tmpfs_options(size))
        _quota["bytes"] = size
    jobdir = os.path.join(workdir, f"job{next(_job_numbers)}")
    os.mkdir(jobdir, 0o700)
    if applied.drop_uid is not None:
        os.chown(jobdir, applied.drop_uid, applied.drop_uid)
    prepare_job(jobdir)
    return jobdir


def _remove(jobdir: str) -> None:
    try:
        os.rmdir(jobdir)  # most programs leave nothing behind
    except OSError:
        import shutil  # only for programs that leave files: the worker stays small

        shutil.rmtree(jobdir, ignore_errors=True)


def run_job(job: dict[str, Any], workdir: str, applied: Applied, proto: tuple[int, int]) -> dict:
    if job.get("entry_points") is not None:
        return _run_judged(job, workdir, applied, proto)
    limits = job["limits"]
    jobdir = _job_dir(workdir, applied, limits)
    out_r, out_w = os.pipe()
    nonce_r, nonce_w = os.pipe()
    res_r, res_w = os.pipe()
    t0 = time.monotonic()
    ours = (out_r, nonce_w, res_r, *proto)

    entry = run_executable_child if job.get("run") is not None else run_child

    def child() -> NoReturn:
        for fd in ours:
            os.close(fd)
        entry(job, jobdir, (out_w, nonce_r, res_w), applied)

    program = _start(applied, child, (out_w, nonce_r, res_w, *ours))
    for fd in (out_w, nonce_r, res_w):
        os.close(fd)
    # generated after the fork so the program's memory never holds it
    nonce = os.urandom(16).hex().encode()
    with contextlib.suppress(BrokenPipeError):  # the child may already have ended
        os.write(nonce_w, nonce)
    os.close(nonce_w)
    out, res = _Capture(out_r, int(limits["output_bytes"])), _Capture(res_r, RESULT_CAP)
    timed_out = _supervise(program.pid, out, res, t0 + float(limits["wall_s"]))
    program.kill()
    status, usage = _status_of(program)
    return _finish(jobdir, t0, out, res, nonce, timed_out, status, usage, limits)


def _run_judged(
    job: dict[str, Any], workdir: str, applied: Applied, proto: tuple[int, int]
) -> dict:
    """The program answers calls; the judge, a process of its own (the init of the program's
    namespaces where it has them), runs the tests."""
    limits = job["limits"]
    jobdir = _job_dir(workdir, applied, limits)
    out_r, out_w = os.pipe()
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    res_r, res_w = os.pipe()
    t0 = time.monotonic()
    judge_ends = (req_w, resp_r, res_w)
    program_ends = (out_w, req_r, resp_w)
    workers_ends = (out_r, res_r, *proto)

    def child() -> NoReturn:
        for fd in (*workers_ends, *judge_ends):
            os.close(fd)
        run_served_child(job, jobdir, program_ends, applied)

    def judge_in_init(program: int, status_w: int) -> NoReturn:
        for fd in (*workers_ends, *program_ends):
            os.close(fd)
        run_judge(job, (*judge_ends, status_w), applied, program)

    program = _start(applied, child, (), judge_in_init)
    judge = program.pid
    for fd in program_ends:
        os.close(fd)
    if not applied.pid_namespace:
        judge = os.fork()
        if judge == 0:  # pragma: no cover - the judge
            for fd in workers_ends:
                os.close(fd)
            run_judge(job, judge_ends, applied)
    for fd in judge_ends:
        os.close(fd)
    out, res = _Capture(out_r, int(limits["output_bytes"])), _Capture(res_r, RESULT_CAP)
    deadline = t0 + float(limits["wall_s"])
    # once the verdict is in, an honest program sees end of file and ends: give it a moment so
    # its CPU time is counted, but no more than the limit allows
    timed_out = _supervise(judge, out, res, deadline, grace=EXIT_GRACE_S)
    if judge != program.pid:
        if not timed_out:
            _supervise(program.pid, out, res, min(deadline, time.monotonic() + EXIT_GRACE_S))
        with contextlib.suppress(ProcessLookupError):
            os.kill(judge, signal.SIGKILL)
        os.waitpid(judge, 0)
    timed_out = timed_out and not res.data  # a verdict delivered in time stands
    program.kill()
    status, usage = _status_of(program)
    return _finish(jobdir, t0, out, res, b"", timed_out, status, usage, limits)


def _finish(
    jobdir: str,
    t0: float,
    out: _Capture,
    res: _Capture,
    nonce: bytes,
    timed_out: bool,
    status: int,
    usage: Any,
    limits: dict[str, Any],
) -> dict:
    wall = time.monotonic() - t0
    clean = _kill_descendants()
    out.drain()
    res.drain()
    _remove(jobdir)
    report, build_cpu = _build_report(bytes(res.data))
    # the program's own CPU: a compiler's, reported by the child, is not the program's
    cpu = max(usage.ru_utime + usage.ru_stime - build_cpu, 0.0)
    verdict, message, tampering = _verdict(report, nonce, timed_out, status, cpu, limits)
    return {
        "verdict": verdict,
        "message": message,
        "wall_s": round(wall, 6),
        "cpu_s": round(cpu, 6),
        "build_cpu_s": round(build_cpu, 6),
        "peak_rss_bytes": usage.ru_maxrss * 1024,
        "output": out.data.decode("utf-8", "replace"),
        "output_bytes": out.total,
        "tampering": tampering,
        "clean": clean,
    }


def _build_report(res: bytes) -> tuple[bytes, float]:
    """An ``Executable``'s child puts the compiler's CPU seconds first (``B<seconds>\n``)."""
    if res.startswith(BUILD_CPU):
        head, _, rest = res.partition(b"\n")
        try:
            return rest, float(head[1:])
        except ValueError:
            return rest, 0.0
    return res, 0.0


def main() -> None:
    plan = WorkerPlan(**json.loads(sys.argv[-1]))
    proto = (os.dup(0), os.dup(1))
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # a stray print must not corrupt the protocol
    os.chdir("/")
    workdir = plan.workdir  # created by the parent, which also removes it
    try:
        applied = isolate_worker(plan, workdir)
    except (IsolationError, OSError) as exc:
        _protocol.send(proto[1], {"ready": False, "error": str(exc)})
        return
    prepare_worker()
    for name in PRELOAD:
        importlib.import_module(name)
    _serve.snapshot_watched()
    gc.collect()
    gc.freeze()  # the children's collections skip these objects: fewer copy-on-write faults
    ready = {"ready": True, "isolation": applied.describe()}
    _protocol.send(proto[1], ready)
    try:
        while (job := _protocol.recv(proto[0])) is not None:
            try:
                reply = run_job(job, workdir, applied, proto)
            except Exception as exc:  # a worker fault, not the program's: report, keep serving
                _kill_descendants()
                reply = {"verdict": "error", "message": f"sandbox worker: {exc!r}", "clean": True}
            _protocol.send(proto[1], reply)
    except BrokenPipeError:
        pass
    finally:
        import shutil  # at exit only: the worker stays small while it serves

        # the parent removes it too, unless it was killed: then this is the only chance
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
