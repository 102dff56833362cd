"""The program's side of a judged run: run the program, then answer calls from the judge.

The judge (``_judge``) runs the tests in a trusted process and calls the program's functions
through a proxy; this module, in the confined child, runs the program once, then for each
request calls the named function with the decoded arguments and sends back the result as plain
data (``_codec``), or the exception it raised. Nothing here decides a verdict: a program that
subverts this code can only send values, which the judge then tests.

It also notices attempts to game the tests and names them in every reply, so the judge fails
the run with a ``tampering`` class even where the attempt could not have worked: builtins or
common modules patched, a trace or profile hook installed, files opened outside the program's
own directory and the interpreter's, the harness's descriptors touched, native code loaded,
processes spawned, sockets opened, and values that are not plain data. The checks run in the
program's process, so a determined program can hide from them; they are a report, not a wall.

A plain value the judge cannot receive (too long an int, too deep, too large a message: see
``_codec.Unsendable``) is no attempt at all: it is answered ``["unsendable", why]``, which the
judge fails as a wrong answer, naming why.
"""

from __future__ import annotations

import builtins
import os
import sys
from typing import Any, NoReturn

from . import _codec

# The harness's own references, taken before the program can rebind anything: its own copy
# of the builtins (read by the functions below) and the library functions it calls.
__builtins__ = dict(builtins.__dict__)
_exec, _compile, _getpid, _exit, _fstat = exec, compile, os.getpid, os._exit, os.fstat
_realpath, _fsdecode, _sep = os.path.realpath, os.fsdecode, os.sep
_gettrace, _getprofile, _modules = sys.gettrace, sys.getprofile, sys.modules
_read_frame, _write_frame = _codec.read_frame, _codec.write_frame
_encode, _decode, _CodecError = _codec.encode, _codec.decode, _codec.CodecError
_Unsendable, _too_large = _codec.Unsendable, _codec.too_large

# Exit statuses that say why the harness stopped without answering, for the worker to name:
# its descriptors were closed or replaced, or its own code failed under the program's patches.
TOUCHED_DESCRIPTORS, BROKEN_HARNESS = 86, 87

# Modules whose attributes HumanEval-style checks call; patching them is tampering.
_WATCHED = (
    "math", "operator", "builtins", "functools", "itertools", "re", "string", "copy", "random",
)  # fmt: skip
_AUDITED = {
    "sys.settrace": "trace_hook",
    "sys.setprofile": "trace_hook",
    "ctypes.dlopen": "native_code",
    "ctypes.dlsym": "native_code",
    "ctypes.addressof": "native_code",
    "os.system": "process",
    "os.exec": "process",
    "os.posix_spawn": "process",
    "os.fork": "process",
    "os.forkpty": "process",
    "subprocess.Popen": "process",
    "socket.__new__": "network",
    "socket.socket": "network",
}


def _take_snapshot() -> list[tuple[Any, dict[str, Any]]]:
    # the objects themselves, compared with `is` (id() is an audited call: expensive here)
    return [
        (module, dict(vars(module)))
        for name in _WATCHED
        if (module := _modules.get(name)) is not None
    ]


_snapshot: list[tuple[Any, dict[str, Any]]] = []


def snapshot_watched() -> None:
    """Take the watched modules' snapshot once in the worker, before it forks programs: each
    program inherits it instead of copying those dicts itself (about 0.8 ms a program, most of
    it copy-on-write faults). Valid because the worker never changes these modules."""
    _snapshot[:] = _take_snapshot()


class _Watch:
    """What the program attempted, as tampering classes."""

    def __init__(self, allowed: tuple[str, ...], harness_fds: tuple[int, ...]) -> None:
        self.allowed = allowed
        self.fds = {str(fd) for fd in harness_fds}
        self.seen: list[str] = []
        self.snapshot = _snapshot or _take_snapshot()

    def note(self, what: str) -> None:
        if what not in self.seen:
            self.seen.append(what)

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        kind = _AUDITED.get(event)
        if kind is not None:
            self.note(kind)
        elif event in ("open", "os.listdir", "os.scandir") and args:
            self._path(args[0])

    def _path(self, path: Any) -> None:
        if isinstance(path, int):
            if str(path) in self.fds:
                self.note("harness_descriptors")
            return
        try:
            text = _fsdecode(path)
        except (TypeError, ValueError):
            return
        if "/fd/" in text and text.startswith("/proc/"):
            self.note("harness_descriptors")
        full = _realpath(text) if text else text
        if not any(full == a or full.startswith(a + _sep) for a in self.allowed):
            self.note("read_outside")

    def check(self) -> list[str]:
        """What was noticed so far; cheap enough for every reply."""
        if _gettrace() is not None or _getprofile() is not None:
            self.note("trace_hook")
        return self.seen

    def final(self) -> list[str]:
        """Everything, builtins and watched modules compared with how they started."""
        for module, before in self.snapshot:
            now = vars(module)
            if len(now) != len(before) or any(now.get(k, now) is not v for k, v in before.items()):
                self.note("patch_builtins")
        return self.check()


