"""The gate's HTML report, PR comment and JUnit XML on the four scenarios of conftest.py."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from markupsafe import escape

from tests.report.scenarios import INJECT_IMG, INJECT_SCRIPT, INJECTION
from tripwire.errors import BadInputError
from tripwire.report import gate_junit, gate_markdown, render_gate_html, write_gate_html

SCENARIOS = ("tokens", "data", "eval", "pass")


def _regressed(result: dict) -> list[dict]:
    return [
        {**s, "suite": e["suite"]} for e in result["evals"] for s in e["slices"] if s["regressed"]
    ]


def test_scenarios_are_what_they_claim(gate_results):
    # the slices come from tripwire.stats, so check they really tell the intended story
    assert {s["slice"] for s in _regressed(gate_results["eval"])} >= {"language=python"}
    assert "language=c" not in {s["slice"] for s in _regressed(gate_results["eval"])}
    assert _regressed(gate_results["pass"]) == []
    assert len(_regressed(gate_results["tokens"])) == 6


@pytest.mark.parametrize("name", SCENARIOS)
def test_html_shows_decision_root_cause_remedy_and_slices(gate_results, name):
    result = gate_results[name]
    html = render_gate_html(result)
    assert f"Release gate: {result['verdict'].upper()}" in html
    assert result["candidate"]["name"] in html and result["baseline"]["id"] in html
    rc = result["root_cause"]
    if rc is None:
        assert "the candidate may ship" in html
    else:
        assert rc["code"] in html and rc["message"].split(" <")[0] in html
        assert f'<pre class="remedy">{escape(rc["remedy"])}</pre>' in html
    for s in _regressed(result):
        assert re.search(
            rf"<td>{re.escape(s['slice'])}</td><td>{s['metric']}</td>.*?regressed</td>", html, re.S
        )
    assert html.count('<svg class="plot forest"') == 1
    assert html.count('<svg class="plot lineage"') == 1
    for change in result["lineage"]["changes"]:
        assert f"<b>{change['component']}</b>" in html


def test_html_escapes_untrusted_text(gate_results):
    html = render_gate_html(gate_results["tokens"])
    assert INJECT_SCRIPT not in html and INJECT_IMG not in html
    assert "&lt;script&gt;document.title=&#39;pwned-script&#39;&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html
    # the only <script tags a gate page may have are none at all
    assert "<script" not in html.lower() and "<img" not in html.lower()


def test_hostile_names_reach_plots_only_escaped(gate_results):
    result = gate_results["eval"]
    result["evals"][0]["slices"][1]["slice"] = "language=" + INJECT_SCRIPT + " $\\frac{a}{"
    result["lineage"]["nodes"][2]["name"] = INJECT_IMG
    html = render_gate_html(result)
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert html.count("&lt;script&gt;") >= 2  # in the slice table and in the forest plot
    assert "&lt;img src=x" in html  # the lineage graph's node title


def test_missing_numbers_render_and_an_unknown_status_is_named(gate_results):
    result = gate_results["pass"]
    s = result["evals"][0]["slices"][0]
    s.update(ci_low=None, p_value="not a number")
    html = render_gate_html(result)
    assert "[n/a, " in html and "n/a</td>" in html
    # a status decides the verdict: a word tripwire does not know is refused, by its place
    s["status"] = "flaky-new-status"
    with pytest.raises(BadInputError, match=re.escape("evals[0].slices[0].status is")):
        render_gate_html(result)
    s["status"] = "pass"
    del s["n"]
    with pytest.raises(BadInputError, match=re.escape("evals[0].slices[0].n is missing")):
        gate_markdown(result)


def test_lineage_graph_survives_cycles_and_unknown_nodes(gate_results):
    result = gate_results["pass"]
    nodes = result["lineage"]["nodes"]
    result["lineage"]["edges"] += [[nodes[2]["id"], nodes[0]["id"]], ["ghost", nodes[1]["id"]]]
    html = render_gate_html(result)
    assert html.count('<g class="node"') == len(nodes) + 1  # the ghost parent is drawn too


def test_markdown_is_a_short_pr_comment(gate_results):
    for name in SCENARIOS:
        result = gate_results[name]
        md = gate_markdown(result)
        lines = md.splitlines()
        assert len(lines) < 60, name
        assert lines[0].startswith("## ") and f"**{result['verdict'].upper()}**" in lines[0]
        if result["root_cause"]:
            remedy = result["root_cause"]["remedy"]
            command = remedy[remedy.index("tripwire ") :]
            assert f"```sh\n{command}\n```" in md
            assert f"`{result['root_cause']['code']}`" in md
        for s in _regressed(result):
            row = next(line for line in lines if f"| {s['slice']} |" in line)
            assert "**regressed**" in row and f"{s['delta']:+.4g}" in row
        if result["findings"]:
            assert "### Findings by source" in md
        assert "<script" not in md and "<img" not in md


def test_markdown_remedy_fence_cannot_be_closed_by_its_content(gate_results):
    result = gate_results["data"]
    result["root_cause"]["remedy"] = "tripwire data audit ```\n# @team please `rm -rf`"
    md = gate_markdown(result)
    assert "````sh\ntripwire data audit ```\n# @team please `rm -rf`\n````" in md


def test_markdown_remedy_prose_is_text_and_only_the_command_is_a_block(gate_results):
    result = gate_results["eval"]
    result["root_cause"]["remedy"] = "roll back and investigate: tripwire registry rollback --to v3"
    md = gate_markdown(result)
    block = "```sh\ntripwire registry rollback --to v3\n```"
    assert f"**Remedy:** roll back and investigate\n{block}" in md
    # a remedy without a command is prose, never a shell block
    result["root_cause"]["remedy"] = "a tripwire bug: rerun with --debug and report the traceback"
    md = gate_markdown(result)
    assert "**Remedy:** a tripwire bug: rerun with --debug" in md and "```sh" not in md


def test_markdown_escapes_table_breakers_and_mentions(gate_results):
    result = gate_results["eval"]
    result["evals"][0]["slices"][1]["slice"] = "lang=py | injected | @octocat"
    md = gate_markdown(result)
    row = next(line for line in md.splitlines() if "injected" in line)
    assert row.count(" | ") == 9  # ten cells: the slice's own bars are escaped
    assert "@octocat" not in md and "@\u200boctocat" in md


def _cases(root: ET.Element) -> dict[str, ET.Element]:
    return {f"{c.get('classname')}::{c.get('name')}": c for c in root.iter("testcase")}


@pytest.mark.parametrize("name", SCENARIOS)
def test_junit_parses_and_fails_exactly_the_blocking_checks(gate_results, name):
    result = gate_results[name]
    root = ET.fromstring(gate_junit(result))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "tripwire.gate"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["baseline.id"] == result["baseline"]["id"]
    assert props["candidate.id"] == result["candidate"]["id"]
    cases = _cases(root)
    for check in ("lineage", "tokens", "data", *(f"eval:{e['suite']}" for e in result["evals"])):
        assert f"tripwire.gate::{check}" in cases
    n_slices = sum(len(e["slices"]) for e in result["evals"])
    assert len(cases) == int(suite.get("tests")) == len(set(cases)) >= 3 + n_slices
    failed = {k for k, c in cases.items() if c.find("failure") is not None}
    blocking_checks = {f"tripwire.gate::{f['source']}" for f in result["findings"]
                       if f["severity"] == "block" and f["source"] != "eval"}  # fmt: skip
    blocking_checks |= {f"tripwire.gate::eval:{e['suite']}" for e in result["evals"]
                        if e["verdict"] == "block"}  # fmt: skip
    regressed = {f"tripwire.gate.eval.{s['suite']}::{s['metric']}@{s['slice']}"
                 for s in _regressed(result)}  # fmt: skip
    assert failed == blocking_checks | regressed
    assert int(suite.get("failures")) == len(failed)
    if result["verdict"] == "pass":
        assert failed == set()


def test_junit_skips_checks_that_did_not_run_and_keeps_warnings(gate_results):
    root = ET.fromstring(gate_junit(gate_results["tokens"]))
    cases = _cases(root)
    assert cases["tripwire.gate::data"].find("skipped") is not None
    out = cases["tripwire.gate::tokens"].find("system-out")
    assert out is not None and "segmentation_changed" in out.text
    assert "tokenizer" in cases["tripwire.gate::lineage"].find("system-out").text


def test_junit_survives_characters_xml_cannot_carry(gate_results):
    result = gate_results["tokens"]
    result["findings"][0]["message"] = "nul\x00 esc\x1b bell\x07 " + INJECTION
    root = ET.fromstring(gate_junit(result))
    failure = _cases(root)["tripwire.gate::tokens"].find("failure")
    assert INJECTION in failure.get("message") and "\x00" not in failure.text


@pytest.mark.parametrize(
    "broken, problem",
    [
        ({}, "has no 'verdict'"),
        ({"verdict": "block", "evals": {"suite": "x"}}, "evals must be a list"),
        ({"verdict": "block", "findings": ["oops"]}, "findings[0] must be an object"),
        ({"verdict": "pass", "lineage": {"changes": [{"files": "a.json"}]}}, "files must be"),
    ],
)
def test_bad_results_are_bad_input_and_write_nothing(tmp_path, broken, problem):
    for render in (render_gate_html, gate_markdown, gate_junit):
        with pytest.raises(BadInputError, match=re.escape(problem)):
            render(broken)
    target = tmp_path / "gate.html"
    with pytest.raises(BadInputError):
        write_gate_html(target, broken)
    assert list(tmp_path.iterdir()) == []


def test_write_gate_html_writes_the_rendered_page(tmp_path, gate_results):
    target = tmp_path / "reports" / "gate.html"
    write_gate_html(target, gate_results["data"])
    assert target.read_text(encoding="utf-8") == render_gate_html(gate_results["data"])
