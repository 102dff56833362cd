"""Checked reads of the JSON documents the renderers take (gate results, incident reports):
a wrong shape is the caller's bad input, named by document and field, not a crash mid-render."""

from __future__ import annotations

from typing import Any

from tripwire.errors import BadInputError


def as_dict(value: Any, where: str, doc: str) -> dict[str, Any]:
    """``value`` as an object (``None`` reads as empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadInputError(doc, f"{where} must be an object, got {type(value).__name__}")
    return value


def as_list(value: Any, where: str, doc: str) -> list[Any]:
    """``value`` as a list (``None`` reads as empty)."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise BadInputError(doc, f"{where} must be a list, got {type(value).__name__}")
    return list(value)