def _describe(exc: BaseException) -> tuple[str, str]:
    try:
        name = type.__dict__["__name__"].__get__(type(exc))
    except BaseException:
        name = "Exception"
    try:
        text = str(exc)
    except BaseException:
        text = "<unprintable>"
    return str(name)[:100], " ".join(text.split())[:300]


def serve(program: str, req_fd: int, resp_fd: int, allowed: tuple[str, ...]) -> NoReturn:
    """Run ``program``, then answer ``[name, args]`` requests until the judge hangs up."""
    main = _getpid()
    watch = _Watch(allowed, (req_fd, resp_fd))
    sys.addaudithook(watch.audit)
    pipes = _Pipes(req_fd, resp_fd)
    namespace: dict[str, Any] = {"__name__": "__sandbox__", "__builtins__": builtins}
    try:
        _exec(_compile(program, "<program>", "exec"), namespace)
        reply: list[Any] = ["ready"]
    except BaseException as exc:
        reply = ["raise", *_describe(exc), _where(exc)]
    if _getpid() != main:  # a fork of the program never speaks for it
        _exit(1)
    pipes.send(reply, watch)
    if reply[0] != "ready":
        _exit(1)
    while (request := pipes.receive()) is not None:
        name, args = request
        if name is None:  # the judge's last question: what was attempted, all told
            pipes.answer(["status", watch.final()])
            continue
        try:
            fn = namespace[name]
            value = fn(*args)
            reply = ["return", value]
        except BaseException as exc:
            reply = ["raise", *_describe(exc), _where(exc)]
        if _getpid() != main:
            _exit(1)
        pipes.send(reply, watch)
    _exit(0)


class _Pipes:
    """The harness's two descriptors, checked to be the same pipes before every use: a program
    that closed or replaced them leaves with an exit status that says so, not silently."""

    def __init__(self, req_fd: int, resp_fd: int) -> None:
        self.req_fd, self.resp_fd = req_fd, resp_fd
        self.ids = [self._id(req_fd), self._id(resp_fd)]

    @staticmethod
    def _id(fd: int) -> tuple[int, int]:
        st = _fstat(fd)
        return st.st_dev, st.st_ino

    def _intact(self) -> None:
        try:
            if [self._id(self.req_fd), self._id(self.resp_fd)] == self.ids:
                return
        except OSError:
            pass
        _exit(TOUCHED_DESCRIPTORS)

    def receive(self) -> list[Any] | None:
        self._intact()
        try:
            request = _read_frame(self.req_fd)
            return None if request is None else _decode(request)
        except OSError:
            _exit(TOUCHED_DESCRIPTORS)
        except BaseException:
            _exit(BROKEN_HARNESS)

    def answer(self, reply: list[Any]) -> None:
        try:
            data = _encode(reply)
        except BaseException:
            _exit(BROKEN_HARNESS)
        self._write(data)

    def _write(self, data: bytes) -> None:
        self._intact()
        try:
            _write_frame(self.resp_fd, data)
        except OSError:
            _exit(TOUCHED_DESCRIPTORS)
        except BaseException:
            _exit(BROKEN_HARNESS)

    def send(self, reply: list[Any], watch: _Watch) -> None:
        """A reply with what was attempted so far; a value that is not plain data is refused
        (and named) instead."""
        try:
            try:
                data = _encode([*reply, watch.check()])
                if (over := _too_large(len(data))) is not None:
                    raise over
            except _Unsendable as exc:
                data = _encode(["unsendable", str(exc), watch.seen])
            except _CodecError as exc:
                watch.note("non_plain_value")
                refusal = ["raise", "TypeError", f"returned a value that is {exc}", ""]
                data = _encode([*refusal, watch.seen])
        except BaseException:
            _exit(BROKEN_HARNESS)
        self._write(data)


def _where(exc: BaseException) -> str:
    try:
        if isinstance(exc, SyntaxError) and exc.filename == "<program>":
            return f"program line {exc.lineno}"
        tb, where = exc.__traceback__, ""
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == "<program>":
                where = f"program line {tb.tb_lineno}"
            tb = tb.tb_next
        return where
    except BaseException:
        return ""
