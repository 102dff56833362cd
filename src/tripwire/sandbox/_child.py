"""What runs in the child a worker forks for one program: confinement, then a harness.

Two harnesses. Judged runs (``_serve``) answer calls from a trusted judge in another process,
which alone decides the verdict. In-process runs (below) execute the program and its tests in
one namespace, for suites whose tests are as untrusted as the program (a fine-tuning record's
own tests); their pass signal is a nonce.

The pass signal. The worker writes a fresh random nonce into a pipe only after the fork, so the
nonce is not in the child's memory while the program runs. After the program and every test
ran without raising, the harness reads the nonce and reports it on a second pipe; the worker
calls the run passed only if that report is exactly the nonce and came before the child ended.
So exiting early (``sys.exit``, ``os._exit``), being killed, killing the worker, or hijacking the
builtins the harness would call (it holds its own references) cannot produce a pass. What no
in-process harness can stop is a program written against this one (reading the nonce pipe
itself); model-written code does not do that by accident, and the nonce does stop the generic
ways out.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import math
import os
import resource
import signal
import sys
from typing import Any, NoReturn

from . import _confine, _judge, _serve
from ._isolation import Applied, drop_privileges

# The harness's own references: a program that rebinds os.write or builtins.exec does not
# change what the harness calls after the tests.
_exec, _compile, _type, _str = exec, compile, type, str
_read, _write, _exit, _getpid = os.read, os.write, os._exit, os.getpid

PASS, FAIL, SETUP_ERROR, BUILD_CPU = b"P", b"F", b"E", b"B"
RESULT_FD, TOKEN_FD = 3, 4
"""An ``Executable``'s descriptors: its report goes to 3; 4 is a pipe holding the run's token
(then end of file), to be read once by the program's harness."""
CHILD_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def _user_tasks(uid: int) -> int:
    """Tasks (processes and threads) owned by ``uid``: RLIMIT_NPROC counts them all."""
    n = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    n += os.stat(f"/proc/{entry}/task").st_nlink - 2
            except OSError:
                continue
    return n


def _set_limit(res: int, value: int) -> None:
    _, hard = resource.getrlimit(res)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(res, (value, value))


def _apply_limits(limits: dict[str, Any], applied: Applied) -> None:
    # RLIMIT_CPU counts whole seconds: it is the backstop (and the limit of every process the
    # program forks); the program's own process is stopped on time by _start_cpu_timer
    cpu = math.ceil(limits["cpu_s"]) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard == resource.RLIM_INFINITY or hard > cpu:
        # soft limit sends SIGXCPU; the hard one SIGKILLs a program that ignores it
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    _set_limit(resource.RLIMIT_AS, int(limits["memory_bytes"]))
    _set_limit(resource.RLIMIT_FSIZE, int(limits["file_size_bytes"]))
    _set_limit(resource.RLIMIT_NOFILE, int(limits["open_files"]))
    _set_limit(resource.RLIMIT_CORE, 0)
    nprocs = int(limits["nprocs"])
    if applied.drop_uid is None and not applied.in_userns and os.geteuid() != 0:
        nprocs += _user_tasks(os.getuid())  # the count is per user, shared with everything else
    elif applied.in_userns:
        nprocs += 1  # the worker itself counts in its user namespace
    _set_limit(resource.RLIMIT_NPROC, nprocs)


