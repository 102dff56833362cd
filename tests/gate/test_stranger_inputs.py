"""`tripwire gate`, its policy and its renderers fed what another team would hand in: policies
with wrong types, duplicate suites or meaningless margins, other formats; gate documents edited
by hand (huge numbers, bad ids, hostile names); outputs that cannot be written. Each is one
line and exit 2 with nothing written, or escaped output: never a traceback or a quiet verdict.
None of these needs a model: the policy and the output paths are checked before the gate
runs, and the documents are written here."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tripwire.cli import main
from tripwire.errors import BadInputError
from tripwire.gate import GateResult, Policy, gate
from tripwire.report import gate_junit, gate_markdown, render_gate_html, write_gate_html

RETENTION = '[[suites]]\nname = "retention"\n'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('alpha = "high"', "alpha must be a number, got 'high'"),
        ("alpha = true", "alpha must be a number, got True"),
        ("data_max_bad_fraction = -1", "data_max_bad_fraction must be between 0 and 1"),
        ("data_max_bad_fraction = 2", "data_max_bad_fraction must be between 0 and 1"),
        ("data_max_bad_fraction = nan", "data_max_bad_fraction must be a number, got nan"),
        # read as the set of its characters, it matched no code and blocked nothing
        ('block = "data.secret"', "block must be a list of finding codes"),
        ('warn = ["data.secret"]\nignore = ["data.secret"]', "listed in both warn and ignore"),
        ('data_audit = "no"', "data_audit must be true or false, got 'no'"),  # bool("no") = yes
        ("tokens_audit = 1", "tokens_audit must be a string"),
        ('[suites]\nname = "retention"', "suites must be an array of tables ([[suites]])"),
        ('suites = ["retention"]', "suites[0] must be a table"),
        (RETENTION + RETENTION, "[[suites]] retention given more than once"),
        ('[[suites]]\nname = "retension"', "[[suites]] retension: unknown suite (known: "),
        ("[[suites]]\nname = 3", "suites[0].name must be a string, got 3"),
        (RETENTION + 'margins = "3%"', "margins must be a table"),  # was an AttributeError
        (RETENTION + 'margins = { bits_per_byte = "-3%" }', "margins.bits_per_byte"),
        (RETENTION + 'margins = { bits_per_byte = "nan" }', "margins.bits_per_byte"),
        (RETENTION + 'margins = { bits_per_byte = "300%" }', "more than 100% of the baseline"),
        (RETENTION + "margins = { bits_per_byte = true }", "must be a number or a percentage"),
        # a misspelt metric's margin was dropped and the suite's default used instead
        (RETENTION + 'margins = { bits_per_bite = "1%" }', "margins.bits_per_bite names no metric"),
        (RETENTION + 'slice_margins = { "bits_per_byte" = "1%" }', 'is not "metric@slice"'),
        (RETENTION + 'slice_margins = { "bpb@language=c" = "1%" }', "names no metric"),
        # suite options reached the suite as given: a TypeError or ZeroDivisionError mid-run
        (RETENTION + 'max_per_language = "lots"', "max_per_language must be a whole number"),
        (RETENTION + "max_per_language = 0", "max_per_language must be a whole number of at "
         "least 1, got 0"),
        (RETENTION + "corpus = 5", "corpus must be a path (a string), got 5"),
        ('[[suites]]\nname = "humaneval-js"\ntask_ids = "HumanEval/1"', "task_ids must be a list"),
        ('[[suites]]\nname = "humaneval-js"\nsandbox = "x"', "sandbox is not set in a policy"),
        ('[[suites]]\nname = "humaneval"\nn = -5', "n (samples per item) must be a whole number"),
        ('[[suites]]\nname = "humaneval"\nn = 2.5', "n (samples per item) must be a whole number"),
        # a misspelt question gated no question at all: the human suite passed on nothing
        ('[[suites]]\nname = "human"\nreview = "r"\nmargins = { corectness = "0.1" }',
         "margins.corectness names no metric of the suite (it has: correctness"),
        ('{"alpha": 0.05}', "this looks like JSON: a policy is TOML"),
        ("alpha: 0.05\nsuites:\n  - name: retention\n", "this looks like YAML: a policy is TOML"),
        ("", "the policy file is empty"),
        ("\n  \n", "the policy file is empty"),
    ],
)  # fmt: skip
def test_a_bad_policy_is_bad_input_naming_the_file_and_key(
    tmp_path: Path, text: str, problem: str
) -> None:
    f = tmp_path / "gate.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(BadInputError) as info:
        Policy.from_toml(f)
    assert problem in str(info.value) and str(info.value).startswith(str(f))


def test_policy_encodings(tmp_path: Path) -> None:
    """Latin-1 bytes were a UnicodeDecodeError traceback; a BOM made valid TOML invalid."""
    f = tmp_path / "gate.toml"
    f.write_bytes(b"alpha = 0.1 # caf\xe9\n")
    with pytest.raises(BadInputError, match="not UTF-8 text"):
        Policy.from_toml(f)
    f.write_bytes(b"\xef\xbb\xbfalpha = 0.1\n")
    assert Policy.from_toml(f).alpha == 0.1


def test_valid_margins_still_read(tmp_path: Path) -> None:
    f = tmp_path / "gate.toml"
    f.write_text(RETENTION + 'margins = { bits_per_byte = 0.05 }\nslice_margins = { '
                 '"bits_per_byte@all" = "0%", "bits_per_byte@language=c" = "100%" }\n'
                 "window_overlap = 0\n")  # fmt: skip
    (suite,) = Policy.from_toml(f).suites
    assert suite.options == {"window_overlap": 0}
    assert suite.margins == {"bits_per_byte": "0.05"}
    assert set(suite.slice_margins) == {"bits_per_byte@all", "bits_per_byte@language=c"}


def _cli(*args: str) -> int:
    return main(["gate", *args])


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_cli_bad_policy_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "gate.toml").write_text(RETENTION + 'margins = "3%"\n')
    code = _cli(str(tmp_path), str(tmp_path / "v2"), "--policy", str(tmp_path / "gate.toml"),
                "--json", str(tmp_path / "out.json"))  # fmt: skip
    assert code == 2 and "margins must be a table" in _one_line(capsys.readouterr().err)
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(
    ("option", "target", "problem"),
    [
        # these crashed after the gate had run (minutes), exit 1: CI read a crash as "block"
        ("--report", "outdir", "--report: is a directory"),
        ("--junit", "afile/gate.xml", "afile is a file, not a folder"),
        ("--markdown", "outdir", "--markdown: is a directory"),
        ("--json", "outdir", "--json: is a directory"),
    ],
)
def test_unwritable_outputs_are_refused_before_the_gate_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, target: str, problem: str
) -> None:
    (tmp_path / "outdir").mkdir()
    (tmp_path / "afile").write_text("x")
    # the models are not models: the outputs are checked first, so this never gets that far
    code = _cli(str(tmp_path / "m1"), str(tmp_path / "m2"), "--report", str(tmp_path / "g.html"),
                option, str(tmp_path / target))  # fmt: skip
    assert code == 2 and problem in _one_line(capsys.readouterr().err)
    assert not (tmp_path / "g.html").exists()


def test_two_outputs_on_one_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _cli(str(tmp_path / "m1"), str(tmp_path / "m2"), "--report", str(tmp_path / "x"),
                "--junit", str(tmp_path / "x"))  # fmt: skip
    assert code == 2 and "given to both --report and --junit" in _one_line(capsys.readouterr().err)


def test_an_output_never_overwrites_an_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--json gate.toml` replaced the policy, `--report v2/config.json` the model's config."""
    policy, model = tmp_path / "gate.toml", tmp_path / "v2"
    policy.write_text(RETENTION)
    model.mkdir()
    (model / "config.json").write_text("{}")
    for option, target, what in [("--json", policy, "the policy"),
                                 ("--report", model / "config.json", "the candidate")]:  # fmt: skip
        code = _cli(str(tmp_path / "v1"), str(model), "--policy", str(policy), option, str(target))
        assert code == 2 and f"{option} would overwrite {what}" in _one_line(
            capsys.readouterr().err
        )
    assert policy.read_text() == RETENTION and (model / "config.json").read_text() == "{}"


