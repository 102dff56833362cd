"""What the demo's stages on a pretrained model (``tripwire demo --model smollm2``) share: a
release policy sized for a 135M model on a CPU, and timing of each step."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tripwire.demo._stage import StageContext
from tripwire.gate import Policy, SuitePolicy, gate

# Retention on 20 held-out chunks per language (at least 10 per slice for a verdict; 100 chunks
# of 1 kB is about 30k tokens a model), every language within 5% of the baseline's bits/byte.
REAL_POLICY = Policy(
    suites=(SuitePolicy("retention", {"max_per_language": 20}, {"bits_per_byte": "5%"}),)
)


def gate_real(ctx: StageContext, baseline: Path, candidate: Path) -> dict[str, Any]:
    """The gate's verdict on ``candidate`` against ``baseline`` under ``REAL_POLICY``."""
    return gate(
        baseline, candidate, policy=REAL_POLICY, registry=ctx.registry, progress=ctx.progress
    ).to_dict()


class Clock:
    """Wall time of each named step of a stage, in order (reported with the stage)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - t0, 1)

    def line(self) -> str:
        return "times: " + ", ".join(f"{k} {v:.0f}s" for k, v in self.seconds.items())
