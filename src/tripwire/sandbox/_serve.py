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
"""

from __future__ import annotations

import builtins
import os
import sys
from typing import Any, NoReturn

from . import _codec

# The harness's own references, taken before the program can rebind anything.
_exec, _compile, _getpid, _exit = exec, compile, os.getpid, os._exit
_read_frame, _write_frame = _codec.read_frame, _codec.write_frame
_encode, _decode, _CodecError = _codec.encode, _codec.decode, _codec.CodecError

# Modules whose attributes HumanEval-style checks call; patching them is tampering.
_WATCHED = ("math", "operator", "builtins", "functools", "itertools", "re", "string", "copy")
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


class _Watch:
    """What the program attempted, as tampering classes."""

    def __init__(self, allowed: tuple[str, ...], harness_fds: tuple[int, ...]) -> None:
        self.allowed = allowed
        self.fds = {str(fd) for fd in harness_fds}
        self.seen: list[str] = []
        self.snapshot = self._state()

    @staticmethod
    def _state() -> dict[tuple[str, str], int]:
        state = {}
        for name in _WATCHED:
            module = sys.modules.get(name)
            if module is not None:
                for attr, value in list(vars(module).items()):
                    state[(name, attr)] = id(value)
        return state

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
            text = os.fsdecode(path)
        except (TypeError, ValueError):
            return
        if "/fd/" in text and text.startswith("/proc/"):
            self.note("harness_descriptors")
        full = os.path.realpath(text) if text else text
        if not any(full == a or full.startswith(a + os.sep) for a in self.allowed):
            self.note("read_outside")

    def check(self) -> list[str]:
        if sys.gettrace() is not None or sys.getprofile() is not None:
            self.note("trace_hook")
        if self._state().items() - self.snapshot.items():
            self.note("patch_builtins")
        return self.seen


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
    namespace: dict[str, Any] = {"__name__": "__sandbox__", "__builtins__": builtins}
    try:
        _exec(_compile(program, "<program>", "exec"), namespace)
        reply: list[Any] = ["ready"]
    except BaseException as exc:
        reply = ["raise", *_describe(exc), _where(exc)]
    if _getpid() != main:  # a fork of the program never speaks for it
        _exit(1)
    _send(resp_fd, reply, watch)
    if reply[0] != "ready":
        _exit(1)
    while (request := _read_frame(req_fd)) is not None:
        name, args = _decode(request)
        try:
            fn = namespace[name]
            value = fn(*args)
            reply = ["return", value]
        except BaseException as exc:
            reply = ["raise", *_describe(exc), _where(exc)]
        if _getpid() != main:
            _exit(1)
        _send(resp_fd, reply, watch)
    _exit(0)


def _send(fd: int, reply: list[Any], watch: _Watch) -> None:
    tampering = watch.check()
    try:
        payload = _encode([*reply, tampering])
    except _CodecError as exc:
        watch.note("non_plain_value")
        payload = _encode(["raise", "TypeError", f"returned a value that is {exc}", "", watch.seen])
    _write_frame(fd, payload)


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
