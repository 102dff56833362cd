"""The trusted side of a judged run: the tests, calling the program through proxies.

The judge is a process of its own, forked by the worker next to the program's. It runs the
suite's trusted code (``setup``: e.g. a HumanEval prompt, whose helper functions some checks
call) and then the tests, with each name in ``entry_points`` bound to a proxy: calling it sends
the arguments to the program as plain data and returns the program's answer, decoded into
exact plain types, or raises the program's exception. The verdict is the judge's alone: the
program's process has no descriptor of the judge's result pipe, cannot signal or trace the judge
(Landlock scopes, another uid or a non-dumpable process), and anything it does to its own
interpreter, builtins, frames or descriptors stays on its side of the pipe.

A pass also needs the program to have reported no tampering (``_serve``): a program that tried
to patch builtins, trace the tests or read the harness's descriptors fails, with the classes it
tried, even if its answers were right.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import json
import os
import sys
import termios
from typing import Any

from . import _codec

PASS, FAIL, ERROR = b"P", b"F", b"E"
_SAFE_EXCEPTIONS = frozenset(
    n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, Exception)
)


class ProgramGone(BaseException):
    """The program ended (or broke the protocol) before answering. Not an ``Exception``, so a
    test's ``except Exception`` cannot swallow it."""


class Tampering(BaseException):
    """The program reported attempts to game the tests."""


class Unreceivable(BaseException):
    """The program answered with plain data too large or too deep to receive (``_codec``'s
    ``Unsendable``): a wrong answer. Not an ``Exception``, so a test's ``except Exception``
    cannot turn it into a pass."""


class _Channel:
    def __init__(self, req_fd: int, resp_fd: int) -> None:
        self.req_fd, self.resp_fd = req_fd, resp_fd
        self.tampering: list[str] = []
        self.gone: ProgramGone | None = None
        """Set once the program is gone: every later call fails, and so does the run."""

    def receive(self) -> list[Any]:
        if self.gone is not None:
            raise self.gone
        try:
            return self._receive()
        except ProgramGone as exc:
            self.gone = exc
            raise

    def _receive(self) -> list[Any]:
        try:
            frame = _codec.read_frame(self.resp_fd)
        except _codec.CodecError as exc:
            self._tampered("harness_descriptors")
            raise ProgramGone(f"the program broke the harness protocol ({exc})") from None
        if frame is None:
            raise ProgramGone("the program ended before answering")
        # bytes beyond the answer: a frame nobody asked for, written behind the harness's back
        # (end of file, when the program has ended, is no such thing)
        if _pending(self.resp_fd):
            self._tampered("harness_descriptors")
        try:
            reply = _codec.decode(frame)
        except _codec.CodecError as exc:
            self._tampered("non_plain_value")
            raise ProgramGone(f"the program's answer is not plain data ({exc})") from None
        if type(reply) is not list or len(reply) < 2 or type(reply[-1]) is not list:
            self._tampered("harness_descriptors")
            raise ProgramGone("the program broke the harness protocol")
        for kind in reply[-1]:
            self._tampered(str(kind)[:40])
        return reply[:-1]

    def _tampered(self, kind: str) -> None:
        if kind not in self.tampering:
            self.tampering.append(kind)

    def call(self, name: str, args: tuple[Any, ...]) -> Any:
        try:
            payload = _codec.encode([name, list(args)])
        except _codec.CodecError as exc:
            raise TypeError(f"the tests passed {name} an argument that is {exc}") from None
        if self.gone is not None:
            raise self.gone
        try:
            _codec.write_frame(self.req_fd, payload)
        except BrokenPipeError:
            self.gone = ProgramGone("the program ended before answering")
            raise self.gone from None
        reply = self.receive()
        self.check()
        if reply[0] == "return" and len(reply) == 2:
            return reply[1]
        if reply[0] == "raise" and len(reply) == 4:
            raise _program_exception(*(str(x) for x in reply[1:]))
        if reply[0] == "unsendable" and len(reply) == 2:
            raise Unreceivable(f"{name} returned {str(reply[1])[:200]}, which the judge "
                               "cannot receive")  # fmt: skip
        raise ProgramGone("the program broke the harness protocol")

    def check(self) -> None:
        if self.tampering:
            raise Tampering(", ".join(self.tampering))
        if self.gone is not None:
            raise self.gone

    def final(self) -> None:
        """Ask the program what it attempted, all told (the builtins' comparison is too costly
        for every call); fails like ``check``."""
        try:
            _codec.write_frame(self.req_fd, _codec.encode([None, []]))
        except BrokenPipeError:
            self.gone = ProgramGone("the program ended before the tests were done")
        else:
            reply = self.receive()
            if reply != ["status"]:
                self._tampered("harness_descriptors")
        self.check()


