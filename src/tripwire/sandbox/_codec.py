"""Plain data across the boundary between a program and the trusted judge that tests it.

Values are None, bool, int, float, str, bytes, and lists, tuples, dicts, sets and frozensets of
them. They travel as JSON in which strings are JSON strings and every container is an array whose
first element names its type (``["l", ...]`` list, ``["t", ...]`` tuple, ``["d", k, v, ...]``
dict, ``["s", ...]`` set, ``["f", ...]`` frozenset, ``["b", latin1]`` bytes), so a decoded value
is always built from exact plain types: whatever the program does, the judge compares real ints
and lists, never an object with a ``__eq__`` of the program's choosing.

The encoder runs in the program's process, where the program controls everything: it only has
to be faithful for honest programs (subclasses of the plain types and numeric scalars such as
numpy's are sent as the plain value they stand for, as ``==`` would have treated them). The
decoder runs in the judge and must be safe on any bytes: a malformed, oversized or too deeply
nested message is a ``CodecError``, never anything else.

Frames are a 4-byte big-endian length and the JSON text.
"""

from __future__ import annotations

import json
import numbers
import os
import struct
from typing import Any

MAX_FRAME = 64 * 1024 * 1024
MAX_DEPTH = 100
_LEN = struct.Struct(">I")
_CONTAINERS = {list: "l", tuple: "t", set: "s", frozenset: "f"}
_BUILD = {"l": list, "t": tuple, "s": set, "f": frozenset}


class CodecError(ValueError):
    """A value that is not plain data, or a message that does not decode to one."""


def _plain(x: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError(f"nested deeper than {MAX_DEPTH} levels")
    t = type(x)
    if x is None or t is bool or t is int or t is float or t is str:
        return x
    tag = _CONTAINERS.get(t)
    if tag is not None:
        return [tag, *(_plain(v, depth + 1) for v in x)]
    if t is dict:
        out: list[Any] = ["d"]
        for k, v in x.items():
            out += (_plain(k, depth + 1), _plain(v, depth + 1))
        return out
    if t is bytes:
        return ["b", x.decode("latin-1")]
    return _subclass(x, depth)


def _subclass(x: Any, depth: int) -> Any:
    """Subclasses and numeric scalars as the plain value they stand for (base-type methods,
    so an overridden ``__iter__`` or ``__int__`` changes nothing)."""
    if isinstance(x, bool):
        return bool(x)
    if isinstance(x, int):
        return int.__index__(x)
    if isinstance(x, float):
        return float.__float__(x)
    if isinstance(x, str):
        return str.__str__(x)
    if isinstance(x, bytes | bytearray):
        return ["b", bytes(x).decode("latin-1")]
    for base, tag in _CONTAINERS.items():
        if isinstance(x, base):
            return [tag, *(_plain(v, depth + 1) for v in base.__iter__(x))]
    if isinstance(x, dict):
        out: list[Any] = ["d"]
        for k, v in dict.items(x):
            out += (_plain(k, depth + 1), _plain(v, depth + 1))
        return out
    if isinstance(x, numbers.Integral):
        return int(x)
    if isinstance(x, numbers.Real):
        return float(x)
    name = type.__dict__["__name__"].__get__(type(x))  # not a metaclass's own __name__
    raise CodecError(f"a {name} is not plain data")


def encode(value: Any) -> bytes:
    try:
        return json.dumps(_plain(value, 0), separators=(",", ":")).encode()
    except RecursionError as exc:
        raise CodecError("nested too deeply (or refers to itself)") from exc
    except (TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, CodecError):
            raise
        raise CodecError(f"not plain data ({exc})") from exc


def _value(x: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise CodecError(f"nested deeper than {MAX_DEPTH} levels")
    t = type(x)
    if x is None or t is bool or t is int or t is float or t is str:
        return x
    if t is not list or not x or type(x[0]) is not str:
        raise CodecError("malformed value")
    tag, items = x[0], x[1:]
    if tag in _BUILD:
        return _BUILD[tag](_value(v, depth + 1) for v in items)
    if tag == "d" and len(items) % 2 == 0:
        return {
            _value(items[i], depth + 1): _value(items[i + 1], depth + 1)
            for i in range(0, len(items), 2)
        }
    if tag == "b" and len(items) == 1 and type(items[0]) is str:
        return items[0].encode("latin-1")
    raise CodecError(f"malformed value (tag {tag[:10]!r})")


def decode(data: bytes) -> Any:
    try:
        return _value(json.loads(data), 0)
    except CodecError:
        raise
    except (ValueError, TypeError, RecursionError, UnicodeError) as exc:
        # unhashable keys or set members, bad JSON, ints too long to parse, too deep
        raise CodecError(f"not plain data ({type(exc).__name__})") from exc


def write_frame(fd: int, payload: bytes) -> None:
    data = _LEN.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> bytes | None:
    """The next frame's payload; None at end of file (the other side is gone)."""
    head = _read_exactly(fd, _LEN.size)
    if head is None:
        return None
    (size,) = _LEN.unpack(head)
    if size > MAX_FRAME:
        raise CodecError(f"a message of {size} bytes is over the {MAX_FRAME}-byte limit")
    return _read_exactly(fd, size)
