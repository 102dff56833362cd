"""One sandbox per test module (starting workers costs about a second); small limits keep the
hostile programs quick while the allocations and outputs they attempt stay real."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tripwire.sandbox import Limits, Sandbox

FAST = Limits(wall_s=2.0, cpu_s=1.0, memory_bytes=512 * 1024**2, nprocs=16)


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(workers=2, limits=FAST) as sandbox:
        sandbox.start()
        yield sandbox


def _assert_healthy(box: Sandbox) -> None:
    ok, bad = box.run_many(
        [
            ("def add(a, b):\n    return a + b\n", "assert add(2, 3) == 5\n"),
            ("def add(a, b):\n    return a - b\n", "assert add(2, 3) == 5\n"),
        ]
    )
    assert ok.verdict == "passed", ok
    assert bad.verdict == "failed", bad


@pytest.fixture
def healthy():
    """Call with a sandbox: asserts the pool still judges programs correctly."""
    return _assert_healthy