def _pending(fd: int) -> int:
    """Bytes waiting in a pipe, without reading them."""
    buf = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return int.from_bytes(buf, sys.byteorder)


def _program_exception(name: str, message: str, where: str) -> Exception:
    """The program's exception as the judge's: a built-in type keeps its type (a test may
    catch it); any other becomes an Exception that names it."""
    text = f"{message} [{where}]" if where else message
    if name in _SAFE_EXCEPTIONS:
        # the nearest of its built-in bases that takes a message: UnicodeDecodeError needs five
        # arguments, so it becomes a UnicodeError (still caught as a ValueError) that names it
        cls: type[BaseException]
        for cls in getattr(builtins, name).__mro__:
            if cls is Exception:
                break
            with contextlib.suppress(TypeError):
                exc = cls(text if cls.__name__ == name else f"{name}: {text}")
                assert isinstance(exc, Exception)  # a base of a built-in Exception, below it
                return exc
    return Exception(f"{name}: {text}")


class _Proxy:
    """Stands for one of the program's functions in the tests."""

    def __init__(self, channel: _Channel, name: str) -> None:
        self._channel, self.__name__ = channel, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(f"{self.__name__}: keyword arguments are not sent to programs")
        return self._channel.call(self.__name__, args)


def _describe(exc: BaseException) -> str:
    name = type(exc).__name__
    text = " ".join(str(exc).split())[:300]
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<tests>":
            where = f" [tests line {tb.tb_lineno}]"
        tb = tb.tb_next
    return f"{name}: {text}{where}" if text else f"{name}{where}"


def judge(
    setup: str, tests: str, entry_points: tuple[str, ...], req_fd: int, resp_fd: int
) -> tuple[bytes, str, list[str]]:
    """Run the tests against the program behind the request and response pipes: the verdict's
    kind (``PASS``, ``FAIL``, ``ERROR``), its message and the tampering classes seen."""
    channel = _Channel(req_fd, resp_fd)
    namespace: dict[str, Any] = {"__name__": "__judge__", "__builtins__": builtins}
    try:
        _exec_trusted(setup, "<setup>", namespace)
    except BaseException as exc:
        return ERROR, f"the suite's setup code failed: {_describe(exc)}", []
    try:
        ready = channel.receive()
        channel.check()
        if ready[0] == "raise" and len(ready) == 4:
            raise _program_exception(*(str(x) for x in ready[1:]))
        for name in entry_points:
            namespace[name] = _Proxy(channel, name)
        _exec_trusted(tests, "<tests>", namespace)
        channel.final()
    except Tampering:
        return FAIL, f"tampering ({', '.join(channel.tampering)})", channel.tampering
    except ProgramGone as exc:
        return FAIL, _with_tampering(str(exc), channel), channel.tampering
    except BaseException as exc:
        # a failed test: still ask what the program attempted, so a patch that made the answer
        # wrong is named as what it was
        with contextlib.suppress(BaseException):
            channel.final()
        return FAIL, _with_tampering(_describe(exc), channel), channel.tampering
    return PASS, "all tests passed", []


def _with_tampering(message: str, channel: _Channel) -> str:
    if not channel.tampering:
        return message
    return f"{message}; tampering ({', '.join(channel.tampering)})"


def _exec_trusted(code: str, filename: str, namespace: dict[str, Any]) -> None:
    exec(compile(code, filename, "exec"), namespace)


def report(fd: int, kind: bytes, message: str, tampering: list[str]) -> None:
    """The verdict to the worker: a kind byte and ``{"message", "tampering"}`` as JSON."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    body = json.dumps({"message": message[:2000], "tampering": tampering[:20]})
    os.write(fd, kind + body.encode("utf-8", "replace"))
