"""`tripwire gate` end to end on every fault the tokens audit knows, made from the tiny reference
model and from the real MiniLM checkpoint: the verdict, the `tokens.*` root cause with its
remedy, and every requested output written, even when an eval suite cannot run on the model
(a forward pass that would index past the embedding table, a config the weights disagree with,
an encoder given a causal-LM suite)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.gate.test_cli import POLICY
from tests.tokens.conftest import Variant
from tripwire.cli import main
from tripwire.report._gate_display import remedy_parts
from tripwire.report._markdown import text as markdown_text

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("gate")]

# fault -> (verdict, root cause); on the tiny model every suite runs except where noted
TINY = {
    "ids_swapped": ("block", "tokens.rows_remapped"),
    "added_random": ("block", "tokens.new_rows_random"),
    "added_zero": ("block", "tokens.new_rows_zero"),
    "added_mean": ("warn", "tokens.new_rows_mean"),
    "beyond_table": ("block", "tokens.token_ids_beyond_table"),  # eval cannot run
    "config_vocab_mismatch": ("block", "tokens.config_vocab_size_mismatch"),  # nor here
    "normalizer_changed": ("block", "tokens.normalizer_changed"),
    "special_swapped": ("block", "tokens.rows_remapped"),
    # weights only: `auto` audits tokenizer or config changes, so this one asks for the audit
    "head_scrambled": ("block", "tokens.output_rows_remapped"),
}
# MiniLM is an encoder: the retention suite never runs on it, which blocks (fail closed); a
# blocking tokens fault is still the root cause, a warning (mean rows) is not
MINILM = {
    **{k: v for k, v in TINY.items() if k != "head_scrambled"},
    "added_mean": ("block", "eval.not_runnable"),
}
REPAIRABLE = {
    "tokens.rows_remapped",
    "tokens.output_rows_remapped",
    "tokens.new_rows_random",
    "tokens.new_rows_zero",
    "tokens.new_rows_mean",
    "tokens.token_ids_beyond_table",
    "tokens.config_vocab_size_mismatch",
}


def _gate(v: Variant, tmp_path: Path, capsys: pytest.CaptureFixture[str], policy: str) -> dict:
    """Run the CLI in-process with every output; return the JSON after checking the others."""
    (tmp_path / "gate.toml").write_text(policy)
    outs = {k: tmp_path / f"gate.{k}" for k in ("json", "xml", "md", "html")}
    code = main([
        "gate", "--baseline", str(v.baseline), "--candidate", str(v.path),
        "--policy", str(tmp_path / "gate.toml"), "--json", str(outs["json"]),
        "--junit", str(outs["xml"]), "--markdown", str(outs["md"]), "--report", str(outs["html"]),
    ])  # fmt: skip
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    d = json.loads(outs["json"].read_text())
    assert code == d["exit_code"] == (1 if d["verdict"] == "block" else 0)
    rc = d["root_cause"]
    assert rc is not None
    junit = ET.fromstring(outs["xml"].read_text())
    failures = " ".join((f.get("message") or "") + (f.text or "") for f in junit.iter("failure"))
    assert (rc["code"] in failures) == (d["verdict"] == "block"), failures
    md = outs["md"].read_text()
    prose, command = remedy_parts(rc["remedy"])  # prose as text, the command fenced
    assert rc["code"] in md and command in md and markdown_text(prose, 400) in md
    assert rc["code"] in outs["html"].read_text()
    return d


def _check(d: dict, verdict: str, root: str, candidate: Path) -> None:
    rc = d["root_cause"]
    assert (d["verdict"], rc["code"]) == (verdict, root), [
        (f["code"], f["severity"], f["message"]) for f in d["findings"] if f["severity"] != "info"
    ]
    if root in REPAIRABLE:
        assert rc["remedy"].startswith("tripwire tokens repair ") and str(candidate) in rc["remedy"]
    refusals = [f for f in d["findings"] if f["code"] == "eval.not_runnable"]
    for f in refusals:
        assert f["evidence"]["suite"] == "retention" and f["evidence"]["reasons"]
    ran = not refusals
    assert [bool(e["slices"]) for e in d["evals"]] == [ran]
    assert "tokens" in d["checks_run"] and "eval:retention" in d["checks_run"]


@pytest.mark.parametrize("name", list(TINY))
def test_tiny_faults(
    tiny_zoo: dict[str, Variant], tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    v = tiny_zoo[name]
    policy = ('tokens_audit = "always"\n' if name == "head_scrambled" else "") + POLICY
    d = _gate(v, tmp_path, capsys, policy)
    _check(d, *TINY[name], v.path)
    refusal = next((f for f in d["findings"] if f["code"] == "eval.not_runnable"), None)
    if name in ("beyond_table", "config_vocab_mismatch"):
        assert refusal is not None and refusal["severity"] == "block"
        assert refusal["evidence"]["role"] == "candidate"
        if name == "beyond_table":
            assert refusal["token_ids"] == list(v.token_ids)
            assert "2048-2050" in refusal["message"]
    else:
        assert refusal is None


@pytest.mark.parametrize("name", list(MINILM))
def test_minilm_faults(
    minilm_zoo: dict[str, Variant], tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    v = minilm_zoo[name]
    # the policy names no corpus: an encoder never gets as far as building the suite
    d = _gate(v, tmp_path, capsys, POLICY)
    _check(d, *MINILM[name], v.path)
    refusal = next(
        f for f in d["findings"] if f["code"] == "eval.not_runnable" and f["severity"] == "block"
    )
    assert "not_causal_lm" in refusal["evidence"]["kinds"]
    assert "BertModel (bert) is not a causal language model" in refusal["message"]
