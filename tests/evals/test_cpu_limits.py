"""Per-task CPU limits calibrated from the reference self-test (``--cpu-limit auto``)."""

from __future__ import annotations

import json

import pytest

from tests.evals.conftest import write_samples
from tripwire.errors import BadInputError
from tripwire.evals import CpuLimits, SamplesBackend, run_eval
from tripwire.sandbox import Limits

LOOP = "    while True:\n        pass\n"


def test_limits_are_a_multiple_of_the_reference_in_power_of_two_steps():
    base = Limits(wall_s=3, cpu_s=3)
    got = CpuLimits().per_task(base, {"a": 0.004, "b": 0.05, "c": 0.051, "d": 0.12, "e": 2.0})
    assert {t: lim.cpu_s for t, lim in got.items()} == {
        "a": 0.5,  # the floor
        "b": 0.5,  # exactly 10x the reference
        "c": 1.0,
        "d": 2.0,
        "e": 3.0,  # never above the cap
    }
    assert all(lim.wall_s == 3 for lim in got.values())
    # a rerun measures slightly different times but mostly lands on the same step (cache keys)
    assert CpuLimits().per_task(base, {"a": 0.006})["a"] == got["a"]


def test_fixed_limit_and_parsing():
    fixed = CpuLimits.parse("1.5")
    assert fixed.per_task(Limits(), {"a": 0.1}) == {}
    assert fixed.base(4.0).cpu_s == 1.5 and fixed.base(4.0).wall_s == 4.0
    assert CpuLimits.parse("AUTO").base(4.0).cpu_s == 4.0
    assert fixed.describe() == {"mode": "fixed", "seconds": 1.5}
    for bad in ("0", "-1", "fast", "inf", "nan"):
        with pytest.raises(BadInputError, match="--cpu-limit"):
            CpuLimits.parse(bad)


def test_a_run_stops_loops_at_the_calibrated_limit(tmp_path, humaneval, box):
    task = "HumanEval/0"
    canonical = humaneval.problems[task]["canonical_solution"]
    samples = write_samples(tmp_path / "s.jsonl", [(task, canonical), (task, LOOP)])
    run = run_eval(humaneval, SamplesBackend(samples), box, out=tmp_path / "run", ks=(1,))
    lines = [json.loads(x) for x in (run.path / "results.jsonl").read_text().splitlines()]
    assert [x["verdict"] for x in lines] == ["passed", "timeout"]
    assert "CPU limit of 0.5s" in lines[1]["message"]
    limits = run.summary["cpu_limits"]
    assert limits["mode"] == "auto" and sum(limits["tasks_by_cpu_s"].values()) == 164
    assert run.references.cpu_s[task] > 0
    # fixed: every task keeps the sandbox's own limits
    one = write_samples(tmp_path / "one.jsonl", [(task, canonical)])
    fixed = run_eval(humaneval, SamplesBackend(one), box, out=tmp_path / "fixed", ks=(1,),
                     cpu_limits=CpuLimits.parse("1"))  # fmt: skip
    assert fixed.summary["cpu_limits"]["tasks_by_cpu_s"] == {}
    assert fixed.summary["cpu_limits"]["default_cpu_s"] == box.limits.cpu_s
