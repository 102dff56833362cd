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

A plain value can still be one the judge cannot receive: an int longer than the judge parses,
nesting deeper than it decodes, a message over its frame limit. The encoder refuses those with
``Unsendable``: an honest wrong answer, which the run fails as such, not as tampering.

Frames are a 4-byte big-endian length and the JSON text.
"""

from __future__ import annotations

import builtins
import json
import json.encoder
import numbers
import os
import struct
import sys
from typing import Any

# The program runs in the same interpreter as the encoder: these functions keep their own
# copy of the builtins, and the C encoder and scanner (the json module's Python layer calls
# isinstance and friends, which a program can replace), so a program that patches builtins
# does not break the harness it would then be blamed on.
__builtins__ = dict(builtins.__dict__)  # read by the functions defined below
_c_encode = json.encoder.c_make_encoder(
    None, None, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True
)
_scan = json.JSONDecoder().scan_once
_write, _read = os.write, os.read
_Integral, _Real = numbers.Integral, numbers.Real

MAX_FRAME = 64 * 1024 * 1024
MAX_DEPTH = 100
# The judge parses ints with the interpreter's limit on digits (0: none), whatever limit the
# program sets for itself: a longer int is refused here, where it is still known to be an int.
_DIGITS = sys.get_int_max_str_digits()
_INT_LIMIT = 10**_DIGITS if _DIGITS else None
_LEN = struct.Struct(">I")
_CONTAINERS = {list: "l", tuple: "t", set: "s", frozenset: "f"}
_BUILD = {"l": list, "t": tuple, "s": set, "f": frozenset}


class CodecError(ValueError):
    """A value that is not plain data, or a message that does not decode to one."""


class Unsendable(CodecError):
    """Plain data that is too large or too deep for the judge to receive (see the module
    docstring); the message says which, e.g. "an int of more than 4300 digits"."""


def too_large(size: int) -> Unsendable | None:
    """The refusal of an encoded message of ``size`` bytes, if it is over the frame limit."""
    if size <= MAX_FRAME:
        return None
    return Unsendable(f"a value over {MAX_FRAME // (1024 * 1024)} MB")


def _int(x: int) -> int:
    if _INT_LIMIT is not None and not -_INT_LIMIT < x < _INT_LIMIT:
        raise Unsendable(f"an int of more than {_DIGITS} digits")
    return x


def _plain(x: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise Unsendable(f"a value nested more than {MAX_DEPTH} levels")
    t = type(x)
    if t is int:
        return _int(x)
    if x is None or t is bool or t is float or t is str:
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


_COMPARISONS = ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__bool__")
# Libraries whose subclasses of plain types compare as their values (numpy's scalars, Counter,
# OrderedDict, Decimal, IntEnum, ...): honest programs return them.
_LIBRARIES = ("numpy", "collections", "decimal", "fractions", "enum", "typing", "builtins")
_mro, _dict_of = type.__dict__["__mro__"].__get__, type.__dict__["__dict__"].__get__
_module_of = type.__dict__["__module__"].__get__  # a C type's comes from its name
_name_of = type.__dict__["__name__"].__get__  # not a metaclass's own __name__


def _games_comparisons(cls: type, base: type) -> bool:
    """A class between ``cls`` and the plain ``base`` that redefines how it compares, and is
    not a library's: an object built to pass an ``==`` whatever it holds."""
    for klass in _mro(cls):
        if klass is base:
            return False
        own = _dict_of(klass)
        module = str(_module_of(klass))
        if any(n in own for n in _COMPARISONS) and not module.startswith(_LIBRARIES):
            return True
    return False


def _subclass(x: Any, depth: int) -> Any:
    """Subclasses and numeric scalars as the plain value they stand for (base-type methods,
    so an overridden ``__iter__`` or ``__int__`` changes nothing), unless they redefine how
    they compare: that is an attempt on the tests, refused as not plain."""
    for base in (bool, int, float, str, bytes, bytearray, list, tuple, set, frozenset, dict):
        if isinstance(x, base) and _games_comparisons(type(x), base):
            raise CodecError(f"a {_name_of(type(x))} that redefines comparisons is not plain data")
    if isinstance(x, bool):
        return bool(x)
    if isinstance(x, int):
        return _int(int.__index__(x))
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
    if isinstance(x, _Integral):
        return _int(int(x))
    if isinstance(x, _Real):
        return float(x)
    raise CodecError(f"a {_name_of(type(x))} is not plain data")


def encode(value: Any) -> bytes:
    try:
        return "".join(_c_encode(_plain(value, 0), 0)).encode()
    except RecursionError as exc:
        # deep enough to exhaust the program's stack before MAX_DEPTH: still only too deep
        raise Unsendable("a value nested too deeply (or one that holds itself)") from exc
    except (TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, CodecError):
            raise
        if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
            # the program lowered its own limit on digits below the judge's
            raise Unsendable("an int longer than the program's limit on digits") from exc
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
        text = data.decode()
        value, end = _scan(text, 0)
        if text[end:].strip():
            raise CodecError("malformed value (trailing data)")
        return _value(value, 0)
    except CodecError:
        raise
    except (ValueError, TypeError, RecursionError, UnicodeError, StopIteration) as exc:
        # unhashable keys or set members, bad JSON, ints too long to parse, too deep
        raise CodecError(f"not plain data ({type(exc).__name__})") from exc


def write_frame(fd: int, payload: bytes) -> None:
    data = _LEN.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        view = view[_write(fd, view) :]


def _read_exactly(fd: int, n: int, first: bool) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = _read(fd, min(left, 1 << 20))
        if not chunk:
            if first and left == n:
                return None  # end of file between frames: the other side is gone
            raise CodecError("end of file inside a message")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> bytes | None:
    """The next frame's payload; None at end of file between frames (the other side is gone),
    ``CodecError`` when a frame is cut short or too large (not a frame the harness wrote)."""
    head = _read_exactly(fd, _LEN.size, True)
    if head is None:
        return None
    (size,) = _LEN.unpack(head)
    if size > MAX_FRAME:
        raise CodecError(f"a message of {size} bytes is over the {MAX_FRAME}-byte limit")
    return _read_exactly(fd, size, False)