def _setup_fds(stdout: int, keep: tuple[int, ...], open_files: int) -> tuple[int, ...]:
    """stdin from /dev/null, stdout+stderr to ``stdout``, the harness's descriptors ``keep``
    moved to the top of the descriptor range (in order, downwards), everything else (the
    worker's own pipes included) closed. Returns the descriptors' new numbers."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(stdout, 1)
    os.dup2(stdout, 2)
    moved = tuple(open_files - 1 - i for i in range(len(keep)))
    # dup2 onto a number some other kept fd still uses would lose it: stage them first
    staged = [os.dup(fd) for fd in keep]
    for old, new in zip(staged, moved, strict=True):
        os.dup2(old, new)
        os.set_inheritable(new, False)
    lowest = min(moved)
    os.closerange(3, lowest)
    os.closerange(max(moved) + 1, max(os.sysconf("SC_OPEN_MAX"), 1 << 16))
    return moved


def _harness_fds(
    stdout: int, pipes: tuple[int, ...], applied: Applied, limits: dict[str, Any]
) -> tuple[int, ...]:
    """``pipes`` and the Landlock ruleset (-1 when there is none) after ``_setup_fds``."""
    keep = (*pipes, applied.ruleset) if applied.ruleset >= 0 else pipes
    moved = _setup_fds(stdout, keep, int(limits["open_files"]))
    return moved if applied.ruleset >= 0 else (*moved, -1)


def prepare_worker() -> None:
    """Process state every program gets, set once in the worker: every page the child writes
    after the fork is copied (about 10 us per page fault on a small VM), so the less the child
    does, the cheaper a program is. The worker itself never prints or reads stdin, so the
    standard streams are clean for the child to reuse once its fds 0-2 are replaced."""
    os.environ.clear()
    os.environ.update(CHILD_ENV)
    sys.argv = ["<program>"]
    sys.dont_write_bytecode = True


def prepare_job(jobdir: str) -> None:
    """Per-program state, set in the worker just before the fork."""
    os.environ["HOME"] = os.environ["TMPDIR"] = (
        jobdir  # tempfile is not imported yet: it reads this
    )
    for stream in (sys.stdout, sys.stderr):
        stream.flush()


def _confine_child(
    jobdir: str, limits: dict[str, Any], applied: Applied, ruleset: int, cpu_s: float = 0.0
) -> None:
    """Everything a program's process gets; ``cpu_s`` (default: the limits') is the CPU allowed
    until :func:`_limit_cpu` sets the program's own (a compiler runs first)."""
    os.setsid()  # own process group: the worker kills the whole group at the end
    os.chdir(jobdir)
    if not applied.pid_namespace:
        # SysV objects the program makes die with its own IPC namespace (the worker's
        # reaper gave it one already when it could give it a PID namespace too)
        with contextlib.suppress(OSError):
            _confine.unshare(_confine.CLONE_NEWIPC)
    _apply_limits({**limits, "cpu_s": cpu_s or limits["cpu_s"]}, applied)
    if applied.drop_uid is not None:
        drop_privileges(applied.drop_uid, applied.drop_uid)
    elif applied.in_userns:
        _confine.drop_capabilities()
    _confine.prctl(_confine.PR_SET_PDEATHSIG, signal.SIGKILL)  # reset by the uid change
    if ruleset >= 0:
        _confine.landlock_restrict(ruleset)
        os.close(ruleset)
    if not cpu_s:
        _start_cpu_timer(float(limits["cpu_s"]))


def _limit_cpu(cpu_s: float) -> None:
    """The program's own CPU limit, from now on (a lower RLIMIT_CPU is always allowed)."""
    cpu = math.ceil(cpu_s + resource.getrusage(resource.RUSAGE_SELF).ru_utime) + 1
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    _start_cpu_timer(cpu_s)


def _start_cpu_timer(cpu_s: float) -> None:
    """SIGPROF (default action: terminate) once the process has used ``cpu_s`` CPU seconds,
    to the millisecond: sub-second CPU limits make a runaway loop cheap. A program that catches
    SIGPROF still meets RLIMIT_CPU one to two seconds later."""
    signal.signal(signal.SIGPROF, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_PROF, cpu_s)


def _describe(exc: BaseException) -> bytes:
    try:
        text = _str(exc)
    except BaseException:
        text = "<unprintable>"
    name = getattr(_type(exc), "__name__", "Exception")
    msg = f"{name}: {text}" if text else name
    if isinstance(exc, SystemExit):
        msg += " (exited before the tests finished)"
    where = ""
    try:
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename in ("<program>", "<tests>"):
                where = f" [{tb.tb_frame.f_code.co_filename[1:-1]} line {tb.tb_lineno}]"
            tb = tb.tb_next
        if isinstance(exc, SyntaxError) and exc.filename in ("<program>", "<tests>"):
            where = f" [{exc.filename[1:-1]} line {exc.lineno}]"
    except BaseException:
        pass
    return (" ".join(msg.split())[:300] + where).encode("utf-8", "replace")


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()


