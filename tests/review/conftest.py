"""A small audited set (planted faults, so the truth is known) and a small blinded eval review,
built once per test run; helpers to script reviewers' decisions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tripwire.data import AuditConfig, audit
from tripwire.faults import ContaminatedSet, build_contaminated_set
from tripwire.reference import load_reference_corpus


@dataclass
class Audited:
    planted: ContaminatedSet
    dataset: Path
    findings: Path
    clean: Path
    summary: Path
    rows: list[dict[str, Any]]


@pytest.fixture(scope="session")
def audited(tiny_reference: Path, tmp_path_factory: pytest.TempPathFactory) -> Audited:
    corpus = load_reference_corpus(tiny_reference, "train")
    planted = build_contaminated_set(corpus, clean=60, per_fault=4, seed=2)
    out = tmp_path_factory.mktemp("review-audit")
    dataset = planted.write_jsonl(out / "train.jsonl")
    config = AuditConfig(allow_sources=planted.allow_sources, workers=2, run_tests=False)
    result, _ = audit(
        [dataset], config=config, findings=out / "findings.jsonl", clean=out / "clean.jsonl"
    )
    summary = out / "audit.json"
    summary.write_text(json.dumps(result.to_dict()), encoding="utf-8")
    rows = [json.loads(x) for x in (out / "findings.jsonl").read_text().splitlines()]
    return Audited(planted, dataset, out / "findings.jsonl", out / "clean.jsonl", summary, rows)


def truth_decision(audited: Audited, position: int) -> dict[str, str]:
    """What an expert who knows the planted faults decides about a record."""
    fault = audited.planted.items[position].fault
    if fault is None:
        return {"decision": "keep", "reason": "", "note": ""}
    return {"decision": "drop", "reason": fault if fault in _REASONS else "other", "note": ""}


def _reasons() -> set[str]:
    from tripwire.data import REASONS

    return set(REASONS)


_REASONS = _reasons()


EVAL_TASKS = 12


@pytest.fixture(scope="session")
def eval_review(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A blinded review of two samples files on 12 HumanEval prompts: the baseline answers
    with the canonical solutions, the candidate returns None on every other task."""
    from tripwire.evals import SamplesBackend, get_suite
    from tripwire.review import EvalPlan, create_eval_review

    suite = get_suite("humaneval")
    problems = suite.problems  # type: ignore[attr-defined]
    tasks = sorted(problems)[:EVAL_TASKS]
    out = tmp_path_factory.mktemp("eval-review")
    base, cand = out / "base.jsonl", out / "cand.jsonl"
    base.write_text(
        "".join(
            json.dumps({"task_id": t, "completion": problems[t]["canonical_solution"]}) + "\n"
            for t in tasks
        )
    )
    cand.write_text(
        "".join(
            json.dumps(
                {
                    "task_id": t,
                    "completion": "    return None\n"
                    if k % 2
                    else problems[t]["canonical_solution"],
                }
            )
            + "\n"
            for k, t in enumerate(tasks)
        )
    )
    made = create_eval_review(
        out / "review",
        suite,
        SamplesBackend(base),
        SamplesBackend(cand),
        reviewers=["ana", "ben"],
        plan=EvalPlan(items=0, overlap=0.5),
    )
    return made.directory
