"""The demo's incident report (postmortem page)."""

from __future__ import annotations

import pytest
from markupsafe import escape

from tests.report import scenarios
from tripwire.errors import BadInputError
from tripwire.report import render_incident_html, write_incident_html


@pytest.fixture(scope="module")
def page() -> tuple[dict, str]:
    """The scenario incident and its page, rendered once (six forest plots)."""
    incident = scenarios.incident({n: build() for n, build in scenarios.SCENARIOS.items()})
    return incident, render_incident_html(incident)


def test_incident_reads_as_a_postmortem(page):
    incident, html = page
    assert f"<h1>{escape(incident['title'])}</h1>" in html
    assert incident["summary"] in html
    for step in incident["timeline"]:
        assert str(escape(step["event"])) in html
    for i, bug in enumerate(incident["bugs"], 1):
        section = html.split(f'<h2 id="bug-{i}">')[1].split("<h2 ")[0]
        assert bug["title"] in section and bug["injected"] in section
        rc = bug["gate"]["root_cause"]
        assert rc["code"] in section and str(escape(rc["remedy"])) in section
        assert section.count('<svg class="plot forest"') == 2  # the bad and the fixed model
        assert str(escape(bug["remedy"]["command"])) in section
        assert '<span class="pill ok">pass</span>' in section.split("Remedy and verification")[1]
        for e in bug["gate"]["evals"]:
            for s in e["slices"]:
                if s["regressed"]:
                    assert f"<td>{s['slice']}</td><td>{s['metric']}</td>" in section
    bisect = html.split('<h2 id="bisect">')[1].split("<h2 ")[0]
    assert 'first bad version is <b class="bad">v4</b>' in bisect
    assert bisect.count('class="first-bad"') == 1
    assert "CUSUM alarm" in html
    for lesson in incident["lessons"]:
        assert f"<li>{lesson}</li>" in html


def test_incident_escapes_samples_and_messages(page):
    html = page[1]
    assert "<script" not in html.lower() and "<img" not in html.lower()
    # evidence lines, the monitor log and every gate's finding message carry the injection
    assert html.count("&lt;script&gt;document.title=&#39;pwned-script&#39;") >= 5


def test_incident_without_optional_sections(incident):
    incident.update(bisect=None, monitor=None)
    incident["bugs"][0]["gate"] = None
    incident["bugs"][1]["remedy"] = None
    incident["timeline"][1]["verdict"] = "some-new-verdict"
    html = render_incident_html(incident)
    assert 'id="bisect"' not in html and 'id="monitor"' not in html
    assert "The gate was not run on this candidate." in html
    assert "No remedy recorded." in html
    assert "some-new-verdict" in html


@pytest.mark.parametrize(
    "mutate, problem",
    [
        (lambda inc: inc.pop("title"), "has no 'title'"),
        (lambda inc: inc.update(bugs={"a": 1}), "bugs must be a list"),
        (lambda inc: inc["bugs"][0]["gate"].pop("verdict"), "has no 'verdict'"),
        (lambda inc: inc.update(bisect=["v1"]), "bisect must be an object"),
    ],
)
def test_bad_incident_is_bad_input_and_writes_nothing(tmp_path, incident, mutate, problem):
    mutate(incident)
    with pytest.raises(BadInputError, match=problem):
        write_incident_html(tmp_path / "incident.html", incident)
    assert list(tmp_path.iterdir()) == []


def test_write_incident_html(tmp_path, incident):
    target = tmp_path / "incident.html"
    write_incident_html(target, incident)
    assert target.read_text(encoding="utf-8") == render_incident_html(incident)


def test_incident_shows_stages_without_a_section_of_their_own(incident):
    # the pretrained model's HumanEval stage: its lines carry what the model wrote (escaped)
    incident["stages"] = [
        {
            "name": "humaneval",
            "title": "HumanEval through the chat template",
            "ok": False,
            "lines": ["base: pass@1 0.055", "<b>not markup</b>"],
        }
    ]
    html = render_incident_html(incident)
    assert 'id="stage-humaneval"' in html and "HumanEval through the chat template" in html
    assert "base: pass@1 0.055" in html and "&lt;b&gt;not markup&lt;/b&gt;" in html
    assert "this stage did not show what it should" in html