def _harness(program: str, tests: str, nonce_fd: int, res_fd: int) -> NoReturn:
    main = _getpid()
    namespace: dict[str, Any] = {"__name__": "__sandbox__", "__builtins__": builtins}
    try:
        _exec(_compile(program, "<program>", "exec"), namespace)
        if tests:
            _exec(_compile(tests, "<tests>", "exec"), namespace)
    except BaseException as exc:
        if _getpid() != main:  # a fork of the program: only the main process reports
            _exit(1)
        _flush()
        _write(res_fd, FAIL + _describe(exc))
        _exit(1)
    if _getpid() != main:
        _exit(1)
    _flush()
    _write(res_fd, PASS + _read(nonce_fd, 64))
    _exit(0)


def run_child(
    job: dict[str, Any], jobdir: str, pipes: tuple[int, int, int], applied: Applied
) -> NoReturn:
    """Entry point of an in-process run's child (``pipes``: output, nonce, result); never
    returns."""
    limits = job["limits"]
    res_fd = pipes[2]
    try:
        nonce_fd, res_fd, ruleset = _harness_fds(pipes[0], pipes[1:], applied, limits)
        _confine_child(jobdir, limits, applied, ruleset)
    except BaseException as exc:
        _write(res_fd, SETUP_ERROR + _describe(exc))
        _exit(71)
    _harness(job["program"], job["tests"], nonce_fd, res_fd)


def run_served_child(
    job: dict[str, Any], jobdir: str, pipes: tuple[int, int, int], applied: Applied
) -> NoReturn:
    """Entry point of a judged run's program (``pipes``: output, requests, responses)."""
    limits = job["limits"]
    resp_fd = pipes[2]
    try:
        req_fd, resp_fd, ruleset = _harness_fds(pipes[0], pipes[1:], applied, limits)
        _confine_child(jobdir, limits, applied, ruleset)
    except BaseException as exc:
        with contextlib.suppress(BaseException):
            reply = ["raise", "SandboxSetupError", _describe(exc).decode(), "", []]
            _serve._write_frame(resp_fd, _serve._encode(reply))
        _exit(71)
    readable = ("/",)
    if applied.readable:
        readable = (*applied.readable, jobdir, "/dev/null", "/dev/urandom")
    _serve.serve(job["program"], req_fd, resp_fd, readable)


