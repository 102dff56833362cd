"""The memory a command may use (``--max-memory``), on the CPU and on a GPU.

Every command that loads a model sizes its batches from this budget and refuses, before loading,
a model that cannot fit it: a kernel OOM kill leaves no message and no partial result, a refusal
leaves both. The default is a share of the memory *available* now (not installed), because other
processes on the machine already hold the rest.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tripwire.errors import BadInputError

ENV = "TRIPWIRE_MAX_MEMORY"
DEFAULT_SHARE = 0.7
"""Default budget: this share of the memory available when the command starts (the rest is
headroom for the allocator, the OS page cache and whatever else starts meanwhile)."""

_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
          "t": 1e12, "tb": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "tib": 2**40}  # fmt: skip
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$")


def _cgroup_limit() -> int | None:
    """The container's memory limit minus what it already uses (cgroup v2, then v1)."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            raw = Path(limit_file).read_text().strip()
            if raw == "max" or int(raw) >= 2**60:
                return None
            return max(0, int(raw) - int(Path(usage_file).read_text().strip()))
        except (OSError, ValueError):
            continue
    return None


def available_memory() -> int:
    """Bytes of RAM this process could still get: MemAvailable, capped by a cgroup limit."""
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    if avail is None:
        try:
            import psutil  # not on Linux: macOS, Windows

            avail = int(psutil.virtual_memory().available)
        except ImportError:
            avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    cgroup = _cgroup_limit()
    return min(avail, cgroup) if cgroup is not None else avail


def gpu_memory(device: str | int | None = None) -> int | None:
    """Free bytes on the GPU ``device`` (None without one)."""
    import torch

    if not torch.cuda.is_available():
        return None
    free, _ = torch.cuda.mem_get_info(device)
    return int(free)


def format_bytes(n: float) -> str:
    """``1.37 GB``: decimal units, as ``--max-memory`` reads them."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


@dataclass(frozen=True)
class MemoryBudget:
    """How many bytes a command may use, and where that number came from (for messages)."""

    bytes: int
    source: str
    """``--max-memory 4GB``, ``TRIPWIRE_MAX_MEMORY=...`` or ``70% of 21.9 GB available``."""

    def describe(self) -> str:
        return f"{format_bytes(self.bytes)} ({self.source})"

    def for_device(self, device: str) -> MemoryBudget:
        """The budget on ``device``: on a GPU, the smaller of this and a share of its free
        memory (the model and its batches live there; the CPU only stages them)."""
        if not str(device).startswith("cuda"):
            return self
        free = gpu_memory(device)
        if free is None:
            return self
        share = int(free * DEFAULT_SHARE)
        if share < self.bytes:
            return MemoryBudget(
                share, f"{DEFAULT_SHARE:.0%} of {format_bytes(free)} free on {device}"
            )
        return self


def parse_memory(text: str, where: str = "--max-memory") -> MemoryBudget:
    """``6GB``, ``6GiB``, ``512MB``, ``4e9`` or ``50%`` (of the memory available now)."""
    raw = text.strip()
    if raw.endswith("%"):
        try:
            share = float(raw[:-1]) / 100
        except ValueError:
            share = -1.0
        if not 0 < share <= 1:
            raise BadInputError(where, f"expected a share in (0%, 100%], got {text!r}")
        avail = available_memory()
        return MemoryBudget(int(avail * share), f"{raw} of {format_bytes(avail)} available")
    m = _SIZE.match(raw)
    unit = m.group(2).lower() if m else ""
    if m is None or unit not in _UNITS:
        raise BadInputError(where, f"expected a size like 6GB, 512MiB or 50%, got {text!r}")
    value = int(float(m.group(1)) * _UNITS[unit])
    if value <= 0:
        raise BadInputError(where, f"must be more than 0, got {text!r}")
    return MemoryBudget(value, f"{where} {raw}")


def default_budget() -> MemoryBudget:
    """``$TRIPWIRE_MAX_MEMORY`` when set, else a share of the memory available now."""
    env = os.environ.get(ENV)
    if env:
        return parse_memory(env, ENV)
    avail = available_memory()
    return MemoryBudget(
        int(avail * DEFAULT_SHARE),
        f"default: {DEFAULT_SHARE:.0%} of {format_bytes(avail)} available",
    )


_CURRENT: contextvars.ContextVar[MemoryBudget | None] = contextvars.ContextVar(
    "tripwire_memory_budget", default=None
)


def current_budget() -> MemoryBudget:
    """The budget set by :func:`use_budget` (the command's ``--max-memory``), else the default."""
    return _CURRENT.get() or default_budget()


@contextlib.contextmanager
def use_budget(budget: MemoryBudget | str | None) -> Iterator[MemoryBudget]:
    """Make ``budget`` the one library code sizes its work by, for the duration of the block
    (None: the default)."""
    if isinstance(budget, str):
        budget = parse_memory(budget)
    chosen = budget or default_budget()
    token = _CURRENT.set(chosen)
    try:
        yield chosen
    finally:
        _CURRENT.reset(token)
