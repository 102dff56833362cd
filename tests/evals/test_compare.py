"""Retention/completion/canary runs of real reference models and paired comparisons of them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tripwire.cli import main
from tripwire.errors import BadInputError
from tripwire.evals import GenerationConfig, HFBackend, HumanEval, compare_runs, get_suite, run_eval
from tripwire.reference import degrade_language
from tripwire.sandbox import Limits, Sandbox

ITEMS = 40  # per language; the tiny model's held-out split has about this many 1 KB chunks


@pytest.fixture(scope="module")
def models(tiny_reference: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    copy = root / "copy"
    shutil.copytree(tiny_reference, copy)
    degraded = root / "python-degraded"
    degrade_language(tiny_reference, degraded, "python")
    return {"base": tiny_reference, "copy": copy, "degraded": degraded}


@pytest.fixture(scope="module")
def retention_runs(models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("runs")
    suite = get_suite("retention", corpus=models["base"], max_per_language=ITEMS)
    return {
        name: run_eval(suite, HFBackend(path), None, out=root / name).path
        for name, path in models.items()
    }


def test_identical_copy_passes_every_slice(retention_runs: dict) -> None:
    result = compare_runs(retention_runs["base"], retention_runs["copy"])
    assert result.outcome == "pass" and result.verdict == "pass"
    assert {s.slice for s in result.slices} >= {"all", "language=python", "language=c"}
    for s in result.slices:
        assert s.delta == 0 and s.status == "pass" and not s.regressed


def test_degraded_language_regresses_only_there(retention_runs: dict) -> None:
    result = compare_runs(retention_runs["base"], retention_runs["degraded"])
    by_slice = {s.slice: s for s in result.slices}
    assert result.outcome == "regressed" and result.verdict == "block"
    py = by_slice["language=python"]
    assert py.regressed and py.status == "regressed"
    assert py.delta > py.margin and py.ci_low > 0  # worse bits/byte, and surely so
    assert py.p_value < 0.05
    for lang in ("c", "perl", "shell"):
        assert not by_slice[f"language={lang}"].regressed, by_slice[f"language={lang}"]
    assert py.delta > 5 * max(abs(by_slice[f"language={x}"].delta) for x in ("c", "perl", "shell"))


def test_compare_json_contract_and_exit_code(retention_runs: dict, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cmp.json"
    code = main(["eval", "compare", str(retention_runs["base"]), str(retention_runs["degraded"]),
                 "--json", str(out)])  # fmt: skip
    assert code == 1
    data = json.loads(out.read_text())
    # one verdict vocabulary (block exits 1), the statistics' own word beside it
    assert data["verdict"] == "block" and data["outcome"] == "regressed"
    keys = {"slice", "metric", "n", "baseline", "candidate", "delta", "ci_low", "ci_high",
            "p_value", "regressed"}  # fmt: skip
    assert all(keys <= set(s) for s in data["slices"])
    assert main(["eval", "compare", str(retention_runs["base"]), str(retention_runs["copy"])]) == 0


def test_refuses_incomparable_runs(
    models: dict[str, Path], retention_runs: dict, tmp_path: Path
) -> None:
    other = get_suite("retention", corpus=models["base"], max_per_language=ITEMS // 2)
    fewer = run_eval(other, HFBackend(models["base"]), None, out=tmp_path / "fewer").path
    with pytest.raises(BadInputError, match="suite_options differs"):
        compare_runs(retention_runs["base"], fewer)
    canary = run_eval(
        get_suite("canaries"), HFBackend(models["base"]), None, out=tmp_path / "c"
    ).path
    with pytest.raises(BadInputError, match="suite differs"):
        compare_runs(retention_runs["base"], canary)
    with pytest.raises(BadInputError, match="not an eval run directory"):
        compare_runs(retention_runs["base"], tmp_path)


def test_sample_counts_must_match(tmp_path: Path) -> None:
    rows = [{"task_id": "py-add", "completion": "    return a + b\n"},
            {"task_id": "js-add", "completion": "  return a + b;\n}\n"}]  # fmt: skip
    one = tmp_path / "one.jsonl"
    one.write_text("".join(json.dumps(r) + "\n" for r in rows))
    two = tmp_path / "two.jsonl"
    two.write_text("".join(json.dumps(r) + "\n" for r in rows * 2))
    from tripwire.evals import backend_from_spec

    suite = get_suite("canaries")
    a = run_eval(suite, backend_from_spec(f"samples:{one}"), None, out=tmp_path / "a", n=1).path
    b = run_eval(suite, backend_from_spec(f"samples:{two}"), None, out=tmp_path / "b", n=2).path
    with pytest.raises(BadInputError, match="n differs"):
        compare_runs(a, b)
    results = [
        json.loads(line) for line in (tmp_path / "a" / "results.jsonl").read_text().splitlines()
    ]
    assert {r["task_id"]: r["metrics"]["ok"] for r in results} == {"py-add": 1.0, "js-add": 1.0}


def test_completion_suite_scores_and_slices(models: dict[str, Path], tmp_path: Path) -> None:
    suite = get_suite("completion", corpus=models["base"], max_per_language=8)
    run = run_eval(suite, HFBackend(models["base"]), None, out=tmp_path / "comp")
    langs = {r.slices["language"] for r in run.results}
    assert "python" in langs and len(langs) >= 3
    # every language of the reference corpus has a syntax checker (a parser or brackets)
    assert all(set(r.metrics) == {"exact_match", "syntax_valid"} for r in run.results)
    assert "language=python" in run.summary["metrics"]


def test_power_command(capsys, tmp_path: Path) -> None:
    assert main(["eval", "power", "--metric", "pass", "--base-rate", "0.5", "--drop", "0.08",
                 "--discordance", "0.2", "--json", "-"]) == 0  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert data["paired_items"] < data["unpaired_items_per_model"] / 2
    # sized for compare's rule, both claims, and it says which one needs the items
    assert data["sized_for"] == ["regression", "pass"] and data["binding"] == "pass"
    assert data["paired_items"] == data["claims"]["pass"]["items"]
    assert data["claims"]["regression"]["power"] >= 0.8 and data["margin"] == 0.02
    assert main(["eval", "power", "--metric", "pass", "--drop", "0.9", "--base-rate", "0.5"]) == 2
    assert "--discordance" in capsys.readouterr().err
    assert main(["eval", "power", "--drop", "0.02"]) == 2  # not past the default margin
    assert "--drop" in capsys.readouterr().err
    # a policy gives the margin, alpha and correction; the humaneval suite counts its own slices
    policy = tmp_path / "gate.toml"
    policy.write_text('alpha = 0.1\n[[suites]]\nname = "humaneval"\nmargins = { pass = "0.05" }\n')
    assert main(["eval", "power", "--policy", str(policy), "--drop", "0.1", "--discordance",
                 "0.2", "--claim", "regression", "--json", "-"]) == 0  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    assert data["margin"] == 0.05 and data["alpha"] == 0.1 and data["slices"] == 1
    assert (
        data["suite"]["items"] == 164 and "regression" in data["suite"]["chances_in_smallest_slice"]
    )
    assert main(["eval", "power", "--policy", str(policy), "--suite", "retention"]) == 2
    assert "--suite" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("language", "good", "bad"),
    [
        ("python", "def f(x):\n    if x:\n        return (x +", "def f(x):\n    if x\n"),
        ("javascript", "function f(a) {\n  if (a) {\n", "function f(a) {\n  return a + ;;) }}\n"),
        ("shell", "f() {\n  echo hi\n", "f() {\n  echo hi )\n"),
        ("c", "int f(int a)\n{\n  return g(a,\n", "int f(int a)\n{\n  return a);\n"),
    ],
)
def test_prefix_validity_per_language(language: str, good: str, bad: str) -> None:
    from tripwire.evals._completion_items import prefix_valid

    assert prefix_valid(good, language) is True
    assert prefix_valid(bad, language) is False
    assert prefix_valid("anything", "cobol") is None


def test_humaneval_generates_with_hf_backend_and_records_settings(
    tiny_reference: Path, tmp_path: Path
) -> None:
    # humaneval generates with any backend: two problems, generated by hf:, executed for real

    class TwoProblems(HumanEval):
        def tasks(self):  # type: ignore[no-untyped-def]
            return super().tasks()[:2]

    backend = HFBackend(tiny_reference).with_config(
        GenerationConfig(max_new_tokens=16, stop=("\n\n",))
    )
    with Sandbox(workers=2, limits=Limits(wall_s=5.0, cpu_s=5.0)) as box:
        run = run_eval(TwoProblems(), backend, box, out=tmp_path / "he", n=1, ks=(1,))
    assert [r.task_id for r in run.results] == ["HumanEval/0", "HumanEval/1"]
    assert all(r.slices == {"language": "python", "task": "humaneval"} for r in run.results)
    assert all(r.verdict in ("passed", "failed", "timeout", "error") for r in run.results)
    identity = json.loads((tmp_path / "he" / "run.json").read_text())["identity"]
    assert identity["model"]["generation"]["stop"] == ["\n\n"]
    assert identity["model"]["generation"]["max_new_tokens"] == 16
