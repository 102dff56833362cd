"""The self-test: a suite's known-good solutions, executed on this machine before its samples.

It shows that the harness works here (interpreter, libraries, sandbox) and times each task's
reference, which sets the task's CPU limit. A passing self-test is kept in the cache for a day,
keyed by everything that could change its outcome: the suite and its data, the limits, the
interpreter and the harness, the protections in force, this machine and its current boot. So
the first run of the day pays for it, later runs reuse it (``reuse=False``, ``eval run
--no-cache``, always executes it). A failing one is never kept.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tripwire.artifacts import cache_dir, sha256_json, write_json_atomic
from tripwire.evals._suite import Suite
from tripwire.evals._types import SampleResult
from tripwire.progress import Progress, no_progress
from tripwire.sandbox import Sandbox
from tripwire.sandbox._pool import interpreter_id

KEEP_S = 24 * 3600


@dataclass(frozen=True)
class ReferenceCheck:
    """The self-test: the suite's known-good samples, executed on this machine."""

    total: int
    failures: tuple[SampleResult, ...]
    cpu_s: dict[str, float] = field(default_factory=dict)
    """CPU seconds each task's reference took here (the most of its samples)."""
    checked_at: float = 0.0
    """When the references were executed (Unix time); earlier than now when reused."""
    reused: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "passed": self.total - len(self.failures),
            "failures": [f.to_dict() for f in self.failures],
            "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.checked_at)),
            "reused": self.reused,
        }


class ReferenceCheckFailed(Exception):
    """Known-good solutions did not all pass here: results on this machine can't be trusted."""

    def __init__(self, check: ReferenceCheck) -> None:
        self.check = check
        first = check.failures[0]
        super().__init__(
            f"{len(check.failures)}/{check.total} reference solutions did not pass "
            f"(first: {first.task_id}: {first.verdict}: {first.message})"
        )


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _kept_path(suite: Suite, sandbox: Sandbox) -> Path:
    key = sha256_json({
        "suite": suite.name, "version": suite.version, "data": suite.data_sha256(),
        "options": suite.options(), "limits": sandbox.limits.to_dict(),
        "isolation": sandbox.isolation.protections(), "interpreter": interpreter_id(),
        "host": platform.node(), "boot": _boot_id(),
    })  # fmt: skip
    return cache_dir() / "self_test" / f"{suite.name}-{key[:24]}.json"


def _kept(path: Path) -> ReferenceCheck | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        checked_at = float(data["checked_at"])
        if time.time() - checked_at > KEEP_S:
            return None
        cpu = {str(k): float(v) for k, v in data["cpu_s"].items()}
        return ReferenceCheck(int(data["total"]), (), cpu, checked_at, reused=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_references(
    suite: Suite, sandbox: Sandbox, progress: Progress = no_progress, *, reuse: bool = True
) -> ReferenceCheck:
    """Run the suite's references for real (never from the result cache), or reuse a passing
    self-test of today's on this machine under the same conditions."""
    path = _kept_path(suite, sandbox)
    if reuse and (kept := _kept(path)) is not None:
        return kept
    refs = suite.references()

    def report(task: str, done: float, total: float) -> None:
        progress("references", done, total)

    results = list(suite.score(refs, sandbox, report, use_cache=False))
    failures = tuple(sorted((r for r in results if not r.passed), key=lambda r: r.key))
    cpu: dict[str, float] = {}
    for r in results:
        cpu[r.task_id] = max(cpu.get(r.task_id, 0.0), r.cpu_s)
    check = ReferenceCheck(len(refs), failures, cpu, time.time())
    if check.ok:
        write_json_atomic(
            path, {"total": check.total, "cpu_s": cpu, "checked_at": check.checked_at}
        )
    return check
