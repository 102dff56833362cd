"""A slice: the model version, deployment, hardware and route that served an event, optionally
refined by attributes named with ``--slice-by`` (the answer's language, a client attribute)."""

from __future__ import annotations

from typing import Any, NamedTuple

DIMENSIONS = ("model_version", "deployment", "hardware", "route")


class Slice(NamedTuple):
    model_version: str
    deployment: str
    hardware: str
    route: str
    extra: tuple[tuple[str, str], ...] = ()
    """Refining attributes, ``(name, value)`` in ``--slice-by`` order (empty: the whole slice)."""

    @classmethod
    def of(cls, obj: Any) -> Slice:
        """The slice of anything with the four fields (an Event, a stored row)."""
        return cls(*(str(getattr(obj, d)) for d in DIMENSIONS))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Slice:
        """Inverse of ``to_dict``: the four dimensions, then any refining attributes."""
        extra = tuple((str(k), str(v)) for k, v in d.items() if k not in DIMENSIONS)
        return cls(*(str(d[k]) for k in DIMENSIONS), extra)

    @property
    def base(self) -> Slice:
        """The four-dimension slice this one refines (itself when not refined)."""
        return Slice(*self[:4]) if self.extra else self

    def refine(self, pairs: tuple[tuple[str, str], ...]) -> Slice:
        return self._replace(extra=pairs)

    @property
    def label(self) -> str:
        parts = [f"{d}={v}" for d, v in zip(DIMENSIONS, self[:4], strict=True)]
        parts += [f"{k}={v}" for k, v in self.extra]
        return " / ".join(parts)

    def to_dict(self) -> dict[str, str]:
        return {**dict(zip(DIMENSIONS, self[:4], strict=True)), **dict(self.extra)}
