"""Shared: one 2-worker sandbox per module and small real samples files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tripwire.evals import HumanEval
from tripwire.sandbox import Limits, Sandbox

LIMITS = Limits(wall_s=5.0, cpu_s=5.0)


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(workers=2, limits=LIMITS) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def humaneval() -> HumanEval:
    return HumanEval()


def write_samples(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("".join(json.dumps({"task_id": t, "completion": c}) + "\n" for t, c in rows))
    return path


def mixed_rows(humaneval: HumanEval, task_ids: list[str], copies: int = 4) -> list[tuple[str, str]]:
    """Per task: canonical solutions, a wrong return, an exception, an early sys.exit(0)."""
    rows = []
    for tid in task_ids:
        canonical = humaneval.problems[tid]["canonical_solution"]
        variants = [canonical, "    return None\n", "    raise ValueError('no')\n",
                    "    import sys\n    sys.exit(0)\n"]  # fmt: skip
        rows += [(tid, variants[i % len(variants)]) for i in range(copies)]
        rows.append((tid, canonical))
    return rows