def test_a_model_gated_against_itself_is_bad_input(tmp_path: Path) -> None:
    """It passed: a CI job with BASELINE and CANDIDATE set to one path cleared every release."""
    model = tmp_path / "model"
    model.mkdir()
    (tmp_path / "link").symlink_to(model)
    for candidate in (model, tmp_path / "link", tmp_path / "model" / "."):
        with pytest.raises(BadInputError, match="the candidate is the baseline"):
            gate(model, candidate)


X = ('<script>alert(1)</script><img src=x onerror=alert(2)>"\'&\x00\x01\x0b\x1b[31m\ud800'
     "\uffff]]>`|@all **b** [l](javascript:x) {{7*7}} [/] [bold]")  # fmt: skip
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _slice(name: str, status: str, **numbers: Any) -> dict[str, Any]:
    return {"slice": name, "metric": "bits_per_byte", "n": 10, "baseline": 3.0, "candidate": 3.3,
            "delta": 0.3, "ci_low": 0.1, "ci_high": 0.5, "p_value": 0.01, "regressed":
            status == "regressed", "status": status, "margin": 0.15, "mde": 0.1, "clusters": 10,
            "higher_is_better": False, "test": "paired_t", "effective_n": 10, "note": "",
            **numbers}  # fmt: skip


def _document() -> dict[str, Any]:
    """A `gate --json` document of the current shape, every name in it hostile."""
    model = {"path": "/m/" + X, "id": "ab" * 32, "name": "v2" + X}
    return {
        "schema_version": 1, "verdict": "block", "exit_code": 1,
        "baseline": {**model, "name": "v1" + X}, "candidate": model,
        "policy": {"suites": [{"name": "retention", "options": {}, "margins": {X: X}}]},
        "lineage": {"changes": [{"component": "weights", "files": [X], "detail": X}],
                    "nodes": [{"id": "n1", "name": X, "kind": "model", "role": "candidate"}],
                    "edges": [], "training": None, "notes": [X]},
        "root_cause": {"source": "eval", "code": "eval.regression", "message": X,
                       "evidence": {X: X}, "remedy": f"retrain {X}: tripwire train finetune {X}"},
        "findings": [{"code": "eval.regression", "severity": "block", "message": X,
                      "evidence": {"suite": "retention"}, "token_ids": [1, 2.0]}],
        "evals": [{"suite": "retention" + X, "verdict": "block", "alpha": 0.05,
                   "correction": "holm", "items": 10, "samples": 10,
                   "corpus": {"path": X, "source": X},
                   "slices": [_slice("all", "regressed"),
                              _slice("language=" + X, "inconclusive")]}],
        "checks_run": ["lineage", "eval:retention" + X], "cached": False, "seconds": 12.5,
        "check_seconds": {"lineage": 0.1}, "future_key": {"from": "a newer tripwire"},
    }  # fmt: skip


