"""The multi-language suites through the real sandbox and toolchains (node, g++, bash, perl):
each language's translations of a few problems validated by their oracles and perturbed
oracles, wrong completions classified, a samples file scored and two runs compared."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tripwire.cli import main
from tripwire.errors import BadInputError, UnavailableError
from tripwire.evals import SamplesBackend, compare_runs, get_suite, run_eval, suite_class
from tripwire.evals._types import Sample
from tripwire.evals.multilang import CLASSES, LANGUAGES
from tripwire.gate._policy import Policy
from tripwire.sandbox import Limits, Sandbox

from .conftest import write_samples

# node's V8 reserves about 1 GiB of address space before it runs a line
LIMITS = Limits(wall_s=20.0, cpu_s=5.0, memory_bytes=2 * 1024**3)
# a few problems per language, covering its value shapes: lists of floats and a bool result,
# a float within a tolerance, None, a dict, a tuple, lists of strings
PROBLEMS = {
    "humaneval-js": ["HumanEval/0", "HumanEval/2", "HumanEval/12", "HumanEval/111"],
    "humaneval-cpp": ["HumanEval/0", "HumanEval/12", "HumanEval/107"],
    "humaneval-sh": ["HumanEval/0", "HumanEval/2", "HumanEval/1", "HumanEval/26"],
    "humaneval-pl": ["HumanEval/0", "HumanEval/12", "HumanEval/111", "HumanEval/107"],
}
# completions of HumanEval/0 (has_close_elements) per class; MultiPL-E's stop sequence `\n}`
# leaves the closing brace out of `stopped`, which the program adds back
WRONG = {
    "humaneval-js": {
        "compile_error": "  return 1 +* 2;\n}\n",
        "runtime_error": "  throw new Error('boom');\n}\n",
        "wrong_answer": "  return false;\n}\n",
        "timeout": "  while (true) {}\n}\n",
        "incomplete": "  for (let i = 0; i < numbers.length; i++) {\n    if (numbers[i] <",
        "stopped": "  return false;",
    },
    "humaneval-cpp": {
        "compile_error": "  return no_such_name;\n}\n",
        "runtime_error": "  std::abort();\n}\n",
        "wrong_answer": "  return false;\n}\n",
        "timeout": "  volatile long n = 0;\n  while (true) n++;\n}\n",
        "incomplete": "  for (size_t i = 0; i < numbers.size(); i++) {\n    if (numbers[i] <",
        "stopped": "  return false;",
    },
    "humaneval-sh": {
        "compile_error": "  if then fi\n}\n",
        "runtime_error": "  kill -ABRT $$\n}\n",
        "wrong_answer": "  echo false\n}\n",
        "timeout": "  while true; do :; done\n}\n",
        "incomplete": '  for x in $1; do\n    if [ "$x" = 1 ]; then',
        "stopped": "  echo false",
    },
    "humaneval-pl": {
        "compile_error": "    return 1 2;\n}\n",
        "runtime_error": "    die 'boom';\n}\n",
        "wrong_answer": "    return 0;\n}\n",
        "timeout": "    while (1) {}\n}\n",
        "incomplete": "    for my $x (@$numbers) {\n        if ($x <",
        "stopped": "    return 0;",
    },
}


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(workers=2, limits=LIMITS) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def _fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No stored validation: every suite built here validates its translations for real."""
    monkeypatch.setenv("TRIPWIRE_CACHE", str(tmp_path / "cache"))


def _tool(name: str) -> None:
    missing = LANGUAGES[name].missing()
    if missing:
        pytest.skip(f"{name} needs {' and '.join(missing)}, not installed on this machine")


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_translations_validate_and_wrong_completions_are_classified(box, name):
    _tool(name)
    suite = get_suite(name, task_ids=PROBLEMS[name], sandbox=box)
    # built on a fresh cache: the oracles ran and passed, the perturbed oracles were caught
    assert not suite.validation.reused
    assert suite.describe()["excluded"] == {}
    assert sorted(suite.validation.validated) == sorted(PROBLEMS[name])
    # an oracle with its closing brace eaten by the stop sequence `\n}` still passes
    oracle = suite.translation.problems["HumanEval/0"].oracle
    cut = oracle.rstrip()[: -len("}")]
    samples = [Sample("HumanEval/0", 0, cut)]
    samples += [Sample("HumanEval/0", i, c) for i, c in enumerate(WRONG[name].values(), 1)]
    quick = {"HumanEval/0": Limits(wall_s=20.0, cpu_s=1.0, memory_bytes=2 * 1024**3)}
    results = sorted(suite.score(samples, box, limits=quick), key=lambda r: r.sample_idx)
    assert results[0].passed, results[0]
    expected = [*list(WRONG[name])[:-1], "wrong_answer"]  # `stopped` answers wrongly
    for r, cls in zip(results[1:], expected, strict=True):
        assert not r.passed
        assert r.metrics["pass"] == 0.0
        assert [c for c in CLASSES if r.metrics[c]] == [cls], (cls, r)
    assert results[5].message.startswith("incomplete output: the completion ends inside")