def _confine_judge(pipes: tuple[int, ...], applied: Applied, limits: dict[str, Any]) -> tuple:
    """Confinement of the trusted judge (see ``run_judge``); returns its descriptors."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    *fds, ruleset = _harness_fds(null, pipes, applied, limits)
    _set_limit(resource.RLIMIT_AS, int(limits["memory_bytes"]))
    _set_limit(resource.RLIMIT_CORE, 0)
    if applied.judge_uid is not None:
        drop_privileges(applied.judge_uid, applied.judge_uid)
    elif applied.in_userns:
        _confine.drop_capabilities()
    _confine.prctl(_confine.PR_SET_DUMPABLE, 0)
    _confine.prctl(_confine.PR_SET_PDEATHSIG, signal.SIGKILL)
    if ruleset >= 0:
        _confine.landlock_restrict(ruleset)
        os.close(ruleset)
    return tuple(fds)


def run_judge(
    job: dict[str, Any], pipes: tuple[int, ...], applied: Applied, program: int = 0
) -> NoReturn:
    """A judged run's trusted judge (``pipes``: requests, responses, result, and the status
    pipe when it is also the program's reaper); never returns.

    The judge runs trusted code, but it reads the program's answers: it is confined too (no
    writes outside the job area, reads as a program's, no network), runs as a uid of its own
    where there is one, and is not dumpable, so the program can neither trace nor read it.
    Where the program has PID namespaces of its own, the judge is their init (``program``: the
    program's pid there): after the verdict it waits for the program to end and relays its
    wait status, and its exit ends whatever the program left behind."""
    limits = job["limits"]
    res_fd = pipes[2]
    try:
        if not program:
            os.setsid()
        req_fd, resp_fd, res_fd, *status = _confine_judge(pipes, applied, limits)
    except BaseException as exc:
        report = {"message": f"judge setup failed: {_describe(exc).decode()}", "tampering": []}
        _write(res_fd, _judge.ERROR + json.dumps(report).encode())
        _exit(71)
    verdict = _judge.judge(job["setup"], job["tests"], tuple(job["entry_points"]), req_fd, resp_fd)
    _judge.report(res_fd, *verdict)
    for fd in (req_fd, resp_fd, res_fd):  # the program sees end of file and ends
        os.close(fd)
    if program:
        reap(program, status[0])
    _exit(0)


def reap(program: int, status_w: int) -> NoReturn:
    """As pid 1 of the program's namespaces: reap until the program ends, relay its wait
    status, go (the kernel then kills whatever the program left in the namespace)."""
    status = signal.SIGKILL
    while True:
        try:
            pid, st = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == program:
            status = st
            break
    os.write(status_w, str(status).encode())
    _exit(0)


def run_executable_child(
    job: dict[str, Any], jobdir: str, pipes: tuple[int, int, int], applied: Applied
) -> NoReturn:
    """Entry point of an ``Executable``'s child (``pipes``: output, nonce, result): write its
    files, build it (the compiler under ``build_cpu_s``), then become its run command, with the
    result pipe as descriptor 3 and the nonce pipe as descriptor 4 (:data:`TOKEN_FD`).

    The token is never in the environment, nor in this process's memory: the worker writes it
    into the pipe after the fork, and the program's harness reads it from descriptor 4 (then
    closes it) itself, before any code of the completion runs where its language allows it.
    The compiler never sees descriptor 4 (it is not inheritable until just before the exec)."""
    limits = job["limits"]
    res_fd = pipes[2]
    try:
        nonce_fd, res_fd, ruleset = _harness_fds(pipes[0], pipes[1:], applied, limits)
        build_cpu = float(job["build_cpu_s"]) if job["build"] else 0.0
        _confine_child(jobdir, limits, applied, ruleset, cpu_s=build_cpu)
        for name, text in job["files"]:
            with open(os.path.join(jobdir, os.path.basename(name)), "w", encoding="utf-8") as f:
                f.write(text)
    except BaseException as exc:
        _write(res_fd, SETUP_ERROR + _describe(exc))
        _exit(71)
    if job["build"]:
        ok, detail = _build(job["build"])
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        _write(res_fd, BUILD_CPU + f"{used.ru_utime + used.ru_stime:.6f}\n".encode())
        if not ok:
            _write(res_fd, FAIL + b"compile error: " + detail)
            _exit(1)
    try:
        os.dup2(res_fd, RESULT_FD)
        os.dup2(nonce_fd, TOKEN_FD)
        for fd in (RESULT_FD, TOKEN_FD):
            os.set_inheritable(fd, True)
        _limit_cpu(float(limits["cpu_s"]))
        os.execvp(job["run"][0], job["run"])
    except BaseException as exc:
        _write(res_fd, SETUP_ERROR + b"cannot start the program: " + _describe(exc))
        _exit(71)


def _build(argv: list[str]) -> tuple[bool, bytes]:
    """Run the compiler (its output goes to the program's output too); ``(ok, first error)``."""
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the compiler
        os.close(out_r)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        try:
            os.execvp(argv[0], argv)
        finally:
            _exit(127)
    os.close(out_w)
    kept = bytearray()
    while chunk := _read(out_r, 1 << 16):
        if len(kept) < 1 << 16:
            kept += chunk
        with contextlib.suppress(OSError):
            _write(1, chunk)
    os.close(out_r)
    _, status = os.waitpid(pid, 0)
    if status == 0:
        return True, b""
    lines = [ln for ln in bytes(kept).splitlines() if b"error" in ln.lower()] or kept.splitlines()
    first = lines[0] if lines else f"the compiler exited with status {status}".encode()
    return False, b" ".join(first.split())[:300]
