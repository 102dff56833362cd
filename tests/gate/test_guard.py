"""Checks that cannot run become findings: a tokenizer that does not load, a baseline that cannot
be evaluated, an encoder gated without eval suites, and a crash inside a check."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gate.conftest import TEST_POLICY
from tests.tokens.conftest import Variant
from tripwire.faults import copy_checkpoint
from tripwire.findings import Finding, Severity
from tripwire.gate import Policy, attribute, gate
from tripwire.gate._guard import cacheable, internal_error, not_runnable
from tripwire.gate._lineage import Lineage


@pytest.mark.slow
@pytest.mark.xdist_group("gate")
def test_a_tokenizer_that_does_not_load_blocks_with_the_reason(
    tiny_reference: Path, tmp_path: Path
) -> None:
    broken = copy_checkpoint(tiny_reference, tmp_path / "broken")
    (broken / "tokenizer.json").write_text('{"model": {"type": "BPE", "vocab": ')
    d = gate(tiny_reference, broken, policy=TEST_POLICY).to_dict()
    assert d["verdict"] == "block"
    codes = {f["code"]: f for f in d["findings"] if f["severity"] == "block"}
    assert set(codes) == {"tokens.not_runnable", "eval.not_runnable"}
    assert "does not load" in codes["tokens.not_runnable"]["message"]
    assert codes["eval.not_runnable"]["evidence"]["kinds"] == ["tokenizer_unloadable"]
    rc = d["root_cause"]
    assert rc["code"] == "tokens.not_runnable" and "tripwire tokens audit" in rc["remedy"]


@pytest.mark.slow
@pytest.mark.xdist_group("gate")
def test_a_baseline_that_cannot_run_warns_and_the_candidate_still_runs(
    tiny_reference: Path, tiny_zoo: dict[str, Variant]
) -> None:
    broken = tiny_zoo["beyond_table"].path
    d = gate(broken, tiny_reference, policy=TEST_POLICY).to_dict()
    (refusal,) = [f for f in d["findings"] if f["code"] == "eval.not_runnable"]
    assert refusal["severity"] == "warn" and refusal["evidence"]["role"] == "baseline"
    assert "nothing to compare the candidate with" in refusal["message"]
    (suite,) = d["evals"]
    assert suite["candidate_run"] and not suite["baseline_run"] and suite["not_run"]


@pytest.mark.slow
@pytest.mark.xdist_group("gate")
def test_an_encoder_gated_with_no_suites_gets_the_tokens_audit_only(
    minilm_zoo: dict[str, Variant],
) -> None:
    encoders = Policy.from_dict({"suites": []})
    ok, bad = minilm_zoo["clean_finetune"], minilm_zoo["ids_rotated"]
    clean = gate(ok.baseline, ok.path, policy=encoders).to_dict()
    assert clean["verdict"] == "pass" and clean["evals"] == []
    assert clean["checks_run"] == ["lineage"]
    faulty = gate(bad.baseline, bad.path, policy=encoders).to_dict()
    assert faulty["verdict"] == "block"
    assert faulty["root_cause"]["code"] == "tokens.rows_remapped"


def test_a_crash_in_a_check_blocks_is_labelled_a_bug_and_is_not_cached() -> None:
    try:
        {}["suite"]  # a real exception, with a real traceback
    except KeyError as exc:
        crash = internal_error("eval", "the retention suite on the candidate", exc)
    assert crash.code == "eval.internal_error" and crash.severity is Severity.BLOCK
    assert "a tripwire bug" in crash.message and "--debug" in crash.message
    assert "KeyError" in crash.evidence["traceback"] and "{}[" in crash.evidence["traceback"]
    assert not cacheable([crash])
    unchanged = Lineage(changes=[], nodes=[], edges=[], training=None)
    rc = attribute([crash], unchanged, Path("base"), Path("cand"))
    assert rc is not None and "--debug" in rc.remedy


def test_refusals_block_for_the_candidate_and_warn_for_the_baseline() -> None:
    def refusal(role: str, kind: str) -> Finding:
        return not_runnable("eval", role, Path(role), ["why"], kinds=[kind], what="retention")

    assert refusal("candidate", "ids_beyond_table").severity is Severity.BLOCK
    assert refusal("baseline", "ids_beyond_table").severity is Severity.WARN
    # read from the files: fixed by the content; failed while running: maybe not next time
    assert cacheable([refusal("candidate", "ids_beyond_table")])
    assert not cacheable([refusal("candidate", "run_failed")])


def test_a_missing_tool_is_not_a_tripwire_bug(tmp_path: Path, monkeypatch) -> None:
    """A check that needs what this machine lacks (UnavailableError: ruff, a toolchain) could
    not run: a not_runnable finding whose remedy is to install it, not an internal error."""
    from tripwire.errors import UnavailableError
    from tripwire.gate import _gate

    def missing(*_args, **_kwargs):
        raise UnavailableError("ruff", "not installed; the data audit's Python analysis needs it")

    monkeypatch.setattr(_gate, "_data_findings", missing)
    (found,), summary = _gate._guarded_data_findings(
        [tmp_path / "train.jsonl"], Policy(), tmp_path / "work", lambda *a: None
    )
    assert summary is None and found.code == "data.not_runnable"
    assert found.evidence["kinds"] == ["unavailable"] and "ruff" in found.message
    rc = attribute([found], Lineage([], [], [], None), tmp_path / "b", tmp_path / "c", None)
    assert rc is not None and rc.remedy.startswith("install what the finding names")
