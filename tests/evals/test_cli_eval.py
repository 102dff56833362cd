"""`tripwire eval run`: JSON, exit codes, registry, and resume after a real kill.

Most cases call the CLI entry point in-process (the console script's start-up is slow on a loaded
machine); the kill-and-resume case runs the real console script.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.evals.conftest import mixed_rows, write_samples
from tripwire.cli import main


def tw(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_has_an_example(capsys):
    code, out, _ = tw(capsys, "eval", "run", "--help")
    assert code == 0 and "Example" in out


def test_check_references_alone(capsys):
    code, out, err = tw(capsys, "eval", "run", "--suite", "humaneval", "--check-references",
                        "--workers", "2", "--json", "-")  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["verdict"] == "pass"
    assert data["references"]["passed"] == data["references"]["total"] == 164
    assert data["isolation"]["network"] in ("netns", "seccomp")


def test_run_writes_results_json_and_registers(capsys, tmp_path, humaneval):
    samples = write_samples(tmp_path / "s.jsonl", mixed_rows(humaneval, ["HumanEval/0"]))
    out = tmp_path / "run"
    code, _, err = tw(capsys, "eval", "run", f"samples:{samples}", "--k", "1,2", "--workers", "2",
                      "--out", str(out), "--json", str(tmp_path / "r.json"))  # fmt: skip
    assert code == 0, err
    data = json.loads((tmp_path / "r.json").read_text())
    run = data["run"]
    assert run["path"] == str(out) and run["samples"] == 5
    assert run["verdicts"] == {"passed": 2, "failed": 3, "timeout": 0, "error": 0}
    assert run["pass_at_k"]["pass@1"] == 0.4
    assert run["cpu_limits"]["mode"] == "auto"  # per-task limits from the self-test
    codes = {f["code"] for f in data["findings"]}
    assert codes == {"eval.reference_check_passed", "eval.suite_incomplete"}
    assert data["verdict"] == "warn"
    _, listed, _ = tw(capsys, "registry", "list", "--kind", "eval_run", "--json", "-")
    assert [a["id"] for a in json.loads(listed)["artifacts"]] == [run["manifest_id"]]


def test_bad_input_exits_2_with_one_line_and_no_output(capsys, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    good = write_samples(tmp_path / "good.jsonl", [("HumanEval/0", "    return False\n")])
    for args in (
        ["eval", "run", f"samples:{good}", "--cpu-limit", "fast"],
        ["eval", "run", "--suite", "humaneval"],  # no MODEL
        ["eval", "run", f"samples:{bad}"],
        ["eval", "run", f"samples:{tmp_path / 'missing.jsonl'}"],
        ["eval", "run", "hf:whatever"],
        ["eval", "run", f"samples:{bad}", "--k", "one"],
        ["eval", "run", f"samples:{bad}", "--suite", "mbpp"],
    ):
        code, _, err = tw(capsys, *args, "--json", str(tmp_path / "out.json"))
        assert code == 2, (args, err)
        assert len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "out.json").exists()


KILLABLE = """
import sys
from tripwire.evals import SamplesBackend, get_suite, run_eval
from tripwire.sandbox import Limits, Sandbox

with Sandbox(workers=2, limits=Limits(wall_s=10.0, cpu_s=10.0)) as box:
    run_eval(get_suite("humaneval"), SamplesBackend(sys.argv[1]), box, out=sys.argv[2])