def test_every_renderer_escapes_hostile_text_and_control_characters(tmp_path: Path) -> None:
    """NUL, terminal escapes and a lone surrogate (legal in JSON text) reached the HTML page and
    the markdown comment, and the surrogate made writing either a UnicodeEncodeError."""
    doc = _document()
    write_gate_html(tmp_path / "g.html", doc)  # was UnicodeEncodeError
    html = (tmp_path / "g.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
    markdown = gate_markdown(doc)
    (tmp_path / "g.md").write_text(markdown, encoding="utf-8")
    junit = gate_junit(doc)
    ET.fromstring(junit.encode("utf-8"))
    for text in (html, markdown, junit):
        assert not _BAD_CHARS.search(text)
    # prose is escaped (code spans keep the text as it is, where markdown does not read it)
    assert "&lt;script&gt;" in markdown and "\\[l\\](javascript" in markdown
    # no mention outside the remedy's fenced block (GitHub reads none inside one)
    assert "@all" not in re.sub(r"```sh\n.*?\n```", "", markdown, flags=re.DOTALL)


@pytest.mark.parametrize(
    "numbers",
    [{"delta": 1e308, "ci_low": -1e308, "ci_high": 1e308, "margin": 1e308},  # LinAlgError
     {"delta": float("nan"), "ci_low": float("-inf"), "ci_high": float("inf")},
     {"delta": None, "ci_low": None, "p_value": "n/a"}],
)  # fmt: skip
def test_huge_and_missing_numbers_still_render(numbers: dict[str, Any]) -> None:
    doc = _document()
    doc["evals"][0]["slices"][0].update(numbers)
    assert "<svg" in render_gate_html(doc) or numbers["delta"] != 1e308
    gate_markdown(doc)
    ET.fromstring(gate_junit(doc).encode())


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d["findings"][0].update(token_ids=["a"]),
         "findings[0].token_ids[0] must be a whole number"),  # was ValueError
        (lambda d: d["findings"][0].update(token_ids=[float("inf")]),
         "findings[0].token_ids[0] must be a whole number"),  # was OverflowError
        (lambda d: d["findings"][0].update(token_ids=[{}]),
         "findings[0].token_ids[0] must be a whole number"),  # was TypeError
        (lambda d: d["evals"][0]["slices"][0].update(delta=10**400),
         "evals[0].slices[0].delta is a number too large"),  # 400 digits: OverflowError
        (lambda d: d.pop("verdict"), "has no 'verdict'"),
        # a newer schema may mean other things by the same keys
        (lambda d: d.update(schema_version=2), "schema_version is 2; this tripwire reads gate "
         "documents of schema_version 1"),
        # another command's --json has a verdict too: it rendered as a gate that checked nothing
        (lambda d: d.update(command="tripwire --debug eval compare a b", evals=[]),
         "is the --json of `tripwire --debug eval compare a b`, not of tripwire gate"),
        (lambda d: d["evals"][0]["slices"][0].update(status="meh"),
         "evals[0].slices[0].status is 'meh'"),
    ],
)  # fmt: skip
def test_a_malformed_document_names_its_field(edit: Any, problem: str) -> None:
    doc = copy.deepcopy(_document())
    edit(doc)
    for render in (render_gate_html, gate_markdown, gate_junit):
        with pytest.raises(BadInputError, match=re.escape(problem)):
            render(doc)


