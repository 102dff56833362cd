"""`eval compare-models --sequential` on two ``samples:`` files: each look scores a batch of the
suite, while the samples were checked against the whole suite (not the batch) before scoring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.evals.conftest import write_samples
from tripwire.cli import main
from tripwire.evals import HumanEval


def _errors(stderr: str) -> str:
    """stderr without its progress lines."""
    return "\n".join(line for line in stderr.splitlines() if not line.startswith("[progress]"))


def _canonical(humaneval: HumanEval, task_ids: list[str]) -> list[tuple[str, str]]:
    return [(t, humaneval.problems[t]["canonical_solution"]) for t in task_ids]


def test_sequential_comparison_of_two_samples_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, humaneval: HumanEval
) -> None:
    ids = sorted(humaneval.problems)
    rows = _canonical(humaneval, ids)
    base = write_samples(tmp_path / "base.jsonl", rows)
    # the same answers in another order: another file (its own run), the same scores
    cand = write_samples(tmp_path / "cand.jsonl", rows[::-1])
    report = tmp_path / "cmp.json"
    code = main(["eval", "compare-models", f"samples:{base}", f"samples:{cand}", "--suite",
                 "humaneval", "--workers", "2", "--sequential", "--looks", "3", "--json",
                 str(report)])  # fmt: skip
    err = capsys.readouterr().err
    assert "not in the suite" not in err
    assert code == 0, err
    data = json.loads(report.read_text())
    assert data["sequential"]["looks_planned"] == 3
    assert data["sequential"]["looks_done"] >= 1


def test_samples_outside_the_suite_are_still_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, humaneval: HumanEval
) -> None:
    rows = _canonical(humaneval, ["HumanEval/0", "HumanEval/1"])
    base = write_samples(tmp_path / "base.jsonl", rows)
    cand = write_samples(tmp_path / "cand.jsonl", [*rows, ("HumanEval/9999", "    return 1\n")])
    code = main(["eval", "compare-models", f"samples:{base}", f"samples:{cand}", "--suite",
                 "humaneval", "--workers", "2", "--sequential", "--looks", "3"])  # fmt: skip
    err = _errors(capsys.readouterr().err)
    assert code == 2
    assert "'HumanEval/9999'" in err and "HumanEval/0'" not in err
    assert len(err.splitlines()) == 1


def test_different_task_sets_are_named_as_such(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, humaneval: HumanEval
) -> None:
    base = write_samples(tmp_path / "base.jsonl",
                         _canonical(humaneval, ["HumanEval/0", "HumanEval/1"]))  # fmt: skip
    cand = write_samples(tmp_path / "cand.jsonl",
                         _canonical(humaneval, ["HumanEval/0", "HumanEval/2"]))  # fmt: skip
    code = main(["eval", "compare-models", f"samples:{base}", f"samples:{cand}", "--suite",
                 "humaneval", "--workers", "2"])  # fmt: skip
    err = _errors(capsys.readouterr().err)
    assert code == 2 and len(err.splitlines()) == 1
    assert "cover different tasks" in err and "same number of samples" not in err
    assert "baseline has no samples for HumanEval/2" in err
    assert "candidate has no samples for HumanEval/1" in err
    assert "base.jsonl vs cand.jsonl" in err and "eval_runs" not in err