"""


@pytest.mark.slow
def test_killed_run_resumes(capsys, tmp_path, humaneval):
    rows = []
    for tid in ("HumanEval/0", "HumanEval/2"):
        body = humaneval.problems[tid]["canonical_solution"]
        rows += [(tid, f"    import time\n    time.sleep(0.15)  # {i}\n{body}") for i in range(12)]
    samples = write_samples(tmp_path / "slow.jsonl", rows)
    out = tmp_path / "run"
    # a real process running the same library call as the CLI, killed without warning
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(samples), str(out)])
    results = out / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if results.exists() and len(results.read_text().splitlines()) >= 4:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(results.read_text().splitlines())
    assert 4 <= done_before < 24
    assert not (out / "summary.json").exists()
    code, _, err = tw(capsys, "eval", "run", f"samples:{samples}", "--workers", "2", "--no-cache",
                      "--out", str(out), "--json", str(tmp_path / "r.json"))  # fmt: skip
    assert code == 0, err
    run = json.loads((tmp_path / "r.json").read_text())["run"]
    assert run["resumed"] >= done_before - 1  # a line torn by the kill is redone
    assert run["samples"] == 24 and run["verdicts"]["passed"] == 24


@pytest.mark.parametrize("fault", ["beyond_table", "config_vocab_mismatch", "encoder"])
def test_a_model_that_cannot_run_exits_2_before_any_work(
    capsys, tmp_path, tiny_reference, minilm_checkpoint, fault
):
    """One line naming the problem, no traceback, no run directory, no JSON."""
    from tripwire import faults as _faults
    from tripwire.artifacts import data_dir

    if fault == "beyond_table":
        model = _faults.add_tokens(tiny_reference, tmp_path / "m", ["self.", "!=", "=>"], None).path
        expected = "tokenizer ids 2048-2050 are beyond the embedding table's 2048 rows"
    elif fault == "config_vocab_mismatch":
        model = _faults.config_vocab_mismatch(tiny_reference, tmp_path / "m").path
        expected = "config vocab_size 2051 disagrees with the weights' 2048-row embedding table"
    else:
        model, expected = minilm_checkpoint, "BertModel (bert) is not a causal language model"
    out = str(tmp_path / "out.json")
    code, _, err = tw(capsys, "eval", "run", f"hf:{model}", "--suite", "retention",
                      "--corpus", str(tiny_reference), "--json", out)  # fmt: skip
    assert code == 2, err
    assert expected in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out.json").exists()
    assert not (data_dir() / "eval_runs").exists()


def test_unusable_workers_and_out_are_one_line_each(capsys, tmp_path, humaneval):
    """Both were tracebacks: more workers than the machine has uids for, and an --out that
    cannot be a directory (a file, or a path under /proc)."""
    samples = write_samples(tmp_path / "s.jsonl", mixed_rows(humaneval, ["HumanEval/0"], 1))
    run = ["eval", "run", f"samples:{samples}", "--suite", "humaneval"]
    code, _, err = tw(capsys, *run, "--workers", "99999", "--out", str(tmp_path / "r"))
    assert code == 2 and "--workers: 99999 sandbox workers on" in err, err
    assert "Traceback" not in err and not (tmp_path / "r").exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for out in (blocker, blocker / "run", "/proc/tripwire-run"):
        code, _, err = tw(capsys, *run, "--workers", "2", "--out", str(out))
        assert code == 2, err
        assert err.startswith("error: ") and f"{out}:" in err, err
        assert len(err.strip().splitlines()) == 1, err


def test_compare_refuses_a_negative_margin_and_an_unwritable_json(capsys, tmp_path, humaneval):
    samples = write_samples(
        tmp_path / "s.jsonl", mixed_rows(humaneval, ["HumanEval/0", "HumanEval/1"], 2)
    )
    run = tmp_path / "run"
    code, _, err = tw(capsys, "eval", "run", f"samples:{samples}", "--workers", "2", "--out",
                      str(run))  # fmt: skip
    assert code == 0, err
    # identical runs were "regressed" (exit 1) under --margin -1
    code, _, err = tw(capsys, "eval", "compare", str(run), str(run), "--margin", "-1")
    assert code == 2 and "--margin: margin '-1': expected a finite amount >= 0" in err, err
    code, _, err = tw(capsys, "eval", "compare", str(run), f"{run}/.", "--json", "/proc/c.json")
    assert code == 2 and "the candidate is the baseline run" in err, err  # it always passed
    other = tmp_path / "other"
    code, _, err = tw(capsys, "eval", "run", f"samples:{samples}", "--workers", "2", "--out",
                      str(other))  # fmt: skip
    code, _, err = tw(capsys, "eval", "compare", str(run), str(other), "--json", "/proc/c.json")
    assert code == 2 and err.startswith("error: /proc/c.json: cannot write"), err


def test_a_run_that_scores_nothing_leaves_no_run_directory(capsys, tmp_path, humaneval):
    """A samples file given to a likelihood suite was refused after run.json was written."""
    samples = write_samples(tmp_path / "s.jsonl", mixed_rows(humaneval, ["HumanEval/0"], 1))
    out = tmp_path / "run"
    code, _, err = tw(capsys, "eval", "run", f"samples:{samples}", "--suite", "retention",
                      "--out", str(out))  # fmt: skip
    assert code == 2 and "cannot score text" in err, err
    assert not out.exists()


def test_an_option_the_suite_does_not_take_is_refused(capsys, tmp_path, humaneval):
    """`--corpus` with humaneval or the canaries, `--window` with completion: accepted and
    silently dropped, so the run looked configured and was not."""
    samples = write_samples(tmp_path / "s.jsonl", mixed_rows(humaneval, ["HumanEval/0"], 1))
    for suite, option, value in (("humaneval", "--corpus", str(tmp_path)),
                                 ("humaneval", "--window", "100"),
                                 ("completion", "--window-overlap", "8")):  # fmt: skip
        out = tmp_path / f"run-{suite}{option}"
        code, _, err = tw(capsys, "eval", "run", f"samples:{samples}", "--suite", suite, option,
                          value, "--out", str(out))  # fmt: skip
        assert code == 2 and f"error: {option}: the {suite} suite does not take it" in err, err
        assert not out.exists()