def test_an_older_document_without_the_newer_keys_renders() -> None:
    """A document from before check_seconds, corpus and finding sources, with no envelope (the
    cache's shape)."""
    doc = _document()
    for key in ("check_seconds", "schema_version", "future_key"):
        doc.pop(key)
    doc["evals"][0].pop("corpus")
    for s in doc["evals"][0]["slices"]:
        for key in ("mde", "effective_n", "clusters", "test", "note"):
            s.pop(key)
    assert "retention" in gate_markdown(doc) and "<svg" in render_gate_html(doc)
    ET.fromstring(gate_junit(doc).encode())


def test_a_partial_html_report_is_never_left(tmp_path: Path) -> None:
    doc = _document()
    doc["findings"][0]["token_ids"] = ["a"]
    with pytest.raises(BadInputError):
        write_gate_html(tmp_path / "g.html", doc)
    assert list(tmp_path.iterdir()) == []


def test_the_summary_prints_markup_in_names_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    """A model named "evil[/]" was a rich MarkupError after the gate ran: no --json, exit 1."""
    from tripwire.cli.gate import render_summary

    d = GateResult.from_dict(_document()).to_dict()
    d["findings"].append({**d["findings"][0], "code": "eval.internal_error",
                          "evidence": {"error": "[/] boom"}})  # fmt: skip
    render_summary(d)
    assert "v2<script>" in capsys.readouterr().out.replace("\n", "")
