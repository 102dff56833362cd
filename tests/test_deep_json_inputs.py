"""A JSON line or TOML file nested deeper than Python's parsers can follow (a hostile or broken
file) is bad input: one line naming the file (and line), exit 2, never a traceback. ``eval run
samples:`` and ``gate --policy`` died with a RecursionError before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tripwire.cli import main
from tripwire.cli.monitor import _tokens
from tripwire.errors import BadInputError
from tripwire.gate import Policy
from tripwire.review._records import read_findings
from tripwire.triage._batch import parse_line

DEEP = "[" * 100_000 + "]" * 100_000


def _one_line_error(capsys, where: str) -> None:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and where in err and "nested too deeply" in err
    assert "Traceback" not in err


def test_eval_samples(tmp_path: Path, capsys) -> None:
    samples = tmp_path / "samples.jsonl"
    ok = json.dumps({"task_id": "HumanEval/0", "completion": "    return True\n"})
    samples.write_text(ok + "\n" + '{"task_id": "HumanEval/1", "completion": ' + DEEP + "}\n")
    code = main(["eval", "run", f"samples:{samples}", "--suite", "humaneval",
                 "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 2
    _one_line_error(capsys, f"{samples}:2")


def test_monitor_replay(tmp_path: Path, capsys) -> None:
    stream = tmp_path / "events.jsonl"
    stream.write_text(DEEP + "\n")
    assert main(["monitor", "replay", str(stream), "--json", str(tmp_path / "r.json")]) == 2
    _one_line_error(capsys, f"{stream}:1")
    assert not (tmp_path / "r.json").exists()


def test_findings_and_triage_lines(tmp_path: Path) -> None:
    findings = tmp_path / "findings.jsonl"
    findings.write_text(DEEP + "\n")
    with pytest.raises(BadInputError, match="nested too deeply"):
        read_findings(findings)
    assert parse_line(DEEP) == (None, "JSON nested too deeply to read")


@pytest.mark.parametrize("toml", ["suites = " + "[" * 100_000 + "]" * 100_000,
                                  "x = " + "{a = " * 5000 + "1" + "}" * 5000])  # fmt: skip
def test_gate_policy_and_monitor_token_file(tmp_path: Path, toml: str) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(toml + "\n")
    with pytest.raises(BadInputError, match="nested too deeply"):
        Policy.from_toml(path)
    with pytest.raises(BadInputError, match="nested too deeply"):
        _tokens(path)


@pytest.mark.parametrize(
    "bad", ["{not json", "[1, 2]", '{"id": 5, "text": "x"}', "[" * 100_000 + "]" * 100_000]
)
def test_a_corrupt_reference_corpus_line_is_named(tmp_path: Path, bad: str) -> None:
    """``eval run --corpus DIR`` reads DIR's corpus: a bad line there is the user's file."""
    from tripwire.reference._build import CORPUS_DIR, load_reference_corpus

    (tmp_path / CORPUS_DIR).mkdir()
    good = json.dumps({"id": "python:a.py", "text": "x = 1\n"})
    (tmp_path / CORPUS_DIR / "heldout.jsonl").write_text(good + "\n" + bad + "\n")
    with pytest.raises(BadInputError) as info:
        load_reference_corpus(tmp_path, "heldout")
    assert "heldout.jsonl:2" in str(info.value)
