"""`eval run`, `eval compare`, `eval compare-models`, `eval power` and the gate's evals fed what a
stranger hands in: limits the sandbox cannot wait for, result lines no run writes, outputs that
name the inputs, margin typos, extreme spreads, slices of one item, models that score NaN. Each
is one line and exit 2 with nothing left behind, or a sound verdict: never a traceback, a NaN
in a document, or a slice silently dropped."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.evals.conftest import write_samples
from tripwire.artifacts import ArtifactKind, Manifest
from tripwire.cli import main
from tripwire.errors import BadInputError
from tripwire.evals import HumanEval
from tripwire.evals._compare import Levels, judge
from tripwire.evals._types import MetricSpec, SampleResult
from tripwire.findings import Finding, Outcome, Severity

TASKS = 4
Line = dict[str, Any]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, humaneval: HumanEval) -> dict[str, Path]:
    """Real runs of 4 HumanEval tasks (the baseline passes all, the candidate half) and the
    samples files they were made from."""
    root = tmp_path_factory.mktemp("stranger")
    ids = list(humaneval.problems)[:TASKS]
    good = [(t, humaneval.problems[t]["canonical_solution"]) for t in ids]
    worse = [(t, c if i % 2 == 0 else "    return None\n") for i, (t, c) in enumerate(good)]
    out: dict[str, Path] = {}
    for name, rows in (("base", good), ("cand", worse)):
        samples = write_samples(root / f"{name}.jsonl", rows)
        assert main(["eval", "run", f"samples:{samples}", "--workers", "2", "--cpu-limit", "0.5",
                     "--out", str(root / name)]) == 0  # fmt: skip
        out[name], out[f"{name}_samples"] = root / name, samples
    return out


def edited(run: Path, to: Path, edit: Callable[[list[Line]], None]) -> Path:
    """A copy of ``run`` with its results edited and its manifest re-recorded to match (what a
    pipeline that re-records a folder does)."""
    shutil.copytree(run, to)
    lines = [json.loads(x) for x in (to / "results.jsonl").read_text().splitlines()]
    edit(lines)
    (to / "results.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    Manifest.build(to, ArtifactKind.EVAL_RUN).write(to)
    return to


def one_line_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    err = capsys.readouterr().err
    assert code == 2, err
    said = [x for x in err.splitlines() if not x.startswith("[progress]")]
    assert len(said) == 1 and said[0].startswith("error: "), err
    return said[0]


# D2: a per-program limit past what select() can wait for crashed with OverflowError (exit 4)
@pytest.mark.parametrize("command", ["run", "compare-models"])
@pytest.mark.parametrize("timeout", ["1e10", "inf"])
def test_a_timeout_the_sandbox_cannot_wait_for_is_refused(
    capsys: pytest.CaptureFixture[str], runs: dict[str, Path], command: str, timeout: str
) -> None:
    model = f"samples:{runs['base_samples']}"
    models = [model] if command == "run" else [model, f"samples:{runs['cand_samples']}"]
    err = one_line_error(capsys, "eval", command, *models, "--workers", "2",
                         "--timeout", timeout)  # fmt: skip
    assert "--timeout: at most 86400 seconds" in err


# D3: an integer too big for a float in a metric crashed the results reader (exit 4)
def test_a_metric_too_big_for_a_float_is_a_corrupt_line(
    capsys: pytest.CaptureFixture[str], runs: dict[str, Path], tmp_path: Path
) -> None:
    def huge(lines: list[Line]) -> None:
        lines[0]["metrics"]["pass"] = 10**400

    cand = edited(runs["cand"], tmp_path / "cand", huge)
    err = one_line_error(capsys, "eval", "compare", str(runs["base"]), str(cand))
    assert f"{cand / 'results.jsonl'}:1: corrupt result line" in err


# D13: result lines no run of the suite writes passed the range checks
def _scored(lines: list[Line]) -> None:
    lines[1].update(verdict="scored", metrics={"pass": 82.0})


def _shouting(lines: list[Line]) -> None:
    lines[1]["verdict"] = "PASSED"


def _letters(lines: list[Line]) -> None:
    lines[1]["tampering"] = "abc"


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (_scored, "verdict 'scored' is not one the humaneval suite gives"),
        (_shouting, "verdict 'PASSED' is not one the humaneval suite gives"),
        (_letters, "corrupt result line ('tampering' is 'abc', not a list of strings)"),
    ],
)
def test_result_lines_no_run_writes_are_refused(
    capsys: pytest.CaptureFixture[str],
    runs: dict[str, Path],
    tmp_path: Path,
    edit: Callable[[list[Line]], None],
    problem: str,
) -> None:
    cand = edited(runs["cand"], tmp_path / "cand", edit)
    err = one_line_error(capsys, "eval", "compare", str(runs["base"]), str(cand))
    assert str(cand / "results.jsonl") in err and problem in err


# D7: --json could overwrite the samples file or the run's own results
def test_json_that_would_overwrite_an_input_is_refused(
    capsys: pytest.CaptureFixture[str], runs: dict[str, Path], tmp_path: Path
) -> None:
    samples = tmp_path / "victim.jsonl"
    shutil.copy(runs["base_samples"], samples)
    before = samples.read_bytes()
    err = one_line_error(capsys, "eval", "run", f"samples:{samples}", "--workers", "2",
                         "--out", str(tmp_path / "run"), "--json", str(samples))  # fmt: skip
    assert "would overwrite" in err and samples.read_bytes() == before
    assert not (tmp_path / "run").exists()

    own = tmp_path / "own" / "results.jsonl"
    err = one_line_error(capsys, "eval", "run", f"samples:{samples}", "--workers", "2",
                         "--out", str(own.parent), "--json", str(own))  # fmt: skip
    assert "would overwrite the run's own files" in err and not own.parent.exists()

    base = tmp_path / "base"
    shutil.copytree(runs["base"], base)
    results = (base / "results.jsonl").read_bytes()
    err = one_line_error(capsys, "eval", "compare", str(base), str(runs["cand"]),
                         "--json", str(base / "results.jsonl"))  # fmt: skip
    assert "would overwrite the baseline run" in err
    assert (base / "results.jsonl").read_bytes() == results


# D8: a refused run left run.json in the user's empty --out, which then blocked a good run
def test_a_refused_run_leaves_an_existing_empty_out_empty(
    capsys: pytest.CaptureFixture[str], runs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    unknown = write_samples(tmp_path / "unknown.jsonl", [("HumanEval/../../etc/passwd", "x")])
    err = one_line_error(capsys, "eval", "run", f"samples:{unknown}", "--workers", "2",
                         "--out", str(out))  # fmt: skip
    assert "task ids not in the suite" in err
    assert out.is_dir() and not list(out.iterdir())
    code = main(["eval", "run", f"samples:{runs['base_samples']}", "--workers", "2",
                 "--cpu-limit", "0.5", "--out", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err


# D9: a misspelt metric in --margin was dropped and the default margin used
@pytest.mark.parametrize(
    ("margin", "named"), [("pas=0.5", "'pas'"), ("=0.1", "''"), ("pass=0.1=2", "'pass=0.1'")]
)
def test_a_margin_for_no_metric_of_the_suite_is_refused(
    capsys: pytest.CaptureFixture[str], runs: dict[str, Path], margin: str, named: str
) -> None:
    err = one_line_error(capsys, "eval", "compare", str(runs["base"]), str(runs["cand"]),
                         "--margin", margin)  # fmt: skip
    assert f"--margin: {named} names no metric of the humaneval suite" in err


# D10: a spread tiny next to the margin gave NaN power; a huge shift blamed --alpha
def _no_constants(name: str) -> None:
    raise AssertionError(f"{name} in a --json document")


POWER_OPTIONS = [
    ["--sd", "1e-12"],
    ["--sd", "1e-308", "--items", "50"],
    ["--shift", "1e308"],
    ["--items", "5"],
]


@pytest.mark.parametrize("options", POWER_OPTIONS)
def test_power_answers_are_finite_numbers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, options: list[str]
) -> None:
    path = tmp_path / "power.json"
    code = main(["eval", "power", "--metric", "score", "--margin", "0.02", *options,
                 "--json", str(path)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "nan" not in captured.out.lower() and "Warning" not in captured.err
    data = json.loads(path.read_text(), parse_constant=_no_constants)
    chances = data.get("chances") or {c: p["power"] for c, p in data["claims"].items()}
    assert all(0 <= v <= 1 for v in chances.values()), chances


# D6: a slice of one item was dropped from the comparison, so a regression there passed
def _retention_like(language: str, i: int, bits: float) -> SampleResult:
    return SampleResult(f"{language}/{i}", 0, "scored", "", 0.0, 0.0, {"bits_per_byte": bits},
                        {"language": language})  # fmt: skip


BITS = {"bits_per_byte": MetricSpec(higher_is_better=False, binary=False, default_margin="1%")}


def _results(shell_bits: float) -> dict[tuple[str, int], SampleResult]:
    items = [_retention_like("python", i, 2.0 + 0.01 * (i % 5)) for i in range(25)]
    items.append(_retention_like("shell", 0, shell_bits))
    return {r.key: r for r in items}


def test_a_slice_of_one_item_is_inconclusive_not_dropped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tripwire.cli.eval import render_comparison
    from tripwire.evals import RunComparison
    from tripwire.gate._evals import _finding
    from tripwire.stats import overall_outcome

    judged = judge(_results(4.17), _results(6.25), BITS, levels=Levels(0.05, 0.05))
    by_slice = {s.slice: s for s in judged.slices}
    assert set(by_slice) == {"all", "language=python", "language=shell"}
    shell = by_slice["language=shell"]
    assert shell.status is Outcome.INCONCLUSIVE and not shell.regressed and shell.n == 1
    assert shell.note.startswith("1 item: too few to judge")
    assert by_slice["language=python"].status is Outcome.PASS
    assert overall_outcome(judged.slices) is Outcome.INCONCLUSIVE

    found = _finding("retention", shell)
    assert found is not None and found.code == "eval.inconclusive"
    assert found.severity is Severity.WARN and "too few to judge" in found.message

    result = RunComparison(overall_outcome(judged.slices), "retention", "b", "c", 0.05, "holm",
                           judged.slices, items=judged.items, samples=judged.samples)  # fmt: skip
    assert result.to_dict()["verdict"] == "warn"
    assert any(s["slice"] == "language=shell" and s["status"] == "inconclusive"
               for s in result.to_dict()["slices"])  # fmt: skip
    render_comparison(result)
    shown = capsys.readouterr().out
    assert "language=shell" in shown and "too few to judge" in shown


# D5: a model scoring NaN was judged by compare-models, and made the gate exit 2 with no outputs
def test_non_finite_scores_are_refused_by_the_comparison() -> None:
    cand = _results(float("nan"))
    with pytest.raises(BadInputError, match="metric 'bits_per_byte' is nan, not a finite"):
        judge(_results(4.17), cand, BITS, levels=Levels(0.05, 0.05))


def test_a_candidate_scoring_nan_is_a_blocking_gate_finding(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import tripwire.evals
    from tripwire.gate._evals import GatedModel, PlannedSuite, _run_one
    from tripwire.gate._policy import SuitePolicy

    results = list(_results(float("nan")).values())
    run = SimpleNamespace(path=tmp_path / "run", results=results)
    monkeypatch.setattr(tripwire.evals, "HFBackend", lambda *a, **k: object())
    monkeypatch.setattr(tripwire.evals, "cached_eval", lambda *a, **k: run)
    model = GatedModel("candidate", tmp_path / "model", None, ())  # type: ignore[arg-type]
    planned = PlannedSuite(SuitePolicy("retention"), object())  # type: ignore[arg-type]
    found = _run_one(planned, model, None, lambda *a: None)
    assert isinstance(found, Finding), found
    assert found.code == "eval.not_runnable" and found.severity is Severity.BLOCK
    assert "not finite" in found.message and "shell/0#0" in found.message
