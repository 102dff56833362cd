"""Model backends: where completions come from. ``MODEL`` on the command line is
``SCHEME:ARGUMENT`` (``samples:completions.jsonl``; later ``hf:DIR``, ``openai:URL``, ...).

A backend registers its scheme once with ``@register_backend``; the run only calls
``describe()`` (identity for the run manifest) and ``generate()``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from tripwire.errors import BadInputError
from tripwire.evals._generation import GenerationConfig
from tripwire.evals._types import Sample, Task
from tripwire.progress import Progress, no_progress


class Backend(ABC):
    """Produces completions for tasks."""

    scheme: ClassVar[str]
    """The ``SCHEME`` in ``SCHEME:ARGUMENT``."""

    @classmethod
    @abstractmethod
    def from_argument(cls, argument: str) -> Backend:
        """Build from the part after ``SCHEME:``; BadInputError if unusable."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """What identifies the model (and its sampling settings): recorded in the run manifest,
        and compared when a run resumes. Must include ``"id"``, a stable content hash."""

    @abstractmethod
    def generate(
        self, tasks: Sequence[Task], n: int | None, progress: Progress = no_progress
    ) -> Iterator[Sample]:
        """Up to ``n`` samples per task (all available when None), ``sample_idx`` from 0."""

    def with_config(self, config: GenerationConfig) -> Backend:
        """Use these generation settings (backends that generate nothing ignore them)."""
        return self

    @property
    def parents(self) -> tuple[str, ...]:
        """Registry ids of artifacts the completions came from (a model), if known."""
        return ()


BACKENDS: dict[str, type[Backend]] = {}


def register_backend(cls: type[Backend]) -> type[Backend]:
    BACKENDS[cls.scheme] = cls
    return cls


def backend_from_spec(spec: str) -> Backend:
    """``samples:FILE`` -> the samples backend for FILE, etc."""
    scheme, sep, argument = spec.partition(":")
    if not sep or scheme not in BACKENDS:
        known = ", ".join(f"{s}:..." for s in sorted(BACKENDS))
        problem = f"{spec!r} is not SCHEME:ARGUMENT with a known scheme ({known})"
        raise BadInputError("MODEL", problem)
    return BACKENDS[scheme].from_argument(argument)
