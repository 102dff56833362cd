"""`tripwire gate` and the registry's release commands, end to end through the CLI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support.cli import tripwire

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("gate")]

POLICY = (
    '[[suites]]\nname = "retention"\nmax_per_language = 30\nmargins = { bits_per_byte = "5%" }\n'
)


def test_gate_writes_every_ci_output_and_exits_1_on_block(
    tiny_reference: Path, candidates: dict, tmp_path: Path
) -> None:
    (tmp_path / "gate.toml").write_text(POLICY)
    outs = {k: tmp_path / f"gate.{k}" for k in ("json", "xml", "md", "html")}
    r = tripwire(
        "gate", "--baseline", str(tiny_reference), "--candidate", str(candidates["ids_rotated"]),
        "--policy", str(tmp_path / "gate.toml"), "--json", str(outs["json"]),
        "--junit", str(outs["xml"]), "--markdown", str(outs["md"]), "--report", str(outs["html"]),
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    assert "BLOCK" in r.stdout and "tripwire tokens repair" in r.stdout
    d = json.loads(outs["json"].read_text())
    assert d["verdict"] == "block" and d["root_cause"]["source"] == "tokens"
    suite = ET.fromstring(outs["xml"].read_text())
    # every check that ran carries its measured wall time (the evals took real time)
    cases = {
        c.get("name"): c for c in suite.iter("testcase") if c.get("classname") == "tripwire.gate"
    }
    assert float(cases["eval:retention"].get("time")) > 0.05
    assert cases["eval:retention"].get("time") == f"{d['check_seconds']['eval:retention']:.3f}"
    assert float(cases["tokens"].get("time")) > 0
    failures = suite.findall(".//failure")
    assert failures and any("rows_remapped" in (f.get("message") or "") + (f.text or "")
                            for f in failures)  # fmt: skip
    md = outs["md"].read_text()
    assert "block" in md.lower() and "tripwire tokens repair" in md
    html = outs["html"].read_text()
    assert "<svg" in html and "rows_remapped" in html


def test_clean_pair_exits_0(tiny_reference: Path, candidates: dict, tmp_path: Path) -> None:
    (tmp_path / "gate.toml").write_text(POLICY)
    r = tripwire(
        "gate", "--baseline", str(tiny_reference), "--candidate", str(candidates["identical"]),
        "--policy", str(tmp_path / "gate.toml"), "--json", "-",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["verdict"] in ("pass", "warn")


@pytest.mark.parametrize(
    ("policy", "problem"),
    [("alpha = 7", "alpha must be between 0 and 1"), ("alpha = [", "not valid TOML"),
     # a misspelt suite key was dropped without a word, and the suite ran with its default
     ('[[suites]]\nname = "retention"\nmax_per_langauge = 4',
      "[[suites]] retention: unknown key(s) max_per_langauge (it takes: chunk_chars, corpus,"),
     ('[[suites]]\nname = "humaneval"\ncorpus = "x"', "[[suites]] humaneval: unknown key(s) "
      "corpus")],
)  # fmt: skip
def test_bad_policy_is_one_line_exit_2_and_writes_nothing(
    tiny_reference: Path, tmp_path: Path, policy: str, problem: str
) -> None:
    (tmp_path / "gate.toml").write_text(policy)
    r = tripwire(
        "gate", "--baseline", str(tiny_reference), "--candidate", str(tiny_reference),
        "--policy", str(tmp_path / "gate.toml"), "--json", str(tmp_path / "out.json"),
        "--report", str(tmp_path / "out.html"),
    )  # fmt: skip
    assert r.returncode == 2
    assert problem in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.json").exists() and not (tmp_path / "out.html").exists()


def test_missing_candidate_is_bad_input(tiny_reference: Path, tmp_path: Path) -> None:
    r = tripwire("gate", "--baseline", str(tiny_reference), "--candidate", str(tmp_path / "no"))
    assert r.returncode == 2 and "not a model directory" in r.stderr


def _plain_copy(model: Path, out: Path) -> Path:
    """A user's own checkpoint: the model's files without a reference corpus or manifest."""
    import shutil

    shutil.copytree(model, out, ignore=shutil.ignore_patterns("reference_corpus", "tripwire.json"))
    return out


def test_own_checkpoints_gate_without_a_policy_on_the_default_corpus(
    tiny_reference: Path, candidates: dict, tmp_path: Path
) -> None:
    base = _plain_copy(tiny_reference, tmp_path / "mine-v1")
    cand = _plain_copy(candidates["clean_finetune"], tmp_path / "mine-v2")
    r = tripwire("gate", "--baseline", str(base), "--candidate", str(cand), "--json", "-")
    assert r.returncode == 0, r.stderr
    (retention,) = json.loads(r.stdout)["evals"]
    assert retention["suite"] == "retention" and retention["items"] > 0
    assert retention["corpus"]["source"] == "the machine's pinned reference corpus, held-out split"
    corpus = Path(retention["corpus"]["path"])
    assert (corpus / "reference_corpus" / "heldout.jsonl").is_file()
    # the summary says which corpus, too
    r = tripwire("gate", "--baseline", str(base), "--candidate", str(cand))
    assert "pinned reference corpus" in r.stdout and str(corpus) in r.stdout


def test_a_policy_error_names_its_toml_table(tiny_reference: Path, tmp_path: Path) -> None:
    (tmp_path / "gate.toml").write_text('[[suites]]\nmargins = { bits_per_byte = "5%" }\n')
    r = tripwire(
        "gate", "--baseline", str(tiny_reference), "--candidate", str(tiny_reference),
        "--policy", str(tmp_path / "gate.toml"),
    )  # fmt: skip
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "every [[suites]] entry needs a name" in r.stderr
