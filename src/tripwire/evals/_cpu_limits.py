"""Per-task CPU limits calibrated on this machine from the suite's reference solutions.

A fixed limit is wrong both ways: a few seconds is a hundred times what most HumanEval tasks
need, so every sample stuck in a loop costs the whole limit, while a heavy task may need more.
EvalPlus times the ground truth and allows a multiple of it; tripwire does the same with the
reference self-test every run performs anyway: a task's program may use
``max(floor, factor x its reference's CPU time)``, never more than ``--timeout``. CPU time, not
wall time, so a loaded machine does not turn slow programs into timeouts.

The limit is rounded up to ``floor x 2**k``: a rerun measures slightly different reference
times, and the sandbox's result cache is keyed by the limits, so identical programs of a
baseline and a candidate still share one execution.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from tripwire.errors import BadInputError
from tripwire.sandbox import Limits


@dataclass(frozen=True)
class CpuLimits:
    """How each task's CPU limit is chosen: ``auto`` (calibrated) or a fixed number."""

    auto: bool = True
    seconds: float | None = None
    """The fixed limit when not ``auto`` (None: the wall-clock timeout)."""
    floor_s: float = 0.5
    factor: float = 10.0

    @classmethod
    def parse(cls, text: str) -> CpuLimits:
        """``auto`` or a number of seconds (``--cpu-limit``)."""
        if text.strip().lower() == "auto":
            return cls()
        try:
            seconds = float(text)
        except ValueError:
            seconds = -1.0
        if not seconds > 0 or math.isinf(seconds):
            raise BadInputError("--cpu-limit", f"expected 'auto' or seconds > 0, got {text!r}")
        return cls(auto=False, seconds=seconds)

    def describe(self) -> dict[str, Any]:
        """What a run records (part of its identity)."""
        if not self.auto:
            return {"mode": "fixed", "seconds": self.seconds}
        return {"mode": "auto", "floor_s": self.floor_s, "factor": self.factor}

    def base(self, wall_s: float, **limits: Any) -> Limits:
        """The sandbox's limits: the fixed CPU limit, or the cap the calibration stays under."""
        cpu = self.seconds if not self.auto and self.seconds else wall_s
        return Limits(wall_s=wall_s, cpu_s=cpu, **limits)

    def per_task(self, base: Limits, reference_cpu_s: Mapping[str, float]) -> dict[str, Limits]:
        """Each task's limits (empty when fixed: every task gets ``base``)."""
        if not self.auto:
            return {}
        out = {}
        for task, cpu in reference_cpu_s.items():
            steps = max(
                0, math.ceil(math.log2(max(cpu * self.factor, self.floor_s) / self.floor_s))
            )
            out[task] = replace(base, cpu_s=min(base.cpu_s, self.floor_s * 2**steps))
        return out
