"""Reading a JSON document (a ``--json`` file, a cached result, a report's input) back into the
typed results it was written from. Each field is checked once, where it is read, and a wrong
shape is the caller's bad input naming the document and the field (``evals[1].slices[0].n``),
never a crash in whatever uses the value later.

Numbers that are only shown (a delta, an interval end) read as NaN when missing or not numeric,
because JSON writers turn NaN into null; words a decision depends on (a status, a severity) must
be one of their enum's values.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, TypeVar

from tripwire.errors import BadInputError

E = TypeVar("E", bound=StrEnum)
_MISSING = object()


def as_list(value: Any, where: str, doc: str) -> list[Any]:
    """``value`` (at ``where`` in document ``doc``) as a list; ``None`` reads as empty."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise BadInputError(doc, f"{where} must be a list, got {type(value).__name__}")
    return list(value)


class Fields:
    """One object of a document being read, with getters that name the field on failure."""

    def __init__(self, value: Any, where: str, doc: str) -> None:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise BadInputError(doc, f"{where or 'the document'} must be an object, "
                                f"got {type(value).__name__}")  # fmt: skip
        self.data: dict[str, Any] = value
        self.where = where
        self.doc = doc

    @classmethod
    def of(cls, value: Any, doc: str) -> Fields:
        """``value`` as the top object of document ``doc`` (already read ones pass through)."""
        return value if isinstance(value, Fields) else cls(value, "", doc)

    def place(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.where}[{key}]"
        return f"{self.where}.{key}" if self.where else key

    def bad(self, key: str, problem: str) -> BadInputError:
        return BadInputError(self.doc, f"{self.place(key)} {problem}")

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is _MISSING:
                raise self.bad(key, "is missing")
            return default
        return value

    def text(self, key: str, default: str | None = None) -> str:
        value = self.raw(key, default if default is not None else _MISSING)
        return value if isinstance(value, str) else str(value)

    def whole(self, key: str, default: int | None = None) -> int:
        value = self.raw(key, default if default is not None else _MISSING)
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole:
            raise self.bad(key, f"must be a whole number, got {value!r}")
        return int(value)

    def optional_whole(self, key: str) -> int | None:
        return self.whole(key) if self.has(key) else None

    def number(self, key: str, default: float = math.nan) -> float:
        """A shown number: ``default`` when missing, NaN when null or not numeric."""
        value = self.data.get(key, default)
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return math.nan
        except OverflowError:  # an integer of hundreds of digits: no float holds it
            raise self.bad(key, "is a number too large to read") from None

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):  # bool("false") is True: a hand-edited flag
            raise self.bad(key, f"must be true or false, got {value!r}")
        return value

    def wholes(self, key: str) -> list[int]:
        """A list of whole numbers (missing reads as empty)."""
        values = self.items(key)
        for i, v in enumerate(values):
            whole = isinstance(v, int) or (isinstance(v, float) and v.is_integer())
            if isinstance(v, bool) or not whole:
                raise BadInputError(self.doc, f"{self.place(key)}[{i}] must be a whole number, "
                                    f"got {v!r}")  # fmt: skip
        return [int(v) for v in values]

    def enum(self, key: str, kind: type[E], default: E | None = None) -> E:
        value = self.raw(key, default if default is not None else _MISSING)
        try:
            return kind(str(value).lower())
        except ValueError:
            words = ", ".join(k.value for k in kind)
            raise self.bad(key, f"is {value!r}, not one of: {words}") from None

    def obj(self, key: str) -> Fields:
        """A nested object (missing reads as empty)."""
        return Fields(self.data.get(key), self.place(key), self.doc)

    def mapping(self, key: str) -> dict[str, Any]:
        return self.obj(key).data

    def items(self, key: str) -> list[Any]:
        """A list (missing reads as empty)."""
        return as_list(self.data.get(key), self.place(key), self.doc)

    def objects(self, key: str) -> list[Fields]:
        """A list of objects, each read in its own place (``key[i]``)."""
        where = self.place(key)
        return [Fields(v, f"{where}[{i}]", self.doc) for i, v in enumerate(self.items(key))]

    def texts(self, key: str) -> list[str]:
        return [str(v) for v in self.items(key)]
