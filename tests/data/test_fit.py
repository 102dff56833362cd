"""Answer fits its instruction (#29): the model's scores, the set-calibrated threshold, and the
audit's ``--model`` path end to end on the tiny reference model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tripwire.data import AuditConfig, audit
from tripwire.data._fit import AnswerScorer, FitScores, off_topic
from tripwire.errors import BadInputError


def test_the_low_tail_of_the_sets_own_contrast_is_flagged_never_a_positive_one():
    rng = np.random.default_rng(0)
    own = rng.normal(1.0, 0.05, 200)
    others = own + rng.normal(0.6, 0.05, 200)  # own instruction explains the answer better
    others[[5, 17]] = own[[5, 17]] - 0.1  # two answers another instruction explains better
    flagged, calibration = off_topic(FitScores(own, others, own + 1.0))
    assert flagged.tolist() == [5, 17]
    assert calibration["threshold"] <= 0.0
    tight = FitScores(own, own + 0.6, own + 1.0)  # all fit: nothing flagged
    assert off_topic(tight)[0].size == 0


def test_the_model_scores_code_it_knows_above_noise(tiny_reference):
    scorer = AnswerScorer(tiny_reference)
    code = "def add(a, b):\n    return a + b\n"
    noise = "qzx vlk wpt jjr quux zzv kkq xxw\n"
    nll = scorer.nll(["Add two numbers.", "Add two numbers."], [code, noise])
    assert np.all(np.isfinite(nll)) and nll[0] < nll[1]


def test_the_audit_scores_instruction_records_with_the_model(tiny_reference, tmp_path):
    rows = [
        {"id": k, "prompt": f"Return {k} plus x.", "response": f"def f(x):\n    return x + {k}\n"}
        for k in range(30)
    ]
    data = tmp_path / "set.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = AuditConfig(workers=1, run_tests=False, model=str(tiny_reference), fit_z=-1e9)
    audit([data], config=config, findings=tmp_path / "f.jsonl")
    lines = [json.loads(x) for x in (tmp_path / "f.jsonl").read_text().splitlines()]
    # fit_z far below zero puts the threshold at 0: every answer its own instruction explains
    # less than the others' is flagged, with the scores that say so
    offs = [x["flags"]["off_topic"] for x in lines if "off_topic" in x.get("flags", {})]
    assert offs  # near-identical instructions: some answer fits another's as well as its own
    for off in offs:
        assert off["contrast"] < 0 == off["threshold"]
        assert off["others_nll"] < off["own_nll"]
    assert config.result_hash() != AuditConfig(workers=1, run_tests=False).result_hash()
    with pytest.raises(BadInputError):
        AuditConfig(model=str(tmp_path))
