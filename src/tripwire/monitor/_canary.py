"""Canaries in production: the canary suite's fixed prompts, sent at temperature 0 on a schedule
to every configured OpenAI-compatible endpoint; each answer is checked, and answers are compared
across endpoints (same model, different serving path) and with the previous round (same
endpoint, over time). Greedy decoding makes any difference a finding."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tripwire.artifacts import sha256_bytes
from tripwire.errors import BadInputError
from tripwire.findings import Finding, Severity

MAX_EVERY_S = 7 * 24 * 3600
"""The longest interval between canary rounds."""


@dataclass(frozen=True)
class Endpoint:
    name: str
    spec: str
    """A backend spec: ``openai:URL#MODEL`` or ``openai-chat:URL#MODEL``."""

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        name, sep, spec = text.partition("=")
        if not sep or not name or not spec.startswith(("openai:", "openai-chat:")):
            raise BadInputError(text, "expected NAME=openai:URL#MODEL (or openai-chat:)")
        return cls(name, spec)


@dataclass(frozen=True)
class CanaryAnswer:
    endpoint: str
    canary_id: str
    ok: bool
    failed: tuple[str, ...]
    answer_sha256: str
    completion: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "failed": list(self.failed)}


@dataclass
class CanaryRound:
    at: str
    answers: list[CanaryAnswer] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "answers": [a.to_dict() for a in self.answers],
            "findings": [f.to_dict() for f in self.findings],
        }


def _ask(endpoint: Endpoint) -> list[CanaryAnswer]:
    from tripwire.evals import GenerationConfig, backend_from_spec, get_suite

    suite = get_suite("canaries")
    tasks = suite.tasks()
    backend = backend_from_spec(endpoint.spec)
    backend.with_config(GenerationConfig(max_new_tokens=64, temperature=0.0))
    t0 = time.perf_counter()
    samples = list(backend.generate(tasks, 1))
    seconds = (time.perf_counter() - t0) / max(len(samples), 1)
    out = []
    for sample, result in zip(samples, suite.score(samples, None), strict=True):
        failed = tuple(x for x in result.message.split(",") if x)
        out.append(CanaryAnswer(endpoint.name, sample.task_id, not failed, failed,
                                sha256_bytes(sample.completion.encode()), sample.completion,
                                round(seconds, 4)))  # fmt: skip
    return out


def compare_round(
    answers: Sequence[CanaryAnswer], previous: dict[tuple[str, str], str]
) -> list[Finding]:
    """Findings of one round: failed checks, endpoints disagreeing, answers that changed."""
    findings = []
    by_canary: dict[str, dict[str, CanaryAnswer]] = {}
    for a in answers:
        by_canary.setdefault(a.canary_id, {})[a.endpoint] = a
        if not a.ok:
            message = f"{a.endpoint}: canary {a.canary_id} fails {', '.join(a.failed)}"
            evidence = {"endpoint": a.endpoint, "failed": list(a.failed),
                        "completion": a.completion[:500]}  # fmt: skip
            findings.append(Finding("monitor.canary_failed", Severity.BLOCK, message,
                                    record_ids=(a.canary_id,), evidence=evidence))  # fmt: skip
        before = previous.get((a.endpoint, a.canary_id))
        if before is not None and before != a.answer_sha256:
            findings.append(Finding("monitor.canary_changed", Severity.WARN,
                                    f"{a.endpoint}: greedy answer to {a.canary_id} changed since "
                                    "the last round", record_ids=(a.canary_id,),
                                    evidence={"endpoint": a.endpoint}))  # fmt: skip
    for canary_id, per in sorted(by_canary.items()):
        if len({a.answer_sha256 for a in per.values()}) > 1:
            groups: dict[str, list[str]] = {}
            for a in per.values():
                groups.setdefault(a.answer_sha256[:12], []).append(a.endpoint)
            message = f"endpoints answer {canary_id} differently at temperature 0"
            finding = Finding("monitor.canary_disagreement", Severity.BLOCK, message,
                              record_ids=(canary_id,), evidence={"groups": groups})  # fmt: skip
            findings.append(finding)
    return findings


def run_canaries(
    endpoints: Sequence[Endpoint],
    rounds: int = 1,
    every_s: float = 300.0,
    on_round: Callable[[CanaryRound], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[CanaryRound]:
    """``rounds`` rounds, ``every_s`` seconds apart (start to start)."""
    if not endpoints:
        raise BadInputError("--endpoint", "at least one endpoint is needed")
    if not 0 <= every_s <= MAX_EVERY_S:  # NaN too; sleep() takes no more than a time_t
        raise BadInputError("--every", f"{every_s} s is not between 0 and {MAX_EVERY_S} (a week)")
    names = [ep.name for ep in endpoints]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:  # answers are compared by name: two under one would never disagree
        raise BadInputError("--endpoint", f"names must differ: {', '.join(repeated)} repeated")
    previous: dict[tuple[str, str], str] = {}
    done = []
    for r in range(rounds):
        started = time.monotonic()
        rnd = CanaryRound(datetime.now(UTC).isoformat())
        for ep in endpoints:
            rnd.answers.extend(_ask(ep))
        rnd.findings = compare_round(rnd.answers, previous)
        previous = {(a.endpoint, a.canary_id): a.answer_sha256 for a in rnd.answers}
        done.append(rnd)
        if on_round is not None:
            on_round(rnd)
        if r + 1 < rounds:
            sleep(max(0.0, every_s - (time.monotonic() - started)))
    return done
