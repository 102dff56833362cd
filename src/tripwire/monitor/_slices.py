"""A slice: the model version, deployment, hardware and route that served an event."""

from __future__ import annotations

from typing import Any, NamedTuple

DIMENSIONS = ("model_version", "deployment", "hardware", "route")


class Slice(NamedTuple):
    model_version: str
    deployment: str
    hardware: str
    route: str

    @classmethod
    def of(cls, obj: Any) -> Slice:
        """The slice of anything with the four fields (an Event, a stored row)."""
        return cls(*(str(getattr(obj, d)) for d in DIMENSIONS))

    @property
    def label(self) -> str:
        return " / ".join(f"{d}={v}" for d, v in zip(DIMENSIONS, self, strict=True))

    def to_dict(self) -> dict[str, str]:
        return dict(zip(DIMENSIONS, self, strict=True))
