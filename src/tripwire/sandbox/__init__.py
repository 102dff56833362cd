"""Run untrusted programs (model-written code plus its tests) fast and safely.

```python
from tripwire.sandbox import Limits, Sandbox

with Sandbox(workers=2, limits=Limits(wall_s=3)) as box:
    r = box.run("def add(a, b):\n    return a + b\n", "assert add(1, 2) == 3\n")
    assert r.verdict == "passed"
    results = box.run_many([(program, tests), ...])  # order preserved
```

A pre-started worker per core forks a fresh child per program (no interpreter start-up per
program); the child runs in a new session with rlimits, a scrubbed environment, a private
temporary directory on a size-limited tmpfs, no network, (as root) an unprivileged user id and
PID and IPC namespaces of its own, and reads limited to the interpreter. A ``Judged`` job's tests
run in a trusted judge process that calls the program through proxies and alone decides the
verdict (``box.run_many([Judged(program, tests, ("f",))])``); a plain (program, tests) job runs
both in one process and passes only if the harness reports a per-run nonce after every test.

``RaySandbox`` is the same on a Ray cluster: one local pool per Ray task, results back to the
caller only.

The names are loaded on first use: the worker processes import this package's private modules
and must stay small (fork cost grows with the worker's memory).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tripwire.sandbox._pool import Sandbox, SandboxUnavailable
    from tripwire.sandbox._ray import RaySandbox
    from tripwire.sandbox._types import (
        EXEC_STATUSES,
        ExecResult,
        ExecStatus,
        Executable,
        Isolation,
        Judged,
        Limits,
    )

_WHERE = {
    "Sandbox": "_pool",
    "RaySandbox": "_ray",
    "SandboxUnavailable": "_pool",
    "EXEC_STATUSES": "_types",
    "ExecResult": "_types",
    "Executable": "_types",
    "Isolation": "_types",
    "Judged": "_types",
    "Limits": "_types",
    "ExecStatus": "_types",
}

__all__ = [
    "EXEC_STATUSES",
    "ExecResult",
    "ExecStatus",
    "Executable",
    "Isolation",
    "Judged",
    "Limits",
    "RaySandbox",
    "Sandbox",
    "SandboxUnavailable",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"tripwire.sandbox.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'tripwire.sandbox' has no attribute {name!r}")