def test_a_samples_file_is_scored_and_failure_classes_are_compared(box, tmp_path):
    _tool("humaneval-js")
    suite = get_suite("humaneval-js", task_ids=PROBLEMS["humaneval-js"], sandbox=box)
    problems = suite.translation.problems
    rows_base = [(t, problems[t].oracle) for t in PROBLEMS["humaneval-js"]] * 2
    rows_cand = [(t, problems[t].oracle) for t in PROBLEMS["humaneval-js"]]
    rows_cand += [(t, "  return (\n") for t in PROBLEMS["humaneval-js"]]  # cut: incomplete
    base = write_samples(tmp_path / "base.jsonl", rows_base)
    cand = write_samples(tmp_path / "cand.jsonl", rows_cand)
    runs = {}
    for label, path in (("base", base), ("cand", cand)):
        runs[label] = run_eval(suite, SamplesBackend(path), box, out=tmp_path / label, ks=(1, 2))
    summary = runs["cand"].summary
    assert summary["references"]["passed"] == 2 * len(PROBLEMS["humaneval-js"])
    assert summary["pass_at_k"]["pass@1"] == 0.5 and summary["pass_at_k"]["pass@2"] == 1.0
    assert summary["metrics"]["language=javascript"]["incomplete"] == 0.5
    comparison = compare_runs(tmp_path / "base", tmp_path / "cand")
    by_metric = {s.metric: s for s in comparison.slices if s.slice == "all"}
    assert set(by_metric) == {"pass", *CLASSES}
    assert by_metric["incomplete"].delta == 0.5 and by_metric["pass"].delta == -0.5


def test_metrics_and_policies_name_the_failure_classes(box):
    _tool("humaneval-js")
    specs = suite_class("humaneval-cpp").metrics
    assert specs["pass"].higher_is_better
    assert all(not specs[c].higher_is_better and specs[c].binary for c in CLASSES)
    policy = Policy.from_dict({"suites": [{
        "name": "humaneval-js", "task_ids": ["HumanEval/0"], "margins": {"compile_error": "0.05"},
    }]})  # fmt: skip
    entry = policy.suites[0]
    suite = get_suite(entry.name, **entry.options, sandbox=box)
    assert [t.task_id for t in suite.tasks()] == ["HumanEval/0"]
    assert suite.tasks()[0].slices == {"language": "javascript", "task": "humaneval"}
    assert entry.margin_objects()[0]["compile_error"] is not None


def test_a_missing_toolchain_is_one_line_and_exit_3(tmp_path, monkeypatch, capsys):
    """Something this machine lacks, not bad input: CI tells the two apart by exit code."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed on this machine")
    samples = write_samples(tmp_path / "s.jsonl", [("HumanEval/0", "  return true;\n}\n")])
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no toolchain on it
    with pytest.raises(UnavailableError) as info:
        get_suite("humaneval-js")
    assert str(info.value) == "--suite: humaneval-js needs node, not installed here"
    code = main(["eval", "run", f"samples:{samples}", "--suite", "humaneval-js"])
    err = capsys.readouterr().err
    assert code == 3
    assert err.strip().splitlines() == [
        "unavailable: --suite: humaneval-js needs node, not installed here"
    ]


def test_samples_of_a_problem_the_suite_could_not_translate_say_why(box, tmp_path) -> None:
    """HumanEval/12 returns an optional string, which shell cannot express faithfully: the
    suite skips it, and a samples file answering it is refused with that reason (it said only
    "not in the suite", as for a task id that does not exist)."""
    _tool("humaneval-sh")
    suite = get_suite("humaneval-sh", task_ids=["HumanEval/0", "HumanEval/12"], sandbox=box)
    assert [t.task_id for t in suite.tasks()] == ["HumanEval/0"]
    rows = [
        ("HumanEval/0", WRONG["humaneval-sh"]["wrong_answer"]),
        ("HumanEval/12", "  echo x\n}\n"),
    ]
    path = write_samples(tmp_path / "s.jsonl", rows)
    with pytest.raises(BadInputError, match=r"'HumanEval/12' \(not translated to shell: type"):
        run_eval(suite, SamplesBackend(path), box, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()
