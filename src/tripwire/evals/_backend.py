"""Model backends: where completions come from. ``MODEL`` on the command line is
``SCHEME:ARGUMENT`` (``samples:completions.jsonl``; later ``hf:DIR``, ``openai:URL``, ...).

A backend registers its scheme once with ``@register_backend``; the run only calls
``describe()`` (recorded in the run manifest), ``identity()`` (what a cached or resumed run must
match) and ``generate()``.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from tripwire.errors import BadInputError
from tripwire.evals._generation import GenerationConfig
from tripwire.evals._types import Sample, Task
from tripwire.progress import Progress, no_progress

# Where a model lives and what it is called: recorded with a run, but no part of what the run
# measured, so a byte-identical copy in another folder reuses the run instead of scoring again.
LOCATION_KEYS = ("path", "label")


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
        """What the model is (and its sampling settings), recorded in the run manifest. Must
        include ``"id"``, a stable content hash; ``"path"`` and ``"label"`` say where it lives
        and what it is called (see :meth:`identity`)."""

    def identity(self) -> dict[str, Any]:
        """``describe()`` without where the model lives: what a cached or resumed run must
        match, so runs are keyed by content (the id) and settings, never by path."""
        return without_location(self.describe())

    @abstractmethod
    def generate(
        self, tasks: Sequence[Task], n: int | None, progress: Progress = no_progress
    ) -> Iterator[Sample]:
        """Up to ``n`` samples per task (all available when None), ``sample_idx`` from 0."""

    def count(self, tasks: Sequence[Task], n: int | None) -> int | None:
        """How many samples :meth:`generate` will yield for ``tasks`` (None: not known before
        generating, e.g. a model with ``n`` unset)."""
        return len(tasks) * n if n is not None else None

    def check_tasks(
        self, tasks: Sequence[Task], why_missing: Callable[[str], str | None] = lambda _: None
    ) -> None:
        """Refuse, before anything is generated or scored, samples for tasks the suite does not
        have (``tasks``: all of the suite's, done ones included); ``why_missing`` says why the
        suite lacks one it might be expected to have. Backends that make their samples from the
        tasks have nothing to check."""
        return None

    def with_config(self, config: GenerationConfig) -> Backend:
        """Use these generation settings (backends that generate nothing ignore them)."""
        return self

    @property
    def parents(self) -> tuple[str, ...]:
        """Registry ids of artifacts the completions came from (a model), if known."""
        return ()


class CheckpointBackend(Backend):
    """A backend that runs a local checkpoint folder in process (``hf:DIR``, ``vllm:DIR``): the
    argument is the folder, the generation settings are its own, and the completions come from
    the checkpoint's manifest."""

    config: GenerationConfig
    _manifest: Any

    @classmethod
    def from_argument(cls, argument: str) -> Backend:
        return cls(argument)  # type: ignore[call-arg]

    def with_config(self, config: GenerationConfig) -> Backend:
        self.config = config
        return self

    def _description(self, path: Path) -> dict[str, Any]:
        return {"id": self._manifest.id, "label": self._manifest.name, "backend": self.scheme,
                "path": str(path.resolve()), "generation": self.config.to_dict()}  # fmt: skip

    @property
    def parents(self) -> tuple[str, ...]:
        return (self._manifest.id,)


def without_location(description: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in description.items() if k not in LOCATION_KEYS}


BACKENDS: dict[str, type[Backend]] = {}
# The built-in backends' modules, loaded when their scheme is first asked for (hf: and vllm:
# import torch; samples: needs nothing of the sort).
BUILTIN_BACKENDS = {"samples": "_samples", "hf": "_hf", "openai": "_openai",
                    "openai-chat": "_openai", "vllm": "_vllm"}  # fmt: skip


def register_backend(cls: type[Backend]) -> type[Backend]:
    BACKENDS[cls.scheme] = cls
    return cls


def backend_class(scheme: str) -> type[Backend] | None:
    if scheme not in BACKENDS and scheme in BUILTIN_BACKENDS:
        importlib.import_module(f"tripwire.evals.{BUILTIN_BACKENDS[scheme]}")
    return BACKENDS.get(scheme)


def backend_from_spec(spec: str) -> Backend:
    """``samples:FILE`` -> the samples backend for FILE, etc. An existing checkpoint folder
    (a ``config.json`` in it) given bare is ``hf:FOLDER``."""
    scheme, sep, argument = spec.partition(":")
    cls = backend_class(scheme) if sep else None
    if cls is None and (Path(spec) / "config.json").is_file():
        scheme, argument, cls = "hf", spec, backend_class("hf")
    if cls is None:
        known = ", ".join(f"{s}:..." for s in sorted({*BACKENDS, *BUILTIN_BACKENDS}))
        problem = f"{spec!r} is not SCHEME:ARGUMENT with a known scheme ({known})"
        if Path(spec).is_dir():
            problem += "; a checkpoint folder needs a config.json"
        elif Path(spec).is_file():
            problem += f"; a samples file is samples:{spec}"
        raise BadInputError("MODEL", problem)
    return cls.from_argument(argument)
